package trigger

import (
	"fmt"

	"github.com/google/btree"
	"github.com/perpx/perpx/book"
)

// Check verifies every index against the slab: the id index, the trees,
// the buckets' deques and groups, the union-find records and their
// reference counts, and the free lists. It is O(n), for tests and callers'
// invariant checks; a nil error means the set is consistent.
func (s *Set) Check() error {
	if len(s.nodes) == 0 || s.nodes[0] != (node{}) || len(s.groups) == 0 || s.groups[0] != (group{}) {
		return fmt.Errorf("trigger: sentinel slot 0 in use")
	}
	var states [4]int
	for i := 1; i < len(s.nodes); i++ {
		n := &s.nodes[i]
		states[n.state]++
		if n.state == free {
			continue
		}
		if !n.o.valid() {
			return fmt.Errorf("trigger: slot %d holds malformed %+v", i, n.o)
		}
		if slot, ok := s.ids.Get(uint64(n.o.ID)); !ok || slot != int32(i) {
			return fmt.Errorf("trigger: id %d at slot %d, index says %d, %v", n.o.ID, i, slot, ok)
		}
		if (n.o.Kind == Stop) != (n.state == fixed) {
			return fmt.Errorf("trigger: id %d: %v in state %d", n.o.ID, n.o.Kind, n.state)
		}
	}
	if live := len(s.nodes) - 1 - states[free]; live != s.n || s.ids.Len() != s.n {
		return fmt.Errorf("trigger: %d live slots, Len %d, index %d", live, s.n, s.ids.Len())
	}
	freeSeen := 0
	for i := s.freeNode; i != 0; i = s.nodes[i].next {
		if i < 0 || int(i) >= len(s.nodes) || s.nodes[i].state != free || freeSeen > states[free] {
			return fmt.Errorf("trigger: node free list broken at %d", i)
		}
		freeSeen++
	}
	if freeSeen != states[free] {
		return fmt.Errorf("trigger: %d free slots, %d on the free list", states[free], freeSeen)
	}
	var bad error
	s.ids.Each(func(id uint64, slot int32) bool {
		if slot <= 0 || int(slot) >= len(s.nodes) || s.nodes[slot].state == free || uint64(s.nodes[slot].o.ID) != id {
			bad = fmt.Errorf("trigger: index maps id %d to slot %d", id, slot)
		}
		return bad == nil
	})
	if bad != nil {
		return bad
	}

	var inTrees [4]int
	for src := range NumSources {
		for d := Rise; d <= Fall; d++ {
			n, err := s.checkTree(s.stops[src][d], fixed, src, d)
			if err != nil {
				return err
			}
			inTrees[fixed] += n
			if n, err = s.checkTree(s.pending[src][d], pending, src, d); err != nil {
				return err
			}
			inTrees[pending] += n
		}
	}
	if inTrees[fixed] != states[fixed] || inTrees[pending] != states[pending] {
		return fmt.Errorf("trigger: trees hold %d stops and %d pending trailing, slab %d and %d",
			inTrees[fixed], inTrees[pending], states[fixed], states[pending])
	}
	return s.checkGroups(states[active])
}

func (s *Set) checkTree(t *btree.BTreeG[item], state uint8, src Source, d Dir) (n int, err error) {
	t.Ascend(func(it item) bool {
		n++
		if it.slot <= 0 || int(it.slot) >= len(s.nodes) {
			err = fmt.Errorf("trigger: tree entry %+v out of the slab", it)
			return false
		}
		nd := &s.nodes[it.slot]
		key, dir := nd.o.Price, nd.o.FireDir()
		if state == pending {
			key, dir = activationKey(nd.o), nd.o.ActivationDir()
		}
		if nd.state != state || nd.o.ID != it.id || nd.o.Source != src || dir != d || key != it.key {
			err = fmt.Errorf("trigger: %v %v tree (state %d) entry %+v holds %+v in state %d", src, d, state, it, nd.o, nd.state)
			return false
		}
		return true
	})
	return n, err
}

func (s *Set) checkGroups(actives int) error {
	refs := make([]int32, len(s.groups))
	live := 0
	for g := 1; g < len(s.groups); g++ {
		r := &s.groups[g]
		if r.parent == 0 {
			continue
		}
		live++
		if r.parent < 0 || int(r.parent) >= len(s.groups) || s.groups[r.parent].parent == 0 {
			return fmt.Errorf("trigger: group %d's parent %d is not a record", g, r.parent)
		}
		if int32(g) != r.parent {
			refs[r.parent]++
			if s.groups[r.parent].rank <= r.rank {
				return fmt.Errorf("trigger: group %d rank %d under %d rank %d", g, r.rank, r.parent, s.groups[r.parent].rank)
			}
		}
	}
	freeSeen := 0
	for g := s.freeGroup; g != 0; g = s.groups[g].refs {
		if g < 0 || int(g) >= len(s.groups) || s.groups[g].parent != 0 || freeSeen >= len(s.groups) {
			return fmt.Errorf("trigger: group free list broken at %d", g)
		}
		freeSeen++
	}
	if live+freeSeen != len(s.groups)-1 {
		return fmt.Errorf("trigger: %d live and %d free group records of %d", live, freeSeen, len(s.groups)-1)
	}
	members, roots := 0, 0
	for src := range NumSources {
		for b := range numBuckets {
			side, cb := bucketKey(b)
			bk := &s.buckets[src][b]
			if on := s.nonEmpty[src][b/64]&(1<<(b%64)) != 0; on != (bk.head != 0) {
				return fmt.Errorf("trigger: %v bucket %v/%d: bit %v, head %d", src, side, cb, on, bk.head)
			}
			var prev int32
			for g := bk.head; g != 0; prev, g = g, s.groups[g].next {
				r := &s.groups[g]
				roots++
				if roots > live || r.parent != g || r.prev != prev || r.count <= 0 || r.ext <= 0 ||
					prev != 0 && !overtakes(side, s.groups[prev].ext, r.ext) {
					return fmt.Errorf("trigger: %v bucket %v/%d: group %d %+v after %d out of order or broken", src, side, cb, g, *r, prev)
				}
				n, err := s.checkMembers(g, src, side, cb)
				if err != nil {
					return err
				}
				members += n
			}
			if bk.tail != prev {
				return fmt.Errorf("trigger: %v bucket %v/%d: tail %d, last group %d", src, side, cb, bk.tail, prev)
			}
		}
	}
	if members != actives {
		return fmt.Errorf("trigger: %d active trailing stops, %d in groups", actives, members)
	}
	for i := 1; i < len(s.nodes); i++ {
		if n := &s.nodes[i]; n.state == active {
			refs[n.grp]++
		}
	}
	for g := 1; g < len(s.groups); g++ {
		r := &s.groups[g]
		if r.parent != 0 && (r.refs != refs[g] || r.refs <= 0) {
			return fmt.Errorf("trigger: group %d counts %d references, has %d", g, r.refs, refs[g])
		}
		if r.parent == int32(g) {
			roots--
		}
	}
	if roots != 0 {
		return fmt.Errorf("trigger: %d group roots outside the buckets", -roots)
	}
	return nil
}

// checkMembers walks root g's member list.
func (s *Set) checkMembers(g int32, src Source, side book.Side, cb uint32) (int, error) {
	r := &s.groups[g]
	n := 0
	var prev int32
	for m := r.head; m != 0; prev, m = m, s.nodes[m].next {
		nd := &s.nodes[m]
		n++
		if n > int(r.count) || nd.state != active || nd.prev != prev || nd.o.Source != src || nd.o.Side != side || nd.o.Callback != cb {
			return 0, fmt.Errorf("trigger: group %d member %d (%+v, state %d) misplaced", g, m, nd.o, nd.state)
		}
		if nd.grp <= 0 || int(nd.grp) >= len(s.groups) || s.groups[nd.grp].parent == 0 || s.rootBounded(nd.grp) != g {
			return 0, fmt.Errorf("trigger: group %d member %d finds group %d", g, m, nd.grp)
		}
	}
	if n != int(r.count) || r.tail != prev {
		return 0, fmt.Errorf("trigger: group %d counts %d members, has %d (tail %d, last %d)", g, r.count, n, r.tail, prev)
	}
	return n, nil
}

// rootBounded is root that gives up (returns 0) on a cycle.
func (s *Set) rootBounded(g int32) int32 {
	for range len(s.groups) {
		p := s.groups[g].parent
		if p == g {
			return g
		}
		if p <= 0 || int(p) >= len(s.groups) {
			return 0
		}
		g = p
	}
	return 0
}
