package actors

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"unsafe"

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

// The kept histories are most of a busy exchange's heap (up to 1 000
// closed orders, fills and income rows an account), so their records hold
// no pointer: a symbol by index, an order id by number, a client order id
// inline. The GC then never scans them and filling one needs no write
// barrier: with pointers they cost BenchmarkActorsOrders a third of its
// CPU (bench/README.md, "Stop 23").

// cid is a client order id kept inline; place refuses longer ones.
type cid struct {
	n uint8
	b [wire.MaxTokenLen]byte
}

// set writes s in place (a cid is large for a return value).
func (c *cid) set(s string) { c.n = uint8(copy(c.b[:], s)) }

// String returns a copy of the id.
func (c *cid) String() string { return string(c.b[:c.n]) }

// shared returns the id over c's own bytes: only for use before the
// record it is in can change.
func (c *cid) shared() string {
	if c.n == 0 {
		return ""
	}
	return unsafe.String(&c.b[0], int(c.n))
}

// fillRec is one fill as the account booked it.
type fillRec struct {
	id            book.OrderID
	sym           uint32 // Exchange.symbols index
	side          book.Side
	maker         bool
	price         book.Ticks
	qty           book.Lots
	fee, realized market.Money
	tradeSeq      uint64
	ms            int64
	cid           cid
}

// closedOrder is a closed order as the account keeps it; reopen gives
// back the order. A conditional one's trigger is in closedCond.
type closedOrder struct {
	id                   book.OrderID
	price                book.Ticks
	qty, filled          book.Lots
	value                market.Money
	createdMs, updatedMs int64
	sym                  uint32
	side                 book.Side
	typ                  book.OrderType
	tif                  book.TIF
	stp                  book.STPMode
	status               uint8 // statuses index
	flags                uint8 // closed* bits
	cid                  cid
}

const (
	closedReduceOnly uint8 = 1 << iota
	closedPostOnly
	closedSTPCanceled
	closedBoundCanceled
	closedCond
)

// statuses numbers the order statuses for closedOrder, most common first.
var statuses = [...]wire.Status{wire.StatusFilled, wire.StatusCanceled, wire.StatusExpired, wire.StatusRejected,
	wire.StatusTriggered, wire.StatusUntriggered, wire.StatusNew, wire.StatusPartiallyFilled}

func bit(on bool, b uint8) uint8 {
	if on {
		return b
	}
	return 0
}

func statusCode(s wire.Status) uint8 {
	for i, v := range statuses {
		if v == s {
			return uint8(i)
		}
	}
	panic(fmt.Sprintf("actors: order status %q unknown", s))
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
		req  wire.Orders
		id   book.OrderID // parsed req.OrderID; 0 when not given
		open bool         // order.open: every open order, as state lists them
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

// OpenOrders answers order.open: acct's open orders (of req.Symbol when
// given) as AccountState lists them, without the rest of the state.
func (x *Exchange) OpenOrders(acct string, req wire.State, done func(wire.OrdersReply)) {
	x.askHistory(acct, req.Symbol, &historyReq{orders: &ordersQuery{open: true}, done: durably(x, done)}) // durably as AccountState
}

// askHistory sends m to acct, of symbol when given (else refuses it).
func (x *Exchange) askHistory(acct, symbol string, m *historyReq) {
	if h, ok := x.symbolFilter(symbol, m.refuse); ok {
		m.h = h
		x.read(acct, m)
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
		a.closed = ring.New[closedOrder](a.x.keep.AccountOrders)
	}
	if a.closed.Len() == a.closed.Cap() {
		if old := a.closed.At(0); old.flags&closedCond != 0 {
			delete(a.closedCond, old.id)
		}
	}
	c := a.closed.Add()
	c.id, c.price, c.qty, c.filled, c.value = o.id, o.price, o.qty, o.filled, o.value
	c.createdMs, c.updatedMs, c.sym, c.status = o.createdMs, o.updatedMs, uint32(o.h.idx), statusCode(o.status)
	c.side, c.typ, c.tif, c.stp = o.side, o.typ, o.tif, o.stp
	c.flags = bit(o.reduceOnly, closedReduceOnly) | bit(o.postOnly, closedPostOnly) | bit(o.stpCanceled, closedSTPCanceled) |
		bit(o.boundCanceled, closedBoundCanceled) | bit(o.cond != nil, closedCond)
	c.cid.set(o.clientID)
	if o.cond != nil {
		if a.closedCond == nil {
			a.closedCond = map[book.OrderID]*conditional{}
		}
		a.closedCond[o.id] = o.cond
	}
}

// reopen returns c as the order it was. For a view its texts are its own
// (wid set); else they are c's bytes (wid unset), for use before c changes.
func (a *accountActor) reopen(c *closedOrder, view bool) order {
	h := a.x.symbols[c.sym]
	o := order{id: c.id, h: h, side: c.side, typ: c.typ, tif: c.tif, stp: c.stp, price: c.price, qty: c.qty,
		filled: c.filled, value: c.value, status: statuses[c.status], createdMs: c.createdMs, updatedMs: c.updatedMs,
		reduceOnly: c.flags&closedReduceOnly != 0, postOnly: c.flags&closedPostOnly != 0,
		stpCanceled: c.flags&closedSTPCanceled != 0, boundCanceled: c.flags&closedBoundCanceled != 0,
		wqty: h.qty(c.qty), clientID: c.cid.shared()}
	if c.typ != book.Market {
		o.wprice = h.price(c.price)
	}
	if c.flags&closedCond != 0 {
		o.cond = a.closedCond[c.id]
	}
	if view {
		o.clientID, o.wid = c.cid.String(), strconv.FormatUint(uint64(c.id), 10)
	}
	return o
}

// keepFill records a booked fill (of the order with clientID) and
// returns it.
func (a *accountActor) keepFill(f fillRec, clientID string) *fillRec {
	if a.fills.Cap() == 0 {
		a.fills = ring.New[fillRec](a.x.keep.AccountFills)
	}
	if n := a.fills.Len(); n > 0 {
		f.ms = max(f.ms, a.fills.At(n-1).ms) // see monotonic
	}
	p := a.fills.Add()
	*p = f
	p.cid.set(clientID)
	return p
}

// monotonic: the kept fills' and income rows' times never decrease in
// the order the account booked them. A fill's time is its trade's, and
// another symbol's later trade can reach the account first: paging
// forward from the last row's time would then skip the earlier one. It
// takes the later time instead (a few ms at most).

// fillView is f as the fill event and the fills reply show it, with its
// order's id and client id as given.
func (a *accountActor) fillView(f *fillRec, wid, clientID string) *wire.Fill {
	liq := wire.Taker
	if f.maker {
		liq = wire.Maker
	}
	h := a.x.symbols[f.sym]
	return &wire.Fill{
		Symbol: h.sym.Name, OrderID: wid, ClientOrderID: clientID,
		Side: wireSide(f.side), Price: h.price(f.price), Qty: h.qty(f.qty), Fee: f.fee.Decimal(),
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
		if (m.h != nil && int(f.sym) != m.h.idx) || !inWindow(m.fills, f.ms) {
			return wire.Fill{}, false
		}
		return *a.fillView(f, strconv.FormatUint(uint64(f.id), 10), f.cid.String()), true
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
	if q.open {
		m.done(wire.OrdersReply{Reply: wire.OK(), Orders: a.openViews(m.h)})
		return
	}
	match := func(h int, id book.OrderID, clientID string) bool {
		switch {
		case m.h != nil && h != m.h.idx:
			return false
		case q.id != 0:
			return id == q.id
		case q.req.ClientOrderID != "":
			return clientID == q.req.ClientOrderID
		}
		return true
	}
	// The open orders' and the closed ones' matches, newest first; closed
	// ones are reopened once the limit is applied.
	type hit struct {
		id   book.OrderID
		open *order
		c    *closedOrder
	}
	var found []hit
	for _, o := range a.orders.Values() {
		if match(o.h.idx, o.id, o.clientID) {
			found = append(found, hit{id: o.id, open: o})
		}
	}
	for i := a.closed.Len() - 1; i >= 0; i-- {
		if c := a.closed.At(i); match(int(c.sym), c.id, c.cid.shared()) {
			found = append(found, hit{id: c.id, c: c})
		}
	}
	slices.SortFunc(found, func(x, y hit) int { return cmp.Compare(y.id, x.id) })
	if q.id != 0 || q.req.ClientOrderID != "" {
		if len(found) == 0 {
			m.refuse(wire.Errorf(wire.CodeUnknownOrder, "no such order among the open and the last %d closed", a.x.keep.AccountOrders))
			return
		}
		found = found[:1] // a client id reused: its newest order
	}
	found = found[:min(len(found), q.req.Limit)]
	out := make([]wire.Order, len(found))
	for i, f := range found {
		o := f.open
		if o == nil {
			c := a.reopen(f.c, true)
			o = &c
		}
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
		c := a.closed.At(i)
		ro := a.reopen(c, false)
		o := &ro
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
		p = binary.AppendUvarint(p, uint64(f.sym))
		var id [20]byte // the order id's text, as appendStr writes a string
		digits := strconv.AppendUint(id[:0], uint64(f.id), 10)
		p = append(binary.AppendUvarint(p, uint64(len(digits))), digits...)
		p = appendStr(p, f.cid.shared())
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
		h, wid, clientID := d.sym(a.x, false), d.bytes(), d.str()
		id, err := strconv.ParseUint(string(wid), 10, 64)
		if err != nil || len(clientID) > wire.MaxTokenLen {
			d.fail("fill's order")
		}
		f := fillRec{id: book.OrderID(id), side: book.Side(d.byte())}
		if h != nil {
			f.sym = uint32(h.idx)
		}
		f.maker, _ = d.flags()
		f.price, f.qty = book.Ticks(d.varint()), book.Lots(d.varint())
		f.fee, f.realized = market.Money(d.varint()), market.Money(d.varint())
		f.tradeSeq, f.ms = d.uvarint(), d.varint()
		if d.err != nil {
			return
		}
		a.keepFill(f, clientID)
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
		v = append(v, uint64(o.id), hashString(string(statuses[o.status])), uint64(o.filled), uint64(o.updatedMs))
		if o.flags&closedBoundCanceled != 0 {
			v = append(v, 4) // only then: the hashes of histories without it are as they were
		}
	}
	for i := range a.fills.Len() {
		f := a.fills.At(i)
		v = append(v, f.tradeSeq, uint64(f.qty), uint64(f.fee), uint64(f.ms))
	}
	return hashInts(a.incomeHash(v)...)
}
