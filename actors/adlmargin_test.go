package actors

import (
	"testing"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// TestMarginMoveReranksCross: margin moved into an isolated position comes
// out of the cash behind the account's cross positions, so their ADL
// leverage rises; the ranking heard only of the isolated symbol, and a
// deleverage ranked the cross long by collateral it no longer had.
func TestMarginMoveReranksCross(t *testing.T) {
	e := isolatedOther(t, "3000") // alice: a cross long of 1 at 3750, 5x
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1")
	if o := e.mustPlace("alice", otherSym, wire.Buy, "3750", "1", wire.IOC); o.Status != wire.StatusFilled {
		t.Fatalf("isolated open: %+v", o)
	}
	leverage := func() decimal.Decimal {
		e.x.quiesce()
		q := call(t, func(d func(wire.ADLQueueReply)) { e.x.ADLQueue(tsym, wire.ADLQueue{Side: wire.Long}, d) })
		for _, en := range q.Queue {
			if en.Account == "alice" {
				return en.Leverage
			}
		}
		t.Fatalf("alice not in the long queue: %+v", q)
		return decimal.Zero
	}
	before := leverage()
	if r := e.positionMarginIn("alice", otherSym, "1000"); !r.OK {
		t.Fatalf("add margin: %+v", r.Reply)
	}
	if after := leverage(); !after.GreaterThan(before) {
		t.Fatalf("the cross long's ADL leverage %s after 1000 of its cash moved to the isolated margin, %s before", after, before)
	}
	if a := e.audit(); !a.OK {
		t.Fatalf("audit %s", a)
	}
}
