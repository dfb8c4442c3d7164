package liq

import (
	"errors"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// TestOrderFillClosesTheLeg: the seed's long of 2 (bankrupt at 3000) is
// taken over while a sell of the account's own is on its way; the book
// fills it at 3050 before the reservation is answered. Closing names the
// leg's lots for a sell only. The whole fill closes the leg as the
// liquidation's execution: the fund gets 2 × 50 less the fill's fee of 2,
// which the liquidation paid, and no order goes out. A fill of 1 leaves
// the IOC the other lot; a fill after the reservation, which the IOC
// counts on, breaks the invariant, as does one after the settlement.
func TestOrderFillClosesTheLeg(t *testing.T) {
	m, sym := seedMachineOf(t, false, 2)
	if leg, n := m.Closing(sym, book.Buy); leg != -1 || n != 0 {
		t.Fatalf("a buy closes %d of leg %d", n, leg)
	}
	if leg, n := m.Closing(sym, book.Sell); leg != 0 || n != 2 {
		t.Fatalf("a sell closes %d of leg %d", n, leg)
	}
	stepWants(t, m, OrderFill{Leg: 0, Price: 3050, Qty: 2, Value: sym.Value(3050, 2), Fee: usdt("2")})
	stepWants(t, m, Reserved{Amount: 0, Quotes: []Quote{{Need: 0, Mark: 3100}}},
		&Settle{ID: 7, Fund: usdt("98"), Volume: sym.Notional(3050, 2), Symbol: sym})
	if err := m.Step(OrderFill{Leg: 0, Price: 3050, Qty: 1, Value: sym.Value(3050, 1)}); !errors.Is(err, ErrInvariant) {
		t.Fatalf("a fill after the settlement: %v", err)
	}

	m, sym = seedMachineOf(t, false, 2)
	stepWants(t, m, OrderFill{Leg: 0, Price: 3050, Qty: 1, Value: sym.Value(3050, 1)})
	if m.Legs[0].Remaining != 1 || m.Legs[0].Gain != usdt("50") {
		t.Fatalf("leg %+v", m.Legs[0].LiquidationLeg)
	}
	stepWants(t, m, Reserved{Amount: 0, Quotes: []Quote{{Need: 0, Mark: 3100}}}, &PlaceIOC{Leg: 0, ID: 101, Side: book.Sell, Price: 3000, Qty: 1})
	if err := m.Step(OrderFill{Leg: 0, Price: 3050, Qty: 1, Value: sym.Value(3050, 1)}); !errors.Is(err, ErrInvariant) {
		t.Fatalf("a fill after the reservation: %v", err)
	}
}

// TestOrderFillPastTheTickMovesTheOtherLegs: a cross account on 2000,
// long 1 at 3750 in AAA and in BBB at 5x, sold AAA at 3000 (within the
// 2750 its share of the equity bounded a close at) while BBB's mark fell
// to 1974 and took both over: AAA bankrupt at 3586 then, BBB at 1915. The
// fill's 586 beyond 3586 is the equity's, not AAA's execution: BBB's tick
// moves up by it to 2501 (the fund's favour), where a sequenced engine,
// selling AAA first, would have left BBB bankrupt (2500), so BBB's IOC
// and its ADL close at 2501 take it back and the fund gets the 1 of dust;
// before, it paid 585. Alone on its account, the leg keeps such a loss:
// the seed's long sold at 2990, 10 below its 3000, is the fund's 10.
func TestOrderFillPastTheTickMovesTheOtherLegs(t *testing.T) {
	aaa, bbb := compile(t, symSpec{name: "AAA", tiers: longTiers()}), compile(t, symSpec{name: "BBB", tiers: longTiers()})
	a := risk.NewAccount(1, risk.Cross)
	if a.Deposit(usdt("2000")) != risk.OK {
		t.Fatal("deposit")
	}
	for i, sym := range []*market.Symbol{aaa, bbb} {
		id := book.OrderID(i + 1)
		if a.SetLeverage(sym, 5) != risk.OK {
			t.Fatal("leverage")
		}
		if c, _ := a.PreTrade(sym, risk.Order{ID: id, Side: book.Buy, Type: risk.Limit, Price: 3750, Qty: 1}, 3750); c != risk.OK {
			t.Fatal(c)
		}
		if _, c := a.ApplyFill(sym, risk.Fill{OrderID: id, Side: book.Buy, Price: 3750, Qty: 1}); c != risk.OK {
			t.Fatal(c)
		}
	}
	if !a.OnMark(bbb, 1974) {
		t.Fatal("not liquidatable at 1974")
	}
	ids := book.OrderID(100)
	m, _, code := Start(a, bbb, 7, Config{NewID: func() book.OrderID { ids++; return ids }}, socialized)
	if code != risk.OK || len(m.Legs) != 2 || m.Legs[0].Bankruptcy != 3586 || m.Legs[1].Bankruptcy != 1915 {
		t.Fatalf("start %s: %s", code, m.Describe())
	}
	m.Ready()
	base := m.L.Base
	stepWants(t, m, OrderFill{Leg: 0, Price: 3000, Qty: 1, Value: aaa.Value(3000, 1)})
	if m.Legs[0].Gain != 0 || m.Legs[1].Bankruptcy != 2501 || m.L.Base < base {
		t.Fatalf("after the fill: %s", m.Describe())
	}
	stepWants(t, m, Reserved{Amount: 0, Quotes: []Quote{{}, {Need: 0, Mark: 1974}}}, &PlaceIOC{Leg: 1, ID: 101, Side: book.Sell, Price: 2501, Qty: 1})
	stepWants(t, m, IOCDone{ID: 101}, &Deleverage{Leg: 1, Price: 2501, Qty: 1, Cost: usdt("3750")})
	stepWants(t, m, ADLPlan{Leg: 1, Closes: 1, Covered: 1})
	stepWants(t, m, ADLFilled{Leg: 1, Asked: 1, Qty: 1},
		&Settle{ID: 7, Fund: usdt("1"), Volume: aaa.Notional(3000, 1) + bbb.Notional(2501, 1), Symbol: aaa})

	m, sym := seedMachineOf(t, false, 1)
	stepWants(t, m, OrderFill{Leg: 0, Price: 2990, Qty: 1, Value: sym.Value(2990, 1)})
	stepWants(t, m, Reserved{Amount: 0, Quotes: []Quote{{Need: 0, Mark: 3100}}},
		&Settle{ID: 7, Fund: -usdt("10"), Volume: sym.Notional(2990, 1), Symbol: sym})
}
