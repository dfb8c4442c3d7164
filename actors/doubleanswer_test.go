package actors

import (
	"fmt"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// failedAnswerCase is a run in which account fails at at (FailOrderForTest)
// on a forced close or an ADL answer of A's liquidation (longAgainstB with
// no fund: A's bankrupt long goes to ADL against B's short).
type failedAnswerCase struct {
	name, account string
	at            FailAt
}

// runFailedAnswer runs c and checks what every such run must end with:
// the failed account alone failed, B's close booked on both sides (open
// interest even at 0), money conserved, and a restart from the journal
// and from a snapshot (once the abandoned liquidation, if any, is quiet)
// with the live state hashes and audit.
func runFailedAnswer(t *testing.T, c failedAnswerCase, ended func(e *env)) {
	FailOrderForTest(c.account, c.at)
	defer FailOrderForTest("", 0)
	j := &memJournal{}
	e := longAgainstBOn(t, j, nil, "0")
	e.index(tsym, "3100")
	e.awaitFailed(c.account)
	ended(e)
	live := e.failedAudit(c.account)
	if live.Long[0] != 0 || live.Short[0] != 0 {
		t.Fatalf("B's close booked on one side only: %s", live.String())
	}
	e.snapshotRestartsAlike(j, nil, []string{c.account}, "3000", testSymbol(t, tsym, longTiers()...))
}

// snapshotRestartsAlike takes a snapshot once the abandoned liquidations
// are quiet, journals records after it (C deposits, bids 1 at bid) and
// checks restartsAlike with the failed accounts.
func (e *env) snapshotRestartsAlike(j *memJournal, opts func(*Options), failed []string, bid string, syms ...*market.Symbol) {
	e.t.Helper()
	snap, err := e.snapshotOnceQuiet()
	if err != nil {
		e.t.Fatalf("a snapshot: %v", err)
	}
	e.deposit("C", "100000") // records after the snapshot
	e.leverage("C", tsym, 5)
	e.mustPlace("C", tsym, wire.Buy, bid, "1")
	e.restartsAlike(j, snap, opts, e.failedAudit(failed...), failed, syms...)
}

// TestForcedCloseAnsweredOnceByAFailedCounterparty: B, the counterparty of
// A's ADL round, panics on A's forced close after risk booked it (its
// short closed at A's bankruptcy price), before or after answering it.
// The re-posted close is answered with what B's frozen state closed (1),
// or not again: A's leg closes and its liquidation settles, open interest
// stays even (0 against 0) and money is conserved. Before, the close booked
// and not answered was answered "nothing closed" (A's leg kept the lot B
// closed: 1 long against 0 short, A's rounds retried forever), and one
// answered was answered again (A, settled, failed on a close for no leg).
func TestForcedCloseAnsweredOnceByAFailedCounterparty(t *testing.T) {
	for _, c := range []failedAnswerCase{{"booked", "B", FailADLClosed}, {"answered", "B", FailADLAnswered}} {
		t.Run(c.name, func(t *testing.T) {
			runFailedAnswer(t, c, func(e *env) {
				e.awaitAccount("A", "settled", func(a *accountActor) bool { return a.liq == nil })
			})
		})
	}
}

// TestForcedCloseAcknowledgedTwiceByAFailedCounterparty: B panics between
// its acknowledgement of A's forced close to the ranking and its answer
// (FailADLAcked). The re-posted close is answered with what B closed (1),
// and acknowledged again: harmless, as the second acknowledgement comes
// with B's position 0 (a failed account is off the ranking), so the
// promise it takes off can put back no lots, and the ranking ends
// without B and with nothing promised of it. A's leg closes and its
// liquidation settles, open interest stays even, money is conserved.
func TestForcedCloseAcknowledgedTwiceByAFailedCounterparty(t *testing.T) {
	runFailedAnswer(t, failedAnswerCase{"acknowledged", "B", FailADLAcked}, func(e *env) {
		e.awaitAccount("A", "settled", func(a *accountActor) bool { return a.liq == nil })
		e.x.quiesce()
		id := e.x.accounts.get(e.x, "B").id
		got := call(t, func(d func(string)) {
			e.x.root.Send(e.x.adl, &anyHook{fn: func(aa any) {
				rk := aa.(*adlActor).ranks[0]
				_, ranked := rk.Position(id)
				d(fmt.Sprintf("ranked %v promised %d", ranked, rk.Promised(id)))
			}})
		})
		if got != "ranked false promised 0" {
			t.Fatalf("the ranking holds of B: %s", got)
		}
	})
}

// TestADLAnswerCountedByAFailedLiquidation: A panics on its ADL round's
// plan or on B's close before its liquidation counted it (FailADLPlan,
// FailADLFilled). Its supervisor re-posts it, and the abandoned machine
// counts it as it counts those that come later: B's close is booked on
// A's frozen leg (open interest 0 against 0, money conserved) and the
// machine ends quiet, so a snapshot keeps it. Before, neither was
// re-posted: a lost close left A's leg with the lot B closed (1 long
// against 0 short), a lost plan left the machine never quiet (every
// snapshot refused).
func TestADLAnswerCountedByAFailedLiquidation(t *testing.T) {
	for _, c := range []failedAnswerCase{{"plan", "A", FailADLPlan}, {"close", "A", FailADLFilled}} {
		t.Run(c.name, func(t *testing.T) {
			runFailedAnswer(t, c, func(e *env) {
				e.awaitAccount("A", "quiet", func(a *accountActor) bool { return a.liq != nil && a.liq.Quiet() })
			})
		})
	}
}

// TestChargeAnsweredOnceByAFailedWinner: B pays its share of A's
// socialized liquidation's escrow, answers, and panics after
// (FailChargeAnswered). The re-posted charge is not answered again: A's
// round counts B's answer once, and C's payment (held in C's paused
// mailbox until then) and D's bid end A's liquidation. Money is
// conserved and a restart from the journal and from a snapshot has the
// live state hashes and audit. Before, B answered
// again, paid 0: A's round counted a second answer (and B's whole share
// unpaid), A failed too and 5124.48 went missing from the audit.
func TestChargeAnsweredOnceByAFailedWinner(t *testing.T) {
	e, j, _ := escrowFailing(t, "B", "B", FailChargeAnswered)
	e.awaitAccount("A", "settled", func(a *accountActor) bool { return a.liq == nil })
	e.failedAudit("B")
	snap, _, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatalf("a snapshot: %v", err)
	}
	e.mustPlace("D", tsym, wire.Buy, "2800", "1")
	live := e.failedAudit("B")
	e.restartsAlike(j, snap, nil, live, []string{"B"}, escrowSymbol(t))
}

// escrowFailing is escrowFromBAndCOn (A, B, C, D) on a new journal with
// FailOrderForTest(cid, at) until the test ends: it returns once acct
// failed, C's payment let go.
func escrowFailing(t *testing.T, acct, cid string, at FailAt) (e *env, j *memJournal, before map[string]decimal.Decimal) {
	FailOrderForTest(cid, at)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	j = &memJournal{}
	e, before, held := escrowFromBAndCOn(t, j, "A", "B", "C", "D")
	e.awaitFailed(acct)
	close(held)
	return e, j, before
}

// TestAdjustmentAnsweredOnceByAFailedCounterparty: bob closed alice's leg
// by ADL before a funding time the leg then paid (as
// TestLegFundingAfterTheADLRound, empty fund), pays the 0.305 back as an
// adjustment of his close, answers, and panics after (FailAdjustAnswered).
// The re-posted adjustment is not answered again: alice's liquidation
// counts bob's answer once and settles, nothing uncovered, money
// conserved, and a restart from the journal and from a snapshot has the
// live state hashes and audit. Before, bob answered again, moving 0:
// alice's liquidation took a second answer and alice failed too (a
// receipt would have been held for bob twice).
func TestAdjustmentAnsweredOnceByAFailedCounterparty(t *testing.T) {
	FailOrderForTest("bob", FailAdjustAnswered)
	defer FailOrderForTest("", 0)
	e, j, sym := fundingPair(t, "750")
	until := e.holdADLRequest(false)
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3050") // a funding time, the ADL request held
	close(until)
	e.awaitFailed("bob")
	e.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
	if a := e.failedAudit("bob"); a.Uncovered != 0 {
		t.Fatalf("audit %s", a.String())
	}
	snap, _, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatalf("a snapshot: %v", err)
	}
	e.leverage("carol", tsym, 5) // records after the snapshot
	e.mustPlace("carol", tsym, wire.Buy, "3000", "1")
	live := e.failedAudit("bob")
	e.restartsAlike(j, snap, nil, live, []string{"bob"}, sym)
}
