package adl

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

func TestUpdateRejectsBadInputAndLeavesStateAlone(t *testing.T) {
	rk := mustNew(t, unitConfig)
	open(t, rk, 1, Long, 10, 3000, 10)
	before, _ := rk.Position(1)
	for _, c := range []struct {
		name         string
		side         book.Side
		qty          book.Lots
		cost, margin market.Money
		want         error
	}{
		{"negative qty", Long, -1, usdt(1), usdt(1), ErrInvalidQty},
		{"bad side", 0, 1, usdt(1), usdt(1), ErrInvalidSide},
		{"zero cost", Long, 1, 0, usdt(1), ErrInvalidCost},
		{"zero margin", Short, 1, usdt(1), 0, ErrInvalidMargin},
	} {
		if err := rk.Update(1, c.side, c.qty, c.cost, c.margin); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if after, _ := rk.Position(1); after != before {
		t.Fatalf("rejected updates changed the position: %+v -> %+v", before, after)
	}
	if _, err := New(Config{Multiplier: 0}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("zero multiplier: %v", err)
	}
	if err := rk.SetMark(0); !errors.Is(err, ErrInvalidPrice) {
		t.Fatalf("zero mark: %v", err)
	}
	if _, err := ParseMode("clawback"); !errors.Is(err, ErrInvalidMode) {
		t.Fatalf("bad mode: %v", err)
	}
}

func TestUpdateMovesFlipsAndRemoves(t *testing.T) {
	rk := mustNew(t, unitConfig)
	open(t, rk, 7, Long, 10, 3000, 10)
	open(t, rk, 8, Short, 10, 3000, 10)
	open(t, rk, 7, Short, 4, 3100, 2) // flip to short
	if rk.Count(Long) != 0 || rk.Count(Short) != 2 || rk.OpenInterest(Short) != 14 {
		t.Fatalf("after flip: %d long, %d short, short OI %d", rk.Count(Long), rk.Count(Short), rk.OpenInterest(Short))
	}
	for _, margin := range []market.Money{usdt(6200) + 1, usdt(620)} { // same bucket, then 10×: another
		if err := rk.Update(7, Short, 4, usdt(4*3100), margin); err != nil {
			t.Fatal(err)
		}
		if p, _ := rk.Position(7); p.Margin != margin {
			t.Fatalf("margin %v, want %v", p.Margin, margin)
		}
		if err := rk.Check(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rk.Update(7, 0, 0, 0, 0); err != nil { // close: side and amounts ignored
		t.Fatal(err)
	}
	if _, ok := rk.Position(7); ok || rk.Count(Short) != 1 {
		t.Fatal("closed position still ranked")
	}
	if err := rk.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestSetMarkAndUpdateDoNotAllocate(t *testing.T) {
	rk := mustNew(t, unitConfig)
	rng := rand.New(rand.NewPCG(3, 4))
	ps := genPopulation(rng, 5000, 3000, rk.cfg.Multiplier)
	load(t, rk, ps)
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		p := ps[i%len(ps)]
		i++
		p.qty++
		p.cost += usdt(3000)
		_ = rk.SetMark(book.Ticks(2900 + i%200))
		if err := rk.Update(p.acct, p.side, p.qty, p.cost, p.margin); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Update+SetMark allocate %.2f times per call", allocs)
	}
	if err := rk.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestTopMatchesNaiveRanking is the merge's correctness test: at many marks
// (both sides in profit and in loss, some positions bankrupt), Top(count)
// lists exactly the naive sort of every score.
func TestTopMatchesNaiveRanking(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rk := mustNew(t, unitConfig)
	load(t, rk, genPopulation(rng, 3000, 3000, rk.cfg.Multiplier))
	var top []QueueEntry
	for _, mark := range []book.Ticks{3000, 2500, 2600, 2800, 2990, 3010, 3300, 3500, 4000, 1, 1e6} {
		if err := rk.SetMark(mark); err != nil {
			t.Fatal(err)
		}
		for _, side := range []book.Side{Long, Short} {
			ref := reference(rk, side)
			var err error
			top, err = rk.Top(side, len(ref)+5, top[:0])
			if err != nil {
				t.Fatal(err)
			}
			if len(top) != len(ref) {
				t.Fatalf("mark %d %v: Top lists %d, naive %d", mark, side, len(top), len(ref))
			}
			for i := range ref {
				if top[i].Account != ref[i].acct || top[i].Rank != i+1 {
					t.Fatalf("mark %d %v rank %d: Top has account %d (score %v), naive %d (score %v)",
						mark, side, i+1, top[i].Account, top[i].Score, ref[i].acct, ref[i].v)
				}
			}
		}
	}
}

// TestTopMatchesNaiveRankingNearBankruptcy: low-leverage longs that lost
// more than half (g < 0.5, where r = g−1 rounds) and shorts past double
// (g > 2), margins within a few units of bankruptcy, crowds on one key
// across the edge: Top lists exactly the naive sort. With the equity summed
// as plain b+r the two disagreed.
func TestTopMatchesNaiveRankingNearBankruptcy(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct {
		side book.Side
		mark book.Ticks
	}{{Long, 4_841}, {Long, 3_003}, {Long, 17}, {Short, 21_000}, {Short, 977_777}} {
		rk := mustNew(t, Config{Multiplier: 1000})
		loadNearBankrupt(t, rng, rk, c.side, 300, func(qty book.Lots) (market.Money, market.Money) {
			return market.Money(int64(qty) * int64(8_000+rng.IntN(2_000)) * 1000), market.Money(int64(qty) * int64(c.mark) * 1000)
		})
		if err := rk.SetMark(c.mark); err != nil {
			t.Fatal(err)
		}
		topIsNaive(t, rk, c.side, nil)
	}
}

func TestLargeAccountIDsUseTheSparseIndex(t *testing.T) {
	rk := mustNew(t, unitConfig)
	ids := []book.AccountID{0, denseLimit - 1, denseLimit, 1 << 40, 1<<64 - 1}
	for i, id := range ids {
		open(t, rk, id, Long, book.Lots(i+1), 3000, 10)
	}
	for i, id := range ids {
		if p, ok := rk.Position(id); !ok || p.Qty != book.Lots(i+1) {
			t.Fatalf("account %d: %+v %v", id, p, ok)
		}
	}
	if _, ok := rk.Position(1 << 41); ok {
		t.Fatal("unknown large account found")
	}
	for _, id := range ids[1:] {
		if err := rk.Update(id, Long, 0, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := rk.Check(); err != nil || rk.Count(Long) != 1 {
		t.Fatalf("%v, %d left", err, rk.Count(Long))
	}
}

// crowd appends n positions on side at one entry price (ticks) and leverage
// lev: identical when jitter is 0, otherwise with margins spread by up to
// jitter (a fraction) inside about one bucket, so one key holds many groups.
func crowd(rng *rand.Rand, ps []genPos, first book.AccountID, n int, side book.Side, entry book.Ticks, lev, jitter float64, mult market.Money) []genPos {
	for i := range n {
		qty := book.Lots(3)
		if jitter > 0 {
			qty = book.Lots(1 + rng.IntN(50)) // cost/qty is the same key; b differs by rounding
		}
		cost := market.Money(int64(qty) * int64(entry) * int64(mult))
		margin := max(1, market.Money(float64(cost)/lev*(1+jitter*rng.Float64())))
		ps = append(ps, genPos{acct: first + book.AccountID(i), side: side, qty: qty, cost: cost, margin: margin})
	}
	return ps
}

// crowdedBook is a random population plus crowds that share an entry price:
// identical positions, one entry with margins spread in a bucket, positions
// entered at a price the marks below hit exactly (r = 0 ties every b),
// leverage beyond 1024× (the open-ended bucket 0), and account ids at the top
// of the range.
func crowdedBook(t *testing.T, rng *rand.Rand) *Ranking {
	rk := mustNew(t, unitConfig)
	ps := genPopulation(rng, 1000, 3000, rk.cfg.Multiplier)
	ps = crowd(rng, ps, 10_000, 300, Short, 3100, 10, 0, rk.cfg.Multiplier)
	ps = crowd(rng, ps, 20_000, 300, Long, 2900, 10, 0, rk.cfg.Multiplier)
	ps = crowd(rng, ps, 30_000, 200, Short, 3050, 20, 0.05, rk.cfg.Multiplier)
	ps = crowd(rng, ps, 40_000, 200, Long, 3000, 5, 0.04, rk.cfg.Multiplier)
	ps = crowd(rng, ps, 50_000, 100, Short, 3000, 3, 0.5, rk.cfg.Multiplier)
	ps = crowd(rng, ps, 60_000, 20, Short, 3030, 5000, 0.5, rk.cfg.Multiplier) // bucket 0 (b < 2^-10)
	ps = crowd(rng, ps, 70_000, 20, Long, 2970, 5000, 0.5, rk.cfg.Multiplier)
	ps = crowd(rng, ps, 80_000, 20, Short, 3060, 700, 0.1, rk.cfg.Multiplier) // just below bucket 0 at 3000
	ps = crowd(rng, ps, 90_000, 20, Long, 2940, 700, 0.1, rk.cfg.Multiplier)
	for i := range 100 { // alike, with a cost that is no multiple of qty: a partial close rounds the key down
		cost := market.Money(7*3080)*rk.cfg.Multiplier + 3
		ps = append(ps, genPos{acct: 100_000 + book.AccountID(i), side: Short, qty: 7, cost: cost, margin: cost / 10})
	}
	ps = crowd(rng, ps, 1<<64-60, 50, Short, 3100, 10, 0, rk.cfg.Multiplier)
	ps = crowd(rng, ps, 1<<64-10, 10, Long, 2900, 10, 0, rk.cfg.Multiplier)
	rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	load(t, rk, ps)
	return rk
}

// crowdMarks: flat, the crowds' entries exactly (r = 0), moves that put the
// crowds deep in profit, in loss, and past bankruptcy (3100 shorts at 10×
// are bankrupt above 3410).
var crowdMarks = []book.Ticks{3000, 3100, 2900, 3050, 2700, 3300, 3400, 3410, 3411, 3500, 2600, 2610, 2000, 4500, 3009, 2991}

// TestTopMatchesNaiveRankingWithCrowds checks the runs of one entry price
// (identical groups, float ties between groups, bankrupt prefixes) against
// the naive sort.
func TestTopMatchesNaiveRankingWithCrowds(t *testing.T) {
	rk := crowdedBook(t, rand.New(rand.NewPCG(9, 10)))
	var top []QueueEntry
	for _, mark := range crowdMarks {
		if err := rk.SetMark(mark); err != nil {
			t.Fatal(err)
		}
		for _, side := range []book.Side{Long, Short} {
			var ref []scored
			top, ref = topIsNaive(t, rk, side, top[:0])
			// A short listing must be the naive prefix too (the merge stops early).
			n := 1 + len(ref)/7
			top, _ = rk.Top(side, n, top[:0])
			for i := range n {
				if top[i].Account != ref[i].acct {
					t.Fatalf("mark %d %v: Top(%d)[%d] is %d, naive %d", mark, side, n, i, top[i].Account, ref[i].acct)
				}
			}
		}
	}
}

// TestDeleverageCrowdsFollowTheRanking deleverages through the crowds in
// many small requests: each request's closes are the naive ranking's head
// at that moment, partly closed positions included.
func TestDeleverageCrowdsFollowTheRanking(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, mark := range crowdMarks {
		rk := crowdedBook(t, rng)
		_ = rk.SetMark(mark)
		for _, side := range []book.Side{Long, Short} {
			const bankrupt = book.AccountID(1 << 40)
			var closes []Close
			for step := range 40 {
				qty := book.Lots(1 + rng.IntN(40))
				cost := market.Money(int64(qty) * int64(mark) * int64(rk.cfg.Multiplier))
				if err := rk.Update(bankrupt, side, qty, cost, 1); err != nil {
					t.Fatal(err)
				}
				ref := reference(rk, side.Opposite())
				out, err := rk.Deleverage(Request{Account: bankrupt, Side: side, Qty: qty, Price: mark}, closes[:0])
				if err != nil || out.Covered != qty {
					t.Fatalf("mark %d step %d: %+v %v", mark, step, out, err)
				}
				closes = out.Closes
				for i, c := range closes {
					if c.Account != ref[i].acct {
						t.Fatalf("mark %d %v step %d: close %d hits %d, naive %d", mark, side, step, i, c.Account, ref[i].acct)
					}
				}
				if err := rk.Check(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
