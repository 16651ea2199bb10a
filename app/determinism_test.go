package app_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	pockeeper "github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// TestGasDeterminism runs every gpumesh message type under many gas limits
// on two apps started from the same genesis and requires that they agree
// on every transaction result (code, codespace, gas wanted, gas used, data,
// log, events), on every block's events and on every app hash. GasUsed is
// part of the block results hash: if a transaction that runs out of gas
// consumes different amounts on two validators, the chain halts.
//
// For each message (gasCases) the apps are first brought, by signed
// transactions in blocks, to a state in which the message does real work.
// The message is then run on a branch of app a's state as the next block
// will present it (begin blockers run, the transaction's own ante handler
// run) through its msg-service handler, with a gas meter that records the
// cumulative gas after every ConsumeGas call: its gas trace. One block then
// carries, on both apps, the same transactions of that message signed with
// gas limits
//
//   - below the ante handler's cost (they fail in the ante handler);
//   - ante + 0 and ante + every point of the trace but the last, so that
//     each one runs out of gas at a different store access inside the
//     message (the ante cost of each transaction is measured by running the
//     ante handler on the same branch, transaction by transaction), repeated
//     detReps times;
//   - ante + the whole trace + a margin, which succeeds.
//
// Transactions that run out of gas change no message state, so they all
// see the same state; only the signer's sequence moves. Besides comparing
// the two apps, every transaction's gas use must be what the trace says
// (the trace is a third execution on the same state).
//
// Go randomizes the order of every range over a map, in every execution,
// so a state-machine loop that writes while ranging over a map shows as a
// transaction that runs out of gas inside the loop at a different write.
// The repetitions give such a loop independent chances: x/provider's
// SetInventory, which wrote the provider's GPU classes while ranging over a
// map of five classes, diverged at about 5 of the 10 points inside that
// loop per repetition, and a repetition showed no divergence between the
// two apps in 3 of 10,000 cases (simulated with the same Go map, 800,000
// repetitions); with three repetitions the run misses it with probability
// about 3e-11, before counting the comparison with the trace.
//
// The run stops at the first app hash mismatch; result mismatches are
// collected and reported per message type at the end.
func TestGasDeterminism(t *testing.T) {
	w := newTwin(t)
	cases := gasCases()

	scripted := make(map[string]bool, len(cases))
	for _, c := range cases {
		_, classified := app.GpumeshMsgClasses[c.url]
		require.True(t, classified, "gas case %s is not a classified gpumesh message (app.GpumeshMsgClasses)", c.url)
		scripted[c.url] = true
	}
	var missing []string
	for _, url := range slices.Sorted(maps.Keys(app.GpumeshMsgClasses)) {
		if !scripted[url] {
			missing = append(missing, url)
		}
	}
	require.Empty(t, missing, "gpumesh messages without a gas determinism case: add one to gasCases")

	for _, c := range cases {
		if c.setup != nil {
			c.setup(w)
		}
		from, msg := c.msg(w)
		require.Equal(t, c.url, sdk.MsgTypeURL(msg), "gas case %s builds another message", c.url)
		w.sweep(c.url, from, msg, detReps)
	}
	w.report()
}

// detReps is how many times each message's out-of-gas sweep is repeated
// in its block.
const detReps = 3

// A gasCase brings the apps to a state in which one message does real
// work (setup) and builds the message (msg).
type gasCase struct {
	url   string
	setup func(w *twin)
	msg   func(w *twin) (apptest.Account, sdk.Msg)
}

// Names of the parties of the determinism run. bob is the consensus
// authority: he signs every MsgUpdateParams.
const (
	detTenant    = "alice"
	detAuthority = "bob"
	detP1        = "provider1" // the main provider: inventory, bids, leases, proofs, rewards
	detP2        = "provider2" // a competing bidder; later commits garbage and is jailed
	detP3        = "provider3" // registers, lists, bonds and deregisters
)

// Inventories of the run. provider1 grows from one DGX and a workstation
// to five GPU classes on four nodes: class names of different lengths make
// the order of per-class writes visible in the gas.
func detInvP1Old() []providertypes.Node {
	return append(fixtures.H100x8("det-p1"), fixtures.RTX4090x4("det-p1-old")...)
}

func detInvP1() []providertypes.Node {
	inv := append(fixtures.H100x8("det-p1"), fixtures.Mixed("det-p1-mixed")...)
	return append(inv, fixtures.RTX4090x4("det-p1-ws")...)
}

// detUSDC is an amount of the stable denom orders are paid in.
func detUSDC(n int64) sdk.Coin { return sdk.NewCoin(app.StableDenom, math.NewInt(n)) }

// detUmesh is an amount of the bond denom.
func detUmesh(n int64) sdk.Coin { return sdk.NewCoin(app.BondDenom, math.NewInt(n)) }

// detSpec asks for 2 GPUs on one node, H100 or RTX 4090.
var detSpec = markettypes.ResourceSpec{GpuClasses: []string{"h100", "rtx4090"}, GpusPerNode: 2, Nodes: 1}

func detOrder(tenant apptest.Account, windowSeconds uint64) *markettypes.MsgCreateOrder {
	return &markettypes.MsgCreateOrder{
		Tenant: tenant.Address.String(), Spec: detSpec, MaxPricePerGpuHour: detUSDC(2_500_000),
		Deposit: detUSDC(1_000_000_000), BidWindowSeconds: windowSeconds,
	}
}

func detBid(p apptest.Account, order markettypes.OrderID, price int64, gpus ...providertypes.GPU) *markettypes.MsgCreateBid {
	bid := &markettypes.MsgCreateBid{
		Provider: p.Address.String(), OrderId: order, PricePerGpuHour: detUSDC(price), Deposit: detUmesh(5_000_000),
	}
	for _, g := range gpus {
		bid.Gpus = append(bid.Gpus, g.Uuid)
	}
	return bid
}

// gasCases is the script of the run, in order: each case starts from the
// state the previous ones left.
func gasCases() []gasCase {
	var (
		lease1, lease2 markettypes.OrderID
		order3         markettypes.OrderID
		commitOf       poctypes.Challenge
		proofs         []*challenge.GPUProof
	)
	return []gasCase{
		// x/provider
		{url: "/gpumesh.provider.v1.MsgRegisterProvider",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				p := w.acc(detP1)
				return p, fixtures.Register(p.Address, "det-p1", "US-east1")
			}},
		{url: "/gpumesh.provider.v1.MsgUpdateProvider",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				p := w.acc(detP1)
				return p, &providertypes.MsgUpdateProvider{Owner: p.Address.String(), Moniker: "det-p1-renamed",
					HostUri: "https://p1.example.net:8443", Region: "US-west2", Contact: "noc@p1.example.net"}
			}},
		{url: "/gpumesh.provider.v1.MsgSetInventory",
			setup: func(w *twin) {
				p := w.acc(detP1)
				w.setup(p, &providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: detInvP1Old()})
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				p := w.acc(detP1)
				return p, &providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: detInvP1()}
			}},
		// x/stakingslash
		{url: "/gpumesh.stakingslash.v1.MsgBond",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				p := w.acc(detP1)
				return p, &stakingslashtypes.MsgBond{Provider: p.Address.String(), Amount: detUmesh(2_000_000_000)}
			}},
		{url: "/gpumesh.stakingslash.v1.MsgUnbond",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				p := w.acc(detP1)
				return p, &stakingslashtypes.MsgUnbond{Provider: p.Address.String(), Amount: detUmesh(100_000_000)}
			}},
		{url: "/gpumesh.provider.v1.MsgDeregisterProvider",
			setup: func(w *twin) {
				p := w.acc(detP3)
				w.setup(p, fixtures.Register(p.Address, "det-p3", "DE"),
					&providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: fixtures.RTX4090x4("det-p3")},
					&stakingslashtypes.MsgBond{Provider: p.Address.String(), Amount: detUmesh(400_000_000)})
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				return w.acc(detP3), &providertypes.MsgDeregisterProvider{Owner: w.acc(detP3).Address.String()}
			}},
		// x/market and x/escrow
		{url: "/gpumesh.market.v1.MsgCreateOrder",
			setup: func(w *twin) {
				p := w.acc(detP2)
				w.setup(p, fixtures.Register(p.Address, "det-p2", "US-east2"),
					&providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: fixtures.RTX4090x4("det-p2")},
					&stakingslashtypes.MsgBond{Provider: p.Address.String(), Amount: detUmesh(400_000_000)})
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				tenant := w.acc(detTenant)
				lease1 = markettypes.NewOrderID(tenant.Address, 1)
				return tenant, detOrder(tenant, 600)
			}},
		{url: "/gpumesh.market.v1.MsgCreateBid",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				inv := detInvP1()
				return w.acc(detP1), detBid(w.acc(detP1), lease1, 2_000_000, inv[0].Gpus[0], inv[0].Gpus[1])
			}},
		{url: "/gpumesh.market.v1.MsgCloseBid",
			setup: func(w *twin) {
				gpus := fixtures.RTX4090x4("det-p2")[0].Gpus
				w.setup(w.acc(detP2), detBid(w.acc(detP2), lease1, 2_200_000, gpus[0], gpus[1]))
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				return w.acc(detP2), &markettypes.MsgCloseBid{Provider: w.acc(detP2).Address.String(), OrderId: lease1}
			}},
		{url: "/gpumesh.market.v1.MsgAcceptBid",
			setup: func(w *twin) {
				gpus := fixtures.RTX4090x4("det-p2")[0].Gpus
				w.setup(w.acc(detP2), detBid(w.acc(detP2), lease1, 2_100_000, gpus[2], gpus[3]))
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				tenant := w.acc(detTenant)
				return tenant, &markettypes.MsgAcceptBid{Tenant: tenant.Address.String(), Seq: lease1.Seq,
					Provider: w.acc(detP1).Address.String()}
			}},
		{url: "/gpumesh.market.v1.MsgSetLeaseAccess",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				return w.acc(detP1), &markettypes.MsgSetLeaseAccess{Provider: w.acc(detP1).Address.String(),
					LeaseId: lease1, Endpoint: "ssh://gpu@dgx-0.p1.example.net:2222"}
			}},
		{url: "/gpumesh.escrow.v1.MsgDeposit",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				tenant := w.acc(detTenant)
				return tenant, &escrowtypes.MsgDeposit{Sender: tenant.Address.String(),
					Id: escrowtypes.NewAccountID(tenant.Address, lease1.Seq), Amount: detUSDC(50_000_000)}
			}},
		{url: "/gpumesh.proofofcompute.v1.MsgReportUsage",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				return w.acc(detP1), &poctypes.MsgReportUsage{Provider: w.acc(detP1).Address.String(),
					LeaseId: lease1, PeriodEnd: w.a.BlockTime, GpuSeconds: 2 * 5, MeanUtilPct: 87,
					EnergyMj: 4_200, SamplesHash: bytes.Repeat([]byte{0xab}, 32)}
			}},
		{url: "/gpumesh.escrow.v1.MsgWithdraw",
			setup: func(w *twin) {
				// lease 2: an instant order, leased by provider1's first bid.
				tenant, inv := w.acc(detTenant), detInvP1()
				lease2 = markettypes.NewOrderID(tenant.Address, 2)
				w.setup(tenant, detOrder(tenant, 0))
				w.setup(w.acc(detP1), detBid(w.acc(detP1), lease2, 1_900_000, inv[0].Gpus[2], inv[0].Gpus[3]))
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				tenant := w.acc(detTenant)
				return w.acc(detP1), &escrowtypes.MsgWithdraw{Provider: w.acc(detP1).Address.String(),
					LeaseIds: []escrowtypes.AccountID{
						escrowtypes.NewAccountID(tenant.Address, lease1.Seq), escrowtypes.NewAccountID(tenant.Address, lease2.Seq),
					}}
			}},
		{url: "/gpumesh.market.v1.MsgCloseOrder",
			setup: func(w *twin) {
				tenant, inv, ws := w.acc(detTenant), detInvP1(), fixtures.RTX4090x4("det-p2")[0].Gpus
				order3 = markettypes.NewOrderID(tenant.Address, 3)
				w.setup(tenant, detOrder(tenant, 600))
				w.setup(w.acc(detP1), detBid(w.acc(detP1), order3, 2_000_000, inv[0].Gpus[4], inv[0].Gpus[5]))
				w.setup(w.acc(detP2), detBid(w.acc(detP2), order3, 2_000_000, ws[0], ws[1]))
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				tenant := w.acc(detTenant)
				return tenant, &markettypes.MsgCloseOrder{Tenant: tenant.Address.String(), Seq: order3.Seq}
			}},
		{url: "/gpumesh.market.v1.MsgCloseLease",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				tenant := w.acc(detTenant)
				return tenant, &markettypes.MsgCloseLease{Sender: tenant.Address.String(), LeaseId: lease2}
			}},
		// Authority messages. The governance module account cannot sign a
		// transaction, so both apps start with bob as the consensus params'
		// authority (apptest.WithConsensusAuthority), which
		// sdk.ValidateAuthority accepts in place of each module's governance
		// authority: bob signs these messages like any other, and they run
		// through the ante handler and FinalizeBlock and reach the app hash
		// like the rest. (Calling the handler on a context would leave their
		// writes out of the app hash; a governance proposal runs its
		// messages in EndBlock, outside any transaction gas limit.) Each
		// sets the current params, except x/proofofcompute's, which
		// switches to a fast challenge schedule for the proof cases below.
		{url: "/gpumesh.provider.v1.MsgUpdateParams",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				params, err := w.a.ProviderKeeper.GetParams(w.a.Ctx())
				require.NoError(w.t, err)
				return w.acc(detAuthority), &providertypes.MsgUpdateParams{Authority: w.acc(detAuthority).Address.String(), Params: params}
			}},
		{url: "/gpumesh.stakingslash.v1.MsgUpdateParams",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				params, err := w.a.StakingSlashKeeper.GetParams(w.a.Ctx())
				require.NoError(w.t, err)
				return w.acc(detAuthority), &stakingslashtypes.MsgUpdateParams{Authority: w.acc(detAuthority).Address.String(), Params: params}
			}},
		{url: "/gpumesh.market.v1.MsgUpdateParams",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				params, err := w.a.MarketKeeper.GetParams(w.a.Ctx())
				require.NoError(w.t, err)
				return w.acc(detAuthority), &markettypes.MsgUpdateParams{Authority: w.acc(detAuthority).Address.String(), Params: params}
			}},
		{url: "/gpumesh.escrow.v1.MsgUpdateParams",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				params, err := w.a.EscrowKeeper.GetParams(w.a.Ctx())
				require.NoError(w.t, err)
				return w.acc(detAuthority), &escrowtypes.MsgUpdateParams{Authority: w.acc(detAuthority).Address.String(), Params: params}
			}},
		{url: "/gpumesh.escrow.v1.MsgSpendReserve",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				// Half of every coin the reserve took from the settlements
				// so far.
				held := w.a.BankKeeper.GetAllBalances(w.a.Ctx(), w.a.EscrowKeeper.ReserveAddress())
				var half sdk.Coins
				for _, c := range held {
					if c.Amount.GTE(math.NewInt(2)) {
						half = append(half, sdk.NewCoin(c.Denom, c.Amount.QuoRaw(2)))
					}
				}
				require.NotEmpty(w.t, half, "the market reserve holds nothing to spend")
				return w.acc(detAuthority), &escrowtypes.MsgSpendReserve{Authority: w.acc(detAuthority).Address.String(),
					Recipient: w.acc(detTenant).Address.String(), Amount: half, Reason: "compensate the tenants of a slashed provider"}
			}},
		// x/proofofcompute. Before the fast schedule starts, provider1
		// shrinks to its DGX (a second inventory sweep, this one removing
		// nodes and classes), so that one challenge covers its idle GPUs.
		{url: "/gpumesh.provider.v1.MsgSetInventory",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				p := w.acc(detP1)
				return p, &providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: fixtures.H100x8("det-p1")}
			}},
		{url: "/gpumesh.proofofcompute.v1.MsgUpdateParams",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				params, err := w.a.ProofOfComputeKeeper.GetParams(w.a.Ctx())
				require.NoError(w.t, err)
				// The shortest valid epoch, every node sampled.
				params.SampleRate = math.LegacyOneDec()
				for params.EpochBlocks = 10; params.Validate() != nil; params.EpochBlocks++ {
					require.Less(w.t, params.EpochBlocks, uint64(1000), "no valid short epoch: %v", params.Validate())
				}
				return w.acc(detAuthority), &poctypes.MsgUpdateParams{Authority: w.acc(detAuthority).Address.String(), Params: params}
			}},
		{url: "/gpumesh.proofofcompute.v1.MsgCommitProof",
			setup: func(w *twin) {
				commitOf = w.advanceUntilChallenge(w.acc(detP1), poctypes.CHALLENGE_STATE_ISSUED)
				var err error
				proofs, err = prove.Challenge(w.t.Context(), apptest.ChainID, commitOf, 0)
				require.NoError(w.t, err)
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				return w.acc(detP1), prove.CommitMsg(commitOf, proofs)
			}},
		{url: "/gpumesh.proofofcompute.v1.MsgRevealProof",
			setup: func(w *twin) {
				commitOf = w.advanceUntilChallenge(w.acc(detP1), poctypes.CHALLENGE_STATE_OPENED)
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				reveals, err := prove.RevealMsgs(commitOf, pockeeper.Openings(commitOf), proofs, []uint32{0})
				require.NoError(w.t, err)
				return w.acc(detP1), reveals[0]
			}},
		{url: "/gpumesh.proofofcompute.v1.MsgClaimRewards",
			setup: func(w *twin) {
				// The other GPUs pass too; then the epoch ends and pays.
				c := w.challenge(commitOf.Id)
				var rest []uint32
				for g := 1; g < len(c.Gpus); g++ {
					rest = append(rest, uint32(g))
				}
				reveals, err := prove.RevealMsgs(c, pockeeper.Openings(c), proofs, rest)
				require.NoError(w.t, err)
				msgs := make([]sdk.Msg, len(reveals))
				for i, r := range reveals {
					msgs[i] = r
				}
				w.setup(w.acc(detP1), msgs...)
				require.Equal(w.t, poctypes.CHALLENGE_STATE_PASSED, w.challenge(c.Id).State)
				w.advanceUntil("provider1 has rewards to claim", func() bool {
					r, err := w.a.ProofOfComputeKeeper.RewardOf(w.a.Ctx(), w.acc(detP1).Address)
					require.NoError(w.t, err)
					return r.Accrued.TruncateInt().IsPositive()
				})
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				return w.acc(detP1), &poctypes.MsgClaimRewards{Provider: w.acc(detP1).Address.String()}
			}},
		{url: "/gpumesh.proofofcompute.v1.MsgOpenDispute",
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				params, err := w.a.ProofOfComputeKeeper.GetParams(w.a.Ctx())
				require.NoError(w.t, err)
				tenant := w.acc(detTenant)
				return tenant, &poctypes.MsgOpenDispute{Tenant: tenant.Address.String(), LeaseId: lease1, Fee: params.DisputeFee}
			}},
		{url: "/gpumesh.stakingslash.v1.MsgUnjail",
			setup: func(w *twin) {
				// provider2 answered its capacity challenge with a garbage
				// commitment and never revealed: jailed. Its jail ends.
				p2 := w.acc(detP2)
				w.advanceUntil("provider2 is jailed", func() bool {
					jailed, err := w.a.StakingSlashKeeper.IsJailed(w.a.Ctx(), p2.Address)
					require.NoError(w.t, err)
					return jailed
				})
				c, _, err := w.a.StakingSlashKeeper.GetCollateral(w.a.Ctx(), p2.Address)
				require.NoError(w.t, err)
				w.skipTo(c.JailedUntil)
			},
			msg: func(w *twin) (apptest.Account, sdk.Msg) {
				return w.acc(detP2), &stakingslashtypes.MsgUnjail{Provider: w.acc(detP2).Address.String()}
			}},
	}
}

// twin is two apps started from the same genesis and driven by the same
// blocks; every block's results are compared.
type twin struct {
	t      *testing.T
	a, b   *apptest.App
	accNum map[string]uint64
	// diverged lists, per message type, the transactions on which the two
	// apps disagreed.
	diverged map[string][]string
	// offTrace lists, per message type, the transactions whose gas use
	// differed from what the trace recorded on the same state says: a third
	// execution that disagrees.
	offTrace map[string][]string
	// delivered counts the transactions delivered for each message type
	// ("setup" for the setup transactions).
	delivered map[string]int
}

func newTwin(t *testing.T) *twin {
	t.Helper()
	opts := []apptest.Option{apptest.WithConsensusAuthority(apptest.NewAccount(detAuthority).Address)}
	w := &twin{
		t: t, a: apptest.New(t, opts...), b: apptest.New(t, opts...),
		accNum: map[string]uint64{}, diverged: map[string][]string{}, offTrace: map[string][]string{},
		delivered: map[string]int{},
	}
	require.Equal(t, w.a.LastCommitID().Hash, w.b.LastCommitID().Hash, "the two apps start from different states")
	return w
}

func (w *twin) acc(name string) apptest.Account { return w.a.Account(name) }

// sequence is an account's next sequence in the committed state.
func (w *twin) sequence(from apptest.Account) uint64 {
	acc := w.a.AccountKeeper.GetAccount(w.a.Ctx(), from.Address)
	require.NotNil(w.t, acc, "account %s", from.Name)
	w.accNum[from.Name] = acc.GetAccountNumber()
	return acc.GetSequence()
}

// sign signs msgs by from with the given sequence and gas limit, no fee and
// no memo (SIGN_MODE_DIRECT). Both apps receive the same bytes.
func (w *twin) sign(from apptest.Account, seq, gas uint64, msgs ...sdk.Msg) []byte {
	w.t.Helper()
	cfg := w.a.TxConfig()
	b := cfg.NewTxBuilder()
	require.NoError(w.t, b.SetMsgs(msgs...))
	b.SetGasLimit(gas)
	mode := signing.SignMode_SIGN_MODE_DIRECT
	require.NoError(w.t, b.SetSignatures(signing.SignatureV2{
		PubKey: from.PrivKey.PubKey(), Data: &signing.SingleSignatureData{SignMode: mode}, Sequence: seq,
	}))
	sig, err := clienttx.SignWithPrivKey(w.t.Context(), mode, authsigning.SignerData{
		Address: from.Address.String(), ChainID: apptest.ChainID, AccountNumber: w.accNum[from.Name],
		Sequence: seq, PubKey: from.PrivKey.PubKey(),
	}, b, from.PrivKey, cfg, seq)
	require.NoError(w.t, err)
	require.NoError(w.t, b.SetSignatures(sig))
	bz, err := cfg.TxEncoder()(b.GetTx())
	require.NoError(w.t, err)
	return bz
}

// sweptTx is a transaction of a sweep and what it is for.
type sweptTx struct {
	bz    []byte
	label string
	// want is the gas an out-of-gas transaction is expected to use: its
	// ante cost plus the trace point at which it runs out.
	want storetypes.Gas
}

// deliver finalizes and commits the same block on both apps and compares
// them: the app hash must match (the run cannot go on otherwise), and
// every transaction result and the block events are compared, a mismatch
// being recorded under msgType.
func (w *twin) deliver(msgType string, txs []sweptTx) *abci.ResponseFinalizeBlock {
	w.t.Helper()
	raw := make([][]byte, len(txs))
	for i, tx := range txs {
		raw[i] = tx.bz
	}
	require.Equal(w.t, w.a.BlockTime, w.b.BlockTime)
	ra, rb := w.a.NextBlock(raw...), w.b.NextBlock(raw...)
	w.delivered[msgType] += len(txs)
	height := w.a.LastBlockHeight()
	require.Len(w.t, ra.TxResults, len(txs))
	require.Len(w.t, rb.TxResults, len(txs))
	for i := range txs {
		if d := resultDiff(ra.TxResults[i], rb.TxResults[i]); d != "" {
			w.diverged[msgType] = append(w.diverged[msgType],
				fmt.Sprintf("block %d tx %d (%s): %s", height, i, txs[i].label, d))
		}
	}
	if d := eventsDiff(ra.Events, rb.Events); d != "" {
		w.diverged[msgType] = append(w.diverged[msgType], fmt.Sprintf("block %d events: %s", height, d))
	}
	if !bytes.Equal(ra.AppHash, rb.AppHash) {
		w.report()
		w.t.Fatalf("block %d (%s): the apps' states diverged: app hash %X vs %X", height, msgType, ra.AppHash, rb.AppHash)
	}
	return ra
}

// resultDiff names the fields in which two transaction results differ.
func resultDiff(a, b *abci.ExecTxResult) string {
	var d []string
	if a.Code != b.Code || a.Codespace != b.Codespace {
		d = append(d, fmt.Sprintf("code %s/%d vs %s/%d", a.Codespace, a.Code, b.Codespace, b.Code))
	}
	if a.GasWanted != b.GasWanted {
		d = append(d, fmt.Sprintf("gas wanted %d vs %d", a.GasWanted, b.GasWanted))
	}
	if a.GasUsed != b.GasUsed {
		d = append(d, fmt.Sprintf("gas used %d vs %d", a.GasUsed, b.GasUsed))
	}
	if !bytes.Equal(a.Data, b.Data) {
		d = append(d, fmt.Sprintf("data %X vs %X", a.Data, b.Data))
	}
	if a.Log != b.Log {
		d = append(d, fmt.Sprintf("log %q vs %q", a.Log, b.Log))
	}
	if a.Info != b.Info {
		d = append(d, fmt.Sprintf("info %q vs %q", a.Info, b.Info))
	}
	if e := eventsDiff(a.Events, b.Events); e != "" {
		d = append(d, "events: "+e)
	}
	return strings.Join(d, "; ")
}

// eventsDiff describes the first difference between two event lists.
func eventsDiff(a, b []abci.Event) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d events vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			return fmt.Sprintf("event %d: %s vs %s", i, a[i].String(), b[i].String())
		}
	}
	return ""
}

// setup delivers msgs as setup transactions of from, one message per
// transaction, all in one block, and requires each to succeed.
func (w *twin) setup(from apptest.Account, msgs ...sdk.Msg) {
	w.t.Helper()
	seq := w.sequence(from)
	txs := make([]sweptTx, len(msgs))
	for i, msg := range msgs {
		txs[i] = sweptTx{bz: w.sign(from, seq+uint64(i), setupGas, msg), label: "setup " + sdk.MsgTypeURL(msg)}
	}
	res := w.deliver("setup", txs)
	for i, r := range res.TxResults {
		require.Equal(w.t, uint32(0), r.Code, "%s: %s", txs[i].label, r.Log)
	}
}

// setupGas is the gas limit of setup transactions.
const setupGas = 5_000_000

// nextBlockCtx is a writable branch of app a's committed state set up as
// the next block (height, time, header hash, consensus params) after its
// pre-blockers and begin blockers ran, as FinalizeBlock runs them before
// the first transaction.
func (w *twin) nextBlockCtx() sdk.Context {
	w.t.Helper()
	ctx := w.a.KeeperCtx()
	ctx = ctx.WithHeaderHash(apptest.BlockHash(ctx.BlockHeight()))
	ctx = ctx.WithConsensusParams(w.a.GetConsensusParams(ctx))
	_, err := w.a.PreBlocker(ctx, nil)
	require.NoError(w.t, err)
	_, err = w.a.BeginBlocker(ctx)
	require.NoError(w.t, err)
	return ctx
}

// recordingMeter is a gas meter that records the cumulative gas consumed
// after every ConsumeGas call.
type recordingMeter struct {
	storetypes.GasMeter
	points []storetypes.Gas
}

func (m *recordingMeter) ConsumeGas(amount storetypes.Gas, descriptor string) {
	m.GasMeter.ConsumeGas(amount, descriptor)
	m.points = append(m.points, m.GasConsumed())
}

// trace runs msg through its handler on a branch of ctx and returns the
// distinct cumulative gas values, in increasing order; the last one is the
// message's whole cost.
func (w *twin) trace(ctx sdk.Context, msg sdk.Msg) []storetypes.Gas {
	w.t.Helper()
	handler := w.a.MsgServiceRouter().Handler(msg)
	require.NotNil(w.t, handler, "no handler for %s", sdk.MsgTypeURL(msg))
	meter := &recordingMeter{GasMeter: storetypes.NewGasMeter(1 << 40)}
	branch, _ := ctx.CacheContext()
	_, err := handler(branch.WithGasMeter(meter), msg)
	require.NoError(w.t, err, "%s fails with ample gas: the case's setup is wrong", sdk.MsgTypeURL(msg))
	points := slices.Clone(meter.points)
	slices.Sort(points)
	points = slices.Compact(points)
	require.NotEmpty(w.t, points, "%s consumes no gas", sdk.MsgTypeURL(msg))
	return points
}

// anteGas runs the ante handler on tx in ctx and returns the gas it
// consumed; its writes (the sequence) stay in ctx.
func (w *twin) anteGas(ctx sdk.Context, bz []byte) (storetypes.Gas, error) {
	w.t.Helper()
	tx, err := w.a.TxConfig().TxDecoder()(bz)
	require.NoError(w.t, err)
	newCtx, err := w.a.AnteHandler()(ctx.WithTxBytes(bz), tx, false)
	if err != nil {
		return 0, err
	}
	return newCtx.GasMeter().GasConsumed(), nil
}

// signedTx is a transaction signed with a gas limit of its own ante cost
// plus an offset.
type signedTx struct {
	bz   []byte
	ante storetypes.Gas
	// after is a branch of the state the ante cost was measured on, with
	// the ante handler's writes; write commits them to that state.
	after sdk.Context
	write func()
}

// signAnte signs msg so that its gas limit is its own ante cost, measured
// in ctx, plus offset. The limit is part of the signed bytes, so the cost
// is found by signing again until it stays the same, starting from
// anteGuess (the previous transaction's cost).
func (w *twin) signAnte(ctx sdk.Context, from apptest.Account, seq, offset, anteGuess storetypes.Gas, msg sdk.Msg) signedTx {
	w.t.Helper()
	ante := anteGuess
	for range 8 {
		bz := w.sign(from, seq, ante+offset, msg)
		branch, write := ctx.CacheContext()
		got, err := w.anteGas(branch, bz)
		switch {
		case errors.Is(err, sdkerrors.ErrOutOfGas):
			ante += 1_000 // the guess was too low for this sequence
		case err != nil:
			w.t.Fatalf("%s: ante handler: %v", sdk.MsgTypeURL(msg), err)
		case got == ante:
			return signedTx{bz: bz, ante: ante, after: branch, write: write}
		default:
			ante = got
		}
	}
	w.t.Fatalf("%s: the ante cost does not settle for gas offset %d", sdk.MsgTypeURL(msg), offset)
	return signedTx{}
}

// sweep delivers, in one block on both apps, msg signed by from with gas
// limits below the ante cost, at every point of its gas trace (reps
// times), and finally with enough gas. It requires the out-of-gas
// transactions to run out of gas and the last one to succeed, and records
// every transaction whose gas use differs from what the trace recorded on
// the same state says.
//
// The trace is recorded on the state the message sees in the block: after
// the block's begin blockers and the transaction's own ante handler (the
// message may read its signer's account, whose sequence grows). It is
// recorded again whenever the ante cost changes, which is when the
// sequence's encoding grows by a byte.
func (w *twin) sweep(msgType string, from apptest.Account, msg sdk.Msg, reps int) {
	w.t.Helper()
	ctx := w.nextBlockCtx()
	seq := w.sequence(from)
	first := w.signAnte(ctx, from, seq, 0, setupGas, msg)
	points, traceAnte := w.trace(first.after, msg), first.ante

	var txs []sweptTx
	for _, limit := range []storetypes.Gas{first.ante / 8, first.ante / 4, first.ante / 2, first.ante * 3 / 4, first.ante - 1} {
		txs = append(txs, sweptTx{bz: w.sign(from, seq, limit, msg),
			label: fmt.Sprintf("gas limit %d, below the ante cost %d", limit, first.ante)})
	}
	ante := first.ante
	// signNext signs the sweep's next transaction with the limit ante +
	// offset(), recording the trace again first if the ante cost changed.
	signNext := func(offset func() storetypes.Gas) signedTx {
		s := w.signAnte(ctx, from, seq, offset(), ante, msg)
		if s.ante != traceAnte {
			again := w.trace(s.after, msg)
			require.Len(w.t, again, len(points), "%s: the trace changed shape with the signer's sequence", msgType)
			points, traceAnte = again, s.ante
			s = w.signAnte(ctx, from, seq, offset(), s.ante, msg)
		}
		s.write()
		ante = s.ante
		seq++
		return s
	}
	for r := range reps {
		for k := range points {
			// The gas before the k-th ConsumeGas (with a non-zero amount)
			// of the message: the transaction runs out of gas there.
			before := func() storetypes.Gas {
				if k == 0 {
					return 0
				}
				return points[k-1]
			}
			s := signNext(before)
			txs = append(txs, sweptTx{bz: s.bz, want: s.ante + points[k],
				label: fmt.Sprintf("rep %d, gas limit %d = ante %d + %d, out of gas at trace point %d of %d",
					r, s.ante+before(), s.ante, before(), k+1, len(points))})
		}
	}
	s := signNext(func() storetypes.Gas { return points[len(points)-1]*3/2 + 10_000 })
	total := points[len(points)-1]
	txs = append(txs, sweptTx{bz: s.bz, want: s.ante + total,
		label: fmt.Sprintf("ample gas: ante %d + message %d", s.ante, total)})

	res := w.deliver(msgType, txs)
	for i, r := range res.TxResults {
		if txs[i].want != 0 && uint64(r.GasUsed) != txs[i].want { //nolint:gosec // gas fits int64
			w.offTrace[msgType] = append(w.offTrace[msgType], fmt.Sprintf("block %d tx %d (%s): app a used %d gas, the trace says %d",
				w.a.LastBlockHeight(), i, txs[i].label, r.GasUsed, txs[i].want))
		}
	}
	outOfGas := sdkerrors.ErrOutOfGas
	for i, r := range res.TxResults[:len(txs)-1] {
		require.Equal(w.t, outOfGas.Codespace(), r.Codespace, "%s %s: %s", msgType, txs[i].label, r.Log)
		require.Equal(w.t, outOfGas.ABCICode(), r.Code, "%s %s: %s", msgType, txs[i].label, r.Log)
	}
	last := res.TxResults[len(txs)-1]
	require.Equal(w.t, uint32(0), last.Code, "%s %s: %s", msgType, txs[len(txs)-1].label, last.Log)
	w.t.Logf("%s: %d trace points, %d transactions", msgType, len(points), len(txs))
}

// report fails the test once per message type on which the apps
// disagreed with each other or with the recorded trace.
func (w *twin) report() {
	types := slices.Sorted(maps.Keys(w.diverged))
	for _, m := range slices.Sorted(maps.Keys(w.offTrace)) {
		if _, ok := w.diverged[m]; !ok {
			types = append(types, m)
		}
	}
	slices.Sort(types)
	for _, m := range types {
		var parts []string
		if d := w.diverged[m]; len(d) > 0 {
			parts = append(parts, fmt.Sprintf("the two apps disagree on %d of %d transactions; first: %s", len(d), w.delivered[m], d[0]))
		}
		if d := w.offTrace[m]; len(d) > 0 {
			parts = append(parts, fmt.Sprintf("%d of %d transactions used other gas than the trace recorded on the same state; first: %s",
				len(d), w.delivered[m], d[0]))
		}
		w.t.Errorf("%s: %s", m, strings.Join(parts, "\n\t"))
	}
}

// challenge returns a challenge from app a's committed state.
func (w *twin) challenge(id uint64) poctypes.Challenge {
	w.t.Helper()
	c, err := w.a.ProofOfComputeKeeper.GetChallenge(w.a.Ctx(), id)
	require.NoError(w.t, err)
	return c
}

// advanceUntil finalizes empty blocks (answering provider2's challenges
// with garbage) until done holds, for at most three epochs.
func (w *twin) advanceUntil(what string, done func() bool) {
	w.t.Helper()
	params, err := w.a.ProofOfComputeKeeper.GetParams(w.a.Ctx())
	require.NoError(w.t, err)
	for range 3 * params.EpochBlocks {
		if done() {
			return
		}
		w.answerGarbage(w.acc(detP2))
		w.deliver("setup", nil)
	}
	require.True(w.t, done(), "not reached within three epochs: %s", what)
}

// advanceUntilChallenge runs blocks until provider has a challenge in
// state and returns it.
func (w *twin) advanceUntilChallenge(provider apptest.Account, state poctypes.ChallengeState) poctypes.Challenge {
	w.t.Helper()
	var found poctypes.Challenge
	w.advanceUntil(fmt.Sprintf("%s has a %s challenge", provider.Name, state), func() bool {
		c, ok := w.findChallenge(provider, state)
		found = c
		return ok
	})
	return found
}

// findChallenge returns provider's first challenge in state.
func (w *twin) findChallenge(provider apptest.Account, state poctypes.ChallengeState) (poctypes.Challenge, bool) {
	var found poctypes.Challenge
	ok := false
	err := w.a.ProofOfComputeKeeper.Challenges.Walk(w.a.Ctx(), nil, func(_ uint64, c poctypes.Challenge) (bool, error) {
		if c.Provider == provider.Address.String() && c.State == state {
			found, ok = c, true
			return true, nil
		}
		return false, nil
	})
	require.NoError(w.t, err)
	return found, ok
}

// answerGarbage commits random-looking commitments for provider's issued
// challenge, if any: it will never be able to reveal them.
func (w *twin) answerGarbage(provider apptest.Account) {
	w.t.Helper()
	c, ok := w.findChallenge(provider, poctypes.CHALLENGE_STATE_ISSUED)
	if !ok {
		return
	}
	msg := &poctypes.MsgCommitProof{Provider: provider.Address.String(), ChallengeId: c.Id}
	for g := range c.Gpus {
		msg.Commitments = append(msg.Commitments, bytes.Repeat([]byte{byte(g + 1)}, 32))
	}
	w.setup(provider, msg)
}

// skipTo moves both apps' clocks so that the next block is at t or later.
func (w *twin) skipTo(t time.Time) {
	w.t.Helper()
	if t.After(w.a.BlockTime) {
		w.a.BlockTime, w.b.BlockTime = t, t
	}
	w.deliver("setup", nil)
}
