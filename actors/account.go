package actors

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/internal/ring"
	"github.com/perpx/perpx/liq"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// accountActor owns one account: its risk.Account, the wire-level view of
// its open orders, and its share of the ledgers the audit sums (deposits,
// fees paid, funding received).
type accountActor struct {
	x *Exchange
	j jstate // the record being handled (durable mode)
	e *accountEntry
	// wallets are the account's money per settlement asset (Exchange.assets).
	wallets []wallet

	orders   openOrders
	byClient map[string]book.OrderID
	syms     []acctSym // by symbol index

	// closed and fills are the account's history (acct_history.go),
	// income its balance's movements (acct_income.go): incomeID is the
	// id of the newest row. closedCond holds the triggers of the kept
	// closed orders that were conditional.
	closed     ring.Ring[closedOrder]
	closedCond map[book.OrderID]*conditional
	fills      ring.Ring[fillRec]
	income     ring.Ring[incomeRec]
	incomeID   uint64

	// filling is the fill message being handled and booked the lots of
	// its fills risk has booked so far: when it panics, the failed
	// account holds only the rest (heldfill.go). held is what it holds,
	// by symbol (nil until it holds something).
	filling any
	booked  book.Lots
	held    []HeldFill
	// took is the last message whose answer its liquidation took (step):
	// when the account panics on it after, the re-post must not feed the
	// answer again (accountActor.abandoned). Not reset per message (a
	// write on every message would race replay with the actor's system
	// messages): it keeps the message alive, so no other has its address
	// (but pooled maker fills and places — a client order's result is
	// inside its place — which abandoned never sees: it is fed only
	// liquidation answers, never pooled).
	took any
	// answered is the last forced close, charge or close adjustment the
	// account answered,
	// closing the forced close risk (or its liquidation's leg) booked
	// last: when the account panics on one after, the re-post answers
	// only what it did not (refuseAll). Set where they happen, kept as
	// took is.
	answered any
	closing  closeBooked

	liq     *liquidation // in-flight liquidation, nil when none
	partial *partialLiq  // in-flight partial liquidation, nil when none
	seq     uint64       // account event seq
	n       uint64       // messages handled (quiescence probe)

	// mb is the actor's mailbox; wants caches wantEvents' answer for its
	// take of messages being handled.
	mb    *mailbox
	wants interest

	// free holds finished orders for reuse (newOrder, release): an order
	// lives from acceptance to its terminal state, and nothing outside
	// the actor keeps one (replies and events hold snapshots).
	free []*order

	// idText holds the text of the account's latest order ids (idString).
	idText []byte

	// closes and worst are cancelPastCloses' scratch: empty, and zero,
	// between messages.
	closes []*order
	worst  []book.Ticks

	// deadman is the dead man's switch (order.cancel_all_after): the armed
	// timer, nil when off. gen tells the live timer's message from one a
	// stopped timer had already posted.
	deadman struct {
		gen   uint64
		timer *timerRef
	}
}

// maxFreeOrders caps an account's free list.
const maxFreeOrders = 8

// acctSym is the account's per-symbol bookkeeping outside risk.
type acctSym struct {
	// fills received from the symbol actor; it subscribes the account to
	// marks on every fill, and an unsubscribe carrying this count only
	// takes effect if no fill crossed it (see symbolActor.onUnsubscribe).
	fills      uint64
	subscribed bool
	// adl is the position last reported to the ADL actor (signed).
	adl book.Lots
	// report is the message carrying the latest position report to the
	// ADL actor; unsub asks the symbol actor to stop the marks. Each is
	// reused while nothing was sent that must not be overtaken (see
	// reportPosition, unsubscribe).
	report *adlReport
	unsub  *unsubscribeMsg
	// reports are the durable mode's position reports (reportSlots).
	reports reportSlots
	// conds counts the untriggered conditional orders (max_conditional_orders).
	conds int
	// funded is the latest funding time (ms) of the last funding or fill
	// message of the symbol handled (symbolActor.funded), flat or not: an
	// ADL close handled before a funding time's message was not paid or
	// charged its funding, so it is not adjusted for it (onADLFilled).
	funded int64
}

// order is an open order as the client sees it.
type order struct {
	id         book.OrderID
	h          *symbolHandle
	clientID   string
	side       book.Side
	typ        book.OrderType
	tif        book.TIF
	price      book.Ticks
	qty        book.Lots
	filled     book.Lots
	value      market.Money // Σ fill notional, for the average price
	status     wire.Status
	reduceOnly bool
	postOnly   bool
	stp        book.STPMode
	// stpCanceled: self-trade prevention canceled it (set with its
	// terminal status).
	stpCanceled bool
	// pastBound: a change of the account's state left the order closing
	// its position past the close bound, and its cancel was sent
	// (cancelPastCloses). boundCanceled: that cancel's own answer from the
	// book canceled it (set with its terminal status), not another cancel
	// that reached the book first; it shows canceled_by_bankruptcy.
	pastBound     bool
	boundCanceled bool
	createdMs     int64
	updatedMs     int64 // the time of its last change (changed)
	// bound: a market order's protection bound, the worst price the book
	// may fill it at (closingPast), set as it is sent; a market order ends
	// at its book, so no quiescent point (snapshot, hash) holds one.
	bound book.Ticks
	// onWay: sent to the book, whose result has not come back (no
	// quiescent point holds one either). The book matches it before any
	// cancel sent now (onADLClose).
	onWay bool
	// amending counts the order's amends sent to the book and not yet
	// answered; amendMark is the mark the latest was checked at. Until the
	// answer, risk holds the amended reservation while the book may still
	// fill the order as it was (applyFill).
	amending  int
	amendMark book.Ticks
	// pendPrice and pendQty are the latest amend's terms (price, total),
	// which risk holds while it is on its way (restatePending).
	pendPrice book.Ticks
	pendQty   book.Lots
	// The wire view's parts fixed at acceptance (or amend): the order id's
	// text and the limit price and qty decimals.
	wid          string
	wprice, wqty decimal.Decimal
	// snap is the latest snapshot handed out (snapshot), nil once the
	// order changed since; a snapshot is never written after.
	snap *wire.Order
	// cond is a conditional order's trigger (conditional.go), nil for the
	// others.
	cond *conditional
}

// setStatus changes o's status; the snapshot is stale if it did.
func (a *accountActor) setStatus(o *order, s wire.Status) {
	if o.status != s {
		o.status = s
		a.changed(o)
	}
}

// changed marks o changed now: its snapshot is stale.
func (a *accountActor) changed(o *order) {
	o.snap, o.updatedMs = nil, a.x.clock(&a.j)
}

func newAccountActor(x *Exchange, e *accountEntry) *accountActor {
	return &accountActor{
		x: x, e: e, wallets: newWallets(x, e),
		byClient: map[string]book.OrderID{},
		syms:     make([]acctSym, len(x.symbols)),
	}
}

func (a *accountActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *probeMsg:
		m.reply(a.n)
		return
	case *auditMsg:
		m.reply(a.auditShare())
		return
	case *hashMsg:
		m.reply(a.hash())
		return
	case *ordersOnMsg:
		m.reply(a.ordersOn(m.sym))
		return
	}
	if a.e.failed.Load() {
		a.x.begin(ctx, &a.j, actorAccount+uint32(a.e.id)) // its answers are decisions too (failrecord.go)
		a.refuseAll(ctx)
		return
	}
	a.x.begin(ctx, &a.j, actorAccount+uint32(a.e.id))
	if f := failTest.Load(); f != nil {
		f.check(a, ctx.Message())
	}
	switch m := ctx.Message().(type) {
	case *makerFillMsg:
		a.filling, a.booked = m, 0
		a.onMakerFill(ctx, m)
		a.filling = nil
		m.recycle()
	case *takerResultMsg:
		a.filling, a.booked = m, 0
		a.onTakerResult(ctx, m)
		a.filling = nil
	case *placeReq:
		a.place(ctx, m)
	case *armedMsg:
		a.onArmed(m)
	case *triggeredMsg:
		a.onTriggered(ctx, m)
	case *cancelReq:
		a.cancel(ctx, m)
	case *amendReq:
		a.amend(ctx, m)
	case *cancelAllReq:
		a.cancelAll(ctx, m)
	case *cancelAfterReq:
		a.cancelAllAfter(ctx, m)
	case *deadmanMsg:
		a.onDeadman(ctx, m)
	case *canceledMsg:
		a.onCanceled(ctx, m)
	case *markMsg:
		a.onMark(ctx, m)
	case *fundingMsg:
		a.onFunding(ctx, m)
	case *leverageReq:
		a.setLeverage(m)
	case *stateReq:
		a.state(ctx, m)
	case *historyReq:
		a.history(m)
	case *depositReq:
		a.deposit(ctx, m)
	case *marginModeReq:
		a.setMarginMode(m)
	case *positionMarginReq:
		a.movePositionMargin(ctx, m)
	case *withdrawReq:
		a.withdraw(ctx, m)
	case *reservedMsg:
		a.onReserved(ctx, m)
	case *adlCloseMsg:
		a.onADLClose(ctx, m)
	case *adlPlanMsg:
		a.onADLPlan(ctx, m)
	case *adlFilledMsg:
		a.onADLFilled(ctx, m)
	case *socialMsg:
		a.onSocial(ctx, m)
	case *adlRetryMsg:
		a.onADLRetry(ctx, m)
	default:
		return // lifecycle messages
	}
	a.n++
}

// ---- client requests ----

func (a *accountActor) place(ctx actor.Context, m *placeReq) {
	r := &m.req
	h := m.h
	if len(r.ClientOrderID) > wire.MaxTokenLen { // the gateway's check, for in-process callers: the history keeps it inline (cid)
		m.refuse(wire.Errorf(wire.CodeBadRequest, "client_order_id longer than %d characters", wire.MaxTokenLen))
		return
	}
	if a.risk(h).InLiquidation() {
		m.refuse(riskError(risk.AccountInLiquidation))
		return
	}
	if e := a.x.haltAt(&a.j); e != nil {
		m.refuse(e)
		return
	}
	var qty book.Lots
	if !r.ClosePosition { // sized when it triggers
		var err error
		if qty, err = h.toLots(r.Qty); err != nil {
			m.refuse(wire.Errorf(wire.CodeInvalidQty, "%v", err))
			return
		}
	}
	o := a.newOrder()
	*o = order{
		h: h, clientID: r.ClientOrderID, side: bookSide(r.Side), tif: bookTIF(r.TIF), qty: qty,
		status: wire.StatusNew, reduceOnly: r.ReduceOnly, postOnly: r.PostOnly, stp: bookSTP(r.STP), createdMs: a.x.clock(&a.j),
	}
	o.updatedMs = o.createdMs
	if !r.Type.Limited() {
		o.typ = book.Market
	} else {
		var err error
		if o.price, err = h.toTicks(r.Price); err != nil {
			a.release(o)
			m.refuse(wire.Errorf(wire.CodeInvalidPrice, "%v", err))
			return
		}
	}
	if o.clientID != "" {
		if _, dup := a.byClient[o.clientID]; dup {
			a.release(o) // zeroes o: name the id from the request
			m.refuse(wire.Errorf(wire.CodeDuplicateClientOrderID, "client_order_id %q is already used by an open order", r.ClientOrderID))
			return
		}
	}
	o.id = book.OrderID(a.x.newID(&a.j))
	if r.Type.Conditional() {
		a.arm(ctx, o, m)
		return
	}
	mark := m.mark // read when its record was made (durable mode)
	if a.x.rec == nil {
		mark = h.lastMark()
	}
	if e := a.submit(ctx, o, m, mark); e != nil {
		a.release(o)
		m.refuse(e)
		return
	}
	a.open(o, r)
	a.x.deliver(ctx, h.mb, h.pid, &m.place)
}

// closeBound tightens a market order's protection bound to the position's
// bankruptcy price when the order closes it: a close never sells a long
// below (or buys a short back above) the price where its margin is used
// up, its taker fee included (risk.CloseBankruptcyPrice, with what the
// resting isolated opening orders may take out of the cash first:
// risk.CloseBound), so no market close — a fired stop-loss in a gapping
// market above all — leaves a loss the account cannot pay; what the book
// cannot fill within it expires.
func closeBound(acct *risk.Account, s *market.Symbol, side book.Side, bound book.Ticks) book.Ticks {
	pos, ok := acct.Position(s)
	if !ok || pos.Qty == 0 || (pos.Qty > 0) == (side == book.Buy) {
		return bound
	}
	bk, ok := acct.CloseBound(s)
	if !ok || bk <= 0 {
		return bound
	}
	if side == book.Sell {
		return max(bound, bk)
	}
	return min(bound, bk)
}

// open makes an accepted order one of the account's open orders.
func (a *accountActor) open(o *order, r *wire.PlaceOrder) {
	a.orders.add(o)
	if o.clientID != "" {
		a.byClient[o.clientID] = o.id
	}
	a.initWire(o, r)
}

// submit runs o's pre-trade checks at mark and, when they pass, readies
// m.place, the message taking o to its book.
func (a *accountActor) submit(ctx actor.Context, o *order, m *placeReq, mark book.Ticks) *wire.Error {
	s := o.h.sym
	rt := risk.Limit
	bound := o.price // the book's price: limit, or a market order's protection bound
	if o.typ == book.Market {
		rt, bound = risk.Market, closeBound(a.risk(o.h), s, o.side, s.MarketBound(o.side, mark))
	}
	var past *order // an isolated open's margin, once out of the cash, would put it past its bound
	code, _ := a.risk(o.h).PreTradeChecked(s, risk.Order{ID: o.id, Side: o.side, Type: rt, Price: o.price, Qty: o.qty, ReduceOnly: o.reduceOnly,
		NeverRests: o.tif != book.GTC}, mark, func() bool { past = a.closingPast(o.h.asset, nil); return past == nil })
	if code != risk.OK {
		return isolatedOpenError(code, past, isoOpenWhat, isoOpenInstead)
	}
	if o.typ == book.Market {
		bound = a.risk(o.h).OpenBound(s, o.side, o.qty, mark, bound)
		o.bound = bound
	}
	o.onWay = true
	m.o = o
	m.place = placeMsg{
		order: book.Order{ID: o.id, Account: a.e.id, ClientID: o.clientID, Side: o.side, Type: o.typ, TIF: o.tif,
			Price: bound, Qty: o.qty, PostOnly: o.postOnly, ReduceOnly: o.reduceOnly, STP: o.stp},
		from: ctx.Self(), done: m.done, req: m,
	}
	return nil
}

func (a *accountActor) cancel(ctx actor.Context, m *cancelReq) {
	h := a.x.symbol(m.req.Symbol)
	o := a.openOrder(h, m.req.OrderID, m.req.ClientOrderID)
	if o == nil {
		m.refuse(unknownOrder(m.req.Symbol, m.req.OrderID, m.req.ClientOrderID))
		return
	}
	if o.reduceOnly {
		// Its room is free for what the client sends next (API.md, BATCH:
		// an item sees the orders earlier items canceled).
		a.risk(h).Canceling(o.id)
	}
	ctx.Send(h.pid, &cancelMsg{id: o.id, from: ctx.Self(), done: m.done, quiet: m.quiet})
}

// openOrder finds an open order of h's symbol by order id or client id.
func (a *accountActor) openOrder(h *symbolHandle, orderID, clientID string) *order {
	var o *order
	if clientID != "" {
		o = a.orders.get(a.byClient[clientID])
	} else if id, err := strconv.ParseUint(orderID, 10, 64); err == nil {
		o = a.orders.get(book.OrderID(id))
	}
	if o == nil || o.h != h {
		return nil
	}
	return o
}

func unknownOrder(sym, orderID, clientID string) *wire.Error {
	return wire.Errorf(wire.CodeUnknownOrder, "no open order %s%s in %s", orderID, clientID, sym)
}

// amend checks an order's new price and total quantity against risk,
// which holds the new reservation from now on (risk.Account.Amend), and
// sends the amend to the book, whose answer (onTakerResult) says what the
// order became. Fields not given keep the book's values: the book resolves
// them, so an earlier amend still on its way is not undone. Only resting
// (GTC limit) orders can be amended.
func (a *accountActor) amend(ctx actor.Context, m *amendReq) {
	h, r := m.h, &m.req
	if a.risk(h).InLiquidation() {
		m.refuse(riskError(risk.AccountInLiquidation))
		return
	}
	if e := a.x.haltAt(&a.j); e != nil {
		m.refuse(e)
		return
	}
	o := a.openOrder(h, r.OrderID, r.ClientOrderID)
	if o != nil && o.cond != nil && !o.cond.fired {
		a.amendConditional(ctx, o, m)
		return
	}
	switch {
	case r.TriggerPrice.IsZero():
	case o == nil || o.cond != nil: // gone, or fired: its trigger went with it (API.md, AMEND)
		m.refuse(unknownOrder(r.Symbol, r.OrderID, r.ClientOrderID))
		return
	default:
		m.refuse(wire.Errorf(wire.CodeBadRequest, "trigger_price amends an untriggered stop or take-profit only"))
		return
	}
	if o == nil || o.typ != book.Limit || o.tif != book.GTC {
		m.refuse(unknownOrder(r.Symbol, r.OrderID, r.ClientOrderID))
		return
	}
	price, qty := book.Ticks(0), book.Lots(0) // 0: not given
	var err error
	if !r.Price.IsZero() {
		if price, err = h.toTicks(r.Price); err != nil {
			m.refuse(wire.Errorf(wire.CodeInvalidPrice, "%v", err))
			return
		}
	}
	if !r.Qty.IsZero() {
		if qty, err = h.toLots(r.Qty); err != nil {
			m.refuse(wire.Errorf(wire.CodeInvalidQty, "%v", err))
			return
		}
		if qty <= o.filled {
			m.refuse(wire.Errorf(wire.CodeInvalidQty, "qty %s is the new total quantity and must exceed the %s already filled", r.Qty, h.qty(o.filled)))
			return
		}
	}
	mark := m.mark // read when its record was made (durable mode)
	if a.x.rec == nil {
		mark = h.lastMark()
	}
	newPrice, newQty := cmp.Or(price, o.price), cmp.Or(qty, o.qty)
	var past *order
	if code := a.risk(h).AmendChecked(h.sym, o.id, newPrice, newQty-o.filled, mark, func() bool { past = a.closingPast(h.asset, nil); return past == nil }); code != risk.OK {
		m.refuse(isolatedOpenError(code, past, isoOpenWhat, isoOpenInstead))
		return
	}
	o.amending++
	o.amendMark, o.pendPrice, o.pendQty = mark, newPrice, newQty
	a.restatePending(o)
	ctx.Send(h.pid, &amendMsg{id: o.id, acct: a.e.id, price: price, qty: qty, from: ctx.Self(), done: m.done})
}

// cancelAll cancels every open order (in m.h's symbol when set) with one
// cancel-by-ids per symbol and answers once every symbol has: with what the
// books removed, so an order that filled or was canceled meanwhile is not
// listed.
func (a *accountActor) cancelAll(ctx actor.Context, m *cancelAllReq) {
	m.orders = make([]wire.Order, 0, a.orders.Len())
	if m.pending = a.cancelIDs(ctx, a.openIDs(m.h), m); m.pending == 0 {
		m.done(wire.CancelAllReply{Reply: wire.OK(), Orders: m.orders})
	}
}

// cancelAllAfter arms (or re-arms) the dead man's switch for
// m.req.TimeoutMs, or disarms it for 0: unless the next request comes
// first, every open order is canceled when the countdown ends.
func (a *accountActor) cancelAllAfter(ctx actor.Context, m *cancelAfterReq) {
	d := &a.deadman
	d.gen++
	a.x.stopTimer(d.timer)
	d.timer = nil
	var trigger int64
	if ms := m.req.TimeoutMs; ms > 0 {
		d.timer = a.x.after(&a.j, time.Duration(ms)*time.Millisecond, ctx.Self(), &deadmanMsg{gen: d.gen, timer: a.x.timerID(&a.j)})
		trigger = a.x.clock(&a.j) + int64(ms) // on the exchange clock; the timer runs on the wall clock
	}
	m.done(wire.CancelAllAfterReply{Reply: wire.OK(), TimeoutMs: m.req.TimeoutMs, TriggerMs: trigger})
}

// onDeadman fires the switch: every open order is canceled, each with its
// order event, and the switch is off until armed again.
func (a *accountActor) onDeadman(ctx actor.Context, m *deadmanMsg) {
	if m.gen != a.deadman.gen {
		return // re-armed or disarmed after this timer fired
	}
	a.deadman.timer = nil
	a.cancelIDs(ctx, a.openIDs(nil), nil)
}

// openIDs returns the ids of the open orders, only h's when h is set.
func (a *accountActor) openIDs(h *symbolHandle) []book.OrderID {
	ids := make([]book.OrderID, 0, a.orders.Len())
	for _, o := range a.orders.Values() {
		if h == nil || o.h == h {
			ids = append(ids, o.id)
		}
	}
	return ids
}

// cancelIDs asks the books to cancel the open orders among ids, one message
// per symbol carrying all (nil but for a cancel-all), and returns how many
// it sent.
func (a *accountActor) cancelIDs(ctx actor.Context, ids []book.OrderID, all *cancelAllReq) int {
	bySym := map[int][]book.OrderID{}
	for _, id := range ids {
		if o := a.orders.get(id); o != nil {
			bySym[o.h.idx] = append(bySym[o.h.idx], id)
		}
	}
	for idx, ids := range bySym {
		ctx.Send(a.x.symbols[idx].pid, &cancelIDsMsg{ids: ids, from: ctx.Self(), all: all})
	}
	return len(bySym)
}

func (a *accountActor) setLeverage(m *leverageReq) {
	lev := m.req.Leverage
	if !lev.IsInteger() || !lev.IsPositive() || lev.GreaterThan(decimal.NewFromInt(market.MaxLeverageCap)) {
		if lev.IsInteger() && lev.IsPositive() {
			m.refuse(riskError(risk.LeverageTooHigh))
			return
		}
		m.refuse(wire.Errorf(wire.CodeBadRequest, "leverage %s must be a whole number", lev))
		return
	}
	h := a.x.symbol(m.req.Symbol)
	mark := m.mark // read when its record was made (durable mode)
	if a.x.rec == nil {
		mark = h.lastMark()
	}
	var past *order // the isolated opens' margin at lev, once out of the cash, would put it past its bound
	if code := a.risk(h).SetLeverageChecked(h.sym, lev.IntPart(), mark, a.restingIn(h), func() bool { past = a.closingPast(h.asset, nil); return past == nil }); code != risk.OK {
		m.refuse(isolatedOpenError(code, past, "the isolated orders' margin and fee at that leverage", "keep the leverage"))
		return
	}
	m.done(wire.LeverageReply{Reply: wire.OK(), Leverage: decimal.NewFromInt(lev.IntPart())})
}

// restingIn is what SetLeverageChecked holds to the new leverage: h's
// orders the book may fill, each at the price furthest against the mark
// it may fill at (a limit order's, an amend on its way included; a market
// order's bound, TestLeverageRaiseBehindMarketBuy), and what is left of
// them; nil when none.
func (a *accountActor) restingIn(h *symbolHandle) []risk.Order {
	var os []risk.Order
	for _, o := range a.orders.Values() {
		if o.h != h || o.cond != nil && !o.cond.fired {
			continue
		}
		price, q := o.extreme(), o.qty
		if o.typ == book.Market {
			price = o.bound
		}
		if o.amending > 0 {
			q = max(q, o.pendQty)
		}
		if price > 0 {
			os = append(os, risk.Order{ID: o.id, Side: o.side, Type: risk.Limit, Price: price, Qty: q - o.filled})
		}
	}
	return os
}

func (a *accountActor) deposit(ctx actor.Context, m *depositReq) {
	w := &a.wallets[m.asset]
	if m.amount > 0 {
		if code := w.acct.Deposit(m.amount); code != risk.OK {
			m.refuse(wire.Errorf(wire.CodeBadRequest, "the deposit would take the balance over %s", risk.MaxBalance))
			return
		}
		w.deposits += m.amount
		a.keepIncome(nil, m.asset, incomeDeposit, m.amount, 0, a.x.clock(&a.j))
		a.afterBackingChange(ctx, m.asset)
	}
	m.done(wire.BalanceReply{Reply: wire.OK(), Balance: w.acct.Balance().Decimal()})
}

// openViews is the open orders (of h when not nil), oldest first: state's
// open_orders and order.open's reply.
func (a *accountActor) openViews(h *symbolHandle) []wire.Order {
	out := make([]wire.Order, 0, a.orders.Len())
	for _, o := range a.orders.sorted() {
		if h == nil || o.h == h {
			out = append(out, *a.snapshot(o))
		}
	}
	return out
}

// state replies with the ACCOUNT object; positions get their ADL light
// from the ADL actor, which then calls done.
func (a *accountActor) state(ctx actor.Context, m *stateReq) {
	w := &wire.Account{
		Account:   a.e.name,
		Balances:  make(map[string]decimal.Decimal, len(a.wallets)),
		Positions: []wire.Position{},
	}
	if len(a.wallets) > 1 {
		w.Wallets = make(map[string]wire.Wallet, len(a.wallets))
	}
	for i := range a.wallets {
		rep := a.wallets[i].acct.Report()
		asset := a.x.assets[i]
		w.Balances[asset] = rep.Balance
		if i == 0 {
			w.Equity, w.Available = rep.Equity, rep.Available
		}
		if w.Wallets != nil {
			w.Wallets[asset] = wire.Wallet{Balance: rep.Balance, Equity: rep.Equity, Available: rep.Available}
		}
		for _, p := range rep.Positions {
			if m.h != nil && p.Symbol != m.h.sym.Name {
				continue
			}
			w.Positions = append(w.Positions, wire.Position{
				Symbol: p.Symbol, Side: wire.PosSide(p.Side), MarginMode: wire.MarginModeName(p.Mode), Qty: p.Qty,
				MaintenanceMargin: p.MaintenanceMargin, EntryPrice: p.EntryPrice,
				MarkPrice: p.MarkPrice, UnrealizedPnL: p.UnrealizedPnL, Margin: p.Margin, Leverage: p.Leverage,
				LiquidationPrice: p.LiquidationPrice, BankruptcyPrice: p.BankruptcyPrice,
			})
		}
	}
	w.OpenOrders = a.openViews(m.h)
	w.Settings = make([]wire.SymbolSetting, 0, len(a.x.symbols))
	for _, h := range a.x.symbols {
		if m.h == nil || h == m.h {
			mode, lev := a.risk(h).Setting(h.sym)
			w.Settings = append(w.Settings, wire.SymbolSetting{Symbol: h.sym.Name, MarginMode: wire.MarginModeName(mode.String()),
				Leverage: decimal.NewFromInt(lev)})
		}
	}
	if len(w.Positions) == 0 {
		m.done(wire.AccountReply{Reply: wire.OK(), Account: w})
		return
	}
	ctx.Send(a.x.adl, &rankMsg{acct: a.e.id, account: w, done: m.done})
}

// ---- book results ----

func (a *accountActor) onTakerResult(ctx actor.Context, m *takerResultMsg) {
	h := a.x.symbols[m.sym]
	a.syms[m.sym].fills += uint64(len(m.fills))
	if len(m.fills) > 0 {
		a.syms[m.sym].subscribed = true
		a.syms[m.sym].funded = m.funded
	}
	if a.liq != nil && a.liq.Owns(m.id) {
		a.onLiquidationResult(ctx, m)
		return
	}
	if p := a.partial; p != nil && p.o.id == m.id {
		a.onPartialResult(ctx, m)
		return
	}
	var o *order
	if m.req != nil && m.req.o != nil && m.req.o.id == m.id {
		o = m.req.o // still open: only its result finishes it
	} else {
		o = a.orders.get(m.id)
	}
	if m.amend != nil && !a.amended(o, m) {
		return
	}
	if o == nil {
		panic(fmt.Sprintf("actors: the book's result for order %d, which the account does not know", m.id))
	}
	if m.amend == nil {
		o.onWay = false
	}
	if m.code != book.OK || m.err != nil {
		a.risk(o.h).OnOrderDone(o.id)
		a.forget(o)
		a.setStatus(o, wire.StatusRejected)
		e := refusal(m.err, m.code)
		if o.cond == nil {
			a.discard(o) // its place was refused: no order to keep, no event (the reply says it)
		} else {
			// A fired conditional order, open since it was armed: its
			// event says why (API.md, CONDITIONAL), as a refusal by risk's.
			a.refusedEvent(o, e)
			a.release(o)
		}
		m.done(wire.OrderReply{Reply: wire.Fail(e)})
		m.req.recycle()
		return
	}
	liquidate := false
	for i := range m.fills {
		f := &m.fills[i]
		liquidate = a.applyFill(ctx, h, o, f.Price, f.Qty, false, h.sym.TakerFee, m.tradeSeq+uint64(i), m.ms) || liquidate
	}
	if len(m.fills) > 0 {
		liquidate = a.tradeMark(h, m.mark) || liquidate
	}
	a.setStatus(o, wireStatus(m.status))
	o.stpCanceled = m.stpKilled
	done := terminal(o.status)
	if done {
		a.risk(o.h).OnOrderDone(o.id) // the unfilled rest of an IOC/market order, if any
		a.forget(o)
	}
	stp := a.stpCanceled(m.canceled)
	ev := a.wantEvents()
	var w *wire.Order
	if ev || m.req == nil || !m.req.quiet {
		w = a.snapshot(o) // the event and the reply show the same state
	}
	if done {
		a.release(o)
	}
	if ev {
		a.emit(&wire.AccountEvent{Type: wire.EventOrder, Order: w})
	}
	if len(m.fills) > 0 {
		a.cancelPastCloses(ctx, h.asset) // before the reply: a request it prompts elsewhere finds the cancel ahead
	}
	reply := m.done
	m.done = nil // answered: if what follows panics, the re-posted result is not answered again
	reply(wire.OrderReply{Reply: wire.OK(), Order: w, STPCanceled: stp})
	a.afterFills(ctx, h, liquidate)
	m.req.recycle()
}

// amended makes the order and its risk record agree with the book's
// answer to an amend of it. A refused amend is answered here (the order is
// as it was: risk takes its reservation back) and false returned; an
// accepted one returns true, the order updated to what the amend made of
// it before it traded, for onTakerResult to book its fills and new state
// like an order's result.
func (a *accountActor) amended(o *order, m *takerResultMsg) bool {
	if o != nil {
		o.amending--
	}
	if m.err != nil || m.code != book.OK {
		if o != nil {
			a.risk(o.h).Restate(o.id, o.price, o.qty-o.filled, o.amendMark)
			a.restatePending(o)
		}
		m.done(wire.OrderReply{Reply: wire.Fail(refusal(m.err, m.code))})
		return false
	}
	if o == nil { // the book's fills come before it and the order's end
		panic(fmt.Sprintf("actors: the book amended order %d, which the account does not know", m.id))
	}
	am := m.amend
	a.risk(o.h).Restate(o.id, am.price, am.open, am.mark)
	if am.price != o.price {
		o.price, o.wprice = am.price, o.h.price(am.price)
	}
	if am.qty != o.qty {
		o.qty, o.wqty = am.qty, o.h.qty(am.qty)
	}
	a.changed(o)
	a.restatePending(o)
	return true
}

// restatePending gives risk back the reservation of the latest amend of o
// still on its way (checked when it was sent): a fill of the order as it
// was, or the answer to an earlier amend, must not leave risk holding less
// than the book may yet be asked to hold. An amend whose total the fills
// already reached will be refused: the order as it is stays reserved.
func (a *accountActor) restatePending(o *order) {
	if o.amending > 0 {
		if rem := o.pendQty - o.filled; rem > 0 {
			a.risk(o.h).Restate(o.id, o.pendPrice, max(rem, o.qty-o.filled), o.amendMark)
		}
		// Until then the book may fill it as it is: what that fill takes
		// stays reserved (risk.Account.Hold).
		a.risk(o.h).Hold(o.id, o.price, o.qty-o.filled, o.amendMark)
	}
}

func (a *accountActor) onMakerFill(ctx actor.Context, m *makerFillMsg) {
	h := a.x.symbols[m.sym]
	st := &a.syms[m.sym]
	st.fills++
	st.subscribed = true
	st.funded = m.funded
	f := &m.fill
	o := a.orders.get(f.MakerID)
	if o == nil {
		panic(fmt.Sprintf("actors: a maker fill of %d at %d for order %d, which the account does not know", f.Qty, f.Price, f.MakerID))
	}
	liquidate := a.applyFill(ctx, h, o, f.Price, f.Qty, true, m.rate(h), m.tradeSeq, m.ms)
	liquidate = a.tradeMark(h, m.mark) || liquidate
	if f.MakerRemaining == 0 {
		a.setStatus(o, wire.StatusFilled)
		a.forget(o)
		a.orderEvent(o)
		a.release(o)
	} else {
		a.setStatus(o, wire.StatusPartiallyFilled)
		a.orderEvent(o)
	}
	a.cancelPastCloses(ctx, h.asset)
	a.afterFills(ctx, h, liquidate)
}

// tradeMark values h's position at the mark of its fills' trades (0: none
// known) and says whether that liquidates it: without a position the
// account got no marks, so a fill would value what it opens at the mark
// of the order's placement until the next tick (a bid filled after the
// mark fell showed the fall as profit, to withdraw).
func (a *accountActor) tradeMark(h *symbolHandle, mark book.Ticks) bool {
	acct := a.risk(h)
	return mark > 0 && acct.Mark(h.sym) != mark && acct.OnMark(h.sym, mark) // the fill checked the rest
}

// applyFill settles one fill of an open order, traded at ms with fee rate
// rate, through risk and publishes it; it reports whether risk asks for a
// liquidation.
func (a *accountActor) applyFill(ctx actor.Context, h *symbolHandle, o *order, price book.Ticks, qty book.Lots, maker bool, rate market.Rate, tradeSeq uint64, ms int64) bool {
	s := h.sym
	if o.amending > 0 {
		// The book made this fill before it saw the amend risk already
		// holds: book it against the order as it was (o is the book's
		// latest known state), which the amend's answer restates.
		a.risk(h).Restate(o.id, o.price, o.qty-o.filled, o.amendMark)
	}
	f := risk.Fill{OrderID: o.id, Side: o.side, Price: price, Qty: qty, Maker: maker, FeeRate: rate}
	taken, legFee := a.fillLeg(ctx, h, f)
	a.booked += taken
	var res risk.FillResult
	if f.Qty -= taken; f.Qty > 0 {
		var code risk.Code
		if res, code = a.risk(h).ApplyFill(s, f); code != risk.OK {
			panic(fmt.Sprintf("actors: risk refused the book's fill of %d at %d for order %d (%s): %s", f.Qty, price, o.id, o.side, code))
		}
		a.booked += f.Qty
	}
	a.wallet(h).fees += res.Fee + legFee
	o.filled += qty
	o.value += s.Notional(price, qty)
	a.changed(o)
	// The fill event shows the order as this fill left it; the result's
	// own status (an IOC's canceled rest, say) follows in the order event.
	if o.filled >= o.qty {
		o.status = wire.StatusFilled
	} else {
		o.status = wire.StatusPartiallyFilled
	}
	if o.amending > 0 && o.filled < o.qty {
		a.restatePending(o)
	}
	if res.Deficit > 0 {
		ctx.Send(a.x.fund, &deficitMsg{acct: a.e.name, sym: h.idx, amount: res.Deficit})
	}
	if res.ReduceOnlyExcess {
		if ids := a.risk(h).ExcessReduceOnly(s); len(ids) > 0 {
			ctx.Send(h.pid, &cancelIDsMsg{ids: ids, from: ctx.Self()})
		}
	}
	kept := a.keepFill(fillRec{id: o.id, sym: uint32(h.idx), side: o.side, maker: maker, price: price, qty: qty,
		fee: res.Fee + legFee, realized: res.Realized, tradeSeq: tradeSeq, ms: ms}, o.clientID)
	a.keepTrade(h, incomeFillPnL, res.Realized, res.Fee, res.Deficit, tradeSeq, ms) // the leg's part moved no balance
	if a.wantEvents() {
		a.emit(&wire.AccountEvent{Type: wire.EventFill, Order: a.snapshot(o), Fill: a.fillView(kept, o.wid, o.clientID)})
	}
	return res.Liquidate
}

// fillLeg books on the liquidation's leg in h the lots of fill f that
// close it (liq.Machine.Closing): the book matched the order before the
// takeover's cancel reached it (a place or an amend on its way, a resting
// order a queued taker took), so those lots close the position the
// liquidation took over, as its execution; opening them again in the flat
// account made an open that nothing backed (DESIGN.md). It returns how
// many it booked and their fee, which the liquidation pays.
func (a *accountActor) fillLeg(ctx actor.Context, h *symbolHandle, f risk.Fill) (book.Lots, market.Money) {
	if a.liq == nil {
		return 0, 0
	}
	leg, n := a.liq.Closing(h.sym, f.Side)
	if n == 0 {
		return 0, 0
	}
	taken := min(f.Qty, n)
	value, fee, code := a.risk(h).TakeFill(h.sym, f, taken)
	if code != risk.OK {
		panic(fmt.Sprintf("actors: risk refused the liquidation's part %d of the book's fill of %d at %d for order %d: %s", taken, f.Qty, f.Price, f.OrderID, code))
	}
	a.step(ctx, liq.OrderFill{Leg: leg, Price: f.Price, Qty: taken, Value: value, Fee: fee})
	return taken, fee
}

// afterFills reports the position to ADL and the mark subscription, and
// starts a liquidation when a fill left the account under maintenance.
func (a *accountActor) afterFills(ctx actor.Context, h *symbolHandle, liquidate bool) {
	a.positionChanged(ctx, h)
	if liquidate {
		a.liquidate(ctx, h)
	}
}

// onCanceled handles the book's answer to a cancel.
func (a *accountActor) onCanceled(ctx actor.Context, m *canceledMsg) {
	if m.code == book.RejectUnknownOrder && m.err == nil && !m.again && a.firedInFlight(m.id) {
		ctx.Send(a.x.symbols[m.sym].pid, &cancelMsg{id: m.id, from: ctx.Self(), done: m.done, quiet: m.quiet, again: true})
		return
	}
	if !m.again && len(m.unknown) > 0 {
		if ids := slices.DeleteFunc(m.unknown, func(id book.OrderID) bool { return !a.firedInFlight(id) }); len(ids) > 0 {
			if m.all != nil {
				m.all.pending++
			}
			ctx.Send(a.x.symbols[m.sym].pid, &cancelIDsMsg{ids: ids, from: ctx.Self(), all: m.all, again: true, bankrupt: m.bankrupt})
		}
	}
	if m.code != book.OK || m.err != nil {
		if m.done != nil {
			a.risk(a.x.symbols[m.sym]).CancelFailed(m.id) // still open (or gone by a fill): its room back
			m.done(wire.OrderReply{Reply: wire.Fail(refusal(m.err, m.code))})
		}
		return
	}
	if all := m.all; all != nil {
		a.cancelOrders(m.orders, 0, all)
		if all.pending--; all.pending == 0 {
			slices.SortFunc(all.orders, func(x, y wire.Order) int {
				return cmp.Or(cmp.Compare(len(x.OrderID), len(y.OrderID)), strings.Compare(x.OrderID, y.OrderID))
			})
			all.done(wire.CancelAllReply{Reply: wire.OK(), Count: len(all.orders),
				Orders: all.orders[:min(len(all.orders), wire.MaxCancelAllListed)]})
		}
		return
	}
	if m.done == nil || m.quiet { // no reply, or one nobody reads: no wire view for it
		if m.bankrupt {
			a.boundCanceled(m.orders)
		}
		a.canceled(m.orders)
		return
	}
	if w := a.cancelOrders(m.orders, m.id, nil); w != nil {
		m.done(wire.OrderReply{Reply: wire.OK(), Order: w})
		return
	}
	m.done(wire.OrderReply{Reply: wire.Fail(bookError(book.RejectUnknownOrder))})
}

// canceled books orders that left the book unfilled.
func (a *accountActor) canceled(cs []book.CanceledOrder) { a.cancelOrders(cs, 0, nil) }

// boundCanceled marks the orders the past-close cancel's answer lists as
// canceled by it (cancelPastCloses): they show canceled_by_bankruptcy.
func (a *accountActor) boundCanceled(cs []book.CanceledOrder) {
	for _, c := range cs {
		if o := a.orders.get(c.ID); o != nil {
			o.boundCanceled = true
		}
	}
}

// stpCanceled books the resting orders self-trade prevention removed and
// returns their ids (nil when none); each one's order event says so.
func (a *accountActor) stpCanceled(cs []book.CanceledOrder) []string {
	var ids []string
	for _, c := range cs {
		if o := a.orders.get(c.ID); o != nil {
			o.stpCanceled = true
			ids = append(ids, o.wid)
		}
	}
	a.canceled(cs)
	return ids
}

// cancelOrders books orders that left the book unfilled and returns the
// final snapshot of the one with id want (order ids start at 1), if any;
// a cancel-all collects every one's.
func (a *accountActor) cancelOrders(cs []book.CanceledOrder, want book.OrderID, all *cancelAllReq) *wire.Order {
	var w *wire.Order
	for _, c := range cs {
		o := a.orders.get(c.ID)
		if o == nil {
			continue
		}
		a.risk(o.h).OnCancel(c.ID)
		a.setStatus(o, wire.StatusCanceled)
		a.forget(o)
		a.orderEvent(o)
		if o.id == want {
			w = a.snapshot(o)
		}
		if all != nil {
			all.orders = append(all.orders, *a.snapshot(o))
		}
		a.release(o)
	}
	return w
}

func (a *accountActor) forget(o *order) {
	if c := o.cond; c != nil && !c.fired {
		a.syms[o.h.idx].conds-- // arm counted it; a fire uncounts it itself
	}
	a.orders.Remove(o.id)
	if o.clientID != "" && a.byClient[o.clientID] == o.id {
		delete(a.byClient, o.clientID)
	}
}

// ---- marks and funding ----

func (a *accountActor) onMark(ctx actor.Context, m *markMsg) {
	h := a.x.symbols[m.sym]
	acct := a.risk(h)
	switch {
	case acct.OnMark(h.sym, m.mark):
		a.liquidate(ctx, h)
	case a.orders.Len() > 0 && acct.SharesCross(h.sym): // the hot path's test: O(1) without orders
		a.cancelPastCloses(ctx, h.asset) // the cross equity's shares moved
	}
}

func (a *accountActor) onFunding(ctx actor.Context, m *fundingMsg) {
	h := a.x.symbols[m.sym]
	a.syms[m.sym].funded = m.funded
	a.legFunding(ctx, h, m) // first: a position this payment liquidates is no leg yet
	pos, ok := a.risk(h).Position(h.sym)
	if !ok || pos.Qty == 0 {
		a.risk(h).OnMark(h.sym, m.mark)
		return
	}
	res := a.risk(h).ApplyFunding(h.sym, m.rate, m.mark)
	a.wallet(h).funding += res.Delta
	a.keepIncome(h, 0, incomeFunding, res.Delta, 0, a.x.clock(&a.j))
	if a.wantEvents() {
		a.emit(&wire.AccountEvent{Type: wire.EventFunding, Funding: &wire.Funding{
			Symbol: h.sym.Name, Rate: m.rate.Decimal(), Payment: res.Delta.Decimal(), Side: posSide(pos.Qty),
			Qty: h.qty(abs(pos.Qty)), MarkPrice: h.price(m.mark),
		}})
	}
	a.cancelPastCloses(ctx, h.asset)
	a.positionChanged(ctx, h)
	if res.Liquidate {
		a.liquidate(ctx, h)
	}
}

// legFunding has the liquidation pay or receive the funding of h's leg
// while it holds it (taken over, the leg is flat in risk): else the other
// side was paid what nobody paid, out of the fees ledger. It joins the
// liquidation's equity and moves the leg's bankruptcy price (liq.Funding),
// so it is covered like the rest of its loss. The account's funding ledger
// books it as the leg's, so the audit's sums still add up. A position the
// account opened again meanwhile (a fill in flight) pays its own too.
func (a *accountActor) legFunding(ctx actor.Context, h *symbolHandle, m *fundingMsg) {
	if a.liq == nil {
		return
	}
	i := a.liq.legOf(h)
	if i < 0 || a.liq.Legs[i].Remaining == 0 {
		return
	}
	d := risk.FundingPayment(h.sym, a.liq.Legs[i].Remaining, m.rate, m.mark)
	if d == 0 {
		return
	}
	a.wallet(h).funding += d
	a.step(ctx, liq.Funding{Leg: i, Amount: d})
}

// afterBackingChange re-reports positions to ADL after cash moved (their
// margin share changed).
func (a *accountActor) afterBackingChange(ctx actor.Context, asset int) {
	for _, h := range a.x.symbols {
		if h.asset == asset && a.syms[h.idx].adl != 0 {
			a.positionChanged(ctx, h)
		}
	}
}

// positionChanged tells the ADL actor about sym's position and drops the
// mark subscription once the position is flat. acked is the quantity of
// forced closes handled (see adlPositionMsg).
func (a *accountActor) positionChanged(ctx actor.Context, h *symbolHandle, acked ...book.Lots) {
	pos, _ := a.risk(h).Position(h.sym)
	st := &a.syms[h.idx]
	leg := -1
	if a.liq != nil {
		leg = a.liq.legOf(h)
	}
	// A leg taken over is flat in risk, but its liquidation order's fill
	// would subscribe it again: it unsubscribes once, when settled.
	if pos.Qty == 0 && st.subscribed && leg < 0 {
		st.subscribed = false
		a.unsubscribe(ctx, h, st)
	}
	var ack book.Lots
	for _, q := range acked {
		ack += q
	}
	var m *adlPositionMsg
	if leg >= 0 {
		// The liquidation reports the leg with messages of its own
		// (liquidation.go): a later report must not join one queued
		// before them, so it gets a new message.
		st.report = nil
	}
	switch {
	case leg >= 0 && len(acked) == 0:
		return // the leg is reported by the liquidation (liq.Deleverage)
	case leg >= 0 && !a.liq.Legs[leg].Offered(): // not offered to ADL yet: off the ranking
		m = &adlPositionMsg{sym: h.idx, acct: a.e.id, name: a.e.name, pid: a.e.pid}
	case leg >= 0:
		g := &a.liq.Legs[leg]
		p := a.legPosition(h, g.Remaining, liq.RankedCost(g.LiquidationLeg), g.Bankruptcy)
		m = &p
	case pos.Qty == 0 && st.adl == 0 && len(acked) == 0:
		return
	default:
		st.adl = pos.Qty
		a.reportPosition(ctx, st, a.adlPosition(h, pos), ack)
		return
	}
	m.acked += ack
	ctx.Send(a.x.adl, m)
}

// reportPosition sends the ADL actor a position report, or, when the
// previous one is still queued at the ADL actor, overwrites it (its acked
// quantity carried over): the ranking only wants the latest position, and
// the report it gets is never older than the one sent would have been.
func (a *accountActor) reportPosition(ctx actor.Context, st *acctSym, p adlPositionMsg, acked book.Lots) {
	if a.x.rec != nil {
		a.reportDurable(ctx, st, p, acked)
		return
	}
	r := st.report
	if r == nil {
		r = new(adlReport)
		st.report = r
	}
	if r.update(p, acked) {
		a.x.deliver(ctx, a.x.adlMB, a.x.adl, r)
	}
}

// reportDurable is reportPosition in durable mode. Live, a report merges
// into the one still queued at the ADL actor only while the account has
// posted nothing else to it since: the ADL actor's record says how many
// it took (recMerged). Replay sends each report as a message of its own
// (a reused slot), and that record merges as many, which then lie next
// to each other among the account's messages (replayMerged).
func (a *accountActor) reportDurable(ctx actor.Context, st *acctSym, p adlPositionMsg, acked book.Lots) {
	c, live := ctx.(*sendCtx)
	if !live {
		q := st.reports.next()
		q.m, q.m.acked, q.m.slot = p, acked, q
		a.x.deliver(ctx, a.x.adlMB, a.x.adl, &q.m)
		return
	}
	r := st.report
	if r == nil {
		r = new(adlReport)
		st.report = r
	}
	merged, post := r.putDurable(p, acked, c.adlPosts)
	if merged {
		return
	}
	if !post { // queued behind another post: a report of its own
		r = new(adlReport)
		st.report = r
		r.putDurable(p, acked, c.adlPosts)
	}
	a.x.deliver(ctx, a.x.adlMB, a.x.adl, r)
}

// unsubscribe asks h's symbol actor to stop the marks. As with the
// position reports, a request still queued there is updated, not repeated:
// the symbol actor reads the fill count when it handles it.
func (a *accountActor) unsubscribe(ctx actor.Context, h *symbolHandle, st *acctSym) {
	if a.x.rec != nil { // durable mode: a message per request (see reportPosition)
		u := &unsubscribeMsg{acct: a.e.id}
		u.update(st.fills)
		ctx.Send(h.pid, u)
		return
	}
	u := st.unsub
	if u == nil {
		u = &unsubscribeMsg{acct: a.e.id}
		st.unsub = u
	}
	if u.update(st.fills) {
		a.x.deliver(ctx, h.mb, h.pid, u)
	}
}

// adlPosition is sym's position as the ADL ranking wants it: side, size,
// entry cost and the collateral behind it (risk.Account.Collateral: the
// isolated margin, or its share of the cross equity less its own uPnL).
func (a *accountActor) adlPosition(h *symbolHandle, pos risk.PositionState) adlPositionMsg {
	m := adlPositionMsg{sym: h.idx, acct: a.e.id, name: a.e.name, pid: a.e.pid, qty: pos.Qty, cost: abs(pos.Cost)}
	if pos.Qty != 0 {
		m.margin = max(a.risk(h).Collateral(h.sym), 1)
		m.cost = max(m.cost, 1)
	}
	return m
}

// ---- events ----

func (a *accountActor) emit(e *wire.AccountEvent) {
	a.seq++
	e.Seq, e.TimeMs = a.seq, a.x.clock(&a.j)
	a.x.sink.AccountEvent(a.e.name, e)
}

// wantEvents says whether to build an account event: there is a Sink and,
// if it can tell, a receiver. An event not built still takes its seq, so
// seqs count the account's events whoever listens.
func (a *accountActor) wantEvents() bool {
	if !a.x.events {
		return false
	}
	if a.wants.ask(a.mb, func() bool { return a.x.wantsAccountEvents(a.e.name) }) {
		return true
	}
	a.seq++
	return false
}

func (a *accountActor) orderEvent(o *order) { a.refusedEvent(o, nil) }

// refusedEvent is o's order event with the error that refused it (nil:
// none).
func (a *accountActor) refusedEvent(o *order, e *wire.Error) {
	if a.wantEvents() {
		a.emit(&wire.AccountEvent{Type: wire.EventOrder, Order: a.snapshot(o), Error: e})
	}
}

// snapshot is o as the client sees it now, for a reply or an event. It is
// built when o changed since the last one and shared until o changes
// again, so a resting order's snapshots cost one allocation per change,
// not one per reply or event, and nothing written is ever seen changing.
func (a *accountActor) snapshot(o *order) *wire.Order {
	if o.snap != nil {
		return o.snap
	}
	h := o.h
	w := &wire.Order{
		OrderID: o.wid, ClientOrderID: o.clientID, Account: a.e.name, Symbol: h.sym.Name,
		Side: wireSide(o.side), Type: wire.Limit, Price: o.wprice, Qty: o.wqty, FilledQty: h.qty(o.filled),
		Status: o.status, TIF: wireTIF(o.tif), ReduceOnly: o.reduceOnly, PostOnly: o.postOnly, STP: wireSTP(o.stp),
		CanceledBySTP: o.stpCanceled, CanceledByBankruptcy: o.boundCanceled,
		CreatedMs: o.createdMs, UpdatedMs: o.updatedMs,
	}
	if o.typ == book.Market {
		w.Type = wire.Market
	}
	if o.cond != nil {
		conditionalView(w, o.cond)
	}
	if o.filled != 0 {
		w.AvgPrice = h.priceOf(o.value, o.filled)
	}
	o.snap = w
	return w
}

// initWire builds the fixed parts of o's wire view when it is accepted.
// The request's price and qty are reused when written at the tick's and
// lot's exponent: they are then the very decimals market.Symbol's Price
// and Qty would build.
func (a *accountActor) initWire(o *order, r *wire.PlaceOrder) {
	h := o.h
	o.wid = a.idString(o.id)
	if r.Qty.Exponent() == h.conv.LotExp() {
		o.wqty = r.Qty
	} else {
		o.wqty = h.qty(o.qty)
	}
	switch {
	case o.typ == book.Market:
	case r.Price.Exponent() == h.conv.TickExp():
		o.wprice = r.Price
	default:
		o.wprice = h.price(o.price)
	}
}

// idString returns id's decimal text. Ids are appended to one buffer and
// each text is a string over its bytes, which are never written again (a
// full buffer is left to the strings still using it and a new one is
// started), so many orders share one allocation where each allocated its
// own; the buffer grows with use, so a quiet account keeps 64 bytes.
func (a *accountActor) idString(id book.OrderID) string {
	const maxDigits = 20 // of a uint64: appending never reallocates
	if cap(a.idText)-len(a.idText) < maxDigits {
		a.idText = make([]byte, 0, min(max(64, 2*cap(a.idText)), 512))
	}
	start := len(a.idText)
	a.idText = strconv.AppendUint(a.idText, uint64(id), 10)
	return unsafe.String(&a.idText[start], len(a.idText)-start)
}

// newOrder returns a cleared order, reused when one is free.
func (a *accountActor) newOrder() *order {
	if n := len(a.free); n > 0 {
		o := a.free[n-1]
		a.free = a.free[:n-1]
		return o
	}
	return new(order)
}

// release returns a finished order (forgotten, its last snapshot taken) to
// the free list.
func (a *accountActor) release(o *order) {
	a.keepClosed(o)
	a.discard(o)
}

// discard returns an order to the free list without keeping it in the
// closed orders (an order whose place was refused).
func (a *accountActor) discard(o *order) {
	*o = order{}
	if len(a.free) < maxFreeOrders {
		a.free = append(a.free, o)
	}
}
