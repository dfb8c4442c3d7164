package actors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
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
func refused(t testing.TB, e *env, acct string) {
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
		replayPanics(t, j, fmt.Sprintf("tail %v", tail))
	}
}

// replayPanics checks that j's recovery, on one worker and two, stops on a
// replay's panic (what: the case, for the message).
func replayPanics(t *testing.T, j *memJournal, what string) {
	t.Helper()
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
			t.Fatalf("%s, %d workers: recovery ended with %v, want the replay's panic", what, workers, err)
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

// holdLog is a slog.Handler that holds the goroutine logging a message
// starting with prefix (the first time) until release closes: to stop the
// account supervisor between the record of a failure and the rest.
type holdLog struct {
	prefix           string
	entered, release chan struct{}
	once             sync.Once
}

func newHoldLog(prefix string) *holdLog {
	return &holdLog{prefix: prefix, entered: make(chan struct{}), release: make(chan struct{})}
}

func (h *holdLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *holdLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *holdLog) WithGroup(string) slog.Handler            { return h }
func (h *holdLog) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, h.prefix) {
		h.once.Do(func() {
			close(h.entered)
			<-h.release
		})
	}
	return nil
}

// TestSnapshotWaitsForTheSupervisor: a snapshot taken while alice's
// supervisor handles her panic (it has journaled recFailed, not yet taken
// her out of service nor posted what she answers) is refused as busy.
// Before, the panicking message was counted out of flight before the
// supervisor ran, so the snapshot found nothing in flight and kept her as
// a working account after the record of her failure: the exchange
// restored from it let her trade.
func TestSnapshotWaitsForTheSupervisor(t *testing.T) {
	h := newHoldLog("actors: account actor panicked")
	j := &memJournal{}
	e := newEnvOpts(t, j, nil, func(o *Options) { o.Logger = slog.New(h) }, testSymbol(t, tsym, longTiers()...))
	e.index(tsym, "3750")
	e.deposit("alice", "100000")
	e.leverage("alice", tsym, 5)
	FailOrderForTest("boom", FailPlace)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	reply := make(chan wire.OrderReply, 1)
	e.x.PlaceOrder("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: dec("3700"), Qty: dec("1"), ClientOrderID: "boom"},
		func(r wire.OrderReply) { reply <- r })
	<-h.entered
	snap, _, err := e.x.Snapshot(0)
	close(h.release)
	if r := <-reply; r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("the failing place: %+v", r)
	}
	e.failedAudit("alice")
	if err == nil {
		rec := newEnvFrom(t, j.clone(), snap, testSymbol(t, tsym, longTiers()...))
		refused(t, rec, "alice")
		t.Fatal("a snapshot was taken while the supervisor handled the failure")
	}
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("the snapshot during the failure: %v, want ErrBusy", err)
	}
}

// TestReplayPanicNotTheRecordedFailure: live, alice's place was refused
// (insufficient margin) and her actor then panicked on a message the
// journal does not hold (recFailed names no record); replay panics on the
// place instead. That panic is not the recorded failure: recovery stops
// on it (ErrReplayPanic), on one worker and two. Before, recFailed's
// "no record" confirmed whatever panic was held.
func TestReplayPanicNotTheRecordedFailure(t *testing.T) {
	j := &memJournal{}
	e := pairEnvWith(t, j, "100")
	e.leverage("alice", tsym, 5)
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: dec("3700"), Qty: dec("1"), ClientOrderID: "boom"}); r.OK {
		t.Fatalf("alice's place beyond her margin: %+v", r)
	}
	e.fail("alice", func(*accountActor) {})
	e.failedAudit("alice")
	PanicOnReplayForTest("boom")
	t.Cleanup(func() { PanicOnReplayForTest("") })
	replayPanics(t, j, "a failure on no record")
}

// TestCrashAfterTheFailureRecord: the exchange stops right after the
// record of alice's failure, before she handled what her supervisor
// posted her (the re-posted result she panicked on, the failure notice:
// messages of no actor's handler, which replay does not rebuild). The
// restarted exchange posts them as the supervisor did: it ends as the live
// one did, her resting orders pulled. Before, it never did: her orders
// rested in the book for anyone to trade against, and the order she
// panicked on stayed open on her side.
func TestCrashAfterTheFailureRecord(t *testing.T) {
	j, live, want, cut := aliceFailsOnBoom(t, FailResult)
	defer func(f func() int) { replayWorkers = f }(replayWorkers)
	for _, workers := range []int{1, 2} {
		replayWorkers = func() int { return workers }
		rec := newEnvWith(t, j.prefix(cut+1), testSymbol(t, tsym, longTiers()...))
		a := rec.failedAudit("alice")
		if got := rec.hashParts(); !maps.Equal(got, want) {
			t.Fatalf("%d workers: state %v, want %v", workers, got, want)
		}
		if jsonOf(t, a) != jsonOf(t, live) {
			t.Fatalf("%d workers: audit\n%s\nlive\n%s", workers, jsonOf(t, a), jsonOf(t, live))
		}
	}
}

// bobSelling is a durable pair env in which alice and bob trade at
// leverage 5 and bob offers 1 at 3750.
func bobSelling(t *testing.T) (*memJournal, *env) {
	j := &memJournal{}
	e := pairEnvWith(t, j, "100000")
	for _, a := range []string{"alice", "bob"} {
		e.leverage(a, tsym, 5)
	}
	e.mustPlace("bob", tsym, wire.Sell, "3750", "1")
	return j, e
}

// TestFailureOnARedeliveredMessage: the exchange stopped while the book's
// result of alice's order, filled against bob, was in flight to her; the
// restart delivers it (in an envelope naming the book) and her actor
// panics on it. Her supervisor answers it as any (the failed account holds
// her side of the fills). Before, it saw the envelope, neither a request
// nor a protocol message, and the fills bob booked were lost on her side.
// The restarted exchange's journal replays to it.
func TestFailureOnARedeliveredMessage(t *testing.T) {
	j, e := bobSelling(t)
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: dec("3750"), Qty: dec("1"), ClientOrderID: "boom"}); !r.OK {
		t.Fatalf("alice's place: %+v", r)
	}
	e.x.quiesce()
	alice := actorAccount + uint32(e.x.accounts.get(e.x, "alice").id)
	j.mu.Lock()
	place := slices.IndexFunc(j.recs, func(r memRecord) bool {
		return r.kind == recPlace && r.actor == alice && bytes.Contains(r.payload, []byte("boom"))
	})
	result := place + 1 + slices.IndexFunc(j.recs[place+1:], func(r memRecord) bool { return r.actor == alice })
	j.mu.Unlock()
	if place < 0 || result <= place {
		t.Fatalf("alice's place at %d, its result at %d", place, result)
	}
	FailOrderForTest("boom", FailResult)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	jj := j.prefix(result)
	rec := newEnvWith(t, jj, testSymbol(t, tsym, longTiers()...))
	rec.awaitAccount("alice", "failed", func(a *accountActor) bool { return a.e.failed.Load() })
	rec.failedAudit("alice")
	// Its journal replays to it.
	again := newEnvWith(t, jj.clone(), testSymbol(t, tsym, longTiers()...))
	if got, want := again.hashParts(), rec.hashParts(); !maps.Equal(got, want) {
		t.Fatalf("replayed: %v, want %v", got, want)
	}
}

// TestSnapshotWaitsForTheFailureNotice: alice failed, and the notice her
// supervisor posted her (recFailedNotice: pull her orders, give back what
// she held for others) is queued behind a message she is handling. A
// snapshot then is refused as busy. Before, the notice was not counted in
// flight: the snapshot was taken, and after a crash right after it the
// restarted exchange never had her handle it (no record of it follows the
// snapshot, and a snapshot's failed account has nothing pending): her sell
// rested on in the book.
func TestSnapshotWaitsForTheFailureNotice(t *testing.T) {
	j, e := bobSelling(t)
	e.mustPlace("alice", tsym, wire.Sell, "3800", "1") // rests: pulled when she fails
	pid := e.x.accounts.get(e.x, "alice").pid
	paused, until := make(chan struct{}), make(chan struct{})
	e.fail("alice", func(*accountActor) {
		e.x.root.Send(pid, &testHook{fn: func(*accountActor) { close(paused); <-until }}) // ahead of the notice
	})
	<-paused
	snap, seq, err := e.x.Snapshot(0)
	close(until)
	live := e.failedAudit("alice")
	if err == nil {
		rec := newEnvFrom(t, j.prefix(int(seq)), snap, testSymbol(t, tsym, longTiers()...))
		if a := rec.failedAudit("alice"); a.Resting != live.Resting {
			t.Fatalf("restarted after the snapshot: %d orders resting, live %d", a.Resting, live.Resting)
		}
		t.Fatal("a snapshot was taken with the failure notice queued")
	}
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("the snapshot with the notice queued: %v, want ErrBusy", err)
	}
}

// TestReplaySoakWithFailures is the replay soak with accounts failing as it
// trades: every place with client order id c4 (a few hundred in a run,
// from any account, in any state: resting orders, positions, liquidations
// in flight, ADL) panics its account on the place, or on the book's result
// of it. The journal replayed on one worker and on two, and a snapshot
// taken at the end plus nothing after it, give the live state hashes and
// audit (the failures, what is held for them). The snapshot is taken also
// when accounts failed in their liquidation, once those are quiet (before,
// none could be: "no snapshot" was logged), and when one failed in a
// partial liquidation, which ends with its order's result (before, that
// refused every snapshot).
func TestReplaySoakWithFailures(t *testing.T) {
	names := map[FailAt]string{FailPlace: "place", FailResult: "result", FailLiquidation: "liquidation",
		FailBooked: "liquidation's fills booked", FailPartial: "partial liquidation"}
	for _, at := range []FailAt{FailPlace, FailResult, FailLiquidation, FailBooked, FailPartial} {
		t.Run(names[at], func(t *testing.T) {
			FailOrderForTest("c4", at)
			defer FailOrderForTest("", 0)
			j := &memJournal{}
			syms := partialDemo()
			s := soakRun(t, j, syms, 8, "1000000", 17)
			s.e.x.quiesce()
			live := call(t, func(d func(AuditReport)) { s.e.x.audit(d) })
			// Liquidations come as the run's timing makes them: how many
			// fail in one (none, under -race at times) is logged below.
			if !live.OK || len(live.Failed) < 2 && at <= FailResult {
				t.Fatalf("live: %s", live.String())
			}
			abandoned, partial := s.e.failedLiquidating(live.Failed)
			t.Logf("%d accounts failed, %d in a liquidation, %d in a partial one", len(live.Failed), abandoned, partial)
			snap, err := s.e.snapshotOnceQuiet()
			switch {
			case err != nil || partial != 0:
				t.Fatalf("no snapshot (%d partial liquidations not ended): %v", partial, err)
			case at == FailLiquidation && abandoned == 0:
				t.Fatal("no account failed in its liquidation")
			}
			s.e.x.quiesce() // the retries' timers of the abandoned liquidations fired meanwhile
			live = call(t, func(d func(AuditReport)) { s.e.x.audit(d) })
			want := s.e.hashParts()
			defer func(f func() int) { replayWorkers = f }(replayWorkers)
			for _, from := range []string{"journal, 1 worker", "journal, 2 workers", "snapshot"} {
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

// failedLiquidating counts the failed accounts that hold an abandoned
// liquidation, and those that failed in a partial one.
func (e *env) failedLiquidating(failed []string) (abandoned, partial int) {
	e.t.Helper()
	for _, acct := range failed {
		e.awaitAccount(acct, "answered", func(a *accountActor) bool {
			if a.liq != nil {
				abandoned++
			}
			if a.partial != nil {
				partial++
			}
			return true
		})
	}
	return abandoned, partial
}

// snapshotOnceQuiet takes a snapshot, trying again while it is refused as
// busy (an abandoned liquidation waits for its retry's timer, which
// quiesce does not wait for: at most 1024 retries' worth) for up to 5 s.
func (e *env) snapshotOnceQuiet() ([]byte, error) {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		snap, _, err := e.x.Snapshot(time.Second)
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			return snap, err
		}
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

// TestFailureOnACancelAnswer: alice's actor panics on her book's answer to
// her cancel; the failed account answers it (INTERNAL) and forgets the
// order the book no longer holds, and a restart does the same. Before, the
// supervisor refused it in place, and alice kept the order: one open order
// more than the books held, for good.
func TestFailureOnACancelAnswer(t *testing.T) {
	j := &memJournal{}
	e := pairEnvWith(t, j, "100000")
	e.leverage("alice", tsym, 5)
	o := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: dec("3700"), Qty: dec("1"), ClientOrderID: "boom"})
	if !o.OK {
		t.Fatalf("alice's bid: %+v", o)
	}
	FailOrderForTest("boom", FailCanceled)
	defer FailOrderForTest("", 0)
	r := call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: tsym, ClientOrderID: "boom"}, d)
	})
	if r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("the cancel: %+v", r)
	}
	live := e.failedAudit("alice")
	want := e.hashParts()
	rec := newEnvWith(t, j.clone(), testSymbol(t, tsym, longTiers()...))
	if got := rec.hashParts(); !maps.Equal(got, want) {
		t.Fatalf("replayed: state %v, want %v", got, want)
	}
	if a := rec.failedAudit("alice"); jsonOf(t, a) != jsonOf(t, live) {
		t.Fatalf("replayed: audit %s, live %s", jsonOf(t, a), jsonOf(t, live))
	}
}

// TestCrashBeforeTheFailureRecord: the exchange stopped after the record
// alice's actor panicked on and before the record of her failure. The
// journal's last record of hers panics in replay and nothing confirms it;
// as the binary is the journal's (the handlers are deterministic), the
// live actor panicked there too: recovery takes her out of service as her
// supervisor would have, journals the failure and posts what it would
// have posted, so the recovered exchange is the live one, and so is one
// recovered from its journal again. Before, recovery stopped
// (ErrReplayPanic), and a cluster with it for good.
func TestCrashBeforeTheFailureRecord(t *testing.T) {
	for _, at := range []FailAt{FailPlace, FailResult} {
		j, live, want, cut := aliceFailsOnBoom(t, at)
		defer func(f func() int) { replayWorkers = f }(replayWorkers)
		for _, workers := range []int{1, 2} {
			replayWorkers = func() int { return workers }
			crashed := j.prefix(cut)
			for round := range 2 { // the crashed journal, then what recovering it appended
				jj := crashed.clone()
				rec := newEnvWith(t, jj, testSymbol(t, tsym, longTiers()...))
				a := rec.failedAudit("alice")
				if got := rec.hashParts(); !maps.Equal(got, want) {
					t.Fatalf("%v, %d workers, round %d: state %v, want %v", at, workers, round, got, want)
				}
				if jsonOf(t, a.Failures) != jsonOf(t, live.Failures) || a.String() != live.String() {
					t.Fatalf("%v, %d workers, round %d: audit\n%s\nlive\n%s", at, workers, round, jsonOf(t, a), jsonOf(t, live))
				}
				refused(t, rec, "alice")
				crashed = jj
			}
		}
	}
}

// aliceFailsOnBoom: bob sells, alice buys 1 and rests a sell (pulled when
// she fails), then her order "boom" fails her at at (on for the test). It
// returns the journal, the live audit and state, and where the journal
// records her failure.
func aliceFailsOnBoom(t *testing.T, at FailAt) (j *memJournal, live AuditReport, want map[string]uint64, failure int) {
	t.Helper()
	j, e := bobSelling(t)
	e.mustPlace("alice", tsym, wire.Buy, "3750", "1", wire.IOC)
	e.mustPlace("alice", tsym, wire.Sell, "3800", "1")
	FailOrderForTest("boom", at)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: dec("3700"), Qty: dec("1"), ClientOrderID: "boom"}); r.OK {
		t.Fatalf("the failing place: %+v", r)
	}
	live, want = e.failedAudit("alice"), e.hashParts()
	j.mu.Lock()
	failure = slices.IndexFunc(j.recs, func(r memRecord) bool { return r.kind == recFailed })
	j.mu.Unlock()
	if failure < 0 {
		t.Fatal("no record of the failure")
	}
	return j, live, want, failure
}

// TestFailedShortfall: alice fails holding a 5x long; the mark then falls
// past her bankruptcy price. Her frozen equity at the mark is below zero,
// a loss nobody covers while she is out of service (bob's profit is only
// on paper): the audit reports it as the failed shortfall, exactly, and
// nothing while her equity is positive. Before, the audit showed nothing
// of it (conservation holds: her negative unrealized PnL is counted).
func TestFailedShortfall(t *testing.T) {
	e := pairEnv(t, "1000")
	for _, a := range []string{"alice", "bob"} {
		e.leverage(a, tsym, 5)
	}
	e.mustPlace("bob", tsym, wire.Sell, "3750", "1")
	e.mustPlace("alice", tsym, wire.Buy, "3750", "1", wire.IOC)
	cash := e.state("alice").Balances["USDT"]
	e.fail("alice", func(*accountActor) {})
	if r := e.failedAudit("alice"); r.Assets[0].FailedShortfall != 0 {
		t.Fatalf("shortfall %v at the entry", r.Assets[0].FailedShortfall)
	}
	e.index(tsym, "2500")
	r := e.failedAudit("alice")
	want := cash.Add(dec("2500")).Sub(dec("3750")).Neg() // her equity at 2500, below zero
	if got := r.Wire(e.x.symbols).FailedShortfall; !got.Equal(want) || !want.IsPositive() {
		t.Fatalf("failed shortfall %s, want %s", got, want)
	}
}
