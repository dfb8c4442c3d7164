package book

import "math"

// Place submits an order: it matches against the opposite side at the
// makers' prices, then a GTC limit remainder rests and any other remainder
// is dropped. A rejected order changes nothing.
func (b *Book) Place(o Order, r *Result) {
	r.reset()
	if c := b.validateOrder(&o); c != OK {
		r.reject(c)
		return
	}
	b.exec(&o, o.Qty, 0, r)
}

// Cancel removes a resting order; it is reported in r.Canceled.
func (b *Book) Cancel(id OrderID, r *Result) {
	r.reset()
	ni, ok := b.lookup(id)
	if !ok {
		r.reject(RejectUnknownOrder)
		return
	}
	h, li := b.half(b.nodes[ni].Side), b.nodes[ni].level
	b.cancelNode(ni, r)
	b.settleLevel(h, li, r)
	r.Status = StatusCanceled
}

// Amend changes a resting order's price and open quantity (qty is the new
// open quantity, not the total). Lowering the quantity at the same price
// keeps its queue position; a new price or a larger quantity re-queues it
// as if cancelled and placed again with the same id and flags, so it may
// trade (a post-only order that would trade is rejected and left as it
// was). An order killed by self-trade prevention while re-placed is
// StatusCanceled and listed in r.Canceled.
func (b *Book) Amend(id OrderID, price Ticks, qty Lots, r *Result) {
	r.reset()
	ni, ok := b.lookup(id)
	switch {
	case !ok:
		r.reject(RejectUnknownOrder)
		return
	case price <= 0:
		r.reject(RejectInvalidPrice)
		return
	case qty <= 0 || qty > math.MaxInt64-b.nodes[ni].filled:
		r.reject(RejectInvalidQty)
		return
	}
	n := &b.nodes[ni]
	filled := n.filled
	if price == n.Price && qty <= n.remaining {
		if d := n.remaining - qty; d > 0 {
			l := &b.levels[n.level]
			n.remaining, n.Qty, l.total = qty, n.Qty-d, l.total-d
			r.depth(n.Side, l.price, l.total)
		}
		r.Remaining, r.Status = qty, restingStatus(filled)
		return
	}
	o := n.Order
	o.Price = price
	var self Lots // the order's own quantity already counted at the target level
	if price == n.Price {
		self = n.remaining
	}
	if c := b.admit(&o, qty, self); c != OK {
		r.reject(c)
		return
	}
	h, li := b.half(o.Side), n.level
	b.unlink(ni)
	b.settleLevel(h, li, r)
	o.Qty = filled + qty
	b.exec(&o, qty, filled, r)
	if r.Status == StatusCanceled {
		r.Canceled = append(r.Canceled, CanceledOrder{ID: o.ID, Account: o.Account, ClientID: o.ClientID,
			Side: o.Side, Price: o.Price, Remaining: qty - r.Filled, Filled: filled + r.Filled})
	}
}

// CancelAll removes every resting order of acct, bids then asks, best level
// first, in queue order. It walks the whole book: it is meant for rare
// events (liquidation, disconnect), not the hot path.
func (b *Book) CancelAll(acct AccountID, r *Result) {
	r.reset()
	for _, h := range [2]*half{&b.bids, &b.asks} {
		b.scratch = b.scratch[:0]
		h.bestFirst(func(k levelKey) bool {
			b.scratch = append(b.scratch, k.lvl)
			return true
		})
		for _, li := range b.scratch {
			changed := false
			for ni := b.levels[li].head; ni != nilIdx; {
				next := b.nodes[ni].next
				if b.nodes[ni].Account == acct {
					b.cancelNode(ni, r)
					changed = true
				}
				ni = next
			}
			if changed {
				b.settleLevel(h, li, r)
			}
		}
	}
}

func (b *Book) lookup(id OrderID) (int32, bool) {
	if id == 0 { // 0 marks empty index slots
		return nilIdx, false
	}
	return b.ids.Get(uint64(id))
}

// validateOrder validates a new order against its own fields and the book.
func (b *Book) validateOrder(o *Order) RejectCode {
	switch {
	case o.ID == 0, o.Side != Buy && o.Side != Sell, o.Type > Market, o.TIF > FOK, o.STP > STPNone,
		o.PostOnly && (o.Type != Limit || o.TIF != GTC),
		o.Type == Market && o.Price == 0:
		return RejectBadRequest
	case o.Price <= 0:
		return RejectInvalidPrice
	case o.Qty <= 0:
		return RejectInvalidQty
	}
	if _, dup := b.ids.Get(uint64(o.ID)); dup {
		return RejectDuplicateOrderID
	}
	return b.admit(o, o.Qty, 0)
}

// admit applies the checks that depend on the book before o trades qty:
// post-only, fill-or-kill, and room at the level a GTC remainder would join
// (self is o's own quantity already counted there).
func (b *Book) admit(o *Order, qty, self Lots) RejectCode {
	switch {
	case o.PostOnly && b.crosses(o):
		return RejectPostOnlyWouldTake
	case o.TIF == FOK && !b.fillable(o, qty):
		return RejectFOKNotFilled
	case rests(o) && b.levelTotal(o.Side, o.Price)-self > math.MaxInt64-qty:
		return RejectInvalidQty
	}
	return OK
}

func rests(o *Order) bool { return o.Type == Limit && o.TIF == GTC }

func restingStatus(filled Lots) Status {
	if filled > 0 {
		return StatusPartiallyFilled
	}
	return StatusNew
}

// exec matches o for qty, then rests or drops the remainder and sets the
// result's status. filled is what o had filled before (amend).
func (b *Book) exec(o *Order, qty, filled Lots, r *Result) {
	left, killed := b.match(o, qty, r)
	r.Filled = qty - left
	filled += r.Filled
	switch {
	case left == 0:
		r.Status = StatusFilled
	case killed:
		r.Status, r.STPKilled = StatusCanceled, true
	case rests(o):
		b.rest(o, left, filled, r)
		r.Remaining, r.Status = left, restingStatus(filled)
	case filled > 0:
		r.Status = StatusCanceled
	default:
		r.Status = StatusExpired
	}
}

// crosses reports whether o would trade with the opposite best level.
func (b *Book) crosses(o *Order) bool {
	opp := b.half(o.Side.Opposite())
	return opp.best != nilIdx && opp.keyOf(b.levels[opp.best].price) <= opp.keyOf(o.Price)
}

// match trades taker o for qty against the opposite side, best level first
// and FIFO within a level, applying o's self-trade prevention. It returns
// the quantity left and whether self-trade prevention killed the taker.
// With STPNone the taker fills against its own orders like any other.
func (b *Book) match(o *Order, qty Lots, r *Result) (left Lots, killed bool) {
	opp := b.half(o.Side.Opposite())
	limit := opp.keyOf(o.Price)
	for qty > 0 && opp.best != nilIdx {
		li := opp.best
		l := &b.levels[li] // stays valid: matching allocates no level
		if opp.keyOf(l.price) > limit {
			break
		}
		changed := false
		for ni := l.head; ni != nilIdx && qty > 0; {
			m := &b.nodes[ni]
			next := m.next
			if m.Account == o.Account && o.STP != STPNone {
				if o.STP != STPCancelTaker {
					b.cancelNode(ni, r)
					changed = true
				}
				if o.STP != STPCancelMaker {
					killed = true
					break
				}
				ni = next
				continue
			}
			q := min(qty, m.remaining)
			qty -= q
			m.remaining -= q
			m.filled += q
			l.total -= q
			r.Fills = append(r.Fills, Fill{MakerID: m.ID, TakerID: o.ID, MakerAccount: m.Account,
				TakerAccount: o.Account, Price: l.price, Qty: q, TakerSide: o.Side, MakerRemaining: m.remaining})
			b.last = l.price
			if m.remaining == 0 {
				b.unlink(ni)
			}
			changed = true
			ni = next
		}
		if changed {
			b.settleLevel(opp, li, r)
		}
		if killed {
			break
		}
	}
	return qty, killed
}

// fillable reports whether taker o could fill qty right now, counting what
// self-trade prevention would let it reach.
func (b *Book) fillable(o *Order, qty Lots) bool {
	opp := b.half(o.Side.Opposite())
	limit := opp.keyOf(o.Price)
	opp.bestFirst(func(k levelKey) bool {
		if k.key > limit {
			return false
		}
		for ni := b.levels[k.lvl].head; ni != nilIdx; ni = b.nodes[ni].next {
			m := &b.nodes[ni]
			if m.Account == o.Account && o.STP != STPNone {
				if o.STP == STPCancelMaker {
					continue
				}
				return false
			}
			if qty -= m.remaining; qty <= 0 {
				return false
			}
		}
		return true
	})
	return qty <= 0
}
