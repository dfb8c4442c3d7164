package loadtest

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency is a latency summary in microseconds.
type Latency struct {
	P50  int64   `json:"p50"`
	P90  int64   `json:"p90"`
	P99  int64   `json:"p99"`
	P999 int64   `json:"p999"`
	Max  int64   `json:"max"`
	Mean float64 `json:"mean"`
}

func summarize(h *hdrhistogram.Histogram) Latency {
	return Latency{
		P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), Max: h.Max(), Mean: h.Mean(),
	}
}

// Point is one progress interval: rates over the interval, latency of the
// replies received in it, cumulative counts.
type Point struct {
	T            float64 `json:"t_s"` // end of the interval, seconds since the start
	SentPerS     float64 `json:"sent_per_s"`
	RepliesPerS  float64 `json:"replies_per_s"`
	Latency      Latency `json:"latency_us"`
	Sent         int64   `json:"sent"`
	Replies      int64   `json:"replies"`
	Rejects      int64   `json:"rejects"`
	Liquidations int64   `json:"liquidations"`
	ADLEvents    int64   `json:"adl_events"`
	// RejectCodes are the rejects so far by code, LateCancels those of
	// them that are cancels of orders no longer open.
	RejectCodes map[string]int64 `json:"reject_codes,omitempty"`
	LateCancels int64            `json:"late_cancels"`
}

// collector gathers the pipes' tallies once per interval into the series
// and the run's total histogram.
type collector struct {
	pipes  []*pipe
	events *eventCounter
	total  *hdrhistogram.Histogram
	lag    *hdrhistogram.Histogram // send lags of the whole run
	last   tally                   // cumulative counters as of the last collect
	lastT  int64
	series []Point
}

func newCollector(pipes []*pipe, events *eventCounter) *collector {
	return &collector{pipes: pipes, events: events, total: newHist(), lag: newHist(), last: newTally()}
}

// collect closes the interval ending at now (ns since the start).
func (c *collector) collect(now int64) Point {
	cur := newTally()
	interval := newHist()
	for _, p := range c.pipes {
		p.take(&cur, interval, c.lag)
	}
	c.total.Merge(interval)
	dt := float64(now-c.lastT) / 1e9
	pt := Point{
		T: float64(now) / 1e9, Latency: summarize(interval),
		Sent: cur.totalSent(), Replies: cur.totalReplies(), Rejects: cur.totalRejects(),
		Liquidations: c.events.liquidations.Load(), ADLEvents: c.events.adl.Load(),
		RejectCodes: cur.rejects, LateCancels: cur.lateCancels,
	}
	if dt > 0 {
		pt.SentPerS = float64(pt.Sent-c.last.totalSent()) / dt
		pt.RepliesPerS = float64(pt.Replies-c.last.totalReplies()) / dt
	}
	c.last, c.lastT = cur, now
	c.series = append(c.series, pt)
	return pt
}

// progressLine formats pt and the rejects so far for the live display.
func progressLine(w io.Writer, pt Point, rejects map[string]int64) {
	fmt.Fprintf(w, "%6.1fs  sent %d (%.0f/s)  replies %d (%.0f/s)  p99 %s  max %s  rejects %d%s  liq %d  adl %d\n",
		pt.T, pt.Sent, pt.SentPerS, pt.Replies, pt.RepliesPerS, micros(pt.Latency.P99), micros(pt.Latency.Max),
		pt.Rejects, rejectList(rejects), pt.Liquidations, pt.ADLEvents)
}

// rejectList renders rejects as " [CODE n, …]" by descending count.
func rejectList(rejects map[string]int64) string {
	if len(rejects) == 0 {
		return ""
	}
	codes := slices.SortedFunc(maps.Keys(rejects), func(a, b string) int {
		return cmp.Or(cmp.Compare(rejects[b], rejects[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s %d", c, rejects[c])
	}
	return " [" + strings.Join(parts, ", ") + "]"
}

// micros renders a microsecond count the way a person reads latency.
func micros(us int64) string {
	return (time.Duration(us) * time.Microsecond).String()
}
