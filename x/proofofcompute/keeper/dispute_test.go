package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// disputeSetup onboards provider1, leases two of its GPUs to alice and
// has alice dispute the lease; it returns the lease id and the challenge.
func disputeSetup(t *testing.T, seed string, opts ...apptest.Option) (*pocFixture, markettypes.OrderID, types.Challenge) {
	f := newPoC(t, opts...)
	p1, alice := f.a.Account("provider1"), f.a.Account("alice")
	node := f.onboard("provider1", seed)
	id := f.lease(alice, p1, node.Gpus[0].Uuid, node.Gpus[1].Uuid)
	params, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
	require.NoError(t, err)
	res := f.a.DeliverTx(alice, &types.MsgOpenDispute{Tenant: alice.Address.String(), LeaseId: id, Fee: params.DisputeFee})
	require.Equal(t, uint32(0), res.Code, res.Log)
	var out types.MsgOpenDisputeResponse
	require.NoError(t, unpackResponse(res.Data, &out))
	c := f.challenge(out.ChallengeId)
	require.Equal(t, types.CHALLENGE_KIND_DISPUTE, c.Kind)
	require.Equal(t, id, *c.LeaseId)
	require.Len(t, c.Gpus, 2)
	require.Equal(t, node.Gpus[0].Uuid, c.Gpus[0].Uuid)
	require.Equal(t, c.IssueHeight, f.height(), "issued in the dispute's own block")
	return f, id, c
}

func umesh(f *pocFixture, addr sdk.AccAddress) math.Int {
	return f.a.BankKeeper.GetBalance(f.a.Ctx(), addr, app.BondDenom).Amount
}

// A dispute the provider answers correctly is rejected: the fee goes to
// the provider, the lease stays active, and the lease's GPUs are verified.
func TestDisputePassPaysTheFeeToTheProvider(t *testing.T) {
	f, id, c := disputeSetup(t, "poc-dispute-pass")
	p1, alice := f.a.Account("provider1"), f.a.Account("alice")
	fee := f.disputeFee()
	aliceBefore, p1Before := umesh(f, alice.Address), umesh(f, p1.Address)

	c, proofs := f.commitAndOpen(p1, c)
	f.deliver(p1, f.revealMsg(c, proofs, 0))
	f.deliver(p1, f.revealMsg(c, proofs, 1))
	require.Equal(t, types.CHALLENGE_STATE_PASSED, f.challenge(c.Id).State)

	require.Equal(t, aliceBefore, umesh(f, alice.Address))
	require.Equal(t, p1Before.Add(fee.Amount), umesh(f, p1.Address))
	d := f.disputes(id)
	require.Len(t, d, 1)
	require.Equal(t, types.DISPUTE_STATE_REJECTED, d[0].State)
	lease, err := f.a.MarketKeeper.GetLease(f.a.Ctx(), id)
	require.NoError(t, err)
	require.Equal(t, markettypes.LEASE_STATE_ACTIVE, lease.State)
	require.Equal(t, uint32(2), mustProvider(t, f, p1.Address).Stats.VerifiedGpus)
	f.invariants()
}

// A dispute the provider fails (a wrong reveal) or misses (no commitment)
// is upheld: the provider is slashed by the dispute fraction with alice as
// tenant beneficiary (she receives exactly her share), jailed, the lease
// closes DISPUTE_LOST with her escrow refunded, and her fee comes back.
func TestDisputeFailOrMissUpholdsTheDispute(t *testing.T) {
	for _, answer := range []string{"wrong", "none"} {
		t.Run(answer, func(t *testing.T) {
			f, id, c := disputeSetup(t, "poc-dispute-"+answer)
			p1, alice := f.a.Account("provider1"), f.a.Account("alice")
			fee := f.disputeFee()
			ss := f.slashParams()
			bonded := f.bonded(p1.Address)
			aliceMesh := umesh(f, alice.Address)
			aliceUSDC := f.a.BankKeeper.GetBalance(f.a.Ctx(), alice.Address, app.StableDenom).Amount

			if answer == "wrong" {
				var proofs = f.prove(c)
				f.deliver(p1, commitMsg(c, proofs))
				f.advanceTo(c.OpenedHeight())
				c = f.challenge(c.Id)
				bad := f.revealMsg(c, proofs, 1)
				bad.Openings[3].Siblings[0][0] ^= 1
				f.deliver(p1, bad)
			} else {
				f.advanceTo(c.OpenedHeight())
			}
			c = f.challenge(c.Id)
			if answer == "wrong" {
				require.Equal(t, types.CHALLENGE_STATE_FAILED, c.State)
			} else {
				require.Equal(t, types.CHALLENGE_STATE_MISSED, c.State)
			}

			slashed := ss.DisputeFailed.SlashFraction.MulInt(bonded).TruncateInt()
			share := ss.TenantShare.MulInt(slashed).TruncateInt()
			f.requireSlashed(p1.Address, bonded, ss.DisputeFailed.SlashFraction)
			require.Equal(t, aliceMesh.Add(fee.Amount).Add(share), umesh(f, alice.Address),
				"alice gets her fee back and exactly the tenant share of the slash")

			lease, err := f.a.MarketKeeper.GetLease(f.a.Ctx(), id)
			require.NoError(t, err)
			require.Equal(t, markettypes.LEASE_CLOSE_REASON_DISPUTE_LOST, lease.CloseReason)
			acct, err := f.a.EscrowKeeper.GetAccount(f.a.Ctx(), alice.Address, id.Seq)
			require.NoError(t, err)
			require.Equal(t, aliceUSDC.Add(acct.Refunded),
				f.a.BankKeeper.GetBalance(f.a.Ctx(), alice.Address, app.StableDenom).Amount, "escrow refunded")

			d := f.disputes(id)
			require.Len(t, d, 1)
			require.Equal(t, types.DISPUTE_STATE_UPHELD, d[0].State)
			require.Equal(t, slashed, d[0].Slashed)
			require.Equal(t, share, d[0].TenantCompensation)
			f.invariants()
		})
	}
}

// Disputes are refused with the reason: a fee other than the param, a
// sender who is not the tenant, a second dispute while one is open, a
// lease that is not active.
func TestDisputeRefusals(t *testing.T) {
	f, id, _ := disputeSetup(t, "poc-dispute-refusals")
	alice, bob := f.a.Account("alice"), f.a.Account("bob")
	fee := f.disputeFee()

	res := f.a.DeliverTx(alice, &types.MsgOpenDispute{Tenant: alice.Address.String(), LeaseId: id, Fee: fee})
	require.Equal(t, types.ErrDisputeOpen.ABCICode(), res.Code, "one open dispute per lease")

	half := sdk.NewCoin(fee.Denom, fee.Amount.QuoRaw(2))
	res = f.a.DeliverTx(alice, &types.MsgOpenDispute{Tenant: alice.Address.String(), LeaseId: id, Fee: half})
	require.Equal(t, types.ErrInvalidFee.ABCICode(), res.Code)
	require.Contains(t, res.Log, "fee must be the dispute_fee "+fee.String()+", got "+half.String())

	res = f.a.DeliverTx(bob, &types.MsgOpenDispute{Tenant: bob.Address.String(), LeaseId: id, Fee: fee})
	require.Equal(t, types.ErrLeaseNotDisputable.ABCICode(), res.Code)
	require.Contains(t, res.Log, "belongs to "+alice.Address.String())

	f.deliver(alice, &markettypes.MsgCloseLease{Sender: alice.Address.String(), LeaseId: id})
	// The open dispute still runs; a new one on the closed lease is refused
	// once it ends.
	c := f.challenge(f.disputes(id)[0].ChallengeId)
	f.advanceTo(c.OpenedHeight())
	res = f.a.DeliverTx(alice, &types.MsgOpenDispute{Tenant: alice.Address.String(), LeaseId: id, Fee: fee})
	require.Equal(t, types.ErrLeaseNotDisputable.ABCICode(), res.Code)
	require.Contains(t, res.Log, "LEASE_STATE_CLOSED")
	f.invariants()
}

func (f *pocFixture) disputeFee() sdk.Coin {
	f.t.Helper()
	p, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
	require.NoError(f.t, err)
	return p.DisputeFee
}

// disputes lists a lease's disputes through the query service.
func (f *pocFixture) disputes(id markettypes.OrderID) []types.Dispute {
	f.t.Helper()
	res, err := keeper.NewQueryServer(f.a.ProofOfComputeKeeper).Disputes(f.a.Ctx(),
		&types.QueryDisputesRequest{Tenant: id.Tenant, Seq: id.Seq})
	require.NoError(f.t, err)
	return res.Disputes
}
