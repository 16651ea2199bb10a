// Package cli holds the hand-written commands of x/proofofcompute: commit
// and reveal, which compute proofs locally with the challenge library's
// CPU prover, and the commands that take a lease id written tenant/seq.
// autocli adds every query and claim-rewards.
package cli

import (
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Flags of the tx commands.
const (
	FlagCommitments = "commitments"
	FlagGPUIndex    = "gpu-index"
	FlagCorrupt     = "corrupt"
	FlagWorkers     = "workers"
	FlagPeriodEnd   = "period-end"
	FlagGPUSeconds  = "gpu-seconds"
	FlagUtil        = "util"
	FlagEnergyMJ    = "energy-mj"
	FlagSamplesHash = "samples-hash"
)

// NewTxCmd returns the tx command of x/proofofcompute.
func NewTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "Proof-of-compute transactions: commit, reveal, disputes, usage, rewards",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(NewCommitCmd(), NewRevealCmd(), NewOpenDisputeCmd(), NewReportUsageCmd())
	return cmd
}

// ParseChallengeID parses a challenge id argument.
func ParseChallengeID(s string) (uint64, error) {
	id, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("challenge id %q: want a number >= 1", s)
	}
	return id, nil
}

// ParseHash32 parses a hex string of 32 bytes; field names it in errors.
func ParseHash32(field, s string) ([]byte, error) {
	bz, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil {
		return nil, fmt.Errorf("%s %q: not hex: %w", field, s, err)
	}
	if len(bz) != 32 {
		return nil, fmt.Errorf("%s %q: want 32 bytes, got %d", field, s, len(bz))
	}
	return bz, nil
}

// fetchChallenge queries a challenge (with its openings once opened) and
// checks that the signer is its provider.
func fetchChallenge(cmd *cobra.Command, arg string) (client.Context, *types.QueryChallengeResponse, error) {
	clientCtx, err := client.GetClientTxContext(cmd)
	if err != nil {
		return clientCtx, nil, err
	}
	id, err := ParseChallengeID(arg)
	if err != nil {
		return clientCtx, nil, err
	}
	res, err := types.NewQueryClient(clientCtx).Challenge(cmd.Context(), &types.QueryChallengeRequest{Id: id})
	if err != nil {
		return clientCtx, nil, fmt.Errorf("query challenge %d: %w", id, err)
	}
	if from := clientCtx.GetFromAddress().String(); res.Challenge.Provider != from {
		return clientCtx, nil, fmt.Errorf("challenge %d is for %s; --from is %s", id, res.Challenge.Provider, from)
	}
	return clientCtx, res, nil
}

// NewCommitCmd returns `commit <challenge-id>`.
func NewCommitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "commit [challenge-id]",
		Short: "Compute a challenge's products with the CPU prover and commit to them",
		Long: `Fetch the challenge, compute every GPU's m products of n×n int8 matrices
from its seed with the CPU prover of x/proofofcompute/challenge, and send one
MsgCommitProof with a commitment per GPU. It must be included by the
challenge's commit deadline. With --commitments the given hex commitments
are sent instead (one per GPU, in the challenge's order).

This is for the spec's test profile (n = 256) used on local networks:
production sizes (n in the tens of thousands) need the gpumesh-provider
sidecar and its GPU backend. Proofs carry no fee when the validator allows
it (see the module README).`,
		Example: "gpumeshd tx proofofcompute commit 7 --from provider1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, res, err := fetchChallenge(cmd, args[0])
			if err != nil {
				return err
			}
			c := res.Challenge
			if raw, _ := cmd.Flags().GetString(FlagCommitments); raw != "" {
				msg := &types.MsgCommitProof{Provider: c.Provider, ChallengeId: c.Id}
				for i, h := range strings.Split(raw, ",") {
					bz, err := ParseHash32(fmt.Sprintf("--%s[%d]", FlagCommitments, i), h)
					if err != nil {
						return err
					}
					msg.Commitments = append(msg.Commitments, bz)
				}
				return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
			}
			workers, _ := cmd.Flags().GetInt(FlagWorkers)
			start := time.Now()
			proofs, err := prove.Challenge(cmd.Context(), clientCtx.ChainID, c, workers)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "challenge %d: %d GPUs proved (n=%d, m=%d) in %s\n",
				c.Id, len(c.Gpus), c.Gpus[0].N, c.Gpus[0].M, time.Since(start).Round(time.Millisecond))
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), prove.CommitMsg(c, proofs))
		},
	}
	cmd.Flags().String(FlagCommitments, "", "comma-separated hex commitments to send instead of computing them")
	cmd.Flags().Int(FlagWorkers, 0, "prover goroutines (0 = one per CPU)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewRevealCmd returns `reveal <challenge-id>`.
func NewRevealCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reveal [challenge-id]",
		Short: "Recompute a committed challenge's proofs and open the entries the chain picked",
		Long: `Once the challenge is OPENED (its opening height has passed), fetch the
entries each GPU must open, recompute the proofs (deterministic, as for
commit) and send one MsgRevealProof per GPU in a single transaction, or only
GPU --gpu-index. The reveals must be included within the reveal window.

--corrupt sends only the first GPU's reveal, with one byte of its first
opened leaf flipped: a fault-injection flag for tests and demos. The chain
then fails the challenge and slashes and jails the provider.`,
		Example: "gpumeshd tx proofofcompute reveal 7 --from provider1 --gas 3000000",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, res, err := fetchChallenge(cmd, args[0])
			if err != nil {
				return err
			}
			c := res.Challenge
			if c.State != types.CHALLENGE_STATE_OPENED {
				return fmt.Errorf("challenge %d is %s: reveals are taken once it is OPENED, at height %d",
					c.Id, c.State, c.OpenedHeight())
			}
			var only []uint32
			if cmd.Flags().Changed(FlagGPUIndex) {
				g, _ := cmd.Flags().GetUint32(FlagGPUIndex)
				only = []uint32{g}
			}
			corrupt, _ := cmd.Flags().GetBool(FlagCorrupt)
			workers, _ := cmd.Flags().GetInt(FlagWorkers)
			proofs, err := prove.Challenge(cmd.Context(), clientCtx.ChainID, c, workers)
			if err != nil {
				return err
			}
			reveals, err := prove.RevealMsgs(c, res.Openings, proofs, only)
			if err != nil {
				return err
			}
			if corrupt {
				reveals = prove.CorruptReveals(reveals)
			}
			msgs := make([]sdk.Msg, len(reveals))
			for i, m := range reveals {
				msgs[i] = m
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msgs...)
		},
	}
	cmd.Flags().Uint32(FlagGPUIndex, 0, "reveal only this GPU of the challenge")
	cmd.Flags().Bool(FlagCorrupt, false, "fault injection: reveal only the first GPU, with a corrupted leaf (the chain slashes)")
	cmd.Flags().Int(FlagWorkers, 0, "prover goroutines (0 = one per CPU)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewOpenDisputeCmd returns `open-dispute <tenant/seq> <fee>`.
func NewOpenDisputeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "open-dispute [tenant/seq] [fee]",
		Short: "As a lease's tenant, have the chain challenge the lease's GPUs (fee = the dispute_fee param)",
		Long: `Start a dispute of an active lease: the chain issues a challenge on the
lease's GPUs to its provider. If the provider fails or misses it, it is
slashed (you receive the tenant share), the lease closes DISPUTE_LOST with
your escrow refunded, and the fee comes back; if it passes, the fee goes to
the provider. The fee must equal the dispute_fee param.`,
		Example: "gpumeshd tx proofofcompute open-dispute mesh1…/7 10000000umesh --from alice",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			id, err := markettypes.ParseOrderID(args[0])
			if err != nil {
				return err
			}
			fee, err := sdk.ParseCoinNormalized(args[1])
			if err != nil {
				return fmt.Errorf("fee %q: %w", args[1], err)
			}
			msg := &types.MsgOpenDispute{Tenant: clientCtx.GetFromAddress().String(), LeaseId: id, Fee: fee}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewReportUsageCmd returns `report-usage <tenant/seq> …`.
func NewReportUsageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report-usage [tenant/seq]",
		Short: "As a lease's provider, report a period of its usage (the sidecar does this)",
		Long: `Report the period from the previous report's end (or the lease start) to
--period-end: GPU-seconds used (at most GPUs × period), mean utilization in
percent, energy in millijoules and the SHA-256 of the raw samples.`,
		Example: "gpumeshd tx proofofcompute report-usage mesh1…/7 --period-end 2026-11-22T12:00:00Z " +
			"--gpu-seconds 7200 --util 87 --energy-mj 2500000000 --samples-hash 9f86…08 --from provider1",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			msg, err := usageMsg(cmd, clientCtx.GetFromAddress().String(), args[0])
			if err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().String(FlagPeriodEnd, "", "end of the reported period (RFC 3339)")
	cmd.Flags().Uint64(FlagGPUSeconds, 0, "GPU-seconds used in the period")
	cmd.Flags().Uint32(FlagUtil, 0, "mean GPU utilization in the period, percent")
	cmd.Flags().Uint64(FlagEnergyMJ, 0, "energy used in the period, millijoules")
	cmd.Flags().String(FlagSamplesHash, "", "SHA-256 of the raw samples, hex")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// usageMsg builds a MsgReportUsage from the command's flags.
func usageMsg(cmd *cobra.Command, provider, leaseArg string) (*types.MsgReportUsage, error) {
	id, err := markettypes.ParseOrderID(leaseArg)
	if err != nil {
		return nil, err
	}
	rawEnd, _ := cmd.Flags().GetString(FlagPeriodEnd)
	end, err := time.Parse(time.RFC3339, rawEnd)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want RFC 3339, e.g. 2026-11-22T12:00:00Z", FlagPeriodEnd, rawEnd)
	}
	rawHash, _ := cmd.Flags().GetString(FlagSamplesHash)
	hash, err := ParseHash32("--"+FlagSamplesHash, rawHash)
	if err != nil {
		return nil, err
	}
	gpuSeconds, _ := cmd.Flags().GetUint64(FlagGPUSeconds)
	util, _ := cmd.Flags().GetUint32(FlagUtil)
	energy, _ := cmd.Flags().GetUint64(FlagEnergyMJ)
	return &types.MsgReportUsage{
		Provider: provider, LeaseId: id, PeriodEnd: end.UTC(), GpuSeconds: gpuSeconds,
		MeanUtilPct: util, EnergyMj: energy, SamplesHash: hash,
	}, nil
}
