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

// ApplyClosedCharge debits charge (> 0), a socialized-loss share charged
// against profit the account took out of sym's position (closing or
// reducing it) after that profit was set aside for a liquidation
// (adl.Charge.Closed): the profit is cash now, so the charge is taken from
// cash, booked as realized PnL of sym's position record when there is one.
// It takes only what the account can spare: at most its cash and its
// Available (what a withdrawal could take), so the account still carries
// its positions and orders at initial margin: never liquidatable by it.
// The caller credits exactly what was taken (−Realized) to the bankrupt
// liquidation, as with ApplySocializedCharge. BadRequest for charge ≤ 0,
// AccountInLiquidation while the account is liquidated, and
// ChargeExceedsProfit when nothing can be spared.
func (a *Account) ApplyClosedCharge(sym *market.Symbol, charge market.Money) (FillResult, Code) {
	switch {
	case charge <= 0:
		return FillResult{}, BadRequest
	case a.inLiq:
		return FillResult{}, AccountInLiquidation
	}
	take := min(charge, a.cash, a.Available())
	if take <= 0 {
		return FillResult{}, ChargeExceedsProfit
	}
	a.cash -= take
	var qty book.Lots
	i := a.find(sym)
	if i >= 0 {
		a.pos[i].realized -= take
		qty = a.pos[i].qty
	}
	a.afterChange(i)
	return FillResult{Realized: -take, Position: qty}, OK
}

// RefundSocializedCharge credits amount (> 0) of a socialized-loss charge
// back to cash: the part of a winner's escrow (ApplySocializedCharge or
// ApplyClosedCharge paid at the liquidation's quote) its settlement did
// not need, or all of it when the liquidation was abandoned. It is booked
// as realized PnL of sym's position record when there is one. Cash, not an
// isolated margin: the charge may have come from either, and cash backs
// whatever the account holds now (the isolated position may be gone). A
// credit never makes an account liquidatable, and is taken in liquidation
// too, as a deposit is. BadRequest for amount ≤ 0 or beyond MaxBalance.
func (a *Account) RefundSocializedCharge(sym *market.Symbol, amount market.Money) (FillResult, Code) {
	if amount <= 0 || amount > MaxBalance-a.cash {
		return FillResult{}, BadRequest
	}
	a.cash += amount
	var qty book.Lots
	i := a.find(sym)
	if i >= 0 {
		a.pos[i].realized += amount
		qty = a.pos[i].qty
	}
	a.afterChange(i)
	return FillResult{Realized: amount, Position: qty}, OK
}
