package risk

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// TestMoveBankruptcy: a leg's funding (Liquidation.Funding) moves its
// bankruptcy tick to the nearest one whose close of the remainder gives
// the payment back (MoveBankruptcy): closing the remainder there settles
// at least as well as closing it at the old tick did before the payment,
// by at most a tick on the remainder (linear: the tick just worse for the
// fund does not give it back), for longs
// and shorts, paid and received, linear and inverse, with part of the leg
// already closed; a move past [1, MaxPrice] clamps, and the rest is the
// leg's Deficit.
func TestMoveBankruptcy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sym := range []*market.Symbol{seedSymbol(t), inverseSymbol(t, "XBT")} {
		for range 2000 {
			q := book.Lots(1 + rng.IntN(50))
			if rng.IntN(2) == 0 {
				q = -q
			}
			bk := book.Ticks(1000 + rng.IntN(9000))
			done := book.Lots(rng.IntN(int(abs(q))))
			l := &Liquidation{Legs: []LiquidationLeg{{Symbol: sym, Qty: q, Remaining: q, Bankruptcy: bk}}}
			if done > 0 {
				l.ApplyFill(sym, bk+book.Ticks(rng.IntN(100))-50, done)
			}
			g := &l.Legs[0]
			rem := g.Remaining
			amount := market.Money(rng.Int64N(int64(sym.Notional(bk, rem)/20)) + 1) // within 5 % of the price
			if rng.IntN(2) == 0 {
				amount = -amount
			}
			closed := func(l *Liquidation, at book.Ticks) market.Money { // the surplus of closing the rest at
				c := *l
				c.Legs = slices.Clone(l.Legs)
				if code := c.ApplyFill(sym, at, abs(rem)); code != OK {
					t.Fatalf("close %d at %d: %s", rem, at, code)
				}
				s, _ := c.Settle()
				return s.Surplus
			}
			before := closed(l, bk)
			l.Funding(amount)
			moved, code := l.MoveBankruptcy(sym, amount)
			x := g.Bankruptcy
			if code != OK || moved != (x != bk) || (amount < 0) != ((x > bk) == (q > 0)) && moved {
				t.Fatalf("%s %d (%d closed) at %d, %d: moved %v to %d, %s", sym.Name, q, done, bk, amount, moved, x, code)
			}
			if g.Deficit != 0 || l.Deficit != max(0, -l.Base) {
				t.Fatalf("%s %d at %d, %d: deficit %d, base %d (%d)", sym.Name, q, bk, amount, g.Deficit, l.Base, l.Deficit)
			}
			after := closed(l, x)
			// One tick worse for the fund (a long's lower, a short's
			// higher) does not give it back.
			worse := x - 1
			if q < 0 {
				worse = x + 1
			}
			tick := max(sym.ValueDiff(worse, x, abs(rem)), sym.ValueDiff(x, worse, abs(rem))) + 1
			if left := after - before; left < 0 || left > tick {
				t.Fatalf("%s %d (%d closed) at %d, %d: moved to %d, leaves %d (a tick %d)", sym.Name, q, done, bk, amount, x, left, tick)
			}
			if sym.Kind == market.Linear && closed(l, worse)-before >= 0 {
				t.Fatalf("%s %d at %d, %d: %d would do, not %d", sym.Name, q, bk, amount, worse, x)
			}
		}
	}
	// A long that pays more than MaxPrice can take: clamped, the rest is
	// the leg's deficit and the liquidation's.
	sym := seedSymbol(t)
	l := &Liquidation{Legs: []LiquidationLeg{{Symbol: sym, Qty: 1, Remaining: 1, Bankruptcy: sym.MaxPrice - 10}}}
	l.Funding(-sym.Value(15, 1))
	if moved, _ := l.MoveBankruptcy(sym, -sym.Value(15, 1)); !moved || l.Legs[0].Bankruptcy != sym.MaxPrice ||
		l.Legs[0].Deficit != sym.Value(5, 1) || l.Deficit != sym.Value(5, 1) {
		t.Fatalf("clamped: %+v, deficit %d", l.Legs[0], l.Deficit)
	}
	// A clamped leg keeps its tick: the payment stays in Base.
	l.Funding(-sym.Value(1, 1))
	if moved, _ := l.MoveBankruptcy(sym, -sym.Value(1, 1)); moved || l.Deficit != sym.Value(6, 1) {
		t.Fatalf("clamped again: %+v, deficit %d", l.Legs[0], l.Deficit)
	}
	if _, code := l.MoveBankruptcy(inverseSymbol(t, "XBT"), 1); code != BadRequest {
		t.Fatalf("unknown leg: %s", code)
	}
}
