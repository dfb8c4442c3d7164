package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// report turns the collected counters into the Report; window is the
// sending window in ns.
func (r *runner) report(col *collector, window int64) *Report {
	t := col.last
	secs := float64(window) / 1e9
	// Replies that trail the window count over the time they took: an
	// exchange that answers 100k requests in 3 s did 33k/s, not 50k/s.
	answered := float64(max(window, t.lastReply-r.gate.shift.Load())) / 1e9
	rep := &Report{
		DurationS: secs, TargetRate: r.cfg.Rate, Conns: len(r.pipes), Seed: r.cfg.Seed, RunID: r.cfg.RunID,
		Traders: r.traders,
		Sent:    t.totalSent(), Replies: t.totalReplies(),
		Places: t.sent[kindPlace], Cancels: t.sent[kindCancel], Amends: t.sent[kindAmend],
		Latency: summarize(col.total), SendLag: summarize(col.lag), Rejects: t.rejects, Statuses: t.statuses,
		LateCancels: t.lateCancels, Timeouts: t.timeouts, Strays: t.strays, PubErrs: t.pubErrs, Unsent: t.unsent,
		Liquidations: r.events.liquidations.Load(), ADLEvents: r.events.adl.Load(),
		FundBalance: map[string]string{},
		Series:      col.series,
		RejectsBy:   rejectsBy(&t),
		Intervals:   intervals(col.series, 10),
		Audits:      r.checks,
	}
	for _, s := range r.syms {
		rep.Symbols = append(rep.Symbols, s.Name)
	}
	if secs > 0 {
		rep.OrdersPerS = float64(rep.Replies) / answered
		rep.SentPerS = float64(rep.Sent) / secs
	}
	if r.cfg.Window > 0 {
		rep.TargetRate, rep.Window = 0, r.cfg.Window
	}
	return rep
}

// audit asks the exchange to check its invariants and reads the fund. A
// failed or missing audit is a failed run: the invariants are unknown.
func (r *runner) audit(ctx context.Context, rep *Report) {
	// Cancelling ctx stops the window, not the final check.
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if fund, err := fundBalances(c, r.ctl, r.subj); err != nil {
		rep.Warnings = append(rep.Warnings, "fund state: "+err.Error())
	} else {
		for a, b := range fund {
			rep.FundBalance[a] = b.String()
		}
	}
	r.quiet.Lock()
	problems, raw, _ := r.settledAudit(c)
	r.quiet.Unlock()
	rep.Audit = raw
	rep.Problems = append(rep.Problems, problems...)
	for _, a := range r.checks {
		if !a.OK {
			rep.Problems = append(rep.Problems, fmt.Sprintf("audit at %.1fs: %s", a.AtS, strings.Join(a.Problems, "; ")))
		}
	}
	rep.InvariantsOK = len(rep.Problems) == 0
}

// AuditCheck is one audit during the run.
type AuditCheck struct {
	AtS float64 `json:"at_s"`
	// PauseMs is how long the flow stood still for it: the replies in
	// flight drained, then the audit (repeated while the exchange settles).
	PauseMs  float64  `json:"pause_ms"`
	Tries    int      `json:"tries"`
	OK       bool     `json:"ok"`
	Problems []string `json:"problems,omitempty"`
}

// audits audits the exchange every AuditEvery until done; a failure is
// printed on the progress output at once and fails the run.
func (r *runner) audits(ctx context.Context, clock func() int64, done <-chan struct{}) {
	repeat(ctx, done, r.cfg.AuditEvery, r.cfg.AuditEvery, func() {
		a := r.pausedAudit(ctx, clock)
		r.checks = append(r.checks, a)
		if !a.OK && r.cfg.Progress != nil {
			fmt.Fprintf(r.cfg.Progress, "AUDIT FAILED at %.1fs: %s\n", a.AtS, strings.Join(a.Problems, "; "))
		}
	})
}

// pausedAudit stops the flow, lets the replies in flight come back,
// audits, and lets the flow go on where its schedule stood.
func (r *runner) pausedAudit(ctx context.Context, clock func() int64) AuditCheck {
	t0 := clock()
	r.gate.close()
	for deadline := t0 + int64(r.cfg.Drain); clock() < deadline; time.Sleep(time.Millisecond) {
		n := 0
		for _, p := range r.pipes {
			n += p.inFlight()
		}
		if n == 0 {
			break
		}
	}
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	r.quiet.Lock()
	problems, _, tries := r.settledAudit(c)
	r.quiet.Unlock()
	cancel()
	paused := clock() - t0
	r.gate.open(paused)
	return AuditCheck{AtS: float64(t0) / 1e9, PauseMs: float64(paused) / 1e6, Tries: tries, OK: len(problems) == 0, Problems: problems}
}

// Audit retries: what the exchange still has in flight when the replies
// are in (fills on their way to accounts, a liquidation settling) settles
// within them; a problem that outlasts them is real.
const (
	auditTries = 10
	auditRetry = 100 * time.Millisecond
)

// settledAudit audits until the invariants hold, at most auditTries times,
// and returns the last problems, the last reply and the tries. The caller
// holds quiet, so no deposit or index move is half done.
func (r *runner) settledAudit(ctx context.Context) (problems []string, raw json.RawMessage, tries int) {
	for tries < auditTries {
		tries++
		var a *AuditReply
		var err error
		a, raw, err = Audit(ctx, r.ctl, r.subj)
		if err != nil {
			problems = []string{err.Error()}
		} else {
			problems = append(a.Problems(), r.depositProblems(a)...)
		}
		if len(problems) == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(auditRetry)
	}
	return problems, raw, tries
}

// depositProblems checks, on an exchange whose accounts are all the run's,
// that the audit's deposits are what the run deposited.
func (r *runner) depositProblems(a *AuditReply) []string {
	if !r.cfg.ExclusiveExchange {
		return nil
	}
	got := a.Deposits
	if s, ok := a.Assets[r.cfg.MM.Asset]; ok {
		got = s.Deposits
	}
	r.depMu.Lock()
	want := r.deposited
	r.depMu.Unlock()
	if !got.Equal(want) {
		return []string{fmt.Sprintf("the audit's deposits are %s, the run deposited %s", got, want)}
	}
	return nil
}

// rejectsBy is t's rejects by trader kind (its tag), kinds without any left out.
func rejectsBy(t *tally) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for r, m := range t.rejectsBy {
		if len(m) > 0 && roleTags[r] != "" {
			out[roleTags[r]] = m
		}
	}
	return out
}
