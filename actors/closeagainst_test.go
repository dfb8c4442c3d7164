package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// duelSymbol is liquidatingCounterparty's symbol: 1 lot at 1000 with
// leverage 50 liquidates at 984 (long, bankrupt at 980) or 1015 (short,
// bankrupt at 1020).
func duelSymbol(t *testing.T) *market.Symbol {
	return testSymbol(t, tsym, [2]string{"1000000000", "0.005"})
}

// slowADLRetry keeps a liquidation that found no counterparty waiting
// (quiesce does not wait for the timer, which never fires in a test).
func slowADLRetry(o *Options) { o.ADLRetry = time.Hour }

// duelists: A (20) is long 1 and E long 1 against B's short 2 (40), all
// at 1000 with leverage 50, no fund; ADL retries wait an hour.
func duelists(t *testing.T, j *memJournal) *env {
	e := newEnvOpts(t, j, nil, slowADLRetry, duelSymbol(t))
	e.index(tsym, "1000")
	e.deposit("A", "20")
	e.deposit("B", "40")
	e.deposit("E", "100000")
	e.openPosition("A", "B", wire.Buy, "1000", "1", 50)
	e.openPosition("E", "B", wire.Buy, "1000", "1", 50)
	return e
}

// pause holds acct's mailbox until the channel returned is closed.
func (e *env) pause(acct string) chan struct{} {
	held := make(chan struct{})
	e.x.root.Send(e.x.accounts.get(e.x, acct).pid, &pauseMsg{until: held})
	return held
}

// liquidatingCounterparty: the duelists' mark falls to 984 and A's
// liquidation takes over (its reservation held at the fund); it rises to
// 1015 and B's does too. B's IOC finds no bid and its ADL round closes E
// (A's position left the ranking), whose close waits in E's paused
// mailbox. A's IOC then finds no ask and its ADL round finds B's leg,
// offered: a forced close of 1 at 980 reaches B while B is itself
// liquidating, its round planned (onADLClose → liq.Machine.CloseAgainst,
// at once: no worse than B's own bankruptcy price 1020). It returns once
// A is let go, with the channel that lets E go.
func liquidatingCounterparty(t *testing.T, j *memJournal) (e *env, heldE chan struct{}) {
	e = duelists(t, j)
	fund := make(chan struct{})
	e.x.root.Send(e.x.fund, &pauseMsg{until: fund})
	e.index(tsym, "984")
	e.awaitLiq("A", "took over", func(*accountActor) bool { return true })
	heldA := e.pause("A") // its reservation waits there
	heldE = e.pause("E")  // B's close of E waits there
	e.index(tsym, "1015")
	e.awaitLiq("B", "took over", func(*accountActor) bool { return true })
	close(fund)
	e.awaitLiq("B", "planned its round against E", func(a *accountActor) bool {
		return strings.Contains(a.liq.Describe(), "planned true pending 1")
	})
	close(heldA)
	return e, heldE
}

// deferredCloseAgainst: as liquidatingCounterparty, but the ADL actor
// holds both legs' requests and serves them in one flush, the long side
// first: A's close reaches B before B's own plan, so B's machine defers it
// (CloseAgainst) and closes and answers it with the plan (liq.AnswerClose).
// It returns once the ADL actor is let go, with the channel that lets E
// go.
func deferredCloseAgainst(t *testing.T, j *memJournal) (e *env, heldE chan struct{}) {
	e = duelists(t, j)
	heldADL := make(chan struct{})
	e.x.root.Send(e.x.adl, &pauseMsg{until: heldADL})
	heldE = e.pause("E")
	offered := func(a *accountActor) bool { return a.liq.Legs[0].Offered() }
	e.index(tsym, "984")
	e.awaitLiq("A", "offered its leg to ADL", offered)
	e.index(tsym, "1015")
	e.awaitLiq("B", "offered its leg to ADL", offered)
	close(heldADL)
	return e, heldE
}

// closeAgainstCase is a run of setup in which B, the liquidating
// counterparty of A's forced close, fails at at (none: at < 0).
type closeAgainstCase struct {
	name  string
	setup func(*testing.T, *memJournal) (*env, chan struct{})
	at    FailAt
}

// runCloseAgainst runs c and checks what every such run must end with:
// A's leg closed by B (1 at 980) and A's liquidation settled, E's close of
// B's leg booked (on its frozen leg when B failed), B's liquidation
// settled or, B failed, quiet; B alone failed, open interest even at 0,
// money conserved, and a restart from the journal and from a snapshot
// with the live state hashes and audit.
func runCloseAgainst(t *testing.T, c closeAgainstCase) {
	var failed []string
	if c.at >= 0 {
		failed = []string{"B"}
		FailOrderForTest("B", c.at)
		defer FailOrderForTest("", 0)
	}
	j := &memJournal{}
	e, heldE := c.setup(t, j)
	e.awaitAccount("A", "settled", func(a *accountActor) bool { return a.liq == nil })
	if failed != nil {
		e.awaitFailed("B")
	}
	close(heldE)
	e.awaitAccount("B", "settled or quiet", func(a *accountActor) bool { return a.liq == nil || a.e.failed.Load() && a.liq.Quiet() })
	live := e.failedAudit(failed...)
	if live.Long[0] != 0 || live.Short[0] != 0 {
		t.Fatalf("open interest left: %s", live.String())
	}
	if ev := e.rec.events("A", wire.EventADL); len(ev) != 1 || ev[0].ADL.Counterparty != "B" || !ev[0].ADL.Qty.Equal(dec("1")) || !ev[0].ADL.Price.Equal(dec("980")) {
		t.Fatalf("A's leg not closed by B, 1 at 980: %+v", ev)
	}
	if failed == nil && !e.fundBalance().Equal(dec("40")) { // B's leg's gain on the close at 980
		t.Fatalf("fund %s, want 40", e.fundBalance())
	}
	e.snapshotRestartsAlike(j, slowADLRetry, failed, "900", duelSymbol(t))
}

// TestCloseAgainstALiquidatingCounterparty: A's forced close reaches B
// while B is liquidating, its own ADL round out (liquidatingCounterparty:
// closed at once) or not yet planned (deferredCloseAgainst: closed with
// the plan). B's leg closes 1 at A's bankruptcy price 980, and A's leg
// with it, so A's liquidation settles; E's close (let go after) closes the
// rest of B's leg at 1020 and B's settles. Open interest ends even at 0,
// money is conserved (the fund gets B's leg's 40 of the close at 980), and
// a restart from the journal and from a snapshot has the live state
// hashes and audit. No actors test reached CloseAgainst before.
func TestCloseAgainstALiquidatingCounterparty(t *testing.T) {
	for _, c := range []closeAgainstCase{{"at once", liquidatingCounterparty, -1}, {"deferred", deferredCloseAgainst, -1}} {
		t.Run(c.name, func(t *testing.T) { runCloseAgainst(t, c) })
	}
}

// TestLegCloseAnsweredOnceByAFailedLiquidatingCounterparty: B's leg books
// A's forced close (CloseAgainst, at once) and B panics before answering
// it (FailLegClosed: where mustOK stops B when the machine then refuses
// its settlement). The re-posted close is answered with what B's leg
// closed (1): A's leg closes and its liquidation settles, E's close is
// booked on B's frozen leg, which ends quiet. Before, the close booked on
// the leg was answered "nothing closed": A's leg kept the lot B's had
// closed (1 long against 0 short), its rounds retrying.
func TestLegCloseAnsweredOnceByAFailedLiquidatingCounterparty(t *testing.T) {
	runCloseAgainst(t, closeAgainstCase{"booked", liquidatingCounterparty, FailLegClosed})
}

// TestDeferredCloseAnsweredByAFailedLiquidatingCounterparty: B's leg
// closes A's deferred forced close as its own ADL plan comes in (liq's
// answerDeferred), and B panics before performing the answer
// (FailPlanStepped: where mustOK stops B when the rest of that Step then
// fails). Abandon hands the answer over with what the leg closed (1):
// A's leg closes and its liquidation settles, E's close is booked on B's
// frozen leg, which ends quiet. Before, giveBack answered every leftover
// close "nothing closed": A's leg kept the lot B's had closed (1 long
// against 0 short).
func TestDeferredCloseAnsweredByAFailedLiquidatingCounterparty(t *testing.T) {
	runCloseAgainst(t, closeAgainstCase{"deferred", deferredCloseAgainst, FailPlanStepped})
}
