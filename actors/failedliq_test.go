package actors

import (
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// awaitFailed waits until acct's actor has failed.
func (e *env) awaitFailed(acct string) {
	e.t.Helper()
	e.awaitAccount(acct, "failed", func(a *accountActor) bool { return a.e.failed.Load() })
}

// TestPaymentBookedBeforeTheFailureRefundedOnce: A's socialized
// liquidation books B's payment into its escrow, and A panics on that
// answer after (FailCharged). Its supervisor re-posts the answer to the
// failed account; Abandon already refunds every payment the machine
// booked, B's included, so the re-posted one must not be refunded again
// (C's, paid after the failure, is refunded as it comes). B and C get
// back exactly what they paid, the audit balances, and a restart from the
// journal and from a snapshot (once the abandoned liquidation is quiet)
// gives the same state and audit. Before, B was refunded twice.
func TestPaymentBookedBeforeTheFailureRefundedOnce(t *testing.T) {
	e, j, before := escrowFailing(t, "A", "any", FailCharged)
	e.failedAudit("A")
	for acct, b := range before {
		if got := e.state(acct).Balances["USDT"]; !got.Equal(b) {
			t.Errorf("%s's balance %s, %s before its payment into A's escrow", acct, got, b)
		}
	}
	snap, err := e.snapshotOnceQuiet()
	if err != nil {
		t.Fatalf("a snapshot once A's abandoned liquidation is quiet: %v", err)
	}
	e.mustPlace("D", tsym, wire.Buy, "2800", "1") // a record after the snapshot
	live := e.failedAudit("A")
	e.restartsAlike(j, snap, nil, live, []string{"A"}, escrowSymbol(t))
}

// TestIOCFillsBookedBeforeTheFailureCountOnce: A's liquidation IOC sells
// into D's bid at 2990 and A panics on the result after its liquidation
// booked the fill on its leg (which settled it: FailBooked). The re-posted
// result finds no liquidation order any more; its fill was booked, so
// nothing of it is held for A as an own fill of the failed account. Open
// interest stays even (B short 1, D long 1), the audit balances, and a
// restart from the journal and from a snapshot gives the same state and
// audit. Before, the fill was held too: A short 1 more, 1 long against 2
// short.
func TestIOCFillsBookedBeforeTheFailureCountOnce(t *testing.T) {
	FailOrderForTest("any", FailBooked)
	defer FailOrderForTest("", 0)
	j := &memJournal{}
	e := longAgainstBWithDOn(t, j)
	e.mustPlace("D", tsym, wire.Buy, "2990", "1")
	e.index(tsym, "3100")
	e.awaitFailed("A")
	live := e.failedAudit("A")
	if live.Long[0] != 1 || live.Short[0] != 1 || live.HeldFills[0].Fills != 0 {
		t.Fatalf("the IOC's fill counted twice: %s", live.String())
	}
	if p := e.position("D", tsym); p == nil || !p.Qty.Equal(dec("1")) {
		t.Fatalf("D's bid did not take the IOC: %+v", p)
	}
	snap, _, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatalf("a snapshot: %v", err)
	}
	e.mustPlace("D", tsym, wire.Buy, "2800", "1")
	live = e.failedAudit("A")
	e.restartsAlike(j, snap, nil, live, []string{"A"}, testSymbol(t, tsym, longTiers()...))
}

// TestFailedPartialLiquidationEnds: A (2000, leverage 10) is long 20 at
// 1000 against B on a symbol that liquidates partially; at 926 it sends
// its reduce order (sell 10, no worse than 900) and panics (FailPartial).
// D's bid at 920 takes the order; its result reaches the failed account,
// which holds the fill beside its frozen state and ends the partial
// liquidation: the book is done with its order and nothing more can
// come. A snapshot then keeps A, and a restart from the journal and from
// it has the same state and audit. Before, the partial liquidation never
// ended and every later snapshot was refused.
func TestFailedPartialLiquidationEnds(t *testing.T) {
	FailOrderForTest("any", FailPartial)
	defer FailOrderForTest("", 0)
	j := &memJournal{}
	sym := func() *market.Symbol {
		s := testSymbol(t, tsym, [2]string{"10000", "0.01"}, [2]string{"1000000", "0.05"})
		s.PartialLiquidation = true
		return s
	}
	e := newEnvWith(t, j, sym())
	e.index(tsym, "1000")
	e.deposit("A", "2000")
	e.deposit("B", "100000")
	e.deposit("D", "100000")
	e.leverage("D", tsym, 10)
	e.openPosition("A", "B", wire.Buy, "1000", "20", 10)
	e.mustPlace("D", tsym, wire.Buy, "920", "10")
	e.index(tsym, "926")
	e.awaitFailed("A")
	live := e.failedAudit("A")
	if f := live.HeldFills[0]; f.Sell != 10 || f.Buy != 0 {
		t.Fatalf("the reduce order's fill is not held for A: %s", live.String())
	}
	snap, _, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatalf("a snapshot after A's partial liquidation's result: %v", err)
	}
	e.mustPlace("D", tsym, wire.Buy, "900", "1")
	live = e.failedAudit("A")
	e.restartsAlike(j, snap, nil, live, []string{"A"}, sym())
}
