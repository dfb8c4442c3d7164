package actors

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// TestFailedAccountSurvivesRestart: alice's actor panics (a broken
// invariant, FailOrderForTest) on her place, or on her order's result from
// the book (a protocol message she then answers, recRepost); she is out of
// service, her resting order pulled, and the others trade on. The journal
// replayed, on one worker and on two, rebuilds that exchange: the same
// state, alice failed for the same reason and refused, the others trading.
// Before, recovery refused to start on her record (ErrReplayPanic), and
// her answers, which the book and bob had journaled, were never sent.
func TestFailedAccountSurvivesRestart(t *testing.T) {
	for _, c := range []struct {
		name string
		at   FailAt
	}{{"place", FailPlace}, {"result", FailResult}} {
		t.Run(c.name, func(t *testing.T) {
			j := &memJournal{}
			e := pairEnvWith(t, j, "100000")
			for _, a := range []string{"alice", "bob", "carol"} {
				e.leverage(a, tsym, 5)
			}
			e.mustPlace("bob", tsym, wire.Sell, "3750", "3")
			e.mustPlace("alice", tsym, wire.Buy, "3750", "1", wire.IOC)
			e.mustPlace("alice", tsym, wire.Sell, "3800", "1") // rests: pulled when she fails
			FailOrderForTest("boom", c.at)
			t.Cleanup(func() { FailOrderForTest("", 0) })
			// It rests: a result without fills (those a failed account drops).
			r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: dec("3700"), Qty: dec("1"), ClientOrderID: "boom"})
			if r.OK || r.Error.Code != wire.CodeInternal {
				t.Fatalf("the failing place: %+v", r)
			}
			refused(t, e, "alice")
			e.mustPlace("carol", tsym, wire.Buy, "3750", "1", wire.IOC)
			e.mustPlace("carol", tsym, wire.Buy, "3790", "1") // alice's sell was pulled: it rests
			live := e.failedAudit("alice")
			want := e.hashParts()

			// A snapshot keeps her failed (before, none could be taken, so a
			// new version, which needs the journal to end at one, could not
			// start on it).
			snap, _, err := e.x.Snapshot(time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer func(f func() int) { replayWorkers = f }(replayWorkers)
			for _, from := range []string{"journal, 1 worker", "journal, 2 workers", "snapshot"} {
				workers := 1 + strings.Count(from, "2")
				replayWorkers = func() int { return workers }
				var s []byte
				if from == "snapshot" {
					s = snap
				}
				rec := newEnvFrom(t, j.clone(), s, testSymbol(t, tsym, longTiers()...))
				if got := rec.hashParts(); !maps.Equal(got, want) {
					t.Fatalf("from the %s: state %v, want %v", from, got, want)
				}
				a := rec.failedAudit("alice")
				if jsonOf(t, a) != jsonOf(t, live) {
					t.Fatalf("from the %s: audit\n%s\nlive\n%s", from, jsonOf(t, a), jsonOf(t, live))
				}
				refused(t, rec, "alice")
				rec.mustPlace("bob", tsym, wire.Sell, "3790", "1", wire.IOC) // takes carol's bid
				rec.failedAudit("alice")
			}
		})
	}
}

// refused checks that acct's requests are answered INTERNAL.
func refused(t *testing.T, e *env, acct string) {
	t.Helper()
	if r := e.place(acct, tsym, wire.Buy, "3000", "1"); r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("%s's place after the failure: %+v", acct, r)
	}
}

// TestUnrecordedReplayPanicStops: a panic replay meets that the journal
// does not record (the live exchange handled the record: another version
// of the code, or a bug that depends on more than the journal) still stops
// the recovery, naming the record and the panic, however many records
// follow (here, the book's record of the message the panic never sent).
func TestUnrecordedReplayPanicStops(t *testing.T) {
	for _, tail := range []bool{false, true} {
		j := &memJournal{}
		e := pairEnvWith(t, j, "100000")
		for _, a := range []string{"alice", "bob", "carol"} {
			e.leverage(a, tsym, 5)
		}
		e.mustPlace("bob", tsym, wire.Sell, "3750", "3")
		PanicOnReplayForTest("boom")
		t.Cleanup(func() { PanicOnReplayForTest("") })
		e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: dec("3750"), Qty: dec("1"), ClientOrderID: "boom"})
		if tail {
			e.mustPlace("alice", tsym, wire.Buy, "3000", "1")
		}
		e.x.quiesce()
		defer func(f func() int) { replayWorkers = f }(replayWorkers)
		for _, workers := range []int{1, 2} {
			replayWorkers = func() int { return workers }
			jj := j.clone()
			x, err := Start(Options{Symbols: []*market.Symbol{testSymbol(t, tsym, longTiers()...)}, Journal: jj})
			if err != nil {
				t.Fatal(err)
			}
			_, err = x.Recover(jj.read)
			x.Stop()
			if !errors.Is(err, ErrReplayPanic) {
				t.Fatalf("tail %v, %d workers: recovery ended with %v, want the replay's panic", tail, workers, err)
			}
		}
	}
}

// TestFailureAfterTheReplyAnswersOnce: alice's actor panics after it
// answered her order (here in the reply itself, as it would starting a
// liquidation after the fills); the result re-posted to the failed
// account is not answered a second time. Before, it was, INTERNAL after
// the OK.
func TestFailureAfterTheReplyAnswersOnce(t *testing.T) {
	e := pairEnv(t, "100000")
	e.leverage("alice", tsym, 5)
	e.leverage("bob", tsym, 5)
	e.mustPlace("bob", tsym, wire.Sell, "3750", "1")
	replies := make(chan wire.OrderReply, 2)
	e.x.PlaceOrder("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.IOC, Price: dec("3750"), Qty: dec("1")},
		func(r wire.OrderReply) {
			replies <- r
			if len(replies) == 1 {
				panic("test: after the reply")
			}
		})
	e.awaitAccount("alice", "failed", func(a *accountActor) bool { return a.e.failed.Load() })
	e.x.quiesce()
	if r := <-replies; !r.OK || len(replies) != 0 {
		t.Fatalf("alice's order answered %+v, then %d more times", r, len(replies))
	}
}

// TestReplaySoakWithFailures is the replay soak with accounts failing as it
// trades: every place with client order id c4 (a few hundred in a run,
// from any account, in any state: resting orders, positions, liquidations
// in flight, ADL) panics its account on the place, or on the book's result
// of it. The journal replayed on one worker and on two, and a snapshot
// taken at the end plus nothing after it, give the live state hashes and
// audit (the failures, what is held for them).
func TestReplaySoakWithFailures(t *testing.T) {
	for _, at := range []FailAt{FailPlace, FailResult} {
		t.Run(map[FailAt]string{FailPlace: "place", FailResult: "result"}[at], func(t *testing.T) {
			FailOrderForTest("c4", at)
			defer FailOrderForTest("", 0)
			j := &memJournal{}
			syms := partialDemo()
			s := soakRun(t, j, syms, 8, "1000000", 17)
			s.e.x.quiesce()
			live := call(t, func(d func(AuditReport)) { s.e.x.audit(d) })
			if !live.OK || len(live.Failed) < 2 {
				t.Fatalf("live: %s", live.String())
			}
			t.Logf("%d accounts failed", len(live.Failed))
			want := s.e.hashParts()
			snap, _, err := s.e.x.Snapshot(time.Second)
			if err != nil {
				t.Logf("no snapshot: %v", err) // an account failed in its liquidation
			}
			defer func(f func() int) { replayWorkers = f }(replayWorkers)
			for _, from := range []string{"journal, 1 worker", "journal, 2 workers", "snapshot"} {
				if from == "snapshot" && snap == nil {
					continue
				}
				workers := 1 + strings.Count(from, "2")
				replayWorkers = func() int { return workers }
				var p []byte
				if from == "snapshot" {
					p = snap
				}
				r := newEnvFrom(t, j.clone(), p, syms...)
				if got := r.hashParts(); !maps.Equal(got, want) {
					t.Fatalf("from the %s: state %v, want %v", from, got, want)
				}
				r.x.quiesce()
				a := call(t, func(d func(AuditReport)) { r.x.audit(d) })
				if jsonOf(t, a) != jsonOf(t, live) {
					t.Fatalf("from the %s: audit\n%s\nlive\n%s", from, jsonOf(t, a), jsonOf(t, live))
				}
			}
		})
	}
}

// TestHaltedExchangeSurvivesRestart: the book panics on alice's place (a
// shared actor: trading halts, its place and later ones refused INTERNAL,
// the failed book refusing cancels); the journal replayed, on one worker
// and on two, rebuilds that halted exchange: the same state, the same
// failure, orders still refused. Before, recovery refused to start.
func TestHaltedExchangeSurvivesRestart(t *testing.T) {
	j := &memJournal{}
	e := pairEnvWith(t, j, "100000")
	for _, a := range []string{"alice", "bob"} {
		e.leverage(a, tsym, 5)
	}
	bid := e.mustPlace("bob", tsym, wire.Buy, "3700", "1")
	FailOrderForTest("boom", FailBook)
	defer FailOrderForTest("", 0)
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3800"), Qty: dec("1"), ClientOrderID: "boom"}); r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("the failing place: %+v", r)
	}
	halted := func(e *env) {
		t.Helper()
		refused(t, e, "bob")
		r := call(t, func(d func(wire.OrderReply)) {
			e.x.CancelOrder("bob", wire.Cancel{Symbol: tsym, OrderID: bid.OrderID}, d)
		})
		if r.OK || r.Error.Code != wire.CodeInternal {
			t.Fatalf("bob's cancel on the failed book: %+v", r)
		}
	}
	halted(e)
	e.x.quiesce()
	live := call(t, func(d func(AuditReport)) { e.x.audit(d) })
	if !live.Halted || len(live.Failures) != 1 {
		t.Fatalf("live: %s", jsonOf(t, live))
	}
	want := e.hashParts()
	if _, _, err := e.x.Snapshot(time.Second); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("a snapshot of a halted exchange: %v", err)
	}
	defer func(f func() int) { replayWorkers = f }(replayWorkers)
	for _, workers := range []int{1, 2} {
		replayWorkers = func() int { return workers }
		r := newEnvWith(t, j.clone(), testSymbol(t, tsym, longTiers()...))
		if got := r.hashParts(); !maps.Equal(got, want) {
			t.Fatalf("%d workers: state %v, want %v", workers, got, want)
		}
		r.x.quiesce()
		if a := call(t, func(d func(AuditReport)) { r.x.audit(d) }); jsonOf(t, a) != jsonOf(t, live) {
			t.Fatalf("%d workers: audit\n%s\nlive\n%s", workers, jsonOf(t, a), jsonOf(t, live))
		}
		halted(r)
	}
}
