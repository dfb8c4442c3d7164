package book

import (
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every Check failure.
var ErrCorrupt = errors.New("book: internal state corrupt")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// Check verifies the book's internal invariants: each side's tree, price
// index and cached best agree; every level's total and count equal the sum
// over its FIFO list, which is correctly doubly linked; every resting order
// is indexed by id; the slabs' free lists account for every other slot; and
// the book is not crossed. It is O(size) and meant for tests and debug
// builds.
func (b *Book) Check() error {
	orders := 0
	for _, h := range [2]*half{&b.bids, &b.asks} {
		n, err := b.checkHalf(h)
		if err != nil {
			return err
		}
		orders += n
	}
	if orders != b.ids.n {
		return corrupt("%d orders in levels, %d indexed", orders, b.ids.n)
	}
	if bp, _, ok := b.BestBid(); ok {
		if ap, _, ok := b.BestAsk(); ok && bp >= ap {
			return corrupt("crossed book: bid %d >= ask %d", bp, ap)
		}
	}
	free := 0
	for i := b.freeNode; i != nilIdx; i = b.nodes[i].next {
		if free++; free > len(b.nodes) {
			return corrupt("order free list loops")
		}
	}
	if free+orders != len(b.nodes) {
		return corrupt("order slab: %d live + %d free != %d slots", orders, free, len(b.nodes))
	}
	free = 0
	for i := b.freeLevel; i != nilIdx; i = b.levels[i].head {
		if free++; free > len(b.levels) {
			return corrupt("level free list loops")
		}
	}
	if live := b.bids.tree.Len() + b.asks.tree.Len(); free+live != len(b.levels) {
		return corrupt("level slab: %d live + %d free != %d slots", live, free, len(b.levels))
	}
	return nil
}

// checkHalf checks one side and returns how many orders rest on it.
func (b *Book) checkHalf(h *half) (int, error) {
	if h.tree.Len() != h.prices.n {
		return 0, corrupt("%v: %d levels in tree, %d priced", h.side, h.tree.Len(), h.prices.n)
	}
	orders, first := 0, true
	var err error
	h.bestFirst(func(k levelKey) bool {
		if first && k.lvl != h.best {
			err = corrupt("%v: cached best %d, tree minimum %d", h.side, h.best, k.lvl)
			return false
		}
		first = false
		var n int
		if n, err = b.checkLevel(h, k); err != nil {
			return false
		}
		orders += n
		return true
	})
	if err == nil && first && h.best != nilIdx {
		err = corrupt("%v: empty side has best %d", h.side, h.best)
	}
	return orders, err
}

func (b *Book) checkLevel(h *half, k levelKey) (int, error) {
	if k.lvl < 0 || int(k.lvl) >= len(b.levels) {
		return 0, corrupt("%v: level slot %d out of range", h.side, k.lvl)
	}
	l := &b.levels[k.lvl]
	if h.keyOf(l.price) != k.key || l.price <= 0 {
		return 0, corrupt("%v: level %d has price %d under key %d", h.side, k.lvl, l.price, k.key)
	}
	if li, ok := h.prices.Get(uint64(l.price)); !ok || li != k.lvl {
		return 0, corrupt("%v: price %d indexed to %d, tree says %d", h.side, l.price, li, k.lvl)
	}
	var total Lots
	count, prev := 0, nilIdx
	for ni := l.head; ni != nilIdx; prev, ni = ni, b.nodes[ni].next {
		if count++; count > int(l.count) || int(ni) >= len(b.nodes) {
			return 0, corrupt("%v %d: queue longer than count %d", h.side, l.price, l.count)
		}
		n := &b.nodes[ni]
		switch {
		case n.prev != prev || n.level != k.lvl:
			return 0, corrupt("order %d: broken links", n.ID)
		case n.Side != h.side || n.Price != l.price:
			return 0, corrupt("order %d: %v %d rests at %v %d", n.ID, n.Side, n.Price, h.side, l.price)
		case n.remaining <= 0 || n.filled < 0 || n.Qty != n.filled+n.remaining:
			return 0, corrupt("order %d: qty %d, filled %d, remaining %d", n.ID, n.Qty, n.filled, n.remaining)
		case !rests(&n.Order):
			return 0, corrupt("order %d: %v %v resting", n.ID, n.Type, n.TIF)
		}
		if i, ok := b.lookup(n.ID); !ok || i != ni {
			return 0, corrupt("order %d: id indexed to %d, rests at %d", n.ID, i, ni)
		}
		total += n.remaining
	}
	switch {
	case count == 0:
		return 0, corrupt("%v %d: empty level kept", h.side, l.price)
	case count != int(l.count) || prev != l.tail:
		return 0, corrupt("%v %d: count %d/%d or tail broken", h.side, l.price, count, l.count)
	case total != l.total:
		return 0, corrupt("%v %d: total %d, orders sum to %d", h.side, l.price, l.total, total)
	}
	return count, nil
}

// StateHash is a digest of everything that decides future matching: every
// resting order in priority order with its fields and quantities, and the
// last price. Equal books hash equal whatever their memory layout, so two
// replicas fed the same commands can be compared cheaply.
func (b *Book) StateHash() uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) {
		h = (h ^ v) * 0x100000001b3
		h ^= h >> 29
	}
	for _, s := range [2]*half{&b.bids, &b.asks} {
		mix(uint64(s.tree.Len()))
		s.bestFirst(func(k levelKey) bool {
			for ni := b.levels[k.lvl].head; ni != nilIdx; ni = b.nodes[ni].next {
				n := &b.nodes[ni]
				mix(uint64(n.ID))
				mix(uint64(n.Account))
				mix(uint64(n.Price))
				mix(uint64(n.Qty))
				mix(uint64(n.remaining))
				mix(uint64(n.filled))
				mix(uint64(n.Side) | uint64(n.Type)<<8 | uint64(n.TIF)<<16 | uint64(n.STP)<<24 |
					flag(n.PostOnly)<<32 | flag(n.ReduceOnly)<<33)
				mix(uint64(len(n.ClientID)))
				for i := 0; i < len(n.ClientID); i++ {
					mix(uint64(n.ClientID[i]))
				}
			}
			return true
		})
	}
	mix(uint64(b.last))
	return h
}

func flag(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}
