package actors

import (
	"testing"
	"time"

	"github.com/perpx/perpx/market"
)

// recoveredFlow is an exchange recovered from BenchmarkReplay's journal
// (1 000 accounts with positions and resting orders on both symbols).
func recoveredFlow(b *testing.B) *Exchange {
	b.Helper()
	replayOnce.Do(func() { replayOnce.f, replayOnce.err = buildReplayFlow(b) })
	if replayOnce.err != nil {
		b.Fatal(replayOnce.err)
	}
	var x *Exchange
	var err error
	withoutHooks(func() { x, err = Start(Options{Symbols: market.DemoSymbols(), Journal: replayOnce.f.j.clone()}) })
	if err == nil {
		_, err = x.Recover(replayOnce.f.j.read)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(x.Stop)
	return x
}

// BenchmarkSnapshot is the pause a snapshot imposes on requests (the gate
// is held from the wait for quiescence to the end of the encoding) on
// BenchmarkReplay's exchange; bytes is the snapshot's size.
func BenchmarkSnapshot(b *testing.B) {
	x := recoveredFlow(b)
	var size int
	b.ResetTimer()
	for range b.N {
		p, _, err := x.Snapshot(time.Second)
		if err != nil {
			b.Fatal(err)
		}
		size = len(p)
	}
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkLoadSnapshot is recovery from that snapshot: Start, the hash
// check and LoadSnapshot (no journal after it).
func BenchmarkLoadSnapshot(b *testing.B) {
	p, _, err := recoveredFlow(b).Snapshot(time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		var x *Exchange
		withoutHooks(func() { x, err = Start(Options{Symbols: market.DemoSymbols(), Journal: &memJournal{}}) })
		if err == nil {
			_, err = x.LoadSnapshot(p)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		x.Stop()
		b.StartTimer()
	}
}
