package actors

import (
	"strings"
	"testing"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// Adversarial scenarios: a trader (or two accounts of one) moving money
// that is not theirs through the public requests. Each ends with the audit.

// withdraw takes amount out of acct's USDT wallet.
func (e *env) withdraw(acct, amount string) wire.BalanceReply {
	e.t.Helper()
	return call(e.t, func(d func(wire.BalanceReply)) {
		e.x.Withdraw(acct, wire.Withdraw{Asset: "USDT", Amount: dec(amount)}, d)
	})
}

// positionMargin moves delta into (+) or out of (−) acct's isolated margin.
func (e *env) positionMargin(acct, delta string) wire.PositionMarginReply {
	e.t.Helper()
	return call(e.t, func(d func(wire.PositionMarginReply)) {
		e.x.MovePositionMargin(acct, wire.PositionMargin{Symbol: tsym, Delta: dec(delta)}, d)
	})
}

func (e *env) marginMode(acct string, mode wire.MarginModeName) {
	e.t.Helper()
	e.marginModeIn(acct, tsym, mode)
}

// marginModeIn sets acct's margin mode in sym.
func (e *env) marginModeIn(acct, sym string, mode wire.MarginModeName) {
	e.t.Helper()
	r := call(e.t, func(d func(wire.MarginModeReply)) {
		e.x.SetMarginMode(acct, wire.MarginMode{Symbol: sym, Mode: mode}, d)
	})
	if !r.OK {
		e.t.Fatalf("margin mode %s %s %s: %v", acct, sym, mode, r.Error)
	}
}

// pairEnv is an exchange of syms (TEST-PERP alone by default) with the
// index at 3750, alice funded with alice, bob and carol with 100 000 each.
func pairEnv(t *testing.T, alice string, syms ...*market.Symbol) *env {
	t.Helper()
	return pairEnvWith(t, nil, alice, syms...)
}

// pairEnvWith is pairEnv durable on j (nil: in memory).
func pairEnvWith(t *testing.T, j *memJournal, alice string, syms ...*market.Symbol) *env {
	t.Helper()
	if len(syms) == 0 {
		syms = append(syms, testSymbol(t, tsym, longTiers()...))
	}
	e := newEnvWith(t, j, syms...)
	for _, s := range syms {
		e.index(s.Name, "3750")
	}
	e.deposit("alice", alice)
	for _, a := range []string{"bob", "carol"} {
		e.deposit(a, "100000")
	}
	return e
}

// carolTakes has carol buy 1 at price (IOC, leverage 5) and checks the
// audit with the fund as it was, empty.
func (e *env) carolTakes(price string) {
	e.t.Helper()
	e.leverage("carol", tsym, 5)
	e.mustPlace("carol", tsym, wire.Buy, price, "1", wire.IOC)
	if a := e.audit(); !a.OK || a.Uncovered != 0 || !e.fundBalance().IsZero() {
		e.t.Fatalf("audit %s, fund %s", a, e.fundBalance())
	}
}

// TestWithdrawPastRestingClose: a cross long backed by a large balance
// rests a sell far below its entry (its bankruptcy price is lower still,
// so it is accepted), then withdraws down to the initial margin: the
// bankruptcy price rises past the resting sell, which a second account
// then takes. The loss beyond the cash left goes to the fund.
func TestWithdrawPastRestingClose(t *testing.T) {
	e := pairEnv(t, "10000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.mustPlace("alice", tsym, wire.Sell, "1875", "1") // the band's bottom; bankruptcy price below it
	// 750 of cash left against a sell at 1875, which loses 1875: refused.
	if r := e.withdraw("alice", "9250"); r.OK || r.Error.Code != wire.CodeInsufficientMargin {
		t.Fatalf("withdrawal past the resting sell: %+v", r.Reply)
	}
	// 1875 left: the bankruptcy price is the sell's, whose fill the cash pays.
	if r := e.withdraw("alice", "8125"); !r.OK {
		t.Fatalf("withdrawal down to the sell's loss: %+v", r.Reply)
	}
	e.carolTakes("1875")
}

// TestRemoveMarginPastRestingClose: the isolated form of the above: margin
// added, a sell rested at the lowered bankruptcy price, the margin taken
// back out.
func TestRemoveMarginPastRestingClose(t *testing.T) {
	e := pairEnv(t, "10000")
	e.marginMode("alice", wire.MarginIsolated)
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5) // margin 750, bankruptcy 3000
	if r := e.positionMargin("alice", "1125"); !r.OK {
		t.Fatalf("add margin: %+v", r.Reply)
	}
	e.mustPlace("alice", tsym, wire.Sell, "1875", "1") // at the bankruptcy price now
	if r := e.positionMargin("alice", "-1"); r.OK || r.Error.Code != wire.CodeInsufficientMargin {
		t.Fatalf("margin removal past the resting sell: %+v", r.Reply)
	}
	if p := e.position("alice", tsym); !p.BankruptcyPrice.Equal(dec("1875")) {
		t.Fatalf("the refused removal moved the bankruptcy price to %s", p.BankruptcyPrice)
	}
	e.carolTakes("1875")
}

// TestWithdrawBehindMarketClose: a market close's bound is the bankruptcy
// price of when it was sent; a withdrawal while it is on its way to the
// book raises that price above the bound, and the close fills below it.
func TestWithdrawBehindMarketClose(t *testing.T) {
	e := pairEnv(t, "10000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.leverage("carol", tsym, 5)
	e.mustPlace("carol", tsym, wire.Buy, "1875", "1")
	until := make(chan struct{})
	e.x.root.Send(e.x.symbol(tsym).pid, &pauseMsg{until: until}) // the book holds the close
	placed := make(chan wire.OrderReply, 1)
	e.x.PlaceOrder("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")},
		func(r wire.OrderReply) { placed <- r })
	r := e.withdraw("alice", "9250")
	close(until)
	if p := <-placed; !p.OK {
		t.Fatalf("market close: %+v", p.Reply)
	}
	if a := e.audit(); !a.OK || a.Uncovered != 0 {
		t.Fatalf("withdrawal %+v; audit %s", r.Reply, a)
	}
	if r.OK || r.Error.Code != wire.CodeInsufficientMargin {
		t.Fatalf("withdrawal behind a market close: %+v", r.Reply)
	}
}

// TestCrossOpenPastRestingClose: the account's own fill in another symbol
// moves a bankruptcy price past a resting close. Alice, cross long 1 at
// 3750 on 2000 (bankrupt at 1750), rests a sell at 1875 and opens a
// second cross long: the two split the equity by maintenance margin, and
// the first's share (1000) puts its bankruptcy price at 2750. The open's
// fill cancels the sell (before its reply) and carol's buy finds nothing.
// (An isolated open, whose margin leaves the cash, is refused instead:
// TestIsolatedOpenRacesRestingClose.)
func TestCrossOpenPastRestingClose(t *testing.T) {
	e := otherEnv(t, "2000", wire.MarginCross)
	sell := e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1")
	if o := e.mustPlace("alice", otherSym, wire.Buy, "3750", "1", wire.IOC); o.Status != wire.StatusFilled {
		t.Fatalf("cross open: %+v", o)
	}
	if o := e.mustPlace("carol", tsym, wire.Buy, "1875", "1", wire.IOC); o.FilledQty.Sign() != 0 {
		t.Fatalf("carol took alice's sell past its bankruptcy price: %+v", o)
	}
	if a := e.audit(); !a.OK || a.Uncovered != 0 || !e.fundBalance().IsZero() {
		t.Fatalf("audit %s, fund %s", a, e.fundBalance())
	}
	e.pastBoundCanceled("alice", sell.OrderID)
}

// pastBoundCanceled fails unless acct's order id ended canceled by the
// bankruptcy bound, in its order event and its state (gone from the open
// orders).
func (e *env) pastBoundCanceled(acct, id string) {
	e.t.Helper()
	last := e.lastOrderEvent(acct, id)
	if last == nil || last.Status != wire.StatusCanceled || !last.CanceledByBankruptcy {
		e.t.Fatalf("order %s's last event %+v: not canceled by the bankruptcy bound", id, last)
	}
	for _, o := range e.state(acct).OpenOrders {
		if o.OrderID == id {
			e.t.Fatalf("order %s still open: %+v", id, o)
		}
	}
}

// TestOpenAboveMarkBankrupt: a long opened at the band's top from a second
// account was bankrupt at the mark the moment it filled (its initial margin
// is a fifth of the price, the band half of it); its liquidation's IOC then
// sold into that second account's bid at the band's bottom and the fund
// paid the difference: the pair netted what the fund lost (2625 of 10000).
// Now such a limit buy reserves its open loss (cross: risk's openLoss;
// alice has no cash for it) or is refused (isolated: risk.WouldLiquidate),
// and a market buy stops short of that price (risk.OpenBound).
func TestOpenAboveMarkBankrupt(t *testing.T) {
	e := pairEnv(t, "1125")
	e.fundDeposit("10000")
	e.leverage("alice", tsym, 5)
	e.leverage("carol", tsym, 1)
	e.mustPlace("carol", tsym, wire.Sell, "5625", "1") // the band's top
	e.mustPlace("carol", tsym, wire.Buy, "1875", "1")  // and its bottom
	r := e.place("alice", tsym, wire.Buy, "5625", "1", wire.IOC)
	if r.OK || r.Error.Code != wire.CodeInsufficientMargin || !strings.Contains(r.Error.Message, "against the mark") {
		t.Fatalf("buy at the band's top: %+v", r.Reply)
	}
	m := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")})
	if !m.OK || m.Order.FilledQty.Sign() != 0 {
		t.Fatalf("market buy into the ask at the band's top: %+v %+v", m.Reply, m.Order)
	}
	e.x.quiesce()
	if a := e.audit(); !a.OK || !e.fundBalance().Equal(dec("10000")) || e.liquidations("alice") != 0 {
		t.Fatalf("fund %s, audit %s, %d liquidations", e.fundBalance(), a, e.liquidations("alice"))
	}
}

// TestCloseAtBankruptcyWithFee: a close exactly at the bankruptcy price
// loses the whole margin, and its taker fee comes on top.
func TestCloseAtBankruptcyWithFee(t *testing.T) {
	cfg := testConfig(tsym, longTiers()...)
	cfg.TakerFee = dec("0.001")
	e := pairEnv(t, "753.75", compileSymbol(t, cfg)) // 750 of margin and the opening fee
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	p := e.position("alice", tsym)
	e.leverage("carol", tsym, 5)
	e.mustPlace("carol", tsym, wire.Buy, p.BankruptcyPrice.String(), "1")
	r := e.place("alice", tsym, wire.Sell, p.BankruptcyPrice.String(), "1", wire.IOC)
	if a := e.audit(); !a.OK || a.Uncovered != 0 || !e.fundBalance().IsZero() {
		t.Fatalf("bankruptcy price %s, close %+v %+v; fund %s, audit %s", p.BankruptcyPrice, r.Reply, r.Order, e.fundBalance(), a)
	}
}

// TestCrossOpenLossReserved: a cross account with the cash to carry it may
// buy above the mark; the order reserves its initial margin, fee and open
// loss against the mark (0.1 BTC at 32400, 20x, mark ≈ 30000: 162 + 1.62 +
// ≈ 240), released when it is canceled. Isolated, the same order is refused:
// its margin alone would back the loss.
func TestCrossOpenLossReserved(t *testing.T) {
	e := demoEnv(t)
	mark := e.index("BTC-PERP", "30000").Mark // the index plus its funding basis
	e.deposit("alice", "100000")
	o := e.mustPlace("alice", "BTC-PERP", wire.Buy, "32400", "0.1")
	want := dec("100000").Sub(dec("163.62")).Sub(dec("32400").Sub(mark).Mul(dec("0.1")))
	if got := e.state("alice").Available; !got.Equal(want) {
		t.Fatalf("available %s, want %s (mark %s)", got, want, mark)
	}
	if c := call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: "BTC-PERP", OrderID: o.OrderID}, d)
	}); !c.OK {
		t.Fatalf("cancel: %+v", c.Reply)
	}
	if got := e.state("alice").Available; !got.Equal(dec("100000")) {
		t.Fatalf("available %s after the cancel", got)
	}
	r := call(t, func(d func(wire.MarginModeReply)) {
		e.x.SetMarginMode("alice", wire.MarginMode{Symbol: "BTC-PERP", Mode: wire.MarginIsolated}, d)
	})
	if !r.OK {
		t.Fatalf("isolated: %+v", r.Reply)
	}
	if p := e.place("alice", "BTC-PERP", wire.Buy, "32400", "0.1"); p.OK || p.Error.Code != wire.CodeInsufficientMargin {
		t.Fatalf("isolated buy 8 %% above the mark at 20x: %+v", p.Reply)
	}
}
