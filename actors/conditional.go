package actors

import (
	"encoding/binary"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/trigger"
	"github.com/perpx/perpx/wire"
)

// Conditional orders (stop, take-profit, trailing stop). The account owns
// the order (its id, client id, status and the order it becomes); the
// symbol actor owns the trigger: a trigger.Set it updates with every mark,
// index and last-trade price. Placing one arms it at the symbol actor,
// which refuses one that would fire at once; a fired one comes back as a
// triggeredMsg and goes to the book through the same pre-trade checks as
// any order, with the mark of the moment it fired. Untriggered, it
// reserves no margin: risk knows of it only once it triggered.

// conditional is what a conditional order adds to an order.
type conditional struct {
	typ   wire.OrderType
	by    wire.TriggerBy
	t     trigger.Order
	close bool // close_position: sized at trigger time
	fired bool // triggered: no longer counted in acctSym.conds
	// view is the wire view's trigger, shared by every snapshot of the
	// order until an amend replaces it (never written after it is built).
	view *wire.OrderTrigger
}

type (
	// armMsg asks the symbol actor to arm a conditional order; it answers
	// with an armedMsg.
	armMsg struct {
		o    trigger.Order
		from *actor.PID
		req  *placeReq
		// amend, when set, re-arms the armed order o.ID with o's trigger:
		// refused, the order keeps its old one.
		amend *condAmend
	}
	armedMsg struct {
		id    book.OrderID
		code  trigger.Refusal
		price book.Ticks  // the source's price when refused
		err   *wire.Error // set: refused whatever code says (the book is out of service)
		req   *placeReq
		amend *condAmend
		gone  bool // amend: the order had fired
	}
	// condAmend is an amend of an untriggered order waiting for its
	// symbol to move the trigger.
	condAmend struct {
		m     *amendReq
		price book.Ticks // 0: unchanged
		qty   book.Lots  // 0: unchanged
	}
	// triggeredMsg: the symbol actor fired conditional order id, with the
	// symbol's mark at that moment.
	triggeredMsg struct {
		sym  int
		id   book.OrderID
		mark book.Ticks
	}
)

var triggerSources = map[wire.TriggerBy]trigger.Source{
	wire.TriggerMark: trigger.Mark, wire.TriggerLast: trigger.Last, wire.TriggerIndex: trigger.Index,
}

// arm checks a conditional order's trigger fields and the account's cap,
// makes it an open order (untriggered) and asks its symbol actor to arm
// it; the reply waits for the answer (onArmed).
func (a *accountActor) arm(ctx actor.Context, o *order, m *placeReq) {
	r := &m.req
	h := o.h
	refuse := func(e *wire.Error) {
		a.release(o)
		m.refuse(e)
	}
	st := &a.syms[h.idx]
	if max := h.sym.MaxConditionalOrders; max > 0 && st.conds >= max {
		refuse(wire.Errorf(wire.CodeTooManyOrders, "the account already holds %d conditional orders in %s (max_conditional_orders)", st.conds, h.sym.Name))
		return
	}
	c := &conditional{typ: r.Type, by: r.TriggerBy, close: r.ClosePosition,
		view: &wire.OrderTrigger{TriggerBy: r.TriggerBy, ClosePosition: r.ClosePosition}}
	c.t = trigger.Order{ID: o.id, Account: a.e.id, Side: o.side, Source: triggerSources[r.TriggerBy]}
	var err error
	switch r.Type {
	case wire.TrailingStopMarket:
		c.t.Kind = trigger.Trailing
		c.t.Callback = uint32(r.CallbackRate.Shift(1).IntPart()) // wire checked: 1..100
		c.view.CallbackRate = r.CallbackRate
		if !r.ActivationPrice.IsZero() {
			if c.t.Price, err = h.toTicks(r.ActivationPrice); err != nil {
				refuse(wire.Errorf(wire.CodeInvalidPrice, "activation_price: %v", err))
				return
			}
			c.view.ActivationPrice = h.price(c.t.Price)
		}
	default:
		c.t.TakeProfit = r.Type == wire.TakeProfitMarket || r.Type == wire.TakeProfitLimit
		if c.t.Price, err = h.toTicks(r.TriggerPrice); err != nil {
			refuse(wire.Errorf(wire.CodeInvalidPrice, "trigger_price: %v", err))
			return
		}
		c.view.TriggerPrice = h.price(c.t.Price)
	}
	if c.t.Price > h.sym.MaxPrice {
		refuse(wire.Errorf(wire.CodeInvalidPrice, "the trigger price is above the symbol's maximum %s", h.price(h.sym.MaxPrice)))
		return
	}
	o.cond = c
	o.status = wire.StatusUntriggered
	st.conds++
	a.open(o, r)
	ctx.Send(h.pid, &armMsg{o: c.t, from: ctx.Self(), req: m})
}

func (m *armedMsg) refuse(e *wire.Error) {
	if m.amend != nil {
		m.amend.m.refuse(e)
		return
	}
	m.req.refuse(e)
}

// onArmed answers the client: armed, or refused and forgotten.
func (a *accountActor) onArmed(m *armedMsg) {
	o := a.orders.get(m.id)
	if m.amend != nil {
		a.onRearmed(o, m)
		return
	}
	if o == nil || o.cond == nil {
		panic(fmt.Sprintf("actors: the symbol armed conditional order %d, which the account does not know", m.id))
	}
	if m.code != trigger.OK || m.err != nil {
		e := wire.Errorf(wire.CodeBadRequest, "the conditional order was refused: %s", m.code)
		switch {
		case m.err != nil:
			e = m.err
		case m.code == trigger.WouldTrigger:
			e = wire.Errorf(wire.CodeWouldTriggerImmediately, "the %s price %s already reached the trigger price %s",
				o.cond.by, o.h.price(m.price), o.h.price(o.cond.t.Price))
		}
		a.forget(o)
		a.release(o)
		m.req.refuse(e)
		return
	}
	w := a.snapshot(o)
	if a.wantEvents() {
		a.emit(&wire.AccountEvent{Type: wire.EventOrder, Order: w})
	}
	m.req.done(wire.OrderReply{Reply: wire.OK(), Order: w})
}

// amendConditional amends an untriggered order: its limit price and qty
// at once (they wait in the account), its trigger price through its
// symbol (onRearmed), which refuses one the price already reached.
func (a *accountActor) amendConditional(ctx actor.Context, o *order, m *amendReq) {
	r, h, c := &m.req, o.h, o.cond
	ca := &condAmend{m: m}
	var err error
	switch {
	case !r.Price.IsZero() && !c.typ.Limited():
		m.refuse(wire.Errorf(wire.CodeBadRequest, "a %s order has no price to amend", c.typ))
		return
	case !r.Qty.IsZero() && c.close:
		m.refuse(wire.Errorf(wire.CodeBadRequest, "a close_position order has no qty to amend: it closes the whole position"))
		return
	case !r.TriggerPrice.IsZero() && c.t.Kind == trigger.Trailing:
		m.refuse(wire.Errorf(wire.CodeBadRequest, "a trailing stop has no trigger_price: it trails by callback_rate"))
		return
	}
	if !r.Price.IsZero() {
		if ca.price, err = h.toTicks(r.Price); err != nil {
			m.refuse(wire.Errorf(wire.CodeInvalidPrice, "%v", err))
			return
		}
	}
	if !r.Qty.IsZero() {
		if ca.qty, err = h.toLots(r.Qty); err != nil {
			m.refuse(wire.Errorf(wire.CodeInvalidQty, "%v", err))
			return
		}
	}
	if r.TriggerPrice.IsZero() {
		a.amendedConditional(o, ca)
		return
	}
	t := c.t
	if t.Price, err = h.toTicks(r.TriggerPrice); err != nil || t.Price > h.sym.MaxPrice {
		m.refuse(wire.Errorf(wire.CodeInvalidPrice, "trigger_price %s must be a multiple of the tick up to %s", r.TriggerPrice, h.price(h.sym.MaxPrice)))
		return
	}
	ctx.Send(h.pid, &armMsg{o: t, from: ctx.Self(), amend: ca})
}

// onRearmed finishes an amend that moved the trigger; o is nil when the
// order fired and ended meanwhile.
func (a *accountActor) onRearmed(o *order, m *armedMsg) {
	ca := m.amend
	switch {
	case m.err != nil:
		ca.m.refuse(m.err)
	case m.gone || o == nil || o.cond.fired: // it fired before the amend reached its symbol
		ca.m.refuse(wire.Errorf(wire.CodeUnknownOrder, "order %d has triggered: amend it as the order it became", m.id))
	case m.code == trigger.WouldTrigger:
		ca.m.refuse(wire.Errorf(wire.CodeWouldTriggerImmediately, "the %s price %s already reached the trigger price %s",
			o.cond.by, o.h.price(m.price), ca.m.req.TriggerPrice))
	case m.code != trigger.OK:
		panic(fmt.Sprintf("actors: the symbol refused to re-arm order %d: %s", o.id, m.code))
	default:
		c := o.cond
		c.t.Price = m.price // the new trigger
		v := *c.view        // snapshots handed out keep the old one
		v.TriggerPrice = o.h.price(c.t.Price)
		c.view = &v
		a.amendedConditional(o, ca)
	}
}

// amendedConditional applies an untriggered order's new limit price and
// qty and answers.
func (a *accountActor) amendedConditional(o *order, ca *condAmend) {
	h := o.h
	if ca.price != 0 {
		o.price, o.wprice = ca.price, h.price(ca.price)
	}
	if ca.qty != 0 {
		o.qty, o.wqty = ca.qty, h.qty(ca.qty)
	}
	a.changed(o)
	w := a.snapshot(o)
	if a.wantEvents() {
		a.emit(&wire.AccountEvent{Type: wire.EventOrder, Order: w})
	}
	ca.m.done(wire.OrderReply{Reply: wire.OK(), Order: w})
}

// onTriggered sends a fired conditional order to its book through the
// pre-trade checks, at the mark of the moment it fired; refused, it is
// rejected, and its order event carries the reason.
func (a *accountActor) onTriggered(ctx actor.Context, m *triggeredMsg) {
	o := a.orders.get(m.id)
	if o == nil || o.cond == nil || o.cond.fired {
		panic(fmt.Sprintf("actors: the symbol fired conditional order %d, which the account does not hold untriggered", m.id))
	}
	c, h := o.cond, o.h
	c.fired = true
	a.syms[h.idx].conds--
	a.setStatus(o, wire.StatusTriggered)
	a.orderEvent(o)
	e := a.x.haltAt(&a.j)
	switch {
	case a.risk(h).InLiquidation():
		e = riskError(risk.AccountInLiquidation)
	case e != nil:
	case c.close:
		pos, _ := a.risk(h).Position(h.sym)
		if pos.Qty == 0 || (pos.Qty > 0) == (o.side == book.Buy) {
			e = wire.Errorf(wire.CodeReduceOnlyRejected, "close_position: no position the %s closes", o.side)
			break
		}
		o.qty = abs(pos.Qty)
		o.wqty, o.snap = h.qty(o.qty), nil
	}
	if e == nil {
		req := newPlaceReq(wire.PlaceOrder{}, h, func(wire.OrderReply) {})
		if e = a.submit(ctx, o, req, m.mark); e == nil {
			a.x.deliver(ctx, h.mb, h.pid, &req.place)
			return
		}
	}
	a.forget(o)
	a.setStatus(o, wire.StatusRejected)
	a.refusedEvent(o, e)
	a.release(o)
}

// firedInFlight reports whether id is a conditional order that fired and
// is still open: a cancel that missed it at its symbol (fired there, not
// yet in the book) is sent again, and reaches the book after the order,
// which this account sent before it learned of the miss.
func (a *accountActor) firedInFlight(id book.OrderID) bool {
	o := a.orders.get(id)
	return o != nil && o.cond != nil && o.cond.fired
}

// untriggered returns the ids of the untriggered conditional orders in the
// symbols of hs (every symbol for nil).
func (a *accountActor) untriggered(in func(*symbolHandle) bool) []book.OrderID {
	var ids []book.OrderID
	for _, o := range a.orders.Values() {
		if o.cond != nil && !o.cond.fired && in(o.h) {
			ids = append(ids, o.id)
		}
	}
	return ids
}

// conditionalView adds a conditional order's fields to its wire view.
func conditionalView(w *wire.Order, c *conditional) {
	w.Type, w.OrderTrigger = c.typ, c.view
}

// ---- the symbol actor's side ----

// onArm arms a conditional order unless it would fire at the source's
// current price.
func (s *symbolActor) onArm(ctx actor.Context, m *armMsg) {
	s.ref(m.o.Account, m.from)
	price := s.trig.Price(m.o.Source)
	out := &armedMsg{id: m.o.ID, price: price, req: m.req, amend: m.amend}
	if m.amend != nil {
		old, ok := s.trig.Remove(m.o.ID)
		if !ok { // fired: the account learns it first (per-pair FIFO)
			out.gone = true
			ctx.Send(m.from, out)
			return
		}
		if out.code = s.trig.Add(m.o, price); out.code != trigger.OK {
			if c := s.trig.Add(old, price); c != trigger.OK {
				panic(fmt.Sprintf("actors: %s refused to re-arm order %d as it was (%s) after refusing its amend (%s)", s.sym.Name, old.ID, c, out.code))
			}
		} else {
			out.price = m.o.Price
		}
		ctx.Send(m.from, out)
		return
	}
	out.code = s.trig.Add(m.o, price)
	ctx.Send(m.from, out)
}

// fire tells src's new price to the trigger set and sends each order it
// fires to its account.
func (s *symbolActor) fire(ctx actor.Context, src trigger.Source, price book.Ticks) {
	s.fired = s.trig.Update(src, price, s.fired[:0])
	for _, o := range s.fired {
		r := s.refs[o.Account]
		ctx.Send(r.pid, &triggeredMsg{sym: s.h.idx, id: o.ID, mark: s.h.lastMark()})
	}
}

// cancelTrigger removes an untriggered order for a cancel, as the book
// reports a canceled order.
func (s *symbolActor) cancelTrigger(id book.OrderID, r *book.Result) bool {
	o, ok := s.trig.Remove(id)
	if !ok {
		return false
	}
	r.Code, r.Status = book.OK, book.StatusCanceled
	r.Canceled = append(r.Canceled[:0], book.CanceledOrder{ID: o.ID, Account: o.Account, Side: o.Side})
	r.Depth = r.Depth[:0]
	return true
}

// ---- snapshots ----

// appendConditional writes the conditional orders' section of a snapshot,
// after the accounts: each symbol's trigger set, then each account's
// conditional parts of its orders (in the order appendSnapshot wrote them).
func (x *Exchange) appendConditional(p []byte, accts []*accountEntry) []byte {
	r := x.rec
	for _, h := range x.symbols {
		t, _ := r.target(actorSymbol + uint32(h.idx))
		p = t.recv.(*symbolActor).trig.AppendSnapshot(p)
	}
	for _, e := range accts {
		t, _ := r.target(actorAccount + uint32(e.id))
		a := t.recv.(*accountActor)
		var n uint64
		for _, o := range a.orders.Values() {
			if o.cond != nil {
				n++
			}
		}
		p = binary.AppendUvarint(p, n)
		for _, o := range a.orders.sorted() {
			c := o.cond
			if c == nil {
				continue
			}
			p = binary.AppendUvarint(p, uint64(o.id))
			p = appendStr(p, string(c.typ))
			p = appendStr(p, string(c.by))
			p = append(p, flags(c.close, c.fired), byte(c.t.Kind), flags(c.t.TakeProfit, false), byte(c.t.Source))
			p = binary.AppendVarint(p, int64(c.t.Price))
			p = binary.AppendUvarint(p, uint64(c.t.Callback))
			p = appendDec(p, c.view.TriggerPrice)
			p = appendDec(p, c.view.CallbackRate)
			p = appendDec(p, c.view.ActivationPrice)
		}
	}
	return p
}

// loadConditional reads what appendConditional wrote.
func (x *Exchange) loadConditional(d *payload) {
	r := x.rec
	for _, h := range x.symbols {
		t, _ := r.target(actorSymbol + uint32(h.idx))
		t.recv.(*symbolActor).trig = core(d, trigger.DecodeSnapshot)
	}
	for _, e := range x.accounts.all() {
		t, _ := r.target(actorAccount + uint32(e.id))
		a := t.recv.(*accountActor)
		n := d.uvarint()
		if n > uint64(len(d.p)) {
			d.fail("conditional orders")
		}
		for range n {
			o := a.orders.get(book.OrderID(d.uvarint()))
			if o == nil || d.err != nil {
				d.fail("a conditional order the account does not hold")
				return
			}
			c := &conditional{typ: wire.OrderType(d.str()), by: wire.TriggerBy(d.str())}
			c.close, c.fired = d.flags()
			c.t = trigger.Order{ID: o.id, Account: a.e.id, Side: o.side, Kind: trigger.Kind(d.byte())}
			c.t.TakeProfit, _ = d.flags()
			c.t.Source = trigger.Source(d.byte())
			c.t.Price, c.t.Callback = book.Ticks(d.varint()), uint32(d.uvarint())
			c.view = &wire.OrderTrigger{TriggerBy: c.by, ClosePosition: c.close}
			c.view.TriggerPrice, c.view.CallbackRate, c.view.ActivationPrice = d.dec(), d.dec(), d.dec()
			o.cond = c
			if !c.fired {
				a.syms[o.h.idx].conds++
			}
		}
	}
}
