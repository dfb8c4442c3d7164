package actors

import (
	"testing"

	"github.com/perpx/perpx/wire"
)

// TestIsolatedOpenBesideMarketCloseInFlight: alice, cross long 1 at 3750
// on 100000, sends a market sell of it (the TEST-PERP book is held, so it
// is on its way) and then an isolated OTHER-PERP buy of 750 margin. The
// buy's margin cannot move the bound of a close backed by 100000 anywhere
// near the market's, so it is placed.
func TestIsolatedOpenBesideMarketCloseInFlight(t *testing.T) {
	e := isolatedOther(t, "100000")
	e.mustPlace("bob", tsym, wire.Buy, "3700", "1")
	release := e.holdBook(tsym)
	m := e.placeAsync("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")})
	e.drained("alice")
	r := e.place("alice", otherSym, wire.Buy, "3750", "1")
	release()
	if s := <-m; !s.OK {
		t.Fatalf("market close: %+v", s.Reply)
	}
	if !r.OK {
		t.Fatalf("isolated open beside a market close on its way: %+v", r.Error)
	}
}
