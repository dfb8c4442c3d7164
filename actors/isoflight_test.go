package actors

import (
	"strings"
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

// TestIsolatedLeverageRacesRestingClose: alice, cross long 1 at 3750 on
// 2000, rests an isolated OTHER-PERP buy at 3750 (750 reserved at 5×: the
// bankruptcy price it leaves is 2500) and a sell at 2600, within. Lowering
// OTHER-PERP's leverage to 4 raises the buy's margin to 937.5, which out
// of the cash puts the bankruptcy price at 2687.5, past the sell: accepted,
// bob's fill of the buy sent the sell's cancel behind carol's buy queued
// at the book, and the sell lost more than the cash left (the fund paid).
// It is refused like an isolated open that would do the same.
func TestIsolatedLeverageRacesRestingClose(t *testing.T) {
	e := isolatedOther(t, "2000")
	sell := e.mustPlace("alice", tsym, wire.Sell, "2600", "1")
	e.mustPlace("alice", otherSym, wire.Buy, "3750", "1")
	lev := call(t, func(d func(wire.LeverageReply)) {
		e.x.SetLeverage("alice", wire.Leverage{Symbol: otherSym, Leverage: dec("4")}, d)
	})
	release := e.holdBook(tsym)
	buy := e.takeBehind("2600")
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1", wire.IOC)
	e.raceAudit(release, buy)
	if lev.OK || lev.Error.Code != wire.CodeInsufficientMargin || !strings.Contains(lev.Error.Message, "order "+sell.OrderID+" ") {
		t.Fatalf("leverage that puts the sell past once the isolated buy fills: %+v", lev.Reply)
	}
}
