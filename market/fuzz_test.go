package market

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
)

// FuzzPriceToTicks: any decimal either converts to ticks that convert back
// to the same value, or fails with a range or tick error — never a panic.
func FuzzPriceToTicks(f *testing.F) {
	for _, s := range []string{"30000.5", "0.1", "0", "-1", "1e7", "1000000.05", "123.4500", "1e-30", "99999999999999999999"} {
		f.Add(s)
	}
	btc := DemoSymbols()[0]
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decimal.NewFromString(s)
		if err != nil {
			return
		}
		tk, err := btc.PriceToTicks(d)
		if err != nil {
			if !errors.Is(err, ErrPriceRange) && !errors.Is(err, ErrNotTickMultiple) {
				t.Fatalf("%s: unexpected error %v", s, err)
			}
			return
		}
		if tk < 1 || tk > btc.MaxPrice || !btc.Price(tk).Equal(d) {
			t.Fatalf("%s → %d → %s", s, tk, btc.Price(tk))
		}
	})
}
