package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// Conditional orders end to end: placed over NATS, fired by the price they
// watch, executed through the book, with their order events.

// condConfig is TEST-PERP with one wide 1 % tier: any size at 10x.
func condConfig(t *testing.T) *config.Config {
	return seedConfig(t, [2]string{"1000000000", "0.01"})
}

// startAliceMM starts condConfig's exchange with the index at 1000 and
// alice and mm funded with 1 000 000 each.
func startAliceMM(t *testing.T) (*exchange, *trader, *trader) {
	e := start(t, condConfig(t), startOpts{})
	ts := e.funded("1000000", "alice", "mm")
	e.index("1000")
	return e, ts[0], ts[1]
}

// orderStatuses returns the statuses of acct's order events for order id, in
// order, and the last event's error code.
func (e *exchange) orderStatuses(acct, id string) (sts []wire.Status, code wire.Code) {
	for _, ev := range e.events(acct, wire.EventOrder) {
		if ev.Order != nil && ev.Order.OrderID == id {
			sts = append(sts, ev.Order.Status)
			code = ""
			if ev.Error != nil {
				code = ev.Error.Code
			}
		}
	}
	return sts, code
}

// waitStatus waits until acct's order id has had an event with status want.
func (e *exchange) waitStatus(acct, id string, want wire.Status) []wire.Status {
	e.t.Helper()
	var sts []wire.Status
	eventually(e.t, fmt.Sprintf("order %s of %s %s", id, acct, want), func() error {
		if sts, _ = e.orderStatuses(acct, id); len(sts) == 0 || sts[len(sts)-1] != want {
			return fmt.Errorf("statuses %v", sts)
		}
		return nil
	})
	return sts
}

// trade makes a last-trade price: a rests qty 1 at price, b takes it.
func trade(a, b *trader, price string) {
	a.limit(wire.Sell, price, "1")
	if o := b.limit(wire.Buy, price, "1", wire.IOC); o.Status != wire.StatusFilled {
		b.t.Fatalf("trade at %s: %+v", price, o)
	}
}

// conditionalCase places order (type, side, trigger source) at price 1000
// and moves the source away from it then across it: the order must rest
// untriggered through the first move and fire on the second.
func TestE2EConditionalTriggers(t *testing.T) {
	for _, typ := range []wire.OrderType{wire.StopMarket, wire.StopLimit, wire.TakeProfitMarket, wire.TakeProfitLimit} {
		for _, side := range []wire.Side{wire.Buy, wire.Sell} {
			for _, by := range []wire.TriggerBy{wire.TriggerMark, wire.TriggerIndex, wire.TriggerLast} {
				t.Run(fmt.Sprintf("%s/%s/%s", typ, side, by), func(t *testing.T) {
					rise := (side == wire.Buy) == (typ == wire.StopMarket || typ == wire.StopLimit)
					trig, away, across, wrong := "1010", "1005", "1010", "990"
					if !rise {
						trig, away, across, wrong = "990", "995", "990", "1010"
					}
					e := start(t, condConfig(t), startOpts{})
					ts := e.funded("1000000", "alice", "mm", "p1", "p2")
					alice, mm, p1, p2 := ts[0], ts[1], ts[2], ts[3]
					e.index("1000")
					trade(p1, p2, "1000")
					// Liquidity for the fired order, behind the prices the moves trade at.
					mm.limit(wire.Sell, "1015", "5")
					mm.limit(wire.Buy, "985", "5")

					req := wire.PlaceOrder{Symbol: tsym, Side: side, Type: typ, Qty: dec("2"), TriggerPrice: dec(wrong), TriggerBy: by, ClientOrderID: "c1"}
					if typ.Limited() {
						req.Price = dec("1020")
						if side == wire.Sell {
							req.Price = dec("980")
						}
					}
					if r := alice.place(req); r.OK || r.Error.Code != wire.CodeWouldTriggerImmediately {
						t.Fatalf("a trigger already reached: %+v", r)
					}
					req.TriggerPrice = dec(trig)
					r := alice.place(req)
					mustOK(t, "place", r.Reply)
					o := r.Order
					if o.Status != wire.StatusUntriggered || o.Type != typ || o.TriggerBy != by || !o.TriggerPrice.Equal(dec(trig)) {
						t.Fatalf("placed: %+v", o)
					}
					if st := alice.state(); len(st.OpenOrders) != 1 || st.OpenOrders[0].Status != wire.StatusUntriggered {
						t.Fatalf("state: %+v", st.OpenOrders)
					}
					e.waitStatus("alice", o.OrderID, wire.StatusUntriggered) // its event is in
					// Each source moves away, then the others cross (which must
					// leave the order alone), then its own.
					own, others := func(p string) { e.index(p) }, func(p string) { trade(p1, p2, p) }
					if by == wire.TriggerLast {
						own, others = others, own
					}
					others(away)
					own(away)
					others(across)
					alice.state() // what the move fired has reached the account
					if sts, _ := e.orderStatuses("alice", o.OrderID); len(sts) != 1 {
						t.Fatalf("fired by another price source: %v", sts)
					}
					own(across)
					sts := e.waitStatus("alice", o.OrderID, wire.StatusFilled)
					want := []wire.Status{wire.StatusUntriggered, wire.StatusTriggered, wire.StatusFilled}
					if fmt.Sprint(sts) != fmt.Sprint(want) {
						t.Fatalf("statuses %v, want %v", sts, want)
					}
					pos := alice.position()
					wantSide := wire.Long
					if side == wire.Sell {
						wantSide = wire.Short
					}
					if pos == nil || pos.Side != wantSide || !pos.Qty.Equal(dec("2")) {
						t.Fatalf("position %+v", pos)
					}
					e.settledAudit()
				})
			}
		}
	}
}

// placeJSON places a raw order body (close_position has no qty, which
// wire.PlaceOrder would send as "0").
func (c *trader) placeJSON(body string) wire.OrderReply {
	c.t.Helper()
	return request[wire.OrderReply](c.t, c.nc, c.e.subj.OrderPlace(c.acct), body)
}

// A trailing stop trails the best index since activation by callback_rate,
// with and without an activation price.
func TestE2ETrailingStop(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		path       []string // index moves that must not fire it
		fire       string   // the move that fires it
	}{
		// Sell, 1 %: the peak 1100 fires at 1089 (1100 × 0.99), not 1090.
		{"sell", `"side":"sell","callback_rate":"1"`, []string{"1050", "1100", "1095", "1090"}, "1089"},
		// Activated at 1060 (the first index ≥ 1050): the fall to 1040 before
		// it would have fired an active one; from the peak 1060 it fires at 1049.
		{"sell activation", `"side":"sell","callback_rate":"1","activation_price":"1050"`, []string{"1040", "1030", "1060", "1050"}, "1049"},
		// Buy, 2.5 %: the trough 900 fires at 922.5 → 923 on this tick, not 922.
		{"buy", `"side":"buy","callback_rate":"2.5"`, []string{"950", "900", "910", "922"}, "923"},
		{"buy activation", `"side":"buy","callback_rate":"0.5","activation_price":"950"`, []string{"990", "960", "951", "950", "954"}, "955"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, alice, mm := startAliceMM(t)
			mm.limit(wire.Sell, "1300", "5")
			mm.limit(wire.Buy, "800", "5")
			// Its market order opens a position against quotes a fifth
			// from the mark: at 1x the fill's loss cannot liquidate it, so
			// the order's bound (risk.Account.OpenBound) lets it fill.
			alice.leverage("1")
			r := alice.placeJSON(`{"symbol":"` + tsym + `","type":"trailing_stop_market","qty":"1","trigger_by":"index",` + tc.body + `}`)
			mustOK(t, "place", r.Reply)
			if r.Order.Status != wire.StatusUntriggered || r.Order.CallbackRate.IsZero() {
				t.Fatalf("placed %+v", r.Order)
			}
			e.waitStatus("alice", r.Order.OrderID, wire.StatusUntriggered) // its event is in
			for _, p := range tc.path {
				e.index(p)
			}
			alice.state()
			if sts, _ := e.orderStatuses("alice", r.Order.OrderID); len(sts) != 1 {
				t.Fatalf("fired before %s: %v", tc.fire, sts)
			}
			e.index(tc.fire)
			e.waitStatus("alice", r.Order.OrderID, wire.StatusFilled)
			e.settledAudit()
		})
	}
}

// close_position sizes the order when it fires: the position grew after
// the order was placed, and the whole of it is closed.
func TestE2EClosePosition(t *testing.T) {
	e, alice, mm := startAliceMM(t)
	alice.openPosition(mm, wire.Buy, "1000", "3", "10")
	r := alice.placeJSON(`{"symbol":"` + tsym + `","side":"sell","type":"stop_market","trigger_price":"950","close_position":true}`)
	mustOK(t, "place", r.Reply)
	if !r.Order.ClosePosition || !r.Order.ReduceOnly {
		t.Fatalf("placed %+v", r.Order)
	}
	if r := alice.placeJSON(`{"symbol":"` + tsym + `","side":"sell","type":"stop_market","trigger_price":"950","close_position":true,"qty":"1"}`); r.OK || r.Error.Code != wire.CodeBadRequest {
		t.Fatalf("close_position with a qty: %+v", r)
	}
	mm.limit(wire.Sell, "1000", "2")
	alice.limit(wire.Buy, "1000", "2", wire.IOC)
	mm.limit(wire.Buy, "940", "10")
	e.index("950")
	e.waitStatus("alice", r.Order.OrderID, wire.StatusFilled)
	if p := alice.position(); p != nil {
		t.Fatalf("position left: %+v", p)
	}
	// A close_position stop with no position to close is rejected when it fires.
	r = alice.placeJSON(`{"symbol":"` + tsym + `","side":"sell","type":"stop_market","trigger_price":"900","close_position":true}`)
	mustOK(t, "place", r.Reply)
	e.index("900")
	e.waitStatus("alice", r.Order.OrderID, wire.StatusRejected)
	if _, code := e.orderStatuses("alice", r.Order.OrderID); code != wire.CodeReduceOnlyRejected {
		t.Fatalf("rejected with %q", code)
	}
	e.settledAudit()
}

// Canceled conditional orders never fire; cancel_all takes them too; the
// max_conditional_orders cap counts the untriggered ones only.
func TestE2EConditionalCancel(t *testing.T) {
	sym := strings.Replace(symbolJSON("100", 0, [2]string{"1000000000", "0.01"}), `{"symbol":`, `{"max_conditional_orders":2,"symbol":`, 1)
	e := start(t, parseConfig(t, sym, ""), startOpts{})
	ts := e.funded("1000000", "alice", "mm")
	alice, mm := ts[0], ts[1]
	e.index("1000")
	mm.limit(wire.Sell, "1100", "5")
	place := func(cid, trig string) *wire.Order {
		r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.StopMarket, Qty: dec("1"), TriggerPrice: dec(trig), ClientOrderID: cid})
		mustOK(t, "place "+cid, r.Reply)
		return r.Order
	}
	a := place("a", "1010")
	place("b", "1020")
	if r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.StopMarket, Qty: dec("1"), TriggerPrice: dec("1030")}); r.OK || r.Error.Code != wire.CodeTooManyOrders {
		t.Fatalf("a third conditional order under a cap of 2: %+v", r)
	}
	c := alice.cancel(wire.Cancel{Symbol: tsym, ClientOrderID: "a"})
	mustOK(t, "cancel", c.Reply)
	if c.Order.Status != wire.StatusCanceled || c.Order.OrderID != a.OrderID {
		t.Fatalf("canceled %+v", c.Order)
	}
	all, _ := alice.cancelAll("{}")
	mustOK(t, "cancel all", all.Reply)
	if all.Count != 1 || all.Orders[0].ClientOrderID != "b" {
		t.Fatalf("cancel all %+v", all)
	}
	e.index("1050")
	alice.state()
	if p := alice.position(); p != nil {
		t.Fatalf("a canceled stop fired: %+v", p)
	}
	// Reusing a canceled order's client id is fine; the cap counts only live ones.
	a = place("a", "1100")
	place("c", "1200")
	e.index("1100") // fires a: the cap has room again
	e.waitStatus("alice", a.OrderID, wire.StatusFilled)
	place("d", "1300")
	e.settledAudit()
}

// A stop that fires on the tick that liquidates its account is rejected
// (the liquidation took the position): the liquidation settles as always.
func TestE2EStopDuringLiquidation(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{})
	e.fundDeposit("100000")
	ts := e.funded("750", "alice")
	alice := ts[0]
	mm := e.funded("1000000", "mm")[0]
	e.index("3750")
	alice.openPosition(mm, wire.Buy, "3750", "1", "5")
	r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.StopMarket, Qty: dec("1"), TriggerPrice: dec("3050"), ReduceOnly: true})
	mustOK(t, "stop", r.Reply)
	mm.limit(wire.Buy, "2900", "5")
	e.index("3000") // crosses the liquidation price 3100 and the trigger
	e.waitEvents("alice", wire.EventLiquidation, 1)
	eventually(t, "the stop's end", func() error {
		sts, _ := e.orderStatuses("alice", r.Order.OrderID)
		if n := len(sts); n == 0 || (sts[n-1] != wire.StatusRejected && sts[n-1] != wire.StatusCanceled) {
			return fmt.Errorf("statuses %v", sts)
		}
		return nil
	})
	if p := alice.position(); p != nil {
		t.Fatalf("position left: %+v", p)
	}
	e.settledAudit()
}

// An untriggered order's trigger, limit price and qty amend in place (same
// id); a trigger the price already reached is refused and changes nothing.
func TestE2EConditionalAmend(t *testing.T) {
	e, alice, mm := startAliceMM(t)
	mm.limit(wire.Sell, "1035", "5")
	r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.StopLimit, Qty: dec("2"), Price: dec("1020"),
		TriggerPrice: dec("1010"), ClientOrderID: "s"})
	mustOK(t, "place", r.Reply)
	id := r.Order.OrderID
	if a := alice.amend(wire.Amend{ClientOrderID: "s", TriggerPrice: dec("990")}); a.OK || a.Error.Code != wire.CodeWouldTriggerImmediately {
		t.Fatalf("amend to a reached trigger: %+v", a)
	}
	if a := alice.amend(wire.Amend{ClientOrderID: "s", TriggerPrice: dec("1030.5")}); a.OK || a.Error.Code != wire.CodeInvalidPrice {
		t.Fatalf("amend off the tick: %+v", a)
	}
	if o := alice.state().OpenOrders[0]; !o.TriggerPrice.Equal(dec("1010")) || !o.Qty.Equal(dec("2")) {
		t.Fatalf("a refused amend changed the order: %+v", o)
	}
	o := alice.mustAmend(wire.Amend{OrderID: id, TriggerPrice: dec("1030"), Price: dec("1040"), Qty: dec("3")})
	if o.OrderID != id || o.Status != wire.StatusUntriggered || !o.TriggerPrice.Equal(dec("1030")) || !o.Price.Equal(dec("1040")) || !o.Qty.Equal(dec("3")) {
		t.Fatalf("amended %+v", o)
	}
	eventually(t, "the amend's event", func() error { // events come on their own connection
		if sts, _ := e.orderStatuses("alice", id); len(sts) < 2 {
			return fmt.Errorf("statuses %v", sts)
		}
		return nil
	})
	e.index("1020") // the old trigger would fire here
	alice.state()
	if sts, _ := e.orderStatuses("alice", id); len(sts) != 2 { // placed, amended
		t.Fatalf("fired at the old trigger: %v", sts)
	}
	e.index("1030")
	e.waitStatus("alice", id, wire.StatusFilled)
	if p := alice.position(); p == nil || !p.Qty.Equal(dec("3")) || !p.EntryPrice.Equal(dec("1035")) {
		t.Fatalf("position %+v", p)
	}
	// trigger_price amends untriggered stops only; the stop that fired (and
	// filled) or one that never was is unknown, as API.md's AMEND says.
	l := alice.limit(wire.Buy, "900", "1")
	if a := alice.amend(wire.Amend{OrderID: l.OrderID, TriggerPrice: dec("950")}); a.OK || a.Error.Code != wire.CodeBadRequest {
		t.Fatalf("trigger_price on a limit order: %+v", a)
	}
	for _, ref := range []string{id, "999999"} {
		if a := alice.amend(wire.Amend{OrderID: ref, TriggerPrice: dec("1050")}); a.OK || a.Error.Code != wire.CodeUnknownOrder {
			t.Fatalf("trigger_price on order %s (fired, or none): %+v", ref, a)
		}
	}
	e.settledAudit()
}

// TestE2EBookRefusalEvents: a place the book refuses (post-only that would
// take) is answered and leaves no order, so no event names one; a fired
// stop the book refuses is rejected with the reason in its event.
func TestE2EBookRefusalEvents(t *testing.T) {
	e, alice, mm := startAliceMM(t)
	mm.limit(wire.Sell, "1005", "5")
	r := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("1010"), Qty: dec("1"), PostOnly: true})
	if r.OK || r.Error.Code != wire.CodePostOnlyWouldTake {
		t.Fatalf("post-only that would take: %+v", r)
	}
	s := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.StopLimit, Qty: dec("1"), Price: dec("1010"),
		TriggerPrice: dec("1003"), PostOnly: true})
	mustOK(t, "stop", s.Reply)
	e.index("1003")
	e.waitStatus("alice", s.Order.OrderID, wire.StatusRejected)
	if _, code := e.orderStatuses("alice", s.Order.OrderID); code != wire.CodePostOnlyWouldTake {
		t.Errorf("the fired stop's rejection event says %q, want %s", code, wire.CodePostOnlyWouldTake)
	}
	for _, ev := range e.events("alice", wire.EventOrder) {
		if ev.Order != nil && ev.Order.OrderID != s.Order.OrderID {
			t.Fatalf("an order event for an order the refused place never made: %+v", ev.Order)
		}
	}
	e.settledAudit()
}

// Conditional orders ride order.batch like any place: a later item sees
// (and cancels) one placed by an earlier item, and a refused one is
// answered in its place.
func TestE2EConditionalBatch(t *testing.T) {
	e := start(t, condConfig(t), startOpts{})
	alice := e.funded("1000000", "alice")[0]
	e.index("1000")
	stop := func(cid, trig string) string {
		return `{"place":{"symbol":"TEST-PERP","side":"buy","type":"stop_market","qty":"1","trigger_price":"` + trig + `","client_order_id":"` + cid + `"}}`
	}
	r, _ := alice.batch(stop("s1", "1100"), stop("s2", "900"), stop("s3", "1200"), cancelItem("s1"))
	mustOK(t, "batch", r.Reply)
	if len(r.Results) != 4 || !r.Results[0].OK || r.Results[0].Order.Status != wire.StatusUntriggered ||
		r.Results[1].OK || r.Results[1].Error.Code != wire.CodeWouldTriggerImmediately ||
		!r.Results[2].OK || !r.Results[3].OK || r.Results[3].Order.Status != wire.StatusCanceled {
		t.Fatalf("batch results %+v", r.Results)
	}
	if st := alice.state(); len(st.OpenOrders) != 1 || st.OpenOrders[0].ClientOrderID != "s3" {
		t.Fatalf("open orders %+v", st.OpenOrders)
	}
	e.settledAudit()
}
