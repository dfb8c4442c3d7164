package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// The seed long goes bankrupt (B = 3000) and its liquidation order fills at
// 2960: a deficit of 40. On a socialized-loss symbol the winners on the
// short side pay it out of their unrealized profit instead of the fund:
// money is conserved to the unit and the fund is untouched.
func TestSocializedChargeCoversDeficit(t *testing.T) {
	sym := longSeed(t)
	g := &ledger{t: t}
	loser, w1, w2, taker := g.open("750", Cross), g.open("750", Cross), g.open("1000", Isolated), g.open("100000", Cross)
	for _, a := range g.accts {
		mustOK(t, a.SetLeverage(sym, 5), "leverage")
	}
	trade(t, loser, sym, book.Buy, 3750, 1, 3750, false)
	trade(t, w1, sym, book.Sell, 3750, 1, 3750, false)
	trade(t, taker, sym, book.Buy, 3500, 1, 3500, false)
	trade(t, w2, sym, book.Sell, 3500, 1, 3500, false) // w2 isolated: margin 700
	marks := map[*market.Symbol]book.Ticks{sym: 3100}
	for _, a := range g.accts {
		a.OnMark(sym, 3100)
	}
	mustOK(t, w1.Withdraw(usdt("300")), "w1 withdraws part of its cash") // cash 450
	g.deposits -= usdt("300")
	l, _, c := loser.StartLiquidation(sym)
	mustOK(t, c, "start")
	// The book: taker buys the bankrupt long at 2960, 40 below bankruptcy.
	trade(t, taker, sym, book.Buy, 2960, 1, 3100, false)
	mustOK(t, l.ApplyFill(sym, 2960, 1), "liquidation fill")
	g.check("filled", l, marks)
	s, c := l.Settle()
	mustOK(t, c, "settle")
	if s.Fund != -usdt("40") {
		t.Fatalf("settlement %+v", s)
	}
	// Profits at 3100: w1 650, w2 400. A split of 40 (what adl.Socialize
	// gives, pro rata): 24.76190477 + 15.23809523.
	c1, c2 := usdt("24.76190477"), usdt("15.23809523")
	for _, bad := range []struct {
		a      *Account
		charge market.Money
		mark   book.Ticks
		want   Code
	}{
		{w1, usdt("650.00000001"), 3100, ChargeExceedsProfit},
		{w2, usdt("400.00000001"), 3100, ChargeExceedsProfit},
		{w1, c1, 3800, ChargeExceedsProfit}, // a loss at that mark
		{taker, c1, 3100, ChargeExceedsProfit},
		{loser, c1, 3100, NoPosition},
		{w1, 0, 3100, BadRequest},
		{w1, c1, 0, InvalidPrice},
		{w1, c1, sym.MaxPrice + 1, InvalidPrice},
	} {
		before := bad.a.Report()
		if _, code := bad.a.ApplySocializedCharge(sym, bad.charge, bad.mark); code != bad.want {
			t.Fatalf("charge %s at %d: %s, want %s", bad.charge, bad.mark, code, bad.want)
		}
		if after := bad.a.Report(); !after.Balance.Equal(before.Balance) || !after.Equity.Equal(before.Equity) {
			t.Fatal("a refused charge changed the account")
		}
	}
	r1, c := w1.ApplySocializedCharge(sym, c1, 3100)
	mustOK(t, c, "charge w1")
	r2, c := w2.ApplySocializedCharge(sym, c2, 3100)
	mustOK(t, c, "charge w2")
	if r1.Realized != -c1 || r2.Realized != -c2 || r1.Position != -1 || r1.Liquidate || r2.Liquidate {
		t.Fatalf("results %+v %+v", r1, r2)
	}
	g.fund += s.Fund + c1 + c2 // the deficit receives exactly the charges
	if g.fund != 0 {
		t.Fatalf("fund %s", g.fund)
	}
	loser.EndLiquidation()
	g.check("socialized", nil, marks)
	ps, _ := w2.Position(sym)
	if ps.Margin != usdt("700")-c2 || ps.Realized != -c2 || w1.Cash() != usdt("450")-c1 {
		t.Fatalf("w2 %+v, w1 cash %s", ps, w1.Cash())
	}
	// A charge up to the whole profit: w1's cash goes below zero while the
	// position is open (its profit backs it); closing at the mark brings it
	// back to exactly cash + profit − charges ≥ 0.
	rest := usdt("650") - c1
	_, c = w1.ApplySocializedCharge(sym, rest, 3100)
	mustOK(t, c, "charge the whole profit")
	if w1.Cash() != -usdt("200") || w1.Equity() != usdt("450") || w1.Report().Cash.Sign() >= 0 {
		t.Fatalf("cash %s equity %s", w1.Cash(), w1.Equity())
	}
	g.fund += rest // the share of a second deficit: the fund does not pay it
	g.check("whole profit", nil, marks)
	trade(t, w1, sym, book.Buy, 3100, 1, 3100, false)
	trade(t, taker, sym, book.Sell, 3100, 1, 3100, false)
	if w1.Balance() != usdt("450") || !w1.Report().Balance.Equal(dec("450")) {
		t.Fatalf("after close: balance %s", w1.Balance())
	}
	g.check("closed", nil, marks)
}

// An isolated short filled above its reserved price leaves the cross cash
// at −20 while it is open; when its liquidation takes the account's last
// position, the takeover takes the −20 too: the flat account shows zero,
// the liquidation's escrow is 600, and closing at bankruptcy costs the fund
// exactly 20 (its Deficit).
func TestIsolatedTakeoverOfLastPositionTakesNegativeCash(t *testing.T) {
	sym := shortSeed(t)
	g := &ledger{t: t}
	a, cp := g.open("620", Cross), g.open("100000", Cross)
	mustOK(t, a.SetMarginMode(sym, Isolated), "isolated")
	for _, x := range g.accts {
		mustOK(t, x.SetLeverage(sym, 5), "leverage")
	}
	id := newID()
	code, _ := a.PreTrade(sym, Order{ID: id, Side: book.Sell, Type: Limit, Price: 3000, Qty: 1}, 3100)
	mustOK(t, code, "pretrade") // reserves 620 at the mark
	_, code = a.ApplyFill(sym, Fill{OrderID: id, Side: book.Sell, Price: 3100, Qty: 1})
	mustOK(t, code, "fill above the limit")
	trade(t, cp, sym, book.Buy, 3100, 1, 3100, false)
	// A close filled past its bound before its cancel (DESIGN.md's race)
	// paid a counterparty outside this ledger 20 more than the cash held.
	a.cash -= usdt("20")
	g.deposits -= usdt("20")
	if a.Cash() != -usdt("20") || a.Balance() != usdt("600") {
		t.Fatalf("cash %s balance %s", a.Cash(), a.Balance())
	}
	// 620 + 3100 − P ≤ 0.05·P − 45  ⇔  P ≥ 3585.71
	marks := map[*market.Symbol]book.Ticks{sym: 3586}
	cp.OnMark(sym, 3586)
	if a.OnMark(sym, 3585) || !a.OnMark(sym, 3586) {
		t.Fatal("no trigger")
	}
	l, _, code := a.StartLiquidation(sym)
	mustOK(t, code, "start")
	if a.Cash() != 0 || a.Balance() != 0 || a.Report().Balance.Sign() != 0 || l.Escrow != usdt("600") ||
		l.Legs[0].Bankruptcy != 3720 || l.Legs[0].Deficit != 0 || l.Base != -usdt("20") || l.Deficit != usdt("20") {
		t.Fatalf("cash %s escrow %s leg %+v base %s deficit %s", a.Cash(), l.Escrow, l.Legs[0], l.Base, l.Deficit)
	}
	g.check("takeover", l, marks)
	r, code := cp.ApplyADLClose(sym, 1, 3720)
	mustOK(t, code, "adl")
	mustOK(t, l.ApplyFill(sym, 3720, 1), "leg")
	s, code := l.Settle()
	mustOK(t, code, "settle")
	if s.Fund != -usdt("20") || r.Deficit != 0 {
		t.Fatalf("settlement %+v", s)
	}
	g.fund += s.Fund
	g.check("settled", nil, marks)
}

// TestSocializedChargeStopsAboveMaintenance: a short isolated winner (1 at
// 3500, margin 700) is charged 400, its profit at the liquidation's quote
// (3100), after the mark rose to 3800 (uPnL −300, equity 400, maintenance
// 0.1 × 3800 − 210 = 170). It pays what leaves its equity above the
// maintenance margin, 230 less a unit, and is not liquidatable; asked 100 it
// pays 100.
func TestSocializedChargeStopsAboveMaintenance(t *testing.T) {
	sym, w, _ := shortWinner(t, Isolated)
	if w.OnMark(sym, 3800) {
		t.Fatal("liquidatable before the charge")
	}
	res, c := w.ApplySocializedCharge(sym, usdt("400"), 3100)
	mustOK(t, c, "charge")
	if want := usdt("230") - 1; -res.Realized != want || res.Liquidate || w.OnMark(sym, 3800) {
		t.Fatalf("took %s (want %s), liquidate %v", -res.Realized, want, res.Liquidate)
	}
	if ps, _ := w.Position(sym); ps.Margin != usdt("700")-(usdt("230")-1) {
		t.Fatalf("margin %s", ps.Margin)
	}
	if _, c := w.ApplySocializedCharge(sym, usdt("100"), 3100); c != ChargeExceedsProfit {
		t.Fatalf("a charge with nothing above maintenance: %s", c)
	}
	w.OnMark(sym, 3500)
	if res, c := w.ApplySocializedCharge(sym, usdt("100"), 3100); c != OK || -res.Realized != usdt("100") {
		t.Fatalf("with room again: %+v %s", res, c)
	}
}

// TestClosedChargeTakesWhatCashSpares: a winner that closed after its
// profit was set aside pays from cash, at most what a withdrawal could
// take, so its other position stays carried at initial margin.
func TestClosedChargeTakesWhatCashSpares(t *testing.T) {
	sym, w, taker := shortWinner(t, Cross)
	trade(t, w, sym, book.Buy, 3100, 1, 3100, false) // closed: 400 realized, less fees
	cash := w.Cash()
	res, c := w.ApplyClosedCharge(sym, usdt("150"))
	if c != OK || res.Realized != -usdt("150") || res.Position != 0 || w.Cash() != cash-usdt("150") {
		t.Fatalf("charge: %+v %s, cash %s → %s", res, c, cash, w.Cash())
	}
	// A new short of 1 at 3100 (initial margin 620 at 5×): the charge may
	// take only what Available leaves, never the margin it needs.
	trade(t, taker, sym, book.Buy, 3100, 1, 3100, false)
	trade(t, w, sym, book.Sell, 3100, 1, 3100, false)
	if w.OnMark(sym, 3100) {
		t.Fatal("liquidatable before the charge")
	}
	avail := w.Available()
	res, c = w.ApplyClosedCharge(sym, usdt("100000"))
	if c != OK || -res.Realized != avail || w.Available() != 0 || w.OnMark(sym, 3100) {
		t.Fatalf("charge beyond what it spares: took %s of available %s (%s)", -res.Realized, avail, c)
	}
	if _, c := w.ApplyClosedCharge(sym, usdt("1")); c != ChargeExceedsProfit {
		t.Fatalf("with nothing to spare: %s", c)
	}
	if _, c := w.ApplyClosedCharge(sym, 0); c != BadRequest {
		t.Fatalf("a charge of 0: %s", c)
	}
	if err := w.Check(); err != nil {
		t.Fatal(err)
	}
}

// shortWinner opens w (1000 USDT, mode) short 1 at 3500 against a cross
// taker (100 000 USDT), both at 5×.
func shortWinner(t *testing.T, mode MarginMode) (sym *market.Symbol, w, taker *Account) {
	t.Helper()
	sym = longSeed(t)
	g := &ledger{t: t}
	w, taker = g.open("1000", mode), g.open("100000", Cross)
	for _, a := range g.accts {
		mustOK(t, a.SetLeverage(sym, 5), "leverage")
	}
	trade(t, taker, sym, book.Buy, 3500, 1, 3500, false)
	trade(t, w, sym, book.Sell, 3500, 1, 3500, false)
	return sym, w, taker
}

// TestRefundSocializedCharge: an escrow refund goes back to cash (an
// isolated winner's charge came out of its margin; the refund backs the
// wallet), booked as the position's realized PnL, and makes nobody
// liquidatable; bad amounts change nothing.
func TestRefundSocializedCharge(t *testing.T) {
	for _, mode := range []MarginMode{Cross, Isolated} {
		sym, w, _ := shortWinner(t, mode)
		w.OnMark(sym, 3100)
		res, c := w.ApplySocializedCharge(sym, usdt("100"), 3100)
		mustOK(t, c, "charge")
		bal, cash, before := w.Balance(), w.Cash(), -res.Realized
		res, c = w.RefundSocializedCharge(sym, usdt("60"))
		mustOK(t, c, "refund")
		ps, _ := w.Position(sym)
		if res.Realized != usdt("60") || res.Position != -1 || res.Liquidate || w.Cash() != cash+usdt("60") || w.Balance() != bal+usdt("60") ||
			ps.Realized != -before+usdt("60") {
			t.Fatalf("%v: refund %+v, cash %s → %s, realized %s", mode, res, cash, w.Cash(), ps.Realized)
		}
		for _, bad := range []market.Money{0, -1, MaxBalance} {
			if _, c := w.RefundSocializedCharge(sym, bad); c != BadRequest {
				t.Fatalf("refund of %s: %s", bad, c)
			}
		}
		if err := w.Check(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAdjustADLClose: a price adjustment of a counterparty's ADL close
// (liq.AdjustClose) moves the cash, booked as the position's realized
// PnL. A payment takes at most the cross equity at the stored marks, as
// a close at the moved price could (CloseForADL): a short at 3500 marked
// at 4000 (equity 500) pays 500 of 1000, its cash down to 500 against
// the loss, and is liquidatable; an isolated
// one pays from the cash only (300), its margin untouched; nothing is
// paid from nothing. A receipt is credited whole.
func TestAdjustADLClose(t *testing.T) {
	for _, c := range []struct {
		mode       MarginMode
		paid, left string
		liquidate  bool
	}{{Cross, "500", "500", true}, {Isolated, "300", "0", false}} {
		sym, w, _ := shortWinner(t, c.mode)
		w.OnMark(sym, 4000)
		bal := w.Balance()
		res, code := w.AdjustADLClose(sym, -usdt("1000"))
		mustOK(t, code, "adjust")
		ps, _ := w.Position(sym)
		if res.Realized != -usdt(c.paid) || res.Liquidate != c.liquidate || w.Cash() != usdt(c.left) || w.Balance() != bal-usdt(c.paid) ||
			ps.Realized != -usdt(c.paid) || res.Position != -1 {
			t.Fatalf("%v: %+v, cash %s, realized %s", c.mode, res, w.Cash(), ps.Realized)
		}
		if _, code := w.AdjustADLClose(sym, -1); code != ChargeExceedsProfit {
			t.Fatalf("%v: a payment from nothing: %s", c.mode, code)
		}
		if res, code := w.AdjustADLClose(sym, usdt("50")); code != OK || res.Realized != usdt("50") || w.Cash() != usdt(c.left)+usdt("50") {
			t.Fatalf("%v: receipt %+v %s", c.mode, res, code)
		}
		if _, code := w.AdjustADLClose(sym, 0); code != BadRequest {
			t.Fatalf("%v: adjustment of 0: %s", c.mode, code)
		}
		if err := w.Check(); err != nil {
			t.Fatal(err)
		}
	}
}
