package adl

import (
	"math"
	"math/bits"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// notional returns qty×price×mult exactly, or ok=false when it does not fit
// in Money. All three are positive.
func notional(qty book.Lots, price book.Ticks, mult market.Money) (market.Money, bool) {
	hi, lo := bits.Mul64(uint64(qty), uint64(price))
	if hi != 0 {
		return 0, false
	}
	hi, lo = bits.Mul64(lo, uint64(mult))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return market.Money(lo), true
}

// pnl is the signed PnL of holding qty (side long or not) bought for cost,
// valued at price: qty×price×mult − cost for a long, cost − that for a short.
func pnl(long bool, qty book.Lots, cost market.Money, price book.Ticks, mult market.Money) (market.Money, bool) {
	n, ok := notional(qty, price, mult)
	if !ok {
		return 0, false
	}
	if long {
		return n - cost, true
	}
	return cost - n, true
}

// scaleDown returns v×num/den rounded toward zero (0 ≤ num ≤ den, v ≥ 0):
// the part of a cost or margin that stays with a reduced position.
func scaleDown(v market.Money, num, den book.Lots) market.Money {
	return market.Money(market.MustMulDiv(int64(v), int64(num), int64(den), false))
}
