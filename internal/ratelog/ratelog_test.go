package ratelog

import (
	"sync"
	"testing"
	"time"
)

type lines struct {
	mu sync.Mutex
	n  []int64
}

func (l *lines) emit(n int64, _ []any) {
	l.mu.Lock()
	l.n = append(l.n, n)
	l.mu.Unlock()
}

func (l *lines) get() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int64(nil), l.n...)
}

func sum(ns []int64) (s int64) {
	for _, n := range ns {
		s += n
	}
	return s
}

// TestLimiterBoundsLinesAndKeepsTheCount: 10 000 events from 8 goroutines
// in one interval are one line at once and one line with the rest when the
// interval ends; Flush writes what is pending.
func TestLimiterBoundsLinesAndKeepsTheCount(t *testing.T) {
	var out lines
	l := New(100*time.Millisecond, out.emit)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1250 {
				l.Event("k", "v")
			}
		}()
	}
	wg.Wait()
	if got := out.get(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("lines during the interval: %v, want [1]", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(out.get()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.get(); len(got) != 2 || sum(got) != 10000 {
		t.Fatalf("lines %v, want 2 counting 10000", got)
	}
	// Within the next interval: counted, written by Flush.
	l.Event()
	l.Event()
	l.Flush()
	if got := out.get(); len(got) != 3 || got[2] != 2 {
		t.Fatalf("after Flush: %v", got)
	}
	l.Flush() // nothing pending: no line
	if got := out.get(); len(got) != 3 {
		t.Fatalf("empty Flush wrote: %v", got)
	}
}
