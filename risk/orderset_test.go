package risk

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
)

// TestOpenOrdersAcrossIndexModes grows an account past the linearly
// searched order records (so the id index is built), fills and cancels its
// orders in a random order back to none (so the index is dropped), and
// checks every step against a plain model: the open ids, duplicate ids
// refused, partial fills keep an order, unknown ids refused, and the
// reservation back to zero at the end.
func TestOpenOrdersAcrossIndexModes(t *testing.T) {
	sym := seedSymbol(t)
	a := funded("100000000", Cross)
	const n = 3 * book.OrderSetLinear
	left := map[book.OrderID]book.Lots{}
	sides := map[book.OrderID]book.Side{}
	check := func(what string) {
		t.Helper()
		want := make([]book.OrderID, 0, len(left))
		for id := range left {
			want = append(want, id)
		}
		slices.Sort(want)
		if got := a.OpenOrders(); !slices.Equal(got, want) {
			t.Fatalf("%s: open orders %v, want %v", what, got, want)
		}
		for i, o := range a.orders.Values() {
			if a.orders.Find(o.id) != i || o.qty != left[o.id] {
				t.Fatalf("%s: record %d (order %d, qty %d) is not found at its index or has the wrong qty (want %d)", what, i, o.id, o.qty, left[o.id])
			}
		}
	}
	ids := make([]book.OrderID, n)
	for i := range ids {
		ids[i] = newID()
		side := book.Buy
		if i%2 == 1 {
			side = book.Sell
		}
		c, _ := a.PreTrade(sym, Order{ID: ids[i], Side: side, Type: Limit, Price: 1000, Qty: 4}, 1000)
		mustOK(t, c, "PreTrade")
		left[ids[i]], sides[ids[i]] = 4, side
		if c, _ := a.PreTrade(sym, Order{ID: ids[i], Side: side, Type: Limit, Price: 1000, Qty: 1}, 1000); c != BadRequest {
			t.Fatalf("duplicate id %d with %d open: %s, want BadRequest", ids[i], i+1, c)
		}
	}
	if a.orders.Len() <= book.OrderSetLinear {
		t.Fatalf("%d open orders and no id index", n)
	}
	check("all placed")
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for k, id := range ids {
		side := sides[id]
		switch k % 3 {
		case 0: // partial fill, then cancel the rest
			res, c := a.ApplyFill(sym, Fill{OrderID: id, Side: side, Price: 1000, Qty: 1})
			mustOK(t, c, "partial fill")
			if res.OrderDone {
				t.Fatalf("order %d done after 1 of 4 lots", id)
			}
			left[id] = 3
			check("partial fill")
			if _, ok := a.OnOrderDone(id); !ok {
				t.Fatalf("cancel of open order %d refused", id)
			}
		case 1: // full fill
			res, c := a.ApplyFill(sym, Fill{OrderID: id, Side: side, Price: 1000, Qty: 4})
			mustOK(t, c, "full fill")
			if !res.OrderDone {
				t.Fatalf("order %d not done after a full fill", id)
			}
		default:
			if _, ok := a.OnOrderDone(id); !ok {
				t.Fatalf("cancel of open order %d refused", id)
			}
		}
		delete(left, id)
		check("order finished")
		if _, ok := a.OnOrderDone(id); ok {
			t.Fatalf("finished order %d canceled again", id)
		}
		if _, c := a.ApplyFill(sym, Fill{OrderID: id, Side: side, Price: 1000, Qty: 1}); c != UnknownOrder {
			t.Fatalf("fill of finished order %d: %s, want UnknownOrder", id, c)
		}
	}
	if a.orders.Len() != 0 || a.OrderMargin() != 0 {
		t.Fatalf("%d open orders left or margin %d reserved", a.orders.Len(), a.OrderMargin())
	}
}
