package adl

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }

func TestScoreIsBitMEXFormula(t *testing.T) {
	for _, c := range []struct {
		name           string
		long           bool
		entry, mark, b float64
		want, wantLev  float64
	}{
		// PnL% 10% × leverage 1.1/0.2 = 5.5
		{"long 10x up 10%", true, 100, 110, 0.1, 0.1 * 5.5, 5.5},
		// PnL% −5% ÷ leverage 0.95/0.05 = 19
		{"long 10x down 5%", true, 100, 95, 0.1, -0.05 / 19, 19},
		// short: PnL% 10%, leverage 0.9/0.2 = 4.5
		{"short 10x down 10%", false, 100, 90, 0.1, 0.1 * 4.5, 4.5},
		{"short 5x up 4%", false, 100, 104, 0.2, -0.04 / (1.04 / 0.16), 1.04 / 0.16},
		{"flat", true, 100, 100, 0.1, 0, 10},
		{"bankrupt long", true, 100, 89, 0.1, math.Inf(-1), math.Inf(1)},
	} {
		r, rl, g := ratios(c.long, c.entry, c.mark)
		if got := score(r, rl, g, c.b); !near(got, c.want) && got != c.want {
			t.Errorf("%s: score %v, want %v", c.name, got, c.want)
		}
		if got := leverage(r, rl, g, c.b); !near(got, c.wantLev) && got != c.wantLev {
			t.Errorf("%s: leverage %v, want %v", c.name, got, c.wantLev)
		}
	}
}

func TestBucketsPartitionB(t *testing.T) {
	prev := -1
	for b := 1e-5; b < 4; b *= 1.001 {
		i := bucketOf(b)
		if i < prev || b < bucketLo[i] || (i+1 < numBuckets && b >= bucketLo[i+1]) {
			t.Fatalf("b=%v in bucket %d [%v, %v), previous %d", b, i, bucketLo[i], bucketLo[min(i+1, numBuckets-1)], prev)
		}
		prev = i
	}
	if prev != numBuckets-1 {
		t.Fatalf("last bucket %d never reached", numBuckets-1)
	}
	for i := 2; i < numBuckets-1; i++ {
		if w := bucketLo[i] / bucketLo[i-1]; w > 1+1.0/(1<<subBits)+1e-9 {
			t.Fatalf("bucket %d is %.3f wide", i-1, w)
		}
	}
}

// TestBoundHoldsOverEachStream checks the property the merge rests on: for
// any two positions in the same stream (same bucket, same piece, the second
// one after the first in walk order) the first one's bound is at least the
// second one's score.
func TestBoundHoldsOverEachStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		long := rng.IntN(2) == 0
		bucket := rng.IntN(numBuckets)
		bLo, bHi := bucketLo[bucket], bucketHi(bucket)
		b2 := bLo + (min(bHi, 4)-bLo)*rng.Float64()
		mk := 1000.0
		// two keys anywhere from deep loss to deep profit
		k1 := mk * (0.3 + 1.5*rng.Float64())
		k2 := mk * (0.3 + 1.5*rng.Float64())
		streamBoundHolds(t, long, bucket, k1, k2, b2, mk)
	}
}

// exactEquity is b + r computed exactly for the float g (r = ±(g−1)).
func exactEquity(up bool, b, g float64) *big.Rat {
	e := new(big.Rat).SetFloat64(g)
	e.Sub(e, big.NewRat(1, 1))
	if !up {
		e.Neg(e)
	}
	return e.Add(e, new(big.Rat).SetFloat64(b))
}

// nearBankrupt returns a loss's g (up: g < 1, r = g−1; else g > 1, r = 1−g)
// whose r is −bTarget·(1−ε) for a random ε from 1e-16 to 1e-3: a position
// at bTarget a hair before bankruptcy. For bTarget ≥ 1 an up loss is
// clamped to g ≥ 1e-14 (an inverse short at an extreme mark).
func nearBankrupt(rng *rand.Rand, up bool, bTarget float64) float64 {
	eps := math.Pow(10, -16+13*rng.Float64())
	if up {
		return max(1e-14, 1-bTarget*(1-eps))
	}
	return 1 + bTarget*(1-eps)
}

// TestEquityIsExactNearBankruptcy: a loss's equity b+r, which cancels near
// bankruptcy (b ≈ −r), is the exact b ± (g−1) of the float b and g rounded
// once, so its sign is exact, and bustB splits a key's bankrupt margins
// from its live ones. Plain b+r (r's rounding error dropped) was off by up
// to 1e-16/(b+r) relatively, and by its sign right at the edge.
func TestEquityIsExactNearBankruptcy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 50_000 {
		up := rng.IntN(2) == 0
		bT := math.Pow(2, -10+11*rng.Float64()) // b from 1/1024 to 2
		if i%4 == 0 {
			bT = 1 // every margin the size of the cost, as in the fuzz input
		}
		r, rl, g := ratios(up, 1/nearBankrupt(rng, up, bT), 1)
		if !(r < 0) {
			continue
		}
		if w, _ := new(big.Rat).Add(new(big.Rat).SetFloat64(r), new(big.Rat).SetFloat64(rl)).Float64(); w != r {
			t.Fatalf("r %v + rl %v is not r rounded", r, rl)
		}
		// margins at and around −r: exact sums, so the equity is the
		// exact one rounded once
		b := -r * (1 + (rng.Float64()-0.5)*math.Pow(10, -16+13*rng.Float64()))
		for range rng.IntN(4) {
			b = math.Nextafter(b, math.Inf(2*rng.IntN(2)-1))
		}
		want, _ := exactEquity(up, b, g).Float64()
		if got := equity(b, r, rl); got != want {
			t.Fatalf("up=%v g=%v b=%v: equity %v, exactly %v", up, g, b, got, want)
		}
		// anywhere else nothing cancels: a couple of ulps
		b2 := 4 * rng.Float64()
		want2, _ := exactEquity(up, b2, g).Float64()
		if got := equity(b2, r, rl); math.Abs(got-want2) > 0x1p-51*math.Abs(want2) {
			t.Fatalf("up=%v g=%v b=%v: equity %v, exactly %v", up, g, b2, got, want2)
		}
		bust := bustB(r, rl)
		live := math.Nextafter(bust, math.Inf(1))
		if equity(bust, r, rl) > 0 || exactEquity(up, bust, g).Sign() > 0 ||
			equity(live, r, rl) <= 0 || exactEquity(up, live, g).Sign() <= 0 {
			t.Fatalf("up=%v g=%v r=%v rl=%v: bustB %v (equity %v) / next %v (equity %v)",
				up, g, r, rl, bust, equity(bust, r, rl), live, equity(live, r, rl))
		}
	}
}

// TestBoundHoldsNearBankruptcy is TestBoundHoldsOverEachStream where the
// bound cancels: the stream head's r is within a hair of −bLo, the other
// key a few ulps to 1e-6 away, the other margin at or just above the floor
// (the fuzz input's inverse shorts at g ≈ 1e-8 with b = 1 among them).
func TestBoundHoldsNearBankruptcy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const mk = 1000.0
	for range 200_000 {
		up := rng.IntN(2) == 0
		bucket := 1 + rng.IntN(numBuckets-1)
		bLo, bHi := bucketLo[bucket], bucketHi(bucket)
		if up && bLo > 1 {
			continue
		}
		k1 := mk / nearBankrupt(rng, up, bLo)
		k2 := k1 * (1 + (rng.Float64()-0.5)*math.Pow(10, -16+10*rng.Float64()))
		b2 := bLo
		switch rng.IntN(3) {
		case 1:
			b2 = math.Nextafter(bLo, math.Inf(1))
		case 2:
			b2 = min(bLo*(1+math.Pow(10, -16+10*rng.Float64())), math.Nextafter(bHi, 0))
		}
		streamBoundHolds(t, up, bucket, k1, k2, b2, mk)
	}
}

// streamBoundHolds checks, on every piece of the bucket holding keys k1
// and k2, that the bound at the one walked first is at least the score at
// the other with margin ratio b2 (in the bucket).
func streamBoundHolds(t *testing.T, up bool, bucket int, k1, k2, b2, mk float64) {
	t.Helper()
	bLo, bHi := bucketLo[bucket], bucketHi(bucket)
	ps, n := pieces(up, bLo, bHi, mk)
	for _, s := range ps[:n] {
		in := func(k float64) bool { return k >= s.lo && k < s.hi }
		if !in(k1) || !in(k2) {
			continue
		}
		first, second := k1, k2
		if (s.desc && k2 > k1) || (!s.desc && k2 < k1) {
			first, second = k2, k1
		}
		r1, rl1, g1 := ratios(up, first, mk)
		r2, rl2, g2 := ratios(up, second, mk)
		bd := bound(r1, rl1, g1, bLo)
		if s.bankrupt {
			bd = math.Inf(-1)
		}
		if sc := score(r2, rl2, g2, b2); bd < sc {
			t.Fatalf("up=%v bucket %d [%v,%v) piece [%v,%v) desc=%v: bound %v at key %v < score %v at key %v (b=%v)",
				up, bucket, bLo, bHi, s.lo, s.hi, s.desc, bd, first, sc, second, b2)
		}
	}
}
