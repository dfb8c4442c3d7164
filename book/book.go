package book

import (
	"math"
	"math/bits"

	"github.com/google/btree"
)

// nilIdx marks the end of a list or an absent slab slot.
const nilIdx int32 = -1

// node is a resting order in the order slab, linked into its level's FIFO.
type node struct {
	Order
	remaining  Lots
	filled     Lots
	prev, next int32 // FIFO neighbours at the level; next doubles as the free-list link
	level      int32
}

// level is one price level in the level slab.
type level struct {
	price      Ticks
	total      Lots
	count      int32
	head, tail int32 // head doubles as the free-list link
}

// levelKey is a level's place on its side: a smaller key is a better price
// (asks use the price, bids its negation).
type levelKey struct {
	key int64
	lvl int32
}

// half is one side of the book.
type half struct {
	side   Side
	tree   *btree.BTreeG[levelKey] // level order, only touched when a level appears or empties
	prices Index                   // price -> level slot, for O(1) joins at existing levels
	best   int32                   // cached best level, nilIdx when the side is empty
}

// keyOf maps a price to its position on this side: smaller is better.
func (h *half) keyOf(p Ticks) int64 {
	if h.side == Buy {
		return -int64(p)
	}
	return int64(p)
}

// bestFirst calls fn on this side's levels, best first, until fn returns false.
func (h *half) bestFirst(fn func(levelKey) bool) { h.tree.Descend(fn) }

// Book is one symbol's price-time priority order book. It is not safe for
// concurrent use; each symbol's book is owned by one goroutine.
type Book struct {
	nodes     []node
	freeNode  int32
	levels    []level
	freeLevel int32
	ids       Index // order id -> node slot
	bids      half
	asks      half
	last      Ticks
	scratch   []int32 // level slots, reused by CancelAll
}

const btreeDegree = 16

// New returns an empty book.
func New() *Book {
	b := &Book{}
	b.bids = newHalf(Buy, minIndexSize)
	b.asks = newHalf(Sell, minIndexSize)
	b.ids.Init(minIndexSize)
	b.freeNode, b.freeLevel = nilIdx, nilIdx
	return b
}

// newHalf returns an empty side whose price index starts with at least size
// slots (it grows at half load).
func newHalf(s Side, size int) half {
	h := half{side: s, best: nilIdx}
	// The tree holds levels worst first, so the best level is the last
	// item of the rightmost leaf and a new best level is an append, not a
	// shift of the whole leaf.
	h.tree = btree.NewWithFreeListG(btreeDegree, func(a, b levelKey) bool { return a.key > b.key },
		btree.NewFreeListG[levelKey](256))
	h.prices.Init(size)
	return h
}

// Reset empties the book and keeps its memory, so a reused book does not
// allocate while it grows back to its previous size.
func (b *Book) Reset() {
	b.nodes, b.levels = b.nodes[:0], b.levels[:0]
	b.freeNode, b.freeLevel = nilIdx, nilIdx
	b.ids.Clear()
	for _, h := range [2]*half{&b.bids, &b.asks} {
		h.tree.Clear(true)
		h.prices.Clear()
		h.best = nilIdx
	}
	b.last = 0
}

func (b *Book) half(s Side) *half {
	if s == Buy {
		return &b.bids
	}
	return &b.asks
}

// Len is the number of resting orders.
func (b *Book) Len() int { return b.ids.n }

// LastPrice is the price of the latest fill, 0 before the first.
func (b *Book) LastPrice() Ticks { return b.last }

// BestBid returns the best bid level's price and total quantity.
func (b *Book) BestBid() (Ticks, Lots, bool) { return b.bestOf(&b.bids) }

// BestAsk returns the best ask level's price and total quantity.
func (b *Book) BestAsk() (Ticks, Lots, bool) { return b.bestOf(&b.asks) }

func (b *Book) bestOf(h *half) (Ticks, Lots, bool) {
	if h.best == nilIdx {
		return 0, 0, false
	}
	l := &b.levels[h.best]
	return l.price, l.total, true
}

// Order returns a resting order.
func (b *Book) Order(id OrderID) (OpenOrder, bool) {
	ni, ok := b.lookup(id)
	if !ok {
		return OpenOrder{}, false
	}
	n := &b.nodes[ni]
	return OpenOrder{Order: n.Order, Remaining: n.remaining, Filled: n.filled}, true
}

// Depth appends up to n best levels of each side to bids[:0] and asks[:0]
// (n <= 0 means all) and returns them; pass the previous slices back to
// avoid allocating.
func (b *Book) Depth(n int, bids, asks []Level) ([]Level, []Level) {
	return b.depthOf(&b.bids, n, bids[:0]), b.depthOf(&b.asks, n, asks[:0])
}

func (b *Book) depthOf(h *half, n int, out []Level) []Level {
	h.bestFirst(func(k levelKey) bool {
		l := &b.levels[k.lvl]
		out = append(out, Level{Price: l.price, Qty: l.total, Orders: int(l.count)})
		return n <= 0 || len(out) < n
	})
	return out
}

// SweepPrice is the price of the level at which a taker on side filling
// qty by sweeping the opposite side from its best level stops (the last
// level when that side holds less than qty). It reports false when that
// side is empty or qty ≤ 0. Self-trade prevention is ignored.
func (b *Book) SweepPrice(side Side, qty Lots) (Ticks, bool) {
	if qty <= 0 || (side != Buy && side != Sell) {
		return 0, false
	}
	var p Ticks
	b.half(side.Opposite()).bestFirst(func(k levelKey) bool {
		l := &b.levels[k.lvl]
		p = l.price
		qty -= l.total
		return qty > 0
	})
	return p, p != 0
}

// ImpactPrice is the average price, in ticks, a taker on side would pay to
// fill qty by sweeping the opposite side from its best level, rounded
// against the taker (up for a buy, down for a sell). It reports false when
// that side holds less than qty. Self-trade prevention is ignored.
func (b *Book) ImpactPrice(side Side, qty Lots) (Ticks, bool) {
	if qty <= 0 || (side != Buy && side != Sell) {
		return 0, false
	}
	var hi, lo uint64 // 128-bit sum of price*qty
	need := qty
	b.half(side.Opposite()).bestFirst(func(k levelKey) bool {
		l := &b.levels[k.lvl]
		take := min(need, l.total)
		h, w := bits.Mul64(uint64(l.price), uint64(take))
		var c uint64
		lo, c = bits.Add64(lo, w, 0)
		hi += h + c
		need -= take
		return need > 0
	})
	if need > 0 {
		return 0, false
	}
	// The average is at most the worst price swept, so the quotient fits.
	q, rem := bits.Div64(hi, lo, uint64(qty))
	if rem != 0 && side == Buy {
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return Ticks(q), true
}

// Node and level slabs: free lists make steady-state add/remove allocation free.

func (b *Book) allocNode() int32 {
	if i := b.freeNode; i != nilIdx {
		b.freeNode = b.nodes[i].next
		return i
	}
	b.nodes = append(b.nodes, node{})
	return int32(len(b.nodes) - 1)
}

func (b *Book) freeNodeAt(i int32) {
	b.nodes[i] = node{next: b.freeNode, prev: nilIdx, level: nilIdx}
	b.freeNode = i
}

func (b *Book) allocLevel() int32 {
	if i := b.freeLevel; i != nilIdx {
		b.freeLevel = b.levels[i].head
		return i
	}
	b.levels = append(b.levels, level{})
	return int32(len(b.levels) - 1)
}

// levelAt returns the level slot for price on h, creating it if needed.
func (b *Book) levelAt(h *half, p Ticks) int32 {
	if li, ok := h.prices.Get(uint64(p)); ok {
		return li
	}
	li := b.allocLevel()
	b.levels[li] = level{price: p, head: nilIdx, tail: nilIdx}
	h.prices.Put(uint64(p), li)
	k := levelKey{key: h.keyOf(p), lvl: li}
	h.tree.ReplaceOrInsert(k)
	if h.best == nilIdx || k.key < h.keyOf(b.levels[h.best].price) {
		h.best = li
	}
	return li
}

// dropLevel removes an empty level from h.
func (b *Book) dropLevel(h *half, li int32) {
	p := b.levels[li].price
	h.prices.Del(uint64(p))
	h.tree.Delete(levelKey{key: h.keyOf(p)})
	if h.best == li {
		h.best = nilIdx
		if m, ok := h.tree.Max(); ok {
			h.best = m.lvl
		}
	}
	b.levels[li] = level{head: b.freeLevel}
	b.freeLevel = li
}

// levelTotal is the open quantity resting at price p on side s.
func (b *Book) levelTotal(s Side, p Ticks) Lots {
	if li, ok := b.half(s).prices.Get(uint64(p)); ok {
		return b.levels[li].total
	}
	return 0
}

// rest appends a new resting order at the back of its level's queue.
func (b *Book) rest(o *Order, remaining, filled Lots, r *Result) {
	l := b.enqueue(b.levelAt(b.half(o.Side), o.Price), o, remaining, filled)
	r.depth(o.Side, l.price, l.total)
}

// enqueue appends o at the back of level li's queue, indexes it and
// returns the level.
func (b *Book) enqueue(li int32, o *Order, remaining, filled Lots) *level {
	ni := b.allocNode()
	l := &b.levels[li]
	b.nodes[ni] = node{Order: *o, remaining: remaining, filled: filled, prev: l.tail, next: nilIdx, level: li}
	if l.tail == nilIdx {
		l.head = ni
	} else {
		b.nodes[l.tail].next = ni
	}
	l.tail = ni
	l.count++
	l.total += remaining
	b.ids.Put(uint64(o.ID), ni)
	return l
}

// unlink takes node ni out of its level's queue and the id index and frees
// it; the caller drops the level if it became empty.
func (b *Book) unlink(ni int32) {
	n := &b.nodes[ni]
	l := &b.levels[n.level]
	if n.prev == nilIdx {
		l.head = n.next
	} else {
		b.nodes[n.prev].next = n.next
	}
	if n.next == nilIdx {
		l.tail = n.prev
	} else {
		b.nodes[n.next].prev = n.prev
	}
	l.count--
	l.total -= n.remaining
	b.ids.Del(uint64(n.ID))
	b.freeNodeAt(ni)
}

// cancelNode removes resting order ni unfilled and records it in r.Canceled.
func (b *Book) cancelNode(ni int32, r *Result) {
	n := &b.nodes[ni]
	r.Canceled = append(r.Canceled, CanceledOrder{ID: n.ID, Account: n.Account, ClientID: n.ClientID,
		Side: n.Side, Price: n.Price, Remaining: n.remaining, Filled: n.filled})
	b.unlink(ni)
}

// settleLevel publishes level li's new total and drops it if empty.
func (b *Book) settleLevel(h *half, li int32, r *Result) {
	l := &b.levels[li]
	r.depth(h.side, l.price, l.total)
	if l.count == 0 {
		b.dropLevel(h, li)
	}
}

// depth records a level's new total, folding repeated changes of the same
// level in a row into one.
func (r *Result) depth(s Side, p Ticks, q Lots) {
	if n := len(r.Depth); n > 0 && r.Depth[n-1].Side == s && r.Depth[n-1].Price == p {
		r.Depth[n-1].Qty = q
		return
	}
	r.Depth = append(r.Depth, DepthChange{Side: s, Price: p, Qty: q})
}
