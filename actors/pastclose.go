package actors

import (
	"cmp"
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
)

// Resting closes the bankruptcy price moved past. Placement refuses a limit
// order that closes a position past its close bound (risk.BeyondBankruptcy),
// and withdrawals and margin removals may not move the bound past one
// (closingPast); what else moves it — the account's own fills in any symbol,
// a funding payment, a socialized charge or a forced close, margin added to
// an isolated position, another cross position's mark — cancels the orders
// it left past (API.md, the bankruptcy bound). Filled, they would lose more
// than what backs the position and the fund would pay for it. The book may
// still fill one before the cancel reaches it (DESIGN.md).

// cancelPastCloses cancels wallet asset's resting closing orders that are
// now past their position's close bound (risk.Account.PastCloseBound, the
// test placement applies), each like an ordinary cancel: the book is told,
// its answer releases the reservation and the order's event says
// canceled_by_bankruptcy. Only a side's most extreme close (a long's lowest
// sell) can be the first past, so each side is checked from there inward
// up to the first order within; an account without closing orders pays one
// look at its positions.
func (a *accountActor) cancelPastCloses(ctx actor.Context, asset int) {
	acct := a.wallets[asset].acct
	if a.partial != nil || a.orders.Len() == 0 || !acct.HoldsCloses() {
		return // a partial liquidation cancels every order itself
	}
	// extreme is the price of o the book may fill it at that is furthest
	// against its position (an amend on its way: either).
	extreme := func(o *order) book.Ticks {
		if o.amending == 0 {
			return o.price
		}
		if o.side == book.Sell {
			return min(o.price, o.pendPrice)
		}
		return max(o.price, o.pendPrice)
	}
	cs := a.closes[:0]
	for _, o := range a.orders.Values() {
		if o.h.asset != asset || o.typ != book.Limit || o.tif != book.GTC || o.pastBound || o.cond != nil && !o.cond.fired {
			continue // not resting: an IOC, FOK or market order ends as it reaches the book
		}
		if pos, _ := acct.Position(o.h.sym); pos.Qty != 0 && (pos.Qty > 0) != (o.side == book.Buy) {
			cs = append(cs, o)
		}
	}
	// By symbol, then extreme first (lowest sell, highest buy), then id: a
	// replay sends the same cancels.
	slices.SortFunc(cs, func(x, y *order) int {
		c := cmp.Compare(extreme(x), extreme(y))
		if x.side == book.Buy {
			c = -c
		}
		return cmp.Or(cmp.Compare(x.h.idx, y.h.idx), c, cmp.Compare(x.id, y.id))
	})
	for rest := cs; len(rest) > 0; {
		h, n := rest[0].h, 1
		for n < len(rest) && rest[n].h == h {
			n++
		}
		var ids []book.OrderID
		for _, o := range rest[:n] {
			if !acct.PastCloseBound(h.sym, extreme(o)) {
				break // and so is every order nearer the mark
			}
			o.pastBound = true
			ids = append(ids, o.id)
		}
		if len(ids) > 0 {
			ctx.Send(h.pid, &cancelIDsMsg{ids: ids, from: ctx.Self()})
		}
		rest = rest[n:]
	}
	clear(cs) // keeps no finished order alive
	a.closes = cs[:0]
}
