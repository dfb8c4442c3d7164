package actors

import (
	"testing"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

func demoEnv(t *testing.T) *env {
	e := newEnv(t, market.DemoSymbols()...)
	e.index("BTC-PERP", "30000")
	e.index("ETH-PERP", "2000")
	return e
}

func wantCode(t *testing.T, what string, r wire.Reply, code wire.Code) {
	t.Helper()
	if r.OK || r.Error == nil || r.Error.Code != code {
		t.Fatalf("%s: got %+v, want %s", what, r, code)
	}
}

func TestRejectionsChangeNothing(t *testing.T) {
	e := demoEnv(t)
	e.deposit("alice", "10000")
	e.mustPlace("alice", "BTC-PERP", wire.Buy, "29000", "0.1")
	h0 := e.hash()
	cases := []struct {
		name string
		req  wire.PlaceOrder
		code wire.Code
	}{
		{"unknown symbol", wire.PlaceOrder{Symbol: "DOGE-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("1"), Qty: dec("1"), TIF: wire.GTC}, wire.CodeUnknownSymbol},
		{"off tick", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("30000.05"), Qty: dec("0.1"), TIF: wire.GTC}, wire.CodeInvalidPrice},
		{"off lot", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("30000"), Qty: dec("0.0001"), TIF: wire.GTC}, wire.CodeInvalidQty},
		{"outside band", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("40000"), Qty: dec("0.01"), TIF: wire.GTC}, wire.CodeInvalidPrice},
		{"min notional", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("30000"), Qty: dec("0.0001"), TIF: wire.GTC}, wire.CodeInvalidQty},
		{"margin", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("30000"), Qty: dec("10"), TIF: wire.GTC}, wire.CodeInsufficientMargin},
		{"reduce only", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit, Price: dec("30000"), Qty: dec("0.1"), TIF: wire.GTC, ReduceOnly: true}, wire.CodeReduceOnlyRejected},
		{"post only", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit, Price: dec("29000"), Qty: dec("0.01"), TIF: wire.GTC, PostOnly: true}, wire.CodePostOnlyWouldTake},
		{"fok", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit, Price: dec("29000"), Qty: dec("0.2"), TIF: wire.FOK}, wire.CodeFOKNotFilled},
	}
	for _, c := range cases {
		wantCode(t, c.name, e.send("alice", c.req).Reply, c.code)
	}
	cid := wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("28000"), Qty: dec("0.01"), TIF: wire.GTC, ClientOrderID: "c1"}
	if r := e.send("alice", cid); !r.OK {
		t.Fatal(r.Error)
	}
	h1 := e.hash()
	wantCode(t, "duplicate client id", e.send("alice", cid).Reply, wire.CodeDuplicateClientOrderID)
	wantCode(t, "cancel unknown", call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: "BTC-PERP", OrderID: "999999"}, d)
	}).Reply, wire.CodeUnknownOrder)
	wantCode(t, "leverage", call(t, func(d func(wire.LeverageReply)) {
		e.x.SetLeverage("alice", wire.Leverage{Symbol: "BTC-PERP", Leverage: dec("1000")}, d)
	}).Reply, wire.CodeLeverageTooHigh)
	if h := e.hash(); h != h1 || h1 == h0 {
		t.Fatalf("state hash: before %x, after accepted order %x, after rejections %x", h0, h1, h)
	}
	e.audit()
}

func TestOrderFlowSettlesBothSides(t *testing.T) {
	e := demoEnv(t)
	e.deposit("alice", "10000")
	e.deposit("bob", "10000")

	bid := e.mustPlace("alice", "BTC-PERP", wire.Buy, "30000", "0.1")
	if bid.Status != wire.StatusNew || bid.ClientOrderID != "" {
		t.Fatalf("resting bid: %+v", bid)
	}
	// Taker reply reflects its fills, and its state sees them at once.
	o := e.mustPlace("bob", "BTC-PERP", wire.Sell, "29900", "0.04", wire.IOC)
	if o.Status != wire.StatusFilled || !o.FilledQty.Equal(dec("0.04")) || !o.AvgPrice.Equal(dec("30000")) {
		t.Fatalf("taker: %+v", o)
	}
	if p := e.position("bob", "BTC-PERP"); p == nil || p.Side != wire.Short || !p.Qty.Equal(dec("0.04")) {
		t.Fatalf("bob's position right after the reply: %+v", p)
	}
	m := e.send("bob", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Market, Qty: dec("0.1"), TIF: wire.IOC})
	if !m.OK || m.Order.Status != wire.StatusCanceled || !m.Order.FilledQty.Equal(dec("0.06")) {
		t.Fatalf("market sell sweeping the rest: %+v %v", m.Order, m.Error)
	}
	e.x.quiesce()
	if p := e.position("alice", "BTC-PERP"); p == nil || p.Side != wire.Long || !p.Qty.Equal(dec("0.1")) {
		t.Fatalf("maker position: %+v", p)
	}
	fills := e.rec.events("alice", wire.EventFill)
	if len(fills) != 2 || fills[0].Fill.Liquidity != wire.Maker {
		t.Fatalf("maker fill events: %+v", fills)
	}
	// Each fill event shows the order as that fill left it.
	if o := fills[0].Order; o.Status != wire.StatusPartiallyFilled || !o.FilledQty.Equal(dec("0.04")) {
		t.Fatalf("maker's first fill event's order: %+v", o)
	}
	if o := fills[1].Order; o.Status != wire.StatusFilled || !o.FilledQty.Equal(dec("0.1")) {
		t.Fatalf("maker's last fill event's order: %+v", o)
	}
	// The market sell's fill shows it partly filled; its order event, the
	// result: the rest canceled.
	if fs := e.rec.events("bob", wire.EventFill); len(fs) != 2 || fs[1].Order.Status != wire.StatusPartiallyFilled {
		t.Fatalf("taker fill events: %+v", fs)
	}
	wantCode(t, "cancel a filled order", call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: "BTC-PERP", OrderID: bid.OrderID}, d)
	}).Reply, wire.CodeUnknownOrder)

	// Cancel by client id; the reservation is released.
	before := e.state("alice").Available
	r := e.send("alice", wire.PlaceOrder{Symbol: "ETH-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("1990"), Qty: dec("1"), TIF: wire.GTC, ClientOrderID: "e1"})
	if !r.OK {
		t.Fatal(r.Error)
	}
	c := call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: "ETH-PERP", ClientOrderID: "e1"}, d)
	})
	if !c.OK || c.Order.Status != wire.StatusCanceled || c.Order.OrderID != r.Order.OrderID {
		t.Fatalf("cancel: %+v %v", c.Order, c.Error)
	}
	if after := e.state("alice").Available; !after.Equal(before) {
		t.Fatalf("available %s after cancel, %s before the order", after, before)
	}

	a := e.audit()
	if a.Fees <= 0 || a.Long[0] != 100 || a.Short[0] != 100 {
		t.Fatalf("fees %s, open interest %v/%v", a.Fees, a.Long, a.Short)
	}
	checkTradeSeqs(t, e, "BTC-PERP", 2)
	checkDepthRebuild(t, e, "BTC-PERP")
	checkDepthRebuild(t, e, "ETH-PERP")
}

func checkTradeSeqs(t *testing.T, e *env, sym string, n int) {
	t.Helper()
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	tr := e.rec.trades[sym]
	if len(tr) != n {
		t.Fatalf("%d trades, want %d", len(tr), n)
	}
	for i, x := range tr {
		if x.Seq != uint64(i+1) {
			t.Fatalf("trade %d has seq %d", i, x.Seq)
		}
	}
}

// checkDepthRebuild applies every published BookUpdate in order (seqs
// without gaps) and compares the result with a depth snapshot.
func checkDepthRebuild(t *testing.T, e *env, sym string) {
	t.Helper()
	snap := call(t, func(d func(wire.DepthReply)) { e.x.Depth(sym, wire.Depth{Levels: 1000}, d) })
	e.rec.mu.Lock()
	ups := append([]wire.BookUpdate(nil), e.rec.books[sym]...)
	e.rec.mu.Unlock()
	bids, asks := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for i, u := range ups {
		if u.Seq != uint64(i+1) {
			t.Fatalf("%s update %d has seq %d", sym, i, u.Seq)
		}
		for _, side := range []struct {
			ls []wire.Level
			m  map[string]decimal.Decimal
		}{{u.Bids, bids}, {u.Asks, asks}} {
			for _, l := range side.ls {
				if l.Qty().IsZero() {
					delete(side.m, l.Price().String())
				} else {
					side.m[l.Price().String()] = l.Qty()
				}
			}
		}
	}
	if snap.Seq != uint64(len(ups)) {
		t.Fatalf("%s snapshot seq %d, %d updates", sym, snap.Seq, len(ups))
	}
	for _, side := range []struct {
		ls []wire.Level
		m  map[string]decimal.Decimal
	}{{snap.Bids, bids}, {snap.Asks, asks}} {
		if len(side.ls) != len(side.m) {
			t.Fatalf("%s: snapshot %v, rebuilt %v", sym, side.ls, side.m)
		}
		for _, l := range side.ls {
			if q, ok := side.m[l.Price().String()]; !ok || !q.Equal(l.Qty()) {
				t.Fatalf("%s level %s: snapshot %s, rebuilt %s", sym, l.Price(), l.Qty(), q)
			}
		}
	}
}

// TestAccountRefActsForItsAccount: requests through a resolved AccountRef
// reach the same account as the name-based methods, refuse what they
// refuse, and a ref outliving Stop answers INTERNAL.
func TestAccountRefActsForItsAccount(t *testing.T) {
	e := demoEnv(t)
	e.deposit("alice", "10000")
	ref := e.x.Account("alice")
	if ref.Name() != "alice" || e.x.Account("alice").e != ref.e {
		t.Fatalf("ref %q does not resolve to alice's entry", ref.Name())
	}
	req := wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("29000"), Qty: dec("0.1"), TIF: wire.GTC, ClientOrderID: "r1"}
	r := call(t, func(d func(wire.OrderReply)) { ref.PlaceOrder(req, d) })
	if !r.OK || r.Order.ClientOrderID != "r1" {
		t.Fatalf("place through ref: %+v", r)
	}
	if s := e.state("alice"); len(s.OpenOrders) != 1 || s.OpenOrders[0].OrderID != r.Order.OrderID {
		t.Fatalf("alice's state does not show the ref's order: %+v", s.OpenOrders)
	}
	wantCode(t, "duplicate client id by name", e.send("alice", req).Reply, wire.CodeDuplicateClientOrderID)
	bad := req
	bad.Symbol = "DOGE-PERP"
	wantCode(t, "unknown symbol", call(t, func(d func(wire.OrderReply)) { ref.PlaceOrder(bad, d) }).Reply, wire.CodeUnknownSymbol)
	c := call(t, func(d func(wire.OrderReply)) {
		ref.CancelOrder(wire.Cancel{Symbol: "BTC-PERP", ClientOrderID: "r1"}, d)
	})
	if !c.OK || c.Order.Status != wire.StatusCanceled {
		t.Fatalf("cancel through ref: %+v", c)
	}
	e.audit()

	e.x.Stop()
	wantCode(t, "ref after stop", call(t, func(d func(wire.OrderReply)) { ref.PlaceOrder(req, d) }).Reply, wire.CodeInternal)
	late := e.x.Account("carol")
	if late.Name() != "" {
		t.Fatalf("a ref resolved after Stop names %q", late.Name())
	}
	wantCode(t, "ref resolved after stop", call(t, func(d func(wire.OrderReply)) { late.CancelOrder(wire.Cancel{Symbol: "BTC-PERP", OrderID: "1"}, d) }).Reply, wire.CodeInternal)
}

// TestCancelThenReduceOnlyClose: a cancel of a reduce-only take-profit and
// a reduce-only close sent right behind it (as one order.batch sends them,
// without waiting) both pass: the close sees the room the canceled order
// held (API.md, BATCH).
func TestCancelThenReduceOnlyClose(t *testing.T) {
	e := demoEnv(t)
	e.deposit("alice", "100000")
	e.deposit("bob", "100000")
	e.mustPlace("bob", "BTC-PERP", wire.Sell, "30000", "0.1")
	e.mustPlace("alice", "BTC-PERP", wire.Buy, "30000", "0.1", wire.IOC)
	e.mustPlace("bob", "BTC-PERP", wire.Buy, "29990", "0.1")
	r := e.send("alice", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit, Price: dec("31000"), Qty: dec("0.1"),
		TIF: wire.GTC, ReduceOnly: true, ClientOrderID: "tp"})
	if !r.OK {
		t.Fatalf("take-profit: %v", r.Error)
	}
	canceled, closed := make(chan wire.OrderReply, 1), make(chan wire.OrderReply, 1)
	e.x.CancelOrder("alice", wire.Cancel{Symbol: "BTC-PERP", ClientOrderID: "tp"}, func(r wire.OrderReply) { canceled <- r })
	e.x.PlaceOrder("alice", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Market, Qty: dec("0.1"), TIF: wire.IOC, ReduceOnly: true},
		func(r wire.OrderReply) { closed <- r })
	if c := <-canceled; !c.OK {
		t.Errorf("cancel: %v", c.Error)
	}
	if c := <-closed; !c.OK || c.Order.Status != wire.StatusFilled {
		t.Fatalf("the close behind the cancel: %+v %v", c.Order, c.Error)
	}
	if p := e.position("alice", "BTC-PERP"); p != nil {
		t.Errorf("alice still holds %+v", p)
	}
	e.audit()
}

// TestRefusalMessagesNameNoPackage: a price or quantity the symbol cannot
// take is refused with the conversion's sentence and its figures, without
// the Go package's name ("market: ...") in front of what a trader reads.
func TestRefusalMessagesNameNoPackage(t *testing.T) {
	e := demoEnv(t)
	e.deposit("alice", "10000")
	o := e.mustPlace("alice", "BTC-PERP", wire.Buy, "29000", "0.1")
	place := func(price, qty string) wire.Reply {
		return e.send("alice", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec(price), Qty: dec(qty), TIF: wire.GTC}).Reply
	}
	amend := func(price string) wire.Reply {
		return call(t, func(d func(wire.OrderReply)) {
			e.x.AmendOrder("alice", wire.Amend{Symbol: "BTC-PERP", OrderID: o.OrderID, Price: dec(price)}, d)
		}).Reply
	}
	for _, c := range []struct {
		name string
		r    wire.Reply
		want string
	}{
		{"off tick", place("30000.05", "0.1"), "price is not a multiple of the tick size: 30000.05, tick 0.1"},
		{"off lot", place("30000", "0.0105"), "quantity is not a multiple of the lot size: 0.0105, lot 0.001"},
		{"price range", place("99999999", "0.1"), "price out of range: 99999999 must be in (0, 1000000]"},
		{"qty range", place("30000", "5000"), "quantity out of range: 5000 must be in (0, 1000]"},
		{"amend off tick", amend("29000.05"), "price is not a multiple of the tick size: 29000.05, tick 0.1"},
	} {
		if c.r.OK || c.r.Error.Message != c.want {
			t.Errorf("%s: %+v, want the message %q", c.name, c.r.Error, c.want)
		}
	}
	e.audit()
}
