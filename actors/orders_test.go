package actors

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/perpx/perpx/book"
)

// TestOpenOrdersGetAndSorted: an account's open orders are found by id
// and listed by id, whatever order they were added and removed in (the
// set's own index modes are tested in book).
func TestOpenOrdersGetAndSorted(t *testing.T) {
	var s openOrders
	model := map[book.OrderID]*order{}
	check := func(what string) {
		t.Helper()
		for id := book.OrderID(0); id <= 4*book.OrderSetLinear; id++ {
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
	ids := r.Perm(3 * book.OrderSetLinear)
	for _, i := range ids {
		o := &order{id: book.OrderID(i + 1)}
		s.add(o)
		model[o.id] = o
	}
	check("all added")
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, i := range ids {
		s.Remove(book.OrderID(i + 1))
		delete(model, book.OrderID(i+1))
		check("removed")
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
