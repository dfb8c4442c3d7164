package actors

import (
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// Adversarial scenarios, second round: funding, inverse contracts, fees
// and rebates, ADL and socialized loss.

// fundingSymbolEnv is pairEnv with TEST-PERP paying funding.
func fundingSymbolEnv(t *testing.T, alice string) *env {
	t.Helper()
	cfg := testConfig(tsym, longTiers()...)
	on := true
	cfg.Funding = &on
	return pairEnv(t, alice, compileSymbol(t, cfg))
}

// TestFundingDuringLiquidation: a funding time passes while alice's long is
// being liquidated (its leg taken over, flat in risk). The short on the
// other side receives its funding; nobody pays it.
func TestFundingDuringLiquidation(t *testing.T) {
	e := fundingSymbolEnv(t, "750")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5) // bankruptcy 3000, liquidation 3100
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3050") // liquidates alice, and a funding time: longs pay shorts
	a := e.audit()
	got := e.rec.events("bob", wire.EventFunding)
	paid := e.rec.events("alice", wire.EventFunding)
	if a.Fees < 0 {
		t.Fatalf("fees ledger %s: bob received %v, alice paid %v", a.Fees, got, paid)
	}
}

// TestFundingDuringLiquidationInFlight: as above, but the liquidation was
// already under way (waiting for its reservation here; an ADL leg waiting
// for a counterparty can wait across many funding times).
func TestFundingDuringLiquidationInFlight(t *testing.T) {
	t.Skip("known: a leg taken over by a liquidation in flight pays no funding, the other side is paid from the fees ledger (DESIGN.md, funding)")
	e := fundingSymbolEnv(t, "750")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	until := make(chan struct{})
	e.x.root.Send(e.x.fund, &pauseMsg{until: until}) // the liquidation waits for its reservation
	e.index(tsym, "3050")
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3050") // a funding time: longs pay shorts
	close(until)
	if a := e.audit(); a.Fees < 0 {
		t.Fatalf("fees ledger %s: bob was paid funding nobody paid", a.Fees)
	}
}
