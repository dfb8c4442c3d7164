package actors

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// resume asks for actor back in service.
func (e *env) resume(actor string) wire.ResumeReply {
	e.t.Helper()
	return call(e.t, func(d func(wire.ResumeReply)) { e.x.Resume(wire.Resume{Actor: actor}, d) })
}

// notResumable checks that resuming actor is refused with a message
// containing why.
func (e *env) notResumable(actor, why string) {
	e.t.Helper()
	r := e.resume(actor)
	if r.OK || r.Error.Code != wire.CodeNotResumable || !strings.Contains(r.Error.Message, why) {
		e.t.Fatalf("resume %s: %+v, want NOT_RESUMABLE saying %q", actor, r, why)
	}
}

// haltedByBoom: alice's place "boom" panics the book of tsym (before it
// touches the book: FailBook), after bob's bid rested; trading halts. The
// hook stays set until the test ends, so that a replay panics there too,
// as the same binary does.
func haltedByBoom(t *testing.T, j *memJournal) (e *env, bid *wire.Order) {
	e = pairEnvWith(t, j, "100000")
	for _, a := range []string{"alice", "bob"} {
		e.leverage(a, tsym, 5)
	}
	bid = e.mustPlace("bob", tsym, wire.Buy, "3700", "1")
	FailOrderForTest("boom", FailBook) // until the test ends: a replay panics there too
	t.Cleanup(func() { FailOrderForTest("", 0) })
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3800"), Qty: dec("1"), ClientOrderID: "boom"}); r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("the failing place: %+v", r)
	}
	refused(t, e, "bob")
	return e, bid
}

// TestResumeAFailedBook: the book that panicked (its state left sound) is
// resumed by admin.resume: trading resumes, bob's bid still rests and
// trades, the audit holds with no failure, and a restart from the journal
// (one and two workers) and from a snapshot taken after it rebuilds the
// same trading exchange. Before, a halted exchange stayed halted for good,
// across restarts too.
func TestResumeAFailedBook(t *testing.T) {
	j := &memJournal{}
	e, bid := haltedByBoom(t, j)
	book := "symbol-" + tsym
	e.notResumable("fund", "no part named")
	e.notResumable("", "no part named")
	if r := e.resume(book); !r.OK || r.Actor != book || r.Halted {
		t.Fatalf("resume: %+v", r)
	}
	e.notResumable(book, "in service")
	live := e.failedAudit()
	if len(live.Failures) != 0 || live.Halted {
		t.Fatalf("after the resume: %s", live.String())
	}
	if r := e.place("alice", tsym, wire.Sell, "3700", "1"); !r.OK || r.Order.Status != wire.StatusFilled {
		t.Fatalf("alice's sell after the resume: %+v", r)
	}
	if o := e.state("bob").OpenOrders; len(o) != 0 {
		t.Fatalf("bob's bid %s did not trade: %+v", bid.OrderID, o)
	}
	e.replaysAlike(j, func(r *env) {
		r.failedAudit()
		r.mustPlace("bob", tsym, wire.Buy, "3600", "1") // trading, not halted
	}, testSymbol(t, tsym, longTiers()...))
	e.snapshotRestartsAlike(j, nil, nil, "3650", testSymbol(t, tsym, longTiers()...))
}

// TestResumeRefusedWhenTheBookDisagrees: a failed book whose frozen state
// lost an order the account holds (as a panic mid-match could leave it)
// or holds it with another quantity stays out of service, saying which,
// and the exchange stays halted.
func TestResumeRefusedWhenTheBookDisagrees(t *testing.T) {
	for _, c := range []struct {
		name, why string
		edit      func(b *book.Book, id book.OrderID)
	}{
		{"lost", "it holds 0 orders, the accounts 1", func(b *book.Book, id book.OrderID) {
			var r book.Result
			b.Cancel(id, &r)
		}},
		{"moved", "is not in its book as the account holds it", func(b *book.Book, id book.OrderID) {
			o, _ := b.Order(id)
			var r book.Result
			if b.Amend(id, o.Price-1, o.Remaining, &r); r.Code != book.OK {
				panic(r.Code)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _ := haltedByBoom(t, nil)
			id := call(t, func(d func(book.OrderID)) {
				e.x.root.Send(e.x.accounts.get(e.x, "bob").pid, &testHook{fn: func(a *accountActor) { d(a.orders.Values()[0].id) }})
			})
			call(t, func(d func(bool)) {
				e.x.root.Send(e.x.symbols[0].pid, &anyHook{fn: func(a any) {
					c.edit(a.(*symbolActor).book, id)
					d(true)
				}})
			})
			e.notResumable("symbol-"+tsym, c.why)
			refused(t, e, "bob")
		})
	}
}

// quoteHeld: alice, long on two symbols, is about to be liquidated (the
// first symbol's index falls, after) while the second symbol's book is out
// of service (bob's place "boom" panics it, the hook left on), so her
// liquidation's coverage quote will wait held in it.
func quoteHeld(t *testing.T, j *memJournal) (*env, []*market.Symbol) {
	second := testSymbol(t, "SECOND-PERP", longTiers()...)
	syms := []*market.Symbol{testSymbol(t, tsym, longTiers()...), second}
	e := pairEnvWith(t, j, "2000", syms...)
	e.fundDeposit("100000")
	for _, s := range syms {
		for _, a := range []string{"alice", "bob", "carol"} {
			e.leverage(a, s.Name, 5)
		}
		e.mustPlace("bob", s.Name, wire.Sell, "3750", "1")
		e.mustPlace("alice", s.Name, wire.Buy, "3750", "1", wire.IOC)
	}
	e.mustPlace("carol", second.Name, wire.Buy, "3700", "1")
	FailOrderForTest("boom", FailBook)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	if r := e.send("bob", wire.PlaceOrder{Symbol: second.Name, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3800"), Qty: dec("1"), ClientOrderID: "boom"}); r.OK {
		t.Fatalf("the failing place: %+v", r)
	}
	return e, syms
}

// TestResumeDeliversWhatTheBookHeld: alice, long on two symbols, is
// liquidated (the first symbol's index falls) while the second symbol's
// book is out of service; the liquidation's coverage quote, which crosses
// both books, waits held in the failed one, and the liquidation with it.
// Resumed, the book takes the quote and the liquidation settles: money
// conserved, open interest even, and a restart from the journal and from
// a snapshot is the same exchange. Dropped, as before, the quote left the
// liquidation waiting for ever.
func TestResumeDeliversWhatTheBookHeld(t *testing.T) {
	j := &memJournal{}
	e, syms := quoteHeld(t, j)
	second := syms[1]
	e.index(tsym, "1500")
	e.x.quiesce()
	held := func() int { return e.heldBy(1) }
	if n := held(); n != 1 {
		t.Fatalf("the failed book holds %d messages, want the quote", n)
	}
	if r := call(t, func(d func(AuditReport)) { e.x.audit(d) }); r.Liquidating != 1 || !r.Halted {
		t.Fatalf("while halted: %s", r.String())
	}
	if got, want := newEnvWith(t, j.clone(), syms...).hashParts(), e.hashParts(); !maps.Equal(got, want) {
		t.Fatalf("replayed while halted: state differs in %v", diffHashes(got, want))
	}
	if r := e.resume("symbol-" + second.Name); !r.OK || r.Halted {
		t.Fatalf("resume: %+v", r)
	}
	e.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
	if n := held(); n != 0 {
		t.Fatalf("the resumed book still holds %d", n)
	}
	if p := e.position("alice", tsym); p != nil && !p.Qty.IsZero() {
		t.Fatalf("alice's %s position after her liquidation: %+v", tsym, p)
	}
	e.failedAudit()
	e.snapshotRestartsAlike(j, nil, nil, "1500", syms...)
}

// TestResumeRacingResume: two resumes of the same failed book at once:
// one brings it back, the other is NOT_RESUMABLE (in service), whichever
// step it had reached.
func TestResumeRacingResume(t *testing.T) {
	e, _ := haltedByBoom(t, &memJournal{})
	replies := make(chan wire.ResumeReply, 2)
	for range 2 {
		e.x.Resume(wire.Resume{Actor: "symbol-" + tsym}, func(r wire.ResumeReply) { replies <- r })
	}
	ok := 0
	for range 2 {
		r := <-replies
		switch {
		case r.OK:
			ok++
		case r.Error.Code != wire.CodeNotResumable || !strings.Contains(r.Error.Message, "in service"):
			t.Fatalf("the other resume: %+v", r)
		}
	}
	if ok != 1 {
		t.Fatalf("%d resumes succeeded, want 1", ok)
	}
	e.failedAudit()
}

// TestResumeRefusedWhenTheAuditFails: money that no longer adds up (here
// a deposits ledger off by one unit) keeps the book out, saying so.
func TestResumeRefusedWhenTheAuditFails(t *testing.T) {
	e, _ := haltedByBoom(t, nil)
	call(t, func(d func(bool)) {
		e.x.root.Send(e.x.accounts.get(e.x, "bob").pid, &testHook{fn: func(a *accountActor) { a.wallets[0].deposits++; d(true) }})
	})
	e.notResumable("symbol-"+tsym, "money not conserved")
	refused(t, e, "bob")
}

// replaysAlike restarts from j with one and two replay workers, checks
// that each has e's state and hands it to then.
func (e *env) replaysAlike(j *memJournal, then func(r *env), syms ...*market.Symbol) {
	e.t.Helper()
	want := e.hashParts()
	defer func(f func() int) { replayWorkers = f }(replayWorkers)
	for _, workers := range []int{1, 2} {
		replayWorkers = func() int { return workers }
		r := newEnvWith(e.t, j.clone(), syms...)
		if got := r.hashParts(); !maps.Equal(got, want) {
			e.t.Fatalf("%d workers: state differs in %v", workers, diffHashes(got, want))
		}
		then(r)
	}
}

// heldBy counts what the book of symbol i holds while out of service.
func (e *env) heldBy(i int) int {
	e.t.Helper()
	return call(e.t, func(d func(int)) {
		e.x.root.Send(e.x.symbols[i].pid, &anyHook{fn: func(a any) { d(len(a.(*symbolActor).held)) }})
	})
}

// TestResumeAfterAPanicOnAQuote: the book panics on alice's liquidation's
// coverage quote itself, and again on it once resumed (the same bug): the
// quote is held both times, and replays hold it alike; resumed with the
// bug gone, the book takes it and the liquidation settles, money
// conserved. Before, the quote the book panicked on was dropped (its
// supervisor re-posted only what it answers), so no resume could settle
// the liquidation: it waited for ever, its fund reservation with it.
func TestResumeAfterAPanicOnAQuote(t *testing.T) {
	j := &memJournal{}
	e := pairEnvWith(t, j, "2000")
	e.fundDeposit("100000")
	for _, a := range []string{"alice", "bob", "carol"} {
		e.leverage(a, tsym, 5)
	}
	e.mustPlace("bob", tsym, wire.Sell, "3750", "1")
	e.mustPlace("alice", tsym, wire.Buy, "3750", "1", wire.IOC)
	e.mustPlace("carol", tsym, wire.Buy, "3700", "1")
	FailOrderForTest(tsym, FailQuote) // until the test says: replays panic there too
	t.Cleanup(func() { FailOrderForTest("", 0) })
	e.index(tsym, "1500")
	e.x.quiesce()
	out := func(step string) { // out of service, the quote held, and replays alike
		t.Helper()
		e.x.quiesce()
		if n := e.heldBy(0); n != 1 {
			t.Fatalf("%s: the book holds %d messages, want the quote", step, n)
		}
		if r := call(t, func(d func(AuditReport)) { e.x.audit(d) }); r.Liquidating != 1 || !r.Halted || len(r.Failures) != 1 {
			t.Fatalf("%s: %s", step, r.String())
		}
		e.replaysAlike(j, func(*env) {}, testSymbol(t, tsym, longTiers()...))
	}
	out("failed")
	book := "symbol-" + tsym
	if r := e.resume(book); !r.OK || r.Halted {
		t.Fatalf("resume: %+v", r)
	}
	out("failed again on the re-posted quote")
	FailOrderForTest("", 0) // the bug fixed
	if r := e.resume(book); !r.OK || r.Halted {
		t.Fatalf("resume without the bug: %+v", r)
	}
	e.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
	if n := e.heldBy(0); n != 0 {
		t.Fatalf("the resumed book still holds %d", n)
	}
	live := e.failedAudit()
	snap, err := e.snapshotOnceQuiet()
	if err != nil {
		t.Fatalf("a snapshot after the resume: %v", err)
	}
	r := newEnvOpts(t, j.clone(), snap, nil, testSymbol(t, tsym, longTiers()...))
	if got, want := r.hashParts(), e.hashParts(); !maps.Equal(got, want) {
		t.Fatalf("from the snapshot: state differs in %v", diffHashes(got, want))
	}
	if a := r.failedAudit(); jsonOf(t, a) != jsonOf(t, live) {
		t.Fatalf("from the snapshot: audit\n%s\nlive\n%s", jsonOf(t, a), jsonOf(t, live))
	}
	r.mustPlace("bob", tsym, wire.Buy, "1400", "1")
}

// TestResumedBookFailsAgain: a resumed book that panics again (the same
// bug, another order) is out of service again, and a restart from the
// journal (one and two workers) rebuilds both failures and both resumes.
// Before, replay still counted the book failed from its first failure, so
// it took the second panic as a later one of a failed actor and then met
// the journal's record of that failure as one it had not replayed: the
// recovery stopped, and a follower for good.
func TestResumedBookFailsAgain(t *testing.T) {
	j := &memJournal{}
	e, _ := haltedByBoom(t, j)
	book := "symbol-" + tsym
	if r := e.resume(book); !r.OK {
		t.Fatalf("resume: %+v", r)
	}
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3900"), Qty: dec("1"), ClientOrderID: "boom"}); r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("the second failing place: %+v", r)
	}
	refused(t, e, "bob")
	e.replaysAlike(j, func(r *env) { refused(t, r, "bob") }, testSymbol(t, tsym, longTiers()...))
	if r := e.resume(book); !r.OK || r.Halted {
		t.Fatalf("the second resume: %+v", r)
	}
	e.mustPlace("alice", tsym, wire.Sell, "3700", "1")
	e.snapshotRestartsAlike(j, nil, nil, "3650", testSymbol(t, tsym, longTiers()...))
}

// TestResumeAfterAPanicOnAnArm: the book panics arming alice's stop: the
// re-posted arm is refused INTERNAL (her account forgets the order), and
// the book, holding no trace of it, resumes. Before, the arm was dropped:
// the place was never answered.
func TestResumeAfterAPanicOnAnArm(t *testing.T) {
	e := pairEnvWith(t, &memJournal{}, "100000")
	e.leverage("alice", tsym, 5)
	FailOrderForTest("boom", FailBook)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.StopMarket, TIF: wire.IOC, TriggerPrice: dec("3900"),
		Qty: dec("1"), ClientOrderID: "boom"}); r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("the failing stop: %+v", r)
	}
	refused(t, e, "alice")
	if r := e.resume("symbol-" + tsym); !r.OK || r.Halted {
		t.Fatalf("resume: %+v", r)
	}
	if o := e.state("alice").OpenOrders; len(o) != 0 {
		t.Fatalf("alice's open orders after the refused stop: %+v", o)
	}
	e.mustPlace("alice", tsym, wire.Buy, "3700", "1")
	e.failedAudit()
}

// TestResumeCrashCuts: the exchange of TestResumeDeliversWhatTheBookHeld,
// its journal cut at every record from a few before the resume to the
// liquidation's settlement: the restarted exchange is halted with the
// quote held before the resume's record (resumed then, it settles) and in
// service from it on, the re-posted quote delivered whether or not its
// record made it; alice's liquidation settles with every invariant held,
// and its journal replays to the same state.
func TestResumeCrashCuts(t *testing.T) {
	j := &memJournal{}
	e, syms := quoteHeld(t, j)
	e.index(tsym, "1500")
	e.x.quiesce()
	book := "symbol-" + syms[1].Name
	if r := e.resume(book); !r.OK {
		t.Fatalf("resume: %+v", r)
	}
	e.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
	live := e.failedAudit()
	at := slices.IndexFunc(j.recs, func(r memRecord) bool { return r.kind == recResume })
	if at < 0 {
		t.Fatal("no resume record")
	}
	for n := at - 3; n <= len(j.recs); n++ {
		p := j.prefix(n)
		r := newEnvWith(t, p, syms...)
		if n <= at { // the resume's record lost
			r.x.quiesce()
			if h := r.heldBy(1); h != 1 {
				t.Fatalf("cut at %d (resume at %d): the failed book holds %d", n, at+1, h)
			}
			if rr := r.resume(book); !rr.OK {
				t.Fatalf("cut at %d: resume: %+v", n, rr)
			}
		}
		r.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
		if a := r.failedAudit(); a.Assets[0].Fund != live.Assets[0].Fund {
			t.Fatalf("cut at %d: the fund %d, live %d", n, a.Assets[0].Fund, live.Assets[0].Fund)
		}
		want := r.hashParts()
		if got := newEnvWith(t, p.clone(), syms...).hashParts(); !maps.Equal(got, want) {
			t.Fatalf("cut at %d: its journal replays to another state: %v", n, diffHashes(got, want))
		}
	}
}

// TestResumePullsAFailedAccountsOrders: bob fails while the book holding
// his bid is out of service; his pull of it is held, and done when the
// book resumes: alice's sell at his price rests instead of trading with a
// failed account, open interest stays 0, and replays agree. Before, the
// failed book answered the pull "nothing canceled" and the resumed book
// kept his bid: alice's sell filled against it, a position for the failed
// account that nothing will ever liquidate.
func TestResumePullsAFailedAccountsOrders(t *testing.T) {
	j := &memJournal{}
	e, _ := haltedByBoom(t, j)
	e.x.root.Send(e.x.accounts.get(e.x, "bob").pid, &testHook{fn: func(*accountActor) { panic("injected") }})
	e.x.quiesce()
	e.replaysAlike(j, func(r *env) { refused(t, r, "alice") }, testSymbol(t, tsym, longTiers()...))
	e.resumesWithBobsBidPulled("bob's pull")
	if r := e.failedAudit("bob"); r.Long[0] != 0 || r.Resting != 1 {
		t.Fatalf("after the resume: %s", r.String())
	}
	e.replaysAlike(j, func(r *env) { r.failedAudit("bob") }, testSymbol(t, tsym, longTiers()...))
}

// TestResumeReplayedInItsPlace: an order placed right after a resume (the
// account's record follows the resume's) is accepted in every replay with
// two workers, as live, however far behind the worker running the book is
// (500 index ticks the failed book refused). Before, the worker running
// the account ran its record before the other ran the resume and refused
// it, the exchange still halted: the book's record of the order then named
// a message never sent and the recovery stopped (every replay here).
func TestResumeReplayedInItsPlace(t *testing.T) {
	j := &memJournal{}
	e, _ := haltedByBoom(t, j)
	e.busyBook(500)
	if r := e.resume("symbol-" + tsym); !r.OK {
		t.Fatalf("resume: %+v", r)
	}
	e.mustPlace("alice", tsym, wire.Sell, "3900", "1")
	e.replaysBehindTheBook(j)
}

// TestHaltReplayedInItsPlace: TestResumeReplayedInItsPlace's other half:
// the order alice places right after the book's failure is refused in
// every replay, as live. Before, the worker running her record could run it
// before the other ran the failure's record and accept it: the order went
// to the book in the recovery's end and the state differed.
func TestHaltReplayedInItsPlace(t *testing.T) {
	j := &memJournal{}
	e := pairEnvWith(t, j, "100000")
	e.leverage("bob", tsym, 5)
	e.busyBook(500)
	FailOrderForTest("boom", FailBook)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	e.send("bob", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3800"), Qty: dec("1"), ClientOrderID: "boom"})
	refused(t, e, "alice") // her records run on the other worker than the book's
	e.replaysBehindTheBook(j)
}

// busyBook gives the worker that runs the book in a replay n records
// (index ticks at the mark, refused by a failed book), so that it runs
// the records after them late.
func (e *env) busyBook(n int) {
	for range n {
		call(e.t, func(d func(wire.IndexReply)) { e.x.SetIndex(tsym, wire.IndexSet{Price: dec("3750")}, d) })
	}
}

// replaysBehindTheBook replays j five times with two workers: each must
// rebuild e's state.
func (e *env) replaysBehindTheBook(j *memJournal) {
	e.t.Helper()
	e.x.quiesce()
	want := e.hashParts()
	defer func(f func() int) { replayWorkers = f }(replayWorkers)
	replayWorkers = func() int { return 2 }
	for i := range 5 {
		if got := newEnvWith(e.t, j.clone(), testSymbol(e.t, tsym, longTiers()...)).hashParts(); !maps.Equal(got, want) {
			e.t.Fatalf("replay %d: state differs in %v", i, diffHashes(got, want))
		}
	}
}

// TestResumeTwoFailedBooks: both books fail (the first on a "boom" place,
// the second on an injected panic while trading is halted); resuming the first leaves trading halted by the second (orders
// on either refused, the audit naming the second), resuming the second
// lifts the halt, and a replay with two workers rebuilds each step.
func TestResumeTwoFailedBooks(t *testing.T) {
	j := &memJournal{}
	syms := []*market.Symbol{testSymbol(t, tsym, longTiers()...), testSymbol(t, "SECOND-PERP", longTiers()...)}
	e := pairEnvWith(t, j, "100000", syms...)
	FailOrderForTest("boom", FailBook)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	for _, s := range syms {
		e.leverage("alice", s.Name, 5)
		e.leverage("bob", s.Name, 5)
		e.mustPlace("bob", s.Name, wire.Buy, "3700", "1")
	}
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3800"), Qty: dec("1"), ClientOrderID: "boom"}); r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("the failing place: %+v", r)
	}
	e.x.root.Send(e.x.symbols[1].pid, &anyHook{fn: func(any) { panic("injected") }})
	e.x.quiesce()
	if r := e.resume("symbol-" + tsym); !r.OK || !r.Halted {
		t.Fatalf("the first resume: %+v", r)
	}
	refused(t, e, "carol")
	if a := call(t, func(d func(AuditReport)) { e.x.audit(d) }); !a.Halted || len(a.Failures) != 1 || a.Failures[0].Actor != "symbol-SECOND-PERP" {
		t.Fatalf("after the first resume: %s", a.String())
	}
	e.replaysAlike(j, func(r *env) { refused(t, r, "carol") }, syms...)
	if r := e.resume("symbol-SECOND-PERP"); !r.OK || r.Halted {
		t.Fatalf("the second resume: %+v", r)
	}
	for _, s := range syms {
		if r := e.place("alice", s.Name, wire.Sell, "3700", "1"); !r.OK || r.Order.Status != wire.StatusFilled {
			t.Fatalf("alice's sell on %s: %+v", s.Name, r)
		}
	}
	e.failedAudit()
	e.replaysAlike(j, func(r *env) { r.failedAudit() }, syms...)
}

// TestResumeDoesWhatTheDeadMansSwitchAsked: bob's dead man's switch fires
// while the book holding his bid is out of service; its cancel is held and
// done when the book resumes: alice's sell at his price then rests. Before,
// the failed book answered it "nothing canceled" and the resumed book
// filled his bid, which he had asked to pull.
func TestResumeDoesWhatTheDeadMansSwitchAsked(t *testing.T) {
	j := &memJournal{}
	e, _ := haltedByBoom(t, j)
	if r := call(t, func(d func(wire.CancelAllAfterReply)) {
		e.x.CancelAllAfter("bob", wire.CancelAllAfter{TimeoutMs: 1}, d)
	}); !r.OK {
		t.Fatalf("cancel_all_after: %+v", r.Reply)
	}
	e.awaitAccount("bob", "fired his switch", func(a *accountActor) bool { return a.deadman.timer == nil })
	e.resumesWithBobsBidPulled("bob's switch's cancel")
	if o := e.state("bob").OpenOrders; len(o) != 0 {
		t.Fatalf("bob's orders after his switch fired: %+v", o)
	}
	e.failedAudit()
	e.replaysAlike(j, func(r *env) { r.failedAudit() }, testSymbol(t, tsym, longTiers()...))
}

// resumesWithBobsBidPulled checks that the failed book of haltedByBoom
// holds one message (what: bob's cancel), resumes it and has alice sell at
// bob's bid: it rests, his bid pulled.
func (e *env) resumesWithBobsBidPulled(what string) {
	e.t.Helper()
	e.x.quiesce()
	if n := e.heldBy(0); n != 1 {
		e.t.Fatalf("the failed book holds %d messages, want %s", n, what)
	}
	if r := e.resume("symbol-" + tsym); !r.OK || r.Halted {
		e.t.Fatalf("resume: %+v", r)
	}
	if r := e.place("alice", tsym, wire.Sell, "3700", "1"); !r.OK || r.Order.Status != wire.StatusNew {
		e.t.Fatalf("alice's sell at bob's price: %+v", r)
	}
}

// TestHaltDecidedInJournalOrder: bob's order on a healthy book whose
// record comes after the failure record of another book, but which his
// account handles before the halt was marked (the supervisor held between
// the two), is refused as halted, live as in replay. Before, the halt was
// a flag set after the record: live it accepted and traded the order,
// replay refused it, and the recovery stopped on the book's record of a
// place never sent.
func TestHaltDecidedInJournalOrder(t *testing.T) {
	j := &memJournal{}
	second := testSymbol(t, "SECOND-PERP", longTiers()...)
	syms := []*market.Symbol{testSymbol(t, tsym, longTiers()...), second}
	e := pairEnvWith(t, j, "100000", syms...)
	for _, s := range syms {
		for _, a := range []string{"alice", "bob", "carol"} {
			e.leverage(a, s.Name, 5)
		}
	}
	e.mustPlace("carol", second.Name, wire.Sell, "3750", "1")
	inWindow, release := make(chan struct{}), make(chan struct{})
	hold := func() { close(inWindow); <-release }
	haltRecorded.Store(&hold)
	defer haltRecorded.Store(nil)
	FailOrderForTest("boom", FailBook)
	t.Cleanup(func() { FailOrderForTest("", 0) })
	go e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3800"), Qty: dec("1"), ClientOrderID: "boom"})
	<-inWindow
	haltRecorded.Store(nil)
	failure := j.Last()
	bob := make(chan wire.OrderReply, 1)
	go func() {
		bob <- e.send("bob", wire.PlaceOrder{Symbol: second.Name, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: dec("3750"), Qty: dec("1")})
	}()
	for j.Last() == failure { // bob's place is journaled, after the failure's record
		time.Sleep(time.Millisecond)
	}
	close(release)
	if r := <-bob; r.OK || r.Error.Code != wire.CodeInternal || !strings.Contains(r.Error.Message, "halted") {
		t.Fatalf("bob's order after the failure's record: %+v", r)
	}
	e.x.quiesce()
	if got, want := newEnvWith(t, j.clone(), syms...).hashParts(), e.hashParts(); !maps.Equal(got, want) {
		t.Fatalf("replayed: state differs in %v", diffHashes(got, want))
	}
}

// TestRulesRecorded: every start journals its rules' fingerprint with its
// Behaviour, and replay refuses the records after it under other rules
// (ErrRules), replays them under the same, and does not check when either
// side does not know its rules (0: journals of before, in-process tests);
// a snapshot carries them for the records after it.
// Before, a changed fee replayed an old record's trade under the new fee.
func TestRulesRecorded(t *testing.T) {
	j := &memJournal{}
	syms := []*market.Symbol{testSymbol(t, tsym, longTiers()...)}
	e := newEnvOpts(t, j, nil, func(o *Options) { o.Rules = 7 }, syms...)
	e.index(tsym, "3750")
	e.deposit("alice", "1000")
	e.x.quiesce()
	recover := func(rules uint64) error {
		x, err := Start(Options{Symbols: syms, Journal: j.clone(), Rules: rules})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Stop()
		_, err = x.Recover(j.clone().readFrom(1))
		return err
	}
	if err := recover(8); !errors.Is(err, ErrRules) || !strings.Contains(err.Error(), "0000000000000007") {
		t.Fatalf("under other rules: %v", err)
	}
	for _, rules := range []uint64{7, 0} {
		if err := recover(rules); err != nil {
			t.Fatalf("rules %d: %v", rules, err)
		}
	}
	// A snapshot carries the rules too: the records after a mid-run
	// snapshot, before any later version record, are checked by them.
	snap, seq, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.deposit("alice", "1")
	e.x.quiesce()
	fromSnap := func(rules uint64) error {
		x, err := Start(Options{Symbols: syms, Journal: j.clone(), Rules: rules})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Stop()
		if _, err := x.LoadSnapshot(snap); err != nil {
			t.Fatal(err)
		}
		_, err = x.Recover(j.clone().readFrom(seq + 1))
		return err
	}
	if err := fromSnap(8); !errors.Is(err, ErrRules) {
		t.Fatalf("after the snapshot, under other rules: %v", err)
	}
	if err := fromSnap(7); err != nil {
		t.Fatalf("after the snapshot: %v", err)
	}
}
