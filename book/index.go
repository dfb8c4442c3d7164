package book

// index maps a non-zero uint64 key (an order id or a price) to a slab slot.
// Open addressing with linear probing and backward-shift deletion: deletes
// leave no tombstones, so a steady mix of inserts and deletes never
// rehashes or allocates; the table only grows, at half load.
type index struct {
	slots []slot
	mask  uint64
	shift uint8
	n     int
}

type slot struct {
	key uint64 // 0 = empty
	val int32
}

const minIndexSize = 64

func (x *index) init(size int) {
	bits := uint8(6)
	for 1<<bits < size {
		bits++
	}
	x.slots = make([]slot, 1<<bits)
	x.mask = 1<<bits - 1
	x.shift = 64 - bits
	x.n = 0
}

// home is Fibonacci hashing: sequential ids and prices spread evenly.
func (x *index) home(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> x.shift }

func (x *index) get(k uint64) (int32, bool) {
	for i := x.home(k); ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.key == k {
			return s.val, true
		}
		if s.key == 0 {
			return 0, false
		}
	}
}

// put inserts or overwrites k.
func (x *index) put(k uint64, v int32) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	for i := x.home(k); ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.key == k {
			s.val = v
			return
		}
		if s.key == 0 {
			*s = slot{k, v}
			x.n++
			return
		}
	}
}

func (x *index) grow() {
	old := x.slots
	x.init(2 * len(old))
	for _, s := range old {
		if s.key != 0 {
			x.put(s.key, s.val)
		}
	}
}

// del removes k and reports whether it was present. Entries after the hole
// whose probe run passes through it shift back, so lookups never need
// tombstones.
func (x *index) del(k uint64) bool {
	i := x.home(k)
	for ; x.slots[i].key != k; i = (i + 1) & x.mask {
		if x.slots[i].key == 0 {
			return false
		}
	}
	for j := (i + 1) & x.mask; x.slots[j].key != 0; j = (j + 1) & x.mask {
		// The entry at j may fill the hole at i if i lies on its probe path
		// (from its home to j).
		if (j-x.home(x.slots[j].key))&x.mask >= (j-i)&x.mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = slot{}
	x.n--
	return true
}

// clear empties the index and keeps its capacity.
func (x *index) clear() {
	clear(x.slots)
	x.n = 0
}
