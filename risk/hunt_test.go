package risk

import (
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
)

// TestLeverageRaiseHoldsRestingOpens: an isolated buy at 5625 (mark 3750)
// rests at leverage 1; 2 leaves its fill above maintenance, 5 would not
// (a buy placed at 5 is WouldLiquidate) and is refused, unchanged. A
// lower leverage and a raise with nothing opening are not held to it.
func TestLeverageRaiseHoldsRestingOpens(t *testing.T) {
	sym := longSeed(t)
	a := funded("6000", Isolated)
	mustOK(t, a.SetLeverage(sym, 1), "1×")
	buy := Order{ID: newID(), Side: book.Buy, Type: Limit, Price: 5625, Qty: 1}
	c, _ := a.PreTrade(sym, buy, 3750)
	mustOK(t, c, "the buy at 1×")
	rest := []Order{buy}
	if c := a.SetLeverageChecked(sym, 5, 3750, rest, nil); c != WouldLiquidate {
		t.Fatalf("5× behind the buy: %s", c)
	}
	if p, _ := a.Position(sym); p.Leverage != 1 || a.OrderMargin() != usdt("5625") {
		t.Fatalf("after the refusal: leverage %d, reserved %s", p.Leverage, a.OrderMargin())
	}
	mustOK(t, a.SetLeverageChecked(sym, 2, 3750, rest, nil), "2×")
	mustOK(t, a.SetLeverageChecked(sym, 1, 3750, rest, nil), "back to 1×")
	b := funded("6000", Isolated)
	mustOK(t, b.SetLeverage(sym, 5), "5×")
	if c, _ := b.PreTrade(sym, Order{ID: newID(), Side: book.Buy, Type: Limit, Price: 5625, Qty: 1}, 3750); c != WouldLiquidate {
		t.Fatalf("the buy placed at 5×: %s", c)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestHoldKeepsTheDearerTerms: an isolated buy of 1 at 3750 amended to 2
// at 1875 holds both: 2 lots at 3750 until the caller restates it.
func TestHoldKeepsTheDearerTerms(t *testing.T) {
	sym := longSeed(t)
	a := funded("2000", Isolated)
	mustOK(t, a.SetLeverage(sym, 5), "5×")
	id := newID()
	c, _ := a.PreTrade(sym, Order{ID: id, Side: book.Buy, Type: Limit, Price: 3750, Qty: 1}, 3750)
	mustOK(t, c, "buy")
	mustOK(t, a.Amend(sym, id, 1875, 2, 3750), "amend")
	if a.OrderMargin() != usdt("750") {
		t.Fatalf("amended reservation %s", a.OrderMargin())
	}
	a.Hold(id, 3750, 1, 3750)
	if q, _ := a.OrderQty(id); q != 2 || a.OrderMargin() != usdt("1500") {
		t.Fatalf("held: %d lots, %s reserved", q, a.OrderMargin())
	}
	a.Restate(id, 1875, 2, 3750)
	if a.OrderMargin() != usdt("750") {
		t.Fatalf("restated: %s", a.OrderMargin())
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenedByClose: a long of 3 with sells of 1, 1 and 2 (the last one
// lot opening) loses 2 lots to an ADL close: 2 more lots now open, the
// newest orders' first.
func TestOpenedByClose(t *testing.T) {
	sym := longSeed(t)
	a := funded("100000", Isolated)
	mustOK(t, a.SetLeverage(sym, 5), "5×")
	trade(t, a, sym, book.Buy, 3750, 3, 3750, false)
	var ids []book.OrderID
	for _, q := range []book.Lots{1, 1, 2} {
		ids = append(ids, newID())
		c, _ := a.PreTrade(sym, Order{ID: ids[len(ids)-1], Side: book.Sell, Type: Limit, Price: 4000, Qty: q}, 3750)
		mustOK(t, c, "sell")
	}
	if got := a.OpenedByClose(sym, 3); got != nil {
		t.Fatalf("nothing closed: %v", got)
	}
	if _, c := a.ApplyADLClose(sym, 2, 3750); c != OK {
		t.Fatal(c)
	}
	if got := a.OpenedByClose(sym, 3); !slices.Equal(got, []book.OrderID{ids[2]}) {
		t.Fatalf("opened by the close: %v, want %v", got, ids[2:])
	}
	if _, c := a.ApplyADLClose(sym, 1, 3750); c != OK {
		t.Fatal(c)
	}
	if got := a.OpenedByClose(sym, 1); !slices.Equal(got, []book.OrderID{ids[2]}) {
		t.Fatalf("opened by the last close: %v", got)
	}
}
