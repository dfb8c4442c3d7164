package book

import (
	"math"
	"slices"
)

// refBook is the naive reference for the differential test: each side is
// one slice of orders in priority order, every operation a linear scan. It
// shares nothing with Book but the value types.
type refBook struct {
	bids, asks []refOrder // best first, FIFO within a price
	last       Ticks
}

type refOrder struct {
	Order
	remaining, filled Lots
}

func (rb *refBook) sideOf(s Side) *[]refOrder {
	if s == Buy {
		return &rb.bids
	}
	return &rb.asks
}

// better reports whether price a has priority over b on side s.
func better(s Side, a, b Ticks) bool {
	if s == Buy {
		return a > b
	}
	return a < b
}

func (rb *refBook) find(id OrderID) (*[]refOrder, int) {
	for _, side := range []*[]refOrder{&rb.bids, &rb.asks} {
		for i := range *side {
			if (*side)[i].ID == id {
				return side, i
			}
		}
	}
	return nil, -1
}

func (rb *refBook) levelTotal(s Side, p Ticks) Lots {
	var t Lots
	for _, o := range *rb.sideOf(s) {
		if o.Price == p {
			t += o.remaining
		}
	}
	return t
}

func (rb *refBook) clone() *refBook {
	return &refBook{bids: slices.Clone(rb.bids), asks: slices.Clone(rb.asks), last: rb.last}
}

func resetResult(r *Result) {
	*r = Result{Fills: r.Fills[:0], Depth: r.Depth[:0], Canceled: r.Canceled[:0]}
}

func (rb *refBook) place(o Order, r *Result) {
	resetResult(r)
	bad := o.ID == 0 || (o.Side != Buy && o.Side != Sell) || (o.Type != Limit && o.Type != Market) ||
		(o.TIF != GTC && o.TIF != IOC && o.TIF != FOK) ||
		o.STP > STPNone ||
		(o.PostOnly && !(o.Type == Limit && o.TIF == GTC)) || (o.Type == Market && o.Price == 0)
	code := OK
	switch {
	case bad:
		code = RejectBadRequest
	case o.Price <= 0:
		code = RejectInvalidPrice
	case o.Qty <= 0:
		code = RejectInvalidQty
	default:
		if side, _ := rb.find(o.ID); side != nil {
			code = RejectDuplicateOrderID
		} else {
			code = rb.admit(o, o.Qty, 0)
		}
	}
	if code != OK {
		r.Code, r.Status = code, StatusRejected
		return
	}
	rb.exec(o, o.Qty, 0, r)
}

func (rb *refBook) admit(o Order, qty, self Lots) RejectCode {
	opp := *rb.sideOf(o.Side.Opposite())
	if o.PostOnly && len(opp) > 0 && !better(o.Side.Opposite(), o.Price, opp[0].Price) {
		return RejectPostOnlyWouldTake
	}
	if o.TIF == FOK {
		// Dry run on a copy: FOK fills exactly when matching would.
		var scratch Result
		if left, killed := rb.clone().match(o, qty, &scratch); left > 0 || killed {
			return RejectFOKNotFilled
		}
	}
	if o.Type == Limit && o.TIF == GTC {
		if t := rb.levelTotal(o.Side, o.Price) - self; t > 0 && qty > math.MaxInt64-t {
			return RejectInvalidQty
		}
	}
	return OK
}

func (rb *refBook) exec(o Order, qty, filled Lots, r *Result) {
	left, killed := rb.match(o, qty, r)
	r.Filled = qty - left
	filled += r.Filled
	switch {
	case left == 0:
		r.Status = StatusFilled
	case killed:
		r.Status, r.STPKilled = StatusCanceled, true
	case o.Type == Limit && o.TIF == GTC:
		rb.insert(refOrder{Order: o, remaining: left, filled: filled})
		r.Remaining = left
		r.Status = StatusNew
		if filled > 0 {
			r.Status = StatusPartiallyFilled
		}
	case filled > 0:
		r.Status = StatusCanceled
	default:
		r.Status = StatusExpired
	}
}

func (rb *refBook) match(o Order, qty Lots, r *Result) (Lots, bool) {
	opp := rb.sideOf(o.Side.Opposite())
	for qty > 0 && len(*opp) > 0 {
		m := &(*opp)[0]
		if better(o.Side.Opposite(), o.Price, m.Price) { // the maker is worse than the limit
			break
		}
		if m.Account == o.Account && o.STP != STPNone {
			if o.STP != STPCancelTaker {
				r.Canceled = append(r.Canceled, canceledOf(m))
				*opp = (*opp)[1:]
			}
			if o.STP != STPCancelMaker {
				return qty, true
			}
			continue
		}
		q := min(qty, m.remaining)
		qty -= q
		m.remaining -= q
		m.filled += q
		rb.last = m.Price
		r.Fills = append(r.Fills, Fill{MakerID: m.ID, TakerID: o.ID, MakerAccount: m.Account, TakerAccount: o.Account,
			Price: m.Price, Qty: q, TakerSide: o.Side, MakerRemaining: m.remaining})
		if m.remaining == 0 {
			*opp = (*opp)[1:]
		}
	}
	return qty, false
}

func canceledOf(o *refOrder) CanceledOrder {
	return CanceledOrder{ID: o.ID, Account: o.Account, ClientID: o.ClientID, Side: o.Side, Price: o.Price,
		Remaining: o.remaining, Filled: o.filled}
}

// insert puts o behind every order of equal or better price.
func (rb *refBook) insert(o refOrder) {
	side := rb.sideOf(o.Side)
	i := 0
	for i < len(*side) && !better(o.Side, o.Price, (*side)[i].Price) {
		i++
	}
	*side = slices.Insert(*side, i, o)
}

func (rb *refBook) cancel(id OrderID, r *Result) {
	resetResult(r)
	side, i := rb.find(id)
	if side == nil {
		r.Code, r.Status = RejectUnknownOrder, StatusRejected
		return
	}
	r.Canceled = append(r.Canceled, canceledOf(&(*side)[i]))
	*side = slices.Delete(*side, i, i+1)
	r.Status = StatusCanceled
}

func (rb *refBook) amend(id OrderID, price Ticks, qty Lots, r *Result) {
	resetResult(r)
	side, i := rb.find(id)
	code := OK
	switch {
	case side == nil:
		code = RejectUnknownOrder
	case price <= 0:
		code = RejectInvalidPrice
	case qty <= 0 || qty > math.MaxInt64-(*side)[i].filled:
		code = RejectInvalidQty
	}
	if code != OK {
		r.Code, r.Status = code, StatusRejected
		return
	}
	cur := (*side)[i]
	if price == cur.Price && qty <= cur.remaining {
		(*side)[i].remaining = qty
		(*side)[i].Qty = cur.filled + qty
		r.Remaining, r.Status = qty, StatusNew
		if cur.filled > 0 {
			r.Status = StatusPartiallyFilled
		}
		return
	}
	o := cur.Order
	o.Price = price
	var self Lots
	if price == cur.Price {
		self = cur.remaining
	}
	if c := rb.admit(o, qty, self); c != OK {
		r.Code, r.Status = c, StatusRejected
		return
	}
	*side = slices.Delete(*side, i, i+1)
	o.Qty = cur.filled + qty
	rb.exec(o, qty, cur.filled, r)
	if r.Status == StatusCanceled {
		r.Canceled = append(r.Canceled, CanceledOrder{ID: o.ID, Account: o.Account, ClientID: o.ClientID,
			Side: o.Side, Price: o.Price, Remaining: qty - r.Filled, Filled: cur.filled + r.Filled})
	}
}

func (rb *refBook) cancelAll(acct AccountID, r *Result) {
	resetResult(r)
	for _, side := range []*[]refOrder{&rb.bids, &rb.asks} {
		*side = slices.DeleteFunc(*side, func(o refOrder) bool {
			if o.Account == acct {
				r.Canceled = append(r.Canceled, canceledOf(&o))
				return true
			}
			return false
		})
	}
}

// depth aggregates one side into levels, best first.
func (rb *refBook) depth(s Side) []Level {
	var out []Level
	for _, o := range *rb.sideOf(s) {
		if n := len(out); n > 0 && out[n-1].Price == o.Price {
			out[n-1].Qty += o.remaining
			out[n-1].Orders++
			continue
		}
		out = append(out, Level{Price: o.Price, Qty: o.remaining, Orders: 1})
	}
	return out
}

func (rb *refBook) len() int { return len(rb.bids) + len(rb.asks) }
