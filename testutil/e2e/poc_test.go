//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"
)

type challengeView struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Provider    string `json:"provider"`
	State       string `json:"state"`
	IssueHeight string `json:"issue_height"`
	OpenHeight  string `json:"open_height"`
	Failure     string `json:"failure"`
	Epoch       string `json:"epoch"`
}

type providerView struct {
	Provider struct {
		Reputation uint32 `json:"reputation"`
		Stats      struct {
			VerifiedGpus uint32 `json:"verified_gpus"`
		} `json:"stats"`
	} `json:"provider"`
}

// challengesOf lists a provider's challenges over REST.
func (ln *Localnet) challengesOf(addr string) []challengeView {
	ln.t.Helper()
	var res struct {
		Challenges []challengeView `json:"challenges"`
	}
	require.NoError(ln.t, GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/challenges?provider="+addr, &res))
	return res.Challenges
}

// Broadcast signs args (a `gpumeshd tx …` command line without "tx") with
// node0's test keyring and returns once CheckTx accepted it, without
// waiting for the block.
func (ln *Localnet) Broadcast(args ...string) {
	ln.t.Helper()
	full := append([]string{"tx"}, args...)
	full = append(full, "--keyring-backend", "test", "--yes", "-o", "json")
	out, err := ln.CLI(full...)
	require.NoError(ln.t, err, out)
	var sync TxResult
	require.NoError(ln.t, json.Unmarshal([]byte(out), &sync), out)
	require.Equal(ln.t, uint32(0), sync.Code, "%v: %s", args, sync.RawLog)
}

// Proof of compute on a real network, answered through the CLI's prover:
// with 12-block epochs and every idle node sampled, three providers are
// challenged. provider1 answers honestly (`tx proofofcompute commit` then
// `reveal`): its challenge passes, its 8 GPUs become verified, its
// reputation rises and at the epoch's end it has capacity rewards to
// claim. provider2 reveals a corrupted leaf: exactly the wrong-opening
// fraction of its bond is slashed and it is jailed. provider3 does not
// answer: its challenge is missed and counted toward the missed-commit
// limit, with no slash yet.
func TestProofOfComputeRoundsThroughTheCLI(t *testing.T) {
	ln := NewLocalnet(t, 15000)
	ln.Env = append(ln.Env, "LOCALNET_POC_EPOCH_BLOCKS=20", "LOCALNET_POC_SAMPLE_RATE=1")
	ln.MustScript("start")
	p1, p2, p3 := ln.Address("provider1"), ln.Address("provider2"), ln.Address("provider3")
	onboard(t, ln, "provider1", "poc-p1", "US-east1", "e2e-poc-p1")
	onboard(t, ln, "provider2", "poc-p2", "US-east1", "e2e-poc-p2")
	onboard(t, ln, "provider3", "poc-p3", "US-east1", "e2e-poc-p3")
	var rep0 providerView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/providers/"+p1, &rep0))
	var bond2 bondView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p2, &bond2))

	// The next epoch samples every node; each provider gets a challenge at
	// a random height of it. Act on each one as soon as its state allows
	// (the commit deadline is 3 blocks): provider1 honestly, provider2 with
	// a corrupted reveal, provider3 not at all.
	done := map[string]challengeView{}
	acted := map[string]bool{}
	keys := []string{"provider1", "provider2", "provider3"}
	addrs := map[string]string{"provider1": p1, "provider2": p2, "provider3": p3}
	step := func() {
		for _, key := range keys {
			for _, c := range ln.challengesOf(addrs[key]) {
				switch {
				case c.State == "CHALLENGE_STATE_ISSUED" && key != "provider3" && !acted[c.ID+"commit"]:
					acted[c.ID+"commit"] = true
					ln.Broadcast("proofofcompute", "commit", c.ID, "--from", key, "--gas", "1000000")
				case c.State == "CHALLENGE_STATE_OPENED" && !acted[c.ID+"reveal"]:
					acted[c.ID+"reveal"] = true
					args := []string{"proofofcompute", "reveal", c.ID, "--from", key, "--gas", "3000000"}
					if key == "provider2" {
						args = append(args, "--corrupt")
					}
					ln.Broadcast(args...)
				case c.State == "CHALLENGE_STATE_PASSED", c.State == "CHALLENGE_STATE_FAILED", c.State == "CHALLENGE_STATE_MISSED":
					if _, seen := done[key]; !seen {
						done[key] = c
					}
				}
			}
		}
	}
	deadline := time.Now().Add(150 * time.Second)
	for len(done) < 3 && time.Now().Before(deadline) {
		step()
		time.Sleep(200 * time.Millisecond)
	}
	require.Len(t, done, 3, "every provider's challenge resolved: %v", done)
	require.Equal(t, "CHALLENGE_STATE_PASSED", done["provider1"].State, done["provider1"].Failure)
	require.Equal(t, "CHALLENGE_STATE_FAILED", done["provider2"].State, "a wrong reveal is recorded, not refused")
	require.Contains(t, done["provider2"].Failure, "Merkle path does not lead to the root")
	require.Equal(t, "CHALLENGE_STATE_MISSED", done["provider3"].State)
	require.Contains(t, done["provider3"].Failure, "no commitment")

	var rep1 providerView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/providers/"+p1, &rep1))
	require.Greater(t, rep1.Provider.Reputation, rep0.Provider.Reputation)
	require.Equal(t, uint32(8), rep1.Provider.Stats.VerifiedGpus)

	var after2 bondView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p2, &after2))
	before := math.NewIntFromUint64(mustUint(t, bond2.Bonded))
	slashed := math.LegacyNewDecWithPrec(10, 2).MulInt(before).TruncateInt() // the default wrong_opening fraction
	require.Equal(t, before.Sub(slashed).String(), after2.Bonded)
	var jailed struct {
		Jailed bool `json:"jailed"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p2, &jailed))
	require.True(t, jailed.Jailed)

	// provider3's miss is counted toward the limit, not (yet) slashed.
	var bond3 struct {
		Bonded        string      `json:"bonded"`
		Required      string      `json:"required"`
		Jailed        bool        `json:"jailed"`
		MissedCommits []time.Time `json:"missed_commits"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p3, &bond3))
	require.Len(t, bond3.MissedCommits, 1)
	require.False(t, bond3.Jailed)
	require.Equal(t, bond3.Required, bond3.Bonded, "a first miss is only counted")

	// When the epoch ends, provider1 (the only verified provider; it keeps
	// answering the challenges of later epochs) is owed the epoch's issuance.
	var rewards struct {
		Claimable struct {
			Amount string `json:"amount"`
		} `json:"claimable"`
	}
	var claimable uint64
	deadline = time.Now().Add(90 * time.Second)
	for claimable == 0 && time.Now().Before(deadline) {
		step()
		require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/rewards/"+p1, &rewards))
		claimable = mustUint(t, rewards.Claimable.Amount)
		time.Sleep(300 * time.Millisecond)
	}
	require.Positive(t, claimable, "provider1 accrued capacity rewards at an epoch's end")
	bal := ln.balance(p1, "umesh")
	res := ln.Tx("proofofcompute", "claim-rewards", "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.GreaterOrEqual(t, ln.balance(p1, "umesh")-bal, int64(claimable),
		fmt.Sprintf("provider1 receives at least the %d claimable before the claim", claimable))
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	require.NoError(t, err, s)
	return n
}
