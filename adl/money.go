package adl

import (
	"math"
	"math/bits"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// notional returns qty×price×mult exactly, or ok=false when it does not fit
// in Money. All three are positive. It is a linear contract's value;
// Ranking.notional serves both kinds.
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
// valued at price: qty×price×mult − cost for a long, cost − that for a
// short. Linear only; Ranking.pnl serves both kinds.
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

// notional is |market.Symbol.Value(price, qty)| for the ranking's contract
// (qty, price > 0): qty × price × Multiplier, or ⌊qty × InverseK / price⌋
// for an inverse contract; ok=false when it does not fit in Money.
func (rk *Ranking) notional(qty book.Lots, price book.Ticks) (market.Money, bool) {
	if rk.inverse {
		v, ok := market.MulDiv(int64(qty), int64(rk.cfg.InverseK), int64(price), false)
		return market.Money(v), ok
	}
	return notional(qty, price, rk.cfg.Multiplier)
}

// gain is the PnL of a position on side whose value is worth n and whose
// cost basis is cost, both magnitudes: market.Symbol.PnL = Value − cost
// with both signed as the position's value is (+ for a linear long or an
// inverse short, − for the other two), so n − cost or cost − n.
func (rk *Ranking) gain(side book.Side, n, cost market.Money) market.Money {
	if rk.up(side) {
		return n - cost
	}
	return cost - n
}

// pnl is market.Symbol.PnL of qty lots on side with entry cost cost (a
// magnitude) at price; ok=false when the value does not fit in Money.
func (rk *Ranking) pnl(side book.Side, qty book.Lots, cost market.Money, price book.Ticks) (market.Money, bool) {
	n, ok := rk.notional(qty, price)
	if !ok {
		return 0, false
	}
	return rk.gain(side, n, cost), true
}
