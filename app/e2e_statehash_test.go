package app_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/perpx/perpx/wire"
)

var hexHash = regexp.MustCompile(`^[0-9a-f]{16}$`)

// stateHash requests px.admin.state_hash and checks the reply's shape.
func (e *exchange) stateHash() wire.StateHashReply {
	e.t.Helper()
	r := request[wire.StateHashReply](e.t, e.nc, e.subj.AdminStateHash(), "{}")
	mustOK(e.t, "state hash", r.Reply)
	if !hexHash.MatchString(r.Hash) {
		e.t.Fatalf("state hash %q: want 16 hex digits", r.Hash)
	}
	return r
}

// TestE2EStateHash: px.admin.state_hash is the exchange's state hash at a
// quiescent point (seq 0 in memory): the same while nothing changes (a
// refused order changes nothing), different after a resting order and
// after a trade, and equal to the in-process StateHash.
func TestE2EStateHash(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{})
	e.index("3000")
	tr := e.funded("1000000", "M", "N")
	m, n := tr[0], tr[1]
	m.leverage("5")
	n.leverage("5")

	h0 := e.stateHash()
	if h0.Seq != 0 {
		t.Fatalf("seq %d in memory, want 0", h0.Seq)
	}
	if again := e.stateHash(); again != h0 {
		t.Fatalf("state hash %+v then %+v with nothing in between", h0, again)
	}
	if want := fmt.Sprintf("%016x", e.hash()); h0.Hash != want {
		t.Fatalf("state hash %s, StateHash %s", h0.Hash, want)
	}
	// A refused order (a price outside the band) changes nothing.
	r := m.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("100"), Qty: dec("1"), TIF: wire.GTC})
	if r.OK {
		t.Fatalf("an order at 100 with the index at 3000 was accepted: %+v", r.Order)
	}
	if h := e.stateHash(); h != h0 {
		t.Fatalf("state hash %s after a refused order, was %s", h.Hash, h0.Hash)
	}

	m.limit(wire.Sell, "3000", "2")
	h1 := e.stateHash()
	if h1.Hash == h0.Hash {
		t.Fatal("state hash unchanged by a resting order")
	}
	n.limit(wire.Buy, "3000", "1", wire.IOC)
	e.settledAudit()
	h2 := e.stateHash()
	if h2.Hash == h1.Hash || h2.Hash == h0.Hash {
		t.Fatalf("state hash %s unchanged by a trade (before %s, %s)", h2.Hash, h0.Hash, h1.Hash)
	}
	if again := e.stateHash(); again != h2 {
		t.Fatalf("state hash %+v then %+v with nothing in between", h2, again)
	}
	if want := fmt.Sprintf("%016x", e.hash()); h2.Hash != want {
		t.Fatalf("state hash %s, StateHash %s", h2.Hash, want)
	}
	bad := request[wire.StateHashReply](t, e.nc, e.subj.AdminStateHash(), `{"x":1}`)
	if bad.OK || bad.Error == nil || bad.Error.Code != wire.CodeBadRequest {
		t.Fatalf("state hash with a field: %+v", bad.Reply)
	}
}
