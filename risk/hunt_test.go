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
	if got := a.OpenedByClose(sym, 3, nil); got != nil {
		t.Fatalf("nothing closed: %v", got)
	}
	if _, c := a.ApplyADLClose(sym, 2, 3750); c != OK {
		t.Fatal(c)
	}
	if got := a.OpenedByClose(sym, 3, nil); !slices.Equal(got, []book.OrderID{ids[2]}) {
		t.Fatalf("opened by the close: %v, want %v", got, ids[2:])
	}
	if _, c := a.ApplyADLClose(sym, 1, 3750); c != OK {
		t.Fatal(c)
	}
	if got := a.OpenedByClose(sym, 1, nil); !slices.Equal(got, []book.OrderID{ids[2]}) {
		t.Fatalf("opened by the last close: %v", got)
	}
}

// TestCloseForADLLeavesWhatIsOnItsWay: a long of 3 with a resting sell of
// 1 and a newer sell of 2 on its way to the book. Asked for all 3, the
// ADL close takes 1, leaving the 2 the sell on its way will close; of the
// side's lot now opening, the resting sell is canceled, not the one the
// book will match before any cancel. With 3 on their way it closes none.
func TestCloseForADLLeavesWhatIsOnItsWay(t *testing.T) {
	sym := longSeed(t)
	a := funded("100000", Isolated)
	mustOK(t, a.SetLeverage(sym, 5), "5×")
	trade(t, a, sym, book.Buy, 3750, 3, 3750, false)
	resting, onWay := newID(), newID()
	for _, o := range []Order{{ID: resting, Qty: 1}, {ID: onWay, Qty: 2}} {
		o.Side, o.Type, o.Price = book.Sell, Limit, 4000
		c, _ := a.PreTrade(sym, o, 3750)
		mustOK(t, c, "sell")
	}
	if n, _, c := a.CloseForADL(sym, book.Buy, 3, 4500, 3); c != OK || n != 0 {
		t.Fatalf("closed %d (%s) of a long every lot of which is on its way", n, c)
	}
	n, r, c := a.CloseForADL(sym, book.Buy, 3, 4500, 2)
	if c != OK || n != 1 || r.Position != 2 {
		t.Fatalf("closed %d (%s), position %d; want 1, 2", n, c, r.Position)
	}
	sent := func(id book.OrderID) bool { return id == onWay }
	if got := a.OpenedByClose(sym, 3, sent); !slices.Equal(got, []book.OrderID{resting}) {
		t.Fatalf("canceled %v, want the resting %d", got, resting)
	}
	if got := a.OpenedByClose(sym, 3, nil); !slices.Equal(got, []book.OrderID{onWay}) {
		t.Fatalf("without onWay: %v", got)
	}
}
