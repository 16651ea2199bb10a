package plot

import (
	"math"
	"sort"
	"strconv"
)

// axis maps data values onto [0, 1]. For a log axis lo and hi are powers
// of ten as exponents.
type axis struct {
	lo, hi float64
	log    bool
	ticks  []float64 // labelled, in data units
	minor  []float64 // unlabelled grid lines of a log axis
}

// newAxis returns an axis covering [lo, hi] with nice ticks.
func newAxis(lo, hi float64, log bool) axis {
	if log {
		return logAxis(lo, hi)
	}
	t := niceTicks(lo, hi)
	return axis{lo: t[0], hi: t[len(t)-1], ticks: t}
}

// frac is where v falls on the axis: 0 at its start, 1 at its end.
func (a axis) frac(v float64) float64 {
	if a.log {
		v = math.Log10(v)
	}
	return (v - a.lo) / (a.hi - a.lo)
}

// niceTicks returns about five evenly spaced values covering [lo, hi], with
// a step of 1, 2 or 5 × 10^k. Each tick is computed as an integer scaled by a
// power of ten, so 0.3 is 0.3 and not 0.30000000000000004.
func niceTicks(lo, hi float64) []float64 {
	if hi < lo {
		lo, hi = hi, lo
	}
	if lo == hi {
		d := math.Abs(lo) / 2
		if d == 0 {
			d = 1
		}
		lo, hi = lo-d, hi+d
	}
	raw := (hi - lo) / 5
	e := int(math.Floor(math.Log10(raw)))
	var m int64
	for _, c := range []int64{1, 2, 5, 10} {
		if float64(c)*math.Pow10(e) >= raw*(1-1e-9) {
			m = c
			break
		}
	}
	if m == 10 {
		m, e = 1, e+1
	}
	step := scaled(m, e)
	k0 := int64(math.Floor(lo/step + 1e-9))
	k1 := int64(math.Ceil(hi/step - 1e-9))
	ticks := make([]float64, 0, k1-k0+1)
	for k := k0; k <= k1; k++ {
		ticks = append(ticks, scaled(k*m, e))
	}
	return ticks
}

// scaled is n × 10^e, correctly rounded.
func scaled(n int64, e int) float64 {
	if e >= 0 {
		return float64(n) * math.Pow10(e)
	}
	return float64(n) / math.Pow10(-e)
}

// logAxis spans [lo, hi] (both > 0) widened to 1, 2 or 5 × 10^k, and ticks
// at the powers of ten inside; where fewer than three fall inside, 2 and 5 ×
// 10^k are labelled too. More than eight powers are labelled every other
// (or third …) one. The other multiples of powers of ten are minor ticks.
func logAxis(lo, hi float64) axis {
	if lo == hi {
		lo, hi = lo/2, hi*2
	}
	lo, hi = snapLog(lo, false), snapLog(hi, true)
	a := axis{lo: math.Log10(lo), hi: math.Log10(hi), log: true}
	var powers, others []float64
	for e := decade(lo); scaled(1, e) <= hi; e++ {
		for k := int64(1); k <= 9; k++ {
			v := scaled(k, e)
			switch {
			case v < lo || v > hi:
			case k == 1:
				powers = append(powers, v)
			default:
				others = append(others, v)
			}
		}
	}
	if len(powers) < 3 {
		for _, v := range others {
			if m := v / scaled(1, decade(v)); m == 2 || m == 5 {
				a.ticks = append(a.ticks, v)
			} else {
				a.minor = append(a.minor, v)
			}
		}
		a.ticks = append(a.ticks, powers...)
		sort.Float64s(a.ticks)
		return a
	}
	stride := (len(powers) + 7) / 8
	for i, v := range powers {
		if i%stride == 0 {
			a.ticks = append(a.ticks, v)
		} else {
			a.minor = append(a.minor, v)
		}
	}
	a.minor = append(a.minor, others...)
	return a
}

// decade is the exponent of the power of ten at or below v.
func decade(v float64) int { return int(math.Floor(math.Log10(v) + 1e-9)) }

// snapLog rounds v > 0 down (or up) to 1, 2 or 5 × 10^k.
func snapLog(v float64, up bool) float64 {
	e := decade(v)
	m := v / scaled(1, e)
	if up {
		for _, c := range []int64{1, 2, 5, 10} {
			if float64(c) >= m*(1-1e-9) {
				return scaled(c, e)
			}
		}
	}
	for _, c := range []int64{5, 2, 1} {
		if float64(c) <= m*(1+1e-9) {
			return scaled(c, e)
		}
	}
	return scaled(1, e)
}

// compact formats v briefly: 1k, 12.5k, 1.5M, 2G, 0.25, 0.001, 2.5e-07.
func compact(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a < 1e-4 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	suffix := ""
	for _, u := range []struct {
		f float64
		s string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= u.f {
			v, suffix = v/u.f, u.s
			break
		}
	}
	// Six significant digits hide binary rounding; 'f' then avoids exponents.
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64) + suffix
}
