package binance

import (
	"testing"

	"github.com/perpx/perpx/wire"
)

// TestOrderStatusOfCancels: a canceled order's status as Binance says it,
// by who canceled it.
func TestOrderStatusOfCancels(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    wire.Order
		want string
	}{
		{"the trader's cancel", wire.Order{Status: wire.StatusCanceled, TIF: wire.GTC, Type: wire.Limit}, "CANCELED"},
		{"an IOC's rest", wire.Order{Status: wire.StatusCanceled, TIF: wire.IOC, Type: wire.Limit}, "EXPIRED"},
		{"self-trade prevention", wire.Order{Status: wire.StatusCanceled, TIF: wire.GTC, Type: wire.Limit, CanceledBySTP: true}, "EXPIRED_IN_MATCH"},
		{"the bankruptcy bound", wire.Order{Status: wire.StatusCanceled, TIF: wire.GTC, Type: wire.Limit, CanceledByBankruptcy: true}, "EXPIRED"},
		{"filled before its cancel", wire.Order{Status: wire.StatusFilled, TIF: wire.GTC, Type: wire.Limit}, "FILLED"},
	} {
		if got := bnOrderStatus(&tc.o); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
