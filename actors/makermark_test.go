package actors

import (
	"testing"

	"github.com/perpx/perpx/wire"
)

// TestMakerFillTakesTheMark: erin's bid rested at mark 3750; the index
// fell to 3100 while she held nothing (no marks for her); carol's sell
// filled the bid at 3060. Her new long was valued at the mark of her
// placement, 690 in profit instead of 40, and she could withdraw the
// difference before the next tick: the fund paid when the tick came.
func TestMakerFillTakesTheMark(t *testing.T) {
	e := pairEnv(t, "100000")
	e.deposit("erin", "1000")
	e.leverage("erin", tsym, 5)
	e.leverage("carol", tsym, 5)
	e.mustPlace("erin", tsym, wire.Buy, "3060", "1")
	e.index(tsym, "3100")
	e.mustPlace("carol", tsym, wire.Sell, "3060", "1", wire.IOC)
	e.x.quiesce()
	p := e.position("erin", tsym)
	if p == nil || !p.MarkPrice.Equal(dec("3100")) || !p.UnrealizedPnL.Equal(dec("40")) {
		t.Fatalf("erin's long from a maker fill after the mark moved: %+v", p)
	}
	avail := e.state("erin").Available
	if r := e.withdraw("erin", avail.String()); !r.OK {
		t.Fatalf("withdraw the available %s: %+v", avail, r.Reply)
	}
	e.index(tsym, "3100")
	if a := e.audit(); !a.OK || a.Uncovered != 0 || e.liquidations("erin") != 0 {
		t.Fatalf("audit %s, erin liquidated %d times", a, e.liquidations("erin"))
	}
}
