package trigger

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/perpx/perpx/book"
)

// ErrSnapshot is wrapped by every error DecodeSnapshot returns.
var ErrSnapshot = errors.New("trigger: bad snapshot")

// A set snapshot, version 1. Integers are little-endian, the count a
// minimal uvarint:
//
//	"PXTG", version byte 1
//	last price per source      NumSources × int64
//	orders                     uvarint
//	the orders by ascending id, each:
//	  id                       uint64
//	  flags                    byte: bit 0 sell, bit 1 trailing, bit 2 take-profit, bits 3-4 source
//	  price                    int64
//	  trailing only:
//	    callback               byte
//	    extreme                int64, 0 while not active
//
// Whether an order is pending or active follows from its kind and
// extreme, and a group is the active stops of one bucket that share an
// extreme, so the layout (slabs, trees, group records) is not stored: no
// fire depends on it. The encoding is a function of the orders, their
// extremes and the last prices only, so equal sets encode equal and
// encoding a decoded snapshot gives back its bytes.
const (
	snapMagic    = "PXTG"
	snapVersion  = 1
	snapOrderMin = 8 + 1 + 8 + 8 // id, flags, price, account

	flagSell        = 1
	flagTrailing    = 2
	flagTakeProfit  = 4
	flagSourceShift = 3
	flagKnown       = flagSell | flagTrailing | flagTakeProfit | 3<<flagSourceShift
)

// live returns the slots of the armed orders by ascending id.
func (s *Set) live() []int32 {
	slots := make([]int32, 0, s.n)
	for i := 1; i < len(s.nodes); i++ {
		if s.nodes[i].state != free {
			slots = append(slots, int32(i))
		}
	}
	slices.SortFunc(slots, func(a, b int32) int { return cmp.Compare(s.nodes[a].o.ID, s.nodes[b].o.ID) })
	return slots
}

func flagsOf(o Order) byte {
	f := byte(o.Source) << flagSourceShift
	if o.Side == book.Sell {
		f |= flagSell
	}
	if o.Kind == Trailing {
		f |= flagTrailing
	}
	if o.TakeProfit {
		f |= flagTakeProfit
	}
	return f
}

// AppendSnapshot appends the set's snapshot to dst: everything it needs to
// go on exactly as if it had never stopped (see DecodeSnapshot).
func (s *Set) AppendSnapshot(dst []byte) []byte {
	slots := s.live()
	dst = slices.Grow(dst, len(snapMagic)+1+8*int(NumSources)+binary.MaxVarintLen64+len(slots)*(snapOrderMin+9))
	dst = append(dst, snapMagic...)
	dst = append(dst, snapVersion)
	for _, p := range s.last {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(p))
	}
	dst = binary.AppendUvarint(dst, uint64(len(slots)))
	for _, slot := range slots {
		o := s.nodes[slot].o
		dst = binary.LittleEndian.AppendUint64(dst, uint64(o.ID))
		dst = append(dst, flagsOf(o))
		dst = binary.LittleEndian.AppendUint64(dst, uint64(o.Price))
		dst = binary.LittleEndian.AppendUint64(dst, uint64(o.Account))
		if o.Kind == Trailing {
			dst = append(dst, byte(o.Callback))
			dst = binary.LittleEndian.AppendUint64(dst, uint64(s.Extreme(o.ID)))
		}
	}
	return dst
}

func snapErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSnapshot}, args...)...)
}

// DecodeSnapshot decodes a snapshot written by AppendSnapshot at the start
// of p and returns the set and the rest of p. Anything that is not a valid
// set's one encoding is refused (ErrSnapshot), so a decoded set passes
// Check. Hostile input cannot make it allocate more than a few times len(p).
func DecodeSnapshot(p []byte) (*Set, []byte, error) {
	if len(p) < len(snapMagic)+1 || string(p[:len(snapMagic)]) != snapMagic {
		return nil, nil, snapErr("not a trigger snapshot")
	}
	if v := p[len(snapMagic)]; v != snapVersion {
		return nil, nil, snapErr("version %d, want %d", v, snapVersion)
	}
	p = p[len(snapMagic)+1:]
	if len(p) < 8*int(NumSources) {
		return nil, nil, snapErr("truncated prices")
	}
	s := New()
	for src := range NumSources {
		s.last[src] = book.Ticks(binary.LittleEndian.Uint64(p))
		p = p[8:]
		if s.last[src] < 0 {
			return nil, nil, snapErr("%v price %d", src, s.last[src])
		}
	}
	count, k := binary.Uvarint(p)
	switch {
	case k <= 0:
		return nil, nil, snapErr("bad order count")
	case k != uvarintLen(count):
		return nil, nil, snapErr("non-minimal order count")
	case count > uint64(len(p)-k)/snapOrderMin:
		return nil, nil, snapErr("%d orders in %d bytes", count, len(p)-k)
	}
	p = p[k:]
	s.nodes = slices.Grow(s.nodes, int(count))
	s.ids.Init(2 * int(count))
	type act struct {
		slot int32
		ext  book.Ticks
	}
	var acts []act
	var prev book.OrderID
	for i := range int(count) {
		if len(p) < snapOrderMin {
			return nil, nil, snapErr("order %d truncated", i)
		}
		f := p[8]
		o := Order{
			ID:         book.OrderID(binary.LittleEndian.Uint64(p)),
			Side:       book.Buy,
			TakeProfit: f&flagTakeProfit != 0,
			Source:     Source(f >> flagSourceShift & 3),
			Price:      book.Ticks(binary.LittleEndian.Uint64(p[9:])),
			Account:    book.AccountID(binary.LittleEndian.Uint64(p[17:])),
		}
		p = p[snapOrderMin:]
		if f&flagSell != 0 {
			o.Side = book.Sell
		}
		var ext book.Ticks
		if f&flagTrailing != 0 {
			if len(p) < 9 {
				return nil, nil, snapErr("order %d truncated", i)
			}
			o.Kind, o.Callback = Trailing, uint32(p[0])
			ext = book.Ticks(binary.LittleEndian.Uint64(p[1:]))
			p = p[9:]
		}
		switch {
		case f&^flagKnown != 0 || !o.valid():
			return nil, nil, snapErr("order %d (id %d) malformed: flags %#x %+v", i, o.ID, f, o)
		case o.ID <= prev:
			return nil, nil, snapErr("order %d: id %d after %d", i, o.ID, prev)
		case ext < 0:
			return nil, nil, snapErr("order %d: extreme %d", i, ext)
		}
		prev = o.ID
		slot := s.alloc(o)
		switch {
		case o.Kind == Stop:
			s.nodes[slot].state = fixed
			s.stops[o.Source][o.FireDir()].ReplaceOrInsert(item{o.Price, o.ID, slot})
		case ext == 0:
			s.nodes[slot].state = pending
			s.pending[o.Source][o.ActivationDir()].ReplaceOrInsert(item{activationKey(o), o.ID, slot})
		default:
			acts = append(acts, act{slot, ext})
		}
	}
	// Join each bucket's stops oldest extreme first, so each join appends
	// at the recent end in O(1).
	slices.SortFunc(acts, func(a, b act) int {
		oa, ob := &s.nodes[a.slot].o, &s.nodes[b.slot].o
		if c := cmp.Compare(oa.Source, ob.Source); c != 0 {
			return c
		}
		if c := cmp.Compare(bucketOf(oa.Side, oa.Callback), bucketOf(ob.Side, ob.Callback)); c != 0 {
			return c
		}
		if oa.Side == book.Sell {
			return cmp.Compare(b.ext, a.ext)
		}
		return cmp.Compare(a.ext, b.ext)
	})
	for _, a := range acts {
		s.join(a.slot, a.ext)
	}
	return s, p, nil
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// StateHash is a hash of the armed orders (with activation state and
// extreme) and the last prices: what AppendSnapshot encodes, whatever the
// layout. It walks the slab and allocates nothing.
func (s *Set) StateHash() uint64 {
	h := mix(uint64(s.n))
	for _, p := range s.last {
		h = mix(h ^ uint64(p))
	}
	for i := 1; i < len(s.nodes); i++ {
		n := &s.nodes[i]
		if n.state == free {
			continue
		}
		var ext book.Ticks
		if n.state == active {
			ext = s.groups[s.root(n.grp)].ext
		}
		x := mix(uint64(n.o.ID))
		x = mix(x ^ uint64(flagsOf(n.o)) ^ uint64(n.o.Callback)<<8)
		x = mix(x ^ uint64(n.o.Price))
		x = mix(x ^ uint64(n.o.Account))
		x = mix(x ^ uint64(ext))
		h += x // order-free: slot order is history, not state
	}
	return mix(h)
}

// mix is SplitMix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
