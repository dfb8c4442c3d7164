package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
)

// TestPartialLiquidation: a long 20 at 1 000 with 2 000 cash, in the 5 %
// tier above 10 000 notional, is liquidatable at 926 (19P ≤ 17 600); the
// partial plan sells 10 (10 × 926 ≤ 10 000, the first tier's top) at no
// worse than the bankruptcy price 900; filled at 920 it leaves a long 10
// that is safe in the first tier. Without the config, or in the first
// tier, there is no partial plan.
func TestPartialLiquidation(t *testing.T) {
	sym := seedSymbol(t, [2]string{"10000", "0.01"}, [2]string{"1000000", "0.05"})
	sym.PartialLiquidation = true
	a := funded("2000", Cross)
	mustOK(t, a.SetLeverage(sym, 10), "leverage")
	trade(t, a, sym, book.Buy, 1000, 20, 1000, false)
	if a.OnMark(sym, 927) {
		t.Fatal("liquidatable at 927")
	}
	if !a.OnMark(sym, 926) {
		t.Fatal("not liquidatable at 926")
	}
	plan, ok := a.StartPartialLiquidation(sym, 99)
	if !ok || plan != (PartialPlan{Side: book.Sell, Qty: 10, Bound: 900, Tier: 1}) {
		t.Fatalf("plan %+v %v", plan, ok)
	}
	if !a.InLiquidation() {
		t.Fatal("not in liquidation during the partial")
	}
	if c, _ := a.PreTrade(sym, Order{ID: newID(), Side: book.Buy, Type: Limit, Price: 926, Qty: 1}, 926); c != AccountInLiquidation {
		t.Fatalf("an order during the partial: %s", c)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	r, c := a.ApplyFill(sym, Fill{OrderID: 99, Side: book.Sell, Price: 920, Qty: 10})
	mustOK(t, c, "the reduce order's fill")
	if !r.OrderDone {
		t.Fatal("reduce order not done")
	}
	if a.EndPartialLiquidation(sym) {
		t.Fatal("still liquidatable after the partial")
	}
	pos, _ := a.Position(sym)
	if pos.Qty != 10 || a.Cash() != usdt("1200") || sym.TierIndex(sym.Notional(926, pos.Qty)) != 0 {
		t.Fatalf("after the partial: %+v, cash %v", pos, a.Cash())
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}

	// An unfilled reduce order leaves the account liquidatable: the full
	// takeover follows.
	b := funded("2000", Cross)
	mustOK(t, b.SetLeverage(sym, 10), "leverage")
	trade(t, b, sym, book.Buy, 1000, 20, 1000, false)
	b.OnMark(sym, 926)
	if _, ok := b.StartPartialLiquidation(sym, 7); !ok {
		t.Fatal("no plan")
	}
	if _, ok := b.OnOrderDone(7); !ok {
		t.Fatal("reduce order unknown")
	}
	if !b.EndPartialLiquidation(sym) {
		t.Fatal("an unfilled partial left the account safe")
	}

	// No plan: the symbol does not allow it; the first tier; not liquidatable.
	sym.PartialLiquidation = false
	c2 := funded("2000", Cross)
	mustOK(t, c2.SetLeverage(sym, 10), "leverage")
	trade(t, c2, sym, book.Buy, 1000, 20, 1000, false)
	c2.OnMark(sym, 926)
	if _, ok := c2.StartPartialLiquidation(sym, 8); ok || c2.InLiquidation() {
		t.Fatal("a partial plan where the symbol does not allow one")
	}
	sym.PartialLiquidation = true
	d := funded("200", Cross)
	mustOK(t, d.SetLeverage(sym, 10), "leverage")
	trade(t, d, sym, book.Buy, 1000, 2, 1000, false)
	if _, ok := d.StartPartialLiquidation(sym, 9); ok {
		t.Fatal("a partial plan for a safe position")
	}
	d.OnMark(sym, 905)
	if _, ok := d.StartPartialLiquidation(sym, 9); ok {
		t.Fatal("a partial plan in the first tier")
	}
}
