package actors

import (
	"cmp"
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/risk"
)

// Resting closes the bankruptcy price moved past. Placement refuses a limit
// order that closes a position past its close bound (risk.BeyondBankruptcy,
// also with the cash the resting isolated opens may take), and withdrawals,
// margin moves and isolated opens may not move the bound past one
// (closingPast); what else moves it — the account's own fills in any symbol,
// a funding payment, a socialized charge or a forced close, another cross
// position's mark — cancels the orders it left past by placement's test
// (API.md, the bankruptcy bound). Filled, they would lose more than what
// backs the position and the fund would pay for it. The book may still
// fill one before the cancel reaches it (DESIGN.md).

// cancelPastCloses cancels wallet asset's resting closing orders that are
// now past their position's close bound, judged as placement judges them:
// with what the resting isolated opens reserve out of the cash, since they
// may fill first (risk.Account.AsIsolatedOpensFill, PastCloseBound). Each
// is canceled like an ordinary cancel: the book is told, its answer
// releases the reservation, and the orders that answer cancels (not those
// another cancel reached first) show canceled_by_bankruptcy. Only a side's
// most extreme close (a long's lowest sell) can be the first past, so each
// side is checked from there inward up to the first order within; an
// account without closing orders pays one look at its positions, one with
// resting isolated opens two recomputations of its prices a pass.
func (a *accountActor) cancelPastCloses(ctx actor.Context, asset int) {
	acct := a.wallets[asset].acct
	if a.partial != nil || a.orders.Len() == 0 || !acct.HoldsCloses() || !a.anyPastClose(acct, asset) {
		return // a partial liquidation cancels every order itself
	}
	cs := a.closes[:0]
	for _, o := range a.orders.Values() {
		if a.restingClose(acct, asset, o) {
			cs = append(cs, o)
		}
	}
	// By symbol, then extreme first (lowest sell, highest buy), then id: a
	// replay sends the same cancels.
	slices.SortFunc(cs, func(x, y *order) int {
		c := cmp.Compare(x.extreme(), y.extreme())
		if x.side == book.Buy {
			c = -c
		}
		return cmp.Or(cmp.Compare(x.h.idx, y.h.idx), c, cmp.Compare(x.id, y.id))
	})
	acct.AsIsolatedOpensFill(func() bool {
		for i, o := range cs {
			// From a symbol's first order on, up to the first within: every
			// order nearer the mark is within too.
			first := i == 0 || cs[i-1].h != o.h
			if (first || cs[i-1].pastBound) && acct.PastCloseBound(o.h.sym, o.extreme()) {
				o.pastBound = true
			}
		}
		return true
	})
	for rest := cs; len(rest) > 0; {
		h, n := rest[0].h, 0
		var ids []book.OrderID
		for ; n < len(rest) && rest[n].h == h; n++ {
			if rest[n].pastBound {
				ids = append(ids, rest[n].id)
			}
		}
		if len(ids) > 0 {
			ctx.Send(h.pid, &cancelIDsMsg{ids: ids, from: ctx.Self(), bankrupt: true})
		}
		rest = rest[n:]
	}
	clear(cs) // keeps no finished order alive
	a.closes = cs[:0]
}

// anyPastClose says whether some symbol's most extreme resting close is
// past its bound (cancelPastCloses' test): one pass over the orders, one
// test a symbol, nothing sorted or allocated (this runs on every fill of
// an account that holds closes; almost always, none is past).
func (a *accountActor) anyPastClose(acct *risk.Account, asset int) bool {
	if a.worst == nil {
		a.worst = make([]book.Ticks, len(a.x.symbols))
	}
	for _, o := range a.orders.Values() {
		if !a.restingClose(acct, asset, o) {
			continue
		}
		// A symbol's closes are all on one side: a long's sells, lowest
		// first; a short's buys, highest first. Prices are ≥ 1 tick.
		x, w := o.extreme(), &a.worst[o.h.idx]
		if *w == 0 || (o.side == book.Sell) == (x < *w) {
			*w = x
		}
	}
	past := false
	acct.AsIsolatedOpensFill(func() bool {
		for i, w := range a.worst {
			if w != 0 {
				past = past || acct.PastCloseBound(a.x.symbols[i].sym, w)
				a.worst[i] = 0
			}
		}
		return true
	})
	return past
}

// restingClose says whether o rests in asset's wallet and closes its
// position: an IOC, FOK or market order ends as it reaches the book, a
// conditional one rests only once fired, and one already past has its
// cancel on the way.
func (a *accountActor) restingClose(acct *risk.Account, asset int, o *order) bool {
	if o.h.asset != asset || o.typ != book.Limit || o.tif != book.GTC || o.pastBound || o.cond != nil && !o.cond.fired {
		return false
	}
	return o.closes(acct)
}

// closes says whether o is on the side that closes its position in acct.
func (o *order) closes(acct *risk.Account) bool {
	q := acct.Qty(o.h.sym)
	return q != 0 && (q > 0) != (o.side == book.Buy)
}

// extreme is the price the book may fill o at that is furthest against its
// position (an amend on its way: either); the close-bound test is monotone
// in the price, so o is past its bound at either iff at this one.
func (o *order) extreme() book.Ticks {
	if o.amending == 0 {
		return o.price
	}
	if o.side == book.Sell {
		return min(o.price, o.pendPrice)
	}
	return max(o.price, o.pendPrice)
}
