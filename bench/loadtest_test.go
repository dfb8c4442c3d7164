package bench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/loadtest"
)

// BenchmarkLoadtest is `go run ./cmd/loadtest --embedded` as a benchmark,
// so the whole process (exchange and load generator) can be profiled with
// -cpuprofile: the default traders, an open-loop rate of PERPX_RATE
// requests/s (default 100 000) for PERPX_DURATION (default 5s). Each
// iteration is one run; it reports the achieved rate, the latency
// percentiles in µs and the CPU time per request.
func BenchmarkLoadtest(b *testing.B) {
	rate, dur := 100_000, 5*time.Second
	if v, err := strconv.Atoi(os.Getenv("PERPX_RATE")); err == nil && v > 0 {
		rate = v
	}
	if v, err := time.ParseDuration(os.Getenv("PERPX_DURATION")); err == nil && v > 0 {
		dur = v
	}
	for range b.N {
		b.StopTimer()
		// As cmd/loadtest --embedded: no per-account rate limit, which the
		// load test's few accounts would hit at once.
		xcfg := config.Default()
		xcfg.RateLimit = config.RateLimit{}
		srv := serverStats{monitorAddr(b)}
		a, err := app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", NATSMonitor: srv.addr, Index: "manual", Config: xcfg})
		if err != nil {
			b.Fatal(err)
		}
		in0, out0 := srv.msgs(b)
		b.StartTimer()
		cpu0 := cpuTime()
		// cmd/loadtest's default traders
		cfg := loadtest.Config{URL: a.URL(), SetIndex: true, Rate: rate, Duration: dur, Makers: 4, Takers: 8, Levered: 8, Cancelers: 4}
		rep, err := loadtest.Run(context.Background(), cfg)
		cpu := cpuTime() - cpu0
		b.StopTimer()
		srv.reportMsgs(b, in0, out0, int(rep.Sent))
		_ = a.Close(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if !rep.InvariantsOK {
			b.Errorf("invariants: %v", rep.Problems)
		}
		b.ReportMetric(rep.OrdersPerS, "orders/s")
		b.ReportMetric(float64(rep.Latency.P50), "p50-µs")
		b.ReportMetric(float64(rep.Latency.P99), "p99-µs")
		b.ReportMetric(float64(rep.Latency.P999), "p999-µs")
		b.ReportMetric(float64(cpu)/float64(max(rep.Sent, 1)), "cpu-ns/req")
		b.ReportMetric(float64(rep.Rejects["RATE_LIMITED"])/float64(max(rep.Replies, 1)), "rate-limited/reply")
	}
}
