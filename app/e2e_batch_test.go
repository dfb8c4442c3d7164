package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
)

// batchReply is the reply of order.batch.
type batchReply struct {
	wire.Reply
	Results []wire.OrderReply `json:"results"`
}

// batch sends items ({"place":..} or {"cancel":..}) as one order.batch and
// returns the reply and the micro error-code header.
func (c *trader) batch(items ...string) (batchReply, string) {
	c.t.Helper()
	m, err := c.nc.Request(c.e.subj.OrderBatch(c.acct), []byte(`{"orders":[`+strings.Join(items, ",")+`]}`), wait)
	if err != nil {
		c.t.Fatalf("batch: %v", err)
	}
	var r batchReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		c.t.Fatalf("batch reply %q: %v", m.Data, err)
	}
	return r, m.Header.Get("Nats-Service-Error-Code")
}

func placeItem(fields string) string {
	return `{"place":{"symbol":"TEST-PERP","type":"limit"` + fields + `}}`
}

func cancelItem(cid string) string {
	return `{"cancel":{"symbol":"TEST-PERP","client_order_id":"` + cid + `"}}`
}

// TestE2EBatch: a batch's items are executed in order, each answered as if
// sent alone, and later items see the orders earlier ones placed and
// canceled; a malformed or oversized batch changes nothing; money is
// conserved.
func TestE2EBatch(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{})
	tr := e.funded("10000", "alice", "bob")
	e.index("1000")
	alice := tr[0]
	alice.leverage("5")
	tr[1].limit(wire.Sell, "1010", "2") // bob's ask for the taker item

	r, hdr := alice.batch(
		placeItem(`,"side":"buy","price":"990","qty":"1","client_order_id":"q1"`),
		placeItem(`,"side":"buy","price":"980","qty":"1","client_order_id":"q1"`), // q1 is open: duplicate
		placeItem(`,"side":"buy","price":"1010","qty":"1","tif":"IOC","client_order_id":"t1"`),
		cancelItem("q1"), // the order placed two items up
		placeItem(`,"side":"buy","price":"990.5","qty":"1"`),
		placeItem(`,"side":"buy","qty":"1"`),
		cancelItem("nope"),
		placeItem(`,"side":"buy","price":"985","qty":"1","client_order_id":"q2"`),
	)
	mustOK(t, "batch", r.Reply)
	if hdr != "" {
		t.Errorf("accepted batch carries error header %q", hdr)
	}
	want := []struct {
		code   wire.Code
		status wire.Status
		cid    string
	}{
		{"", wire.StatusNew, "q1"}, {wire.CodeDuplicateClientOrderID, "", ""}, {"", wire.StatusFilled, "t1"},
		{"", wire.StatusCanceled, "q1"}, {wire.CodeInvalidPrice, "", ""}, {wire.CodeBadRequest, "", ""},
		{wire.CodeUnknownOrder, "", ""}, {"", wire.StatusNew, "q2"},
	}
	if len(r.Results) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(r.Results), len(want), r.Results)
	}
	for i, w := range want {
		got := r.Results[i]
		switch {
		case w.code != "" && (got.OK || got.Error == nil || got.Error.Code != w.code):
			t.Errorf("result %d: %+v %+v, want %s", i, got.Reply, got.Order, w.code)
		case w.code == "" && (!got.OK || got.Order == nil || got.Order.Status != w.status || got.Order.ClientOrderID != w.cid || got.Order.Account != "alice"):
			t.Errorf("result %d: %+v %+v, want %s %s", i, got.Reply, got.Order, w.status, w.cid)
		}
	}
	if o := r.Results[2].Order; o != nil && !o.FilledQty.Equal(dec("1")) {
		t.Errorf("taker item filled %s, want 1", o.FilledQty)
	}
	eventually(t, "book and account after the batch", func() error {
		st, d := alice.state(), e.depth()
		if len(st.OpenOrders) != 1 || st.OpenOrders[0].ClientOrderID != "q2" || len(st.Positions) != 1 || !st.Positions[0].Qty.Equal(dec("1")) {
			return fmt.Errorf("alice: open orders %+v, positions %+v", st.OpenOrders, st.Positions)
		}
		if !sameJSON(t, d.Bids, [][2]string{{"985", "1"}}) || !sameJSON(t, d.Asks, [][2]string{{"1010", "1"}}) {
			return fmt.Errorf("depth bids %v asks %v", d.Bids, d.Asks)
		}
		return nil
	})
	e.settledAudit()

	// Refused whole: nothing executed, nothing changed.
	before, h0 := e.audit(), e.hash()
	item := placeItem(`,"side":"buy","price":"900","qty":"1"`)
	for name, items := range map[string][]string{
		"21 items":    slices.Repeat([]string{item}, wire.MaxBatchItems+1),
		"empty":       nil,
		"unknown key": {item, `{"amend":{"symbol":"TEST-PERP","order_id":"1"}}`},
		"two keys":    {`{"place":{"symbol":"TEST-PERP"},"cancel":{"symbol":"TEST-PERP","order_id":"1"}}`},
		"unparsable":  {item, `{"place":{"symbol":`},
		"not objects": {item, `"place"`},
	} {
		r, hdr := alice.batch(items...)
		if r.OK || r.Error == nil || r.Error.Code != wire.CodeBadRequest || hdr != string(wire.CodeBadRequest) || r.Results != nil {
			t.Errorf("%s: %+v %v (header %q), want BAD_REQUEST", name, r.Reply, r.Error, hdr)
		}
	}
	e.unchanged(before, h0)
	e.settledAudit()
}

// TestE2EBatchRateLimit: a batch takes a token per item and is refused
// whole when the bucket holds fewer.
func TestE2EBatchRateLimit(t *testing.T) {
	e := start(t, parseConfig(t, symbolJSON("100", 0, longTiers()...), `"rate_limit":{"orders_per_s":0.001,"burst":6}`), startOpts{})
	e.index("1000")
	alice := e.funded("10000", "alice")[0]
	alice.leverage("5") // a leverage call spends a token: 5 left
	item := func(cid string) string {
		return placeItem(`,"side":"buy","price":"900","qty":"1","client_order_id":"` + cid + `"`)
	}
	if r, _ := alice.batch(item("a"), item("b"), item("c")); !r.OK || len(r.Results) != 3 || !r.Results[2].OK {
		t.Fatalf("3 items in a bucket of 5: %+v", r)
	}
	h0 := e.hash()
	if r, hdr := alice.batch(item("d"), item("e"), item("f")); r.OK || r.Error.Code != wire.CodeRateLimited || hdr != string(wire.CodeRateLimited) {
		t.Fatalf("3 items with 2 tokens left: %+v, want RATE_LIMITED", r)
	}
	if h := e.hash(); h != h0 {
		t.Fatal("a rate-limited batch changed state")
	}
	if r, _ := alice.batch(item("d"), item("e")); !r.OK || !r.Results[1].OK {
		t.Fatalf("2 items with 2 tokens left: %+v", r)
	}
	if r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("900"), Qty: dec("1")}); r.OK || r.Error.Code != wire.CodeRateLimited {
		t.Fatalf("order after the bucket emptied: %+v, want RATE_LIMITED", r.Reply)
	}
	if n := len(alice.state().OpenOrders); n != 5 {
		t.Fatalf("%d open orders, want the 5 of the admitted batches", n)
	}
	e.settledAudit()
}
