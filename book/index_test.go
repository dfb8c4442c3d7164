package book

import (
	"math/rand/v2"
	"testing"
)

// TestIndexAgainstMap drives the hash index and a Go map with the same
// random inserts and deletes over a small key space, so probe runs wrap and
// backward-shift deletion is exercised heavily.
func TestIndexAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x Index
	x.Init(0)
	want := map[uint64]int32{}
	for i := range 200_000 {
		k := 1 + rng.Uint64N(300)
		if i%7 == 0 {
			k *= 64 // keys that collide on the low bits
		}
		switch rng.IntN(3) {
		case 0, 1:
			v := int32(i)
			x.Put(k, v)
			want[k] = v
		default:
			_, had := want[k]
			if x.Del(k) != had {
				t.Fatalf("del(%d) disagrees with the map", k)
			}
			delete(want, k)
		}
		if x.n != len(want) {
			t.Fatalf("size %d, map %d", x.n, len(want))
		}
		if i%1000 == 0 {
			for k, v := range want {
				if got, ok := x.Get(k); !ok || got != v {
					t.Fatalf("get(%d) = %d, %v; want %d", k, got, ok, v)
				}
			}
		}
	}
	x.Clear()
	if _, ok := x.Get(1); ok || x.n != 0 {
		t.Fatal("clear kept entries")
	}
}
