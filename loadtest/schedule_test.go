package loadtest

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestScheduleSpreadsTheRunRateOverConnections(t *testing.T) {
	// 3 requests/s over 2 connections: global request g is due at
	// floor(g/3 s); connection 1 owns g = 1, 3, 5.
	s := Schedule{Rate: 3, Stride: 2, Offset: 1}
	for i, want := range []int64{333_333_333, 1_000_000_000, 1_666_666_666} {
		if got := s.At(uint64(i)); got != want {
			t.Errorf("At(%d) = %d, want %d", i, got, want)
		}
	}
	for _, c := range []struct {
		elapsed int64
		due     uint64
	}{{-1, 0}, {0, 0}, {333_333_332, 0}, {333_333_333, 1}, {999_999_999, 1}, {1_000_000_000, 2}} {
		if got := s.Due(c.elapsed); got != c.due {
			t.Errorf("Due(%d) = %d, want %d", c.elapsed, got, c.due)
		}
	}
	if got := (Schedule{Rate: 3, Stride: 2}).Due(0); got != 1 {
		t.Errorf("connection 0 owes the request due at 0: Due(0) = %d", got)
	}
}

// TestScheduleDueCountsAt checks Due against its definition, the number of
// i with At(i) <= elapsed, and that the connections split the run exactly.
func TestScheduleDueCountsAt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		rate := 1 + r.Uint64N(2_000_000)
		stride := 1 + r.Uint64N(16)
		limit := uint64(0)
		if r.IntN(2) == 0 {
			limit = r.Uint64N(5000)
		}
		elapsed := r.Int64N(int64(5000 * time.Second / time.Duration(rate)))
		var sum uint64
		for off := range stride {
			s := Schedule{Rate: rate, Stride: stride, Offset: off, Limit: limit}
			due := s.Due(elapsed)
			if due > 0 && s.At(due-1) > elapsed || s.At(due) <= elapsed && (limit == 0 || due*stride+off < limit) {
				t.Fatalf("%+v: Due(%d) = %d, but At(%d) = %d, At(%d) = %d", s, elapsed, due, due-1, s.At(due-1), due, s.At(due))
			}
			if limit > 0 && due > s.Total() {
				t.Fatalf("%+v: Due %d beyond Total %d", s, due, s.Total())
			}
			sum += due
		}
		global := Schedule{Rate: rate, Stride: 1, Limit: limit}.Due(elapsed)
		if sum != global {
			t.Fatalf("rate %d stride %d: connections owe %d, the run %d", rate, stride, sum, global)
		}
	}
}

func TestScheduleTotalSplitsTheLimit(t *testing.T) {
	for limit := uint64(1); limit < 40; limit++ {
		var sum uint64
		for off := range uint64(7) {
			sum += Schedule{Rate: 10, Stride: 7, Offset: off, Limit: limit}.Total()
		}
		if sum != limit {
			t.Fatalf("limit %d split into %d", limit, sum)
		}
	}
}

func TestScheduleDoesNotOverflowOnLongRuns(t *testing.T) {
	s := Schedule{Rate: 5_000_000, Stride: 1}
	year := int64(365 * 24 * time.Hour)
	due := s.Due(year)
	if want := uint64(year/1e9)*5_000_000 + 1; due != want {
		t.Fatalf("Due(1 year) = %d, want %d", due, want)
	}
	if at := s.At(due - 1); at != year {
		t.Fatalf("At(last) = %d, want %d", at, year)
	}
}
