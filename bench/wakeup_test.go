package bench

import (
	"testing"
	"time"
)

// BenchmarkWakeup measures what one wake-up of an idle Go process costs in
// CPU (cpu-ns/op) and how late it comes (late-ns/op): a goroutine sleeps
// 100 µs with nothing else to run, as a paced load generator does between
// sends. Go rounds a sleep shorter than 1 ms up to the millisecond when the
// process is idle (epoll_wait takes whole milliseconds), and on a VM each
// wake-up is paid in hypervisor exits; both set a floor under open-loop
// latency and CPU per request that no exchange code can remove (README.md).
func BenchmarkWakeup(b *testing.B) {
	const d = 100 * time.Microsecond
	var late time.Duration
	start := startClock()
	for b.Loop() {
		t0 := time.Now()
		time.Sleep(d)
		late += time.Since(t0) - d
	}
	b.ReportMetric(float64(cpuTime()-start.cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(late)/float64(b.N), "late-ns/op")
}
