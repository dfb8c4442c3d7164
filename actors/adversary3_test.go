package actors

import (
	"testing"

	"github.com/perpx/perpx/wire"
)

// Adversarial scenarios, third round: batches, cancel-all and the dead
// man's switch against liquidations, self-trade prevention and rebates,
// conditional orders of liquidated accounts, socialized loss.

// TestLiquidationFillRebate: a liquidation's IOC pays no taker fee, but
// its maker is paid the maker rebate from the fees ledger. Two accounts of
// one trader, hedged against each other (the opening trade's taker fee and
// rebate cancel with maker_fee = −taker_fee), let a mark move liquidate
// one into the other's bid at the bankruptcy price: the fund gets nothing,
// and the pair is paid the rebate nobody paid.
func TestLiquidationFillRebate(t *testing.T) {
	cfg := testConfig(tsym, longTiers()...)
	cfg.TakerFee, cfg.MakerFee = dec("0.0002"), dec("-0.0002")
	e := pairEnv(t, "750.75", compileSymbol(t, cfg)) // 750 of margin and the opening fee
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	p := e.position("alice", tsym)
	e.mustPlace("bob", tsym, wire.Buy, p.BankruptcyPrice.String(), "1") // closes bob's short there
	e.index(tsym, "3050")
	a := e.audit()
	if e.liquidations("alice") != 1 {
		t.Fatalf("alice not liquidated: %+v", e.position("alice", tsym))
	}
	if a.Fees < 0 {
		t.Fatalf("fees ledger %s after the liquidation into bob's bid at %s (fund %s): bob %s",
			a.Fees, p.BankruptcyPrice, e.fundBalance(), balance(t, e.state("bob")))
	}
}
