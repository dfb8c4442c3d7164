package actors

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// BenchmarkActorsOrders measures end-to-end orders through the facade: risk
// pre-trade in the account actor, matching in the symbol actor, settlement
// of the taker (reply) and the maker (fill message) through risk. 1000
// accounts on BTC-PERP and ETH-PERP alternate buys one tick above and sells
// one tick below the mark, so about every other order trades against a
// resting one; a window of orders is kept in flight so mailboxes stay busy.
// No Sink: events are not built (the replies are). The driver resolves
// each account once (AccountRef), as a gateway session would.
func BenchmarkActorsOrders(b *testing.B) { benchActorsOrders(b, nil) }

// BenchmarkActorsOrdersDurable is BenchmarkActorsOrders in durable mode on
// an in-memory journal, durable at once: the actors' own cost of durability
// (records, naming senders, replies held and released), without NATS,
// JetStream or a disk.
func BenchmarkActorsOrdersDurable(b *testing.B) { benchActorsOrders(b, &memJournal{}) }

func benchActorsOrders(b *testing.B, j *memJournal) {
	const accounts, window = 1000, 8192
	syms := market.DemoSymbols()
	var x *Exchange
	var err error
	opts := Options{Symbols: syms}
	if j != nil {
		opts.Journal = j
	}
	withoutHooks(func() { x, err = Start(opts) })
	if err == nil && j != nil {
		_, err = x.Recover(j.read)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer x.Stop()
	e := &env{t: b, x: x}
	e.index("BTC-PERP", "30000")
	e.index("ETH-PERP", "2000")
	refs := make([]AccountRef, accounts)
	for i := range refs {
		name := fmt.Sprintf("bench%d", i)
		e.deposit(name, "100000000")
		refs[i] = x.Account(name)
	}
	reqs := [2][2]wire.PlaceOrder{}
	for s, sym := range syms {
		mark := []string{"30000", "2000"}[s]
		tick := sym.TickSize
		for side, w := range []wire.Side{wire.Buy, wire.Sell} {
			p := dec(mark).Add(tick)
			if w == wire.Sell {
				p = dec(mark).Sub(tick)
			}
			reqs[s][side] = wire.PlaceOrder{Symbol: sym.Name, Side: w, Type: wire.Limit, Price: p, Qty: sym.LotSize.Mul(decimal.NewFromInt(10)), TIF: wire.GTC}
		}
	}
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, window)
	done := func(r wire.OrderReply) {
		if !r.OK {
			failed.Add(1)
		}
		<-sem
		wg.Done()
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := range b.N {
		sem <- struct{}{}
		wg.Add(1)
		a := i % accounts
		refs[a].PlaceOrder(reqs[(i/accounts)%2][(i/(2*accounts))%2], done)
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "orders/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	if f := failed.Load(); f > int64(b.N)/100 {
		b.Fatalf("%d of %d orders refused", f, b.N)
	}
}

// cpuTime is the process's user + system CPU time so far: on a shared
// machine CPU time per order is a steadier measure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCascade10k measures a mark shock liquidating 5000 of 10 000
// accounts (see newCascade): from the index tick to every liquidation
// settled (book, fund and ADL), metric ms/cascade. Setup is not timed.
// Each iteration's exchange is stopped and released at once (iterTB), not
// at the end of the benchmark, so the heap and the GC work do not grow with
// the iterations.
func BenchmarkCascade10k(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		tb := &iterTB{TB: b}
		var c *cascade
		withoutHooks(func() { c = newCascade(tb, 10_000) })
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		c.e.x.SetIndex(csym, wire.IndexSet{Price: dec("850")}, func(wire.IndexReply) {})
		for c.e.x.liquidations.Load() < int64(c.longs) {
			time.Sleep(50 * time.Microsecond)
		}
		total += time.Since(start)
		b.StopTimer()
		tb.cleanup()
	}
	b.ReportMetric(float64(total.Microseconds())/1e3/float64(b.N), "ms/cascade")
}

// iterTB runs the cleanups registered during one benchmark iteration when
// the iteration ends.
type iterTB struct {
	testing.TB
	fns []func()
}

func (t *iterTB) Cleanup(f func()) { t.fns = append(t.fns, f) }

func (t *iterTB) cleanup() {
	for i := len(t.fns) - 1; i >= 0; i-- {
		t.fns[i]()
	}
	t.fns = nil
}
