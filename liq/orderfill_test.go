package liq

import (
	"errors"
	"testing"

	"github.com/perpx/perpx/book"
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
