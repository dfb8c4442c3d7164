package adl

import (
	"math"
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
		r, g := ratios(c.long, c.entry, c.mark)
		if got := score(r, g, c.b); !near(got, c.want) && got != c.want {
			t.Errorf("%s: score %v, want %v", c.name, got, c.want)
		}
		if got := leverage(r, g, c.b); !near(got, c.wantLev) && got != c.wantLev {
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
		ps, n := pieces(long, bLo, bHi, mk)
		for _, s := range ps[:n] {
			in := func(k float64) bool { return k >= s.lo && k < s.hi }
			if !in(k1) || !in(k2) {
				continue
			}
			first, second := k1, k2
			if (s.desc && k2 > k1) || (!s.desc && k2 < k1) {
				first, second = k2, k1
			}
			r1, g1 := ratios(long, first, mk)
			r2, g2 := ratios(long, second, mk)
			bd := bound(r1, g1, bLo)
			if s.bankrupt {
				bd = math.Inf(-1)
			}
			if sc := score(r2, g2, b2); bd < sc {
				t.Fatalf("long=%v bucket %d piece [%v,%v) desc=%v: bound %v at key %v < score %v at key %v (b=%v)",
					long, bucket, s.lo, s.hi, s.desc, bd, first, sc, second, b2)
			}
		}
	}
}
