package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

func (c *trader) orders(req wire.Orders) wire.OrdersReply {
	c.t.Helper()
	return request[wire.OrdersReply](c.t, c.nc, c.e.subj.AccountOrders(c.acct), req)
}

func (c *trader) fills(req wire.Fills) []wire.Fill {
	c.t.Helper()
	r := request[wire.FillsReply](c.t, c.nc, c.e.subj.Fills(c.acct), req)
	mustOK(c.t, c.acct+" fills", r.Reply)
	return r.Fills
}

// orderLine is "id status filled avg updated" for comparing orders.
func orderLine(o wire.Order) string {
	return fmt.Sprintf("%s %s %s %s %d", o.OrderID, o.Status, o.FilledQty, o.AvgPrice, o.UpdatedMs)
}

// TestE2EOrdersAndFills: an account's closed orders and fills are served
// after they left the book (one by id or client id, or the list), the
// fills equal the fill events, and a durable exchange keeps both across a
// restart.
func TestE2EOrdersAndFills(t *testing.T) {
	dir, clk, cfg := t.TempDir(), &clock{}, condConfig(t)
	t0 := clk.at(2026, 3, 1, 12, 0)
	e := start(t, cfg, startOpts{data: dir, now: clk.now})
	ts := e.funded("1000000", "alice", "bob")
	alice, bob := ts[0], ts[1]
	e.index("1000")
	maker := bob.limit(wire.Sell, "1001", "3") // 12:00:00
	clk.advance(time.Second)
	taker := alice.limit(wire.Buy, "1001", "2", wire.IOC) // 12:00:01, fills 2 of maker
	clk.advance(time.Second)
	rest := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("990"), Qty: dec("1"), TIF: wire.GTC, ClientOrderID: "keep"})
	mustOK(t, "rest", rest.Reply)
	clk.advance(time.Second)
	if r := alice.cancel(wire.Cancel{Symbol: tsym, ClientOrderID: "keep"}); !r.OK { // 12:00:03
		t.Fatalf("cancel %+v", r)
	}
	e.app.Exchange().Quiesce()

	// alice: the taker (filled) and the canceled order, oldest first.
	all := alice.orders(wire.Orders{Limit: 10})
	mustOK(t, "orders", all.Reply)
	want := []string{
		fmt.Sprintf("%s filled 2 1001 %d", taker.OrderID, t0+1000),
		fmt.Sprintf("%s canceled 0 0 %d", rest.Order.OrderID, t0+3000),
	}
	if len(all.Orders) != 2 || orderLine(all.Orders[0]) != want[0] || orderLine(all.Orders[1]) != want[1] || all.Orders[1].CreatedMs != t0+2000 {
		t.Fatalf("alice's orders %+v, want %v", all.Orders, want)
	}
	if one := alice.orders(wire.Orders{ClientOrderID: "keep"}); !one.OK || len(one.Orders) != 1 || one.Orders[0].OrderID != rest.Order.OrderID {
		t.Fatalf("by client id %+v", one)
	}
	if one := alice.orders(wire.Orders{OrderID: taker.OrderID}); !one.OK || len(one.Orders) != 1 || one.Orders[0].Status != wire.StatusFilled {
		t.Fatalf("by id %+v", one)
	}
	if r := alice.orders(wire.Orders{OrderID: maker.OrderID}); r.OK || r.Error.Code != wire.CodeUnknownOrder {
		t.Fatalf("another account's order: %+v", r)
	}
	if r := alice.orders(wire.Orders{Limit: 1}); len(r.Orders) != 1 || r.Orders[0].OrderID != rest.Order.OrderID {
		t.Fatalf("limit 1 gives the newest: %+v", r.Orders)
	}
	// bob: the maker is still open, partly filled at 12:00:01.
	if r := bob.orders(wire.Orders{Symbol: tsym}); len(r.Orders) != 1 || orderLine(r.Orders[0]) != fmt.Sprintf("%s partially_filled 2 1001 %d", maker.OrderID, t0+1000) {
		t.Fatalf("bob's orders %+v", r)
	}
	// The fills are the fill events, with their times.
	for _, c := range []*trader{alice, bob} {
		fills := c.fills(wire.Fills{})
		evs := e.waitEvents(c.acct, wire.EventFill, 1)
		if len(fills) != 1 || len(evs) != 1 || !sameJSON(t, fills[0], *evs[0].Fill) || fills[0].TimeMs != t0+1000 || !fills[0].Qty.Equal(dec("2")) {
			t.Fatalf("%s fills %+v, events %+v", c.acct, fills, evs)
		}
	}
	if f := alice.fills(wire.Fills{StartMs: t0 + 1001}); len(f) != 0 {
		t.Fatalf("fills after the window's start: %+v", f)
	}
	if r := request[wire.FillsReply](t, e.nc, e.subj.Fills("alice"), `{"limit":0}`); r.OK || r.Error.Code != wire.CodeBadRequest {
		t.Fatalf("limit 0: %+v", r)
	}

	// A restart keeps them; a snapshot (clean stop) carries them.
	beforeA, beforeB := alice.orders(wire.Orders{}), bob.fills(wire.Fills{})
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	deps := e.deposits
	e = start(t, cfg, startOpts{data: dir, now: clk.now})
	e.deposits = deps
	alice, bob = e.trader("alice"), e.trader("bob")
	if !sameJSON(t, beforeA, alice.orders(wire.Orders{})) || !sameJSON(t, beforeB, bob.fills(wire.Fills{})) {
		t.Fatalf("after the restart: %+v %+v", alice.orders(wire.Orders{}), bob.fills(wire.Fills{}))
	}
	clk.advance(time.Second)
	alice.limit(wire.Buy, "1001", "1", wire.IOC) // fills bob's rest: the maker closes
	e.app.Exchange().Quiesce()
	if r := bob.orders(wire.Orders{OrderID: maker.OrderID}); len(r.Orders) != 1 || orderLine(r.Orders[0]) != fmt.Sprintf("%s filled 3 1001 %d", maker.OrderID, t0+4000) {
		t.Fatalf("bob's maker after the restart %+v", r)
	}
	if f := bob.fills(wire.Fills{}); len(f) != 2 || f[1].TradeSeq != f[0].TradeSeq+1 || f[1].Liquidity != wire.Maker {
		t.Fatalf("bob's fills %+v", f)
	}
	e.settledAudit()
}

// TestE2ERetention: the config's history caps bound what is kept, and a
// restart under other caps keeps the newest of what was.
func TestE2ERetention(t *testing.T) {
	dir := t.TempDir()
	cfg := condConfig(t)
	cfg.History = config.History{AccountOrders: 2, AccountFills: 3, RecentTrades: 4, FundEvents: 2}
	e := start(t, cfg, startOpts{data: dir})
	ts := e.funded("1000000", "alice", "bob")
	alice, bob := ts[0], ts[1]
	e.index("1000")
	var taken []string
	for i := range 5 {
		bob.limit(wire.Sell, "1001", "1")
		taken = append(taken, alice.limit(wire.Buy, "1001", "1", wire.IOC).OrderID)
		e.fundDeposit(fmt.Sprint(i + 1))
	}
	e.app.Exchange().Quiesce()
	check := func(orders, fills, trades, fundEvents int) {
		t.Helper()
		os := alice.orders(wire.Orders{}).Orders
		if len(os) != orders || os[len(os)-1].OrderID != taken[4] || os[0].OrderID != taken[5-orders] {
			t.Fatalf("orders %+v, want the newest %d of %v", os, orders, taken)
		}
		if f := alice.fills(wire.Fills{}); len(f) != fills {
			t.Fatalf("%d fills, want %d", len(f), fills)
		}
		if rt := e.recentTrades(1000); len(rt) != trades {
			t.Fatalf("%d recent trades, want %d", len(rt), trades)
		}
		if h := e.fundState().History; len(h) != fundEvents || !h[len(h)-1].Delta.Equal(dec("5")) {
			t.Fatalf("fund history %+v, want %d events", h, fundEvents)
		}
	}
	check(2, 3, 4, 2)
	for _, c := range []config.History{{AccountOrders: 1, AccountFills: 1, RecentTrades: 2, FundEvents: 1}, {}} {
		if err := e.close(); err != nil {
			t.Fatal(err)
		}
		deps, fdeps := e.deposits, e.fundDeposits
		cfg.History = c
		e = start(t, cfg, startOpts{data: dir})
		e.deposits, e.fundDeposits = deps, fdeps
		alice = e.trader("alice")
		// Shrunk, then grown back: what the smaller caps dropped stays gone
		// (the deposit makes the stop take a snapshot of the shrunk state).
		check(1, 1, 2, 1)
		e.deposit("carol", "1")
	}
	e.settledAudit()
}
