package adl

import "math"

// Scores are float64, computed with one rounding per operation and no fused
// multiply-add (every expression below has at most one product or quotient
// feeding an addition through an explicit conversion), so they are the same
// on every platform and replays rank identically.
//
// Every formula is written in two numbers per position at a mark:
//
//	g = N/C  notional at the mark over entry cost (= mark/entry)
//	r = PnL/C  the PnL fraction: g-1 for a long, 1-g for a short (an
//	           inverse contract's value per lot falls as the price rises:
//	           there an inverse long's r is 1-g, a short's g-1)
//	b = M/C  margin over entry cost (1/initial leverage)
//
// so equity/C = b+r and effective leverage = g/(b+r).

// boundRel and boundAbs widen every upper bound so that a few ulps of
// rounding in the bound or in a score can never let a bound fall below the
// score it bounds (scores are O(1..1e6); float64 error here is ~1e-15).
const (
	boundRel = 1e-9
	boundAbs = 1e-12
)

// ratios returns g and r for a position with entry key (cost per lot) at a
// mark whose value per lot is mk; up: the position gains as the value per
// lot rises (a linear long, an inverse short; Ranking.up).
func ratios(up bool, key, mk float64) (r, g float64) {
	g = mk / key
	if up {
		return g - 1, g
	}
	return 1 - g, g
}

// score is the ranking value (BitMEX): PnL% × effective leverage in profit,
// PnL% ÷ effective leverage in loss; -Inf once equity is gone (b+r ≤ 0),
// so a position that is itself bankrupt is the last resort.
func score(r, g, b float64) float64 {
	switch {
	case r > 0:
		return r * g / (b + r)
	case r == 0:
		return 0
	}
	e := b + r
	if e <= 0 {
		return math.Inf(-1)
	}
	return r * e / g
}

// leverage is the effective leverage g/(b+r); +Inf once equity is gone.
func leverage(r, g, b float64) float64 {
	e := b + r
	if e <= 0 {
		return math.Inf(1)
	}
	return g / e
}

// bound is an upper bound of score(r', g', b') over every b' ≥ bLo and every
// r' on the far side of r within one stream (see streams.go): it is
// score(r, g, bLo), clamped to 0 in loss (a loss never scores above 0), and
// widened by boundRel/boundAbs.
func bound(r, g, bLo float64) float64 {
	var v float64
	switch {
	case r > 0:
		v = r * g / (bLo + r)
	case r < 0 && bLo+r > 0:
		v = r * (bLo + r) / g
	}
	return v + float64(math.Abs(v)*boundRel) + boundAbs
}
