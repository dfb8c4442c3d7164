package actors

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/adl"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// adlActor holds one adl.Ranking per symbol, kept current by the accounts'
// position updates and the symbols' marks. It plans deleveraging: for a
// bankrupt leg it picks the ranked opposite positions and sends each a
// forced close at the bankruptcy price; the counterparties settle and
// answer the bankrupt account directly.
type adlActor struct {
	x     *Exchange
	j     jstate // the record being handled (durable mode)
	ranks []*adl.Ranking
	refs  map[book.AccountID]*adlRef
	// pending are the deleverage requests since the last flush (flushing:
	// an adlFlushMsg is on its way); served per symbol in one
	// adl.DeleverageBatch, so a cascade's requests share the merge setup.
	pending, spare []*deleverageMsg
	flushing       bool
	reqs           []adl.Request
	batch          []*deleverageMsg
	results        []adl.BatchResult
	closes         []adl.Close
	queue          []adl.QueueEntry
	charges        []adl.Charge
	n              uint64
}

type adlRef struct {
	pid  *actor.PID
	name string
}

// queueDepth is how many positions px.adl.<sym>.queue lists.
const queueDepth = 50

func newADLActor(x *Exchange) (*adlActor, error) {
	a := &adlActor{x: x, refs: map[book.AccountID]*adlRef{}}
	for _, h := range x.symbols {
		mode := adl.ModeADL
		if h.sym.ADL == market.ADLSocialized {
			mode = adl.ModeSocialized
		}
		rk, err := adl.New(adl.Config{Symbol: h.sym.Name, Kind: h.sym.Kind, Multiplier: h.sym.Multiplier, InverseK: h.sym.InverseK,
			Mode: mode, IndicatorRefreshMs: 1000})
		if err != nil {
			return nil, err
		}
		a.ranks = append(a.ranks, rk)
	}
	return a, nil
}

func (a *adlActor) Receive(ctx actor.Context) {
	var rep adlPositionMsg
	if r, ok := ctx.Message().(*adlReport); ok {
		rep, a.j.merged = r.take() // before its record, which says how many it merged
	}
	a.x.begin(ctx, &a.j, actorADL)
	switch m := ctx.Message().(type) {
	case *adlPositionMsg:
		a.position(m)
		m.slot.free()
	case *adlReport:
		a.position(&rep)
	case *adlMarkMsg:
		if err := a.ranks[m.sym].SetMark(m.mark); err != nil {
			panic(fmt.Sprintf("actors: the ADL ranking refused mark %d: %v", m.mark, err))
		}
		// The open interest as the ranking holds it, for the history's
		// 5-minute samples.
		ctx.Send(a.x.history, &histOIMsg{sym: m.sym, ms: a.x.clock(&a.j), long: a.ranks[m.sym].OpenInterest(adl.Long)})
	case *deleverageMsg:
		a.deleverage(ctx, m)
	case *adlFlushMsg:
		a.flush(ctx)
	case *socializeMsg:
		a.socialize(ctx, m)
	case *queueMsg:
		a.onQueue(m)
	case *rankMsg:
		a.onRank(m)
	case *oiMsg:
		m.reply(a.ranks[m.sym].OpenInterest(adl.Long))
		return
	case *probeMsg:
		m.reply(a.n)
		return
	case *auditMsg:
		m.reply(a.audit())
		return
	case *hashMsg:
		var v []uint64
		for _, rk := range a.ranks {
			v = append(v, uint64(rk.Count(adl.Long)), uint64(rk.Count(adl.Short)),
				uint64(rk.OpenInterest(adl.Long)), uint64(rk.OpenInterest(adl.Short)))
		}
		m.reply(hashInts(v...))
		return
	default:
		return
	}
	a.n++
}

func sideOf(qty book.Lots) book.Side {
	if qty < 0 {
		return adl.Short
	}
	return adl.Long
}

// position updates the ranking with a report (adl.Ranking.Report) and
// returns the quantity the ranking now holds for it.
func (a *adlActor) position(m *adlPositionMsg) book.Lots {
	if a.refs[m.acct] == nil {
		a.refs[m.acct] = &adlRef{pid: m.pid, name: m.name}
	}
	held, err := a.ranks[m.sym].Report(m.acct, sideOf(m.qty), abs(m.qty), m.cost, m.margin, m.acked, m.bound)
	if err != nil {
		panic(fmt.Sprintf("actors: the ADL ranking of %s refused %s's position %d (cost %d, margin %d): %v",
			a.x.symbols[m.sym].sym.Name, m.name, m.qty, m.cost, m.margin, err))
	}
	return held
}

// adlBatchMax caps a flush: a long mailbox (a cascade) is served 32
// requests at a time, so forced closes keep flowing to the counterparties
// while the rest queue, and each batch still shares one merge.
const adlBatchMax = 32

// deleverage books a bankrupt leg's remainder in the ranking and queues
// its request for the next flush, which a message to itself schedules
// behind whatever the mailbox already holds (or adlBatchMax requests
// trigger at once): the requests that arrive meanwhile are served together.
func (a *adlActor) deleverage(ctx actor.Context, m *deleverageMsg) {
	if a.position(&m.pos) == 0 {
		ctx.Send(m.pos.pid, &adlPlanMsg{sym: m.pos.sym}) // all of it is promised to other plans
		return
	}
	a.pending = append(a.pending, m)
	if len(a.pending) >= adlBatchMax {
		a.flush(ctx)
		a.flushing = true // the note already sent will find an empty queue or later requests
		return
	}
	if !a.flushing {
		a.flushing = true
		ctx.Send(ctx.Self(), &adlFlushMsg{})
	}
}

// flush serves the queued requests, per symbol and side in arrival order,
// each for what the ranking holds of its leg now, with one
// adl.DeleverageBatch (the same closes as one Deleverage per request). A
// side is read after the other side's batch, which may have closed some of
// its legs as counterparties. Each chosen counterparty gets a forced close
// at its request's bankruptcy price, each bankrupt account its plan.
func (a *adlActor) flush(ctx actor.Context) {
	a.flushing = false
	pend := a.pending
	a.pending, a.spare = a.spare[:0], pend
	for sym, rk := range a.ranks {
		for _, side := range []book.Side{adl.Long, adl.Short} {
			a.reqs, a.batch = a.reqs[:0], a.batch[:0]
			for _, m := range pend {
				p := &m.pos
				if p.sym != sym || sideOf(p.qty) != side {
					continue
				}
				info, ok := rk.Position(p.acct)
				if !ok || info.Side != side {
					ctx.Send(p.pid, &adlPlanMsg{sym: sym}) // closed as a counterparty since
					continue
				}
				a.reqs = append(a.reqs, adl.Request{Account: p.acct, Side: side, Qty: info.Qty, Price: m.price})
				a.batch = append(a.batch, m)
			}
			if len(a.reqs) > 0 {
				a.serve(ctx, sym, rk)
			}
		}
	}
	clear(pend) // drop the messages
}

// serve runs one side's batch (a.reqs, from a.batch) and sends its closes
// and plans.
func (a *adlActor) serve(ctx actor.Context, sym int, rk *adl.Ranking) {
	a.results, a.closes = rk.DeleverageBatch(a.reqs, a.results[:0], a.closes[:0])
	for i, r := range a.results {
		m := a.batch[i]
		p := &m.pos
		if r.Err != nil {
			if !errors.Is(r.Err, adl.ErrNoMark) && !errors.Is(r.Err, adl.ErrNoPosition) {
				// The request was built from the ranking's own view of the
				// leg: anything else means the two disagree.
				panic(fmt.Sprintf("actors: the ADL ranking of %s refused %s's deleverage of %d at %d: %v",
					a.x.symbols[sym].sym.Name, p.name, a.reqs[i].Qty, m.price, r.Err))
			}
			ctx.Send(p.pid, &adlPlanMsg{sym: sym}) // postponed: no mark yet, or closed as a counterparty since
			continue
		}
		for _, c := range r.Closes {
			ctx.Send(a.refs[c.Account].pid, &adlCloseMsg{sym: sym, side: c.Side, qty: c.Qty, price: m.price, bankrupt: p.pid, name: p.name})
		}
		ctx.Send(p.pid, &adlPlanMsg{sym: sym, closes: len(r.Closes), covered: r.Covered})
	}
}

func (a *adlActor) onQueue(m *queueMsg) {
	side := adl.Long
	if m.side == wire.Short {
		side = adl.Short
	}
	q, err := a.ranks[m.sym].Top(side, queueDepth, a.queue[:0])
	if err != nil {
		m.refuse(coreError(err))
		return
	}
	a.queue = q
	rep := wire.ADLQueueReply{Reply: wire.OK(), Queue: make([]wire.ADLQueueEntry, 0, len(q))}
	for _, e := range q {
		name := ""
		if r := a.refs[e.Account]; r != nil {
			name = r.name
		}
		rep.Queue = append(rep.Queue, wire.ADLQueueEntry{Account: name,
			Rank: decimal.NewFromFloat(e.Score).Round(8), PnL: e.PnL.Decimal(),
			Leverage: decimal.NewFromFloat(e.Leverage).Round(4)})
	}
	m.done(rep)
}

func (a *adlActor) onRank(m *rankMsg) {
	// A read, not journaled: the clock, not a record's time, ages the
	// lights' cached cuts (they decide nothing).
	now := a.x.now()
	for i := range m.account.Positions {
		p := &m.account.Positions[i]
		if h := a.x.symbol(p.Symbol); h != nil {
			if ind, err := a.ranks[h.idx].Indicator(m.acct, now); err == nil {
				p.ADLRank = ind
			}
		}
	}
	m.done(wire.AccountReply{Reply: wire.OK(), Account: m.account})
}

func (a *adlActor) audit() adlAudit {
	var out adlAudit
	for _, rk := range a.ranks {
		out.earmarked += rk.SetAsideTotal()
		out.long = append(out.long, rk.OpenInterest(adl.Long))
		out.short = append(out.short, rk.OpenInterest(adl.Short))
		if err := rk.Check(); err != nil && out.err == nil {
			out.err = err
		}
	}
	return out
}
