package book

// Index maps a non-zero uint64 key (an order id or a price) to a slab slot.
// Open addressing with linear probing and backward-shift deletion: deletes
// leave no tombstones, so a steady mix of inserts and deletes never
// rehashes or allocates; the table only grows, at half load. Key 0 is
// never found (it marks empty slots). The book's id and price indexes use
// it, and so do other cores' slabs (trigger).
type Index struct {
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

// Init empties x with room for size keys.
func (x *Index) Init(size int) {
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
func (x *Index) home(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> x.shift }

// Get returns k's value.
func (x *Index) Get(k uint64) (int32, bool) {
	if k == 0 || len(x.slots) == 0 {
		return 0, false
	}
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

// Put inserts or overwrites k (non-zero).
func (x *Index) Put(k uint64, v int32) {
	if 2*(x.n+1) > len(x.slots) || len(x.slots) == 0 {
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

func (x *Index) grow() {
	old := x.slots
	x.Init(2 * len(old))
	for _, s := range old {
		if s.key != 0 {
			x.Put(s.key, s.val)
		}
	}
}

// Del removes k and reports whether it was present. Entries after the hole
// whose probe run passes through it shift back, so lookups never need
// tombstones.
func (x *Index) Del(k uint64) bool {
	if k == 0 || len(x.slots) == 0 {
		return false
	}
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

// Clear empties the index and keeps its capacity.
func (x *Index) Clear() {
	clear(x.slots)
	x.n = 0
}

// Len is the number of keys.
func (x *Index) Len() int { return x.n }

// Each calls fn with every key and value, in table order, until fn
// returns false.
func (x *Index) Each(fn func(k uint64, v int32) bool) {
	for _, s := range x.slots {
		if s.key != 0 && !fn(s.key, s.val) {
			return
		}
	}
}
