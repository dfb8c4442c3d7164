package trigger

import (
	"testing"
	"time"

	"github.com/perpx/perpx/book"
)

const (
	benchResting = 100_000
	benchFired   = 10_000
)

// restingSells arms n sell stops on the mark, one per tick from 1 to n,
// with the mark above them all.
func restingSells(tb testing.TB, n int) *Set {
	s := New()
	s.Update(Mark, book.Ticks(n+1), nil)
	for i := 1; i <= n; i++ {
		if r := s.Add(Order{ID: book.OrderID(i), Side: book.Sell, Price: book.Ticks(i)}, book.Ticks(n+1)); r != OK {
			tb.Fatal(r)
		}
	}
	return s
}

// BenchmarkTriggers: 100 000 resting sell stops, one mark move fires the
// top 10 000 of them. The fired ones are re-armed off the clock.
func BenchmarkTriggers(b *testing.B) {
	s := restingSells(b, benchResting)
	fired := make([]Order, 0, benchFired)
	top := book.Ticks(benchResting + 1)
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		fired = s.Update(Mark, top-benchFired, fired[:0])
		elapsed += time.Since(start)
		b.StopTimer()
		if len(fired) != benchFired {
			b.Fatalf("fired %d", len(fired))
		}
		s.Update(Mark, top, nil)
		for _, o := range fired {
			s.Add(o, top)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*benchFired), "ns/fired")
}

// BenchmarkTriggerAddRemove arms and disarms one stop in a set of 100 000,
// at prices spread over the set: one fixed price can sit on a full B-tree
// leaf, so that every Add splits it and every Remove merges it back.
func BenchmarkTriggerAddRemove(b *testing.B) {
	s := restingSells(b, benchResting)
	o := Order{ID: benchResting + 1, Side: book.Sell}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		o.Price = book.Ticks(i*7919%benchResting + 1)
		s.Add(o, benchResting+1)
		s.Remove(o.ID)
	}
}

// BenchmarkTrailingAddRemove arms and disarms one active trailing stop
// beside 10 000 others.
func BenchmarkTrailingAddRemove(b *testing.B) {
	s := activeTrailing(b, 10_000)
	o := Order{ID: 1 << 40, Side: book.Sell, Kind: Trailing, Callback: 7}
	now := s.Price(Mark)
	b.ReportAllocs()
	for b.Loop() {
		s.Add(o, now)
		s.Remove(o.ID)
	}
}

// activeTrailing arms n trailing sells on the mark over 10 callback rates,
// activated along a rising path so they start in many groups.
func activeTrailing(tb testing.TB, n int) *Set {
	s := New()
	p := book.Ticks(1_000_000)
	s.Update(Mark, p, nil)
	for i := range n {
		if i%100 == 0 {
			p++
			s.Update(Mark, p, nil)
		}
		o := Order{ID: book.OrderID(i + 1), Side: book.Sell, Kind: Trailing, Callback: uint32(10 * (1 + i%10))}
		if r := s.Add(o, p); r != OK {
			tb.Fatal(r)
		}
	}
	return s
}

// BenchmarkTrailingRise: 10 000 active trailing sells over 10 callback
// rates, the mark rising a tick per Update (each merges a bucket's groups).
func BenchmarkTrailingRise(b *testing.B) {
	s := activeTrailing(b, 10_000)
	p := s.Price(Mark)
	var fired []Order
	b.ReportAllocs()
	for b.Loop() {
		p++
		if fired = s.Update(Mark, p, fired[:0]); len(fired) != 0 {
			b.Fatal("fired on a rise")
		}
	}
}

func TestAddRemoveAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100 000 stops")
	}
	s := restingSells(t, benchResting)
	o := Order{ID: benchResting + 1, Side: book.Sell, Price: benchResting / 2}
	if a := testing.AllocsPerRun(1000, func() {
		s.Add(o, benchResting+1)
		s.Remove(o.ID)
	}); a != 0 {
		t.Errorf("stop Add+Remove: %v allocs", a)
	}
	tr := activeTrailing(t, 10_000)
	to := Order{ID: 1 << 40, Side: book.Sell, Kind: Trailing, Callback: 7}
	now := tr.Price(Mark)
	if a := testing.AllocsPerRun(1000, func() {
		tr.Add(to, now)
		tr.Remove(to.ID)
	}); a != 0 {
		t.Errorf("trailing Add+Remove: %v allocs", a)
	}
	p := now
	fired := make([]Order, 0, 16)
	if a := testing.AllocsPerRun(1000, func() {
		p++
		fired = tr.Update(Mark, p, fired[:0])
	}); a != 0 {
		t.Errorf("trailing Update: %v allocs", a)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Check(); err != nil {
		t.Fatal(err)
	}
}
