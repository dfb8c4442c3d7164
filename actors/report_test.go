package actors

import (
	"maps"
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
	if p, _ := r.take(); p.qty != 3 || p.cost != 6 || p.acked != 3 {
		t.Fatalf("took %+v, want qty 3, cost 6, acked 3", p)
	}
	if !r.update(adlPositionMsg{qty: 0}, 0) {
		t.Fatal("report after take not sent")
	}
	if p, _ := r.take(); p.qty != 0 || p.acked != 0 {
		t.Fatalf("took %+v: acked carried past a take", p)
	}
}

// TestADLReportMergesDurable: in durable mode a report merges into the
// queued one only while the account posted nothing else to the ADL actor
// since (posts unchanged), and the take says how many it merged.
func TestADLReportMergesDurable(t *testing.T) {
	var r adlReport
	if merged, post := r.putDurable(adlPositionMsg{qty: 5}, 1, 6); merged || !post {
		t.Fatalf("a free report: merged %v, post %v", merged, post)
	}
	// r is the account's 7th post, and nothing was posted since.
	if m1, p1 := r.putDurable(adlPositionMsg{qty: 4}, 2, 7); !m1 || p1 {
		t.Fatal("the second report did not merge into the queued one")
	}
	if m2, p2 := r.putDurable(adlPositionMsg{qty: 3}, 0, 7); !m2 || p2 {
		t.Fatal("the third report did not merge into the queued one")
	}
	if merged, post := r.putDurable(adlPositionMsg{qty: 2}, 0, 8); merged || post {
		t.Fatal("merged past another post to the ADL actor")
	}
	if p, n := r.take(); p.qty != 3 || p.acked != 3 || n != 3 {
		t.Fatalf("took %+v of %d, want qty 3, acked 3, of 3", p, n)
	}
	if merged, post := r.putDurable(adlPositionMsg{qty: 2}, 0, 7); merged || !post {
		t.Fatal("a report taken is not free again")
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

// TestMergedReportsReplay: position reports an account sends while the
// ADL actor is busy merge into the queued one in durable mode, and its
// record says how many (recMerged); replay, which sends every report as
// a message of its own, merges as many and ends in the same state. A
// crash before the ADL actor took them leaves them in flight: recovery
// delivers each, and the ranking ends where the live one does; after a
// whole journal nothing is left in flight (no record follows).
func TestMergedReportsReplay(t *testing.T) {
	j := &memJournal{}
	e := pairEnvWith(t, j, "100000")
	e.leverage("alice", tsym, 5)
	e.leverage("bob", tsym, 5)
	until := make(chan struct{})
	e.x.root.Send(e.x.adl, &pauseMsg{until: until})
	for range 4 {
		e.mustPlace("bob", tsym, wire.Sell, "3750", "1")
		if r := e.place("alice", tsym, wire.Buy, "3750", "1", wire.IOC); !r.OK || r.Order.Status != wire.StatusFilled {
			t.Fatalf("alice's buy: %+v", r)
		}
	}
	crashed := j.clone() // the reports queued, none taken
	close(until)
	e.x.quiesce()
	merged := 0
	j.mu.Lock()
	for _, r := range j.recs {
		if r.kind == recMerged {
			merged++
		}
	}
	j.mu.Unlock()
	if merged == 0 {
		t.Fatal("no merged reports journaled")
	}
	want := e.hashParts()
	for name, jj := range map[string]*memJournal{"replay": j.clone(), "crash": crashed} {
		n := jj.Last()
		r := newEnvWith(t, jj, testSymbol(t, tsym, longTiers()...))
		r.x.quiesce()
		if name == "replay" {
			jj.mu.Lock()
			for _, rec := range jj.recs[n:] {
				if rec.kind != recVersion { // what a recovery appends first
					t.Errorf("replay left a message in flight: a record of kind %d followed", rec.kind)
				}
			}
			jj.mu.Unlock()
		}
		if got := r.hashParts(); got["adl"] != want["adl"] || (name == "replay" && !maps.Equal(got, want)) {
			t.Fatalf("%s: state %v, want %v", name, got, want)
		}
		for _, side := range []wire.PosSide{wire.Long, wire.Short} {
			q := call(t, func(d func(wire.ADLQueueReply)) { r.x.ADLQueue(tsym, wire.ADLQueue{Side: side}, d) })
			w := call(t, func(d func(wire.ADLQueueReply)) { e.x.ADLQueue(tsym, wire.ADLQueue{Side: side}, d) })
			if !q.OK || jsonOf(t, q) != jsonOf(t, w) {
				t.Fatalf("%s: the %s ADL queue %s, live %s", name, side, jsonOf(t, q), jsonOf(t, w))
			}
		}
	}
}
