package liq

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// boundSymbol is a tick-1 linear symbol (band 0.5), or an inverse one
// (tick 0.5 USD, 1-USD lots, band 0.5), with liquidation slippage slip.
func boundSymbol(t *testing.T, inverse bool, slip string) *market.Symbol {
	t.Helper()
	s := dec(slip)
	cfg := market.SymbolConfig{Symbol: "LIN", Tick: dec("1"), Lot: dec("1"), PriceBand: dec("0.5"), LiquidationSlippage: &s}
	if inverse {
		cfg.Symbol, cfg.Quote, cfg.Contract, cfg.Settle, cfg.Tick = "INV", "USD", "inverse", "BTC", dec("0.5")
	}
	sym, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return sym
}

// TestLiquidationBound: a liquidation's IOC limit and its quoted need
// stop at the bankruptcy price B less (long: a sell) or plus (short: a
// buy) the symbol's slippage, rounded to the tick towards B, whatever the
// book holds beyond and the fund would grant; the tighter of that and the
// reservation's limit wins, the band still clamps, and a bound beyond the
// band leaves no limit (ADL). The need is what a full fill at the limit
// loses, so granting it exactly reaches the same price.
func TestLiquidationBound(t *testing.T) {
	lin, lin0 := boundSymbol(t, false, "0.05"), boundSymbol(t, false, "0")
	inv, inv0 := boundSymbol(t, true, "0.05"), boundSymbol(t, true, "0")
	for _, c := range []struct {
		name      string
		sym       *market.Symbol
		qty       book.Lots
		bk, mark  book.Ticks
		deficit   market.Money
		quote     book.Ticks // the only level on the side the IOC takes
		bound     book.Ticks // the leg's PriceBound
		limit     book.Ticks // granted more than any need
		needPrice book.Ticks // the price the need is quoted at (0: none)
	}{
		// 3001 × 0.05 = 150.05: the bound is 2851 (2850.95 rounded up), 3151
		// (3151.05 rounded down); the band around 3100 reaches 1550-4650.
		{"linear long, rounded up", lin, 2, 3001, 3100, 0, 1550, 2851, 2851, 2851},
		{"linear short, rounded down", lin, -2, 3001, 2900, 0, 4350, 3151, 3151, 3151},
		{"linear long, bids inside the bound", lin, 2, 3001, 3100, 0, 2960, 2851, 2851, 2960},
		{"linear long, s = 0", lin0, 2, 3001, 3100, 0, 1550, 3001, 3001, 0},
		{"linear short, s = 0", lin0, -2, 3001, 2900, 0, 4350, 3001, 3001, 0},
		// The band's top (2700) is below the bound (2850): no sell fits.
		{"linear long, bound above the band", lin, 1, 3000, 1800, 0, 1000, 2850, 0, 0},
		{"linear short, bound below the band", lin, -1, 3000, 7000, 0, 9000, 3150, 0, 0},
		// A Bankruptcy tick clamped against the fund bounds nothing: the band does.
		{"linear short bankrupt at every price", lin, -1, 1, 2900, 500, 4350, 0, 4350, 4350},
		// Inverse, in ticks of 0.5 USD: B 80001 × 0.05 = 4000.05.
		{"inverse long, rounded up", inv, 10, 80001, 82000, 0, 41000, 76001, 76001, 76001},
		{"inverse short, rounded down", inv, -10, 80001, 78000, 0, 117000, 84001, 84001, 84001},
		{"inverse long, s = 0", inv0, 10, 80001, 82000, 0, 41000, 80001, 80001, 0},
		{"inverse short, s = 0", inv0, -10, 80001, 78000, 0, 117000, 80001, 80001, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := risk.LiquidationLeg{Symbol: c.sym, Qty: c.qty, Remaining: c.qty, Bankruptcy: c.bk, Deficit: c.deficit}
			if b := g.PriceBound(); b != c.bound {
				t.Fatalf("bound %d, want %d", b, c.bound)
			}
			l := &risk.Liquidation{Legs: []risk.LiquidationLeg{g}}
			if lim := l.OrderLimit(c.sym, market.MaxNotionalCap, c.mark); lim != c.limit {
				t.Fatalf("limit %d, want %d", lim, c.limit)
			}
			b := book.New()
			var r book.Result
			side := book.Buy // the bids a long's IOC sells into
			if c.qty < 0 {
				side = book.Sell
			}
			b.Place(book.Order{ID: 1, Account: 1, Side: side, Type: book.Limit, TIF: book.GTC, Price: c.quote, Qty: 4 * abs(c.qty)}, &r)
			if r.Code != book.OK {
				t.Fatalf("resting the quote: %v", r.Code)
			}
			q := Need(QuoteLeg{Symbol: c.sym, Qty: c.qty, Bankruptcy: c.bk, Bound: g.PriceBound()}, b, c.mark)
			var want market.Money
			switch {
			case c.needPrice == 0:
			case c.qty > 0:
				want = c.sym.ValueDiff(c.bk, c.needPrice, c.qty)
			default:
				want = c.sym.ValueDiff(c.needPrice, c.bk, -c.qty)
			}
			if q.Need != want || q.Mark != c.mark {
				t.Fatalf("need %d at mark %d, want %d (at %d)", q.Need, q.Mark, want, c.needPrice)
			}
			// Granted exactly its need, the IOC reaches the quoted price
			// and no further: a full fill loses at most the need.
			if lim := l.OrderLimit(c.sym, q.Need, c.mark); c.needPrice != 0 && lim != c.needPrice {
				t.Fatalf("limit %d for the need %d, want %d", lim, q.Need, c.needPrice)
			}
		})
	}
}
