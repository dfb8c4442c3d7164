package trigger

// idIndex maps a non-zero order id to its slab slot: open addressing with
// linear probing and backward-shift deletion, so deletes leave no
// tombstones and a steady mix of adds and removes never rehashes or
// allocates. It grows at half load and never shrinks.
type idIndex struct {
	slots []idSlot
	mask  uint64
	shift uint8
	n     int
}

type idSlot struct {
	key uint64 // 0 = empty
	val int32
}

func (x *idIndex) init(size int) {
	b := uint8(6)
	for 1<<b < size {
		b++
	}
	x.slots = make([]idSlot, 1<<b)
	x.mask = 1<<b - 1
	x.shift = 64 - b
	x.n = 0
}

// home is Fibonacci hashing: sequential ids spread evenly.
func (x *idIndex) home(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> x.shift }

func (x *idIndex) get(k uint64) (int32, bool) {
	if k == 0 {
		return 0, false // the empty slot's key
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

// put inserts k, which is not present.
func (x *idIndex) put(k uint64, v int32) {
	if 2*(x.n+1) > len(x.slots) {
		old := x.slots
		x.init(2 * len(old))
		for _, s := range old {
			if s.key != 0 {
				x.put(s.key, s.val)
			}
		}
	}
	i := x.home(k)
	for x.slots[i].key != 0 {
		i = (i + 1) & x.mask
	}
	x.slots[i] = idSlot{k, v}
	x.n++
}

// del removes k if present. Entries after the hole whose probe run passes
// through it shift back, so lookups never need tombstones.
func (x *idIndex) del(k uint64) {
	i := x.home(k)
	for ; x.slots[i].key != k; i = (i + 1) & x.mask {
		if x.slots[i].key == 0 {
			return
		}
	}
	for j := (i + 1) & x.mask; x.slots[j].key != 0; j = (j + 1) & x.mask {
		if (j-x.home(x.slots[j].key))&x.mask >= (j-i)&x.mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = idSlot{}
	x.n--
}
