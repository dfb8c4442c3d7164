package loadtest

import (
	"context"
	"time"
)

// report turns the collected counters into the Report; window is the
// sending window in ns.
func (r *runner) report(col *collector, window int64) *Report {
	t := col.last
	secs := float64(window) / 1e9
	// Replies that trail the window count over the time they took: an
	// exchange that answers 100k requests in 3 s did 33k/s, not 50k/s.
	answered := float64(max(window, t.lastReply)) / 1e9
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
	a, raw, err := Audit(c, r.ctl, r.subj)
	rep.Audit = raw
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return
	}
	rep.Problems = append(rep.Problems, a.Problems()...)
	rep.InvariantsOK = len(rep.Problems) == 0
}
