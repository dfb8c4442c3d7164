package trigger

import "github.com/perpx/perpx/book"

// Activated trailing stops. See the package doc for the idea; here are
// the mechanics.
//
// A bucket holds the active trailing stops of one (source, side, callback)
// as a deque of groups, strictly ordered by extreme from head (the oldest
// and most extreme: highest peak, lowest trough) to tail (the most recent).
// A group's members share its extreme and sit in an intrusive doubly
// linked list of nodes.
//
// Merging groups keeps one record as the root and points the others at
// it (union by rank, so a node finds its root in O(log n) hops without
// path compression). A record counts its references (nodes and records
// pointing at it) and is freed when none are left, so records never
// outnumber the stops that made them, however long a group lives.

const (
	numBuckets  = 2 * MaxCallback
	bucketWords = (numBuckets + 63) / 64
)

func bucketOf(side book.Side, cb uint32) int { return int(side-1)*MaxCallback + int(cb-1) }

func bucketKey(b int) (book.Side, uint32) {
	return book.Side(b/MaxCallback + 1), uint32(b%MaxCallback + 1)
}

type bucket struct{ head, tail int32 } // groups; 0 = none

// group is a slab record; record 0 is never used.
type group struct {
	ext    book.Ticks // root: the members' extreme
	parent int32      // itself for a root; 0 when free
	refs   int32      // nodes and records whose parent this is; free: next free
	rank   uint8
	count  int32 // root: members
	head   int32 // root: member list
	tail   int32
	prev   int32 // root: deque neighbour toward head
	next   int32 // root: deque neighbour toward tail
}

// overtakes reports whether price p is more extreme than ext for side's
// trailing stops: higher than a sell's peak, lower than a buy's trough.
func overtakes(side book.Side, p, ext book.Ticks) bool {
	if side == book.Sell {
		return p > ext
	}
	return p < ext
}

func (s *Set) newGroup(ext book.Ticks) int32 {
	g := s.freeGroup
	if g != 0 {
		s.freeGroup = s.groups[g].refs
	} else {
		g = int32(len(s.groups))
		s.groups = append(s.groups, group{})
	}
	s.groups[g] = group{ext: ext, parent: g}
	return g
}

// root follows parents to g's root.
func (s *Set) root(g int32) int32 {
	for p := s.groups[g].parent; p != g; p = s.groups[g].parent {
		g = p
	}
	return g
}

// unref drops one reference to g, freeing records up the tree as their
// last reference goes.
func (s *Set) unref(g int32) {
	for {
		r := &s.groups[g]
		if r.refs--; r.refs > 0 {
			return
		}
		p := r.parent
		*r = group{refs: s.freeGroup}
		s.freeGroup = g
		if p == g {
			return
		}
		g = p
	}
}

// union merges root b into root a's tree (or a into b's) and returns the
// surviving root. Neither is linked in a deque.
func (s *Set) union(a, b int32) int32 {
	if s.groups[a].rank < s.groups[b].rank {
		a, b = b, a
	} else if s.groups[a].rank == s.groups[b].rank {
		s.groups[a].rank++
	}
	ga, gb := &s.groups[a], &s.groups[b]
	gb.parent = a
	ga.refs++
	if gb.head != 0 {
		if ga.tail != 0 {
			s.nodes[ga.tail].next = gb.head
			s.nodes[gb.head].prev = ga.tail
		} else {
			ga.head = gb.head
		}
		ga.tail = gb.tail
	}
	ga.count += gb.count
	gb.head, gb.tail, gb.count = 0, 0, 0
	return a
}

// insertAfter links group g into bk after group at (at the head if at is 0).
func (s *Set) insertAfter(bk *bucket, at, g int32) {
	gg := &s.groups[g]
	gg.prev = at
	if at == 0 {
		gg.next = bk.head
		bk.head = g
	} else {
		gg.next = s.groups[at].next
		s.groups[at].next = g
	}
	if gg.next != 0 {
		s.groups[gg.next].prev = g
	} else {
		bk.tail = g
	}
}

func (s *Set) unlinkGroup(bk *bucket, g int32) {
	gg := &s.groups[g]
	if gg.prev != 0 {
		s.groups[gg.prev].next = gg.next
	} else {
		bk.head = gg.next
	}
	if gg.next != 0 {
		s.groups[gg.next].prev = gg.prev
	} else {
		bk.tail = gg.prev
	}
	gg.prev, gg.next = 0, 0
}

func (s *Set) setNonEmpty(src Source, b int, on bool) {
	if on {
		s.nonEmpty[src][b/64] |= 1 << (b % 64)
	} else {
		s.nonEmpty[src][b/64] &^= 1 << (b % 64)
	}
}

// join activates the trailing stop in slot with extreme ext. The scan from
// the recent end passes only groups ext overtakes: none when ext is the
// price Update last saw for the source, which every extreme has seen.
func (s *Set) join(slot int32, ext book.Ticks) {
	n := &s.nodes[slot]
	src, side := n.o.Source, n.o.Side
	b := bucketOf(side, n.o.Callback)
	bk := &s.buckets[src][b]
	at := bk.tail
	for at != 0 && overtakes(side, ext, s.groups[at].ext) {
		at = s.groups[at].prev
	}
	g := at
	if at == 0 || s.groups[at].ext != ext {
		g = s.newGroup(ext)
		s.insertAfter(bk, at, g)
		s.setNonEmpty(src, b, true)
	}
	gg := &s.groups[g]
	n.state, n.grp, n.prev, n.next = active, g, gg.tail, 0
	if gg.tail != 0 {
		s.nodes[gg.tail].next = slot
	} else {
		gg.head = slot
	}
	gg.tail = slot
	gg.count++
	gg.refs++
}

// leave unlinks the active trailing stop in slot from its group, and the
// group from its bucket if it empties.
func (s *Set) leave(slot int32) {
	n := &s.nodes[slot]
	r := s.root(n.grp)
	g := &s.groups[r]
	if n.prev != 0 {
		s.nodes[n.prev].next = n.next
	} else {
		g.head = n.next
	}
	if n.next != 0 {
		s.nodes[n.next].prev = n.prev
	} else {
		g.tail = n.prev
	}
	if g.count--; g.count == 0 {
		b := bucketOf(n.o.Side, n.o.Callback)
		bk := &s.buckets[n.o.Source][b]
		s.unlinkGroup(bk, r)
		if bk.head == 0 {
			s.setNonEmpty(n.o.Source, b, false)
		}
	}
	s.unref(n.grp)
}

// trail applies price to bucket b of src: the groups price overtakes merge
// into one at price (with the group already there, if any), then groups fire from the old end while the callback
// condition holds. The merged group cannot fire: callback ≥ 1.
func (s *Set) trail(src Source, b int, price book.Ticks, fired []Order) []Order {
	side, cb := bucketKey(b)
	bk := &s.buckets[src][b]
	if t := bk.tail; overtakes(side, price, s.groups[t].ext) {
		s.unlinkGroup(bk, t)
		m := t
		// Down to a group already at price, which must merge too.
		for t = bk.tail; t != 0 && !overtakes(side, s.groups[t].ext, price); t = bk.tail {
			s.unlinkGroup(bk, t)
			m = s.union(m, t)
		}
		s.groups[m].ext = price
		s.insertAfter(bk, bk.tail, m)
	}
	for h := bk.head; h != 0 && trailFires(side, cb, s.groups[h].ext, price); h = bk.head {
		s.unlinkGroup(bk, h)
		for m := s.groups[h].head; m != 0; {
			n := &s.nodes[m]
			next, grp := n.next, n.grp
			fired = append(fired, n.o)
			s.release(m)
			s.unref(grp) // may free h: read nothing of it after the last member
			m = next
		}
	}
	if bk.head == 0 {
		s.setNonEmpty(src, b, false)
	}
	return fired
}
