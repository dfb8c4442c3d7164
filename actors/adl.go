package actors

import (
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
	ranks []*adl.Ranking
	refs  map[book.AccountID]*adlRef
	// promised is, per symbol and account, the quantity planned in forced
	// closes the account has not acknowledged yet. The ranking holds a
	// position as reported minus what is promised, so a report sent before
	// the account saw a later close does not resurrect what that close
	// already took.
	promised map[adlKey]book.Lots
	closes   []adl.Close
	queue    []adl.QueueEntry
	n        uint64
}

type adlKey struct {
	sym  int
	acct book.AccountID
}

type adlRef struct {
	pid  *actor.PID
	name string
}

// queueDepth is how many positions px.adl.<sym>.queue lists.
const queueDepth = 50

func newADLActor(x *Exchange) (*adlActor, error) {
	a := &adlActor{x: x, refs: map[book.AccountID]*adlRef{}, promised: map[adlKey]book.Lots{}}
	for _, h := range x.symbols {
		mode := adl.ModeADL
		if h.sym.ADL == market.ADLSocialized {
			mode = adl.ModeSocialized
		}
		rk, err := adl.New(adl.Config{Symbol: h.sym.Name, Multiplier: h.sym.Multiplier, Mode: mode, IndicatorRefreshMs: 1000})
		if err != nil {
			return nil, err
		}
		a.ranks = append(a.ranks, rk)
	}
	return a, nil
}

func (a *adlActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *adlPositionMsg:
		a.position(m)
	case *adlMarkMsg:
		if err := a.ranks[m.sym].SetMark(m.mark); err != nil {
			a.x.log.Error("actors: adl mark refused", "err", err)
		}
	case *deleverageMsg:
		a.deleverage(ctx, m)
	case *queueMsg:
		a.onQueue(m)
	case *rankMsg:
		a.onRank(m)
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

// position updates the ranking with a report and returns the quantity the
// ranking now holds for it (the report less what is promised).
func (a *adlActor) position(m *adlPositionMsg) book.Lots {
	if a.refs[m.acct] == nil {
		a.refs[m.acct] = &adlRef{pid: m.pid, name: m.name}
	}
	k := adlKey{m.sym, m.acct}
	left := a.promised[k] - m.acked
	if left <= 0 {
		delete(a.promised, k)
		left = 0
	} else {
		a.promised[k] = left
	}
	q := abs(m.qty)
	held := max(q-left, 0)
	cost, margin := m.cost, m.margin
	if held > 0 && held < q {
		cost = max(1, market.Money(market.MustMulDiv(int64(cost), int64(held), int64(q), false)))
		margin = max(1, market.Money(market.MustMulDiv(int64(margin), int64(held), int64(q), false)))
	}
	if err := a.ranks[m.sym].Update(m.acct, sideOf(m.qty), held, cost, margin); err != nil {
		a.x.log.Error("actors: adl position refused", "account", m.name, "err", err)
	}
	return held
}

func (a *adlActor) deleverage(ctx actor.Context, m *deleverageMsg) {
	p := &m.pos
	held := a.position(p)
	rk := a.ranks[p.sym]
	if held == 0 {
		ctx.Send(p.pid, &adlPlanMsg{sym: p.sym}) // all of it is promised to other plans
		return
	}
	out, err := rk.Deleverage(adl.Request{Account: p.acct, Side: sideOf(p.qty), Qty: held, Price: m.price}, a.closes[:0])
	if err != nil {
		a.x.log.Debug("actors: deleverage postponed", "account", p.name, "err", err)
		ctx.Send(p.pid, &adlPlanMsg{sym: p.sym})
		return
	}
	a.closes = out.Closes
	for _, c := range out.Closes {
		a.promised[adlKey{p.sym, c.Account}] += c.Qty
		ctx.Send(a.refs[c.Account].pid, &adlCloseMsg{sym: p.sym, side: c.Side, qty: c.Qty, price: m.price, bankrupt: p.pid, name: p.name})
	}
	ctx.Send(p.pid, &adlPlanMsg{sym: p.sym, closes: len(out.Closes), covered: out.Covered})
}

func (a *adlActor) onQueue(m *queueMsg) {
	side := adl.Long
	if m.side == wire.Short {
		side = adl.Short
	}
	q, err := a.ranks[m.sym].Top(side, queueDepth, a.queue[:0])
	if err != nil {
		m.refuse(wire.Errorf(wire.CodeInternal, "%v", err))
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
		out.long = append(out.long, rk.OpenInterest(adl.Long))
		out.short = append(out.short, rk.OpenInterest(adl.Short))
		if err := rk.Check(); err != nil && out.err == nil {
			out.err = err
		}
	}
	return out
}
