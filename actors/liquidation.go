package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// liquidation is an account actor's in-flight risk.Liquidation and the
// protocol state around it: the fund reservation, each leg's IOC order, its
// ADL rounds and (on a socialized-loss symbol) its socialization round.
type liquidation struct {
	l        *risk.Liquidation
	resID    fund.ReservationID
	quote    *reserveMsg  // the reservation request, its legs' needs quoted by the books
	reserved bool         // the fund answered the reservation
	amount   market.Money // what the fund reserved
	legs     []*liqLeg
	// quotes counts the socialized legs' set-aside quotes not answered yet
	// (socialize.go); the IOC orders go out when it is back to 0.
	quotes int
}

type liqLeg struct {
	h    *symbolHandle
	g    *risk.LiquidationLeg // points into l.Legs
	need market.Money         // coverage quoted for the leg (set on the fund's answer)
	// share is the leg's share of the reservation (set by sendOrders,
	// before any socialized-loss extension).
	share market.Money
	// order is the leg's IOC liquidation order while it is in the book.
	order book.OrderID
	// ADL round: asked is set while a deleverage request is out; planned
	// when the ADL actor's plan arrived; pending counts closes not yet
	// answered; expect is the planned quantity not yet answered; progress
	// records whether the round closed anything.
	asked, planned, progress bool
	pending                  int
	expect                   book.Lots
	idle                     int // rounds in a row that closed nothing
	// price of the leg's ADL closes: its bankruptcy price, or the mark when
	// risk has none in range (see adlPrice).
	price book.Ticks
	// social is the leg's socialized-loss round (socialize.go); unused
	// unless the leg's symbol is in adl_mode "socialized".
	social social
}

// adlPrice is the price the leg's remainder is deleveraged at: the
// bankruptcy price (risk keeps it within [1 tick, MaxPrice] and reports
// what a clamp costs in the leg's Deficit, reserved up front).
func (leg *liqLeg) adlPrice() book.Ticks { return leg.g.Bankruptcy }

// slowRetry is the backoff from which a waiting leg no longer counts as
// pending work for quiescence (it waits for the book or the ranking to
// change, which may never happen in a quiet test).
const slowRetry = 64 * time.Millisecond

func (lq *liquidation) leg(h *symbolHandle) *liqLeg {
	for _, g := range lq.legs {
		if g.h == h {
			return g
		}
	}
	return nil
}

func (lq *liquidation) isOrder(id book.OrderID) bool {
	for _, g := range lq.legs {
		if g.order == id {
			return true
		}
	}
	return false
}

// liquidate takes over the account (cross) or h's position (isolated) when
// risk agrees it is liquidatable at the stored marks: cancel the orders,
// ask the fund for coverage, then send IOC orders (onReserved).
func (a *accountActor) liquidate(ctx actor.Context, h *symbolHandle) {
	if a.liq != nil {
		return
	}
	l, cancels, code := a.acct.StartLiquidation(h.sym)
	if code != risk.OK {
		return
	}
	lq := &liquidation{l: l, resID: fund.ReservationID(a.x.orderIDs.Add(1))}
	a.liq = lq
	a.cancelIDs(ctx, cancels, nil)
	q := &reserveMsg{id: lq.resID, base: lq.baseDeficit(), from: ctx.Self()}
	for i := range l.Legs {
		g := &l.Legs[i]
		lh := a.x.symbol(g.Symbol.Name)
		lq.legs = append(lq.legs, &liqLeg{h: lh, g: g})
		q.legs = append(q.legs, quoteLeg{h: lh, qty: g.Remaining, bankruptcy: g.Bankruptcy})
		// The position left the account: off the ranking until its
		// remainder is offered to ADL, and no more marks.
		a.syms[lh.idx].adl = 0
		ctx.Send(a.x.adl, &adlPositionMsg{sym: lh.idx, acct: a.e.id, name: a.e.name, pid: a.e.pid})
		a.positionChanged(ctx, lh)
		if a.x.events {
			s := g.Symbol
			a.emit(&wire.AccountEvent{Type: wire.EventLiquidation, Liquidation: &wire.Liquidation{
				Symbol: s.Name, Side: posSide(g.Qty), Qty: s.Qty(abs(g.Qty)), MarkPrice: s.Price(g.Mark),
				LiquidationPrice: s.Price(g.Liquidation), BankruptcyPrice: s.Price(g.Bankruptcy),
			}})
		}
	}
	// What closing every leg at its bankruptcy price still costs the fund
	// (risk's Liquidation.Deficit: clamped legs) is reserved first.
	// The request goes through the legs' books (after the cancels above,
	// so the account's own orders are gone) to the fund.
	lq.quote = q
	if len(q.legs) == 0 {
		ctx.Send(a.x.fund, q)
		return
	}
	ctx.Send(q.legs[0].h.pid, q)
}

// baseDeficit is what the liquidation costs the fund even if every leg
// closes at its bankruptcy price (see liquidate).
func (lq *liquidation) baseDeficit() market.Money { return lq.l.Deficit }

// quoteDepth: a leg's need is quoted for a sweep of quoteDepth times its
// quantity, room for as much again taken first by liquidations in flight.
const quoteDepth = 2

// onQuote runs in the symbol actor of the reservation's next leg: it quotes
// the leg's need from the book and passes the request on, to the next leg's
// symbol or to the fund.
func (s *symbolActor) onQuote(ctx actor.Context, m *reserveMsg) {
	if m.next < len(m.legs) {
		g := &m.legs[m.next]
		g.need = s.quoteNeed(g)
		m.next++
	}
	if m.next < len(m.legs) {
		ctx.Send(m.legs[m.next].h.pid, m)
		return
	}
	ctx.Send(s.x.fund, m)
}

// quoteNeed is the coverage a leg's IOC order needs to fill in the visible
// book: a long sells quoteDepth × qty into the bids down to level price P
// (the last level if the bids hold less), so need = qty × (B − P) with P no
// lower than the band's floor (a short buys up the asks, need = qty ×
// (P − B), P no higher than the ceiling); 0 when that side is empty or
// better than B. The IOC's limit B ∓ R/qty then reaches P when the fund
// grants it all.
func (s *symbolActor) quoteNeed(g *quoteLeg) market.Money {
	lo, hi := s.sym.Band(s.h.lastMark())
	qty := abs(g.qty)
	p, ok := s.sweepPrice(g.qty > 0, quoteDepth*qty)
	switch {
	case !ok:
	case g.qty > 0 && g.bankruptcy > max(p, lo):
		return s.sym.Value(g.bankruptcy-max(p, lo), qty)
	case g.qty < 0 && min(p, hi) > g.bankruptcy:
		return s.sym.Value(min(p, hi)-g.bankruptcy, qty)
	}
	return 0
}

// sweepPrice is the price of the last level a sell (buy) of qty lots takes
// in the book's bids (asks), or of its last level when it holds less; false
// when that side is empty.
func (s *symbolActor) sweepPrice(sell bool, qty book.Lots) (book.Ticks, bool) {
	for n := 16; ; n *= 8 {
		s.bids, s.asks = s.book.Depth(n, s.bids, s.asks)
		lv := s.asks
		if sell {
			lv = s.bids
		}
		if len(lv) == 0 {
			return 0, false
		}
		var sum book.Lots
		for _, l := range lv {
			if sum += l.Qty; sum >= qty {
				return l.Price, true
			}
		}
		if len(lv) < n {
			return lv[len(lv)-1].Price, true
		}
	}
}

// onReserved splits the reservation over the legs by need and sends each
// leg's IOC order, limited per Liquidation.OrderLimit.
func (a *accountActor) onReserved(ctx actor.Context, m *reservedMsg) {
	lq := a.liq
	if lq == nil || lq.reserved {
		return
	}
	lq.reserved = true
	lq.amount = m.amount
	if a.quoteSocial(ctx) {
		return // sendOrders once the ADL actor quoted every socialized leg's winners' profit
	}
	a.sendOrders(ctx)
}

// sendOrders splits the reservation over the legs by need and sends each
// leg's IOC order, limited per Liquidation.OrderLimit (see onReserved).
func (a *accountActor) sendOrders(ctx actor.Context) {
	lq := a.liq
	var total market.Money
	for i, g := range lq.legs {
		g.need = lq.quote.legs[i].need
		total += g.need
	}
	room := max(0, lq.amount-lq.baseDeficit()) // what the IOC orders may lose
	for _, leg := range lq.legs {
		if leg.g.Remaining == 0 {
			continue
		}
		var share market.Money
		if total > 0 {
			share = market.Money(market.MustMulDiv(int64(room), int64(leg.need), int64(total), false))
		}
		leg.share = share
		if leg.social.quoted {
			// Socialized loss: the book may take the quoted need beyond
			// the reservation, up to the winners' profit set aside for
			// this leg.
			share = min(max(share, leg.need), share+leg.social.capacity)
		}
		limit := lq.l.OrderLimit(leg.h.sym, share, leg.h.lastMark())
		if limit <= 0 {
			a.askADL(ctx, leg.h.idx)
			continue
		}
		side := book.Sell
		if leg.g.Remaining < 0 {
			side = book.Buy
		}
		leg.order = book.OrderID(a.x.orderIDs.Add(1))
		ctx.Send(leg.h.pid, &placeMsg{order: book.Order{ID: leg.order, Account: a.e.id, Side: side,
			Type: book.Limit, TIF: book.IOC, Price: limit, Qty: abs(leg.g.Remaining)}, from: ctx.Self()})
	}
	a.checkLiquidationDone(ctx)
}

// onLiquidationResult settles an IOC liquidation order's fills against the
// leg and offers the remainder to ADL.
func (a *accountActor) onLiquidationResult(ctx actor.Context, h *symbolHandle, m *takerResultMsg) {
	leg := a.liq.leg(h)
	leg.order = 0
	for _, f := range m.fills {
		if code := a.liq.l.ApplyFill(h.sym, f.Price, f.Qty); code != risk.OK {
			a.x.log.Error("actors: liquidation fill refused", "account", a.e.name, "code", code.String())
		}
	}
	a.canceled(m.canceled)
	if leg.g.Remaining != 0 {
		a.askADL(ctx, h.idx)
		return
	}
	a.checkLiquidationDone(ctx)
}

// askADL offers a leg's remainder to the ADL actor at its bankruptcy price.
func (a *accountActor) askADL(ctx actor.Context, sym int) {
	lq := a.liq
	if lq == nil {
		return
	}
	leg := lq.leg(a.x.symbols[sym])
	if leg == nil || leg.asked || leg.order != 0 {
		return
	}
	if leg.g.Remaining == 0 {
		a.checkLiquidationDone(ctx)
		return
	}
	leg.asked, leg.planned, leg.progress, leg.pending, leg.expect = true, false, false, 0, 0
	a.syms[sym].adl = leg.g.Remaining // the ranking holds the leg until the account reports again
	leg.price = leg.adlPrice()
	ctx.Send(a.x.adl, &deleverageMsg{price: leg.price, pos: *a.legPosition(leg)})
}

// legPosition is a leg's remainder as the ADL ranking holds it: its share
// of the entry cost and a token margin (a bankrupt leg has no collateral;
// it ranks last, as a losing position).
func (a *accountActor) legPosition(leg *liqLeg) *adlPositionMsg {
	cost := market.Money(market.MustMulDiv(int64(abs(leg.g.Cost)), int64(abs(leg.g.Remaining)), int64(abs(leg.g.Qty)), false))
	return &adlPositionMsg{sym: leg.h.idx, acct: a.e.id, name: a.e.name, pid: a.e.pid, qty: leg.g.Remaining, cost: max(cost, 1), margin: 1}
}

func (a *accountActor) onADLPlan(ctx actor.Context, m *adlPlanMsg) {
	leg := a.adlLeg(m.sym)
	if leg == nil {
		return
	}
	leg.planned = true
	leg.pending += m.closes
	leg.expect += m.covered
	a.adlRoundStep(ctx, leg)
}

func (a *accountActor) onADLFilled(ctx actor.Context, m *adlFilledMsg) {
	leg := a.adlLeg(m.sym)
	if leg == nil {
		a.x.log.Error("actors: ADL close for no liquidation", "account", a.e.name)
		return
	}
	leg.pending--
	leg.expect -= m.asked
	if m.qty > 0 {
		leg.progress = true
		if code := a.liq.l.ApplyFill(leg.h.sym, leg.price, m.qty); code != risk.OK {
			a.x.log.Error("actors: ADL close refused by the liquidation", "account", a.e.name, "code", code.String())
		}
		a.adlEvent(leg.h, a.e.name, m.counterparty, m.qty, leg.price)
	}
	a.adlRoundStep(ctx, leg)
}

func (a *accountActor) adlLeg(sym int) *liqLeg {
	if a.liq == nil {
		return nil
	}
	return a.liq.leg(a.x.symbols[sym])
}

// adlRoundStep ends an ADL round once the plan and every answer are in:
// done, ask again at once (the round made progress), or after a backoff
// (the ranking was stale or the opposite side empty).
func (a *accountActor) adlRoundStep(ctx actor.Context, leg *liqLeg) {
	if !leg.planned || leg.pending != 0 {
		return
	}
	leg.asked = false
	switch {
	case leg.g.Remaining == 0:
		a.checkLiquidationDone(ctx)
	case leg.progress:
		leg.idle = 0
		a.askADL(ctx, leg.h.idx)
	default:
		leg.idle++
		delay := a.x.retry << min(leg.idle-1, 10)
		self, x, sym := ctx.Self(), a.x, leg.h.idx
		fast := delay < slowRetry
		if fast {
			x.timers.Add(1)
		}
		time.AfterFunc(delay, func() { x.root.Send(self, &adlRetryMsg{sym: sym, fast: fast}) })
	}
}

// onADLClose is this account's side of a forced close: its position (or,
// while it is itself being liquidated, its leg) closes at the bankrupt
// account's bankruptcy price. It closes what it can and tells the bankrupt
// account how much, so a stale ranking only costs another round.
func (a *accountActor) onADLClose(ctx actor.Context, m *adlCloseMsg) {
	h := a.x.symbols[m.sym]
	want := book.Lots(1)
	if m.side == book.Sell {
		want = -1
	}
	var done book.Lots
	if pos, ok := a.acct.Position(h.sym); ok && pos.Qty*want > 0 {
		done = min(m.qty, abs(pos.Qty))
		res, code := a.acct.ApplyADLClose(h.sym, done, m.price)
		if code != risk.OK {
			a.x.log.Error("actors: ADL close refused", "account", a.e.name, "code", code.String())
			done = 0
		} else {
			if res.Deficit > 0 {
				ctx.Send(a.x.fund, &deficitMsg{acct: a.e.name, sym: h.idx, amount: res.Deficit})
			}
			if res.Liquidate {
				a.liquidate(ctx, h)
			}
		}
	} else if leg := a.adlLeg(m.sym); leg != nil && leg.g.Remaining*want > 0 && a.liq.reserved && leg.order == 0 && (!leg.asked || leg.planned) {
		// A leg closes against another bankrupt leg only at a price no
		// worse than its own bankruptcy price, so its deficit stays within
		// its reservation.
		better := (want > 0 && m.price >= leg.adlPrice()) || (want < 0 && m.price <= leg.adlPrice())
		if better {
			done = max(0, min(m.qty, abs(leg.g.Remaining)-leg.expect))
			if done > 0 {
				if code := a.liq.l.ApplyFill(h.sym, m.price, done); code != risk.OK {
					a.x.log.Error("actors: ADL close refused by the liquidation", "account", a.e.name, "code", code.String())
					done = 0
				}
			}
		}
	}
	a.positionChanged(ctx, h, m.qty) // acknowledges the close, whatever it did
	ctx.Send(m.bankrupt, &adlFilledMsg{sym: m.sym, qty: done, asked: m.qty, counterparty: a.e.name})
	if done > 0 {
		a.adlEvent(h, m.name, a.e.name, done, m.price)
		if a.x.events {
			a.x.sink.ADLEvent(h.sym.Name, &wire.ADLEvent{Symbol: h.sym.Name, BankruptAccount: m.name,
				Counterparty: a.e.name, Qty: h.sym.Qty(done), Price: h.sym.Price(m.price), TimeMs: a.x.now()})
		}
		a.checkLiquidationDone(ctx)
	}
}

func (a *accountActor) adlEvent(h *symbolHandle, bankrupt, counterparty string, qty book.Lots, price book.Ticks) {
	if a.x.events {
		a.emit(&wire.AccountEvent{Type: wire.EventADL, ADL: &wire.ADLEvent{Symbol: h.sym.Name,
			BankruptAccount: bankrupt, Counterparty: counterparty, Qty: h.sym.Qty(qty),
			Price: h.sym.Price(price), TimeMs: a.x.now()}})
	}
}

// checkLiquidationDone settles a closed liquidation with the fund (which
// releases the reservation), lets the account trade again and re-checks
// any position that in-flight fills opened meanwhile.
func (a *accountActor) checkLiquidationDone(ctx actor.Context) {
	lq := a.liq
	if lq == nil || !lq.reserved || !lq.l.Done() {
		return
	}
	for _, g := range lq.legs {
		if g.order != 0 || g.asked {
			return // answers still due
		}
	}
	s, code := lq.l.Settle()
	if code != risk.OK {
		a.x.log.Error("actors: liquidation settlement refused", "account", a.e.name, "code", code.String())
		return
	}
	if !a.socialized(ctx, s.Fund) {
		return // the winners' charges are due
	}
	a.fees += s.Fee
	var volume market.Money
	for _, g := range lq.legs {
		volume += g.g.Executed
	}
	ctx.Send(a.x.fund, &settleMsg{id: lq.resID, acct: a.e.id, name: a.e.name, sym: lq.legs[0].h.sym.Name, pnl: s.Fund + lq.charged(), volume: volume})
	a.liq = nil
	a.acct.EndLiquidation()
	a.x.liquidations.Add(1)
	for _, g := range lq.legs {
		a.positionChanged(ctx, g.h)
	}
	for _, h := range a.x.symbols {
		if p, ok := a.acct.Position(h.sym); ok && p.Qty != 0 && a.acct.OnMark(h.sym, max(h.lastMark(), 1)) {
			a.liquidate(ctx, h)
			return
		}
	}
}
