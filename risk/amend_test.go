package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// twin is an account funded like a, holding what a fresh PreTrade of o
// would hold: Amend must leave a reservation no different from it.
func twinMargin(t *testing.T, sym *market.Symbol, setup func(*Account), o Order, mark book.Ticks) market.Money {
	t.Helper()
	b := funded("10000", Cross)
	if setup != nil {
		setup(b)
	}
	c, _ := b.PreTrade(sym, o, mark)
	mustOK(t, c, "twin PreTrade")
	return b.OrderMargin()
}

func TestAmendRules(t *testing.T) {
	btc, eth := demo()
	const mark book.Ticks = 300_000
	long100 := func(a *Account) { trade(t, a, btc, book.Buy, mark, 100, mark, false) }
	cases := []struct {
		name  string
		setup func(*Account)
		o     Order // the order placed first (ID 1)
		sym   *market.Symbol
		id    book.OrderID
		price book.Ticks
		qty   book.Lots
		want  Code
	}{
		{"qty up", nil, Order{Side: book.Buy, Price: mark, Qty: 100}, btc, 1, mark, 6600, OK},
		{"qty up past the margin", nil, Order{Side: book.Buy, Price: mark, Qty: 100}, btc, 1, mark, 6601, InsufficientMargin},
		{"the old reservation counts as free", nil, Order{Side: book.Buy, Price: mark, Qty: 6600}, btc, 1, mark - 10, 6600, OK},
		{"qty down", nil, Order{Side: book.Buy, Price: mark, Qty: 6600}, btc, 1, mark, 1000, OK},
		{"price moved", nil, Order{Side: book.Sell, Price: mark, Qty: 100}, btc, 1, mark + 1000, 100, OK},
		{"price out of band", nil, Order{Side: book.Buy, Price: mark, Qty: 100}, btc, 1, 330_001, 100, InvalidPrice},
		{"qty zero", nil, Order{Side: book.Buy, Price: mark, Qty: 100}, btc, 1, mark, 0, InvalidQty},
		{"unknown id", nil, Order{Side: book.Buy, Price: mark, Qty: 100}, btc, 2, mark, 100, UnknownOrder},
		{"other symbol", nil, Order{Side: book.Buy, Price: mark, Qty: 100}, eth, 1, mark, 100, UnknownOrder},
		{"reduce-only within the position", long100, Order{Side: book.Sell, Price: mark, Qty: 60, ReduceOnly: true}, btc, 1, mark, 100, OK},
		{"reduce-only beyond the position", long100, Order{Side: book.Sell, Price: mark, Qty: 60, ReduceOnly: true}, btc, 1, mark, 101, ReduceOnlyRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := funded("10000", Cross)
			if tc.setup != nil {
				tc.setup(a)
			}
			tc.o.ID, tc.o.Type = 1, Limit
			c, _ := a.PreTrade(btc, tc.o, mark)
			mustOK(t, c, "PreTrade")
			before, avail := a.OrderMargin(), a.Available()
			if got := a.Amend(tc.sym, tc.id, tc.price, tc.qty, mark); got != tc.want {
				t.Fatalf("Amend: %s, want %s", got, tc.want)
			}
			if err := a.Check(); err != nil {
				t.Fatal(err)
			}
			if tc.want != OK {
				if a.OrderMargin() != before || a.Available() != avail {
					t.Fatalf("a refused amend moved the reservation: %d → %d", before, a.OrderMargin())
				}
				return
			}
			amended := tc.o
			amended.Price, amended.Qty = tc.price, tc.qty
			if want := twinMargin(t, btc, tc.setup, amended, mark); a.OrderMargin() != want {
				t.Fatalf("order margin %d after the amend, %d for the same order placed afresh", a.OrderMargin(), want)
			}
			// The order is still one open order, and it fills as amended.
			if ids := a.OpenOrders(); len(ids) != 1 || ids[0] != 1 {
				t.Fatalf("open orders %v", ids)
			}
			if _, c := a.ApplyFill(btc, Fill{OrderID: 1, Side: tc.o.Side, Price: tc.price, Qty: tc.qty, FeeRate: btc.TakerFee}); c != OK {
				t.Fatalf("a fill of the amended quantity: %s", c)
			}
		})
	}
}

// TestAmendKeepsItsPlaceUnderTheCap: an amend is not one more open order.
func TestAmendKeepsItsPlaceUnderTheCap(t *testing.T) {
	s := seedSymbol(t, [2]string{"1000000", "0.01"})
	s.MaxOpenOrders = 2
	a := NewAccount(1, Cross)
	mustOK(t, a.Deposit(market.Money(1_000_000*market.MoneyScale)), "deposit")
	for id := book.OrderID(1); id <= 2; id++ {
		c, _ := a.PreTrade(s, Order{ID: id, Side: book.Buy, Type: Limit, Price: 100, Qty: 1}, 100)
		mustOK(t, c, "PreTrade")
	}
	mustOK(t, a.Amend(s, 2, 101, 3, 100), "amend at the cap")
	if c, _ := a.PreTrade(s, Order{ID: 3, Side: book.Buy, Type: Limit, Price: 100, Qty: 1}, 100); c != TooManyOrders {
		t.Fatalf("third order: %s", c)
	}
}

// TestAmendRefusedAt: refusals that need their own mark or account state.
func TestAmendRefusedAt(t *testing.T) {
	btc, _ := demo()
	for _, tc := range []struct {
		name        string
		price, mark book.Ticks
		qty         book.Lots
		inLiq       bool
		want        Code
	}{
		{"min notional", 40_000, 40_000, 1, false, MinNotional}, // 4 USDT < 5
		{"in liquidation", 300_000, 300_000, 50, true, AccountInLiquidation},
	} {
		a := funded("10000", Cross)
		c, _ := a.PreTrade(btc, Order{ID: 1, Side: book.Buy, Type: Limit, Price: tc.price, Qty: 100}, tc.mark)
		mustOK(t, c, "PreTrade")
		a.inLiq = tc.inLiq
		if c := a.Amend(btc, 1, tc.price, tc.qty, tc.mark); c != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, c, tc.want)
		}
	}
}

// TestRestate: the record takes the book's word, unchecked, and equals a
// fresh reservation of that state; 0 forgets the order.
func TestRestate(t *testing.T) {
	btc, _ := demo()
	const mark book.Ticks = 300_000
	a := funded("10000", Cross)
	c, _ := a.PreTrade(btc, Order{ID: 1, Side: book.Sell, Type: Limit, Price: mark, Qty: 100}, mark)
	mustOK(t, c, "PreTrade")
	if !a.Restate(1, mark-100, 40, mark) {
		t.Fatal("Restate of an open order")
	}
	// A sell's margin price is max(limit, mark): the mark here.
	want := twinMargin(t, btc, nil, Order{ID: 1, Side: book.Sell, Type: Limit, Price: mark - 100, Qty: 40}, mark)
	if a.OrderMargin() != want {
		t.Fatalf("order margin %d, want %d", a.OrderMargin(), want)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	// Unchecked: far beyond what the account could place.
	if !a.Restate(1, mark, 100_000, mark) || a.Available() >= 0 {
		t.Fatalf("Restate past the margin: available %d", a.Available())
	}
	if !a.Restate(1, mark, 0, mark) || len(a.OpenOrders()) != 0 || a.OrderMargin() != 0 {
		t.Fatalf("Restate to 0: orders %v margin %d", a.OpenOrders(), a.OrderMargin())
	}
	if a.Restate(1, mark, 1, mark) {
		t.Fatal("Restate of a forgotten order")
	}
}

// TestFirstFillValuedAtTheMark: a position's first fill is valued at the
// mark its order was checked at, not at its own price: a buy filled 10
// above the mark shows that loss at once, before the next mark tick.
func TestFirstFillValuedAtTheMark(t *testing.T) {
	s := seedSymbol(t, [2]string{"1000000", "0.01"})
	a := NewAccount(1, Cross)
	mustOK(t, a.Deposit(market.Money(1_000_000*market.MoneyScale)), "deposit")
	mustOK(t, a.SetLeverage(s, 5), "lev") // at 20x 10 above the mark would be liquidatable at once
	c, _ := a.PreTrade(s, Order{ID: 1, Side: book.Buy, Type: Limit, Price: 110, Qty: 2}, 100)
	mustOK(t, c, "PreTrade")
	if _, c := a.ApplyFill(s, Fill{OrderID: 1, Side: book.Buy, Price: 110, Qty: 2}); c != OK {
		t.Fatal(c)
	}
	p := a.Report().Positions[0]
	if !p.MarkPrice.Equal(s.Price(100)) || !p.UnrealizedPnL.Equal(s.PnL(2, s.Notional(110, 2), 100).Decimal()) || p.UnrealizedPnL.IsZero() {
		t.Fatalf("position %+v: mark %s, want 100 and the loss against it", p, p.MarkPrice)
	}
}

// TestCancelingFreesReduceOnlyRoom: a reduce-only order with a cancel on
// its way leaves its room to the next reduce-only order (a bot's batch
// [cancel the take-profit, place the close]) but keeps its margin until the
// book answers; a fill that beats the cancel takes nothing off the room
// twice, and a failed cancel gives the room back.
func TestCancelingFreesReduceOnlyRoom(t *testing.T) {
	btc, _ := demo()
	const mark book.Ticks = 300_000
	a := funded("10000", Cross)
	trade(t, a, btc, book.Buy, mark, 100, mark, false) // long 100
	tp := Order{ID: 1, Side: book.Sell, Type: Limit, Price: mark + 1000, Qty: 100, ReduceOnly: true}
	c, _ := a.PreTrade(btc, tp, mark)
	mustOK(t, c, "take-profit")
	closeAll := Order{ID: 2, Side: book.Sell, Type: Market, Qty: 100, ReduceOnly: true, NeverRests: true}
	if c, _ := a.PreTrade(btc, closeAll, mark); c != ReduceOnlyRejected {
		t.Fatalf("the close beside the take-profit: %v, want REDUCE_ONLY_REJECTED", c)
	}
	a.Canceling(1)
	mustCheck(t, a)
	a.CancelFailed(1) // the book kept it: the room is taken again
	mustCheck(t, a)
	if c, _ := a.PreTrade(btc, closeAll, mark); c != ReduceOnlyRejected {
		t.Fatalf("after a failed cancel: %v, want REDUCE_ONLY_REJECTED", c)
	}
	a.Canceling(1)
	c, _ = a.PreTrade(btc, closeAll, mark)
	mustOK(t, c, "the close once the take-profit's cancel is on its way")
	mustCheck(t, a)
	// The take-profit fills 40 before its cancel lands: the room it held is
	// not taken off again, and the close (100 against 60 now) is in excess.
	res, code := a.ApplyFill(btc, Fill{OrderID: 1, Side: book.Sell, Price: mark + 1000, Qty: 40, Maker: true, FeeRate: btc.FeeRate(true)})
	mustOK(t, code, "the take-profit's fill")
	mustCheck(t, a)
	if !res.ReduceOnlyExcess {
		t.Error("a reduce-only close beyond the shrunk position is not reported in excess")
	}
	if _, ok := a.OnOrderDone(1); !ok { // the cancel lands
		t.Fatal("the take-profit is not open")
	}
	mustCheck(t, a)
}

func mustCheck(t *testing.T, a *Account) {
	t.Helper()
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
}
