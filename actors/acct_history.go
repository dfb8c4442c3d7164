package actors

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/internal/ring"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// An account keeps its latest closed orders and fills for the orders and
// fills requests (what Binance serves as allOrders and userTrades). Both
// rings grow on use up to Options.Retention's caps, are rebuilt by replay
// (every change they record is a journaled message's) and ride in the
// snapshot's account-history section.

// fillRec is one fill as the account booked it.
type fillRec struct {
	h             *symbolHandle
	wid, clientID string
	side          book.Side
	maker         bool
	price         book.Ticks
	qty           book.Lots
	fee, realized market.Money
	tradeSeq      uint64
	ms            int64
}

type (
	// historyReq asks an account for its orders (orders set), income
	// (income set) or fills.
	historyReq struct {
		h      *symbolHandle // nil: every symbol
		orders *ordersQuery
		fills  *wire.Fills
		income *wire.IncomeQuery
		done   func(wire.OrdersReply)
		doneF  func(wire.FillsReply)
		doneI  func(wire.IncomeReply)
	}
	ordersQuery struct {
		req wire.Orders
		id  book.OrderID // parsed req.OrderID; 0 when not given
	}
)

func (m *historyReq) refuse(e *wire.Error) {
	switch {
	case m.orders != nil:
		m.done(wire.OrdersReply{Reply: wire.Fail(e), Orders: []wire.Order{}})
		return
	case m.income != nil:
		m.doneI(wire.IncomeReply{Reply: wire.Fail(e), Income: []wire.Income{}})
		return
	}
	m.doneF(wire.FillsReply{Reply: wire.Fail(e), Fills: []wire.Fill{}})
}

// AccountOrders answers acct's orders: one by id, or its open and kept
// closed ones.
func (x *Exchange) AccountOrders(acct string, req wire.Orders, done func(wire.OrdersReply)) {
	q := &ordersQuery{req: req}
	m := &historyReq{orders: q, done: durably(x, done)} // as AccountState
	if req.OrderID != "" {
		id, err := strconv.ParseUint(req.OrderID, 10, 64)
		if err != nil || id == 0 {
			m.refuse(wire.Errorf(wire.CodeUnknownOrder, "no order %q", req.OrderID))
			return
		}
		q.id = book.OrderID(id)
	}
	x.askHistory(acct, req.Symbol, m)
}

// askHistory sends m to acct, of symbol when given (else refuses it).
func (x *Exchange) askHistory(acct, symbol string, m *historyReq) {
	if h, ok := x.symbolFilter(symbol, m.refuse); ok {
		m.h = h
		x.toAccount(x.Account(acct).e, m)
	}
}

// Fills answers acct's kept fills.
func (x *Exchange) Fills(acct string, req wire.Fills, done func(wire.FillsReply)) {
	x.askHistory(acct, req.Symbol, &historyReq{fills: &req, doneF: durably(x, done)}) // durably as AccountState
}

// keepClosed records o, which just ended, in the closed-order ring; an
// order refused before it was accepted (no id, or never open) is not kept.
func (a *accountActor) keepClosed(o *order) {
	if o.id == 0 || o.wid == "" || !terminal(o.status) {
		return
	}
	if a.closed.Cap() == 0 {
		a.closed = ring.New[order](a.x.keep.AccountOrders)
	}
	c := *o
	c.snap, c.amending, c.pendPrice, c.pendQty = nil, 0, 0, 0
	c.pastBound = false // its cancel's answer came: boundCanceled says what it did
	a.closed.Push(c)
}

// keepFill records a booked fill and returns it.
func (a *accountActor) keepFill(f fillRec) *fillRec {
	if a.fills.Cap() == 0 {
		a.fills = ring.New[fillRec](a.x.keep.AccountFills)
	}
	if n := a.fills.Len(); n > 0 {
		f.ms = max(f.ms, a.fills.At(n-1).ms) // see monotonic
	}
	a.fills.Push(f)
	return a.fills.At(a.fills.Len() - 1)
}

// monotonic: the kept fills' and income rows' times never decrease in
// the order the account booked them. A fill's time is its trade's, and
// another symbol's later trade can reach the account first: paging
// forward from the last row's time would then skip the earlier one. It
// takes the later time instead (a few ms at most).

// fillView is f as the fill event and the fills reply show it.
func fillView(f *fillRec) *wire.Fill {
	liq := wire.Taker
	if f.maker {
		liq = wire.Maker
	}
	return &wire.Fill{
		Symbol: f.h.sym.Name, OrderID: f.wid, ClientOrderID: f.clientID,
		Side: wireSide(f.side), Price: f.h.price(f.price), Qty: f.h.qty(f.qty), Fee: f.fee.Decimal(),
		Liquidity: liq, RealizedPnL: f.realized.Decimal(), TradeSeq: f.tradeSeq, TimeMs: f.ms,
	}
}

func (a *accountActor) history(m *historyReq) {
	switch {
	case m.orders != nil:
		a.ordersReply(m)
		return
	case m.income != nil:
		a.incomeReply(m)
		return
	}
	out := pageRing(&a.fills, m.fills, func(_ int, f *fillRec) (wire.Fill, bool) {
		if (m.h != nil && f.h != m.h) || !inWindow(m.fills, f.ms) {
			return wire.Fill{}, false
		}
		return *fillView(f), true
	})
	m.doneF(wire.FillsReply{Reply: wire.OK(), Fills: out})
}

// pageRing returns the views of r's entries that view accepts, oldest
// first: the first r.Limit from the oldest when r.StartMs is given (a
// client pages forward), else the newest r.Limit (history's window).
// view gets each entry's index in the ring.
func pageRing[T, V any](ring *ring.Ring[T], r *wire.Fills, view func(int, *T) (V, bool)) []V {
	out := []V{}
	n, i, step := ring.Len(), ring.Len()-1, -1
	if r.StartMs > 0 {
		i, step = 0, 1
	}
	for ; i >= 0 && i < n && len(out) < r.Limit; i += step {
		if v, ok := view(i, ring.At(i)); ok {
			out = append(out, v)
		}
	}
	if step < 0 {
		slices.Reverse(out)
	}
	return out
}

// inWindow reports whether ms lies in r's [start_ms, end_ms].
func inWindow(r *wire.Fills, ms int64) bool {
	return ms >= r.StartMs && (r.EndMs == 0 || ms <= r.EndMs)
}

func (a *accountActor) ordersReply(m *historyReq) {
	q := m.orders
	match := func(o *order) bool {
		switch {
		case m.h != nil && o.h != m.h:
			return false
		case q.id != 0:
			return o.id == q.id
		case q.req.ClientOrderID != "":
			return o.clientID == q.req.ClientOrderID
		}
		return true
	}
	var found []*order
	for _, o := range a.orders.Values() {
		if match(o) {
			found = append(found, o)
		}
	}
	for i := a.closed.Len() - 1; i >= 0; i-- {
		if o := a.closed.At(i); match(o) {
			found = append(found, o)
		}
	}
	slices.SortFunc(found, func(x, y *order) int { return cmp.Compare(y.id, x.id) }) // newest first
	if q.id != 0 || q.req.ClientOrderID != "" {
		if len(found) == 0 {
			m.refuse(wire.Errorf(wire.CodeUnknownOrder, "no such order among the open and the last %d closed", a.x.keep.AccountOrders))
			return
		}
		found = found[:1] // a client id reused: its newest order
	}
	found = found[:min(len(found), q.req.Limit)]
	out := make([]wire.Order, len(found))
	for i, o := range found {
		out[len(found)-1-i] = *a.snapshot(o)
	}
	m.done(wire.OrdersReply{Reply: wire.OK(), Orders: out})
}

// appendHistory writes the snapshot's account-history section: the open
// orders' update times, then the kept closed orders and fills, oldest first.
func (a *accountActor) appendHistory(p []byte) []byte {
	orders := a.orders.sorted()
	p = binary.AppendUvarint(p, uint64(len(orders)))
	for _, o := range orders {
		p = binary.AppendVarint(p, o.updatedMs)
	}
	p = binary.AppendUvarint(p, uint64(a.closed.Len()))
	for i := range a.closed.Len() {
		o := a.closed.At(i)
		p = appendOrder(p, o)
		p = binary.AppendVarint(p, o.updatedMs)
		p = append(p, flags(o.stpCanceled, o.cond != nil)|byte(flag(o.boundCanceled))<<2) // bit 2: 0 before it was kept
		if c := o.cond; c != nil {
			v := c.view
			p = appendStr(p, string(c.typ))
			p = appendStr(p, string(v.TriggerBy))
			p = append(p, flags(v.ClosePosition, false))
			p = appendDec(p, v.TriggerPrice)
			p = appendDec(p, v.CallbackRate)
			p = appendDec(p, v.ActivationPrice)
		}
	}
	p = binary.AppendUvarint(p, uint64(a.fills.Len()))
	for i := range a.fills.Len() {
		f := a.fills.At(i)
		p = binary.AppendUvarint(p, uint64(f.h.idx))
		p = appendStr(p, f.wid)
		p = appendStr(p, f.clientID)
		p = append(p, byte(f.side), flags(f.maker, false))
		p = binary.AppendVarint(p, int64(f.price))
		p = binary.AppendVarint(p, int64(f.qty))
		p = binary.AppendVarint(p, int64(f.fee))
		p = binary.AppendVarint(p, int64(f.realized))
		p = binary.AppendUvarint(p, f.tradeSeq)
		p = binary.AppendVarint(p, f.ms)
	}
	return p
}

// loadHistory reads what appendHistory wrote.
func (a *accountActor) loadHistory(d *payload) {
	orders := a.orders.sorted()
	if n := d.uvarint(); n != uint64(len(orders)) {
		d.fail("open orders' update times")
		return
	}
	for _, o := range orders {
		o.updatedMs = d.varint()
	}
	n := d.uvarint()
	if n > uint64(len(d.p)) { // more than the ring keeps now: it drops the oldest
		d.fail("closed orders")
		return
	}
	for range n {
		var o order
		if !a.decodeOrder(d, &o) {
			return
		}
		o.updatedMs = d.varint()
		var cond bool
		f := d.byte()
		o.stpCanceled, cond = flagsOf(f)
		o.boundCanceled = f&4 != 0
		if cond {
			c := &conditional{typ: wire.OrderType(d.str()), view: &wire.OrderTrigger{TriggerBy: wire.TriggerBy(d.str())}}
			c.view.ClosePosition, _ = d.flags()
			c.view.TriggerPrice, c.view.CallbackRate, c.view.ActivationPrice = d.dec(), d.dec(), d.dec()
			c.by, c.close = c.view.TriggerBy, c.view.ClosePosition
			o.cond = c
		}
		a.keepClosed(&o)
	}
	n = d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("fills")
		return
	}
	for range n {
		f := fillRec{h: d.sym(a.x, false), wid: d.str(), clientID: d.str(), side: book.Side(d.byte())}
		f.maker, _ = d.flags()
		f.price, f.qty = book.Ticks(d.varint()), book.Lots(d.varint())
		f.fee, f.realized = market.Money(d.varint()), market.Money(d.varint())
		f.tradeSeq, f.ms = d.uvarint(), d.varint()
		if d.err != nil {
			return
		}
		a.keepFill(f)
	}
}

// historyHash digests the kept history, so a replay that rebuilt it wrong
// shows in the state hash.
func (a *accountActor) historyHash() uint64 {
	v := make([]uint64, 0, 4*(a.closed.Len()+a.fills.Len()+a.income.Len())+3)
	for _, o := range a.orders.sorted() {
		v = append(v, uint64(o.id), uint64(o.updatedMs))
	}
	v = append(v, uint64(a.closed.Len()))
	for i := range a.closed.Len() {
		o := a.closed.At(i)
		v = append(v, uint64(o.id), hashString(string(o.status)), uint64(o.filled), uint64(o.updatedMs))
		if o.boundCanceled {
			v = append(v, 4) // only then: the hashes of histories without it are as they were
		}
	}
	for i := range a.fills.Len() {
		f := a.fills.At(i)
		v = append(v, f.tradeSeq, uint64(f.qty), uint64(f.fee), uint64(f.ms))
	}
	return hashInts(a.incomeHash(v)...)
}
