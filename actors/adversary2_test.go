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

// TestLiquidationIntoPairsBid: alice and carol hold opposite positions (no
// risk between them). Carol rests twice alice's size to buy at the band's
// bottom, the only bids; a mark move liquidates alice, the fund reserves
// the quote's need and the liquidation's IOC sells into carol's bid far
// below the bankruptcy price: the fund pays the pair the difference.
func TestLiquidationIntoPairsBid(t *testing.T) {
	t.Skip("known: a liquidation's IOC sells into whatever the book holds down to the band, the fund paying (DESIGN.md, a thin book)")
	e := pairEnv(t, "750")
	e.fundDeposit("100000")
	e.openPosition("alice", "carol", wire.Buy, "3750", "1", 5) // bankruptcy 3000, liquidation 3100
	e.mustPlace("carol", tsym, wire.Buy, "1875", "2")           // the band's bottom
	e.index(tsym, "3100")
	e.audit()
	if f := e.fundBalance(); f.LessThan(dec("100000")) {
		t.Fatalf("the fund paid %s to alice and carol", dec("100000").Sub(f))
	}
}
