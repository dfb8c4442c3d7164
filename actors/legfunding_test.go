package actors

import (
	"testing"
	"time"

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
// price it was sent with, 3000, and closes the whole leg, so the payment
// stays in the liquidation's deficit, which the fund pays from what it
// holds (0.305 of its 1000). With an empty fund in adl mode nobody could
// (DESIGN.md, the known gap left).
func TestLegFundingAfterTheADLRound(t *testing.T) {
	e := fundingSymbolEnv(t, "750")
	e.fundDeposit("1000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	until := make(chan struct{})
	e.x.root.Send(e.x.adl, &pauseMsg{until: until})
	e.index(tsym, "3050")
	// The IOC's answer, then the ADL request: funding before it would move
	// the price the request goes out at (a busy machine got there first).
	e.awaitLiq("alice", "offered its leg to ADL", func(a *accountActor) bool { return a.liq.Legs[0].Offered() })
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3050") // a funding time, the ADL request held
	close(until)
	a := e.audit()
	if !a.OK || a.Uncovered != 0 || a.Liquidating != 0 {
		t.Fatalf("audit %s", a)
	}
	e.legClosedAt("bob", "3000")
	if b := e.fundBalance(); !b.Equal(dec("999.695")) {
		t.Fatalf("fund %s, want 999.695", b)
	}
}
