package loadtest

import (
	"math/rand/v2"
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
}

func (a *acct) batchSubject() string { return a.batch }

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
type maker struct {
	acct
	cfg     MMConfig
	resting fifo
	placed  int
}

func newMaker(a acct, cfg MMConfig) *maker {
	return &maker{acct: a, cfg: cfg, resting: newFIFO(2 * cfg.Levels)}
}

func (m *maker) next(buf []byte) (kind, string, []byte) {
	if m.resting.full() {
		return m.cancelOrder(buf, m.resting.pop())
	}
	side := wire.Buy
	if m.placed%2 == 1 {
		side = wire.Sell
	}
	level := m.placed / 2 % m.cfg.Levels
	m.placed++
	ticks := m.cfg.quoteTicks(m.mark.Load(), side, level)
	k, subj, body := m.placeOrder(buf, order{side: side, priceTicks: ticks,
		lots: m.sym.lotsFor(m.cfg.Notional, ticks), tif: wire.GTC, postOnly: true})
	m.resting.push(m.coid)
	return k, subj, body
}

// taker sends market orders of random side and size around notional.
type taker struct {
	acct
	notional float64
}

func (t *taker) next(buf []byte) (kind, string, []byte) {
	n := t.notional * (0.5 + t.rng.Float64())
	return t.placeOrder(buf, order{side: randomSide(t.rng), lots: t.sym.lotsFor(n, t.mark.Load())})
}

// levered builds a position on one side with market orders at high
// leverage, then holds it, idling with a far passive order and its cancel:
// the position is what a shock liquidates. A market order fills only what
// the makers' thin quotes hold, so it does not count fills: it sends
// buildOrders of step notional, several times what the capital carries,
// and the margin check refuses the ones beyond it (INSUFFICIENT_MARGIN in
// the report) — a bot pushing its leverage to the limit.
type levered struct {
	acct
	side        wire.Side
	step        float64 // notional per building order
	buildOrders int     // building orders left to send
	holdOrder   uint64  // the resting idle order, 0 when none
	holdOffBps  float64
	holds       int // idle orders placed: every other one is a protective stop
}

func (l *levered) next(buf []byte) (kind, string, []byte) {
	if l.buildOrders > 0 {
		l.buildOrders--
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
		close := wire.Sell
		if l.side == wire.Sell {
			close = wire.Buy
		}
		o = order{side: close, stopTicks: l.offsetTicks(l.side, 2*l.holdOffBps)}
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
