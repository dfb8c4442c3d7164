package journal

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// BenchmarkJournalAppend appends b.N records from one goroutine to an
// embedded server (natsrv: loopback TCP, file store, every write fsynced)
// and waits for the last one. Custom metrics: records/s and the commit
// latency (Append → callback) p50/p99; MB/s counts payload bytes. The
// appender never waits, so the latency is mostly the queue (MaxPending).
func BenchmarkJournalAppend(b *testing.B) {
	benchSizes(b, fresh)
}

// BenchmarkJournalAppendLazySync is the same against a server that syncs
// every 2 minutes (nats-server's default): what SyncAlways costs.
func BenchmarkJournalAppendLazySync(b *testing.B) {
	benchSizes(b, func(b testing.TB) *nats.Conn {
		ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			JetStream: true, StoreDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		ns.Start()
		b.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		if !ns.ReadyForConnections(wait) {
			b.Fatal("server not ready")
		}
		return dial(b, ns.ClientURL())
	})
}

func benchSizes(b *testing.B, connect func(testing.TB) *nats.Conn) {
	for _, size := range []int{64} {
		for _, batch := range []int{1, 64, 1024} {
			b.Run(fmt.Sprintf("payload=%d/batch=%d", size, batch), func(b *testing.B) {
				benchAppend(b, connect(b), size, batch)
			})
		}
	}
}

func benchAppend(b *testing.B, nc *nats.Conn, size, maxBatch int) {
	cfg := config("BENCH")
	cfg.MaxBatch = maxBatch
	w := open(b, nc, cfg)
	payload := make([]byte, size)
	lat := make([]time.Duration, b.N)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		t0 := time.Now()
		w.Append(1, 1, payload, func(seq uint64, err error) {
			if err != nil {
				b.Error(err)
			}
			lat[seq-1] = time.Since(t0)
		})
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(lat[b.N/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[b.N*99/100].Microseconds()), "p99-µs")
}

// BenchmarkJournalCommitSerial appends one record and waits for its
// callback before the next: ns/op is the commit latency of an idle writer
// (one batch, one fsync, one round trip).
func BenchmarkJournalCommitSerial(b *testing.B) {
	w := open(b, fresh(b), config("SERIAL"))
	done := make(chan error, 1)
	cb := func(_ uint64, err error) { done <- err }
	payload := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		w.Append(1, 1, payload, cb)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkJournalRead replays a journal of 256 k records of 64 bytes,
// 1 024 a batch, from the start: records/s is the replay rate.
func BenchmarkJournalRead(b *testing.B) {
	const records = 256 << 10
	nc := fresh(b)
	cfg := config("REPLAY")
	w := open(b, nc, cfg)
	payload := make([]byte, 64)
	for range records {
		w.Append(1, 1, payload, nil)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(records * 64)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		last, err := Read(nc, cfg, 1, func(uint64, uint16, uint32, []byte) error { n++; return nil })
		if err != nil || n != records || last != records {
			b.Fatalf("read %d records to %d: %v", n, last, err)
		}
	}
	b.ReportMetric(float64(b.N)*records/b.Elapsed().Seconds(), "records/s")
}
