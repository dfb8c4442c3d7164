package loadtest

import (
	"fmt"
	"io"
)

// Interval is one slice of the run in the report's reject-share table:
// what was answered in it, the rejects among the answers by code, and the
// liquidations and ADL events in it.
type Interval struct {
	FromS    float64 `json:"from_s"`
	ToS      float64 `json:"to_s"`
	Requests int64   `json:"requests"` // answered in the interval
	Rejects  int64   `json:"rejects"`
	// LateCancels are cancels and amends of orders no longer open
	// (UNKNOWN_ORDER), among Rejects: open-loop bots send them without
	// waiting for their fills, so they are counted apart.
	LateCancels int64            `json:"late_cancels"`
	Codes       map[string]int64 `json:"codes,omitempty"`
	// RejectShare is (Rejects − LateCancels) ÷ Requests: the requests the
	// exchange refused for the traders' own state (margin, leverage,
	// price), the figure that must stay low however long the run.
	RejectShare  float64 `json:"reject_share"`
	Liquidations int64   `json:"liquidations"`
	ADLEvents    int64   `json:"adl_events"`
}

// intervals cuts series (cumulative points) into n slices of about equal
// length: with fewer points than n, one per point.
func intervals(series []Point, n int) []Interval {
	if len(series) == 0 || n <= 0 {
		return nil
	}
	per := max(len(series)/n, 1)
	var out []Interval
	var prev Point
	for i := 0; i < len(series); {
		j := min(i+per, len(series)) - 1
		if len(series)-1-j < per { // a short tail joins the last slice
			j = len(series) - 1
		}
		cur := series[j]
		iv := Interval{FromS: prev.T, ToS: cur.T, Requests: cur.Replies - prev.Replies, Rejects: cur.Rejects - prev.Rejects,
			LateCancels: cur.LateCancels - prev.LateCancels, Liquidations: cur.Liquidations - prev.Liquidations,
			ADLEvents: cur.ADLEvents - prev.ADLEvents, Codes: map[string]int64{}}
		for c, v := range cur.RejectCodes {
			if d := v - prev.RejectCodes[c]; d > 0 {
				iv.Codes[c] = d
			}
		}
		if iv.Requests > 0 {
			iv.RejectShare = float64(iv.Rejects-iv.LateCancels) / float64(iv.Requests)
		}
		out = append(out, iv)
		prev = cur
		i = j + 1
	}
	return out
}

// writeIntervals prints the reject-share table.
func writeIntervals(w io.Writer, ivs []Interval) {
	if len(ivs) == 0 {
		return
	}
	fmt.Fprintf(w, "over time   %-13s %9s %7s %7s %4s %4s  %s\n", "interval", "answered", "reject", "late", "liq", "adl", "rejects by code")
	for _, iv := range ivs {
		fmt.Fprintf(w, "            %5.1f–%5.1fs  %9d %6.2f%% %7d %4d %4d %s\n", iv.FromS, iv.ToS, iv.Requests, 100*iv.RejectShare,
			iv.LateCancels, iv.Liquidations, iv.ADLEvents, rejectList(iv.Codes))
	}
}
