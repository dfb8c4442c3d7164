package actors

import (
	"cmp"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/internal/ratelog"
	"github.com/perpx/perpx/liq"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// fundActor owns the insurance fund (fund.Fund): coverage reservations for
// liquidations, their settlement, admin deposits, and the public history.
type fundActor struct {
	x       *Exchange
	j       jstate // the record being handled (durable mode)
	f       *fund.Fund
	history int
	names   map[uint64]string // account id -> name, for events
	n       uint64
	// uncovered sums, per asset, deficits the fund could not pay: a loss
	// nobody held the money for (DESIGN.md names the known way). It breaks
	// conservation, and admin.audit reports it and fails; the fund's own
	// ledger is still whole, so trading goes on.
	uncovered []int64
	// uncoveredLog writes those at most once a second (a cascade makes
	// thousands); the audit has the total.
	uncoveredLog *ratelog.Limiter
	quotes       []liq.Quote // scratch
}

func newFundActor(x *Exchange) *fundActor {
	f, err := fund.New(x.fundConfig())
	if err != nil {
		panic(err) // positive caps are the only input
	}
	return &fundActor{x: x, f: f, history: x.keep.FundEvents, uncovered: make([]int64, len(x.assets)),
		uncoveredLog: ratelog.Slog(x.log, slog.LevelError, "actors: the insurance fund could not cover deficits", time.Second)}
}

func (a *fundActor) Receive(ctx actor.Context) {
	a.x.begin(ctx, &a.j, actorFund)
	switch m := ctx.Message().(type) {
	case *reserveMsg:
		a.quotes = a.quotes[:0]
		for _, g := range m.legs {
			a.quotes = append(a.quotes, g.quote)
		}
		got, err := a.f.Reserve(m.id, a.x.assets[m.asset], liq.Coverage(m.base, a.quotes))
		a.must(err, "reserve coverage for liquidation", m.id)
		ctx.Send(m.from, &reservedMsg{amount: got})
	case *settleMsg:
		a.settle(m.id, fund.Settlement{Asset: a.x.symbol(m.sym).sym.Settle, Account: m.acct, Symbol: m.sym, PnL: m.pnl, Volume: m.volume}, m.name, "liquidation")
		_, err := a.f.Release(m.id)
		a.must(err, "release the reservation of liquidation", m.id)
	case *releaseMsg:
		_, err := a.f.Release(m.id)
		a.must(err, "release the reservation of liquidation", m.id)
	case *deficitMsg:
		s := a.x.symbols[m.sym].sym
		a.settle(fund.NoReservation, fund.Settlement{Asset: s.Settle, Symbol: s.Name, PnL: -m.amount}, m.acct, "close beyond the account's cash")
	case *adlCountMsg:
		a.f.RecordADL(a.x.symbols[m.sym].sym.Settle, a.x.clock(&a.j))
	case *fundDepositMsg:
		ev, err := a.f.Deposit(a.x.assets[m.asset], m.amount, a.x.clock(&a.j))
		if err != nil {
			m.refuse(coreError(err))
			break
		}
		if ev.Seq != 0 {
			a.publish(ev, "")
		}
		m.done(wire.BalanceReply{Reply: wire.OK(), Balance: ev.Balance.Decimal()})
	case *fundStateMsg:
		rep := wire.FundStateReply{Reply: wire.OK(), Balances: map[string]decimal.Decimal{}, History: []wire.FundEvent{}}
		for _, asset := range a.x.assets {
			rep.Balances[asset] = a.f.Balance(asset).Decimal()
		}
		evs := a.f.History(nil, a.history)
		if b := m.req.BeforeSeq; b > 0 { // a page back: the entries before b
			evs = evs[:sort.Search(len(evs), func(i int) bool { return evs[i].Seq >= b })]
		}
		evs = evs[max(0, len(evs)-m.req.Limit):]
		for _, e := range evs {
			rep.History = append(rep.History, a.wireEvent(e, a.names[uint64(e.Account)]))
		}
		m.done(rep)
	case *fundDailyMsg:
		m.done(a.daily(m.req))
		return
	case *probeMsg:
		m.reply(a.n)
		return
	case *auditMsg:
		out := fundAudit{check: a.f.Check()}
		for i, asset := range a.x.assets {
			out.assets = append(out.assets, fundAssetAudit{balance: a.f.Balance(asset), deposits: a.f.Lifetime(asset).Deposits,
				reserved: a.f.Reserved(asset), uncovered: a.uncovered[i]})
		}
		m.reply(out)
		return
	case *hashMsg:
		v := make([]uint64, 0, 2*len(a.x.assets))
		for _, asset := range a.x.assets {
			v = append(v, uint64(a.f.Balance(asset)), uint64(a.f.Reserved(asset)))
		}
		m.reply(hashInts(v...))
		return
	default:
		return
	}
	a.n++
}

// daily is the fund's report per UTC day in the request's window. The
// balance moves only by what a day's totals count (deposits, surpluses and
// fees in, deficits out), so the first kept day opens at today's balance
// less every kept day's net, and each day closes at its opening plus its
// net.
func (a *fundActor) daily(req wire.FundDaily) wire.FundDailyReply {
	out := []wire.FundDay{}
	for _, asset := range a.x.assets {
		out = a.dailyOf(asset, req, out)
	}
	slices.SortStableFunc(out, func(x, y wire.FundDay) int { return cmp.Compare(x.DayMs, y.DayMs) }) // then by asset, as listed
	return wire.FundDailyReply{Reply: wire.OK(), Days: out}
}

// dailyOf appends one asset's days in the request's window.
func (a *fundActor) dailyOf(asset string, req wire.FundDaily, out []wire.FundDay) []wire.FundDay {
	days := a.f.Days(asset, nil)
	bal := a.f.Balance(asset)
	for _, d := range days {
		bal -= d.Net()
	}
	end := req.EndMs
	if end == 0 {
		end = math.MaxInt64
	}
	for _, d := range days {
		open := bal
		bal += d.Net()
		ms := d.Day * 86_400_000
		if ms < req.StartMs || ms > end {
			continue
		}
		out = append(out, wire.FundDay{Date: d.Date(), DayMs: ms, Asset: asset, OpeningBalance: open.Decimal(), ClosingBalance: bal.Decimal(),
			Deposits: d.Deposits.Decimal(), Surplus: d.Surplus.Decimal(), Fees: d.Fees.Decimal(), Deficits: d.Deficits.Decimal(),
			Uncovered: d.Uncovered.Decimal(), Liquidations: d.Liquidations, LiquidationVolume: d.LiquidationVolume.Decimal(), ADL: d.ADL})
	}
	return out
}

// must stops the fund on a ledger it cannot keep (the fund's supervisor
// halts the exchange, see singletonSupervisor).
func (a *fundActor) must(err error, what string, id fund.ReservationID) {
	if err != nil {
		var state []string
		for _, asset := range a.x.assets {
			state = append(state, fmt.Sprintf("%s balance %s, reserved %s", asset, a.f.Balance(asset), a.f.Reserved(asset)))
		}
		panic(fmt.Sprintf("actors: the insurance fund could not %s %d: %v; %s", what, id, err, strings.Join(state, "; ")))
	}
}

func (a *fundActor) settle(id fund.ReservationID, s fund.Settlement, name, what string) {
	s.TimeMs = a.x.clock(&a.j)
	out, err := a.f.Settle(id, s)
	if err != nil {
		a.must(err, "settle a "+what+" of account "+name+" for", id)
	}
	a.noteUncovered(s.Asset, out.Uncovered, name, what)
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

// noteUncovered counts (for the audit) and logs what the fund could not
// pay of account name's what.
func (a *fundActor) noteUncovered(asset string, amount market.Money, name, what string) {
	if amount > 0 {
		a.uncovered[slices.Index(a.x.assets, asset)] += int64(amount)
		a.uncoveredLog.Event("account", name, "of", what, "uncovered", amount)
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
	case fund.ReasonFunding:
		reason = wire.ReasonFunding
	}
	return wire.FundEvent{Seq: e.Seq, TimeMs: e.TimeMs, Asset: e.Asset, Delta: e.Delta.Decimal(),
		Balance: e.Balance.Decimal(), Reason: reason, Account: name, Symbol: e.Symbol}
}

// fundConfig is the fund's caps from the retention.
func (x *Exchange) fundConfig() fund.Config {
	return fund.Config{HistoryCap: x.keep.FundEvents, DailyCap: x.keep.FundDays}
}
