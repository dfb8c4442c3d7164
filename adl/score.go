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
// score it bounds (scores are O(1..1e6); their relative float64 error is
// ~1e-15, as equity does not cancel).
const (
	boundRel = 1e-9
	boundAbs = 1e-12
)

// ratios returns r, its rounding error rl and g for a position with entry
// key (cost per lot) at a mark whose value per lot is mk; up: the position
// gains as the value per lot rises (a linear long, an inverse short;
// Ranking.up). r+rl is exactly ±(g−1) (TwoSum), which equity needs.
func ratios(up bool, key, mk float64) (r, rl, g float64) {
	g = mk / key
	if up {
		r = g - 1
		return r, sumErr(g, -1, r), g
	}
	r = 1 - g
	return r, sumErr(1, -g, r), g
}

// sumErr is the rounding error of s = fl(a+b): a+b = s+err exactly
// (Knuth's TwoSum: additions only, so no platform fuses anything).
func sumErr(a, b, s float64) float64 {
	bb := s - a
	return (a - (s - bb)) + (b - bb)
}

// equity is (M+PnL)/C = b+r, with r's rounding error rl added back. A
// near-bankrupt loss has b ≈ −r, and there plain b+r cancels: r's ~1e-16
// rounding became a relative error of 1e-16/(b+r) in the equity — 1e-8 for
// a short on an inverse contract at an extreme mark (g ≈ 1e-8, b = 1), so
// scores near −1 that differ by 1e-8 came out in the wrong order, the
// merge's bounds failed, and Top and the naive sort disagreed
// (testdata/fuzz/FuzzRankingInverse/09740382ac924ecc). With b and −r within
// a factor 2 (Sterbenz) b+r is exact, so the equity is the exact b ± (g−1) of
// the position's float b and g rounded once; elsewhere nothing cancels and
// it is off by a few ulps. It is monotone in b (monotone roundings
// composed), so a key's positions stay in tree order (merge.go).
func equity(b, r, rl float64) float64 { return float64(b+r) + rl }

// bustB is the largest b with equity(b, r, rl) ≤ 0 for a loss (r < 0):
// next to −r b+r is exact, so the equity is ≤ 0 exactly when b+r+rl ≤ 0,
// and |rl| is at most half a step of the float grid at −r.
func bustB(r, rl float64) float64 {
	if rl > 0 {
		return math.Nextafter(-r, math.Inf(-1))
	}
	return -r
}

// score is the ranking value (BitMEX): PnL% × effective leverage in profit,
// PnL% ÷ effective leverage in loss; -Inf once equity is gone (b+r ≤ 0),
// so a position that is itself bankrupt is the last resort.
func score(r, rl, g, b float64) float64 {
	switch {
	case r > 0:
		return r * g / (b + r)
	case r == 0:
		return 0
	}
	e := equity(b, r, rl)
	if e <= 0 {
		return math.Inf(-1)
	}
	return r * e / g
}

// leverage is the effective leverage g/(b+r); +Inf once equity is gone.
func leverage(r, rl, g, b float64) float64 {
	e := equity(b, r, rl)
	if e <= 0 {
		return math.Inf(1)
	}
	return g / e
}

// bound is an upper bound of score(r', rl', g', b') over every b' ≥ bLo and
// every r' on the far side of r within one stream (see merge.go): it is
// score(r, rl, g, bLo), clamped to 0 in loss (a loss never scores above 0), and
// widened by boundRel/boundAbs.
func bound(r, rl, g, bLo float64) float64 {
	var v float64
	switch {
	case r > 0:
		v = r * g / (bLo + r)
	case r < 0:
		if e := equity(bLo, r, rl); e > 0 {
			v = r * e / g
		}
	}
	return v + float64(math.Abs(v)*boundRel) + boundAbs
}
