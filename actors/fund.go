package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// fundActor owns the insurance fund (fund.Fund): coverage reservations for
// liquidations, their settlement, admin deposits, and the public history.
type fundActor struct {
	x       *Exchange
	f       *fund.Fund
	history int
	names   map[uint64]string // account id -> name, for events
	n       uint64
	// uncovered sums deficits the fund could not pay. The reservation rule
	// keeps it zero for liquidations; a non-zero value breaks conservation
	// and fails the audit.
	uncovered int64
}

func newFundActor(x *Exchange, history int) *fundActor {
	f, err := fund.New(fund.Config{HistoryCap: history})
	if err != nil {
		panic(err) // history > 0 is the only input
	}
	return &fundActor{x: x, f: f, history: history}
}

func (a *fundActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *reserveMsg:
		need := m.base
		for _, g := range m.legs {
			need += g.need
		}
		got, err := a.f.Reserve(m.id, a.x.quote, need)
		if err != nil {
			a.x.log.Error("actors: fund reservation failed", "id", m.id, "err", err)
		}
		ctx.Send(m.from, &reservedMsg{amount: got})
	case *settleMsg:
		a.settle(m.id, fund.Settlement{Account: m.acct, Symbol: m.sym, PnL: m.pnl, Volume: m.volume}, m.name, "liquidation")
		if _, err := a.f.Release(m.id); err != nil {
			a.x.log.Error("actors: fund release failed", "id", m.id, "err", err)
		}
	case *pauseMsg:
		<-m.until
	case *releaseMsg:
		if _, err := a.f.Release(m.id); err != nil {
			a.x.log.Error("actors: fund release failed", "id", m.id, "err", err)
		}
	case *deficitMsg:
		a.settle(fund.NoReservation, fund.Settlement{Symbol: a.x.symbols[m.sym].sym.Name, PnL: -m.amount}, m.acct, "close beyond the account's cash")
	case *fundDepositMsg:
		ev, err := a.f.Deposit(a.x.quote, m.amount, a.x.now())
		if err != nil {
			m.refuse(wire.Errorf(wire.CodeBadRequest, "%v", err))
			break
		}
		if ev.Seq != 0 {
			a.publish(ev, "")
		}
		m.done(wire.BalanceReply{Reply: wire.OK(), Balance: ev.Balance.Decimal()})
	case *fundStateMsg:
		rep := wire.FundStateReply{Reply: wire.OK(), Balances: map[string]decimal.Decimal{}, History: []wire.FundEvent{}}
		rep.Balances[a.x.quote] = a.f.Balance(a.x.quote).Decimal()
		for _, e := range a.f.History(nil, a.history) {
			rep.History = append(rep.History, a.wireEvent(e, a.names[uint64(e.Account)]))
		}
		m.done(rep)
	case *probeMsg:
		m.reply(a.n)
		return
	case *auditMsg:
		m.reply(fundAudit{balance: a.f.Balance(a.x.quote), deposits: a.f.Lifetime(a.x.quote).Deposits,
			reserved: a.f.Reserved(a.x.quote), uncovered: a.uncovered, check: a.f.Check()})
		return
	case *hashMsg:
		m.reply(hashInts(uint64(a.f.Balance(a.x.quote)), uint64(a.f.Reserved(a.x.quote))))
		return
	default:
		return
	}
	a.n++
}

func (a *fundActor) settle(id fund.ReservationID, s fund.Settlement, name, what string) {
	s.Asset, s.TimeMs = a.x.quote, a.x.now()
	out, err := a.f.Settle(id, s)
	if err != nil {
		a.x.log.Error("actors: fund settlement failed", "account", name, "err", err)
		return
	}
	if out.Uncovered > 0 {
		a.uncovered += int64(out.Uncovered)
		a.x.log.Error("actors: the insurance fund could not cover a deficit", "account", name, "of", what, "uncovered", out.Uncovered)
	}
	if name != "" && s.Account != 0 {
		if a.names == nil {
			a.names = map[uint64]string{}
		}
		a.names[uint64(s.Account)] = name
	}
	for _, e := range out.Events {
		a.publish(e, name)
	}
}

func (a *fundActor) publish(e fund.Event, name string) {
	if a.x.events {
		w := a.wireEvent(e, name)
		a.x.sink.FundEvent(&w)
	}
}

func (a *fundActor) wireEvent(e fund.Event, name string) wire.FundEvent {
	reason := wire.ReasonDeposit
	switch e.Reason {
	case fund.ReasonLiquidationDeficit:
		reason = wire.ReasonLiquidationDeficit
	case fund.ReasonLiquidationSurplus, fund.ReasonLiquidationFee:
		reason = wire.ReasonLiquidationSurplus
	}
	return wire.FundEvent{Seq: e.Seq, TimeMs: e.TimeMs, Asset: e.Asset, Delta: e.Delta.Decimal(),
		Balance: e.Balance.Decimal(), Reason: reason, Account: name, Symbol: e.Symbol}
}
