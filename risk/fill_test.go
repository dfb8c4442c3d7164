package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

func TestFillsPnLAndCrossingZero(t *testing.T) {
	btc, _ := demo()
	a := funded("10000", Cross)
	const mark book.Ticks = 300_000
	steps := []struct {
		side     book.Side
		price    book.Ticks
		qty      book.Lots
		maker    bool
		fee      string
		realized string
		pos      book.Lots
		cost     string
		cash     string
	}{
		// long 1 BTC at 30000, taker 0.0005 → fee 15
		{book.Buy, 300_000, 1000, false, "15", "0", 1000, "30000", "9985"},
		// add 1 at 30100.5 (maker 0.0002 → 6.0201): avg 30050.25
		{book.Buy, 301_005, 1000, true, "6.0201", "0", 2000, "60100.5", "9978.9799"},
		// sell 0.7 at 30500: closes 0.35 of the cost = 21035.175; realized 314.825
		{book.Sell, 305_000, 700, true, "4.27", "314.825", 1300, "39065.325", "10289.5349"},
		// sell 2 at 29000 crosses zero: close 1.3 (cost 39065.325) at 37700 → −1365.325,
		// open short 0.7 at 29000; fee on 58000 taker = 29
		{book.Sell, 290_000, 2000, false, "29", "-1365.325", -700, "-20300", "8895.2099"},
		// buy 0.3 at 28000.1: close 3/7 of −20300 = −8700; realized 8700 − 8400.03 = 299.97
		{book.Buy, 280_001, 300, false, "4.2000150", "299.97", -400, "-11600", "9190.9798850"},
		// buy 0.4 at 28000: flat; realized 11600 − 11200 = 400
		{book.Buy, 280_000, 400, false, "5.6", "400", 0, "0", "9585.379885"},
	}
	for i, s := range steps {
		r := trade(t, a, btc, s.side, s.price, s.qty, mark, s.maker)
		ps, _ := a.Position(btc)
		if r.Fee != usdt(s.fee) || r.Realized != usdt(s.realized) || r.Position != s.pos ||
			ps.Cost != usdt(s.cost) || a.Cash() != usdt(s.cash) {
			t.Fatalf("step %d: fee %s realized %s pos %d cost %s cash %s", i, r.Fee, r.Realized, r.Position, ps.Cost, a.Cash())
		}
	}
	ps, _ := a.Position(btc)
	// Exactness: cash = deposit − fees + realized.
	if ps.Realized != usdt("-350.53") || a.Cash() != usdt("10000")-usdt("64.090115")+usdt("-350.53") {
		t.Fatalf("realized %s cash %s", ps.Realized, a.Cash())
	}
	if a.OrderMargin() != 0 || a.Available() != a.Cash() {
		t.Fatalf("flat account: order margin %s available %s", a.OrderMargin(), a.Available())
	}
}

func TestFillErrorsChangeNothing(t *testing.T) {
	btc, eth := demo()
	a := funded("10000", Cross)
	id := newID()
	c, _ := a.PreTrade(btc, Order{ID: id, Side: book.Buy, Type: Limit, Price: 300_000, Qty: 100}, 300_000)
	mustOK(t, c, "place")
	before := *a
	for _, c := range []struct {
		f    Fill
		sym  bool
		want Code
	}{
		{Fill{OrderID: id + 1000, Side: book.Buy, Price: 300_000, Qty: 1}, true, UnknownOrder},
		{Fill{OrderID: id, Side: book.Sell, Price: 300_000, Qty: 1}, true, BadRequest},
		{Fill{OrderID: id, Side: book.Buy, Price: 300_000, Qty: 1}, false, BadRequest},
		{Fill{OrderID: id, Side: book.Buy, Price: 300_000, Qty: 101}, true, InvalidQty},
		{Fill{OrderID: id, Side: book.Buy, Price: 300_000, Qty: 0}, true, InvalidQty},
		{Fill{OrderID: id, Side: book.Buy, Price: 0, Qty: 1}, true, InvalidPrice},
		{Fill{OrderID: id, Side: book.Buy, Price: 300_000, Qty: 1, FeeRate: 20_000_000}, true, BadRequest},
	} {
		sym := btc
		if !c.sym {
			sym = eth
		}
		if _, got := a.ApplyFill(sym, c.f); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
	if a.cash != before.cash || a.orderMargin != before.orderMargin || a.pos[0].side != before.pos[0].side || a.pos[0].qty != 0 {
		t.Fatal("bad fill changed the account")
	}
}

func TestIsolatedFills(t *testing.T) {
	btc, _ := demo()
	a := funded("10000", Isolated)
	mustOK(t, a.SetLeverage(btc, 10), "lev")
	const mark book.Ticks = 300_000
	trade(t, a, btc, book.Buy, mark, 1000, mark, false) // IM 3000, fee 15
	ps, _ := a.Position(btc)
	if ps.Margin != usdt("3000") || a.Cash() != usdt("6985") || a.Balance() != usdt("9985") {
		t.Fatalf("open: margin %s cash %s", ps.Margin, a.Cash())
	}
	// Cross equity does not back it: liquidation 27000 = 30000 − 3000 + MM 135...
	// E(P) = 3000 + P − 30000 ≤ 0.005 P  →  P ≤ 27000/0.995 = 27135.67 → 27135.6
	if liq, ok := a.LiquidationPrice(btc); !ok || liq != 271_356 {
		t.Fatalf("liq %d", liq)
	}
	if bk, _ := a.BankruptcyPrice(btc); bk != 270_000 {
		t.Fatalf("bk %d", bk)
	}
	// Close 0.25 at 31000: realized +250 into margin, then a quarter of the
	// margin (3250/4 = 812.5) back to cash; fee 3.875 from cash.
	trade(t, a, btc, book.Sell, 310_000, 250, mark, false)
	ps, _ = a.Position(btc)
	if ps.Margin != usdt("2437.5") || a.Cash() != usdt("7793.625") {
		t.Fatalf("partial close: margin %s cash %s", ps.Margin, a.Cash())
	}
	// Add and remove margin.
	mustOK(t, a.AddMargin(btc, usdt("500")), "add")
	if c := a.RemoveMargin(btc, usdt("700.00000001")); c != InsufficientMargin { // keep IM 2250
		t.Fatalf("remove too much: %s", c)
	}
	mustOK(t, a.RemoveMargin(btc, usdt("687.5")), "remove")
	ps, _ = a.Position(btc)
	if ps.Margin != usdt("2250") {
		t.Fatalf("margin %s", ps.Margin)
	}
	if c := a.SetLeverage(btc, 5); c != InsufficientMargin {
		t.Fatalf("lower leverage without margin: %s", c)
	}
	if c := a.SetMarginMode(btc, Cross); c != PositionOpen {
		t.Fatalf("mode change with position: %s", c)
	}
	// Close the rest at a loss larger than the margin: the deficit is reported.
	before := a.Cash()
	r := trade(t, a, btc, book.Sell, 270_000, 750, mark, false)
	// realized 0.75 × (27000 − 30000) = −2250 → margin 0 exactly: no deficit.
	if r.Deficit != 0 || a.Cash() != before-r.Fee {
		t.Fatalf("close: %+v cash %s", r, a.Cash())
	}
	trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false)
	r = trade(t, a, btc, book.Sell, 270_000, 1000, 300_000, false) // loss 3000 vs margin 3000
	if r.Deficit != 0 {
		t.Fatalf("deficit %s", r.Deficit)
	}
	trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false)
	// A sell resting at the bankruptcy price 27000; a funding payment of
	// 100 (0.5 % at 20000) takes the margin to 2900: loss 3000 vs 2900.
	r = restingFill(t, a, btc, book.Sell, 270_000, 1000, 300_000, false, func() {
		if f := a.ApplyFunding(btc, 500_000, 200_000); f.Delta != -usdt("100") {
			t.Fatalf("funding %s", f.Delta)
		}
	})
	if r.Deficit != usdt("100") || a.Balance() < 0 {
		t.Fatalf("deficit %s balance %s", r.Deficit, a.Balance())
	}
	mustOK(t, a.SetMarginMode(btc, Cross), "mode change when flat")
}

func TestCrossCloseBeyondCashIsDeficit(t *testing.T) {
	btc, _ := demo()
	a := funded("2000", Cross)
	trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false) // fee 15: bankruptcy price 30000 − 1985
	// A sell resting at 28100; funding takes 100 (bankruptcy price 28115):
	// −1900, fee 14.05, against 1885 of cash.
	r := restingFill(t, a, btc, book.Sell, 281_000, 1000, 300_000, false, func() { a.ApplyFunding(btc, 500_000, 200_000) })
	if r.Deficit != usdt("29.05") || a.Cash() != 0 || a.Balance() != 0 {
		t.Fatalf("deficit %s cash %s", r.Deficit, a.Cash())
	}
}

// TestCloseBeyondBankruptcyRefused: a limit order against a position
// priced past its bankruptcy price, moved by the close's taker fee where
// nothing else pays it (CloseBankruptcyPrice), is refused
// (BeyondBankruptcy), placed or amended there, with nothing reserved; at
// the price itself, opening, a market order or a position backed at any
// price in the band passes.
func TestCloseBeyondBankruptcyRefused(t *testing.T) {
	btc, _ := demo()
	const mark book.Ticks = 300_000
	for _, c := range []struct {
		name  string
		mode  MarginMode
		cash  string
		side  book.Side // the position's
		bk    book.Ticks
		cbk   book.Ticks // CloseBankruptcyPrice
		limit bool       // past cbk refused
		add   Code       // an adding order's
	}{
		// 30000 − margin 1500; the cash pays the fee.
		{"isolated long", Isolated, "10000", book.Buy, 285_000, 285_000, true, OK},
		{"isolated short", Isolated, "10000", book.Sell, 315_000, 315_000, true, OK},
		// 30000 − margin 1500, no cash for the fee: x − 0.0005·x ≥ 28500.
		{"isolated long without cash", Isolated, "1515", book.Buy, 285_000, 285_143, true, InsufficientMargin},
		// 30000 − (2000 − fee 15); with the close's fee x·0.9995 ≥ 28015
		// (long), x·1.0005 ≤ 31985 (short).
		{"cross long", Cross, "2000", book.Buy, 280_150, 280_291, true, OK},
		{"cross short", Cross, "2000", book.Sell, 319_850, 319_690, true, OK},
		{"cross long backed at any price", Cross, "100000", book.Buy, 1, 1, false, OK},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := funded(c.cash, c.mode)
			mustOK(t, a.SetLeverage(btc, 20), "lev")
			trade(t, a, btc, c.side, mark, 1000, mark, false)
			if bk, _ := a.BankruptcyPrice(btc); bk != c.bk {
				t.Fatalf("bankruptcy price %d, want %d", bk, c.bk)
			}
			if bk, _ := a.CloseBankruptcyPrice(btc); bk != c.cbk {
				t.Fatalf("close bankruptcy price %d, want %d", bk, c.cbk)
			}
			closing, dir := book.Sell, book.Ticks(-1)
			if c.side == book.Sell {
				closing, dir = book.Buy, 1
			}
			lo, hi := btc.Band(mark)
			past := min(max(c.cbk+dir, lo), hi) // a tick past it, or the band's edge
			pastWant := map[bool]Code{true: BeyondBankruptcy, false: OK}[c.limit]
			reserved, orders := a.OrderMargin(), len(a.OpenOrders())
			for _, o := range []struct {
				o    Order
				want Code
			}{
				{Order{Side: closing, Type: Limit, Price: past, Qty: 500}, pastWant},
				// closes, then opens 2000 lots (in cross its open loss is
				// reserved)
				{Order{Side: closing, Type: Limit, Price: past, Qty: 3000}, pastWant},
				{Order{Side: closing, Type: Limit, Price: min(max(c.cbk, lo), hi), Qty: 1000}, OK},
				{Order{Side: closing, Type: Market, Qty: 1000}, OK},
				{Order{Side: c.side, Type: Limit, Price: past, Qty: 100}, c.add}, // adds: no bankruptcy bound
			} {
				o.o.ID = newID()
				got, _ := a.PreTrade(btc, o.o, mark)
				if got != o.want {
					t.Errorf("%+v: %s, want %s", o.o, got, o.want)
				}
				if got == OK {
					a.OnOrderDone(o.o.ID)
				}
			}
			if a.OrderMargin() != reserved || len(a.OpenOrders()) != orders {
				t.Fatalf("refusals left reservations: %s, %d orders", a.OrderMargin(), len(a.OpenOrders()))
			}
			// An amend there is refused too and keeps the order as it was.
			id := newID()
			code, _ := a.PreTrade(btc, Order{ID: id, Side: closing, Type: Limit, Price: mark, Qty: 1000}, mark)
			mustOK(t, code, "close at the mark")
			before := a.OrderMargin()
			if got := a.Amend(btc, id, past, 1000, mark); got != pastWant {
				t.Fatalf("amend past the bankruptcy price: %s, want %s", got, pastWant)
			}
			if c.limit && a.OrderMargin() != before {
				t.Fatalf("refused amend changed the reservation: %s → %s", before, a.OrderMargin())
			}
		})
	}
}

// TestPastCloseBoundAgrees: PreTrade's one-test check of a closing price
// (pastCloseBound) says what comparing it with CloseBankruptcyPrice's
// search says, around the bound, long and short, cross and isolated.
func TestPastCloseBoundAgrees(t *testing.T) {
	btc, _ := demo()
	const mark book.Ticks = 300_000
	for _, mode := range []MarginMode{Cross, Isolated} {
		for _, side := range []book.Side{book.Buy, book.Sell} {
			for _, cash := range []string{"1515", "2000", "5000"} {
				a := funded(cash, mode)
				mustOK(t, a.SetLeverage(btc, 20), "lev")
				trade(t, a, btc, side, mark, 1000, mark, false)
				cbk, _ := a.CloseBankruptcyPrice(btc)
				i := a.find(btc)
				for x := cbk - 300; x <= cbk+300; x++ {
					want := side == book.Buy && x < cbk || side == book.Sell && x > cbk
					if got := a.pastCloseBound(i, x); got != want {
						t.Fatalf("%v %s %s: at %d past %v, the bound %d says %v", mode, side, cash, x, got, cbk, want)
					}
				}
			}
		}
	}
}

// TestPastCloseBoundAgreesInverse is TestPastCloseBoundAgrees for an
// inverse contract with a taker fee (values shrink as the price grows, so
// a long's fee is largest where its close loses most), at several
// leverages and sizes: the one-test check and the search agree, and the
// bound is exact (its fee paid there, not one tick worse).
func TestPastCloseBoundAgreesInverse(t *testing.T) {
	sym := inverseFeeSymbol(t, "0.005")
	const mark book.Ticks = 20_000 // 10 000 USD
	var checked, moved int
	for _, mode := range []MarginMode{Cross, Isolated} {
		for _, side := range []book.Side{book.Buy, book.Sell} {
			for _, lev := range []int64{2, 10, 50} {
				for _, cash := range []string{"0.25", "1", "3"} {
					a := funded(cash, mode)
					mustOK(t, a.SetLeverage(sym, lev), "lev")
					// contracts of 1 USD: about half the room at 10 000
					q := book.Lots(int64(usdt(cash)) / int64(usdt("1")) * lev * 5_000)
					if q == 0 {
						q = book.Lots(lev * 1_000)
					}
					id := newID()
					if c, _ := a.PreTrade(sym, Order{ID: id, Side: side, Type: Limit, Price: mark, Qty: q}, mark); c != OK {
						continue
					}
					_, c := a.ApplyFill(sym, Fill{OrderID: id, Side: side, Price: mark, Qty: q, FeeRate: sym.TakerFee})
					mustOK(t, c, "fill")
					cbk, _ := a.CloseBankruptcyPrice(sym)
					i := a.find(sym)
					_, bk := a.prices(i)
					pays := a.closePays(i)
					checked++
					if cbk != bk {
						moved++
					}
					if cbk != bk && !pays(int64(cbk)) {
						t.Fatalf("%v %s lev %d cash %s: the fee is not paid at the bound %d", mode, side, lev, cash, cbk)
					}
					for x := max(cbk-400, 1); x <= cbk+400; x++ {
						want := side == book.Buy && x < cbk || side == book.Sell && x > cbk
						if got := a.pastCloseBound(i, x); got != want {
							t.Fatalf("%v %s lev %d cash %s: at %d past %v, the bound %d (bankruptcy %d) says %v", mode, side, lev, cash, x, got, cbk, bk, want)
						}
					}
				}
			}
		}
	}
	if checked < 20 || moved == 0 {
		t.Fatalf("%d positions checked, %d bounds moved by the fee", checked, moved)
	}
}

// TestHoldsClosesAndSharesCross: the two cheap tests the actors run before
// looking for resting closes past their bound. HoldsCloses is true while a
// position has an order on its closing side (not for an opening one, nor
// a closing one without a position); SharesCross only for a cross
// position sharing the cross equity with another.
func TestHoldsClosesAndSharesCross(t *testing.T) {
	a, b := namedSymbol(t, "A", [2]string{"100000", "0.05"}), namedSymbol(t, "B", [2]string{"100000", "0.05"})
	acct := funded("10000", Cross)
	place := func(sym *market.Symbol, side book.Side, price book.Ticks) book.OrderID {
		t.Helper()
		id := newID()
		c, _ := acct.PreTrade(sym, Order{ID: id, Side: side, Type: Limit, Price: price, Qty: 1}, 1000)
		mustOK(t, c, "PreTrade")
		return id
	}
	sell := place(a, book.Sell, 1100) // no position yet: it would open
	if acct.HoldsCloses() || acct.SharesCross(a) {
		t.Fatal("flat: no close, no shared equity")
	}
	buy := place(a, book.Buy, 900)
	trade(t, acct, a, book.Buy, 1000, 1, 1000, false) // long A: the sell closes now
	if !acct.HoldsCloses() || acct.SharesCross(a) {
		t.Fatalf("long A with a resting sell: closes %v, shares %v", acct.HoldsCloses(), acct.SharesCross(a))
	}
	acct.OnCancel(sell)
	if acct.HoldsCloses() {
		t.Fatal("only the opening buy left, yet HoldsCloses")
	}
	acct.OnCancel(buy)
	trade(t, acct, b, book.Sell, 1000, 1, 1000, false) // short B, cross
	if !acct.SharesCross(a) || !acct.SharesCross(b) || acct.HoldsCloses() {
		t.Fatalf("two cross positions without orders: shares %v %v, closes %v", acct.SharesCross(a), acct.SharesCross(b), acct.HoldsCloses())
	}
	place(b, book.Buy, 1000)
	if !acct.HoldsCloses() {
		t.Fatal("the short's buy is a close")
	}
	iso := funded("10000", Isolated)
	trade(t, iso, a, book.Buy, 1000, 1, 1000, false)
	trade(t, iso, b, book.Buy, 1000, 1, 1000, false)
	if iso.SharesCross(a) {
		t.Fatal("isolated positions share no equity")
	}
}
