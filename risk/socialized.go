package risk

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// ApplySocializedCharge debits charge (> 0), a profitable position's share
// of a bankrupt position's deficit on a socialized-loss symbol
// (market.ADLSocialized, adl.Ranking.Socialize), from sym's position: it is
// booked as realized PnL (−charge) to cash (cross) or to the isolated
// margin, and the position itself is unchanged. mark is the mark the charge
// was computed at (the liquidation's quote, possibly older than the
// account's: it is not stored), and the charge may not exceed the
// position's unrealized PnL there: the winner pays from the profit it held
// when the loss was quoted. Since the mark may have moved against it, it
// pays only what leaves its equity above its maintenance margin at the
// stored marks (the position's, isolated; the cross account's): a charge
// never makes a winner liquidatable. The caller credits exactly what was
// taken (−Realized) to the bankrupt liquidation's deficit (instead of the
// fund), which keeps conservation exact. Bad input changes nothing:
// NoPosition without a position, BadRequest for charge ≤ 0, InvalidPrice
// for a mark outside [1, MaxPrice], ChargeExceedsProfit when charge > uPnL
// at mark or nothing is above the maintenance margin. The result has
// Realized = −taken (0 < taken ≤ charge), Position, and Liquidate (at the
// stored marks; false while the account is in liquidation).
func (a *Account) ApplySocializedCharge(sym *market.Symbol, charge market.Money, mark book.Ticks) (FillResult, Code) {
	i := a.find(sym)
	switch {
	case i < 0 || a.pos[i].qty == 0:
		return FillResult{}, NoPosition
	case charge <= 0:
		return FillResult{}, BadRequest
	case mark < 1 || mark > sym.MaxPrice:
		return FillResult{}, InvalidPrice
	}
	p := &a.pos[i]
	if charge > sym.PnL(p.qty, p.cost, mark) {
		return FillResult{}, ChargeExceedsProfit
	}
	if charge = min(charge, a.headroom(i)-1); charge <= 0 { // never liquidatable by it
		return FillResult{}, ChargeExceedsProfit
	}
	p.realized -= charge
	if p.mode == Isolated {
		p.margin -= charge
	} else {
		a.cash -= charge
	}
	a.afterChange(i)
	return FillResult{
		Realized:  -charge,
		Position:  p.qty,
		Liquidate: !a.inLiq && a.liquidatable(i),
	}, OK
}
