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
