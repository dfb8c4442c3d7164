package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// TestRunAgainstFakeExchange drives the whole generator against the fake:
// every request sent is answered, the report's counts and rejects are the
// fake's, the shock's liquidations and ADL events are counted (look-alikes
// are not), and the JSON has the contract's shape.
func TestRunAgainstFakeExchange(t *testing.T) {
	url := startNATS(t)
	fake := newFakeExchange(t, url)
	var progress bytes.Buffer
	cfg := Config{
		URL: url, SetIndex: true, Walk: WalkConfig{Off: true}, Duration: 1500 * time.Millisecond, Rate: 4000, Conns: 3,
		Makers: 2, Takers: 2, Levered: 3, Cancelers: 2, Seed: 7, RunID: "e2e",
		Shock: true, ShockAt: 0.5, Progress: &progress,
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()

	if rep.Sent+rep.Unsent != 6000 || rep.Unsent > 600 {
		t.Errorf("sent %d + unsent %d: want 6000 due in 1.5 s at 4000/s, nearly all sent", rep.Sent, rep.Unsent)
	}
	if rep.Sent != int64(fake.requests) || rep.Replies != rep.Sent || rep.Places+rep.Cancels+rep.Amends != rep.Sent {
		t.Errorf("sent %d (%d places, %d cancels, %d amends), replies %d; the fake answered %d", rep.Sent, rep.Places, rep.Cancels, rep.Amends,
			rep.Replies, fake.requests)
	}
	if rep.Amends == 0 || int64(fake.amends) > rep.Amends {
		t.Errorf("%d amends sent, the fake amended %d", rep.Amends, fake.amends)
	}
	if rep.Timeouts != 0 || rep.Strays != 0 || rep.PubErrs != 0 {
		t.Errorf("lost requests: %d timeouts, %d strays, %d publish errors", rep.Timeouts, rep.Strays, rep.PubErrs)
	}
	if !maps.Equal(rep.Rejects, fake.rejects) || !maps.Equal(rep.Statuses, fake.statuses) {
		t.Errorf("rejects %v, statuses %v; the fake replied %v, %v", rep.Rejects, rep.Statuses, fake.rejects, fake.statuses)
	}
	// The fake refuses margin to levered accounts only.
	byKind := map[string]int64{}
	for _, m := range rep.RejectsBy {
		for c, n := range m {
			byKind[c] += n
		}
	}
	if !maps.Equal(byKind, rep.Rejects) || rep.RejectsBy[KindLevered][string(wire.CodeInsufficientMargin)] != rep.Rejects[string(wire.CodeInsufficientMargin)] {
		t.Errorf("rejects by trader %v do not add up to %v, or margin refused to others than the levered", rep.RejectsBy, rep.Rejects)
	}
	if rep.Rejects[string(wire.CodeInsufficientMargin)] == 0 || rep.Rejects[string(wire.CodeUnknownOrder)] == 0 {
		t.Errorf("the run should meet both fake reject rules: %v", rep.Rejects)
	}
	if fake.cancelAlls == 0 {
		t.Error("the cancelers sent no order.cancel_all")
	}
	// The fake answers UNKNOWN_ORDER only to cancels.
	if rep.LateCancels != rep.Rejects[string(wire.CodeUnknownOrder)] {
		t.Errorf("late cancels %d, UNKNOWN_ORDER rejects %d", rep.LateCancels, rep.Rejects[string(wire.CodeUnknownOrder)])
	}
	if rep.Liquidations != 3 || fake.liqSent != 3 || rep.ADLEvents != 2 || fake.adlSent != 2 {
		t.Errorf("liquidations %d (fake sent %d), ADL %d (fake sent %d); want 3 and 2", rep.Liquidations, fake.liqSent, rep.ADLEvents, fake.adlSent)
	}
	if rep.Shock == nil || rep.Shock.Indexes["BTC-PERP"] != "27600" || rep.Shock.Indexes["ETH-PERP"] != "1840" || rep.Shock.Error != "" {
		t.Errorf("shock %+v: want an 8%% fall to 27600 and 1840", rep.Shock)
	}
	if !rep.InvariantsOK || len(rep.Problems) != 0 || rep.FundBalance["USDT"] != "123" {
		t.Errorf("invariants %v %v, fund %v", rep.InvariantsOK, rep.Problems, rep.FundBalance)
	}
	for acct, want := range map[string]string{"e2e-mm0": "1000000", "e2e-tk1": "100000", "e2e-lv2": "1000", "e2e-cx0": "100000"} {
		if got := fake.deposits[acct]; !got.Equal(decimal.RequireFromString(want)) {
			t.Errorf("%s deposited %s, want %s", acct, got, want)
		}
	}
	if fake.leverage["e2e-lv0"] != "BTC-PERP:50" || len(fake.leverage) != 3 {
		t.Errorf("leverage set %v: want 50 for the 3 levered accounts", fake.leverage)
	}
	if rep.Latency.P50 <= 0 || rep.Latency.Max < rep.Latency.P99 || rep.OrdersPerS <= 0 || rep.OrdersPerS > 4040 {
		t.Errorf("latency %+v, %.0f orders/s", rep.Latency, rep.OrdersPerS)
	}
	// Each request's send lag is part of its latency, so no percentile of
	// the lags can exceed the same percentile of the latencies.
	if rep.SendLag.Max <= 0 && rep.SendLag.Mean <= 0 || rep.SendLag.P50 > rep.Latency.P50 ||
		rep.SendLag.P99 > rep.Latency.P99 || rep.SendLag.Max > rep.Latency.Max {
		t.Errorf("send lag %+v against latency %+v", rep.SendLag, rep.Latency)
	}
	if len(rep.Series) < 2 || !strings.Contains(progress.String(), "replies") {
		t.Errorf("%d series points, progress %q", len(rep.Series), progress.String())
	}
	checkJSONShape(t, rep)
}

// checkJSONShape holds the report to the keys and types the issue names.
func checkJSONShape(t *testing.T, rep *Report) {
	t.Helper()
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"orders_per_s": "number", "latency_us": "object", "rejects": "object",
		"liquidations": "number", "adl_events": "number", "invariants_ok": "bool", "series": "array", "fund_balance": "object",
		"send_lag_us": "object"} {
		if got := jsonType(m[key]); got != want {
			t.Errorf("%q is %s, want %s", key, got, want)
		}
	}
	lat, _ := m["latency_us"].(map[string]any)
	for _, key := range []string{"p50", "p90", "p99", "p999", "max"} {
		if jsonType(lat[key]) != "number" {
			t.Errorf("latency_us.%s is %s", key, jsonType(lat[key]))
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	}
	return "missing"
}

// TestRunFailsWhenTheAuditFails: a broken invariant or a missing audit is a
// failed run. Also checks the order cap.
func TestRunFailsWhenTheAuditFails(t *testing.T) {
	url := startNATS(t)
	fake := newFakeExchange(t, url)
	fake.auditOK = false
	cfg := Config{URL: url, SetIndex: true, Orders: 200, Rate: 2000, Conns: 2, Takers: 3, Seed: 1, RunID: "bad"}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.InvariantsOK || len(rep.Problems) != 1 || rep.Sent != 200 || rep.Replies != 200 {
		t.Fatalf("invariants %v, problems %q, sent %d, replies %d", rep.InvariantsOK, rep.Problems, rep.Sent, rep.Replies)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "FAILED") {
		t.Fatalf("text report %q, %v", text.String(), err)
	}
}

// TestAuditsDuringTheRun: the run audits at intervals, each in a pause of
// the flow; an audit that fails only while the exchange settles passes on
// a retry, one that keeps failing fails the run even though the final
// audit passes. The pauses cost no request: all are sent and answered.
func TestAuditsDuringTheRun(t *testing.T) {
	for _, c := range []struct {
		failAudits int
		ok         bool
	}{{3, true}, {auditTries, false}} {
		url := startNATS(t)
		fake := newFakeExchange(t, url)
		fake.failAudits = c.failAudits
		cfg := Config{URL: url, SetIndex: true, Walk: WalkConfig{Off: true}, Duration: 1200 * time.Millisecond, Rate: 2000, Conns: 2,
			Takers: 2, Makers: 1, Seed: 1, RunID: "aud", AuditEvery: 300 * time.Millisecond}
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Audits) < 2 || rep.Audits[0].OK != c.ok || rep.Audits[0].Tries != min(c.failAudits+1, auditTries) || !rep.Audits[1].OK {
			t.Fatalf("fail %d: audits %+v", c.failAudits, rep.Audits)
		}
		if rep.InvariantsOK != c.ok || !c.ok && !strings.Contains(strings.Join(rep.Problems, ";"), fmt.Sprintf("audit at %.1fs", rep.Audits[0].AtS)) {
			t.Errorf("fail %d: invariants %v, problems %q", c.failAudits, rep.InvariantsOK, rep.Problems)
		}
		if rep.Sent+rep.Unsent != 2400 || rep.Unsent > 0 || rep.Replies != rep.Sent || rep.Timeouts != 0 {
			t.Errorf("fail %d: sent %d, unsent %d, replies %d, timeouts %d: the pauses should cost no request", c.failAudits, rep.Sent, rep.Unsent, rep.Replies, rep.Timeouts)
		}
	}
}

// TestRunClosedLoop: with a window the generator keeps exactly Window
// requests in flight per connection (the fake, answering 2 ms late, sees
// Window × Conns held at its peak and never more), refills a slot as each
// reply comes, and reports the mode.
func TestRunClosedLoop(t *testing.T) {
	url := startNATS(t)
	fake := newFakeExchange(t, url)
	fake.delay = 2 * time.Millisecond
	const window, conns = 3, 2
	cfg := Config{URL: url, SetIndex: true, Duration: 600 * time.Millisecond, Window: window, Conns: conns,
		Makers: 1, Takers: 2, Cancelers: 1, Seed: 3, RunID: "closed"}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.maxHeld != window*conns {
		t.Errorf("the fake held at most %d requests at once, want %d", fake.maxHeld, window*conns)
	}
	// A slot's round trip takes at least the delay; a slot not refilled on
	// its reply would sit until the sender's 50 ms timer (≈ 12 rounds).
	if most := int64(window * conns * 300); rep.Sent > most+window*conns || rep.Sent < window*conns*40 {
		t.Errorf("sent %d in 0.6 s: want between %d and %d", rep.Sent, window*conns*40, most)
	}
	if rep.Sent != int64(fake.requests) || rep.Replies != rep.Sent || rep.Timeouts != 0 || rep.Strays != 0 || rep.Unsent != 0 {
		t.Errorf("sent %d, replies %d, fake saw %d, timeouts %d, strays %d, unsent %d",
			rep.Sent, rep.Replies, fake.requests, rep.Timeouts, rep.Strays, rep.Unsent)
	}
	if rep.Latency.P50 < 2000 {
		t.Errorf("latency p50 %d µs: every request was held 2 ms", rep.Latency.P50)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if rep.Window != window || rep.TargetRate != 0 || !strings.Contains(text.String(), "closed loop of 3 in flight") ||
		strings.Contains(text.String(), "send lag") {
		t.Errorf("window %d, target %d, text:\n%s", rep.Window, rep.TargetRate, text.String())
	}
	if _, err := Run(context.Background(), Config{URL: url, Window: 2, Batch: 4, Takers: 1}); !errors.Is(err, ErrConfig) {
		t.Errorf("window with batches: %v, want ErrConfig", err)
	}
}

// TestRunClosedLoopGivesUpLostReplies: replies that never come are given up
// after Drain, so the closed loop keeps its window busy instead of stalling
// once Window replies were lost.
func TestRunClosedLoopGivesUpLostReplies(t *testing.T) {
	url := startNATS(t)
	fake := newFakeExchange(t, url)
	fake.dropEvery = 7
	cfg := Config{URL: url, SetIndex: true, Duration: 1200 * time.Millisecond, Window: 2, Conns: 1,
		Takers: 2, Seed: 5, RunID: "lost", Drain: 150 * time.Millisecond}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	// Without the give-up the loop stops after the second drop (by the
	// 14th request); with it, it goes on for the whole window.
	if rep.Sent < 100 || fake.dropped < 10 {
		t.Fatalf("sent %d, the fake dropped %d: the loop stalled on lost replies", rep.Sent, fake.dropped)
	}
	if rep.Timeouts != int64(fake.dropped) || rep.Replies+rep.Timeouts != rep.Sent {
		t.Errorf("sent %d = replies %d + timeouts %d? the fake dropped %d", rep.Sent, rep.Replies, rep.Timeouts, fake.dropped)
	}
}
