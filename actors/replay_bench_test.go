package actors

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// replayFlow is the journal BenchmarkReplay recovers from: built once per
// process (building it takes longer than replaying it) and never changed.
type replayFlow struct {
	j       *memJournal
	records uint64
	orders  int    // place records: the orders the journal holds
	hash    uint64 // the state hash of the exchange that wrote it
}

var replayOnce struct {
	sync.Once
	f   replayFlow
	err error
}

// Its shape: replayAccounts accounts in pairs over both demo symbols, with
// per pair and cycle a buy one tick above the mark, a sell one tick below
// it that crosses it (the sides swap every cycle, so positions go up and
// down), a far buy that rests, and the cancel of the previous cycle's far
// buy; an index move every replayIndexEvery requests marks every position.
const (
	replayAccounts   = 1000
	replayCycles     = 160 // per pair: 4 requests, 3 of them places
	replayWindow     = 4096
	replayIndexEvery = 20_000
)

func buildReplayFlow(tb testing.TB) (replayFlow, error) {
	syms := market.DemoSymbols()
	j := &memJournal{}
	var x *Exchange
	var err error
	withoutHooks(func() { x, err = Start(Options{Symbols: syms, Journal: j}) })
	if err == nil {
		_, err = x.Recover(j.read)
	}
	if err != nil {
		return replayFlow{}, err
	}
	defer x.Stop()
	e := &env{t: tb, x: x}
	marks := []decimal.Decimal{dec("30000"), dec("2000")}
	for s, sym := range syms {
		e.index(sym.Name, marks[s].String())
	}
	refs := make([]AccountRef, replayAccounts)
	for i := range refs {
		name := fmt.Sprintf("replay%d", i)
		e.deposit(name, "100000000")
		refs[i] = x.Account(name)
	}

	var failed atomic.Int64
	var lastErr atomic.Value
	var wg sync.WaitGroup
	sem := make(chan struct{}, replayWindow)
	done := func(r wire.OrderReply) {
		// A cancel racing its order's fill is fine; anything else is not.
		if !r.OK && r.Error.Code != wire.CodeUnknownOrder {
			failed.Add(1)
			lastErr.Store(r.Error.Code)
		}
		<-sem
		wg.Done()
	}
	send := func(f func()) {
		sem <- struct{}{}
		wg.Add(1)
		f()
	}
	coid := func(p, c int) string { return fmt.Sprintf("far%d-%d", p, c) }
	requests, moves := 0, 0
	for c := range replayCycles {
		for p := range replayAccounts / 2 {
			s := (p + c) % len(syms)
			sym, mark, tick, lot := syms[s].Name, marks[s], syms[s].TickSize, syms[s].LotSize
			a, bb := refs[2*p], refs[2*p+1]
			if c%2 == 1 {
				a, bb = bb, a
			}
			qty := lot.Mul(decimal.NewFromInt(10))
			buy := wire.PlaceOrder{Symbol: sym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Price: mark.Add(tick), Qty: qty}
			sell := wire.PlaceOrder{Symbol: sym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: mark.Sub(tick), Qty: qty}
			far := wire.PlaceOrder{Symbol: sym, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC,
				Price: mark.Mul(dec("0.98")).Truncate(1), Qty: qty, ClientOrderID: coid(p, c)}
			send(func() { a.PlaceOrder(buy, done) })
			send(func() { bb.PlaceOrder(sell, done) })
			// The far buy and its cancel are always the pair's first
			// account's: one mailbox keeps them in order.
			first := refs[2*p]
			send(func() { first.PlaceOrder(far, done) })
			if c > 0 {
				prev := (p + c - 1) % len(syms)
				send(func() {
					first.CancelOrder(wire.Cancel{Symbol: syms[prev].Name, ClientOrderID: coid(p, c-1)}, done)
				})
			}
			requests += 4
			if requests/replayIndexEvery > moves {
				moves++
				wg.Wait() // the orders above priced off the old mark
				for s, sym := range syms {
					marks[s] = marks[s].Mul(dec([]string{"1.001", "0.999"}[moves%2])).Truncate(1)
					e.index(sym.Name, marks[s].String())
				}
			}
		}
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return replayFlow{}, fmt.Errorf("building the journal: %d requests refused, last %v", n, lastErr.Load())
	}
	f := replayFlow{j: j, hash: e.hash(), records: j.Last()}
	kinds := map[string]int{}
	for _, r := range j.recs {
		if r.kind == recPlace {
			f.orders++
		}
		to := "account"
		switch {
		case r.actor == actorFund:
			to = "fund"
		case r.actor == actorADL:
			to = "adl"
		case r.actor == actorHistory:
			to = "history"
		case r.actor < actorAccount:
			to = "symbol"
		}
		kinds[fmt.Sprintf("kind %d to %s", r.kind, to)]++
	}
	tb.Logf("journal: %d records, %d orders (%.2f records an order): %v", f.records, f.orders, float64(f.records)/float64(f.orders), kinds)
	return f, nil
}

// BenchmarkReplay measures recovery (issue 13): a fresh exchange rebuilt
// from an in-memory journal of ≈ 240 000 orders (replayFlow: 1 000
// accounts, both demo symbols, half the places trading, a third of the
// rest canceled, index moves), every record run through its actor's
// handler on Recover's goroutine. Only Recover is timed; Start, the
// journal's copy and the check of the recovered state hash are not.
// Metrics: orders/s (place records replayed per second), records/s and
// cpu-ns/record (the process's CPU time, steadier on a shared machine).
func BenchmarkReplay(b *testing.B) {
	replayOnce.Do(func() { replayOnce.f, replayOnce.err = buildReplayFlow(b) })
	f := replayOnce.f
	if replayOnce.err != nil {
		b.Fatal(replayOnce.err)
	}
	syms := market.DemoSymbols()
	var el, cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		j := f.j.clone()
		var x *Exchange
		var err error
		withoutHooks(func() { x, err = Start(Options{Symbols: syms, Journal: j}) })
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		b.StartTimer()
		t0, c0 := time.Now(), cpuTime()
		n, err := x.Recover(j.read)
		el += time.Since(t0)
		cpu += cpuTime() - c0
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if n != f.records {
			b.Fatalf("replayed %d records, the journal holds %d", n, f.records)
		}
		if i == 0 {
			e := &env{t: b, x: x}
			if h := e.hash(); h != f.hash {
				b.Fatalf("recovered state hash %x, want %x", h, f.hash)
			}
		}
		x.Stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(f.orders)*float64(b.N)/el.Seconds(), "orders/s")
	b.ReportMetric(float64(f.records)*float64(b.N)/el.Seconds(), "records/s")
	b.ReportMetric(float64(cpu)/float64(f.records)/float64(b.N), "cpu-ns/record")
}
