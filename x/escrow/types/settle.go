package types

import (
	"math/big"
	"time"

	"cosmossdk.io/math"
)

// The settlement arithmetic of x/escrow: pure functions of integers, shared
// by the keeper, the queries and genesis validation. Products are computed
// on big.Int, so nothing overflows math.Int's 256 bits on the way; every
// result is bounded by an input amount.

// MaxUnix is the latest time x/escrow stores, 9999-12-31T23:59:59Z (the
// last second a protobuf Timestamp can hold). runs_dry_at is capped at it
// when the funds would last longer: such an account never runs dry.
const MaxUnix int64 = 253402300799

// MaxTime is MaxUnix as a time.
var MaxTime = time.Unix(MaxUnix, 0).UTC()

var (
	bigSecondsPerHour = big.NewInt(SecondsPerHour)
	decPrecision      = new(big.Int).Exp(big.NewInt(10), big.NewInt(math.LegacyPrecision), nil)
)

// UnixTime is a whole-second unix time as a UTC time.
func UnixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// Owed is floor(price × gpus × elapsed / 3600): what a stream of price per
// GPU-hour for gpus GPUs has earned after elapsed seconds; 0 for elapsed ≤
// 0. The result may exceed 256 bits; OwedCapped bounds it.
func Owed(price math.Int, gpus uint32, elapsed int64) *big.Int {
	if elapsed <= 0 || gpus == 0 || !price.IsPositive() {
		return new(big.Int)
	}
	n := new(big.Int).Mul(price.BigInt(), new(big.Int).SetUint64(uint64(gpus)))
	n.Mul(n, big.NewInt(elapsed))
	return n.Quo(n, bigSecondsPerHour)
}

// OwedCapped is min(Owed(price, gpus, elapsed), limit), limit ≥ 0.
func OwedCapped(price math.Int, gpus uint32, elapsed int64, limit math.Int) math.Int {
	owed := Owed(price, gpus, elapsed)
	if owed.Cmp(limit.BigInt()) >= 0 {
		return limit
	}
	return math.NewIntFromBigInt(owed)
}

// RunsDryAt is start + ceil(3600 × funds / (price × gpus)): the first whole
// second t at which Owed(price, gpus, t − start) ≥ funds. It is capped at
// MaxUnix. price and gpus must be positive and funds non-negative.
func RunsDryAt(start int64, price math.Int, gpus uint32, funds math.Int) int64 {
	rate := new(big.Int).Mul(price.BigInt(), new(big.Int).SetUint64(uint64(gpus)))
	if rate.Sign() <= 0 {
		return MaxUnix
	}
	num := new(big.Int).Mul(funds.BigInt(), bigSecondsPerHour)
	// ceil(num / rate) = floor((num + rate − 1) / rate) for num ≥ 0.
	num.Add(num, rate)
	num.Sub(num, big.NewInt(1))
	secs := num.Quo(num, rate)
	if !secs.IsInt64() || start > MaxUnix || secs.Int64() > MaxUnix-start {
		return MaxUnix
	}
	return start + secs.Int64()
}

// MulRateFloor is floor(n × rate) for n ≥ 0 and a rate in [0, 1), computed
// exactly: a LegacyDec is an integer over 10^18.
func MulRateFloor(n math.Int, rate math.LegacyDec) math.Int {
	if n.IsZero() || rate.IsZero() {
		return math.ZeroInt()
	}
	p := new(big.Int).Mul(n.BigInt(), rate.BigInt())
	return math.NewIntFromBigInt(p.Quo(p, decPrecision))
}

// Split is how one settlement of Amount is paid: Provider + Take + Reserve
// = Amount, each part ≥ 0.
type Split struct {
	Amount   math.Int
	Provider math.Int
	Take     math.Int
	Reserve  math.Int
	// ReserveCut is how much the reserve fee was cut so that the provider's
	// part is not negative (0 or 1 base unit; see SplitSettlement).
	ReserveCut math.Int
}

// Fees is Take + Reserve.
func (s Split) Fees() math.Int { return s.Take.Add(s.Reserve) }

// SplitSettlement splits the settlement that raises an account's paid from
// paidBefore to paidAfter (paidBefore ≤ paidAfter). Fees are functions of
// the cumulative amount paid, so they telescope: the take fee is
// floor(paidAfter × takeRate) − floor(paidBefore × takeRate) and the
// reserve fee the same with reserveRate. Any sequence of settlements over a
// span therefore pays the same gross and the same fees as one settlement
// over it, at constant rates.
//
// The two fees are floored separately, so when a settlement of a single
// base unit crosses a point where both floors step up (a multiple of 400
// at the default 2% and 0.25%, or 10% and 0.25%) they would add up to one
// more than the amount. Then the reserve fee is cut to what is left and
// ReserveCut says by how much: the only case where splitting differs from
// one settlement, by one base unit kept by the provider. The take fee never
// exceeds the amount (takeRate < 1).
func SplitSettlement(paidBefore, paidAfter math.Int, takeRate, reserveRate math.LegacyDec) Split {
	amount := paidAfter.Sub(paidBefore)
	take := MulRateFloor(paidAfter, takeRate).Sub(MulRateFloor(paidBefore, takeRate))
	reserve := MulRateFloor(paidAfter, reserveRate).Sub(MulRateFloor(paidBefore, reserveRate))
	cut := math.ZeroInt()
	if left := amount.Sub(take); reserve.GT(left) {
		cut = reserve.Sub(left)
		reserve = left
	}
	return Split{
		Amount:     amount,
		Provider:   amount.Sub(take).Sub(reserve),
		Take:       take,
		Reserve:    reserve,
		ReserveCut: cut,
	}
}

// EffectiveUnix is the time up to which a settlement at block time now
// counts: now, capped at stream_end when the lease has a duration, and
// never before settled_at.
func (a Account) EffectiveUnix(now int64) int64 {
	te := now
	if !a.StreamEnd.IsZero() && a.StreamEnd.Unix() < te {
		te = a.StreamEnd.Unix()
	}
	if settled := a.SettledAt.Unix(); te < settled {
		te = settled
	}
	return te
}

// PaidAt is what paid must be after a settlement at effective time t:
// min(owed(t), deposited).
func (a Account) PaidAt(t int64) math.Int {
	return OwedCapped(a.PricePerGpuHour, a.Gpus, t-a.StreamStart.Unix(), a.Deposited)
}

// ComputeRunsDryAt is RunsDryAt for the account's stream and deposits.
func (a Account) ComputeRunsDryAt() int64 {
	return RunsDryAt(a.StreamStart.Unix(), a.PricePerGpuHour, a.Gpus, a.Deposited)
}

// Unsettled is what a settlement at block time now would pay out (gross):
// 0 unless the account is streaming.
func (a Account) Unsettled(now int64) math.Int {
	if a.State != ACCOUNT_STATE_STREAMING {
		return math.ZeroInt()
	}
	owed := a.PaidAt(a.EffectiveUnix(now)).Sub(a.Paid)
	if owed.IsNegative() {
		return math.ZeroInt()
	}
	return owed
}

// Streamed reports whether a stream was ever started on the account (it is
// streaming, or was closed after streaming).
func (a Account) Streamed() bool { return a.Provider != "" }
