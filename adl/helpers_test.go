package adl

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// usdt is whole USDT in Money.
func usdt(v int64) market.Money { return market.Money(v * market.MoneyScale) }

// unitConfig prices in whole USDT: one tick × one lot is 1 USDT.
var unitConfig = Config{Symbol: "TEST-PERP", Multiplier: market.MoneyScale, IndicatorRefreshMs: 1000}

func mustNew(t testing.TB, cfg Config) *Ranking {
	t.Helper()
	rk, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rk
}

// open adds a position of qty at entry (ticks) with the given leverage.
func open(t testing.TB, rk *Ranking, acct book.AccountID, side book.Side, qty book.Lots, entry book.Ticks, lev int64) {
	t.Helper()
	cost, ok := notional(qty, entry, rk.cfg.Multiplier)
	if !ok {
		t.Fatalf("cost overflows: %d × %d", qty, entry)
	}
	if err := rk.Update(acct, side, qty, cost, cost/market.Money(lev)); err != nil {
		t.Fatalf("update %d: %v", acct, err)
	}
}

// genPos is one random position of a synthetic population.
type genPos struct {
	acct         book.AccountID
	side         book.Side
	qty          book.Lots
	cost, margin market.Money
}

// levels are typical chosen leverages; a jitter spreads them over buckets.
var levels = []float64{1, 2, 3, 5, 10, 20, 25, 50, 75, 100, 125}

// genPopulation makes n positions around mark (ticks), entries within ±15%
// of it, so both sides hold winners and losers; accounts are 1..n.
func genPopulation(rng *rand.Rand, n int, mark book.Ticks, mult market.Money) []genPos {
	ps := make([]genPos, n)
	for i := range ps {
		ps[i] = genOne(rng, book.AccountID(i+1), mark, mult)
	}
	return ps
}

func genOne(rng *rand.Rand, acct book.AccountID, mark book.Ticks, mult market.Money) genPos {
	side := Long
	if rng.IntN(2) == 0 {
		side = Short
	}
	qty := book.Lots(1 + rng.IntN(10_000))
	entry := book.Ticks(float64(mark) * (0.85 + 0.3*rng.Float64()))
	cost := market.Money(int64(qty) * int64(entry) * int64(mult))
	lev := levels[rng.IntN(len(levels))] * (0.9 + 0.2*rng.Float64())
	margin := max(1, market.Money(float64(cost)/lev))
	return genPos{acct: acct, side: side, qty: qty, cost: cost, margin: margin}
}

func load(t testing.TB, rk *Ranking, ps []genPos) {
	t.Helper()
	for _, p := range ps {
		if err := rk.Update(p.acct, p.side, p.qty, p.cost, p.margin); err != nil {
			t.Fatal(err)
		}
	}
}

// reference ranks a side the naive way: score every position, sort.
func reference(rk *Ranking, side book.Side) []scored {
	var all []scored
	for idx, p := range rk.pos {
		if p.live && p.side == side {
			all = append(all, scored{rk.exact(int32(idx)), p.acct})
		}
	}
	slices.SortFunc(all, func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		return 1
	})
	return all
}

// unrealized is Σ PnL at the mark over every position.
func unrealized(t testing.TB, rk *Ranking) market.Money {
	t.Helper()
	var sum market.Money
	for _, p := range rk.pos {
		if p.live {
			info, _ := rk.Position(p.acct)
			sum += info.PnL
		}
	}
	return sum
}

// loadNearBankrupt loads n positions on side, accounts 1..n in random
// order, a hair from bankruptcy: each key (value gives a random cost and
// the value at the mark of qty lots) holds up to 11 positions with margins
// from 2 under the one that leaves no equity to 2 over, some equal (a
// group).
func loadNearBankrupt(t *testing.T, rng *rand.Rand, rk *Ranking, side book.Side, n int, value func(book.Lots) (cost, atMark market.Money)) {
	t.Helper()
	var ps []genPos
	for len(ps) < n {
		qty := book.Lots(1 + rng.IntN(1000))
		cost, atMark := value(qty)
		edge := cost - atMark // PnL is atMark − cost when it gains as the value rises
		if !rk.up(side) {
			edge = -edge
		}
		var m market.Money
		for j := range 1 + rng.IntN(3)*rng.IntN(6) {
			if j == 0 || rng.IntN(2) == 0 { // else the same margin: one group
				m = edge + market.Money(rng.IntN(5)-2)
			}
			if m > 0 {
				ps = append(ps, genPos{acct: book.AccountID(len(ps) + 1), side: side, qty: qty, cost: cost, margin: m})
			}
		}
	}
	rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	load(t, rk, ps)
}

// topIsNaive checks at the mark that Top lists side (into dst) exactly as
// the naive sort does, accounts and scores, and returns both.
func topIsNaive(t *testing.T, rk *Ranking, side book.Side, dst []QueueEntry) ([]QueueEntry, []scored) {
	t.Helper()
	mark := rk.Mark()
	ref := reference(rk, side)
	top, err := rk.Top(side, len(ref)+1, dst)
	if err != nil || len(top) != len(ref) {
		t.Fatalf("mark %d %v: Top lists %d (%v), naive %d", mark, side, len(top), err, len(ref))
	}
	for i := range ref {
		if top[i].Account != ref[i].acct || top[i].Score != ref[i].v {
			t.Fatalf("mark %d %v rank %d: Top has account %d (score %v), naive %d (score %v)",
				mark, side, i+1, top[i].Account, top[i].Score, ref[i].acct, ref[i].v)
		}
	}
	return top, ref
}
