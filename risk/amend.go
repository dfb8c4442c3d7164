package risk

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Amend replaces open order id's reservation by one for qty lots (its new
// open quantity) at the limit price, atomically: the old reservation is
// released, the new one is checked as PreTrade checks a new limit order of
// the same side and reduce-only flag at mark (band, min notional, reduce
// only, position limits, leverage tier, margin against what the release
// freed), and on any refusal the old one is back exactly, its code
// returned. The order keeps its id and its place under MaxOpenOrders.
// UnknownOrder: id is not an open order of this account in sym.
func (a *Account) Amend(sym *market.Symbol, id book.OrderID, price book.Ticks, qty book.Lots, mark book.Ticks) Code {
	return a.AmendChecked(sym, id, price, qty, mark, nil)
}

// AmendChecked is Amend that asks keep as PreTradeChecked does when the
// amend raises what the isolated positions' opening orders reserve.
func (a *Account) AmendChecked(sym *market.Symbol, id book.OrderID, price book.Ticks, qty book.Lots, mark book.Ticks, keep func() bool) Code {
	if a.inLiq {
		return AccountInLiquidation
	}
	j := a.orders.Find(id)
	if j < 0 || a.pos[a.orders.At(j).slot].sym != sym {
		return UnknownOrder
	}
	old, iso := *a.orders.At(j), a.isoOrderMargin
	a.dropOrder(j)
	code, _ := a.preTrade(sym, Order{ID: id, Side: old.side, Type: Limit, Price: price, Qty: qty, ReduceOnly: old.reduceOnly}, mark, keep, iso)
	if code != OK {
		a.putOrder(old)
	}
	return code
}

// Restate sets open order id's reservation to qty lots (its open quantity;
// 0 forgets the order) at the limit price, unchecked: it is how the caller
// makes the record agree with what the book says the order is (after an
// amend, or before a fill the book made while an amend was on its way).
// Like a fill, it may leave Available below zero for a while. The margin
// price is PreTrade's (marginPrice). It reports whether id was an open
// order.
func (a *Account) Restate(id book.OrderID, price book.Ticks, qty book.Lots, mark book.Ticks) bool {
	j := a.orders.Find(id)
	if j < 0 {
		return false
	}
	o := *a.orders.At(j)
	a.dropOrder(j)
	if qty > 0 {
		o.price, o.loss = a.pos[o.slot].terms(o.side, price, qty, mark)
		o.qty = qty
		a.putOrder(o)
	}
	return true
}

// Hold widens open order id's reservation to cover it also for qty lots
// at the limit price, unchecked: while an amend is on its way the book
// may still fill the order as it was, so the amend must not free what
// that fill takes (an isolated buy amended down, 375 of its 750 withdrawn,
// filled as it was: the cash at −375, TestAmendDownRacesFill). The record
// keeps the dearer margin price, the larger quantity and open loss; the
// caller's Restate ends it once the book answered.
func (a *Account) Hold(id book.OrderID, price book.Ticks, qty book.Lots, mark book.Ticks) bool {
	j := a.orders.Find(id)
	if j < 0 || qty <= 0 {
		return j >= 0
	}
	o := *a.orders.At(j)
	a.dropOrder(j)
	p := &a.pos[o.slot]
	mp, loss := p.terms(o.side, price, qty, mark)
	q := max(o.qty, qty)
	if p.sym.Notional(mp, q) > p.sym.Notional(o.price, q) {
		o.price = mp
	}
	o.qty, o.loss = q, max(o.loss, loss)
	a.putOrder(o)
	return true
}

// terms is the margin price and open loss a limit order on side for qty
// lots at price reserves at mark (PreTrade's).
func (p *position) terms(side book.Side, price book.Ticks, qty book.Lots, mark book.Ticks) (book.Ticks, market.Money) {
	lo, hi := p.sym.Band(mark)
	return marginPrice(p.sym, Order{Side: side, Type: Limit, Price: price}, mark, lo, hi), p.openLoss(side, price, qty, mark)
}

// Canceling marks reduce-only order id as being canceled: until the book
// answers it keeps its margin (it may still fill), but no longer takes room
// a later reduce-only order may use, as if gone (a fill that beats the
// cancel shrinks the position, and reduce-only orders beyond it are trimmed
// then: ReduceOnlyExcess). CancelFailed undoes it.
func (a *Account) Canceling(id book.OrderID) { a.setCanceling(id, true) }

// CancelFailed undoes Canceling for an order the book did not cancel.
func (a *Account) CancelFailed(id book.OrderID) { a.setCanceling(id, false) }

func (a *Account) setCanceling(id book.OrderID, on bool) {
	j := a.orders.Find(id)
	if j < 0 {
		return
	}
	o := a.orders.At(j)
	if !o.reduceOnly || o.canceling == on {
		return
	}
	so := &a.pos[o.slot].side[sideIdx(o.side)]
	if on {
		so.roQty -= o.qty
	} else {
		so.roQty += o.qty
	}
	o.canceling = on
}

// OrderQty is open order id's reserved (remaining) quantity.
func (a *Account) OrderQty(id book.OrderID) (book.Lots, bool) {
	j := a.orders.Find(id)
	if j < 0 {
		return 0, false
	}
	return a.orders.At(j).qty, true
}

// dropOrder forgets open order j and releases its reservation.
func (a *Account) dropOrder(j int) {
	slot, _ := a.removeOrderQty(j, a.orders.At(j).qty)
	a.updateOrderMargin(slot)
}

// putOrder records o (qty > 0) and its reservation: dropOrder's inverse.
func (a *Account) putOrder(o openOrder) {
	p := &a.pos[o.slot]
	so := &p.side[sideIdx(o.side)]
	so.qty += o.qty
	so.notional += p.sym.Notional(o.price, o.qty)
	so.loss += o.loss
	if o.reduceOnly && !o.canceling {
		so.roQty += o.qty
	}
	a.orders.Add(o.id, o)
	p.orders++
	a.updateOrderMargin(int(o.slot))
}
