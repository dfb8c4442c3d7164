package actors

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/trigger"
	"github.com/perpx/perpx/wire"
)

// symbolActor owns one symbol's book.Book and market.MarkState. It matches
// orders, sends the taker its result and each maker its fill, publishes
// trades and one BookUpdate per command, and turns index ticks into marks
// (impact prices from its own book) fanned out to the accounts holding a
// position, plus funding when due.
type symbolActor struct {
	x    *Exchange
	j    jstate // the record being handled (durable mode)
	h    *symbolHandle
	sym  *market.Symbol
	book *book.Book
	res  book.Result
	ms   *market.MarkState
	// trig holds the untriggered conditional orders (conditional.go).
	trig  *trigger.Set
	fired []trigger.Order
	// held is what the book took while out of service and could not
	// refuse, in the order it came: posted again when it resumes.
	held []any

	refs []*acctRef                  // by AccountID (dense from 1): every account that sent an order
	subs map[book.AccountID]*acctRef // accounts holding a position: get marks

	seq      uint64 // book updates published
	tradeSeq uint64
	n        uint64

	bids, asks []book.Level // depth scratch
	depth      []book.DepthChange
	// wantBook and wantTrades cache whether the book and trade streams
	// have a subscriber, for the take being handled (interest).
	wantBook, wantTrades interest
}

// acctRef is an account as a symbol actor knows it.
type acctRef struct {
	pid *actor.PID
	mb  *mailbox // pid's (deliver)
	// fills sent to the account; see onUnsubscribe.
	fills uint64
	sub   bool // in subs
}

func newSymbolActor(x *Exchange, h *symbolHandle) *symbolActor {
	return &symbolActor{
		x: x, h: h, sym: h.sym, book: book.New(), trig: trigger.New(), ms: market.NewMarkState(h.sym, x.now()),
		subs: map[book.AccountID]*acctRef{},
	}
}

func (s *symbolActor) Receive(ctx actor.Context) {
	s.x.begin(ctx, &s.j, actorSymbol+uint32(s.h.idx))
	if f := failTest.Load(); f != nil {
		f.checkBook(s.sym.Name, ctx.Message())
	}
	switch m := ctx.Message().(type) {
	case *placeMsg:
		s.onPlace(ctx, m)
	case *armMsg:
		s.onArm(ctx, m)
	case *amendMsg:
		s.onAmend(ctx, m)
	case *cancelMsg:
		s.onCancel(ctx, m)
	case *cancelIDsMsg:
		s.onCancelIDs(ctx, m)
	case *reserveMsg: // a liquidation's coverage quote (liquidation.go)
		s.onQuote(ctx, m)
	case *unsubscribeMsg:
		fills := m.take() // always: it lets the account send the next one
		if r := s.subs[m.acct]; r != nil && r.fills == fills {
			delete(s.subs, m.acct)
			r.sub = false
		}
	case *indexMsg:
		s.onIndex(ctx, m)
	case *depthMsg:
		s.onDepth(m)
	case *probeMsg:
		m.reply(s.n)
		return
	case *auditMsg:
		m.reply(symbolAudit{sym: s.h.idx, resting: s.book.Len() + s.trig.Len(), mark: s.h.lastMark()})
		return
	case *resumeMsg, *resumeCheckMsg: // a resume that raced another
		inService(m, s.h.guard.name)
		return
	case *hashMsg:
		h := hashInts(s.book.StateHash(), s.trig.StateHash(), s.seq, s.tradeSeq, hashString(string(s.ms.AppendSnapshot(nil))))
		if len(s.held) > 0 { // only a failed book holds any
			h = hashInts(h, uint64(len(s.held)))
		}
		m.reply(h)
		return
	default:
		return
	}
	s.n++
}

func (s *symbolActor) ref(id book.AccountID, pid *actor.PID) *acctRef {
	if int(id) >= len(s.refs) {
		s.refs = append(s.refs, make([]*acctRef, int(id)+1-len(s.refs))...)
	}
	r := s.refs[id]
	if r == nil {
		r = &acctRef{pid: pid, mb: s.x.accounts.mailbox(id)}
		s.refs[id] = r
	}
	return r
}

// filled counts a fill sent to r and subscribes it to marks: an account
// with a fill may hold a position. It unsubscribes itself when flat.
func (s *symbolActor) filled(id book.AccountID, r *acctRef) {
	r.fills++
	if !r.sub {
		r.sub = true
		s.subs[id] = r
	}
}

func (s *symbolActor) onPlace(ctx actor.Context, m *placeMsg) {
	taker := s.ref(m.order.Account, m.from)
	r := &s.res
	s.book.Place(m.order, r)
	out := m.result()
	*out = takerResultMsg{sym: s.h.idx, id: m.order.ID, done: m.done, req: m.req}
	s.answer(ctx, taker, m.from, out, m.liquidation)
}

// onAmend amends a resting order (book.Book.Amend) and answers like an
// order's result, with the order as the amend left it: the book's word,
// whatever fills of it were on their way to the account meanwhile. A new
// total at or below what the order has filled is INVALID_QTY.
func (s *symbolActor) onAmend(ctx actor.Context, m *amendMsg) {
	taker := s.ref(m.acct, m.from)
	r := &s.res
	cur, ok := s.book.Order(m.id)
	a := &amended{price: cur.Price, qty: cur.Qty, open: cur.Remaining, mark: s.h.lastMark()}
	if m.price > 0 {
		a.price = m.price
	}
	if m.qty > 0 {
		a.qty, a.open = m.qty, m.qty-cur.Filled
	}
	s.book.Amend(m.id, a.price, a.open, r) // an unknown id: UNKNOWN_ORDER (ids are the exchange's, so never another account's)
	if !ok || r.Code != book.OK {
		a.price, a.qty, a.open = cur.Price, cur.Qty, cur.Remaining
	}
	out := &takerResultMsg{sym: s.h.idx, id: m.id, done: m.done, amend: a}
	s.answer(ctx, taker, m.from, out, false)
}

// answer sends the taker's account the outcome in s.res of its order or
// amend (out, with its identity set), each maker its fill (liq: of a
// liquidation's IOC), and publishes the trades and the depth change.
func (s *symbolActor) answer(ctx actor.Context, taker *acctRef, from *actor.PID, out *takerResultMsg, liq bool) {
	r := &s.res
	out.code, out.status, out.stpKilled = r.Code, r.Status, r.STPKilled
	if r.Code == book.OK {
		if len(r.Fills) == 1 {
			out.one[0] = r.Fills[0]
			out.fills = out.one[:]
		} else if len(r.Fills) > 1 {
			out.fills = slices.Clone(r.Fills)
		}
		if len(r.Fills) > 0 {
			out.tradeSeq = s.tradeSeq + 1
			trades := s.wantTrades.ask(s.h.mb, func() bool { return s.x.wantsTrades(s.sym.Name) })
			hist := &histTradesMsg{sym: s.h.idx}
			hist.trades = hist.one[:0]
			ms := s.x.clock(&s.j)
			out.ms, out.mark, out.funded = ms, s.h.lastMark(), s.funded() // the fills' time, mark and funding time are the trades' (an account handles them later)
			for i := range r.Fills {
				hist.trades = append(hist.trades, histTrade(&r.Fills[i], s.tradeSeq+1+uint64(i), ms))
			}
			ctx.Send(s.x.history, hist)
			for _, f := range r.Fills {
				s.tradeSeq++
				mk := s.refs[f.MakerAccount]
				s.filled(f.MakerAccount, mk)
				s.filled(f.TakerAccount, taker)
				s.x.deliver(ctx, mk.mb, mk.pid, newMakerFill(s.h.idx, f, s.tradeSeq, ms, out.mark, out.funded, liq))
				if trades {
					s.x.sink.Trade(s.sym.Name, &wire.Trade{Symbol: s.sym.Name, Price: s.h.price(f.Price),
						Qty: s.h.qty(f.Qty), TakerSide: wireSide(f.TakerSide), Seq: s.tradeSeq, TimeMs: ms})
				}
			}
			s.h.trades.Store(s.tradeSeq)
		}
		if len(r.Canceled) > 0 {
			out.canceled = slices.Clone(r.Canceled)
		}
		s.publishDepth(r.Depth)
	}
	s.x.deliver(ctx, taker.mb, from, out)
	if n := len(r.Fills); n > 0 && r.Code == book.OK { // after the result: the taker learns of its fills first
		s.fire(ctx, trigger.Last, r.Fills[n-1].Price)
	}
}

// result is where the book writes m's result: inside the pooled request
// when there is one.
func (m *placeMsg) result() *takerResultMsg {
	if m.req != nil {
		return &m.req.result
	}
	return new(takerResultMsg)
}

// refuseFailed answers, once the book is out of service (halt.go), what
// would otherwise wait for it forever: an order is rejected INTERNAL (its
// account releases it), an amend or a cancel refused INTERNAL, a client's
// cancel-all answered with nothing canceled (the orders stay where the
// frozen book holds them). What it cannot refuse (a liquidation's coverage
// quote, an unsubscribe, a cancel by ids nobody waits on) it holds until it
// resumes (resume.go).
func (s *symbolActor) refuseFailed(ctx actor.Context, m any) bool {
	e := wire.Errorf(wire.CodeInternal, "the %s book is out of service after an internal error", s.sym.Name)
	switch m := m.(type) {
	case *placeMsg:
		taker := s.ref(m.order.Account, m.from)
		out := m.result()
		*out = takerResultMsg{sym: s.h.idx, id: m.order.ID, code: book.OK, status: book.StatusRejected, done: m.done, req: m.req, err: e}
		s.x.deliver(ctx, taker.mb, m.from, out)
	case *amendMsg:
		taker := s.ref(m.acct, m.from)
		s.x.deliver(ctx, taker.mb, m.from, &takerResultMsg{sym: s.h.idx, id: m.id, code: book.OK, status: book.StatusRejected,
			done: m.done, err: e, amend: &amended{}})
	case *cancelMsg:
		ctx.Send(m.from, &canceledMsg{sym: s.h.idx, id: m.id, done: m.done, quiet: m.quiet, err: e})
	case *cancelIDsMsg:
		if m.all == nil { // no client waits: a failed account's pull, a liquidation's, a dead man's switch: done once resumed
			s.held = append(s.held, m)
			break
		}
		ctx.Send(m.from, &canceledMsg{sym: s.h.idx, all: m.all})
	case *armMsg:
		ctx.Send(m.from, &armedMsg{id: m.o.ID, err: e, req: m.req, amend: m.amend})
	case *reserveMsg, *unsubscribeMsg:
		s.held = append(s.held, m)
	default:
		return false
	}
	return true
}

func (s *symbolActor) onCancel(ctx actor.Context, m *cancelMsg) {
	r := &s.res
	if s.book.Cancel(m.id, r); r.Code == book.RejectUnknownOrder {
		s.cancelTrigger(m.id, r)
	}
	out := &canceledMsg{sym: s.h.idx, code: r.Code, id: m.id, done: m.done, quiet: m.quiet, again: m.again}
	if r.Code == book.OK {
		out.orders = slices.Clone(r.Canceled)
		s.publishDepth(r.Depth)
	}
	ctx.Send(m.from, out)
}

func (s *symbolActor) onCancelIDs(ctx actor.Context, m *cancelIDsMsg) {
	out := &canceledMsg{sym: s.h.idx, all: m.all, again: m.again, bankrupt: m.bankrupt}
	s.depth = s.depth[:0]
	r := &s.res
	// By id: the senders list them in their sets' order, which a snapshot's
	// load does not keep, and the account books the cancels (its closed
	// orders, its events) in this order.
	slices.Sort(m.ids)
	for _, id := range m.ids {
		if s.book.Cancel(id, r); r.Code == book.RejectUnknownOrder && !s.cancelTrigger(id, r) {
			if !m.again {
				out.unknown = append(out.unknown, id)
			}
			continue
		}
		if r.Code != book.OK {
			continue
		}
		out.orders = append(out.orders, r.Canceled...)
		s.depth = mergeDepth(s.depth, r.Depth)
	}
	s.publishDepth(s.depth)
	ctx.Send(m.from, out)
}

// mergeDepth folds new level totals into dst, the latest total per level
// winning, so one update carries all of a command's changes once each.
func mergeDepth(dst, add []book.DepthChange) []book.DepthChange {
next:
	for _, c := range add {
		for i := range dst {
			if dst[i].Side == c.Side && dst[i].Price == c.Price {
				dst[i].Qty = c.Qty
				continue next
			}
		}
		dst = append(dst, c)
	}
	return dst
}

func (s *symbolActor) publishDepth(ch []book.DepthChange) {
	if len(ch) == 0 {
		return
	}
	s.seq++
	if !s.wantBook.ask(s.h.mb, func() bool { return s.x.wantsBook(s.sym.Name) }) {
		return
	}
	u := &wire.BookUpdate{Seq: s.seq, Bids: []wire.Level{}, Asks: []wire.Level{}}
	for _, c := range ch {
		l := wire.NewLevel(s.h.price(c.Price), s.h.qty(c.Qty))
		if c.Side == book.Buy {
			u.Bids = append(u.Bids, l)
		} else {
			u.Asks = append(u.Asks, l)
		}
	}
	s.x.sink.BookUpdate(s.sym.Name, u)
}

func (s *symbolActor) onDepth(m *depthMsg) {
	s.bids, s.asks = s.book.Depth(m.levels, s.bids, s.asks)
	m.done(wire.DepthReply{Reply: wire.OK(), Bids: levels(s.h, s.bids), Asks: levels(s.h, s.asks), Seq: s.seq})
}

// onIndex computes the mark from the index and the book's impact prices,
// publishes it, sends it to every subscribed account and the ADL actor, and
// sends funding to the subscribers when a funding time passed.
func (s *symbolActor) onIndex(ctx actor.Context, m *indexMsg) {
	in := market.MarkInput{Index: m.index, NowMs: s.x.clock(&s.j)}
	if q := s.impactQty(m.index); q > 0 {
		in.ImpactBid, _ = s.book.ImpactPrice(book.Sell, q)
		in.ImpactAsk, _ = s.book.ImpactPrice(book.Buy, q)
	}
	up, err := s.ms.Update(in)
	if err != nil {
		m.refuse(wire.Errorf(wire.CodeInvalidPrice, "%v", err))
		return
	}
	s.h.index.Store(int64(up.Index))
	s.h.mark.Store(int64(up.Mark))
	if s.x.events {
		s.x.sink.Mark(s.sym.Name, &wire.MarkUpdate{Symbol: s.sym.Name, Index: s.h.price(up.Index),
			Mark: s.h.price(up.Mark), FundingRate: up.FundingRate.Decimal(), NextFundingMs: up.NextFundingMs, TimeMs: in.NowMs})
	}
	// A funding time's mark comes with its payment, in one message: a mark
	// that liquidates a position would otherwise take it over before the
	// payment arrived, and the other side was paid what nobody paid.
	var mm any = &markMsg{sym: s.h.idx, mark: up.Mark}
	if up.Due {
		mm = &fundingMsg{sym: s.h.idx, rate: up.DueRate, mark: up.Mark, funded: s.funded()}
	}
	for _, r := range s.subs {
		ctx.Send(r.pid, mm)
	}
	ctx.Send(s.x.adl, &adlMarkMsg{sym: s.h.idx, mark: up.Mark})
	ctx.Send(s.x.history, &histMarkMsg{sym: s.h.idx, ms: in.NowMs, mark: up.Mark, up: up})
	s.fire(ctx, trigger.Index, up.Index)
	s.fire(ctx, trigger.Mark, up.Mark)
	if up.Due {
		ctx.Send(s.x.history, &histFundingMsg{sym: s.h.idx, ms: up.DueMs, rate: up.DueRate, mark: up.Mark})
	}
	m.done(wire.IndexReply{Reply: wire.OK(), Index: s.h.price(up.Index), Mark: s.h.price(up.Mark)})
}

// funded is the latest funding time the symbol's marks passed: its
// funding and fill messages carry it to the accounts (acctSym.funded).
func (s *symbolActor) funded() int64 {
	return s.ms.Last().NextFundingMs - s.sym.FundingIntervalMs
}

// impactQty is the size of the impact orders at price p.
func (s *symbolActor) impactQty(p book.Ticks) book.Lots {
	per := int64(s.sym.Notional(p, 1))
	if per <= 0 {
		return 0
	}
	return book.Lots(max(1, int64(s.h.impact)/per))
}
