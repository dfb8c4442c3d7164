package book

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrSnapshot is wrapped by every error DecodeBookSnapshot returns.
var ErrSnapshot = errors.New("book: bad snapshot")

// A book snapshot, version 1. Integers are little-endian, counts and
// lengths minimal uvarints:
//
//	"PXBK", version byte 1
//	last price                 int64
//	orders, bid levels, ask levels   uvarint
//	the bid levels best first, then the ask levels best first, each:
//	  price                    int64
//	  orders                   uvarint, ≥ 1
//	  its orders in queue (FIFO) order, each:
//	    id, account            uint64
//	    remaining, filled      int64
//	    flags                  byte: bit 0 post-only, bit 1 reduce-only, bits 2-3 STP mode
//	    client id              uvarint length, bytes
//
// A resting order's side and price are its level's, its type and TIF are
// always Limit GTC and its Qty is filled + remaining, so they are not
// stored. Nor is the memory layout (slab slots, free lists, index and tree
// sizes): no result depends on it. The counts up front let the decoder
// allocate once, and each book has exactly one encoding, so encoding a
// decoded snapshot gives back its bytes.
const (
	snapMagic   = "PXBK"
	snapVersion = 1
	// The fewest bytes an order and a level (with its one order) take,
	// to cap counts by the input left.
	snapOrderMin = 8 + 8 + 8 + 8 + 1 + 1
	snapLevelMin = 8 + 1 + snapOrderMin

	flagPostOnly   = 1
	flagReduceOnly = 2
	flagSTPShift   = 2
)

// AppendSnapshot appends the book's snapshot to dst: everything it needs to
// go on exactly as if it had never stopped (see DecodeBookSnapshot).
func (b *Book) AppendSnapshot(dst []byte) []byte {
	nb, na := b.bids.tree.Len(), b.asks.tree.Len()
	dst = slices.Grow(dst, len(snapMagic)+1+8+3*binary.MaxVarintLen64+(nb+na)*10+b.ids.n*(snapOrderMin+8))
	dst = append(dst, snapMagic...)
	dst = append(dst, snapVersion)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(b.last))
	dst = binary.AppendUvarint(dst, uint64(b.ids.n))
	dst = binary.AppendUvarint(dst, uint64(nb))
	dst = binary.AppendUvarint(dst, uint64(na))
	for _, h := range [2]*half{&b.bids, &b.asks} {
		h.bestFirst(func(k levelKey) bool {
			l := &b.levels[k.lvl]
			dst = binary.LittleEndian.AppendUint64(dst, uint64(l.price))
			dst = binary.AppendUvarint(dst, uint64(l.count))
			for ni := l.head; ni != nilIdx; ni = b.nodes[ni].next {
				n := &b.nodes[ni]
				dst = binary.LittleEndian.AppendUint64(dst, uint64(n.ID))
				dst = binary.LittleEndian.AppendUint64(dst, uint64(n.Account))
				dst = binary.LittleEndian.AppendUint64(dst, uint64(n.remaining))
				dst = binary.LittleEndian.AppendUint64(dst, uint64(n.filled))
				dst = append(dst, byte(flag(n.PostOnly)*flagPostOnly|flag(n.ReduceOnly)*flagReduceOnly)|byte(n.STP)<<flagSTPShift)
				dst = binary.AppendUvarint(dst, uint64(len(n.ClientID)))
				dst = append(dst, n.ClientID...)
			}
			return true
		})
	}
	return dst
}

// DecodeBookSnapshot decodes a snapshot written by AppendSnapshot at the
// start of p and returns the book and the rest of p. Anything that is not
// a valid book's one encoding is refused (ErrSnapshot): a decoded book
// passes Check, so a damaged snapshot never becomes a book that misbehaves
// later. Hostile input cannot make it allocate more than a few times
// len(p).
func DecodeBookSnapshot(p []byte) (*Book, []byte, error) {
	if len(p) < len(snapMagic)+1 || string(p[:len(snapMagic)]) != snapMagic {
		return nil, nil, snapErr("not a book snapshot")
	}
	if v := p[len(snapMagic)]; v != snapVersion {
		return nil, nil, snapErr("version %d, want %d", v, snapVersion)
	}
	d := snapDecoder{p: p[len(snapMagic)+1:]}
	last := Ticks(d.u64())
	orders := d.count(snapOrderMin, "orders")
	nb := d.count(snapLevelMin, "bid levels")
	na := d.count(snapLevelMin, "ask levels")
	switch {
	case d.err != nil:
		return nil, nil, d.err
	case last < 0:
		return nil, nil, snapErr("last price %d", last)
	case orders > math.MaxInt32 || nb+na > orders:
		return nil, nil, snapErr("%d orders on %d+%d levels", orders, nb, na)
	}
	b := &Book{
		nodes: make([]node, 0, orders), freeNode: nilIdx,
		levels: make([]level, 0, nb+na), freeLevel: nilIdx,
		bids: newHalf(Buy, 2*nb), asks: newHalf(Sell, 2*na),
		last: last,
	}
	b.ids.Init(2 * orders) // the index grows at half load
	for _, s := range [2]struct {
		h *half
		n int
	}{{&b.bids, nb}, {&b.asks, na}} {
		if err := b.decodeLevels(&d, s.h, s.n, orders); err != nil {
			return nil, nil, err
		}
	}
	if len(b.nodes) != orders {
		return nil, nil, snapErr("%d orders, header says %d", len(b.nodes), orders)
	}
	if bp, _, ok := b.BestBid(); ok {
		if ap, _, ok := b.BestAsk(); ok && bp >= ap {
			return nil, nil, snapErr("crossed: bid %d >= ask %d", bp, ap)
		}
	}
	return b, d.p, nil
}

// decodeLevels decodes n levels of h, best first, holding at most orders
// orders in all.
func (b *Book) decodeLevels(d *snapDecoder, h *half, n, orders int) error {
	for i := range n {
		price := Ticks(d.u64())
		count := d.count(snapOrderMin, "level orders")
		switch {
		case d.err != nil:
			return d.err
		case price <= 0 || i > 0 && h.keyOf(price) <= h.keyOf(b.levels[len(b.levels)-1].price):
			return snapErr("%v level %d: price %d out of order", h.side, i, price)
		case count == 0 || count > orders-len(b.nodes):
			return snapErr("%v %d: %d orders, %d left of %d", h.side, price, count, orders-len(b.nodes), orders)
		}
		li := b.levelAt(h, price) // a new level: worse than the one before
		for range count {
			if err := b.decodeOrder(d, h.side, li); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeOrder decodes one order and queues it at the back of level li.
func (b *Book) decodeOrder(d *snapDecoder, side Side, li int32) error {
	id, acct := OrderID(d.u64()), AccountID(d.u64())
	rem, filled := Lots(d.u64()), Lots(d.u64())
	flags := d.u8()
	cid := d.str()
	l := &b.levels[li]
	switch {
	case d.err != nil:
		return d.err
	case id == 0:
		return snapErr("%v %d: order id 0", side, l.price)
	case rem <= 0 || filled < 0 || filled > math.MaxInt64-rem:
		return snapErr("order %d: remaining %d, filled %d", id, rem, filled)
	case rem > math.MaxInt64-l.total: // the level total Place keeps within int64
		return snapErr("%v %d: level total overflows", side, l.price)
	case flags>>(flagSTPShift+2) != 0 || STPMode(flags>>flagSTPShift) > STPNone:
		return snapErr("order %d: flags %#x", id, flags)
	}
	if _, dup := b.ids.Get(uint64(id)); dup {
		return snapErr("order %d twice", id)
	}
	b.enqueue(li, &Order{ID: id, Account: acct, ClientID: cid, Side: side, Type: Limit, TIF: GTC,
		Price: l.price, Qty: filled + rem, PostOnly: flags&flagPostOnly != 0,
		ReduceOnly: flags&flagReduceOnly != 0, STP: STPMode(flags >> flagSTPShift)}, rem, filled)
	return nil
}

func snapErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSnapshot}, args...)...)
}

// snapDecoder reads a snapshot's fields; the first error sticks and later
// reads return zeros, so callers check once per record.
type snapDecoder struct {
	p   []byte
	err error
}

func (d *snapDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = snapErr(format, args...)
	}
	d.p = nil
}

func (d *snapDecoder) u64() uint64 {
	if len(d.p) < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.p)
	d.p = d.p[8:]
	return v
}

func (d *snapDecoder) u8() byte {
	if len(d.p) < 1 {
		d.fail("truncated")
		return 0
	}
	v := d.p[0]
	d.p = d.p[1:]
	return v
}

// uvarint reads a minimal uvarint: a longer encoding would give a second
// form of the same snapshot.
func (d *snapDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	switch {
	case n == 0:
		d.fail("truncated")
		return 0
	case n < 0 || n > 1 && d.p[n-1] == 0:
		d.fail("bad uvarint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

// count reads a count of items of at least size bytes each, refusing more
// than the input left could hold: allocations stay in proportion to it.
func (d *snapDecoder) count(size int, what string) int {
	v := d.uvarint()
	if v > uint64(len(d.p)/size) {
		d.fail("%d %s in %d bytes", v, what, len(d.p))
		return 0
	}
	return int(v)
}

func (d *snapDecoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("client id of %d bytes in %d", n, len(d.p))
		return ""
	}
	s := string(d.p[:n])
	d.p = d.p[n:]
	return s
}
