package actors

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// TestClosedOrderKeepsItsLastView: an order kept in the closed-order ring
// (a record without pointers, reopen) shows exactly what its last order
// event showed, every field, for a post-only limit with a 64-character client id, an IOC
// with an average price, a reduce-only and a canceled conditional order;
// in memory, after a snapshot's load and after a replay. The triggers of
// conditional orders the ring dropped are dropped with them.
func TestClosedOrderKeepsItsLastView(t *testing.T) {
	j := &memJournal{}
	keep4 := func(o *Options) { o.Retention.AccountOrders = 4 }
	e := newEnvOpts(t, j, nil, keep4, testSymbol(t, tsym, longTiers()...))
	e.index(tsym, "3750")
	e.deposit("alice", "100000")
	e.deposit("bob", "100000")
	e.leverage("alice", tsym, 5)
	e.leverage("bob", tsym, 5)
	long := strings.Repeat("a", wire.MaxTokenLen)
	place := func(r wire.PlaceOrder) string {
		t.Helper()
		r.Symbol = tsym
		rep := e.send("alice", r)
		if !rep.OK {
			t.Fatalf("place %+v: %+v", r, rep.Reply)
		}
		return rep.Order.OrderID
	}
	e.mustPlace("bob", tsym, wire.Sell, "3760", "1")
	var ids []string
	ids = append(ids, place(wire.PlaceOrder{Side: wire.Buy, Type: wire.StopLimit, TriggerPrice: dec("3800"), Price: dec("3810"),
		Qty: dec("1"), TIF: wire.GTC, ClientOrderID: long}))
	e.cancel("alice", ids[0])
	ids = append(ids, place(wire.PlaceOrder{Side: wire.Buy, Type: wire.Limit, Price: dec("3700"), Qty: dec("1"), TIF: wire.GTC,
		PostOnly: true, STP: wire.STPCancelBoth, ClientOrderID: long}))
	e.cancel("alice", ids[1])
	ids = append(ids, place(wire.PlaceOrder{Side: wire.Buy, Type: wire.Limit, Price: dec("3760"), Qty: dec("2"), TIF: wire.IOC, ClientOrderID: "ioc"}))
	ids = append(ids, place(wire.PlaceOrder{Side: wire.Sell, Type: wire.Limit, Price: dec("3900"), Qty: dec("1"), TIF: wire.GTC, ReduceOnly: true}))
	e.cancel("alice", ids[3])
	ids = append(ids, place(wire.PlaceOrder{Side: wire.Sell, Type: wire.StopMarket, TriggerPrice: dec("3000"), ClosePosition: true,
		ReduceOnly: true, ClientOrderID: "sl"}))
	e.cancel("alice", ids[4])
	e.x.quiesce()

	last := map[string]string{} // order id → its last event's order, as JSON
	for _, ev := range e.rec.accounts["alice"] {
		if ev.Order != nil {
			last[ev.Order.OrderID] = jsonOf(t, ev.Order)
		}
	}
	kept := ids[1:] // the ring keeps 4: the first (a conditional) was dropped
	check := func(name string, x *Exchange) {
		t.Helper()
		got := call(t, func(d func(wire.OrdersReply)) { x.AccountOrders("alice", wire.Orders{Limit: 10}, d) })
		if !got.OK || len(got.Orders) != len(kept) {
			t.Fatalf("%s: orders %+v, want %d", name, got, len(kept))
		}
		for i, o := range got.Orders {
			if o.OrderID != kept[i] || jsonOf(t, &o) != last[o.OrderID] {
				t.Fatalf("%s: order %d is\n%s\nits last event showed\n%s", name, i, jsonOf(t, &o), last[kept[i]])
			}
		}
		if r := call(t, func(d func(wire.OrdersReply)) {
			x.AccountOrders("alice", wire.Orders{ClientOrderID: long, Limit: 1}, d)
		}); !r.OK || r.Orders[0].OrderID != ids[1] {
			t.Fatalf("%s: by client id %+v", name, r)
		}
		conds := call(t, func(d func(int)) {
			x.root.Send(x.accounts.get(x, "alice").pid, &testHook{fn: func(a *accountActor) { d(len(a.closedCond)) }})
		})
		if conds != 1 {
			t.Fatalf("%s: %d kept triggers, want 1", name, conds)
		}
	}
	check("live", e.x)
	fills := call(t, func(d func(wire.FillsReply)) { e.x.Fills("alice", wire.Fills{Limit: 10}, d) })
	if len(fills.Fills) != 1 || fills.Fills[0].ClientOrderID != "ioc" || fills.Fills[0].OrderID != ids[2] {
		t.Fatalf("fills %+v", fills)
	}

	snap, at, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		name string
		snap []byte
	}{{"snapshot", snap}, {"replay", nil}} {
		s := newEnvOpts(t, j.clone(), r.snap, keep4, testSymbol(t, tsym, longTiers()...))
		if r.snap == nil {
			at = 0
		}
		check(r.name, s.x)
		if h, want := s.hash(), e.hash(); h != want {
			t.Fatalf("%s from %d: hash %x, want %x", r.name, at, h, want)
		}
	}
}

// TestPlaceRefusesALongClientID: a client order id the gateway would
// refuse is refused by the account too (in-process callers), as the
// history keeps it in wire.MaxTokenLen bytes.
func TestPlaceRefusesALongClientID(t *testing.T) {
	e := pairEnv(t, "100000")
	r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("3700"), Qty: dec("1"),
		TIF: wire.GTC, ClientOrderID: strings.Repeat("a", wire.MaxTokenLen+1)})
	if r.OK || r.Error.Code != wire.CodeBadRequest {
		t.Fatalf("place: %+v", r.Reply)
	}
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHistoryRecordsHoldNoPointers keeps the kept histories' records
// pointer-free (DESIGN.md, "Account income"): a pointer, string, slice,
// map or interface added to one puts every account's history back under
// the GC's scan.
func TestHistoryRecordsHoldNoPointers(t *testing.T) {
	var walk func(path string, ty reflect.Type)
	walk = func(path string, ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Struct:
			for i := range ty.NumField() {
				walk(path+"."+ty.Field(i).Name, ty.Field(i).Type)
			}
		case reflect.Array:
			walk(path+"[]", ty.Elem())
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
			t.Errorf("%s is a %s", path, ty.Kind())
		}
	}
	for _, v := range []any{closedOrder{}, fillRec{}, incomeRec{}} {
		walk(reflect.TypeOf(v).Name(), reflect.TypeOf(v))
	}
}

// TestOpenOrdersAreStatesOpenOrders: order.open (OpenOrders) lists the
// open orders exactly as state's open_orders does, untriggered conditional
// orders included, the closed ones not, of one symbol when asked.
func TestOpenOrdersAreStatesOpenOrders(t *testing.T) {
	e := newEnv(t, market.DemoSymbols()...)
	e.index("BTC-PERP", "30000")
	e.index("ETH-PERP", "2000")
	e.deposit("alice", "100000")
	e.mustPlace("alice", "BTC-PERP", wire.Buy, "29000", "0.01")
	e.mustPlace("alice", "ETH-PERP", wire.Sell, "2100", "0.1")
	e.mustPlace("alice", "BTC-PERP", wire.Buy, "29000", "0.01", wire.IOC) // expires: closed
	if r := e.send("alice", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.StopMarket, TriggerPrice: dec("25000"),
		Qty: dec("0.01")}); !r.OK {
		t.Fatalf("stop: %+v", r.Reply)
	}
	open := func(sym string) wire.OrdersReply {
		return call(t, func(d func(wire.OrdersReply)) { e.x.OpenOrders("alice", wire.State{Symbol: sym}, d) })
	}
	for _, sym := range []string{"", "BTC-PERP"} {
		st := call(t, func(d func(wire.AccountReply)) { e.x.AccountState("alice", wire.State{Symbol: sym}, d) })
		got := open(sym)
		if !got.OK || jsonOf(t, got.Orders) != jsonOf(t, st.Account.OpenOrders) {
			t.Fatalf("symbol %q: order.open %s, state's open orders %s", sym, jsonOf(t, got), jsonOf(t, st.Account.OpenOrders))
		}
		if want := map[string]int{"": 3, "BTC-PERP": 2}[sym]; len(got.Orders) != want {
			t.Fatalf("symbol %q: %d open orders, want %d", sym, len(got.Orders), want)
		}
	}
	if r := open("DOGE-PERP"); r.OK || r.Error.Code != wire.CodeUnknownSymbol || r.Orders == nil {
		t.Fatalf("unknown symbol: %s", jsonOf(t, r))
	}
}
