package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// cancelAllReply is order.cancel_all's reply with its raw bytes.
func (c *trader) cancelAll(body string) (wire.CancelAllReply, string) {
	c.t.Helper()
	m, err := c.nc.Request(c.e.subj.OrderCancelAll(c.acct), []byte(body), wait)
	if err != nil {
		c.t.Fatalf("cancel_all: %v", err)
	}
	var r wire.CancelAllReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		c.t.Fatalf("cancel_all reply %q: %v", m.Data, err)
	}
	return r, string(m.Data)
}

// TestE2ECancelAll: order.cancel_all takes every open order of the account
// off the books (of one symbol when named) and answers with them in their
// final state; other accounts' orders stay; it is ordered with the
// account's pipelined places; margin comes back; bad requests change
// nothing; money is conserved.
func TestE2ECancelAll(t *testing.T) {
	const other = "OTHER-PERP"
	sym := symbolJSON("100", 0, longTiers()...)
	e := start(t, parseConfig(t, sym+","+strings.Replace(sym, tsym, other, 1), ""), startOpts{})
	e.index("1000")
	mustOK(t, "index", request[wire.IndexReply](t, e.nc, e.subj.AdminIndex(other), wire.IndexSet{Price: dec("1000")}).Reply)
	tr := e.funded("10000", "alice", "bob")
	alice, bob := tr[0], tr[1]
	free := alice.state().Available

	a1 := alice.limit(wire.Buy, "990", "1")
	a2 := alice.limit(wire.Sell, "1010", "1")
	r := alice.place(wire.PlaceOrder{Symbol: other, Side: wire.Buy, Type: wire.Limit, Price: dec("990"), Qty: dec("2"), TIF: wire.GTC})
	mustOK(t, "other symbol", r.Reply)
	a3 := r.Order
	bob.limit(wire.Sell, "1020", "1")
	if st := alice.state(); !st.Available.LessThan(free) || len(st.OpenOrders) != 3 {
		t.Fatalf("alice before: available %s of %s, %d open orders", st.Available, free, len(st.OpenOrders))
	}
	// The state of one symbol lists only its orders (balances stay the account's).
	one := request[wire.AccountReply](t, alice.nc, e.subj.State("alice"), wire.State{Symbol: other})
	if !one.OK || len(one.Account.OpenOrders) != 1 || one.Account.OpenOrders[0].OrderID != a3.OrderID ||
		!one.Account.Balances["USDT"].Equal(dec("10000")) {
		t.Fatalf("state of %s: %+v %+v", other, one.Reply, one.Account)
	}
	if r := request[wire.AccountReply](t, alice.nc, e.subj.State("alice"), wire.State{Symbol: "NOPE-PERP"}); r.OK || r.Error.Code != wire.CodeUnknownSymbol {
		t.Fatalf("state of an unknown symbol: %+v", r.Reply)
	}

	// One symbol: only its orders, in order id order, canceled.
	got, _ := alice.cancelAll(`{"symbol":"TEST-PERP"}`)
	mustOK(t, "cancel_all TEST-PERP", got.Reply)
	if got.Count != 2 || len(got.Orders) != 2 || got.Orders[0].OrderID != a1.OrderID || got.Orders[1].OrderID != a2.OrderID {
		t.Fatalf("canceled %+v, want %s and %s", got.Orders, a1.OrderID, a2.OrderID)
	}
	for _, o := range got.Orders {
		if o.Status != wire.StatusCanceled || o.Symbol != tsym || o.Account != "alice" || !o.FilledQty.IsZero() {
			t.Fatalf("canceled order %+v", o)
		}
	}
	if st := alice.state(); len(st.OpenOrders) != 1 || st.OpenOrders[0].OrderID != a3.OrderID {
		t.Fatalf("alice's open orders %+v, want only %s", st.OpenOrders, a3.OrderID)
	}
	if d := e.depth(); len(d.Bids) != 0 || len(d.Asks) != 1 || !d.Asks[0].Price().Equal(dec("1020")) {
		t.Fatalf("TEST-PERP book %+v: only bob's ask should be left", d)
	}

	// A place pipelined before the cancel_all on the same connection is
	// in the books when the cancel_all runs, so it is canceled too.
	replies := make(chan *nats.Msg, 2)
	sub, err := alice.nc.ChanSubscribe(nats.NewInbox()+".*", replies)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	inbox := strings.TrimSuffix(sub.Subject, "*")
	place := payload(t, wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("985"), Qty: dec("1"), TIF: wire.GTC})
	if err := alice.nc.PublishRequest(e.subj.OrderPlace("alice"), inbox+"place", place); err != nil {
		t.Fatal(err)
	}
	if err := alice.nc.PublishRequest(e.subj.OrderCancelAll("alice"), inbox+"all", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	var placed wire.OrderReply
	for range 2 {
		m := <-replies
		if strings.HasSuffix(m.Subject, "place") {
			_ = json.Unmarshal(m.Data, &placed)
		} else if err := json.Unmarshal(m.Data, &got); err != nil {
			t.Fatal(err)
		}
	}
	mustOK(t, "pipelined place", placed.Reply)
	mustOK(t, "cancel_all", got.Reply)
	if len(got.Orders) != 2 || got.Orders[0].OrderID != a3.OrderID || got.Orders[1].OrderID != placed.Order.OrderID {
		t.Fatalf("cancel_all took %+v, want %s and the pipelined %s", got.Orders, a3.OrderID, placed.Order.OrderID)
	}
	if st := alice.state(); len(st.OpenOrders) != 0 || !st.Available.Equal(free) {
		t.Fatalf("alice after: available %s (was %s), open orders %+v", st.Available, free, st.OpenOrders)
	}
	canceledEvents := 0
	eventually(t, "alice's order events", func() error {
		canceledEvents = 0
		for _, ev := range e.events("alice", wire.EventOrder) {
			if ev.Order != nil && ev.Order.Status == wire.StatusCanceled {
				canceledEvents++
			}
		}
		if canceledEvents != 4 {
			return fmt.Errorf("%d canceled order events, want 4", canceledEvents)
		}
		return nil
	})

	// Nothing left: an empty list, not null. Bad requests change nothing.
	before, h0 := e.settledAudit(), e.hash()
	if r, raw := alice.cancelAll(``); !r.OK || !strings.Contains(raw, `"count":0,"orders":[]`) {
		t.Fatalf("cancel_all with nothing open: %s", raw)
	}
	for body, code := range map[string]wire.Code{
		`{"symbol":"NOPE-PERP"}`: wire.CodeUnknownSymbol,
		`{"symbol":"a.b"}`:       wire.CodeBadRequest,
		`{"order_id":"1"}`:       wire.CodeBadRequest,
		`[]`:                     wire.CodeBadRequest,
	} {
		if r, raw := bob.cancelAll(body); r.OK || r.Error == nil || r.Error.Code != code {
			t.Errorf("cancel_all %s: %s, want %s", body, raw, code)
		}
	}
	e.unchanged(before, h0)
	if d := e.depth(); len(d.Asks) != 1 {
		t.Fatalf("bob's ask is gone: %+v", d)
	}
}

// cancelAllAfter arms (ms > 0) or disarms the account's dead man's switch.
func (c *trader) cancelAllAfter(ms int) wire.CancelAllAfterReply {
	c.t.Helper()
	r := request[wire.CancelAllAfterReply](c.t, c.nc, c.e.subj.OrderCancelAllAfter(c.acct), wire.CancelAllAfter{TimeoutMs: ms})
	mustOK(c.t, fmt.Sprintf("cancel_all_after %d", ms), r.Reply)
	return r
}

// TestE2ECancelAllAfter: the dead man's switch cancels every open order of
// the account once its countdown runs out unrefreshed, and only then; it
// stays quiet when disarmed; other accounts keep their orders.
func TestE2ECancelAllAfter(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{})
	e.index("1000")
	tr := e.funded("10000", "alice", "bob")
	alice, bob := tr[0], tr[1]
	free := alice.state().Available
	alice.limit(wire.Buy, "990", "1")
	alice.limit(wire.Sell, "1010", "1")
	bob.limit(wire.Sell, "1020", "1")

	const countdown = 600 // ms; refreshed every 100 ms, so a refresh late by 500 ms would fire it
	before := time.Now().UnixMilli()
	r := alice.cancelAllAfter(countdown)
	if r.TimeoutMs != countdown || r.TriggerMs < before+countdown-1000 || r.TriggerMs > time.Now().UnixMilli()+countdown+1000 {
		t.Fatalf("armed: %+v (asked at %d)", r, before)
	}
	for range 4 {
		time.Sleep(100 * time.Millisecond)
		alice.cancelAllAfter(countdown)
	}
	if n := len(alice.state().OpenOrders); n != 2 {
		t.Fatalf("refreshed switch fired: %d open orders", n)
	}
	eventually(t, "the switch to fire", func() error {
		if st := alice.state(); len(st.OpenOrders) != 0 || !st.Available.Equal(free) {
			return fmt.Errorf("open orders %d, available %s of %s", len(st.OpenOrders), st.Available, free)
		}
		return nil
	})
	eventually(t, "the canceled order events", func() error {
		n := 0
		for _, ev := range e.events("alice", wire.EventOrder) {
			if ev.Order.Status == wire.StatusCanceled {
				n++
			}
		}
		if n != 2 {
			return fmt.Errorf("%d canceled order events", n)
		}
		return nil
	})
	if d := e.depth(); len(d.Bids) != 0 || len(d.Asks) != 1 {
		t.Fatalf("book after the switch: %+v (bob's ask only)", d)
	}

	// Disarmed by 0 before its time: nothing fires.
	alice.limit(wire.Buy, "980", "1")
	alice.cancelAllAfter(countdown)
	if r := alice.cancelAllAfter(0); r.TimeoutMs != 0 || r.TriggerMs != 0 {
		t.Fatalf("disarmed: %+v", r)
	}
	time.Sleep(countdown*time.Millisecond + 300*time.Millisecond)
	if n := len(alice.state().OpenOrders); n != 1 {
		t.Fatalf("disarmed switch: %d open orders, want 1", n)
	}
	e.settledAudit()
}

// TestE2EMaxOpenOrders: a symbol's max_open_orders caps one account's open
// orders there; one more GTC order is TOO_MANY_ORDERS and changes nothing,
// an IOC still passes, other accounts are not affected, and a cancel frees
// a place.
func TestE2EMaxOpenOrders(t *testing.T) {
	sym := strings.Replace(symbolJSON("100", 0, longTiers()...), `"price_band"`, `"max_open_orders":2,"price_band"`, 1)
	e := start(t, parseConfig(t, sym, ""), startOpts{})
	e.index("1000")
	tr := e.funded("10000", "alice", "bob")
	alice, bob := tr[0], tr[1]
	first := alice.limit(wire.Buy, "990", "1")
	alice.limit(wire.Buy, "980", "1")
	before, h0 := e.settledAudit(), e.hash()
	r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, Price: dec("1010"), Qty: dec("1"), TIF: wire.GTC})
	if r.OK || r.Error == nil || r.Error.Code != wire.CodeTooManyOrders {
		t.Fatalf("3rd open order: %+v", r)
	}
	e.unchanged(before, h0)
	// An order that cannot rest is not refused by the cap.
	if o := alice.limit(wire.Sell, "1010", "1", wire.IOC); o.Status != wire.StatusExpired {
		t.Fatalf("IOC at the cap: %+v", o)
	}
	bob.limit(wire.Sell, "1010", "1") // bob's orders count apart
	if c := alice.cancel(wire.Cancel{Symbol: tsym, OrderID: first.OrderID}); !c.OK {
		t.Fatalf("cancel: %+v", c.Error)
	}
	alice.limit(wire.Sell, "1010", "1")
	e.settledAudit()
}
