package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/perpx/perpx/wire"
)

// Report is the outcome of a run; its JSON is the --json file.
type Report struct {
	DurationS  float64        `json:"duration_s"`       // the sending window
	TargetRate int            `json:"target_rate"`      // 0 in a closed loop
	Window     int            `json:"window,omitempty"` // requests in flight per connection in a closed loop
	Conns      int            `json:"conns"`
	Seed       uint64         `json:"seed"`
	RunID      string         `json:"run_id"`
	Symbols    []string       `json:"symbols"`
	Traders    map[string]int `json:"traders"`

	// OrdersPerS is answered order requests (places and cancels) per
	// second, from the start to the end of the window or to the last
	// reply if later; SentPerS is what was sent per second of the window.
	OrdersPerS float64 `json:"orders_per_s"`
	SentPerS   float64 `json:"sent_per_s"`
	Sent       int64   `json:"sent"`
	Replies    int64   `json:"replies"`
	Places     int64   `json:"places"`
	Cancels    int64   `json:"cancels"`
	Amends     int64   `json:"amends"`
	// Latency is from each request's scheduled send time to its reply, so
	// it includes any time the request waited to be sent (coordinated
	// omission corrected); requests given up on count at their age.
	Latency Latency `json:"latency_us"`
	// SendLag is how late each request left after its scheduled time:
	// the part of Latency that is the generator's own (timer wake-ups,
	// a busy CPU), before the request reached the connection.
	SendLag Latency          `json:"send_lag_us"`
	Rejects map[string]int64 `json:"rejects"`
	// RejectsBy is Rejects by the kind of trader that sent the request
	// (mm, tk, lv, cx).
	RejectsBy map[string]map[string]int64 `json:"rejects_by_trader"`
	// LateCancels are the cancels and amends among Rejects answered
	// UNKNOWN_ORDER: the bots act open loop, so some orders filled or
	// expired first.
	LateCancels int64                 `json:"late_cancels"`
	Statuses    map[wire.Status]int64 `json:"statuses"`
	Timeouts    int64                 `json:"timeouts"`
	Strays      int64                 `json:"stray_replies"`
	PubErrs     int64                 `json:"publish_errors"`
	Unsent      int64                 `json:"unsent"`

	CPU *CPU `json:"cpu,omitempty"`
	// Echo is the echo floor measured just before, with --compare-echo.
	Echo *EchoComparison `json:"echo,omitempty"`

	Liquidations int64             `json:"liquidations"`
	ADLEvents    int64             `json:"adl_events"`
	FundBalance  map[string]string `json:"fund_balance"`
	Shock        *ShockReport      `json:"shock,omitempty"`
	// IndexJumps counts the walk's jumps (see WalkConfig); Management
	// what the traders' policies did.
	IndexJumps int64      `json:"index_jumps"`
	Management Management `json:"management"`

	Audit        json.RawMessage `json:"audit,omitempty"`    // the audit reply verbatim
	Problems     []string        `json:"problems,omitempty"` // broken or unverifiable invariants
	Warnings     []string        `json:"warnings,omitempty"`
	InvariantsOK bool            `json:"invariants_ok"`

	Series []Point `json:"series"`
	// Intervals is the run in about ten slices: the reject share over time.
	Intervals []Interval `json:"intervals"`
	// Audits are the audits during the run (Config.AuditEvery), each in a
	// pause of the flow; the final one is Audit.
	Audits []AuditCheck `json:"audits"`
}

// CPU is the process's CPU time over the run (the window, its audits'
// pauses and the drain; not the setup) per answered request. The process
// is this generator plus what Scope names: with --embedded the exchange
// and its NATS server on the same cores, so it is an upper bound of the
// exchange's own cost (the echo floor's CPU per request, run the same
// way, is the generator's and NATS's share).
type CPU struct {
	Seconds      float64 `json:"seconds"`
	Cores        float64 `json:"cores"` // Seconds over the wall time
	PerRequestUs float64 `json:"per_request_us"`
	Scope        string  `json:"scope"`
}

func cpuReport(cpu time.Duration, wall, replies int64, scope string) *CPU {
	if scope == "" {
		scope = "this generator alone"
	}
	c := &CPU{Seconds: cpu.Seconds(), Scope: scope}
	if wall > 0 {
		c.Cores = float64(cpu) / float64(wall)
	}
	if replies > 0 {
		c.PerRequestUs = float64(cpu.Microseconds()) / float64(replies)
	}
	return c
}

func (c *CPU) line() string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("cpu         %.1f µs per request (%.1f s of process CPU, %.2f cores busy; the process is the generator and %s)\n",
		c.PerRequestUs, c.Seconds, c.Cores, c.Scope)
}

// ShockReport says how the index was moved mid-run.
type ShockReport struct {
	AtS     float64           `json:"at_s"`
	Pct     float64           `json:"pct"`
	Indexes map[string]string `json:"indexes"` // symbol -> new index
	Error   string            `json:"error,omitempty"`
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the human summary.
func (r *Report) WriteText(w io.Writer) error {
	l, g, m := r.Latency, r.SendLag, r.Management
	verdict := "OK"
	if !r.InvariantsOK {
		verdict = "FAILED"
	}
	load, from := r.mode()
	lag := fmt.Sprintf("send lag    p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (scheduled send to publish: the generator's part)\n",
		micros(g.P50), micros(g.P90), micros(g.P99), micros(g.P999), micros(g.Max))
	if r.Window > 0 {
		lag = "" // a closed loop sends when a slot frees: no schedule to lag
	}
	_, err := fmt.Fprintf(w, `perpx load test %s: %.1fs, %s, %d connections, seed %d
traders     %v on %v
throughput  %.0f orders/s answered, %.0f/s sent (%d sent: %d places, %d cancels, %d amends; %d replies)
latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (from %s)
%s%srejects     %d%s%s
lost        %d timeouts, %d unsent (generator behind), %d publish errors, %d stray replies
statuses    %v
risk        %d liquidations, %d ADL events, %d index jumps, fund %v
bots        %d take-profits, %d stop-losses, %d deleverages, %d refills (%.0f), %d at their budget; %d state polls (%d failed)
%sinvariants  %s%s%s
`,
		r.RunID, r.DurationS, load, r.Conns, r.Seed,
		r.Traders, r.Symbols,
		r.OrdersPerS, r.SentPerS, r.Sent, r.Places, r.Cancels, r.Amends, r.Replies,
		micros(l.P50), micros(l.P90), micros(l.P99), micros(l.P999), micros(l.Max), from,
		lag, r.CPU.line(), sum(r.Rejects), rejectList(r.Rejects), byTrader(r.RejectsBy)+lateCancels(r.LateCancels),
		r.Timeouts, r.Unsent, r.PubErrs, r.Strays,
		r.Statuses,
		r.Liquidations, r.ADLEvents, r.IndexJumps, r.FundBalance,
		m.TakeProfits, m.StopLosses, m.Deleverages, m.Refills, m.Refilled, m.Broke, m.Polls, m.PollErrors,
		r.auditLine(), verdict, problemList(r.Problems), problemList(r.Warnings))
	if err == nil && len(r.Intervals) > 0 {
		writeIntervals(w, r.Intervals)
	}
	if err == nil && r.Echo != nil {
		err = r.Echo.write(w, r.Latency, r.CPU)
	}
	return err
}

// byTrader renders the rejects by trader kind, one line per kind.
func byTrader(by map[string]map[string]int64) (s string) {
	for _, k := range slices.Sorted(maps.Keys(by)) {
		s += fmt.Sprintf("\n            %s%s", k, rejectList(by[k]))
	}
	return s
}

func lateCancels(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("\n            of which %d cancels of orders no longer open (filled or expired first: expected of open-loop bots)", n)
}

// mode names the load and where latency is measured from: the scheduled
// send in an open loop, the send itself in a closed one (which waits for a
// free slot instead of queueing, so its latency hides overload).
func (r *Report) mode() (load, from string) {
	if r.Window > 0 {
		return fmt.Sprintf("closed loop of %d in flight per connection", r.Window), "send"
	}
	return fmt.Sprintf("open loop at %d orders/s", r.TargetRate), "scheduled send"
}

func sum(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

func problemList(ps []string) (s string) {
	for _, p := range slices.Sorted(slices.Values(ps)) {
		s += "\n  - " + p
	}
	return s
}

// auditLine sums up the audits during the run.
func (r *Report) auditLine() string {
	if len(r.Audits) == 0 {
		return ""
	}
	failed, maxPause := 0, 0.0
	for _, a := range r.Audits {
		if !a.OK {
			failed++
		}
		maxPause = max(maxPause, a.PauseMs)
	}
	return fmt.Sprintf("audits      %d during the run, %d failed (the flow paused for each, at most %.0f ms; its schedule paused too), then the final one\n",
		len(r.Audits), failed, maxPause)
}

// P99Goal is issue 21's goal: the exchange's p99 at most this many times
// the echo's, measured in the same run.
const P99Goal = 1.5

// EchoComparison is the echo floor (--echo inproc: NATS and this generator
// answering canned replies) run at the same rate, mix and seed just before
// the exchange, and the exchange's latency over it.
type EchoComparison struct {
	Latency    Latency `json:"latency_us"`
	SendLag    Latency `json:"send_lag_us"`
	OrdersPerS float64 `json:"orders_per_s"`
	CPU        *CPU    `json:"cpu,omitempty"`
	// P99Ratio and P50Ratio are the exchange's over the echo's.
	P99Ratio float64 `json:"p99_ratio"`
	P50Ratio float64 `json:"p50_ratio"`
}

// CompareEcho sets the exchange's report rep against the echo's.
func CompareEcho(echo, rep *Report) *EchoComparison {
	c := &EchoComparison{Latency: echo.Latency, SendLag: echo.SendLag, OrdersPerS: echo.OrdersPerS, CPU: echo.CPU}
	if echo.Latency.P99 > 0 {
		c.P99Ratio = float64(rep.Latency.P99) / float64(echo.Latency.P99)
	}
	if echo.Latency.P50 > 0 {
		c.P50Ratio = float64(rep.Latency.P50) / float64(echo.Latency.P50)
	}
	return c
}

func (c *EchoComparison) write(w io.Writer, exch Latency, cpu *CPU) error {
	e := c.Latency
	_, err := fmt.Fprintf(w, `echo floor  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%.0f orders/s answered; send lag p99 %s)
exchange    p50 %s  p90 %s  p99 %s  p99.9 %s  max %s
p99 ratio   %.2f × the echo's (goal ≤ %g), p50 %.2f ×
`, micros(e.P50), micros(e.P90), micros(e.P99), micros(e.P999), micros(e.Max), c.OrdersPerS, micros(c.SendLag.P99),
		micros(exch.P50), micros(exch.P90), micros(exch.P99), micros(exch.P999), micros(exch.Max), c.P99Ratio, P99Goal, c.P50Ratio)
	if err == nil && c.CPU != nil && cpu != nil {
		_, err = fmt.Fprintf(w, "cpu         %.1f µs per request against the echo's %.1f: the exchange's own share about %.1f µs\n",
			cpu.PerRequestUs, c.CPU.PerRequestUs, cpu.PerRequestUs-c.CPU.PerRequestUs)
	}
	return err
}
