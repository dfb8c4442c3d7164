package adl

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
)

func TestIndicatorIsTheQuintileOfTheRank(t *testing.T) {
	rk := mustNew(t, unitConfig) // refresh at most every 1000 ms
	// ten 10× shorts, entries 3100..3010: the higher the entry, the higher the rank
	for i := range 10 {
		open(t, rk, book.AccountID(100+i), Short, 1, book.Ticks(3100-10*i), 10)
	}
	_ = rk.SetMark(3000)
	for i := range 10 {
		got, err := rk.Indicator(book.AccountID(100+i), 0)
		if want := 5 - 5*i/10; err != nil || got != want {
			t.Fatalf("rank %d: light %d (%v), want %d", i, got, err, want)
		}
	}
	// Every short now loses, so each current score is below the cuts taken at
	// t=0: until the next refresh every light reads 1.
	_ = rk.SetMark(3200)
	for i := range 10 {
		if got, _ := rk.Indicator(book.AccountID(100+i), 999); got != 1 {
			t.Fatalf("stale cuts: account %d light %d, want 1", 100+i, got)
		}
	}
	for rank, s := range reference(rk, Short) {
		got, _ := rk.Indicator(s.acct, 1000)
		if want := 5 - 5*rank/10; got != want {
			t.Fatalf("after refresh rank %d: light %d, want %d", rank, got, want)
		}
	}
	if _, err := rk.Indicator(999, 0); err == nil {
		t.Fatal("indicator of an unknown account")
	}
}

func TestIndicatorOnARandomBook(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	rk := mustNew(t, Config{Multiplier: 10_000, IndicatorRefreshMs: 1000})
	load(t, rk, genPopulation(rng, 1500, 1_000_000, rk.cfg.Multiplier))
	_ = rk.SetMark(1_050_000)
	rk.RefreshIndicators(0)
	for _, side := range []book.Side{Long, Short} {
		ref := reference(rk, side)
		for rank, s := range ref {
			got, err := rk.Indicator(s.acct, 0)
			if want := 5 - 5*rank/len(ref); err != nil || got != want {
				t.Fatalf("%v rank %d of %d: light %d, want %d", side, rank, len(ref), got, want)
			}
		}
	}
}

func TestSelectRankAgreesWithSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	byBetter := func(a, b scored) int {
		if better(a, b) {
			return -1
		}
		return 1
	}
	for range 300 {
		n := 1 + rng.IntN(300)
		a := make([]scored, n)
		perm := rng.Perm(n)
		for i := range a {
			v := float64(rng.IntN(5)) // many equal scores: the account decides
			if rng.IntN(10) == 0 {
				v = math.Inf(-1)
			}
			a[i] = scored{v, book.AccountID(perm[i])}
		}
		sorted := slices.Clone(a)
		slices.SortFunc(sorted, byBetter)
		k := rng.IntN(n)
		selectRank(a, k)
		if a[k] != sorted[k] {
			t.Fatalf("n=%d k=%d: got %v, want %v", n, k, a[k], sorted[k])
		}
		for i := range k {
			if !better(a[i], a[k]) {
				t.Fatalf("element %d before rank %d is not better", i, k)
			}
		}
	}
}
