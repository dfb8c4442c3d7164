package actors

import (
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
)

// An index off the symbol's tick is refused with the tick named, and
// changes nothing; a whole number of ticks is set exactly.
func TestIndexOffTickIsRefused(t *testing.T) {
	e := demoEnv(t) // BTC-PERP: tick 0.1, index 30000
	h0 := e.hash()
	for _, p := range []string{"0.05", "30000.05", "30000.01", "0.00000001"} {
		r := call(t, func(d func(wire.IndexReply)) { e.x.SetIndex("BTC-PERP", wire.IndexSet{Price: dec(p)}, d) })
		wantCode(t, "index "+p, r.Reply, wire.CodeInvalidPrice)
		if msg := r.Error.Message; !strings.Contains(msg, p) || !strings.Contains(msg, "tick 0.1") {
			t.Errorf("index %s: message %q names neither the price nor the tick", p, msg)
		}
	}
	r := call(t, func(d func(wire.IndexReply)) { e.x.SetIndex("BTC-PERP", wire.IndexSet{Price: dec("99999999999")}, d) })
	wantCode(t, "index out of range", r.Reply, wire.CodeInvalidPrice)
	if h := e.hash(); h != h0 {
		t.Fatal("a refused index changed the state")
	}
	for _, p := range []string{"0.1", "30000.1", "29999.90"} {
		if r := e.index("BTC-PERP", p); !r.Index.Equal(dec(p)) {
			t.Errorf("index %s: set to %s", p, r.Index)
		}
	}
}

// DUPLICATE_CLIENT_ORDER_ID names the id that clashed.
func TestDuplicateClientOrderIDNamesTheID(t *testing.T) {
	e := demoEnv(t)
	e.deposit("alice", "10000")
	req := wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("29000"), Qty: dec("0.01"), TIF: wire.GTC, ClientOrderID: "dup-7"}
	if r := e.send("alice", req); !r.OK {
		t.Fatal(r.Error)
	}
	r := e.send("alice", req)
	wantCode(t, "duplicate", r.Reply, wire.CodeDuplicateClientOrderID)
	if !strings.Contains(r.Error.Message, `"dup-7"`) {
		t.Fatalf("message %q does not name the client order id", r.Error.Message)
	}
}
