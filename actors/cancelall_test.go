package actors

import (
	"strconv"
	"testing"

	"github.com/perpx/perpx/wire"
)

// TestCancelAllListsAtMostTheCap: a cancel-all of more orders than a reply
// lists cancels them all, counts them all and lists the first
// MaxCancelAllListed by order id; the books and the account hold none after.
func TestCancelAllListsAtMostTheCap(t *testing.T) {
	sym := testSymbol(t, tsym, [2]string{"1000000000", "0.01"})
	sym.MaxOpenOrders = 2 * wire.MaxCancelAllListed
	e := newEnv(t, sym)
	e.index(tsym, "1000")
	e.deposit("A", "100000000")
	const n = wire.MaxCancelAllListed + 3
	for i := range n {
		e.mustPlace("A", tsym, wire.Buy, strconv.Itoa(900+i%50), "1")
	}
	r := call(t, func(d func(wire.CancelAllReply)) { e.x.CancelAll("A", wire.CancelAll{Symbol: tsym}, d) })
	if !r.OK || r.Count != n || len(r.Orders) != wire.MaxCancelAllListed {
		t.Fatalf("cancel-all of %d: ok %v, count %d, %d listed", n, r.OK, r.Count, len(r.Orders))
	}
	for i, o := range r.Orders {
		if o.Status != wire.StatusCanceled || o.OrderID != strconv.Itoa(i+1) {
			t.Fatalf("listed #%d: %s %s, want order %d canceled", i, o.OrderID, o.Status, i+1)
		}
	}
	if st := e.state("A"); len(st.OpenOrders) != 0 {
		t.Fatalf("%d orders still open", len(st.OpenOrders))
	}
	if a := e.audit(); a.Resting != 0 || a.OpenOrders != 0 {
		t.Fatalf("audit after cancel-all: %s", a.String())
	}
	if r := call(t, func(d func(wire.CancelAllReply)) { e.x.CancelAll("A", wire.CancelAll{}, d) }); !r.OK || r.Count != 0 || r.Orders == nil {
		t.Fatalf("cancel-all with nothing open: %+v", r)
	}
}
