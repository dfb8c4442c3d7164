package actors

import (
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/liq"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// liquidation is an account actor's in-flight liq.Machine and the
// wiring around it: each leg's symbol handle and the coverage request
// whose quotes come back with the fund's answer. The machine lives inside
// it (one allocation, liq.StartInto), so a liquidation must not be copied.
type liquidation struct {
	liq.Machine
	hs    []*symbolHandle // by leg
	quote *reserveMsg
	// deferred holds the forced closes the machine deferred, by the token
	// it was given (liq.AnswerClose answers them).
	deferred  map[uint64]*adlCloseMsg
	lastClose uint64
	hsBuf     [1]*symbolHandle // room for the common single leg
}

// slowRetry is the backoff from which a waiting leg no longer counts as
// pending work for quiescence (it waits for the book or the ranking to
// change, which may never happen in a quiet test).
const slowRetry = 64 * time.Millisecond

// deferredClose takes back the forced close the machine answers now.
func (lq *liquidation) deferredClose(token uint64) *adlCloseMsg {
	m := lq.deferred[token]
	if m == nil {
		panic(fmt.Sprintf("actors: the liquidation answered close %d, which it never deferred", token))
	}
	delete(lq.deferred, token)
	return m
}

// legOf returns the index of h's leg, -1 when h has none.
func (lq *liquidation) legOf(h *symbolHandle) int {
	for i, lh := range lq.hs {
		if lh == h {
			return i
		}
	}
	return -1
}

// liquidate starts a liquidation when risk agrees the account (cross) or
// h's position (isolated) is liquidatable at the stored marks.
func (a *accountActor) liquidate(ctx actor.Context, h *symbolHandle) {
	if a.liq != nil || a.partial != nil || a.partialLiquidate(ctx, h) {
		return
	}
	a.takeOver(ctx, h)
}

// takeOver starts the full liquidation: the position (isolated) or every
// cross position taken over by a liq.Machine.
func (a *accountActor) takeOver(ctx actor.Context, h *symbolHandle) {
	lq := new(liquidation)
	before := a.risk(h).Balance()
	cancels, code := liq.StartInto(&lq.Machine, a.risk(h), h.sym, fund.ReservationID(a.x.newID(&a.j)), a.liqConfig(), socialized)
	if code != risk.OK {
		return
	}
	// What backed the positions went with them: the account's whole loss.
	a.keepIncome(h, 0, incomeLiquidation, a.risk(h).Balance()-before, 0, a.x.clock(&a.j))
	lq.hs = lq.hsBuf[:0]
	m := &lq.Machine
	a.liq = lq
	cancels = append(cancels, a.untriggered(func(h *symbolHandle) bool { return m.Leg(h.sym) >= 0 })...)
	a.cancelIDs(ctx, cancels, nil)
	for i := range m.Legs {
		g := &m.Legs[i]
		lh := a.x.symbol(g.Symbol.Name)
		lq.hs = append(lq.hs, lh)
		// The position left the account: off the ranking until its
		// remainder is offered to ADL, and no more marks.
		a.syms[lh.idx].adl = 0
		ctx.Send(a.x.adl, &adlPositionMsg{sym: lh.idx, acct: a.e.id, name: a.e.name, pid: a.e.pid})
		a.positionChanged(ctx, lh)
		if a.x.events { // also the public liquidations stream (and its metric): built whoever follows the account
			a.emit(&wire.AccountEvent{Type: wire.EventLiquidation, Liquidation: &wire.Liquidation{
				Symbol: g.Symbol.Name, Side: posSide(g.Qty), Qty: lh.qty(abs(g.Qty)), MarkPrice: lh.price(g.Mark),
				LiquidationPrice: lh.price(g.Liquidation), BankruptcyPrice: lh.price(g.Bankruptcy), Kind: wire.LiquidationFull,
			}})
		}
	}
	a.perform(ctx) // the coverage request, after the cancels so the books quote without the account's orders
}

func socialized(s *market.Symbol) bool { return s.ADL == market.ADLSocialized }

func (x *Exchange) newOrderID() book.OrderID { return book.OrderID(x.orderIDs.Add(1)) }

// liqConfig is a liquidation's liq.Config: in durable mode its ids come
// from the record being handled.
func (a *accountActor) liqConfig() liq.Config {
	c := a.x.liqConfig
	if a.x.rec != nil {
		c.NewID = func() book.OrderID { return book.OrderID(a.x.newID(&a.j)) }
	}
	return c
}

// step feeds the liquidation one input and performs its effects; a broken
// invariant stops the account (mustOK).
func (a *accountActor) step(ctx actor.Context, in liq.Input) {
	err := a.liq.Step(in)
	f := failTest.Load()
	if f != nil {
		f.stepped(a, in)
	}
	a.mustOK(err)
	a.took = ctx.Message()
	a.perform(ctx)
	if f != nil {
		f.checkStep(in)
	}
}

// mustOK stops the account on a broken invariant: the panic goes to the
// account's supervisor (registry.go), which takes it out of service with
// the reason and the state that broke.
func (a *accountActor) mustOK(err error) {
	if err != nil {
		panic(fmt.Errorf("%w; state: %s", err, a.describeLiquidation()))
	}
}

// perform carries out the liquidation's effects.
func (a *accountActor) perform(ctx actor.Context) {
	lq := a.liq
	for _, e := range lq.Ready() {
		switch e := e.(type) {
		case *liq.Reserve:
			q := &reserveMsg{id: e.ID, base: e.Base, asset: lq.hs[0].asset, from: ctx.Self()}
			q.legs = q.legBuf[:0]
			for i, g := range e.Legs {
				q.legs = append(q.legs, quoteLeg{h: lq.hs[i], leg: g})
			}
			lq.quote = q
			if len(q.legs) == 0 {
				ctx.Send(a.x.fund, q)
				continue
			}
			ctx.Send(q.legs[0].h.pid, q) // through the legs' books to the fund
		case *liq.QuoteSocial:
			ctx.Send(a.x.adl, &socializeMsg{quote: true, sym: lq.hs[e.Leg].idx, side: e.Side, pid: a.e.pid, name: a.e.name})
		case *liq.PlaceIOC:
			h := lq.hs[e.Leg]
			ctx.Send(h.pid, &placeMsg{order: book.Order{ID: e.ID, Account: a.e.id, Side: e.Side,
				Type: book.Limit, TIF: book.IOC, Price: e.Price, Qty: e.Qty}, from: ctx.Self(), liquidation: true})
		case *liq.Deleverage:
			h := lq.hs[e.Leg]
			a.syms[h.idx].adl = e.Qty // the ranking holds the leg until the account reports again
			ctx.Send(a.x.adl, &deleverageMsg{price: e.Price, pos: a.legPosition(h, e.Qty, e.Cost, e.Price)})
		case *liq.RetryAfter:
			fast := e.After < slowRetry
			if fast {
				a.x.timers.Add(1)
			}
			a.x.after(&a.j, e.After, ctx.Self(), &adlRetryMsg{sym: lq.hs[e.Leg].idx, res: lq.Res, fast: fast, timer: a.x.timerID(&a.j)})
		case *liq.Socialize:
			ctx.Send(a.x.adl, &socializeMsg{sym: lq.hs[e.Leg].idx, side: e.Side, deficit: e.Deficit, release: e.Release, pid: a.e.pid, name: a.e.name})
		case *liq.Settle:
			a.settled(ctx, *e)
		case *liq.AnswerClose:
			a.answerClose(ctx, lq.deferredClose(e.Token), e.Qty, 0, 0)
		case *liq.Reprice:
			p := a.legPosition(lq.hs[e.Leg], e.Qty, e.Cost, e.Price)
			ctx.Send(a.x.adl, &p)
		case *liq.AdjustClose:
			ctx.Send(a.x.accounts.entry(e.Account).pid, &socialMsg{kind: adlAdjust, sym: lq.hs[e.Leg].idx, amount: e.Amount,
				bankrupt: ctx.Self(), name: a.e.name})
		default:
			a.giveBack(ctx, e)
		}
	}
}

// giveBack performs what an abandoned liquidation returns (Abandon).
func (a *accountActor) giveBack(ctx actor.Context, e liq.Effect) {
	switch e := e.(type) {
	case *liq.Release:
		ctx.Send(a.x.fund, &releaseMsg{id: e.ID})
	case *liq.ReleaseSocial:
		ctx.Send(a.x.adl, &socializeMsg{abandon: true, sym: a.liq.hs[e.Leg].idx, side: e.Side, release: e.Amount})
	case *liq.Refund: // through the ranking, which takes it off the charges
		ctx.Send(a.x.adl, &socializeMsg{sym: a.liq.hs[e.Leg].idx, side: e.Side, refund: e.Amount, winner: e.Account, qty: e.Qty, closed: e.Closed,
			name: a.e.name})
	case *liq.AnswerClose:
		// Abandon's own closed nothing; one a Step closed before the
		// account failed and never sent (the panic came first) closed
		// Qty on the frozen leg, which the bankrupt leg must book too.
		a.answerFailed(ctx, a.liq.deferredClose(e.Token), e.Qty, 0)
	}
}

// answerFailed is a failed account's answer to forced close m: the
// ranking's acknowledgement (its position is off the ranking) and what it
// closed, done, by by (closeAnswer).
func (a *accountActor) answerFailed(ctx actor.Context, m *adlCloseMsg, done book.Lots, by book.AccountID) {
	ctx.Send(a.x.adl, &adlPositionMsg{sym: m.sym, acct: a.e.id, name: a.e.name, pid: a.e.pid, acked: m.qty})
	a.closeAnswer(ctx, m, done, by)
}

// settled books a finished liquidation with the fund, lets the account
// trade again and re-checks any position that in-flight fills opened
// meanwhile.
func (a *accountActor) settled(ctx actor.Context, s liq.Settle) {
	lq := a.liq
	a.wallet(lq.hs[0]).fees += s.Fee
	ctx.Send(a.x.fund, &settleMsg{id: s.ID, acct: a.e.id, name: a.e.name, sym: s.Symbol.Name, pnl: s.Fund, volume: s.Volume})
	a.liq = nil
	a.risk(lq.hs[0]).EndLiquidation()
	a.x.liquidations.Add(1)
	for _, h := range lq.hs {
		a.positionChanged(ctx, h)
	}
	a.liquidateAny(ctx)
}

// liquidateAny liquidates the first position the stored marks make
// liquidatable, after a change that may have touched any of them.
func (a *accountActor) liquidateAny(ctx actor.Context) {
	for _, h := range a.x.symbols {
		if p, ok := a.risk(h).Position(h.sym); ok && p.Qty != 0 && a.risk(h).OnMark(h.sym, max(a.markOf(h, p), 1)) {
			a.liquidate(ctx, h)
			return
		}
	}
}

// onQuote runs in the symbol actor of the reservation's next leg: it quotes
// the leg's need from the book (liq.Need) and passes the request on, to
// the next leg's symbol or to the fund.
func (s *symbolActor) onQuote(ctx actor.Context, m *reserveMsg) {
	if m.next < len(m.legs) {
		g := &m.legs[m.next]
		g.quote = liq.Need(g.leg, s.book, s.h.lastMark())
		m.next++
	}
	if m.next < len(m.legs) {
		ctx.Send(m.legs[m.next].h.pid, m)
		return
	}
	ctx.Send(s.x.fund, m)
}

func (a *accountActor) onReserved(ctx actor.Context, m *reservedMsg) {
	if a.liq == nil {
		panic("actors: a fund reservation for no liquidation")
	}
	var buf [4]liq.Quote // the input does not escape: on the stack
	q := buf[:0]
	for _, g := range a.liq.quote.legs {
		q = append(q, g.quote)
	}
	a.step(ctx, liq.Reserved{Amount: m.amount, Quotes: q})
}

// onLiquidationResult feeds an IOC liquidation order's fills to the
// liquidation (an abandoned one too: its makers booked them).
func (a *accountActor) onLiquidationResult(ctx actor.Context, m *takerResultMsg) {
	var buf [8]risk.Exec // the input does not escape: on the stack
	execs := buf[:0]
	for _, f := range m.fills {
		execs = append(execs, risk.Exec{Price: f.Price, Qty: f.Qty})
	}
	if a.e.failed.Load() {
		for _, c := range m.canceled { // as refuseAll's canceledMsg: risk is frozen
			a.orders.Remove(c.ID)
		}
		a.abandoned(ctx, liq.IOCDone{ID: m.id, Fills: execs})
		return
	}
	a.canceled(m.canceled)
	// The lots the leg booked, even if the account panics: the re-posted
	// result no longer names a liquidation order, and refuseAll holds
	// only the fills beyond them (bookedOf), or they would count twice.
	g := &a.liq.Legs[a.liq.legOf(a.x.symbols[m.sym])]
	defer func(rem book.Lots) { a.booked = abs(rem - g.Remaining) }(g.Remaining)
	a.step(ctx, liq.IOCDone{ID: m.id, Fills: execs})
}

// legPosition is a leg's remainder as the ADL ranking holds it (see
// liq.RankedCost): a token margin, it ranks last.
func (a *accountActor) legPosition(h *symbolHandle, qty book.Lots, cost market.Money, bound book.Ticks) adlPositionMsg {
	return adlPositionMsg{sym: h.idx, acct: a.e.id, name: a.e.name, pid: a.e.pid, qty: qty, cost: cost, margin: 1, bound: bound}
}

// adlLeg returns the liquidation's leg index in symbol sym, or stops the
// account: the ADL actor answers only legs that asked.
func (a *accountActor) adlLeg(sym int, what string) int {
	if a.liq != nil {
		if i := a.liq.legOf(a.x.symbols[sym]); i >= 0 {
			return i
		}
	}
	panic(fmt.Sprintf("actors: %s for no liquidation leg in %s; state: %s", what, a.x.symbols[sym].sym.Name, a.describeLiquidation()))
}

func (a *accountActor) onADLPlan(ctx actor.Context, m *adlPlanMsg) {
	a.step(ctx, liq.ADLPlan{Leg: a.adlLeg(m.sym, "ADL plan"), Closes: m.closes, Covered: m.covered})
}

func (a *accountActor) onADLFilled(ctx actor.Context, m *adlFilledMsg) {
	i := a.adlLeg(m.sym, "ADL close")
	if m.qty > 0 {
		g := &a.liq.Legs[i]
		// The leg was taken over with the account's balance: closing it
		// realizes nothing of the account's.
		a.adlEvent(a.liq.hs[i], a.e.name, m.counterparty, closingSide(g.Qty), m.qty, g.Bankruptcy, 0)
	}
	acct := m.acct
	if m.funded < a.syms[m.sym].funded {
		// The counterparty closed before the funding time the leg last
		// took reached it: it was not paid or charged it, so its close
		// is not adjusted for it; that part stays in the deficit.
		acct = 0
	}
	a.step(ctx, liq.ADLFilled{Leg: i, Qty: m.qty, Asked: m.asked, Account: acct})
}

func (a *accountActor) onADLRetry(ctx actor.Context, m *adlRetryMsg) {
	if m.fast {
		a.x.timers.Add(-1)
	}
	if a.liq == nil || a.liq.Res != m.res {
		return // the liquidation ended meanwhile (a counterparty's close finished it)
	}
	if i := a.liq.legOf(a.x.symbols[m.sym]); i >= 0 {
		a.step(ctx, liq.TimerFired{Leg: i})
	}
}

// onADLClose is this account's side of a forced close: its position (or,
// while it is itself being liquidated, its leg: liq.Machine.CloseAgainst)
// closes at the bankrupt account's bankruptcy price. It closes what it can
// and tells the bankrupt account how much, so a stale ranking only costs
// another round.
func (a *accountActor) onADLClose(ctx actor.Context, m *adlCloseMsg) {
	h := a.x.symbols[m.sym]
	if a.partial != nil {
		// A partial liquidation's reduce-only order is in the book against
		// this position: a forced close now could let it flip it. Close
		// nothing; the bankrupt account asks the next in line.
		a.answerClose(ctx, m, 0, 0, 0)
		return
	}
	before := a.risk(h).Qty(h.sym)
	done, res, code := a.risk(h).CloseForADL(h.sym, m.side, m.qty, m.price, a.closingOnWay(h, m.side.Opposite()))
	if code != risk.OK {
		panic(fmt.Sprintf("actors: risk refused an ADL close of %d at %d: %s", m.qty, m.price, code))
	}
	if res.Deficit > 0 {
		ctx.Send(a.x.fund, &deficitMsg{acct: a.e.name, sym: h.idx, amount: res.Deficit})
	}
	a.closing = closeBooked{m, done, a.e.id}
	failAt(a, FailADLClosed)
	a.keepTrade(h, incomeADLPnL, res.Realized, res.Fee, res.Deficit, 0, a.x.clock(&a.j))
	inLiq := false
	if done > 0 {
		// Moved from outside, the position may leave reduce-only orders
		// beyond it, or closing orders that would now open (past MaxQty,
		// or at all: never checked as opens).
		ids := append(a.risk(h).OpenedByClose(h.sym, before, a.unanswered), a.risk(h).ExcessOverMax(h.sym)...)
		if res.ReduceOnlyExcess {
			ids = append(ids, a.risk(h).ExcessReduceOnly(h.sym)...)
		}
		slices.Sort(ids) // once each
		ids = slices.Compact(ids)
		if len(ids) > 0 {
			ctx.Send(h.pid, &cancelIDsMsg{ids: ids, from: ctx.Self()})
		}
		a.cancelPastCloses(ctx, h.asset)
		if res.Liquidate {
			a.liquidate(ctx, h)
		}
	} else if a.liq != nil {
		lq := a.liq
		lq.lastClose++
		var deferred bool
		var err error
		done, deferred, err = lq.CloseAgainst(h.sym, m.side, m.qty, m.price, lq.lastClose)
		if deferred { // never with an error
			if lq.deferred == nil {
				lq.deferred = map[uint64]*adlCloseMsg{}
			}
			lq.deferred[lq.lastClose] = m
			return // answered once the leg's own plan is in (liq.AnswerClose)
		}
		// Before mustOK: the leg booked done even when the machine then
		// broke (its settlement refused), and the re-post answers it.
		a.closing = closeBooked{m, done, 0}
		failAt(a, FailLegClosed)
		a.mustOK(err)
		inLiq = true
	}
	by := a.e.id
	if inLiq {
		by = 0
	}
	a.answerClose(ctx, m, done, res.Realized, by)
	if inLiq {
		a.perform(ctx)
	}
	failAt(a, FailADLAnswered)
}

// closeBooked is a forced close m that booked done lots, answered as
// closed by by (answerClose).
type closeBooked struct {
	m    *adlCloseMsg
	done book.Lots
	by   book.AccountID
}

// closeAnswer tells the bankrupt account what close m closed and counts
// a close with the fund.
func (a *accountActor) closeAnswer(ctx actor.Context, m *adlCloseMsg, done book.Lots, by book.AccountID) {
	ctx.Send(m.bankrupt, &adlFilledMsg{sym: m.sym, qty: done, asked: m.qty, counterparty: a.e.name, acct: by, funded: a.syms[m.sym].funded})
	if done > 0 {
		ctx.Send(a.x.fund, &adlCountMsg{sym: m.sym})
	}
}

// closingOnWay is how many lots h's orders on side may still be matched
// as the book has them, which no cancel sent now can stop: a place on its
// way (o.onWay), or an order with an amend on its way, at the larger of
// its two quantities. A forced close leaves them to close
// (risk.Account.CloseForADL).
func (a *accountActor) closingOnWay(h *symbolHandle, side book.Side) book.Lots {
	var n book.Lots
	for _, o := range a.orders.Values() {
		switch {
		case o.h != h || o.side != side:
		case o.amending > 0:
			n += max(o.qty, o.pendQty) - o.filled
		case o.onWay:
			n += o.qty - o.filled
		}
	}
	return n
}

// unanswered says whether the book has yet to answer open order id's place
// or an amend of it.
func (a *accountActor) unanswered(id book.OrderID) bool {
	o := a.orders.get(id)
	return o != nil && (o.onWay || o.amending > 0)
}

// answerClose acknowledges a forced close to the ADL ranking, tells the
// bankrupt account what it closed (by: the account whose position closed,
// 0 for a leg of its own liquidation, which no adjustment reaches:
// liq.AdjustClose) and publishes it with what it realized (0 for such a
// leg: the takeover had the balance).
func (a *accountActor) answerClose(ctx actor.Context, m *adlCloseMsg, done book.Lots, realized market.Money, by book.AccountID) {
	h := a.x.symbols[m.sym]
	a.positionChanged(ctx, h, m.qty) // acknowledges the close, whatever it did
	failAt(a, FailADLAcked)
	a.closeAnswer(ctx, m, done, by)
	a.answered = m
	if done > 0 {
		a.adlEvent(h, m.name, a.e.name, m.side.Opposite(), done, m.price, realized)
		if a.x.events {
			a.x.sink.ADLEvent(h.sym.Name, &wire.ADLEvent{Symbol: h.sym.Name, BankruptAccount: m.name,
				Counterparty: a.e.name, Qty: h.qty(done), Price: h.price(m.price), TimeMs: a.x.clock(&a.j)})
		}
	}
}

// adlEvent publishes the account's "adl" event: a forced close of qty at
// price, the account's trade on side (0: a socialized-loss charge, which
// trades nothing), that realized realized and charged no fee.
func (a *accountActor) adlEvent(h *symbolHandle, bankrupt, counterparty string, side book.Side, qty book.Lots, price book.Ticks, realized market.Money) {
	if a.wantEvents() {
		rp, fee := realized.Decimal(), market.Money(0).Decimal()
		e := &wire.ADLEvent{Symbol: h.sym.Name, BankruptAccount: bankrupt, Counterparty: counterparty,
			Qty: h.qty(qty), Price: h.price(price), TimeMs: a.x.clock(&a.j), RealizedPnL: &rp, Fee: &fee}
		if side != 0 {
			e.Side = wireSide(side)
		}
		a.emit(&wire.AccountEvent{Type: wire.EventADL, ADL: e})
	}
}

// closingSide is the side of a trade that closes a position of qty (signed).
func closingSide(qty book.Lots) book.Side {
	if qty > 0 {
		return book.Sell
	}
	return book.Buy
}

// describeLiquidation reports the in-flight liquidation for a failure's
// log line and the soak test ("" without one).
func (a *accountActor) describeLiquidation() string {
	if a.liq == nil {
		return ""
	}
	return a.liq.Describe()
}
