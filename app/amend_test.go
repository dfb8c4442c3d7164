package app_test

// order.amend and self-trade prevention end to end: over NATS only, every
// test that moves money closing with the audit (conservation, open-interest
// symmetry, invariants_ok).

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
)

// feeConfig is seedConfig's symbol with fees (maker 2 bp, taker 5 bp), so
// a self-trade's two fees show.
func feeConfig(t *testing.T) string {
	s := symbolJSON("100", 0, [2]string{"1000000000", "0.005"})
	return strings.Replace(s, `"maker_fee":"0","taker_fee":"0"`, `"maker_fee":"0.0002","taker_fee":"0.0005"`, 1)
}

// amendExchange runs TEST-PERP (with fees) at mark 1000 and funds traders.
func amendExchange(t *testing.T, accts ...string) (*exchange, []*trader) {
	e := start(t, parseConfig(t, feeConfig(t), ""), startOpts{})
	e.index("1000")
	return e, e.funded("100000", accts...)
}

func (c *trader) amend(req wire.Amend) wire.OrderReply {
	c.t.Helper()
	req.Symbol = tsym
	return request[wire.OrderReply](c.t, c.nc, c.e.subj.OrderAmend(c.acct), req)
}

// mustAmend amends and fails on a refusal.
func (c *trader) mustAmend(req wire.Amend) *wire.Order {
	c.t.Helper()
	r := c.amend(req)
	mustOK(c.t, fmt.Sprintf("%s amend %+v", c.acct, req), r.Reply)
	return r.Order
}

// ioc takes liquidity and returns the reply's order.
func (c *trader) ioc(side wire.Side, price, qty string) *wire.Order {
	c.t.Helper()
	return c.limit(side, price, qty, wire.IOC)
}

// openOrders is the account's open TEST-PERP orders by id.
func (c *trader) openOrders() map[string]wire.Order {
	c.t.Helper()
	out := map[string]wire.Order{}
	for _, o := range c.state().OpenOrders {
		out[o.OrderID] = o
	}
	return out
}

// orderEvent waits for acct's order event of id with status s and returns it.
func (e *exchange) orderEvent(acct, id string, s wire.Status) *wire.Order {
	e.t.Helper()
	var found *wire.Order
	eventually(e.t, fmt.Sprintf("%s's order event %s %s", acct, id, s), func() error {
		for _, ev := range e.events(acct, wire.EventOrder) {
			if ev.Order.OrderID == id && ev.Order.Status == s {
				found = ev.Order
				return nil
			}
		}
		return fmt.Errorf("events %+v", e.events(acct, wire.EventOrder))
	})
	return found
}

// TestE2EAmendKeepsPriority: an amend that only lowers the quantity keeps
// the order's place in the queue; by client_order_id as well as order id.
func TestE2EAmendKeepsPriority(t *testing.T) {
	e, tr := amendExchange(t, "alice", "bob", "carol")
	alice, bob, carol := tr[0], tr[1], tr[2]
	r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, Price: dec("1010"), Qty: dec("5"), ClientOrderID: "a1"})
	mustOK(t, "alice's sell", r.Reply)
	first := r.Order
	second := bob.limit(wire.Sell, "1010", "5")

	o := alice.mustAmend(wire.Amend{ClientOrderID: "a1", Qty: dec("3")})
	if o.OrderID != first.OrderID || !o.Qty.Equal(dec("3")) || !o.Price.Equal(dec("1010")) || o.Status != wire.StatusNew {
		t.Fatalf("amended order %+v", o)
	}
	e.orderEvent("alice", first.OrderID, wire.StatusNew) // the amend's order event
	if d := e.depth(); len(d.Asks) != 1 || !d.Asks[0].Qty().Equal(dec("8")) {
		t.Fatalf("depth after the amend %+v", d.Asks)
	}
	// Still first: carol's 3 fill alice's order, not bob's.
	if f := carol.ioc(wire.Buy, "1010", "3"); f.Status != wire.StatusFilled {
		t.Fatalf("carol's buy %+v", f)
	}
	if ev := e.orderEvent("alice", first.OrderID, wire.StatusFilled); !ev.FilledQty.Equal(dec("3")) {
		t.Fatalf("alice's order %+v", ev)
	}
	if b := bob.openOrders()[second.OrderID]; !b.FilledQty.IsZero() {
		t.Fatalf("bob's order filled first: %+v", b)
	}
	// qty is the new total: a 5 with 2 filled amended to 4 has 2 open.
	carol.ioc(wire.Buy, "1010", "5") // bob's 5
	x := alice.limit(wire.Sell, "1020", "5")
	carol.ioc(wire.Buy, "1020", "2")
	e.orderEvent("alice", x.OrderID, wire.StatusPartiallyFilled)
	o = alice.mustAmend(wire.Amend{OrderID: x.OrderID, Qty: dec("4")})
	if !o.Qty.Equal(dec("4")) || !o.FilledQty.Equal(dec("2")) || o.Status != wire.StatusPartiallyFilled {
		t.Fatalf("amended partly filled order %+v", o)
	}
	if d := e.depth(); len(d.Asks) != 1 || !d.Asks[0].Qty().Equal(dec("2")) {
		t.Fatalf("depth %+v", d.Asks)
	}
	carol.ioc(wire.Buy, "1020", "2")
	if ev := e.orderEvent("alice", x.OrderID, wire.StatusFilled); !ev.FilledQty.Equal(dec("4")) {
		t.Fatalf("alice's order %+v", ev)
	}
	e.settledAudit()
}

// TestE2EAmendLosesPriority: more quantity or a new price re-queues the
// order behind the others at its price.
func TestE2EAmendLosesPriority(t *testing.T) {
	for _, tc := range []struct {
		name  string
		amend wire.Amend
	}{
		{"qty up", wire.Amend{Qty: dec("6")}},
		{"price away and back", wire.Amend{Price: dec("1011")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, tr := amendExchange(t, "alice", "bob", "carol")
			alice, bob, carol := tr[0], tr[1], tr[2]
			first := alice.limit(wire.Sell, "1010", "5")
			second := bob.limit(wire.Sell, "1010", "5")
			tc.amend.OrderID = first.OrderID
			alice.mustAmend(tc.amend)
			if !tc.amend.Price.IsZero() {
				if o := alice.mustAmend(wire.Amend{OrderID: first.OrderID, Price: dec("1010")}); !o.Price.Equal(dec("1010")) {
					t.Fatalf("back at 1010: %+v", o)
				}
			}
			carol.ioc(wire.Buy, "1010", "5")
			if ev := e.orderEvent("bob", second.OrderID, wire.StatusFilled); !ev.FilledQty.Equal(dec("5")) {
				t.Fatalf("bob's order %+v", ev)
			}
			if a := alice.openOrders()[first.OrderID]; !a.FilledQty.IsZero() || a.Status != wire.StatusNew {
				t.Fatalf("alice's order traded before bob's: %+v", a)
			}
			e.settledAudit()
		})
	}
}

// TestE2EAmendCrosses: a price amend that crosses trades as a taker: its
// fills, the maker's, the trade stream, positions, and the rest rests.
func TestE2EAmendCrosses(t *testing.T) {
	e, tr := amendExchange(t, "alice", "bob")
	alice, bob := tr[0], tr[1]
	ask := bob.limit(wire.Sell, "1010", "5")
	bid := alice.limit(wire.Buy, "1000", "8")
	o := alice.mustAmend(wire.Amend{OrderID: bid.OrderID, Price: dec("1010")})
	if o.Status != wire.StatusPartiallyFilled || !o.FilledQty.Equal(dec("5")) || !o.AvgPrice.Equal(dec("1010")) ||
		!o.Qty.Equal(dec("8")) || !o.Price.Equal(dec("1010")) {
		t.Fatalf("crossing amend %+v", o)
	}
	if ev := e.orderEvent("bob", ask.OrderID, wire.StatusFilled); !ev.AvgPrice.Equal(dec("1010")) {
		t.Fatalf("bob's order %+v", ev)
	}
	eventually(t, "the trade", func() error {
		if ts := decoded[wire.Trade](e.rec, e.subj.Trades(tsym)); len(ts) != 1 || !ts[0].Qty.Equal(dec("5")) || ts[0].TakerSide != wire.Buy {
			return fmt.Errorf("trades %+v", ts)
		}
		return nil
	})
	fills := e.waitEvents("alice", wire.EventFill, 1)
	if f := fills[0].Fill; f.Liquidity != wire.Taker || f.OrderID != bid.OrderID {
		t.Fatalf("alice's fill %+v", f)
	}
	if p := alice.position(); p == nil || p.Side != wire.Long || !p.Qty.Equal(dec("5")) {
		t.Fatalf("alice's position %+v", p)
	}
	if a := alice.openOrders()[bid.OrderID]; !a.Qty.Sub(a.FilledQty).Equal(dec("3")) || !a.Price.Equal(dec("1010")) {
		t.Fatalf("alice's resting rest %+v", a)
	}
	e.settledAudit()
}

// TestE2EAmendRefused: every refusal leaves the order and the exchange as
// they were.
func TestE2EAmendRefused(t *testing.T) {
	e, tr := amendExchange(t, "bob")
	bob := tr[0]
	e.deposit("alice", "250") // at leverage 10: the two bids below, not a third lot
	alice := e.trader("alice")
	alice.leverage("10")
	bob.limit(wire.Sell, "1010", "5")
	canceled := alice.limit(wire.Buy, "980", "1")
	mustOK(t, "cancel", alice.cancel(wire.Cancel{Symbol: tsym, OrderID: canceled.OrderID}).Reply)
	bid := alice.limit(wire.Buy, "1000", "1")
	po := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("990"), Qty: dec("1"), PostOnly: true, ClientOrderID: "po"})
	mustOK(t, "post-only", po.Reply)
	e.settledAudit()
	before, h0 := e.audit(), e.hash()
	want := alice.openOrders()
	for _, tc := range []struct {
		name string
		req  wire.Amend
		code wire.Code
	}{
		{"margin", wire.Amend{OrderID: bid.OrderID, Qty: dec("2")}, wire.CodeInsufficientMargin},
		{"post-only would take", wire.Amend{ClientOrderID: "po", Price: dec("1010")}, wire.CodePostOnlyWouldTake},
		{"unknown id", wire.Amend{OrderID: "999999", Qty: dec("1")}, wire.CodeUnknownOrder},
		{"unknown client id", wire.Amend{ClientOrderID: "nope", Qty: dec("1")}, wire.CodeUnknownOrder},
		{"canceled", wire.Amend{OrderID: canceled.OrderID, Qty: dec("2")}, wire.CodeUnknownOrder},
		{"off the tick", wire.Amend{OrderID: bid.OrderID, Price: dec("1000.5")}, wire.CodeInvalidPrice},
		{"out of the band", wire.Amend{OrderID: bid.OrderID, Price: dec("1600")}, wire.CodeInvalidPrice},
		{"off the lot", wire.Amend{OrderID: bid.OrderID, Qty: dec("0.5")}, wire.CodeInvalidQty},
		{"bad request", wire.Amend{OrderID: bid.OrderID}, wire.CodeBadRequest},
	} {
		r := alice.amend(tc.req)
		if r.OK || r.Error == nil || r.Error.Code != tc.code {
			t.Errorf("%s: %+v, want %s", tc.name, r, tc.code)
		}
	}
	if got := alice.openOrders(); !sameJSON(t, got, want) {
		t.Fatalf("open orders\n%+v\nwere\n%+v", got, want)
	}
	e.unchanged(before, h0)
	// A qty at or below what the order filled is refused too.
	carol := e.funded("100000", "carol")[0]
	carol.limit(wire.Sell, "1005", "1")
	big := bob.limit(wire.Buy, "1005", "3") // takes carol's 1
	if !big.FilledQty.Equal(dec("1")) {
		t.Fatalf("bob's bid %+v", big)
	}
	if r := bob.amend(wire.Amend{OrderID: big.OrderID, Qty: dec("1")}); r.OK || r.Error.Code != wire.CodeInvalidQty {
		t.Fatalf("qty = filled: %+v", r)
	}
	e.settledAudit()
}

// TestE2ESelfTradePrevention: each stp mode, its reply and events, with
// alice's own ask first in the queue and bob's behind it.
func TestE2ESelfTradePrevention(t *testing.T) {
	for _, tc := range []struct {
		stp      wire.STP
		status   wire.Status
		filled   string
		killed   bool // the taker's remainder canceled by STP
		canceled bool // alice's resting ask canceled by STP
	}{
		{"", wire.StatusCanceled, "0", true, false}, // the default: cancel_taker
		{wire.STPCancelTaker, wire.StatusCanceled, "0", true, false},
		{wire.STPCancelMaker, wire.StatusFilled, "2", false, true},
		{wire.STPCancelBoth, wire.StatusCanceled, "0", true, true},
		{wire.STPNone, wire.StatusFilled, "2", false, false},
	} {
		t.Run(cmp.Or(string(tc.stp), "default"), func(t *testing.T) {
			e, tr := amendExchange(t, "alice", "bob")
			alice, bob := tr[0], tr[1]
			own := alice.limit(wire.Sell, "1000", "2")
			if own.STP != wire.STPCancelTaker {
				t.Fatalf("default stp %q", own.STP)
			}
			bob.limit(wire.Sell, "1000", "2")
			r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("1000"), Qty: dec("2"), STP: tc.stp})
			mustOK(t, "alice's buy", r.Reply)
			o := r.Order
			if want := cmp.Or(tc.stp, wire.DefaultSTP); o.STP != want {
				t.Fatalf("stp %q, want %q", o.STP, want)
			}
			if o.Status != tc.status || !o.FilledQty.Equal(dec(tc.filled)) || o.CanceledBySTP != tc.killed {
				t.Fatalf("taker %+v", o)
			}
			if want := []string(nil); tc.canceled {
				want = []string{own.OrderID}
				if !slices.Equal(r.STPCanceled, want) {
					t.Fatalf("stp_canceled %v, want %v", r.STPCanceled, want)
				}
				if ev := e.orderEvent("alice", own.OrderID, wire.StatusCanceled); !ev.CanceledBySTP {
					t.Fatalf("the canceled ask's event %+v", ev)
				}
			} else if len(r.STPCanceled) != 0 {
				t.Fatalf("stp_canceled %v, want none", r.STPCanceled)
			}
			ev := e.orderEvent("alice", o.OrderID, tc.status)
			if ev.CanceledBySTP != tc.killed {
				t.Fatalf("the taker's event %+v", ev)
			}
			open := alice.openOrders()
			if _, resting := open[own.OrderID]; resting == (tc.canceled || tc.stp == wire.STPNone) {
				t.Fatalf("alice's ask resting %v: %+v", resting, open)
			}
			if tc.stp == wire.STPNone {
				// A self-trade: maker and taker fill, no position, two fees.
				fills := e.waitEvents("alice", wire.EventFill, 2)
				liq := []wire.Liquidity{fills[0].Fill.Liquidity, fills[1].Fill.Liquidity}
				slices.Sort(liq)
				if liq[0] != wire.Maker || liq[1] != wire.Taker {
					t.Fatalf("alice's fills %+v", fills)
				}
				// 2 × 1000 × (0.0002 + 0.0005) = 1.4
				if p := alice.position(); p != nil || !alice.balance().Equal(dec("99998.6")) {
					t.Fatalf("after the self-trade: position %+v balance %s", p, alice.balance())
				}
			}
			e.settledAudit()
		})
	}
}

// TestE2EAmendSTP: an amend that crosses applies the order's own stp.
func TestE2EAmendSTP(t *testing.T) {
	e, tr := amendExchange(t, "alice", "bob")
	alice, bob := tr[0], tr[1]
	own := alice.limit(wire.Sell, "1010", "1")
	bob.limit(wire.Sell, "1010", "1")
	r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("1000"), Qty: dec("1"), STP: wire.STPCancelMaker})
	mustOK(t, "bid", r.Reply)
	a := alice.amend(wire.Amend{OrderID: r.Order.OrderID, Price: dec("1010")})
	mustOK(t, "crossing amend", a.Reply)
	if a.Order.Status != wire.StatusFilled || !slices.Equal(a.STPCanceled, []string{own.OrderID}) {
		t.Fatalf("amend reply %+v %v", a.Order, a.STPCanceled)
	}
	e.orderEvent("alice", own.OrderID, wire.StatusCanceled)
	e.settledAudit()
}
