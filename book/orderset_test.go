package book

import (
	"math/rand/v2"
	"testing"
)

// TestOrderSetAcrossIndexModes fills an OrderSet past the linear search (so
// the id index is built) and empties it in a random order (so it is
// dropped), checking every lookup and value against a map at every step.
func TestOrderSetAcrossIndexModes(t *testing.T) {
	var s OrderSet[int]
	model := map[OrderID]int{}
	check := func(what string) {
		t.Helper()
		if s.Len() != len(model) || len(s.Values()) != len(model) {
			t.Fatalf("%s: %d entries, %d values, want %d", what, s.Len(), len(s.Values()), len(model))
		}
		for id := OrderID(0); id <= 4*OrderSetLinear; id++ {
			i := s.Find(id)
			want, ok := model[id]
			if (i >= 0) != ok || ok && (s.ID(i) != id || *s.At(i) != want) {
				t.Fatalf("%s: Find(%d) = %d, want present %v with %d", what, id, i, ok, want)
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	ids := r.Perm(3 * OrderSetLinear)
	for _, i := range ids {
		id := OrderID(i + 1)
		s.Add(id, 10*i)
		model[id] = 10 * i
	}
	if s.idx == nil {
		t.Fatalf("%d entries and no id index", s.Len())
	}
	check("all added")
	*s.At(s.Find(5)) = -5
	model[5] = -5
	check("updated in place")
	s.Remove(OrderID(4 * OrderSetLinear)) // no entry: nothing happens
	check("unknown removed")
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, i := range ids {
		s.Remove(OrderID(i + 1))
		delete(model, OrderID(i+1))
		check("removed")
	}
	if s.idx != nil || s.Len() != 0 {
		t.Fatalf("empty set keeps its index (%v) or %d entries", s.idx != nil, s.Len())
	}
}

// TestOrderSetReleasesRemovedPointers: a removed pointer is not kept alive
// by the set's backing array.
func TestOrderSetReleasesRemovedPointers(t *testing.T) {
	var s OrderSet[*int]
	a, b := new(int), new(int)
	s.Add(1, a)
	s.Add(2, b)
	s.Remove(2)
	if full := s.vals[:2]; full[1] != nil {
		t.Fatal("removed pointer still referenced")
	}
}
