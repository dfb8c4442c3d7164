package actors

import (
	"testing"

	"github.com/perpx/perpx/wire"
)

// Adversarial scenarios, fifth round: isolated opening orders and resting
// closes held to each other, and what moves the cash after placement.

// TestIsolatedOpenTakesAboveItsMarginPrice: alice, cross long 1 at 3750
// on 2000 (bankrupt at 1750), rests a sell at 2500, and sells 1 isolated
// OTHER-PERP at 3750 (IOC): its margin price is the mark, 750 reserved,
// the sell exactly at the bound that leaves. Carol's bid at 5000 takes it:
// the fill's margin was 1000, the bound 2750, and carol's buy queued at the
// TEST-PERP book took the sell before its cancel: 250 uncovered once the
// short was liquidated. The fill now moves the 750 it reserved (its gain
// against the mark backs the rest), the sell stays within and fills at no
// one's cost.
func TestIsolatedOpenTakesAboveItsMarginPrice(t *testing.T) {
	e := isolatedOther(t, "2000")
	e.mustPlace("carol", otherSym, wire.Buy, "5000", "1")
	e.mustPlace("alice", tsym, wire.Sell, "2500", "1")
	release := e.holdBook(tsym)
	buy := e.takeBehind("2500")
	if o := e.place("alice", otherSym, wire.Sell, "3750", "1", wire.IOC); !o.OK || o.Order.Status != wire.StatusFilled {
		t.Fatalf("the isolated sell: %+v", o.Reply)
	}
	if p := e.position("alice", otherSym); p == nil || !p.Margin.Equal(dec("750")) {
		t.Fatalf("alice's isolated short %+v, want 750 of margin", p)
	}
	e.raceAudit(release, buy)
	if p := e.position("alice", tsym); p != nil {
		t.Fatalf("carol's buy did not take the sell, within: alice %+v", p)
	}
}

// TestIsolatedClosesFillIntoOpen: the reservation of an isolated side
// that both closes and opens is its notional pro rata, but the book fills
// a long's lowest sells first, so the lots that open are the dearest.
// Alice (cross long 1 at 3750 on 2000 once her isolated OTHER-PERP long 2
// at 3750 took 1500) rests OTHER-PERP sells of 2 at 3001 (closing) and 1
// at 5625 (opening): 875 reserved pro rata (the sells at the mark), her
// TEST-PERP sell at 2630 within. Carol swept the three: the open's margin
// was 1125, the bound 2873, and carol's buy queued at the TEST-PERP book
// took the sell before its cancel, 243 uncovered. An isolated side now
// reserves its notional less the closing lots at its cheapest (1125): the
// sell at 2630 is refused, one at 2875 (the bound then) fills at no one's
// cost.
func TestIsolatedClosesFillIntoOpen(t *testing.T) {
	e := isolatedOther(t, "3500")
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "2")
	e.mustPlace("alice", otherSym, wire.Buy, "3750", "2", wire.IOC)
	e.mustPlace("alice", otherSym, wire.Sell, "3001", "2")
	e.mustPlace("alice", otherSym, wire.Sell, "5625", "1")
	e.closeRefused(e.place("alice", tsym, wire.Sell, "2630", "1"))
	e.mustPlace("alice", tsym, wire.Sell, "2875", "1")
	release := e.holdBook(tsym)
	buy := e.takeBehind("2875")
	e.mustPlace("carol", otherSym, wire.Buy, "5625", "3", wire.IOC)
	e.raceAudit(release, buy)
	if p := e.position("alice", tsym); p != nil {
		t.Fatalf("carol's buy did not take the sell, within: alice %+v", p)
	}
}
