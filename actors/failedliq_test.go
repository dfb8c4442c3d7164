package actors

import (
	"testing"
	"time"

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
	FailOrderForTest("any", FailCharged)
	defer FailOrderForTest("", 0)
	j := &memJournal{}
	e, before, held := escrowFromBAndCOn(t, j, "A", "B", "C", "D")
	e.awaitFailed("A")
	close(held)
	live := e.failedAudit("A")
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
	live = e.failedAudit("A")
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
