package actors

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/perpx/perpx/book"
)

// TestOpenOrdersAcrossIndexModes fills an account's open-order set past
// the linear search (so the id index is built) and empties it in a random
// order (so it is dropped), checking lookups and the sorted view against
// a map at every step.
func TestOpenOrdersAcrossIndexModes(t *testing.T) {
	var s openOrders
	model := map[book.OrderID]*order{}
	check := func(what string) {
		t.Helper()
		for id := book.OrderID(0); id <= 4*openOrdersLinear; id++ {
			if got := s.get(id); got != model[id] {
				t.Fatalf("%s: get(%d) = %v, want %v", what, id, got, model[id])
			}
		}
		var ids []book.OrderID
		for _, o := range s.sorted() {
			ids = append(ids, o.id)
		}
		if len(ids) != len(model) || !slices.IsSorted(ids) {
			t.Fatalf("%s: sorted view %v of %d orders", what, ids, len(model))
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	ids := r.Perm(3 * openOrdersLinear)
	for _, i := range ids {
		o := &order{id: book.OrderID(i + 1)}
		s.add(o)
		model[o.id] = o
	}
	if s.idx == nil {
		t.Fatalf("%d open orders and no id index", s.len())
	}
	check("all added")
	s.remove(book.OrderID(4 * openOrdersLinear)) // not open: nothing happens
	check("unknown removed")
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, i := range ids {
		s.remove(book.OrderID(i + 1))
		delete(model, book.OrderID(i+1))
		check("removed")
	}
	if s.idx != nil || s.len() != 0 {
		t.Fatalf("empty set keeps its index (%v) or %d orders", s.idx != nil, s.len())
	}
}

// TestIDStringsStayIntact: order id texts share buffers, and none changes
// when later ids fill the buffer and new ones are started.
func TestIDStringsStayIntact(t *testing.T) {
	a := &accountActor{}
	var got []string
	ids := []book.OrderID{1, 9, 10, 12345678, 1<<64 - 1}
	for i := range 200 {
		got = append(got, a.idString(ids[i%len(ids)]+book.OrderID(i/len(ids))))
	}
	for i, s := range got {
		if want := strconv.FormatUint(uint64(ids[i%len(ids)]+book.OrderID(i/len(ids))), 10); s != want {
			t.Fatalf("id text %d: %q, want %q", i, s, want)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { a.idString(123456789) }); allocs > 0.2 {
		t.Fatalf("%.2f allocations per id text", allocs)
	}
}
