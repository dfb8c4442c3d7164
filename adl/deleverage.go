package adl

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Request asks to deleverage a bankrupt position's remainder.
type Request struct {
	Account book.AccountID // the bankrupt account
	Side    book.Side      // the bankrupt position's side (Long meets shorts)
	Qty     book.Lots      // quantity to cover
	Price   book.Ticks     // the bankrupt position's bankruptcy price
}

// Close is one forced close the risk layer settles and notifies.
type Close struct {
	Account   book.AccountID
	Side      book.Side // side of the closed position
	Qty       book.Lots
	Price     book.Ticks
	Realized  market.Money // PnL realized at Price against the cost removed
	Remaining book.Lots    // what the account keeps
	Rank      int          // 1 = first in the queue
}

// Outcome of a Deleverage.
type Outcome struct {
	Closes []Close
	// Covered + Uncovered = Request.Qty; Uncovered > 0 only when the
	// opposite side held less than Qty.
	Covered, Uncovered book.Lots
	// BankruptRealized is the bankrupt position's PnL on Covered at Price
	// (its equity there is zero by definition of the bankruptcy price).
	BankruptRealized market.Money
}

// Deleverage closes the request's quantity against opposite positions in
// rank order (every opposite position is a candidate; profitable ones rank
// first because their scores are positive and losing ones' are not), fully
// or partly, at the bankruptcy price, and reduces the bankrupt position by
// the same quantity, so open interest stays balanced. Closed positions keep
// what is left (cost and margin scaled down) until the risk layer sends its
// own Update. The closes are appended to dst. Nothing changes on error.
func (rk *Ranking) Deleverage(req Request, dst []Close) (Outcome, error) {
	switch {
	case !validSide(req.Side):
		return Outcome{}, ErrInvalidSide
	case req.Qty <= 0:
		return Outcome{}, ErrInvalidQty
	case req.Price <= 0:
		return Outcome{}, ErrInvalidPrice
	case rk.mark == 0:
		return Outcome{}, ErrNoMark
	}
	bidx, ok := rk.index.get(req.Account)
	if !ok || rk.pos[bidx].side != req.Side {
		return Outcome{}, ErrNoPosition
	}
	if rk.pos[bidx].qty < req.Qty {
		return Outcome{}, ErrQtyExceedsPosition
	}

	// Plan without touching state: the merge reads the trees.
	start := len(dst)
	need := req.Qty
	rk.m.begin(req.Side.Opposite())
	for need > 0 {
		it, _, ok := rk.m.next()
		if !ok {
			break
		}
		p := &rk.pos[it.idx]
		take := min(p.qty, need)
		realized, ok := rk.closeValue(it.idx, take, req.Price)
		if !ok {
			return Outcome{}, ErrOverflow
		}
		dst = append(dst, Close{Account: p.acct, Side: p.side, Qty: take, Price: req.Price,
			Realized: realized, Remaining: p.qty - take, Rank: len(dst) - start + 1})
		need -= take
	}
	out := Outcome{Closes: dst, Covered: req.Qty - need, Uncovered: need}
	if out.Covered > 0 {
		if out.BankruptRealized, ok = rk.closeValue(bidx, out.Covered, req.Price); !ok {
			return Outcome{}, ErrOverflow
		}
	}

	// Apply.
	for _, c := range dst[start:] {
		idx, _ := rk.index.get(c.Account)
		rk.reduce(idx, c.Qty)
	}
	if out.Covered > 0 {
		rk.reduce(bidx, out.Covered)
	}
	return out, nil
}

// kept is the part of v (a cost or margin) that stays with a position
// reduced from qty to left lots; at least 1 so the record stays valid.
func kept(v market.Money, left, qty book.Lots) market.Money {
	return max(1, scaleDown(v, left, qty))
}

// closeValue is the PnL realized by closing c lots of record idx at price:
// the close's value against the part of the entry cost it removes.
func (rk *Ranking) closeValue(idx int32, c book.Lots, price book.Ticks) (market.Money, bool) {
	p := &rk.pos[idx]
	removed := p.cost
	if c < p.qty {
		removed -= kept(p.cost, p.qty-c, p.qty)
	}
	return pnl(p.side == Long, c, removed, price, rk.cfg.Multiplier)
}

// reduce takes c lots off record idx (c ≤ qty), removing it when flat.
func (rk *Ranking) reduce(idx int32, c book.Lots) {
	rk.unlink(idx)
	p := &rk.pos[idx]
	if c == p.qty {
		rk.release(idx)
		return
	}
	left := p.qty - c
	p.cost, p.margin, p.qty = kept(p.cost, left, p.qty), kept(p.margin, left, p.qty), left
	rk.link(idx)
}
