package adl

import (
	"math"
	"slices"

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
	// opposite side held less than Qty that can be closed at Price without
	// losing more than its own collateral (margin + realized ≥ 0).
	Covered, Uncovered book.Lots
	// BankruptRealized is the bankrupt position's PnL on Covered at Price
	// (its equity there is zero by definition of the bankruptcy price).
	BankruptRealized market.Money

	from, to int // Closes in the batch's dst
}

// Deleverage closes the request's quantity against opposite positions in
// rank order (every opposite position is a candidate; profitable ones rank
// first because their scores are positive and losing ones' are not), fully
// or partly, at the bankruptcy price, and reduces the bankrupt position by
// the same quantity, so open interest stays balanced. Closed positions keep
// what is left (cost and margin scaled down) until the risk layer sends its
// own Update. The closes are appended to dst. Nothing changes on error.
func (rk *Ranking) Deleverage(req Request, dst []Close) (Outcome, error) {
	var res [1]BatchResult
	dst, _ = rk.deleverageRun([]Request{req}, res[:], dst)
	if res[0].Err != nil {
		return Outcome{}, res[0].Err
	}
	out := res[0].Outcome
	out.Closes = dst
	return out, nil
}

// BatchResult is one request's part of a DeleverageBatch.
type BatchResult struct {
	Outcome       // Closes is the request's part of the batch's dst
	Err     error // refused as Deleverage would refuse it; nothing changed
}

// DeleverageBatch serves reqs in order with exactly the outcomes of calling
// Deleverage on each in turn — the same closes, ranks and amounts — but a
// run of consecutive requests on one side (distinct accounts) shares one
// merge of the opposite side, so a cascade's requests pay its setup (the
// bucket bounds, the seeks that open streams and keys) once per run rather
// than once per request. A position partly closed by one request goes back
// into the merge at its score after the reduction, as a fresh Deleverage
// would rank it; nothing is applied to the trees until the run is planned.
// res[i] (appended to res) is reqs[i]'s outcome; closes are appended to dst.
func (rk *Ranking) DeleverageBatch(reqs []Request, res []BatchResult, dst []Close) ([]BatchResult, []Close) {
	base := len(res)
	res = slices.Grow(res, len(reqs))[:base+len(reqs)]
	clear(res[base:])
	for i := 0; i < len(reqs); {
		n := 1
		for n < len(reqs)-i && reqs[i+n].Side == reqs[i].Side && !hasAccount(reqs[i:i+n], reqs[i+n].Account) {
			n++
		}
		var done int
		dst, done = rk.deleverageRun(reqs[i:i+n], res[base+i:base+i+n], dst)
		i += done
	}
	for i := range res[base:] {
		r := &res[base+i]
		r.Closes = dst[r.from:r.to:r.to]
	}
	return res, dst
}

func hasAccount(reqs []Request, acct book.AccountID) bool {
	for _, r := range reqs {
		if r.Account == acct {
			return true
		}
	}
	return false
}

// skip is a position passed over by the current request (it could not
// afford the close), put back into the merge for the next one.
type skip struct {
	it           item
	qty          book.Lots
	cost, margin market.Money
}

// partial is a position partly closed earlier in a run, not applied yet.
type partial struct {
	idx          int32
	qty          book.Lots
	cost, margin market.Money
}

// validate refuses a request as Deleverage would, else returns the
// bankrupt position's record.
func (rk *Ranking) validate(req Request) (int32, error) {
	switch {
	case !validSide(req.Side):
		return 0, ErrInvalidSide
	case req.Qty <= 0:
		return 0, ErrInvalidQty
	case req.Price <= 0:
		return 0, ErrInvalidPrice
	case rk.mark == 0:
		return 0, ErrNoMark
	}
	bidx, ok := rk.index.get(req.Account)
	if !ok || rk.pos[bidx].side != req.Side {
		return 0, ErrNoPosition
	}
	if rk.pos[bidx].qty < req.Qty {
		return 0, ErrQtyExceedsPosition
	}
	return bidx, nil
}

// deleverageRun plans reqs (one side, distinct accounts) from one merge,
// then applies them. A request whose amounts overflow is refused and ends
// the run (the requests before it are applied); done counts the requests
// handled.
func (rk *Ranking) deleverageRun(reqs []Request, res []BatchResult, dst []Close) (_ []Close, done int) {
	started := false
	runStart := len(dst)
	rk.partials = rk.partials[:0]
	for j, req := range reqs {
		r := &res[j]
		r.from, r.to = len(dst), len(dst)
		bidx, err := rk.validate(req)
		if err != nil {
			r.Err = err
			continue
		}
		if !started {
			rk.m.begin(req.Side.Opposite())
			started = true
		}
		start := len(dst)
		need := req.Qty
		ok := true
		for need > 0 {
			it, _, more := rk.m.next()
			if !more {
				break
			}
			idx := rk.rec(it)
			p := &rk.pos[idx]
			qty, cost, margin := p.qty, p.cost, p.margin
			pi := rk.partialOf(idx)
			if pi >= 0 {
				v := &rk.partials[pi]
				qty, cost, margin = v.qty, v.cost, v.margin
			}
			take := min(qty, need)
			removed := cost
			if take < qty {
				removed -= kept(cost, qty-take, qty)
			}
			var realized market.Money
			if realized, ok = rk.pnl(p.side, take, removed, req.Price); !ok {
				break
			}
			backing := margin // the collateral behind the lots to close
			if take < qty {
				backing -= kept(margin, qty-take, qty)
			}
			if realized+backing < 0 && !p.bankrupt || p.pastBound(req.Price) {
				// Closed at the bankrupt leg's price this position would
				// lose more than its collateral: a deficit nobody
				// reserved (or, a liquidation's remainder, it would
				// refuse a price past its own bankruptcy price, and the
				// leg's rounds stayed empty while others could close it).
				// It is passed over for this request and ranks again for
				// the next; the leg waits for one that can.
				rk.skipped = append(rk.skipped, skip{it: it, qty: qty, cost: cost, margin: margin})
				continue
			}
			dst = append(dst, Close{Account: p.acct, Side: p.side, Qty: take, Price: req.Price,
				Realized: realized, Remaining: qty - take, Rank: len(dst) - start + 1})
			need -= take
			if take < qty { // the last close of this request: back into the merge, reduced
				left := qty - take
				v := partial{idx: idx, qty: left, cost: kept(cost, left, qty), margin: kept(margin, left, qty)}
				if pi < 0 {
					rk.partials = append(rk.partials, v)
				} else {
					rk.partials[pi] = v
				}
				rk.m.pushSingle(it, v.cost, v.margin, v.qty)
			}
		}
		for _, v := range rk.skipped {
			rk.m.pushSingle(v.it, v.cost, v.margin, v.qty)
		}
		rk.skipped = rk.skipped[:0]
		r.Covered, r.Uncovered = req.Qty-need, need
		if ok && r.Covered > 0 {
			r.BankruptRealized, ok = rk.closeValue(bidx, r.Covered, req.Price, dst[start:])
		}
		if !ok {
			r.Outcome, r.Err = Outcome{}, ErrOverflow
			r.from, r.to = start, start
			dst = dst[:start]
			rk.apply(reqs[:j], res[:j], dst[runStart:])
			return dst, j + 1
		}
		r.to = len(dst)
	}
	rk.apply(reqs, res, dst[runStart:])
	return dst, len(reqs)
}

func (rk *Ranking) partialOf(idx int32) int {
	for i := range rk.partials {
		if rk.partials[i].idx == idx {
			return i
		}
	}
	return -1
}

// apply books a planned run: each close in order (a position closed twice
// is scaled down twice, as the plan computed) and promised until its
// account acknowledges it (Report), then each bankrupt position.
func (rk *Ranking) apply(reqs []Request, res []BatchResult, closes []Close) {
	rk.promise(closes)
	for _, c := range closes {
		idx, _ := rk.index.get(c.Account)
		// At the close's price; an account that closes less than planned
		// puts lots back, and Report drops what this noted.
		rk.takeOut(sideIndex(c.Side.Opposite()), c.Account, c.Qty, rk.pos[idx].qty, c.Realized)
		rk.reduce(idx, c.Qty)
	}
	for j, req := range reqs {
		if res[j].Err == nil && res[j].Covered > 0 {
			idx, _ := rk.index.get(req.Account)
			rk.reduce(idx, res[j].Covered)
		}
	}
}

// kept is the part of v (a cost or margin) that stays with a position
// reduced from qty to left lots; at least 1 so the record stays valid.
func kept(v market.Money, left, qty book.Lots) market.Money {
	return max(1, scaleDown(v, left, qty))
}

// closeValue is the PnL realized by closing c lots of record idx at price
// against closes (which sum to c): the close's value against the part of
// the entry cost it removes. An inverse value rounds per amount (⌊a⌋ + ⌊b⌋
// ≠ ⌊a + b⌋), so there the close's value is the sum of the counterparties'
// closes' values, as the bankrupt leg fills once per close: every close is
// a trade whose two sides are worth exactly opposite amounts, and money is
// conserved to the unit. A linear value is additive: qty × price × mult.
func (rk *Ranking) closeValue(idx int32, c book.Lots, price book.Ticks, closes []Close) (market.Money, bool) {
	p := &rk.pos[idx]
	removed := p.cost
	if c < p.qty {
		removed -= kept(p.cost, p.qty-c, p.qty)
	}
	if !rk.inverse {
		return rk.pnl(p.side, c, removed, price)
	}
	var n market.Money
	for _, cl := range closes {
		v, ok := rk.notional(cl.Qty, price)
		if !ok || v > math.MaxInt64-n {
			return 0, false
		}
		n += v
	}
	return rk.gain(p.side, n, removed), true
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
