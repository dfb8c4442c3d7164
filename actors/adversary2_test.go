package actors

import (
	"slices"
	"strings"
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
// for a counterparty can wait across many funding times). The leg pays its
// funding into the liquidation, which moves its bankruptcy price by the
// payment (0.305: a tick, 3000 to 3001): bob was paid from the fees ledger
// before, then the fund paid it; now bob, the ADL counterparty, closes at
// 3001 and the fund pays nothing.
func TestFundingDuringLiquidationInFlight(t *testing.T) {
	e := fundingSymbolEnv(t, "750")
	e.fundDeposit("1000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	until := make(chan struct{})
	e.x.root.Send(e.x.fund, &pauseMsg{until: until}) // the liquidation waits for its reservation
	e.index(tsym, "3050")
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3050") // a funding time: longs pay shorts
	close(until)
	a := e.audit()
	received := e.rec.events("bob", wire.EventFunding)
	if len(received) != 1 || received[0].Funding.Payment.Sign() <= 0 {
		t.Fatalf("bob's funding %+v", received)
	}
	if a.Fees < 0 || !a.OK || a.Liquidating != 0 {
		t.Fatalf("fees ledger %s, audit %s: bob was paid funding nobody paid", a.Fees, a)
	}
	e.legClosedAt("bob", "3001")
	for _, ev := range e.fundHistory() {
		if ev.Reason == wire.ReasonFunding || ev.Delta.IsNegative() {
			t.Fatalf("the fund paid: %+v", ev)
		}
	}
}

// legClosedAt asserts acct's one ADL close, at price.
func (e *env) legClosedAt(acct, price string) {
	e.t.Helper()
	adl := e.rec.events(acct, wire.EventADL)
	if len(adl) != 1 || !adl[0].ADL.Price.Equal(dec(price)) {
		e.t.Fatalf("%s's ADL closes %+v, want one at %s", acct, adl, price)
	}
}

// TestLiquidationIntoPairsBid: alice and carol hold opposite positions (no
// risk between them). Carol rests twice alice's size to buy at the band's
// bottom, the only bids; a mark move liquidates alice. Her IOC sells no
// lower than the bankruptcy price less the symbol's liquidation slippage
// (3000 × (1 − 0.05) = 2850), so it leaves carol's bid alone, and carol's
// short is closed by ADL at 3000 (which cancels the bid, an open now): the
// fund pays nothing (it paid the pair 1125 when the IOC sold down to the
// band).
func TestLiquidationIntoPairsBid(t *testing.T) {
	e := pairEnv(t, "750")
	e.fundDeposit("100000")
	e.openPosition("alice", "carol", wire.Buy, "3750", "1", 5) // bankruptcy 3000, liquidation 3100
	bid := e.mustPlace("carol", tsym, wire.Buy, "1875", "2")   // the band's bottom
	e.index(tsym, "3100")
	a := e.audit()
	if f := e.fundBalance(); !f.Equal(dec("100000")) {
		t.Fatalf("the fund holds %s of 100000: it paid alice and carol", f)
	}
	if e.liquidations("alice") != 1 || e.position("alice", tsym) != nil || e.position("carol", tsym) != nil {
		t.Fatalf("alice liquidated %d times; alice %+v, carol %+v", e.liquidations("alice"), e.position("alice", tsym), e.position("carol", tsym))
	}
	adl := e.rec.events("carol", wire.EventADL)
	if len(adl) != 1 || !adl[0].ADL.Price.Equal(dec("3000")) || !adl[0].ADL.Qty.Equal(dec("1")) || adl[0].ADL.BankruptAccount != "alice" {
		t.Fatalf("carol's ADL closes %+v", adl)
	}
	// Left alone by the IOC; the ADL close, which made its closing lot an
	// open, canceled it (risk.OpenedByClose).
	e.orderCanceled("carol", bid.OrderID)
	if !a.Conserved() || !slices.Equal(a.Long, a.Short) {
		t.Fatalf("audit %s", a)
	}
}

// invEnv is an exchange of an inverse TEST-PERP settled in BTC (100-USD
// lots, tick 0.5, maintenance 0.5 % to 10 BTC, taker 0.075 %, maker
// −0.025 %) with the index at 40000, alice funded with alice BTC, bob and
// carol with 100.
func invEnv(t *testing.T, alice string) *env {
	t.Helper()
	cfg := testConfig(tsym, [2]string{"10", "0.005"}, [2]string{"1000", "0.01"})
	cfg.Contract, cfg.Quote, cfg.Settle = "inverse", "USD", "BTC"
	cfg.Tick, cfg.Lot = dec("0.5"), dec("100")
	cfg.TakerFee, cfg.MakerFee = dec("0.00075"), dec("-0.00025")
	e := newEnv(t, compileSymbol(t, cfg))
	e.index(tsym, "40000")
	e.depositIn("alice", "BTC", alice)
	for _, a := range []string{"bob", "carol"} {
		e.depositIn(a, "BTC", "100")
	}
	return e
}

// btcAudit is the audit's BTC sums, failing unless nothing is uncovered.
func (e *env) btcAudit() AssetAudit {
	e.t.Helper()
	a := e.audit()
	for _, as := range a.Assets {
		if as.Asset == "BTC" {
			if as.Uncovered != 0 || as.Fund != as.FundDeposits {
				e.t.Fatalf("BTC: fund %s of %s deposited, uncovered %d: %s", as.Fund, as.FundDeposits, as.Uncovered, a)
			}
			return as
		}
	}
	e.t.Fatalf("no BTC in the audit: %s", a)
	return AssetAudit{}
}

// TestInverseCloseAtBankruptcy: the linear attacks, inverse: a close at
// the bankruptcy price with its taker fee, and one past it.
func TestInverseCloseAtBankruptcy(t *testing.T) {
	e := invEnv(t, "0.0501875") // 0.25 BTC at 5x and the opening fee
	e.openPosition("alice", "bob", wire.Buy, "40000", "10000", 5)
	p := e.position("alice", tsym)
	t.Logf("bankruptcy %s, liquidation %s, margin %s", p.BankruptcyPrice, p.LiquidationPrice, p.Margin)
	e.leverage("carol", tsym, 5)
	e.mustPlace("carol", tsym, wire.Buy, p.BankruptcyPrice.Sub(dec("0.5")).String(), "10000")
	if r := e.place("alice", tsym, wire.Sell, p.BankruptcyPrice.Sub(dec("0.5")).String(), "10000", wire.IOC); r.OK {
		t.Fatalf("a close a tick past the bankruptcy price: %+v", r.Order)
	}
	x := p.BankruptcyPrice // the lowest price a close is accepted at
	for !e.place("alice", tsym, wire.Sell, x.String(), "100", wire.IOC).OK {
		x = x.Add(dec("0.5"))
	}
	t.Logf("closes accepted from %s", x)
	e.mustPlace("carol", tsym, wire.Buy, x.String(), "10000")
	n := 0
	for ; n < 100; n++ { // in 1-lot pieces: each rounds its value down
		if r := e.place("alice", tsym, wire.Sell, x.String(), "100", wire.IOC); !r.OK {
			break
		}
	}
	t.Logf("%d pieces closed at %s, alice %+v", n, x, e.state("alice"))
	e.btcAudit()
}

// TestInverseOpenAboveMark: TestOpenAboveMarkBankrupt, inverse: a long
// bought at the band's top from a second account, whose bid at the band's
// bottom its liquidation would sell into.
func TestInverseOpenAboveMark(t *testing.T) {
	e := invEnv(t, "0.1")
	e.fundDepositIn("BTC", "10")
	e.leverage("alice", tsym, 5)
	e.leverage("carol", tsym, 1)
	e.mustPlace("carol", tsym, wire.Sell, "60000", "10000")
	e.mustPlace("carol", tsym, wire.Buy, "20000", "10000")
	r := e.place("alice", tsym, wire.Buy, "60000", "10000", wire.IOC)
	m := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Market, TIF: wire.IOC, Qty: dec("10000")})
	t.Logf("limit %+v; market %+v %+v", r.Reply, m.Reply, m.Order)
	// And a short sold at the band's bottom (inverse: worth twice the mark's).
	s := e.place("alice", tsym, wire.Sell, "20000", "10000", wire.IOC)
	ms := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Market, TIF: wire.IOC, Qty: dec("10000")})
	t.Logf("limit sell %+v; market sell %+v %+v", s.Reply, ms.Reply, ms.Order)
	e.btcAudit()
	if e.liquidations("alice") != 0 {
		t.Fatalf("alice liquidated as she bought: limit %+v, market %+v", r.Order, m.Order)
	}
}

// TestFlipOpensAboveMark: TestOpenAboveMarkBankrupt's long opened by a
// flip: dave, short 1, buys 2 at the band's top from the pair's ask. The
// order leaves the position's size as it was (short 1 to long 1), and the
// check of its opening part against the mark was skipped with the size
// checks: the long was bankrupt as it filled, and its liquidation sold
// into the pair's bid at the band's bottom, the fund paying 2575.
func TestFlipOpensAboveMark(t *testing.T) {
	e := pairEnv(t, "100000")
	e.fundDeposit("10000")
	e.deposit("dave", "3000")
	e.openPosition("dave", "bob", wire.Sell, "3750", "1", 5) // dave short 1
	e.leverage("alice", tsym, 1)
	e.mustPlace("alice", tsym, wire.Sell, "5600", "2") // the pair's ask
	e.mustPlace("alice", tsym, wire.Buy, "1875", "2")  // and bid
	r := e.place("dave", tsym, wire.Buy, "5600", "2", wire.IOC)
	if r.OK || r.Error.Code != wire.CodeInsufficientMargin || !strings.Contains(r.Error.Message, "against the mark") {
		t.Errorf("a flip to a long at 5600 against the mark 3750: %+v %+v", r.Reply, r.Order)
	}
	if a := e.audit(); !a.OK || !e.fundBalance().Equal(dec("10000")) {
		t.Fatalf("fund %s, audit %s, dave liquidated %d times", e.fundBalance(), a, e.liquidations("dave"))
	}
}

// TestClosingOrderTurnsOpening: dave's buy far above the mark was a close
// of his short when placed (his cash paid its loss). He closed the short
// with a buy priced higher still (an ask of the pair's above his bid), so
// the resting buy opened a long there: the pair sold into it, the long was
// bankrupt against the mark the moment it filled, and its liquidation sold
// into the pair's bid at the band's bottom, the fund paying 2125. PreTrade
// counts a new order's lots beyond the resting ones' as its opening part:
// the closing buy is the one checked, and refused.
func TestClosingOrderTurnsOpening(t *testing.T) {
	e := pairEnv(t, "100000")
	e.fundDeposit("10000")
	e.deposit("dave", "2850")                                // the close at 5600 loses 1850; the far buy's margin is 1000
	e.openPosition("dave", "bob", wire.Sell, "3750", "1", 5) // dave short 1
	e.mustPlace("dave", tsym, wire.Buy, "5000", "1")         // a close, its loss 1250 within the cash
	e.leverage("alice", tsym, 1)
	e.mustPlace("alice", tsym, wire.Sell, "5600", "1") // above dave's bid
	// Flat, the buy at 5000 would open: counted as the opening one, this
	// order is refused (it is, itself, the buy far above the mark).
	if r := e.place("dave", tsym, wire.Buy, "5600", "1", wire.IOC); r.OK || r.Error.Code != wire.CodeInsufficientMargin {
		t.Errorf("the close that leaves the far buy opening: %+v %+v", r.Reply, r.Order)
	}
	e.mustPlace("alice", tsym, wire.Buy, "1875", "2") // the pair's bid at the band's bottom
	r := e.place("alice", tsym, wire.Sell, "5000", "1", wire.IOC)
	t.Logf("alice sells into dave's buy: %+v %+v", r.Reply, r.Order)
	if a := e.audit(); !a.OK || !e.fundBalance().Equal(dec("10000")) {
		t.Fatalf("fund %s, audit %s, dave liquidated %d times", e.fundBalance(), a, e.liquidations("dave"))
	}
}
