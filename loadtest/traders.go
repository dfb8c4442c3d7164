package loadtest

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/perpx/perpx/wire"
)

// trader produces the next measured request of one simulated account. Only
// its pipe's sender goroutine calls it, and it never waits for a reply: the
// flow stays open loop, so traders act on what they sent, not on outcomes
// (a cancel of a quote that filled meanwhile is answered UNKNOWN_ORDER,
// which is what a real bot sees too).
type trader interface {
	next(buf []byte) (kind, string, []byte)
	// batchSubject is the order.batch subject of the trader's account.
	batchSubject() string
	// role is the trader's kind, for the report's rejects by trader.
	role() role
}

// Trader kinds, also the tags in account names.
const (
	KindMaker    = "mm"
	KindTaker    = "tk"
	KindLevered  = "lv"
	KindCanceler = "cx"
)

// weight is each kind's share of the send schedule per trader: levered
// traders need few orders to build their position, and taker flow is kept
// below quoting flow so the book stays stocked.
var weight = map[string]int{KindMaker: 4, KindCanceler: 4, KindTaker: 2, KindLevered: 1}

// acct is the part every trader shares: its account, symbol and ids.
type acct struct {
	name          string
	place, cancel string // subjects
	batch         string // order.batch subject
	cancelAll     string // order.cancel_all subject; "" when batching (it is no batch item)
	amend         string // order.amend subject; "" when batching (nor is it)
	sym           *symbol
	mark          *atomic.Int64 // the symbol's mark in ticks
	rng           *rand.Rand
	coid          uint64
	kind          role
}

func (a *acct) batchSubject() string { return a.batch }
func (a *acct) role() role           { return a.kind }

func (a *acct) placeOrder(buf []byte, o order) (kind, string, []byte) {
	a.coid++
	o.sym, o.coid = a.sym, a.coid
	return kindPlace, a.place, appendPlace(buf, &o)
}

func (a *acct) cancelOrder(buf []byte, coid uint64) (kind, string, []byte) {
	return kindCancel, a.cancel, appendCancel(buf, a.sym, coid)
}

// offsetTicks returns the price bps basis points away from the mark, on the
// passive side of side (below for a buy).
func (a *acct) offsetTicks(side wire.Side, bps float64) int64 {
	m := a.mark.Load()
	off := max(int64(float64(m)*bps/1e4), 1)
	if side == wire.Buy {
		return max(m-off, 1)
	}
	return m + off
}

func randomSide(r *rand.Rand) wire.Side {
	if r.IntN(2) == 0 {
		return wire.Buy
	}
	return wire.Sell
}

// fifo is a fixed-capacity queue of client order ids.
type fifo struct {
	buf        []uint64
	head, size int
}

func newFIFO(n int) fifo      { return fifo{buf: make([]uint64, n)} }
func (f *fifo) full() bool    { return f.size == len(f.buf) }
func (f *fifo) push(v uint64) { f.buf[(f.head+f.size)%len(f.buf)] = v; f.size++ }
func (f *fifo) pop() (v uint64) {
	v = f.buf[f.head]
	f.head = (f.head + 1) % len(f.buf)
	f.size--
	return v
}

// maker keeps a ladder of post-only quotes around the mark (priced like
// RunMarketMaker's) and replaces its oldest quote once the ladder is full,
// so its flow is half places, half cancels, always near the current mark.
// When the run listens to account events it learns which of its quotes
// filled, as a bot does from its fills, and does not cancel those.
type maker struct {
	acct
	cfg     MMConfig
	resting fifo
	placed  int
	filled  filledSet
	// ctl is the manager's last poll (nil: unmanaged): beyond
	// cfg.MaxPosition the maker quotes only the side that reduces it.
	ctl *control
}

func newMaker(a acct, cfg MMConfig) *maker {
	return &maker{acct: a, cfg: cfg, resting: newFIFO(2 * cfg.Levels)}
}

func (m *maker) next(buf []byte) (kind, string, []byte) {
	for m.resting.full() {
		coid := m.resting.pop()
		if !m.filled.take(coid) {
			return m.cancelOrder(buf, coid)
		}
	}
	side := wire.Buy
	if m.placed%2 == 1 {
		side = wire.Sell
	}
	if m.ctl != nil {
		if lots, notional, _, ok := m.ctl.position(); ok && lots != 0 && notional > m.cfg.MaxPosition {
			side = reducing(lots)
		}
	}
	level := m.placed / 2 % m.cfg.Levels
	m.placed++
	ticks := m.cfg.quoteTicks(m.mark.Load(), side, level)
	k, subj, body := m.placeOrder(buf, order{side: side, priceTicks: ticks,
		lots: m.sym.lotsFor(m.cfg.Notional, ticks), tif: wire.GTC, postOnly: true})
	m.resting.push(m.coid)
	return k, subj, body
}

// filledSet holds the client order ids of a maker's quotes that its
// account events reported filled, until the maker would have canceled
// them. The event subscription adds, the sender takes.
type filledSet struct {
	mu  sync.Mutex
	ids map[uint64]struct{}
	max uint64 // the highest id added
}

// maxFilled bounds the set: ids of quotes filled after their cancel left
// are never taken, so the oldest are dropped past it.
const maxFilled = 1024

func (f *filledSet) add(coid uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil {
		f.ids = map[uint64]struct{}{}
	}
	f.ids[coid] = struct{}{}
	f.max = max(f.max, coid)
	if len(f.ids) > maxFilled {
		for id := range f.ids {
			if id+maxFilled < f.max {
				delete(f.ids, id)
			}
		}
	}
}

func (f *filledSet) take(coid uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.ids[coid]; ok {
		delete(f.ids, coid)
		return true
	}
	return false
}

// taker sends market orders of random side and size around notional,
// leaning towards the side that reduces its position as the position
// grows (its manager's last poll), and sends the reduce-only closes its
// policy decides (take profit, cut loss, deleverage).
type taker struct {
	acct
	notional float64
	ctl      *control
	maxLev   float64 // the lean reaches "reduce only" at this leverage
}

func (t *taker) next(buf []byte) (kind, string, []byte) {
	if k, subj, body, ok := t.reduce(buf, t.ctl); ok {
		return k, subj, body
	}
	n := t.notional * (0.5 + t.rng.Float64())
	side := randomSide(t.rng)
	if lots, notional, equity, ok := t.ctl.position(); ok && lots != 0 && t.maxLev > 0 {
		// P(same side as the position) falls from 1/2 to 0 at maxLev.
		lean := math.Min(1, notional/(t.maxLev*math.Max(equity, 1)))
		side = reducing(lots)
		if t.rng.Float64() < 0.5*(1-lean) {
			side = side.Opposite()
		}
	}
	return t.placeOrder(buf, order{side: side, lots: t.sym.lotsFor(n, t.mark.Load())})
}

// reduce sends the reduce-only market order the manager decided, if any.
func (a *acct) reduce(buf []byte, c *control) (kind, string, []byte, bool) {
	r := c.take()
	if r == 0 {
		return 0, "", nil, false
	}
	k, subj, body := a.placeOrder(buf, order{side: reducing(r), lots: abs(r), reduceOnly: true})
	return k, subj, body, true
}

// reducing is the side of an order that reduces a position of lots.
func reducing(lots int64) wire.Side {
	if lots > 0 {
		return wire.Sell
	}
	return wire.Buy
}

// levered builds a position on a random side with market orders up to
// its policy's target leverage, then holds it, idling with a far passive
// order and its cancel and a protective stop; its manager closes it on
// profit or loss and deleverages it, and the index's jumps liquidate it.
// Once a poll shows it flat again (closed, liquidated, refilled) it builds
// anew on a new random side. A market order fills only what the makers'
// thin quotes hold, so it sends a fixed number of building orders per
// round and does not count fills.
type levered struct {
	acct
	ctl         *control
	side        wire.Side
	fixedSide   bool    // every round on side (a --shock run: the side the shock hurts)
	step        float64 // notional per building order
	target      float64 // leverage a round builds to, on the polled equity
	roundOrders int     // building orders per round, at most
	buildOrders int     // building orders left to send
	builtAt     uint64  // the poll count when the last round ended
	holdOrder   uint64  // the resting idle order, 0 when none
	holdOffBps  float64
	holds       int // idle orders placed: every other one is a protective stop
}

func (l *levered) next(buf []byte) (kind, string, []byte) {
	if k, subj, body, ok := l.reduce(buf, l.ctl); ok {
		return k, subj, body
	}
	if l.buildOrders == 0 && l.ctl.flatSince(l.builtAt) {
		if !l.fixedSide {
			l.side = randomSide(l.rng)
		}
		l.buildOrders = l.roundOrders
		// Built on what is left: a round sized for the capital would ask
		// more margin than a trader that lost part of it has.
		if _, _, equity, ok := l.ctl.position(); ok && l.target > 0 && equity > 0 {
			l.buildOrders = min(max(int(l.target*equity/l.step), 1), l.roundOrders)
		}
	}
	if l.buildOrders > 0 {
		if l.buildOrders--; l.buildOrders == 0 {
			l.builtAt = l.ctl.pollCount()
		}
		return l.placeOrder(buf, order{side: l.side, lots: l.sym.lotsFor(l.step, l.mark.Load())})
	}
	if l.holdOrder != 0 {
		coid := l.holdOrder
		l.holdOrder = 0
		return l.cancelOrder(buf, coid)
	}
	var o order
	if l.holds++; l.holds%2 == 0 {
		// A stop closing the whole position twice the idle distance
		// away on the losing side: a shock may fire it before it is
		// canceled, or liquidate the position first.
		o = order{side: l.side.Opposite(), stopTicks: l.offsetTicks(l.side, 2*l.holdOffBps)}
	} else {
		o = order{side: l.side, priceTicks: l.offsetTicks(l.side, l.holdOffBps), lots: 1, tif: wire.GTC, postOnly: true}
	}
	k, subj, body := l.placeOrder(buf, o)
	l.holdOrder = l.coid
	return k, subj, body
}

// canceler places a post-only order away from the touch and cancels it with
// its next request; every cancelAllEvery-th time it cancels with
// order.cancel_all on its symbol instead (same effect: it has one order open).
// One order in amendEvery is first moved to another price away from the
// touch by order.amend (not when batching).
type canceler struct {
	acct
	notional float64
	open     uint64
	side     wire.Side
	amended  bool
	cancels  int
}

const (
	cancelAllEvery = 4
	amendEvery     = 5
)

func (c *canceler) next(buf []byte) (kind, string, []byte) {
	if c.open != 0 && !c.amended && c.amend != "" && c.rng.IntN(amendEvery) == 0 {
		c.amended = true
		return kindAmend, c.amend, appendAmendPrice(buf, c.sym, c.open, c.offsetTicks(c.side, 10+40*c.rng.Float64()))
	}
	if c.open != 0 {
		coid := c.open
		c.open = 0
		if c.cancels++; c.cancelAll != "" && c.cancels%cancelAllEvery == 0 {
			return kindCancel, c.cancelAll, appendCancelAll(buf, c.sym)
		}
		return c.cancelOrder(buf, coid)
	}
	side := randomSide(c.rng)
	c.side, c.amended = side, false
	ticks := c.offsetTicks(side, 10+40*c.rng.Float64())
	k, subj, body := c.placeOrder(buf, order{side: side, priceTicks: ticks,
		lots: c.sym.lotsFor(c.notional, ticks), tif: wire.GTC, postOnly: true})
	c.open = c.coid
	return k, subj, body
}
