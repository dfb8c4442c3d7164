package actors

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// TestADLReportKeepsLatest: a report sent while the previous one is still
// queued only updates it: the ADL actor reads the latest position with
// the forced closes acknowledged by both, and the next one is sent again.
func TestADLReportKeepsLatest(t *testing.T) {
	var r adlReport
	if !r.update(adlPositionMsg{qty: 5, cost: 10, margin: 2}, 1) {
		t.Fatal("first report not sent")
	}
	if r.update(adlPositionMsg{qty: 3, cost: 6, margin: 2}, 2) {
		t.Fatal("a report joined to a queued one was sent again")
	}
	if p := r.take(); p.qty != 3 || p.cost != 6 || p.acked != 3 {
		t.Fatalf("took %+v, want qty 3, cost 6, acked 3", p)
	}
	if !r.update(adlPositionMsg{qty: 0}, 0) {
		t.Fatal("report after take not sent")
	}
	if p := r.take(); p.qty != 0 || p.acked != 0 {
		t.Fatalf("took %+v: acked carried past a take", p)
	}
}

// TestUnsubscribeKeepsLatest: likewise for the unsubscribe, which carries
// the latest fill count; the symbol actor's take lets the next one go.
func TestUnsubscribeKeepsLatest(t *testing.T) {
	u := unsubscribeMsg{acct: book.AccountID(7)}
	if !u.update(4) || u.update(6) {
		t.Fatal("want one send for two updates while queued")
	}
	if f := u.take(); f != 6 {
		t.Fatalf("took fills %d, want 6", f)
	}
	if !u.update(8) {
		t.Fatal("update after take not sent")
	}
}

// TestOrderPathAllocs: a resting order and an order that fills against it
// cost their replies' snapshots and their ids' text, and nothing per
// message: orders, maker fills, position reports and unsubscribes are
// reused (before: five allocations per order).
func TestOrderPathAllocs(t *testing.T) {
	// The test hooks' middleware wraps every message in an envelope; this
	// exchange runs as production does, without it.
	var x *Exchange
	var err error
	withoutHooks(func() { x, err = Start(Options{Symbols: market.DemoSymbols()}) })
	if err != nil {
		t.Fatal(err)
	}
	defer x.Stop()
	e := &env{t: t, x: x}
	e.index("BTC-PERP", "30000")
	e.deposit("alice", "1000000")
	e.deposit("bob", "1000000")
	buy := wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("30000"), Qty: dec("0.01"), TIF: wire.GTC}
	sell := buy
	sell.Side = wire.Sell
	ch := make(chan wire.OrderReply, 1)
	done := func(r wire.OrderReply) { ch <- r }
	pair := func() {
		x.PlaceOrder("alice", buy, done)
		if r := <-ch; !r.OK {
			t.Fatal(r.Error)
		}
		x.PlaceOrder("bob", sell, done)
		if r := <-ch; !r.OK || r.Order.Status != wire.StatusFilled {
			t.Fatalf("%+v", r)
		}
	}
	pair() // accounts, free lists and pools warm
	n := testing.AllocsPerRun(500, pair)
	t.Logf("%v allocations for two orders", n)
	if n > 4.5 {
		t.Fatalf("%v allocations for two orders, want 4", n)
	}
}
