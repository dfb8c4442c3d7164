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
	return a.bookCash(sym, -take), OK
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
	return a.bookCash(sym, amount), OK
}

// bookCash moves cash by amount (+ in, − out), booked as realized PnL of
// sym's position record when there is one.
func (a *Account) bookCash(sym *market.Symbol, amount market.Money) FillResult {
	a.cash += amount
	var qty book.Lots
	i := a.find(sym)
	if i >= 0 {
		a.pos[i].realized += amount
		qty = a.pos[i].qty
	}
	a.afterChange(i)
	return FillResult{Realized: amount, Position: qty}
}

// AdjustADLClose books a price adjustment of ADL closes this account made
// in sym as a ranked counterparty: amount (+ received, − paid) is what
// closing them at the bankrupt leg's moved bankruptcy price instead of the
// one they were sent with changes (a funding payment of the leg that
// arrived while its ADL round was out: liq.AdjustClose). It moves the
// cash, booked as realized PnL of sym's position record when there is
// one. A payment is bounded as a close at the moved price would have been
// (CloseForADL's affordsClose: what backs it stays at zero or above): it
// takes at most the cross equity at the stored marks (the cash, once the
// closes took the position's margin there), and may leave the account
// liquidatable (Liquidate, at the stored marks; false while in
// liquidation), as such a close could. The result's Realized is what
// moved: amount, or −(what could be paid), 0 < |Realized| ≤ |amount|.
// BadRequest for amount 0 or a credit beyond MaxBalance;
// ChargeExceedsProfit when nothing can be paid.
func (a *Account) AdjustADLClose(sym *market.Symbol, amount market.Money) (FillResult, Code) {
	if amount >= 0 {
		return a.RefundSocializedCharge(sym, amount)
	}
	eq, _ := a.crossEquityMM()
	take := min(-amount, eq)
	if take <= 0 {
		return FillResult{}, ChargeExceedsProfit
	}
	res := a.bookCash(sym, -take)
	for j := range a.pos {
		if p := &a.pos[j]; p.qty != 0 && p.mode == Cross {
			res.Liquidate = !a.inLiq && a.liquidatable(j)
			break
		}
	}
	return res, OK
}
