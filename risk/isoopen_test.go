package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// isoOpenAccount is a cross long 1 at 3750 in long (leverage 5, on 2000
// of cash: bankrupt at 1750) and an isolated iso at leverage 5, no fees.
func isoOpenAccount(t *testing.T) (a *Account, long, iso *market.Symbol) {
	t.Helper()
	long = namedSymbol(t, "LONG", [2]string{"3000", "0.03"}, [2]string{"1000000", "0.1"})
	iso = namedSymbol(t, "ISO", [2]string{"3000", "0.03"}, [2]string{"1000000", "0.1"})
	a = funded("12000", Cross)
	mustOK(t, a.SetLeverage(long, 5), "lev")
	trade(t, a, long, book.Buy, 3750, 1, 3750, false)
	mustOK(t, a.WithdrawChecked(usdt("10000"), nil), "withdraw") // cash 2000
	mustOK(t, a.SetMarginMode(iso, Isolated), "isolated")
	mustOK(t, a.SetLeverage(iso, 5), "lev")
	if bk, _ := a.CloseBankruptcyPrice(long); bk != 1750 {
		t.Fatalf("bankruptcy price %d, want 1750", bk)
	}
	return a, long, iso
}

// TestIsolatedOpenPastCloseRefused: an isolated opening order whose margin
// would, once out of the cash, put a resting close past its bound is
// refused (IsolatedOpenPastClose) when the caller's check says so, asked
// with that margin and what the other isolated opens reserve out of the
// cash; the account is left as it was. keep is asked only when the
// isolated reservation grows while the account holds a close; an amend
// is held to it too.
func TestIsolatedOpenPastCloseRefused(t *testing.T) {
	a, long, iso := isoOpenAccount(t)
	asked := 0
	var sawCash market.Money
	var sawBk book.Ticks
	keep := func() bool {
		asked++
		sawCash, sawBk = a.Cash(), a.closeBk(a.find(long))
		return !a.PastCloseBound(long, 2200)
	}
	buy := func(price book.Ticks) (book.OrderID, Code) {
		id := newID()
		c, _ := a.PreTradeChecked(iso, Order{ID: id, Side: book.Buy, Type: Limit, Price: price, Qty: 1}, 3750, keep)
		return id, c
	}
	id, c := buy(3750)
	mustOK(t, c, "isolated open without closes")
	if _, ok := a.OnCancel(id); !ok || asked != 0 {
		t.Fatalf("cancel %v; keep asked %d times without a close", ok, asked)
	}
	c, _ = a.PreTrade(long, Order{ID: newID(), Side: book.Sell, Type: Limit, Price: 2200, Qty: 1}, 3750)
	mustOK(t, c, "the close, within")
	cash, reserved, orders := a.Cash(), a.OrderMargin(), len(a.OpenOrders())
	if _, c := buy(3750); c != IsolatedOpenPastClose || asked != 1 || sawCash != cash-usdt("750") || sawBk != 2500 {
		t.Fatalf("isolated open past the close: %s; keep asked %d times, saw cash %s, bound %d", c, asked, sawCash, sawBk)
	}
	if a.Cash() != cash || a.OrderMargin() != reserved || len(a.OpenOrders()) != orders || a.isoOrderMargin != 0 {
		t.Fatalf("after the refusal: cash %s, reserved %s, %d orders", a.Cash(), a.OrderMargin(), len(a.OpenOrders()))
	}
	if bk, _ := a.CloseBankruptcyPrice(long); bk != 1750 {
		t.Fatalf("bankruptcy price %d after the refusal", bk)
	}
	small, c := buy(1900) // 380 out: bound 2130
	mustOK(t, c, "a small isolated open")
	if a.isoOrderMargin != usdt("380") || asked != 2 {
		t.Fatalf("isolated reservation %s, keep asked %d times", a.isoOrderMargin, asked)
	}
	if _, c := buy(1875); c != IsolatedOpenPastClose || sawCash != cash-usdt("755") {
		t.Fatalf("a second open counts the first's reservation: %s, saw cash %s", c, sawCash)
	}
	mustOK(t, a.AmendChecked(iso, small, 1875, 1, 3750, keep), "amend down") // 375
	if asked != 3 {
		t.Fatalf("keep asked %d times: an amend that lowers the reservation asks nothing", asked)
	}
	if c := a.AmendChecked(iso, small, 3750, 1, 3750, keep); c != IsolatedOpenPastClose || asked != 4 || a.isoOrderMargin != usdt("375") {
		t.Fatalf("amend up past the close: %s, keep asked %d times, reserved %s", c, asked, a.isoOrderMargin)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, a, []*market.Symbol{long, iso})
}

// TestCloseBeyondIsolatedOpensRefused: while an isolated opening order
// rests (375 reserved), a close is held to the bound its margin's leaving
// the cash would set (2125, not 1750): placed or amended past it,
// CloseBeyondIsolatedOpens. A market close's bound (CloseBound) is that
// price, and a withdrawal's check sees the reservation out of the cash
// too. Once the open fills, the bankruptcy price is the one predicted and
// a close past it is BeyondBankruptcy as before.
func TestCloseBeyondIsolatedOpensRefused(t *testing.T) {
	a, long, iso := isoOpenAccount(t)
	open := newID()
	c, _ := a.PreTradeChecked(iso, Order{ID: open, Side: book.Buy, Type: Limit, Price: 1875, Qty: 1}, 3750, func() bool { return true })
	mustOK(t, c, "isolated open")
	sell := func(price book.Ticks) (book.OrderID, Code) {
		id := newID()
		c, _ := a.PreTrade(long, Order{ID: id, Side: book.Sell, Type: Limit, Price: price, Qty: 1}, 3750)
		return id, c
	}
	for _, s := range []struct {
		price book.Ticks
		want  Code
	}{{1875, CloseBeyondIsolatedOpens}, {2124, CloseBeyondIsolatedOpens}} {
		if _, c := sell(s.price); c != s.want {
			t.Fatalf("sell at %d: %s, want %s", s.price, c, s.want)
		}
	}
	id, c := sell(2125)
	mustOK(t, c, "sell at the bound")
	reserved := a.OrderMargin()
	if c := a.Amend(long, id, 2000, 1, 3750); c != CloseBeyondIsolatedOpens || a.OrderMargin() != reserved {
		t.Fatalf("amend past: %s, reserved %s (was %s)", c, a.OrderMargin(), reserved)
	}
	if bk, _ := a.CloseBound(long); bk != 2125 {
		t.Fatalf("market close bound %d, want 2125", bk)
	}
	if bk, _ := a.CloseBankruptcyPrice(long); bk != 1750 {
		t.Fatalf("close bankruptcy price %d, want 1750", bk)
	}
	var saw market.Money
	if c := a.WithdrawChecked(usdt("100"), func() bool { saw = a.Cash(); return false }); c != BeyondBankruptcy || saw != usdt("1525") {
		t.Fatalf("vetoed withdrawal %s, the veto saw cash %s", c, saw)
	}
	if _, c := a.ApplyFill(iso, Fill{OrderID: open, Side: book.Buy, Price: 1875, Qty: 1, FeeRate: iso.FeeRate(false)}); c != OK {
		t.Fatalf("fill: %s", c)
	}
	if bk, _ := a.CloseBankruptcyPrice(long); bk != 2125 || a.isoOrderMargin != 0 || a.Cash() != usdt("1625") {
		t.Fatalf("after the fill: bound %d, isolated reservation %s, cash %s", bk, a.isoOrderMargin, a.Cash())
	}
	if bk, _ := a.CloseBound(long); bk != 2125 {
		t.Fatalf("market close bound %d without isolated opens", bk)
	}
	if _, c := sell(2124); c != BeyondBankruptcy {
		t.Fatalf("sell at 2124 after the fill: %s", c)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestAsIsolatedOpensFill: inside AsIsolatedOpensFill, PastCloseBound is
// placement's stricter test. Without isolated opens it sees the account
// as it is; with a buy resting (380 reserved) a sell at 2129 is within at
// the cash (bound 1750) but past inside (2130), and the cash and the
// bound are as they were after.
func TestAsIsolatedOpensFill(t *testing.T) {
	a, long, iso := isoOpenAccount(t)
	past := func(price book.Ticks) (p bool) {
		a.AsIsolatedOpensFill(func() bool { p = a.PastCloseBound(long, price); return true })
		return p
	}
	if past(1750) || !past(1749) {
		t.Fatal("without isolated opens: not the bound at the cash")
	}
	c, _ := a.PreTradeChecked(iso, Order{ID: newID(), Side: book.Buy, Type: Limit, Price: 1900, Qty: 1}, 3750, func() bool { return true })
	mustOK(t, c, "isolated open")
	cash := a.Cash()
	if a.PastCloseBound(long, 2129) || !past(2129) || past(2130) {
		t.Fatalf("at 2129: past at the cash %v, with the open's 380 out %v; at 2130 %v", a.PastCloseBound(long, 2129), past(2129), past(2130))
	}
	if bk, _ := a.CloseBankruptcyPrice(long); bk != 1750 || a.Cash() != cash {
		t.Fatalf("after: bound %d, cash %s (was %s)", bk, a.Cash(), cash)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestIsolatedLeverageChecked: a lower leverage raises what a resting
// isolated open reserves (475 at 4×, 633.33 at 3×), so it is held to the
// closes as a new open is: with a sell resting at 2300 (within the bound
// 475 out leaves, 2225), 3× (2383.33) is refused (IsolatedOpenPastClose)
// and leaves the leverage and the reservation as they were; a higher
// leverage, which lowers the reservation, asks nothing.
func TestIsolatedLeverageChecked(t *testing.T) {
	a, long, iso := isoOpenAccount(t)
	mustOK(t, a.SetLeverage(iso, 4), "4×")
	c, _ := a.PreTradeChecked(iso, Order{ID: newID(), Side: book.Buy, Type: Limit, Price: 1900, Qty: 1}, 3750, nil)
	mustOK(t, c, "isolated open")
	c, _ = a.PreTrade(long, Order{ID: newID(), Side: book.Sell, Type: Limit, Price: 2300, Qty: 1}, 3750)
	mustOK(t, c, "the close, within")
	asked := 0
	var saw market.Money
	keep := func() bool { asked++; saw = a.Cash(); return !a.PastCloseBound(long, 2300) }
	cash := a.Cash()
	if c := a.SetLeverageChecked(iso, 3, 0, nil, keep); c != IsolatedOpenPastClose || asked != 1 || saw > cash-usdt("633.33") {
		t.Fatalf("3× past the close: %s; keep asked %d times, saw cash %s", c, asked, saw)
	}
	if p, _ := a.Position(iso); p.Leverage != 4 || a.isoOrderMargin != usdt("475") || a.Cash() != cash {
		t.Fatalf("after the refusal: leverage %d, reserved %s, cash %s", p.Leverage, a.isoOrderMargin, a.Cash())
	}
	mustOK(t, a.SetLeverageChecked(iso, 5, 0, nil, keep), "5×")
	if asked != 1 || a.isoOrderMargin != usdt("380") {
		t.Fatalf("5×: keep asked %d times, reserved %s", asked, a.isoOrderMargin)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
}
