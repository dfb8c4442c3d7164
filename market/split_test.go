package market

import (
	"math/rand/v2"
	"testing"
)

func TestSplitExamples(t *testing.T) {
	for _, c := range []struct {
		total   Money
		weights []Money
		want    []Money
	}{
		{100, []Money{1, 1, 1}, []Money{33, 33, 34}}, // the dust goes to the last
		{-100, []Money{1, 1, 1}, []Money{-33, -33, -34}},
		{10, []Money{0, 5, 0, 5}, []Money{0, 5, 0, 5}},
		{7, []Money{0, 0}, []Money{0, 0}}, // no weight: the caller decides
		{0, []Money{3, 4}, []Money{0, 0}},
		{5, []Money{1, 1_000_000}, []Money{0, 5}},
		{200, []Money{230}, []Money{200}},
	} {
		got := Split(c.total, c.weights, nil)
		if len(got) != len(c.want) {
			t.Fatalf("Split(%d, %v) = %v", c.total, c.weights, got)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("Split(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
			}
		}
	}
}

// TestSplitProperties: the parts add up to total, each is within one unit
// of its exact share, and none exceeds its weight when |total| ≤ Σ weights
// (the socialized-loss caps rely on it).
func TestSplitProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var dst []Money
	for range 20_000 {
		n := 1 + r.IntN(8)
		w := make([]Money, n)
		var sum Money
		for i := range w {
			if r.IntN(4) > 0 {
				w[i] = Money(r.Int64N(1_000_000_000))
			}
			sum += w[i]
		}
		total := Money(r.Int64N(2_000_000_000) - 1_000_000_000)
		dst = Split(total, w, dst)
		var got Money
		for i, p := range dst {
			got += p
			if sum == 0 {
				if p != 0 {
					t.Fatalf("no weight, part %d", p)
				}
				continue
			}
			exact := float64(total) * float64(w[i]) / float64(sum)
			if d := float64(p) - exact; d <= -1 || d >= 1 {
				t.Fatalf("Split(%d, %v)[%d] = %d, exact %f", total, w, i, p, exact)
			}
			if total >= 0 && total <= sum && p > w[i] {
				t.Fatalf("Split(%d, %v)[%d] = %d exceeds its weight", total, w, i, p)
			}
		}
		if sum != 0 && got != total {
			t.Fatalf("Split(%d, %v) sums to %d", total, w, got)
		}
	}
}

func TestSplitAllocs(t *testing.T) {
	w := []Money{3, 5, 7}
	dst := make([]Money, 0, 3)
	if n := testing.AllocsPerRun(100, func() { dst = Split(1000, w, dst) }); n != 0 {
		t.Fatalf("Split allocates %v times with room in dst", n)
	}
}
