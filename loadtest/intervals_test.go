package loadtest

import (
	"bytes"
	"maps"
	"strings"
	"testing"
)

// TestIntervals: cumulative points become per-slice counts (requests,
// rejects by code, late cancels apart, liquidations), ten slices of a
// twenty-point run, a short tail joining the last slice.
func TestIntervals(t *testing.T) {
	var series []Point
	for i := 1; i <= 21; i++ {
		n := int64(i)
		series = append(series, Point{T: float64(i), Replies: 1000 * n, Rejects: 30 * n, LateCancels: 20 * n,
			Liquidations: n / 5, ADLEvents: n / 10,
			RejectCodes: map[string]int64{"UNKNOWN_ORDER": 20 * n, "INSUFFICIENT_MARGIN": 10 * n}})
	}
	ivs := intervals(series, 10)
	if len(ivs) != 10 {
		t.Fatalf("%d slices: %+v", len(ivs), ivs)
	}
	first, last := ivs[0], ivs[9]
	if first.FromS != 0 || first.ToS != 2 || first.Requests != 2000 || first.Rejects != 60 || first.LateCancels != 40 ||
		first.RejectShare != 0.01 || !maps.Equal(first.Codes, map[string]int64{"UNKNOWN_ORDER": 40, "INSUFFICIENT_MARGIN": 20}) {
		t.Errorf("first slice %+v", first)
	}
	if last.FromS != 18 || last.ToS != 21 || last.Requests != 3000 || last.Liquidations != 4-3 || last.ADLEvents != 2-1 {
		t.Errorf("last slice %+v: want the tail joined", last)
	}
	var sum int64
	for _, iv := range ivs {
		sum += iv.Requests
	}
	if sum != 21000 {
		t.Errorf("slices sum to %d requests, want 21000", sum)
	}
	var out bytes.Buffer
	writeIntervals(&out, ivs)
	if !strings.Contains(out.String(), "1.00%") || !strings.Contains(out.String(), "INSUFFICIENT_MARGIN 20") {
		t.Errorf("table %s", out.String())
	}
	if intervals(nil, 10) != nil {
		t.Error("no points, no slices")
	}
}
