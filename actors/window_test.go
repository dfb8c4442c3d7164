package actors

import (
	"slices"
	"testing"
)

// TestWindowPagesFromStart: a history window with a start gives its first
// limit entries from there (a client pages forward from the last it got),
// without one the newest limit up to the end.
func TestWindowPagesFromStart(t *testing.T) {
	s := []int64{10, 20, 20, 30, 40, 50}
	at := func(v int64) int64 { return v }
	for _, c := range []struct {
		start, end int64
		limit      int
		want       []int64
	}{
		{0, 0, 2, []int64{40, 50}},
		{0, 30, 2, []int64{20, 30}},
		{20, 0, 2, []int64{20, 20}},
		{20, 0, 10, []int64{20, 20, 30, 40, 50}},
		{25, 45, 10, []int64{30, 40}},
		{45, 25, 10, []int64{}},
		{60, 0, 2, []int64{}},
	} {
		if got := window(s, at, c.start, c.end, c.limit); !slices.Equal(got, c.want) && len(got)+len(c.want) > 0 {
			t.Errorf("window [%d, %d] limit %d: %v, want %v", c.start, c.end, c.limit, got, c.want)
		}
	}
}
