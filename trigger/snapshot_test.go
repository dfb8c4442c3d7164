package trigger

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
)

// sampleSet has every kind of order and state: fixed stops both ways,
// pending and active trailing stops in several groups, prices on two sources.
func sampleSet(tb testing.TB) *Set {
	tb.Helper()
	s := New()
	add := func(o Order, now book.Ticks) {
		if r := s.Add(o, now); r != OK {
			tb.Fatalf("Add(%+v) = %v", o, r)
		}
	}
	s.Update(Mark, 10000, nil)
	s.Update(Index, 9990, nil)
	add(Order{ID: 1, Side: book.Buy, Price: 10100}, 10000)
	add(Order{ID: 2, Side: book.Sell, Price: 9900, Source: Last}, 0)
	add(Order{ID: 3, Side: book.Sell, TakeProfit: true, Price: 10500, Source: Index}, 9990)
	add(Order{ID: 4, Side: book.Sell, Kind: Trailing, Callback: 10}, 10000)
	add(Order{ID: 5, Side: book.Buy, Kind: Trailing, Callback: 100, Price: 9000}, 10000)
	add(Order{ID: 6, Side: book.Buy, Kind: Trailing, Callback: 1, Source: Last}, 0)
	s.Update(Mark, 10050, nil)
	add(Order{ID: 7, Side: book.Sell, Kind: Trailing, Callback: 10}, 10050)
	s.Update(Mark, 10020, nil)
	add(Order{ID: 8, Side: book.Sell, Kind: Trailing, Callback: 10}, 10020)
	add(Order{ID: 9, Side: book.Buy, Kind: Trailing, Callback: 10}, 10020)
	if err := s.Check(); err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := sampleSet(t)
	snap := s.AppendSnapshot([]byte("head"))
	d, rest, err := DecodeSnapshot(append(snap[4:], "tail"...))
	if err != nil || string(rest) != "tail" {
		t.Fatalf("decode: %v, rest %q", err, rest)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	if d.StateHash() != s.StateHash() || !bytes.Equal(d.AppendSnapshot(nil), snap[4:]) {
		t.Fatal("decoded set differs")
	}
	for id := book.OrderID(1); id <= 9; id++ {
		a, _ := s.Get(id)
		b, _ := d.Get(id)
		if a != b || s.Extreme(id) != d.Extreme(id) {
			t.Fatalf("order %d: %+v %d vs %+v %d", id, a, s.Extreme(id), b, d.Extreme(id))
		}
	}
	for _, src := range []Source{Mark, Last, Index} {
		for _, p := range []book.Ticks{10200, 9000, 12000, 100} {
			a, b := s.Update(src, p, nil), d.Update(src, p, nil)
			if !slices.Equal(a, b) {
				t.Fatalf("Update(%v, %d): %v vs %v", src, p, a, b)
			}
		}
	}
	if s.Len() != 0 || d.Len() != 0 {
		t.Fatal("not everything fired")
	}
}

func TestStateHashSeesState(t *testing.T) {
	a, b := sampleSet(t), sampleSet(t)
	if a.StateHash() != b.StateHash() {
		t.Fatal("equal sets hash differently")
	}
	b.Update(Mark, 10021, nil) // moves the peak of 8 only
	if a.StateHash() == b.StateHash() {
		t.Fatal("a moved extreme does not change the hash")
	}
	b = sampleSet(t)
	if f := b.Update(Index, 9991, nil); len(f) != 0 {
		t.Fatal(f)
	}
	if a.StateHash() == b.StateHash() {
		t.Fatal("a last price does not change the hash")
	}
}

func TestDecodeSnapshotRefusesDamage(t *testing.T) {
	snap := sampleSet(t).AppendSnapshot(nil)
	for i := range snap {
		if _, _, err := DecodeSnapshot(snap[:i]); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("truncated to %d: %v", i, err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		p := bytes.Clone(snap)
		p[rng.IntN(len(p))] ^= byte(1 + rng.IntN(255))
		if s, rest, err := DecodeSnapshot(p); err == nil {
			if err := s.Check(); err != nil {
				t.Fatalf("decoded damage fails Check: %v", err)
			}
			if !bytes.Equal(s.AppendSnapshot(nil), p[:len(p)-len(rest)]) {
				t.Fatal("decoded damage does not re-encode to its bytes")
			}
		} else if !errors.Is(err, ErrSnapshot) {
			t.Fatal(err)
		}
	}
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(sampleSet(f).AppendSnapshot(nil))
	f.Add(New().AppendSnapshot(nil))
	s := sampleSet(f)
	s.Update(Mark, 9000, nil)
	f.Add(s.AppendSnapshot(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		s, rest, err := DecodeSnapshot(p)
		if err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatal(err)
			}
			return
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.AppendSnapshot(nil), p[:len(p)-len(rest)]) {
			t.Fatal("does not re-encode to its bytes")
		}
		// It must also behave: a few prices through every source.
		for src := range NumSources {
			for _, q := range []book.Ticks{1, 1 << 62, 10000} {
				s.Update(src, q, nil)
			}
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	})
}
