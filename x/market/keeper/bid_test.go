package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/market/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Every way a bid can be refused, with its error naming the field and
// value. A refused bid moves no coin.
func TestCreateBidErrors(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "DE-fra1", fixtures.Mixed("p2"))
	f.onboardBonded(f.p3, "US", fixtures.H100x8("p3"), 0) // under-bonded
	jailed := f.tenant2
	f.onboard(jailed, "US", fixtures.H100x8("bob"))
	_, err := f.app.StakingSlashKeeper.Slash(f.ctx, jailed, stakingslashtypes.INFRACTION_WRONG_OPENING, f.ctx.BlockHeight())
	require.NoError(t, err)
	stranger := sdk.AccAddress([]byte("not-a-provider-addr!"))

	withSpec := func(mut func(s *types.ResourceSpec)) types.OrderID {
		return f.order(f.tenant, func(m *types.MsgCreateOrder) { mut(&m.Spec) })
	}
	open := f.order(f.tenant, nil)
	f.mustBid(f.p1, open, 2_000_000, f.gpusOf(f.p1, 0, 2))
	closed := f.order(f.tenant, nil)
	_, err = f.msgs.CloseOrder(f.ctx, &types.MsgCloseOrder{Tenant: f.tenant.String(), Seq: closed.Seq})
	require.NoError(t, err)
	other := f.order(f.tenant, nil)
	leasedElsewhere := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0 })
	f.mustBid(f.p1, leasedElsewhere, 2_000_000, f.gpusOf(f.p1, 6, 2))
	eu := withSpec(func(s *types.ResourceSpec) { s.Regions = []string{"EU"} })
	reputable := withSpec(func(s *types.ResourceSpec) { s.MinReputation = 6000 })
	a100 := withSpec(func(s *types.ResourceSpec) { s.GpuClasses = []string{"a100"} })
	mixed := withSpec(func(s *types.ResourceSpec) { s.GpuClasses, s.GpusPerNode = []string{"h200", "a100"}, 4 })
	single := withSpec(func(s *types.ResourceSpec) { s.GpusPerNode = 1 })
	vram := withSpec(func(s *types.ResourceSpec) { s.MinVramMib = 90_000 })
	cpu := withSpec(func(s *types.ResourceSpec) { s.CpuCoresPerNode = 200 })
	memory := withSpec(func(s *types.ResourceSpec) { s.MemoryMibPerNode = 3 * 1024 * 1024 })
	storage := withSpec(func(s *types.ResourceSpec) { s.StorageGibPerNode = 40_000 })
	roce := withSpec(func(s *types.ResourceSpec) { s.Interconnect = "roce" })

	p1Mesh, p1USDC := f.balance(f.p1, testMESH), f.balance(f.p1, testUSDC)
	p1GPUs := f.gpusOf(f.p1, 0, 2)
	p2 := f.gpus[f.p2.String()] // h200, h200, a100, a100 on node-a; unknown on node-b
	tests := []struct {
		name string
		mut  func(m *types.MsgCreateBid)
		err  error
		msg  string
	}{
		{"stateless check first", func(m *types.MsgCreateBid) { m.Gpus = nil }, types.ErrInvalidBid, "gpus: want 1-1024"},
		{"order not found", func(m *types.MsgCreateBid) { m.OrderId.Seq = 99 }, types.ErrOrderNotFound, "order " + f.tenant.String() + "/99"},
		{"order closed", func(m *types.MsgCreateBid) { m.OrderId = closed }, types.ErrOrderNotOpen, "is ORDER_STATE_CLOSED"},
		{"own order", func(m *types.MsgCreateBid) { m.Provider = f.tenant.String() }, types.ErrInvalidBid,
			"is the tenant of order " + other.String()},
		{"not a provider", func(m *types.MsgCreateBid) { m.Provider = stranger.String() }, types.ErrProviderIneligible,
			"provider " + stranger.String() + ": provider " + stranger.String() + ": provider not found"},
		{"under-bonded", func(m *types.MsgCreateBid) { m.Provider, m.Gpus = f.p3.String(), f.gpusOf(f.p3, 0, 2) },
			types.ErrProviderIneligible, "provider " + f.p3.String() + " has bonded less than the bond its listed GPUs require"},
		{"jailed", func(m *types.MsgCreateBid) { m.Provider, m.Gpus = jailed.String(), f.gpusOf(jailed, 0, 2) },
			types.ErrProviderIneligible, "provider " + jailed.String() + " is jailed"},
		{"price denom", func(m *types.MsgCreateBid) { m.PricePerGpuHour = sdk.NewInt64Coin(testMESH, 1) }, types.ErrInvalidBid,
			`price_per_gpu_hour denom "umesh" must be the order's denom "uusdc"`},
		{"price too high", func(m *types.MsgCreateBid) { m.PricePerGpuHour = sdk.NewInt64Coin(testUSDC, 2_500_001) }, types.ErrPriceTooHigh,
			"price_per_gpu_hour 2500001uusdc is above the order's max 2500000uusdc"},
		{"deposit denom", func(m *types.MsgCreateBid) { m.Deposit = sdk.NewInt64Coin(testUSDC, 5_000_000) }, types.ErrInvalidBid,
			"deposit 5000000uusdc must be at least the bid_deposit 5000000umesh"},
		{"deposit too small", func(m *types.MsgCreateBid) { m.Deposit = sdk.NewInt64Coin(testMESH, 4_999_999) }, types.ErrInvalidBid,
			"deposit 4999999umesh must be at least the bid_deposit 5000000umesh"},
		{"second bid", func(m *types.MsgCreateBid) { m.OrderId = open }, types.ErrBidExists,
			"provider " + f.p1.String() + " already bid on order " + open.String()},
		{"GPU not listed", func(m *types.MsgCreateBid) { m.Gpus[1] = fixtures.GPUUUID("nobody", 0) }, types.ErrGPUUnavailable,
			"GPU " + fixtures.GPUUUID("nobody", 0) + " is not listed by any provider"},
		{"GPU of another provider", func(m *types.MsgCreateBid) { m.Gpus[0] = f.gpusOf(f.p3, 0, 1)[0] }, types.ErrGPUUnavailable,
			"is listed by " + f.p3.String() + ", not by the bidder " + f.p1.String()},
		{"GPU leased", func(m *types.MsgCreateBid) { m.Gpus = f.gpusOf(f.p1, 6, 2) }, types.ErrGPUUnavailable,
			"GPU " + f.gpusOf(f.p1, 6, 1)[0] + " is allocated to lease " + leasedElsewhere.String()},
		{"too many GPUs", func(m *types.MsgCreateBid) { m.Gpus = f.gpusOf(f.p1, 0, 3) }, types.ErrSpecMismatch,
			"the bid offers 3 GPUs; the order wants 1 nodes × 2 GPUs = 2"},
		{"region", func(m *types.MsgCreateBid) { m.OrderId = eu }, types.ErrSpecMismatch, "provider region US is not among the order's regions [EU]"},
		{"reputation", func(m *types.MsgCreateBid) { m.OrderId = reputable }, types.ErrSpecMismatch,
			"provider reputation 5000 is below the order's min_reputation 6000"},
		{"class", func(m *types.MsgCreateBid) { m.OrderId = a100 }, types.ErrSpecMismatch,
			"is of class h100-sxm-80g, which gpu_classes [a100] does not accept"},
		{"mixed classes", func(m *types.MsgCreateBid) { m.OrderId, m.Provider, m.Gpus = mixed, f.p2.String(), p2[0:4] }, types.ErrSpecMismatch,
			"GPU " + p2[2] + " is of class a100-sxm-40g but GPU " + p2[0] + " is of class h200-sxm-141g: a bid offers one class"},
		{"unknown class", func(m *types.MsgCreateBid) { m.OrderId, m.Provider, m.Gpus = single, f.p2.String(), p2[4:5] }, types.ErrSpecMismatch,
			"GPU " + p2[4] + " is of class unknown"},
		{"VRAM", func(m *types.MsgCreateBid) { m.OrderId = vram }, types.ErrSpecMismatch,
			"has 81559 MiB of memory, the order's min_vram_mib is 90000"},
		{"CPU", func(m *types.MsgCreateBid) { m.OrderId = cpu }, types.ErrSpecMismatch, `node "dgx-0" has 112 CPU cores; the order wants at least 200`},
		{"memory", func(m *types.MsgCreateBid) { m.OrderId = memory }, types.ErrSpecMismatch,
			`node "dgx-0" has 2097152 MiB of memory; the order wants at least 3145728`},
		{"storage", func(m *types.MsgCreateBid) { m.OrderId = storage }, types.ErrSpecMismatch,
			`node "dgx-0" has 30000 GiB of storage; the order wants at least 40000`},
		{"interconnect", func(m *types.MsgCreateBid) { m.OrderId = roce }, types.ErrSpecMismatch,
			`node "dgx-0" has interconnect "infiniband"; the order wants "roce"`},
		{"deposit beyond balance", func(m *types.MsgCreateBid) { m.Deposit = sdk.NewInt64Coin(testMESH, 2_000_000_000_000) },
			sdkerrors.ErrInsufficientFunds, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := f.bidMsg(f.p1, other, 2_000_000, append([]string(nil), p1GPUs...))
			tc.mut(m)
			_, err := f.msgs.CreateBid(f.ctx, m)
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.msg)
		})
	}
	require.Equal(t, p1Mesh, f.balance(f.p1, testMESH))
	require.Equal(t, p1USDC, f.balance(f.p1, testUSDC))
	require.Zero(t, f.getOrder(other).OpenBids)

	// Bids are taken until the window's last second, not at its end.
	f.advance(59)
	f.mustBid(f.p1, other, 2_000_000, p1GPUs)
	f.advance(1)
	_, err = f.bid(f.p2, other, 2_000_000, p2[0:2])
	require.ErrorIs(t, err, types.ErrWindowClosed)
	require.ErrorContains(t, err, "order "+other.String()+" took bids until")
	f.endBlock()
}

// At most max_bids_per_order bids are open on an order; a withdrawn bid
// frees its place.
func TestMaxBidsPerOrder(t *testing.T) {
	f := newMarket(t)
	params := types.DefaultParams()
	params.MaxBidsPerOrder = 2
	require.NoError(t, f.k.Params.Set(f.ctx, params))
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	f.onboard(f.p3, "US", fixtures.H100x8("p3"))
	id := f.order(f.tenant, nil)
	f.mustBid(f.p1, id, 2_000_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p2, id, 2_000_000, f.gpusOf(f.p2, 0, 2))
	_, err := f.bid(f.p3, id, 1_000_000, f.gpusOf(f.p3, 0, 2))
	require.ErrorIs(t, err, types.ErrTooManyBids)
	require.ErrorContains(t, err, "order "+id.String()+" has 2 open bids, max_bids_per_order is 2")

	_, err = f.msgs.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.p2.String(), OrderId: id})
	require.NoError(t, err)
	f.mustBid(f.p3, id, 1_000_000, f.gpusOf(f.p3, 0, 2))
	require.Equal(t, uint32(2), f.getOrder(id).OpenBids)
	require.Equal(t, uint32(3), f.getOrder(id).BidsReceived)
}

// A provider withdraws its open bid: the deposit comes back, the record is
// deleted, and it may bid again.
func TestCloseBid(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	p1Mesh := f.balance(f.p1, testMESH)
	id := f.order(f.tenant, nil)
	f.mustBid(f.p1, id, 2_000_000, f.gpusOf(f.p1, 0, 2))
	require.Equal(t, p1Mesh.SubRaw(5_000_000), f.balance(f.p1, testMESH))

	f.advance(5)
	_, err := f.msgs.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.p1.String(), OrderId: id})
	require.NoError(t, err)
	require.Equal(t, p1Mesh, f.balance(f.p1, testMESH))
	_, err = f.k.GetBid(f.ctx, id, f.p1)
	require.ErrorIs(t, err, types.ErrBidNotFound)
	require.Zero(t, f.getOrder(id).OpenBids)
	require.Equal(t, []*types.EventBidClosed{{OrderId: id, Provider: f.p1.String(), Reason: types.BID_CLOSE_REASON_WITHDRAWN}},
		marketEvents[*types.EventBidClosed](t, f.ctx))

	_, err = f.msgs.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.p1.String(), OrderId: id})
	require.ErrorIs(t, err, types.ErrBidNotFound)
	require.ErrorContains(t, err, "provider "+f.p1.String()+" has no bid on order "+id.String())

	// A bigger deposit than the minimum comes back whole too.
	m := f.bidMsg(f.p1, id, 1_900_000, f.gpusOf(f.p1, 2, 2))
	m.Deposit = sdk.NewCoin(testMESH, math.NewInt(7_000_000))
	_, err = f.msgs.CreateBid(f.ctx, m)
	require.NoError(t, err)
	b := f.getBid(id, f.p1)
	require.Equal(t, uint32(2), b.Number, "numbers keep counting")
	require.Equal(t, m.Deposit, b.Deposit)
	require.Equal(t, p1Mesh.SubRaw(7_000_000), f.balance(f.p1, testMESH))

	// A won bid cannot be withdrawn: the lease must be closed.
	_, err = f.msgs.AcceptBid(f.ctx, &types.MsgAcceptBid{Tenant: f.tenant.String(), Seq: id.Seq, Provider: f.p1.String()})
	require.NoError(t, err)
	_, err = f.msgs.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.p1.String(), OrderId: id})
	require.ErrorIs(t, err, types.ErrBidNotOpen)
	require.ErrorContains(t, err, "is BID_STATE_WON")
	_, err = f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.tenant.String(), LeaseId: id})
	require.NoError(t, err)
	require.Equal(t, p1Mesh, f.balance(f.p1, testMESH))
}
