package risk

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// bruteMM is the maintenance margin computed independently of Tier.Cum: the
// marginal sum over the tiers of the config (each slice of notional at its
// tier's rate), rounded up to Money.
func bruteMM(tiers []market.TierConfig, n market.Money) *big.Int {
	total, prev := new(big.Int), int64(0)
	for k, tc := range tiers {
		hi, _ := market.MoneyFromDecimal(tc.MaxNotional)
		r, _ := market.RateFromDecimal(tc.MMR)
		top := int64(n)
		if k < len(tiers)-1 && int64(hi) < top {
			top = int64(hi)
		}
		if top <= prev {
			break
		}
		total.Add(total, new(big.Int).Mul(big.NewInt(top-prev), big.NewInt(int64(r))))
		prev = int64(hi)
	}
	q, m := new(big.Int).DivMod(total, big.NewInt(market.RateScale), new(big.Int))
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

type bruteSym struct {
	sym   *market.Symbol
	tiers []market.TierConfig
}

func randomSymbol(rng *rand.Rand, name string, maxPriceTicks int64) bruteSym {
	ticks := []string{"1", "0.5", "0.01"}
	lots := []string{"1", "0.1", "0.001"}
	rates := []string{"0.004", "0.005", "0.01", "0.025", "0.05", "0.1", "0.2"}
	tick, lot := dec(ticks[rng.IntN(3)]), dec(lots[rng.IntN(3)])
	// Tier boundaries: whole USDT, spread over the largest position value.
	top := tick.Mul(lot).Mul(dec(fmt.Sprint(maxPriceTicks * 100))).Ceil().IntPart()
	var tiers []market.TierConfig
	n, r := int64(0), 0
	for k := rng.IntN(4); k >= 0; k-- {
		n += 1 + rng.Int64N(top/2+1)
		r += rng.IntN(3)
		if r >= len(rates) {
			r = len(rates) - 1
		}
		tiers = append(tiers, market.TierConfig{MaxNotional: dec(fmt.Sprint(n)), MMR: dec(rates[r])})
	}
	cfg := market.SymbolConfig{Symbol: name, Tick: tick, Lot: lot, MMTiers: tiers,
		MaxPrice: tick.Mul(dec(fmt.Sprint(maxPriceTicks))), MaxQty: lot.Mul(dec("100"))}
	s, err := cfg.Compile()
	if err != nil {
		panic(err)
	}
	return bruteSym{s, tiers}
}

// bruteLiquidatable: equity ≤ Σ MM with every position at its mark, except
// slot i at price x.
func bruteLiquidatable(a *Account, syms map[*market.Symbol]bruteSym, i int, x book.Ticks) bool {
	p := &a.pos[i]
	eq, mm := big.NewInt(int64(p.margin)), new(big.Int)
	if p.mode == Cross {
		eq.SetInt64(int64(a.cash))
	}
	for j := range a.pos {
		o := &a.pos[j]
		if o.qty == 0 || (j != i && (o.mode != Cross || p.mode != Cross)) {
			continue
		}
		price := o.mark
		if j == i {
			price = x
		}
		v := new(big.Int).Mul(big.NewInt(int64(o.qty)), big.NewInt(int64(price)))
		v.Mul(v, big.NewInt(int64(o.sym.Multiplier)))
		eq.Add(eq, v.Sub(v, big.NewInt(int64(o.cost))))
		mm.Add(mm, bruteMM(syms[o.sym].tiers, o.sym.Notional(price, o.qty)))
	}
	return eq.Cmp(mm) <= 0
}

// TestLiquidationPriceBruteForce compares the solved liquidation tick with a
// scan of every tick, on random symbols (1–4 tiers), random positions (long
// and short, isolated and cross with up to two other cross positions at
// random marks) and random backing, including already-bankrupt ones.
func TestLiquidationPriceBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const maxP = 3000
	inside := 0 // positions whose trigger is strictly inside the range
	defer func() {
		if inside < 40 {
			t.Errorf("only %d positions with a liquidation price inside the range", inside)
		}
	}()
	for iter := 0; iter < 60; iter++ {
		syms := map[*market.Symbol]bruteSym{}
		a := NewAccount(1, Cross)
		a.cash = market.Money(rng.Int64N(2e11) - 2e10)
		var list []*market.Symbol
		for k := 0; k < 3; k++ {
			bs := randomSymbol(rng, fmt.Sprint("S", k), maxP)
			syms[bs.sym] = bs
			list = append(list, bs.sym)
			i := a.slot(bs.sym)
			p := &a.pos[i]
			p.qty = book.Lots(1 + rng.Int64N(int64(bs.sym.MaxQty)))
			if rng.IntN(2) == 0 {
				p.qty = -p.qty
			}
			entry := book.Ticks(1 + rng.Int64N(maxP))
			p.cost = bs.sym.Value(entry, p.qty) + market.Money(rng.Int64N(1000)-500)
			p.mark = book.Ticks(1 + rng.Int64N(maxP))
			if k == 0 && iter%2 == 0 {
				p.mode = Isolated
				p.margin = market.Money(rng.Int64N(int64(bs.sym.Notional(entry, p.qty))+1) - 1000)
			}
			if k > 0 && rng.IntN(3) == 0 {
				p.qty, p.cost = 0, 0 // fewer cross positions
			}
		}
		a.afterChange(0)
		for i, sym := range list {
			p := &a.pos[i]
			if p.qty == 0 {
				continue
			}
			liq, _ := a.LiquidationPrice(sym)
			if liq > 1 && liq < maxP {
				inside++
			}
			for x := book.Ticks(1); x <= maxP; x++ {
				want := bruteLiquidatable(a, syms, i, x)
				got := x <= liq
				if p.qty < 0 {
					got = x >= liq
				}
				if got != want {
					t.Fatalf("iter %d slot %d qty %d mode %s: liq tick %d but brute force at %d says %v",
						iter, i, p.qty, p.mode, liq, x, want)
				}
			}
			// OnMark agrees with the brute force at the stored marks.
			if got, want := a.OnMark(sym, p.mark), bruteLiquidatable(a, syms, i, p.mark); got != want {
				t.Fatalf("iter %d OnMark %v brute %v", iter, got, want)
			}
		}
	}
}

// TestBankruptcyPriceBruteForce: equity ≥ 0 at the bankruptcy tick and < 0
// one tick beyond it; a tick clamped to [1, MaxPrice] against the fund
// reports the equity missing there as its deficit. Every fourth margin is
// negative (funding ate it), so such clamps occur.
func TestBankruptcyPriceBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	btc, _ := demo()
	clamped := 0
	for iter := 0; iter < 2000; iter++ {
		a := NewAccount(1, Isolated)
		i := a.slot(btc)
		p := &a.pos[i]
		p.qty = book.Lots(1 + rng.Int64N(int64(btc.MaxQty)))
		if iter%2 == 1 {
			p.qty = -p.qty
		}
		entry := book.Ticks(1 + rng.Int64N(int64(btc.MaxPrice)))
		p.cost = btc.Value(entry, p.qty)
		p.margin = market.Money(rng.Int64N(int64(btc.Notional(entry, p.qty)) + 1))
		if iter%4 >= 2 {
			p.margin = -p.margin
		}
		p.mark = entry
		a.afterChange(i)
		bk, _ := a.BankruptcyPrice(btc)
		eq := func(x book.Ticks) market.Money { return p.margin + btc.PnL(p.qty, p.cost, x) }
		beyond, fundEdge, againstEdge := bk-1, book.Ticks(1), btc.MaxPrice
		if p.qty < 0 {
			beyond, fundEdge, againstEdge = bk+1, btc.MaxPrice, 1
		}
		switch {
		case bk < 1 || bk > btc.MaxPrice:
			t.Fatalf("bk %d out of [1, MaxPrice]", bk)
		case eq(bk) < 0 && bk != againstEdge, bk != fundEdge && bk != againstEdge && eq(beyond) >= 0:
			t.Fatalf("qty %d cost %d margin %d: bk %d eq %d, beyond %d", p.qty, p.cost, p.margin, bk, eq(bk), eq(beyond))
		case p.bkDeficit(p.margin, bk) != max(0, -eq(bk)):
			t.Fatalf("bk %d: deficit %d, equity there %d", bk, p.bkDeficit(p.margin, bk), eq(bk))
		}
		if eq(bk) < 0 {
			clamped++
		}
		// The liquidation trigger is never past bankruptcy.
		if liq, ok := a.LiquidationPrice(btc); ok && ((p.qty > 0 && liq < bk-1) || (p.qty < 0 && liq > bk+1)) {
			t.Fatalf("qty %d: liq %d beyond bk %d", p.qty, liq, bk)
		}
	}
	if clamped == 0 {
		t.Fatal("no bankruptcy tick was clamped against the fund")
	}
}

// TestLiquidationPriceDemoScale checks the solver at the demo symbol's full
// range around its answer (a full scan of 1e7 ticks would be too slow).
func TestLiquidationPriceDemoScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	btc, _ := demo()
	syms := map[*market.Symbol]bruteSym{btc: {btc, market.DemoConfigs()[0].MMTiers}}
	for iter := 0; iter < 500; iter++ {
		a := NewAccount(1, Isolated)
		i := a.slot(btc)
		p := &a.pos[i]
		p.qty = book.Lots(1 + rng.Int64N(int64(btc.MaxQty)))
		if iter%2 == 1 {
			p.qty = -p.qty
		}
		entry := book.Ticks(1 + rng.Int64N(int64(btc.MaxPrice)))
		p.cost = btc.Value(entry, p.qty)
		p.margin = market.Money(rng.Int64N(int64(btc.Notional(entry, p.qty))/2 + 1))
		p.mark = entry
		a.afterChange(i)
		liq := p.liq
		for _, x := range []book.Ticks{liq - 1, liq, liq + 1, 1, btc.MaxPrice, book.Ticks(1 + rng.Int64N(int64(btc.MaxPrice)))} {
			if x < 1 || x > btc.MaxPrice {
				continue
			}
			got := x <= liq
			if p.qty < 0 {
				got = x >= liq
			}
			if want := bruteLiquidatable(a, syms, i, x); got != want {
				t.Fatalf("qty %d entry %d margin %d: liq %d, brute at %d: %v", p.qty, entry, p.margin, liq, x, want)
			}
		}
	}
}
