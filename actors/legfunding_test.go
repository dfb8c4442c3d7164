package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// TestLegFundingEmptyFund: alice's long (bankrupt at 3000) is taken over at
// 3050 with the fund empty, and two funding times pass while the
// liquidation holds the leg (its reservation held back here, as a leg
// waiting for an ADL counterparty can wait). Each payment, 0.305, joins
// the liquidation and moves the leg's bankruptcy price up a tick, so bob,
// the short that was paid, closes it by ADL at 3002: nothing is uncovered
// and the audit holds, in adl and socialized mode. Before, the fund paid
// the leg's funding from what it held: 0.61 uncovered. The exchange is
// durable: a replay of the journal reaches the same state.
func TestLegFundingEmptyFund(t *testing.T) {
	for _, mode := range []string{"adl", "socialized"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(tsym, longTiers()...)
			on := true
			cfg.Funding = &on
			if mode == "socialized" {
				cfg.ADLMode = "socialized"
			}
			sym := compileSymbol(t, cfg)
			j := &memJournal{}
			e := pairEnvWith(t, j, "750", sym)
			e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
			until := make(chan struct{})
			e.x.root.Send(e.x.fund, &pauseMsg{until: until}) // the liquidation waits for its reservation
			e.index(tsym, "3050")
			for range 2 {
				e.clk.advance(8 * time.Hour)
				e.index(tsym, "3050") // a funding time: longs pay shorts
			}
			close(until)
			a := e.audit()
			if !a.OK || a.Uncovered != 0 || a.Liquidating != 0 {
				t.Fatalf("audit %s", a)
			}
			if got := e.rec.events("bob", wire.EventFunding); len(got) != 2 {
				t.Fatalf("bob's funding %+v", got)
			}
			e.legClosedAt("bob", "3002")
			if b := e.fundBalance(); b.IsNegative() {
				t.Fatalf("fund %s", b)
			}
			want := e.hash()
			if got := newEnvWith(t, j.clone(), sym).hash(); got != want {
				t.Fatalf("replay: state hash %x, want %x", got, want)
			}
		})
	}
}

// TestLegFundingAfterTheADLRound: the funding time passes while alice's
// ADL request is out (the ADL actor held): its close is booked at the
// price it was sent with, 3000, and closes the whole leg, so no price is
// left to move. bob, who closed it, was paid 0.305 on the lot and pays it
// back as a price adjustment of his close (an "adl" event of qty 0, a
// realized_pnl income row, not a socialized_loss charge), as a close at the price the payment moved would have
// (liq.AdjustClose): the fund neither pays nor gets anything, the winners
// pay nothing, nothing is uncovered, with the fund holding 1000 or
// nothing, in adl and socialized mode; the exchange is durable and a
// replay of its journal reaches the same state. Before, the payment stayed
// in the liquidation's deficit: the fund paid it from what it held
// (999.695), the winners on a socialized symbol, and with an empty fund in
// adl mode nobody (0.305 uncovered).
func TestLegFundingAfterTheADLRound(t *testing.T) {
	for _, mode := range []string{"adl", "socialized"} {
		for _, fund := range []string{"0", "1000"} {
			t.Run(mode+"/fund="+fund, func(t *testing.T) {
				cfg := testConfig(tsym, longTiers()...)
				on := true
				cfg.Funding = &on
				cfg.ADLMode = mode
				sym := compileSymbol(t, cfg)
				j := &memJournal{}
				e := pairEnvWith(t, j, "750", sym)
				if fund != "0" {
					e.fundDeposit(fund)
				}
				e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
				until := e.holdADLRequest(mode == "socialized")
				e.clk.advance(8 * time.Hour)
				e.index(tsym, "3050") // a funding time, the ADL request held
				close(until)
				a := e.audit()
				if !a.OK || a.Uncovered != 0 || a.Liquidating != 0 {
					t.Fatalf("audit %s", a)
				}
				if f := e.rec.events("bob", wire.EventFunding); len(f) != 1 || !f[0].Funding.Payment.Equal(dec("0.305")) {
					t.Fatalf("bob's funding %+v", f)
				}
				adl := e.rec.events("bob", wire.EventADL)
				if len(adl) != 2 || !adl[0].ADL.Price.Equal(dec("3000")) || !adl[0].ADL.Qty.Equal(dec("1")) ||
					!adl[1].ADL.Qty.IsZero() || !adl[1].ADL.RealizedPnL.Equal(dec("-0.305")) {
					t.Fatalf("bob's ADL events %+v, want a close at 3000 and an adjustment of -0.305", adl)
				}
				// The adjustment's row (a socialized-loss charge would show
				// the same event, but as a socialized_loss row).
				rows := e.income("bob", wire.IncomeQuery{})
				if r := rows[len(rows)-1]; r.Type != wire.IncomeRealizedPnL || r.Info != "adl" || !r.Amount.Equal(dec("-0.305")) {
					t.Fatalf("bob's last income row %+v, want the adjustment", r)
				}
				if b := e.fundBalance(); !b.Equal(dec(fund)) {
					t.Fatalf("fund %s, want %s", b, fund)
				}
				want := e.hash()
				if got := newEnvWith(t, j.clone(), sym).hash(); got != want {
					t.Fatalf("replay: state hash %x, want %x", got, want)
				}
			})
		}
	}
}

// holdADLRequest liquidates alice's long at 3050 and holds the ADL actor
// once her leg's ADL request is on its way to it: the IOC's answer came
// (funding before it would move the price the request goes out at); close
// the channel returned to let it go. On a socialized symbol the ADL actor
// first answers the leg's set-aside while the book holds the IOC, so the
// request finds it held again.
func (e *env) holdADLRequest(social bool) chan struct{} {
	e.t.Helper()
	until := make(chan struct{})
	e.x.root.Send(e.x.adl, &pauseMsg{until: until})
	e.index(tsym, "3050")
	if social {
		e.awaitLiq("alice", "asked for its set-aside", func(a *accountActor) bool { return a.liq.SetAsidesDue() > 0 })
		book := make(chan struct{})
		e.x.root.Send(e.x.symbol(tsym).pid, &pauseMsg{until: book}) // the IOC waits there
		close(until)                                                // the set-aside is answered
		until = make(chan struct{})
		e.x.root.Send(e.x.adl, &pauseMsg{until: until}) // behind the set-aside
		close(book)
	}
	e.awaitLiq("alice", "offered its leg to ADL", func(a *accountActor) bool { return a.liq.Legs[0].Offered() })
	return until
}

// synced returns once the actor at pid has handled what was sent to it
// before.
func (e *env) synced(pid *actor.PID) {
	e.t.Helper()
	done := make(chan struct{})
	e.x.root.Send(pid, &syncMsg{done: done})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		e.t.Fatalf("%s never reached the sync", pid.Id)
	}
}

// TestLegFundingAdjustsACloseBeforeItsFunding: bob handles alice's ADL
// close (at 3000) before his funding time's payment, held in his mailbox
// behind it, while alice's leg pays the funding (0.305) before bob's answer
// reaches her. Flat at his funding time, bob was paid nothing, and his
// answer says so (the funding time he had handled, acctSym.funded, is
// before the one the leg took): his close is not adjusted and he is
// charged nothing, as a sequenced engine, closing first, would charge
// nobody. The leg's payment stays in the deficit (the fees ledger keeps
// it: no short received it) and the fund pays it, 999.695 left, the audit
// conserved; with an empty fund it would be uncovered, as before close
// adjustments (DESIGN.md). Before, bob paid back the 0.305 he never
// received. The exchange is durable: a replay reaches the same state.
func TestLegFundingAdjustsACloseBeforeItsFunding(t *testing.T) {
	e, j, sym := fundingPair(t, "750")
	e.fundDeposit("1000")
	until := e.holdADLRequest(false)
	bob := make(chan struct{})
	e.x.root.Send(e.x.accounts.get(e.x, "bob").pid, &pauseMsg{until: bob})
	close(until)
	e.synced(e.x.adl) // the request is queued, its flush sent to itself
	e.synced(e.x.adl) // flushed: the close waits in bob's mailbox
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3050") // a funding time: bob's payment queues behind the close
	e.drained("alice")    // her leg paid
	close(bob)
	a := e.audit()
	if !a.OK || a.Uncovered != 0 || a.Liquidating != 0 || !a.Fees.Decimal().Equal(dec("0.305")) {
		t.Fatalf("audit %s", a)
	}
	if f := e.rec.events("bob", wire.EventFunding); len(f) != 0 {
		t.Fatalf("bob's funding %+v: he closed first", f)
	}
	adl := e.rec.events("bob", wire.EventADL)
	if len(adl) != 1 || !adl[0].ADL.Price.Equal(dec("3000")) || !adl[0].ADL.Qty.Equal(dec("1")) {
		t.Fatalf("bob's ADL events %+v, want a close at 3000 and no adjustment", adl)
	}
	if b := e.fundBalance(); !b.Equal(dec("999.695")) {
		t.Fatalf("fund %s, want 999.695", b)
	}
	want := e.hash()
	if got := newEnvWith(t, j.clone(), sym).hash(); got != want {
		t.Fatalf("replay: state hash %x, want %x", got, want)
	}
}

// TestSnapshotKeepsTheFundingTime: the last funding time an account
// handled (acctSym.funded, which decides whether its ADL closes are
// adjusted) survives a snapshot, and the state hash covers it.
func TestSnapshotKeepsTheFundingTime(t *testing.T) {
	e, j, sym := fundingPair(t, "10000")
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3750") // a funding time
	funded := func(e *env, acct string) int64 {
		return call(t, func(d func(int64)) {
			e.x.root.Send(e.x.accounts.get(e.x, acct).pid, &testHook{fn: func(a *accountActor) { d(a.syms[0].funded) }})
		})
	}
	if f := funded(e, "bob"); f == 0 || f%(8*3600*1000) != 0 {
		t.Fatalf("bob's funding time %d", f)
	}
	e.x.quiesce()
	p, _, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r := newEnvFrom(t, j.clone(), p, sym)
	for _, acct := range []string{"alice", "bob"} {
		if got, want := funded(r, acct), funded(e, acct); got != want {
			t.Fatalf("%s's funding time %d from the snapshot, want %d", acct, got, want)
		}
	}
	if got, want := r.hash(), e.hash(); got != want {
		t.Fatalf("state hash %x from the snapshot, want %x", got, want)
	}
}

// TestLegFundingAdjustsACloseOpenedAfterItsFunding: carol, flat at the
// funding time (no funding message reaches her), opens her short after it
// (bob closes his against her) and closes alice's leg by the ADL round in
// flight at it. Her fill carries the symbol's funding time, so she counts
// as having seen it: a sequenced engine would have closed her at the
// price the payment moved, and she pays 0.305 back; the fund (empty)
// untouched, nothing uncovered, the audit conserved. Without it her close
// would not be adjusted and the payment uncovered.
func TestLegFundingAdjustsACloseOpenedAfterItsFunding(t *testing.T) {
	e, j, sym := fundingPair(t, "750")
	until := e.holdADLRequest(false)
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3050") // a funding time: bob is paid, alice's leg pays
	e.leverage("carol", tsym, 5)
	e.mustPlace("carol", tsym, wire.Sell, "3050", "1")
	if o := e.mustPlace("bob", tsym, wire.Buy, "3050", "1", wire.IOC); o.Status != wire.StatusFilled {
		t.Fatalf("bob's close %+v", o)
	}
	e.drained("bob")
	e.drained("carol") // their reports wait behind the request
	close(until)       // the ranking has carol by the time the request is flushed
	a := e.audit()
	if !a.OK || a.Uncovered != 0 || a.Liquidating != 0 {
		t.Fatalf("audit %s", a)
	}
	adl := e.rec.events("carol", wire.EventADL)
	if len(adl) != 2 || !adl[0].ADL.Price.Equal(dec("3000")) || !adl[1].ADL.Qty.IsZero() || !adl[1].ADL.RealizedPnL.Equal(dec("-0.305")) {
		t.Fatalf("carol's ADL events %+v, want a close at 3000 and an adjustment of -0.305", adl)
	}
	if b := e.fundBalance(); !b.IsZero() {
		t.Fatalf("fund %s", b)
	}
	want := e.hash()
	if got := newEnvWith(t, j.clone(), sym).hash(); got != want {
		t.Fatalf("replay: state hash %x, want %x", got, want)
	}
}

// fundingPair is pairEnvWith on a durable exchange whose test symbol pays
// funding, alice (with cash alice) long 1 at 3750 at leverage 5 against
// bob.
func fundingPair(t *testing.T, alice string) (*env, *memJournal, *market.Symbol) {
	t.Helper()
	cfg := testConfig(tsym, longTiers()...)
	on := true
	cfg.Funding = &on
	sym := compileSymbol(t, cfg)
	j := &memJournal{}
	e := pairEnvWith(t, j, alice, sym)
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	return e, j, sym
}
