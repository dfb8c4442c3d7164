package risk

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Partial liquidation (market.Symbol.PartialLiquidation, as Binance and
// Hyperliquid): a liquidatable position beyond the first maintenance tier
// is first only reduced, by a reduce order of the account's own, to the
// size at which its notional at the mark is back in the tier below; the
// rest stays open. If that does not make the account safe, the full
// takeover (StartLiquidation) follows.

// PartialPlan is a partial liquidation's reduce order.
type PartialPlan struct {
	Side  book.Side  // closes the position
	Qty   book.Lots  // > 0, < |position|
	Bound book.Ticks // the worst price it may trade at: the position's bankruptcy price
	Tier  int        // the position's tier (≥ 1) at the mark; the reduction leaves it in Tier-1
}

// StartPartialLiquidation decides whether sym's liquidatable position is
// reduced rather than taken over and, if so, registers the reduce order id
// (the account's orders stay as they are: the caller cancels them) and puts
// the account in liquidation until EndPartialLiquidation, so nothing else
// can change it meanwhile. ok is false (and nothing changes) when the
// symbol does not allow it, the position is in the first tier, or no
// smaller size in the tier below exists.
func (a *Account) StartPartialLiquidation(sym *market.Symbol, id book.OrderID) (PartialPlan, bool) {
	i := a.find(sym)
	if a.inLiq || i < 0 || !sym.PartialLiquidation || a.pos[i].qty == 0 || !a.liquidatable(i) || a.orders.Find(id) >= 0 {
		return PartialPlan{}, false
	}
	p := &a.pos[i]
	tier := sym.TierIndex(p.notional())
	if tier == 0 {
		return PartialPlan{}, false
	}
	size := abs(p.qty)
	top := sym.Tiers[tier-1].MaxNotional
	// The largest size whose notional at the mark is within the tier below
	// (a search: an inverse notional rounds, so top/per can overshoot).
	keep := book.Lots(lastTrue(func(k int64) bool { return sym.Notional(p.mark, book.Lots(k)) <= top }, 0, int64(size), 0))
	if keep <= 0 || keep >= size {
		return PartialPlan{}, false
	}
	a.recompute(i)
	plan := PartialPlan{Side: book.Buy, Qty: size - keep, Bound: p.bk, Tier: tier}
	if p.qty > 0 {
		plan.Side = book.Sell
	}
	// Registered as a reduce-only order past the usual checks: the
	// account's other orders are on their way out and must not block it.
	so := &p.side[sideIdx(plan.Side)]
	so.qty += plan.Qty
	so.roQty += plan.Qty
	so.notional += sym.Notional(p.bk, plan.Qty)
	a.orders.Add(id, openOrder{id: id, slot: int32(i), side: plan.Side, reduceOnly: true, price: p.bk, qty: plan.Qty})
	p.orders++
	a.updateOrderMargin(i)
	a.inLiq = true
	return plan, true
}

// EndPartialLiquidation ends a partial liquidation whose reduce order is
// done (its fills applied, its rest released by OnOrderDone) and reports
// whether the account (cross) or sym's position (isolated) is still
// liquidatable at the stored marks: then the full takeover follows.
func (a *Account) EndPartialLiquidation(sym *market.Symbol) (liquidate bool) {
	a.inLiq = false
	a.afterChange(-1)
	i := a.find(sym)
	if i >= 0 && a.pos[i].qty != 0 && a.liquidatable(i) {
		return true
	}
	for j := range a.pos { // cross: any cross position now under
		if a.pos[j].qty != 0 && a.liquidatable(j) {
			return true
		}
	}
	return false
}
