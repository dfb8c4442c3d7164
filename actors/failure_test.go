package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/wire"
)

// fail panics acct's actor through fn (run first, inside the actor) and
// waits until the supervisor has marked the account failed.
func (e *env) fail(acct string, fn func(a *accountActor)) {
	e.t.Helper()
	ent := e.x.accounts.get(e.x, acct)
	e.x.root.Send(ent.pid, &testHook{fn: func(a *accountActor) {
		fn(a)
		panic("injected")
	}})
	for deadline := time.Now().Add(5 * time.Second); !ent.failed.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s never failed", acct)
		}
	}
}

// failedAudit is audit for a run in which accounts failed on purpose: the
// same invariants, but the failed accounts are listed.
func (e *env) failedAudit(failed ...string) AuditReport {
	e.t.Helper()
	e.x.quiesce()
	r := call(e.t, func(d func(AuditReport)) { e.x.audit(d) })
	if !r.OK || r.OpenOrders != r.Resting || len(r.Failed) != len(failed) || r.FundReserved != 0 || r.Earmarked != 0 {
		e.t.Fatalf("audit failed: %s", r.String())
	}
	for i := range failed {
		if r.Failed[i] != failed[i] {
			e.t.Fatalf("failed %v, want %v", r.Failed, failed)
		}
	}
	for i := range r.Long {
		if r.Long[i] != r.Short[i] {
			e.t.Fatalf("open interest: %s", r.String())
		}
	}
	return r
}

// coverGivenBack waits for quiescence and checks that the one failed
// account holds no fund reservation or set-aside and that the fund still
// has fund, there for the next liquidation.
func (e *env) coverGivenBack(fund string) {
	e.t.Helper()
	e.x.quiesce()
	r := call(e.t, func(d func(AuditReport)) { e.x.audit(d) })
	if r.FundReserved != 0 || r.Earmarked != 0 || len(r.Failed) != 1 {
		e.t.Fatalf("cover held by the failed account: %s", r.String())
	}
	if !e.fundBalance().Equal(dec(fund)) {
		e.t.Fatalf("fund %s, want %s", e.fundBalance(), fund)
	}
}

// TestFailedCounterpartyDoesNotBlockADL: B, the top of the short ADL queue,
// fails. Its resting order leaves the book (nobody trades against it), its
// position leaves the ranking, and A's bankrupt long is deleveraged against
// the other shorts at its bankruptcy price, B untouched.
func TestFailedCounterpartyDoesNotBlockADL(t *testing.T) {
	e := newEnv(t, testSymbol(t, tsym, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"}))
	e.index(tsym, "3750")
	deps := map[string]string{"A": "150000", "B": "60000", "C": "1000000", "D": "1000000", "F": "1000000", "G": "1000000"}
	for _, a := range []string{"A", "B", "C", "D", "F", "G"} {
		e.deposit(a, deps[a])
		e.leverage(a, tsym, 5)
	}
	e.mustPlace("B", tsym, wire.Sell, "3750", "50")
	e.mustPlace("C", tsym, wire.Sell, "3750", "100")
	e.mustPlace("D", tsym, wire.Sell, "3750", "50")
	e.mustPlace("A", tsym, wire.Buy, "3750", "200", wire.IOC)
	e.mustPlace("G", tsym, wire.Sell, "3750", "100")
	e.mustPlace("F", tsym, wire.Buy, "3750", "100", wire.IOC)
	e.mustPlace("B", tsym, wire.Sell, "5000", "1")
	q := call(t, func(d func(wire.ADLQueueReply)) { e.x.ADLQueue(tsym, wire.ADLQueue{Side: wire.Short}, d) })
	if len(q.Queue) != 4 || q.Queue[0].Account != "B" {
		t.Fatalf("B should lead the short queue: %+v", q.Queue)
	}

	e.fail("B", func(*accountActor) {})
	e.x.quiesce()
	e.leverage("F", tsym, 1) // 5000 is a third above the mark
	if o := e.mustPlace("F", tsym, wire.Buy, "5000", "1", wire.IOC); o.Status == wire.StatusFilled {
		t.Fatal("F traded against the failed account's resting order")
	}
	q = call(t, func(d func(wire.ADLQueueReply)) { e.x.ADLQueue(tsym, wire.ADLQueue{Side: wire.Short}, d) })
	for _, p := range q.Queue {
		if p.Account == "B" {
			t.Fatalf("the failed account is still ranked: %+v", q.Queue)
		}
	}

	e.index(tsym, "3100")
	e.x.quiesce()
	if e.liquidations("A") != 1 || e.position("A", tsym) != nil {
		t.Fatal("A's liquidation did not finish")
	}
	var closed book.Lots
	for _, acct := range []string{"C", "D", "G"} {
		for _, ev := range e.rec.events(acct, wire.EventADL) {
			if !ev.ADL.Price.Equal(dec("3000")) {
				t.Fatalf("%s closed at %s", acct, ev.ADL.Price)
			}
			closed += book.Lots(ev.ADL.Qty.IntPart())
		}
	}
	if closed != 200 || len(e.rec.events("B", wire.EventADL)) != 0 {
		t.Fatalf("ADL closed %d of 200 among C, D, G; B's events %+v", closed, e.rec.events("B", wire.EventADL))
	}
	r := e.failedAudit("B")
	if r.Long[0] != 100 { // F's 100 against B's frozen 50 and the 50 shorts left
		t.Fatalf("open interest %s", r.String())
	}
}

// TestFailedLiquidationGivesBackCover: an account that fails in the middle
// of its own liquidation gives back the fund's reservation (granted before
// or after the failure) and the socialized-loss set-aside, so the cover
// stays available to everyone else.
func TestFailedLiquidationGivesBackCover(t *testing.T) {
	for _, c := range []struct {
		name string
		// held is the actor (fund or ADL) paused while A fails.
		held func(x *Exchange) *actor.PID
	}{
		// The reservation is in the fund's mailbox: granted after the failure.
		{"reservation granted after the failure", func(x *Exchange) *actor.PID { return x.fund }},
		// The fund reserved; A waits for the ADL actor's quote of the
		// winners' profit, answered after the failure.
		{"set-aside quoted after the failure", func(x *Exchange) *actor.PID { return x.adl }},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := socializedShortfallEnv(t)

			until := make(chan struct{})
			e.x.root.Send(c.held(e.x), &pauseMsg{until: until})
			e.index(tsym, "3100")
			var liquidating bool
			e.fail("A", func(a *accountActor) { liquidating = a.liq != nil })
			close(until)
			if !liquidating {
				t.Fatal("A was not liquidating when it failed")
			}
			e.coverGivenBack("1000")
			if p := e.position("B", tsym); p == nil || !p.Qty.Equal(dec("200")) {
				t.Fatalf("B was touched by a frozen liquidation: %+v", p)
			}
			// The failed account gets no more marks (nor funding).
			a := e.x.accounts.get(e.x, "A").id
			if subscribed := call(t, func(d func(bool)) {
				e.x.root.Send(e.x.symbol(tsym).pid, &symbolHook{fn: func(s *symbolActor) { d(s.subs[a] != nil) }})
			}); subscribed {
				t.Error("the symbol still sends the failed account its marks")
			}
		})
	}
}

// TestFailedLiquidationGivesBackEveryLegsSetAside: A, bankrupt with longs on
// two socialized-loss symbols, fails while both legs' set-aside quotes are
// with the (paused) ADL actor: both are answered after the failure and both
// are given back, so nothing stays earmarked and the winners are untouched.
func TestFailedLiquidationGivesBackEveryLegsSetAside(t *testing.T) {
	const aaa, bbb = "AAA-PERP", "BBB-PERP"
	tiers := [][2]string{{"600000", "0.03"}, {"1000000000", "0.10"}}
	e := newEnv(t, socializedSymbol(t, aaa, tiers...), socializedSymbol(t, bbb, tiers...))
	e.index(aaa, "3750")
	e.index(bbb, "3750")
	e.fundDeposit("1000")
	for acct, dep := range map[string]string{"A": "300000", "B": "1000000", "D": "1000000"} {
		e.deposit(acct, dep)
		e.leverage(acct, aaa, 5)
		e.leverage(acct, bbb, 5)
	}
	for _, sym := range []string{aaa, bbb} {
		e.mustPlace("B", sym, wire.Sell, "3750", "200")
		e.mustPlace("A", sym, wire.Buy, "3750", "200", wire.IOC)
		e.mustPlace("D", sym, wire.Buy, "2900", "200")
	}
	e.index(aaa, "3100")
	e.x.quiesce()

	until := make(chan struct{})
	e.x.root.Send(e.x.adl, &pauseMsg{until: until})
	e.index(bbb, "3100")
	// Wait until A asked for both legs' set-asides.
	pid := e.x.accounts.get(e.x, "A").pid
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		quotes := make(chan int, 1)
		e.x.root.Send(pid, &testHook{fn: func(a *accountActor) {
			if a.liq == nil {
				quotes <- 0
				return
			}
			quotes <- a.liq.SetAsidesDue()
		}})
		if <-quotes == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("A never asked for both set-asides")
		}
	}
	e.fail("A", func(*accountActor) {})
	close(until)
	e.coverGivenBack("1000")
	for _, sym := range []string{aaa, bbb} {
		if p := e.position("B", sym); p == nil || !p.Qty.Equal(dec("200")) {
			t.Fatalf("B was touched by a frozen liquidation on %s: %+v", sym, p)
		}
	}
}

// TestCancelAllAnswersWhenTheAccountFails: a cancel-all whose books answer
// after the account failed is answered INTERNAL, once, and the orders the
// books removed are off the account, so the audit still balances.
func TestCancelAllAnswersWhenTheAccountFails(t *testing.T) {
	e := newEnv(t, testSymbol(t, tsym, [2]string{"1000000000", "0.01"}))
	e.index(tsym, "1000")
	e.deposit("A", "10000")
	e.mustPlace("A", tsym, wire.Buy, "990", "1")
	e.mustPlace("A", tsym, wire.Buy, "980", "1")
	hold := make(chan struct{})
	e.x.root.Send(e.x.symbol(tsym).pid, &symbolHook{fn: func(*symbolActor) { <-hold }})
	replies := make(chan wire.CancelAllReply, 2)
	e.x.CancelAll("A", wire.CancelAll{}, func(r wire.CancelAllReply) { replies <- r })
	e.fail("A", func(*accountActor) {}) // after the cancel-all went to the held book
	close(hold)
	select {
	case r := <-replies:
		if r.OK || r.Error == nil || r.Error.Code != wire.CodeInternal {
			t.Fatalf("cancel-all of a failed account: %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancel-all was never answered")
	}
	e.failedAudit("A")
	select {
	case r := <-replies:
		t.Fatalf("answered twice: %+v", r)
	case <-time.After(20 * time.Millisecond):
	}
}

// socializedShortfallEnv: on a socialized symbol A is long 200 at 3750
// against B, the fund holds 1000, and the only bid (D's, 200 at 2900) is
// below A's bankruptcy price 3000, so A's liquidation at 3100 reserves all
// the fund has (1000 of the 20000 the sweep needs).
func socializedShortfallEnv(t *testing.T) *env { return bidBelowBankruptcy(t, "1000", "1000000") }

// bidBelowBankruptcy is socializedShortfallEnv with a fund of fund and B's
// deposit bDeposit.
func bidBelowBankruptcy(t *testing.T, fund, bDeposit string) *env {
	e := newEnv(t, socializedSymbol(t, tsym, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"}))
	e.index(tsym, "3750")
	if fund != "0" {
		e.fundDeposit(fund)
	}
	for acct, dep := range map[string]string{"A": "150000", "B": bDeposit, "D": "1000000"} {
		e.deposit(acct, dep)
		e.leverage(acct, tsym, 5)
	}
	e.mustPlace("B", tsym, wire.Sell, "3750", "200")
	e.mustPlace("A", tsym, wire.Buy, "3750", "200", wire.IOC)
	e.mustPlace("D", tsym, wire.Buy, "2900", "200")
	return e
}
