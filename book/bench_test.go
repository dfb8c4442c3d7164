package book

import (
	"math/rand/v2"
	"testing"
	"time"
)

// mixedFlow builds a closed cycle of commands in the spirit of
// exchange-core's latency test: it fills the book to about 1 000 resting
// orders over some 750 price levels, runs n mixed commands (passive GTC
// orders, cancels, amends, and about 6 % trading: IOC, marketable GTC and
// market orders), then cancels whatever rests, so the cycle can be replayed
// on the same book forever. It simulates on its own book to know which
// orders are live.
func mixedFlow(tb testing.TB, n int) (cmds []cmd, trading float64, levels int) {
	const (
		target = 1000
		spread = 800 // passive orders land up to this many ticks behind the opposite best
		mid    = 1_000_000
	)
	rng := rand.New(rand.NewPCG(42, 7))
	b := New()
	var r Result
	live := []OrderID{}
	pos := map[OrderID]int{}
	add := func(id OrderID) { pos[id] = len(live); live = append(live, id) }
	drop := func(id OrderID) {
		i, ok := pos[id]
		if !ok {
			return
		}
		last := live[len(live)-1]
		live[i], pos[last] = last, i
		live = live[:len(live)-1]
		delete(pos, id)
	}
	var nextID OrderID
	passive := func() Order {
		nextID++
		side := Side(1 + rng.IntN(2))
		var p Ticks
		if side == Buy {
			ask, _, ok := b.BestAsk()
			if !ok {
				ask = mid + 1
			}
			p = ask - 1 - Ticks(rng.IntN(spread))
		} else {
			bid, _, ok := b.BestBid()
			if !ok {
				bid = mid - 1
			}
			p = bid + 1 + Ticks(rng.IntN(spread))
		}
		return Order{ID: nextID, Account: AccountID(1 + rng.IntN(1000)), Side: side, Price: p, Qty: Lots(1 + rng.IntN(10))}
	}
	aggressive := func() Order {
		nextID++
		o := Order{ID: nextID, Account: AccountID(1 + rng.IntN(1000)), Side: Side(1 + rng.IntN(2)), Qty: Lots(1 + rng.IntN(15))}
		best, _, ok := b.BestAsk()
		if o.Side == Sell {
			best, _, ok = b.BestBid()
		}
		if !ok {
			best = mid
		}
		o.Price = best + Ticks(o.Side.Sign())*Ticks(rng.IntN(3))
		switch k := rng.IntN(6); {
		case k < 3:
			o.TIF = IOC
		case k < 5: // marketable GTC: the remainder rests
		default:
			o.Type, o.TIF = Market, IOC
			o.Price = best + Ticks(o.Side.Sign())*50
		}
		return o
	}
	trades, rejects, levelSum, mixed := 0, 0, 0, 0
	emit := func(c cmd, count bool) {
		apply(b, &c, &r)
		if r.Code != OK {
			rejects++
		}
		for _, f := range r.Fills {
			if f.MakerRemaining == 0 {
				drop(f.MakerID)
			}
		}
		for _, x := range r.Canceled {
			drop(x.ID)
		}
		if c.kind == cmdPlace && r.Remaining > 0 {
			add(c.o.ID)
		}
		if count {
			mixed++
			if len(r.Fills) > 0 {
				trades++
			}
			bids, asks := b.bids.tree.Len(), b.asks.tree.Len()
			levelSum += bids + asks
		}
		cmds = append(cmds, c)
	}
	for b.Len() < target {
		emit(cmd{kind: cmdPlace, o: passive()}, false)
	}
	for range n {
		k := rng.IntN(100)
		switch {
		case k < 6:
			emit(cmd{kind: cmdPlace, o: aggressive()}, true)
		case k < 46 && len(live) < target*11/10 || len(live) < target*9/10:
			emit(cmd{kind: cmdPlace, o: passive()}, true)
		case k < 84:
			emit(cmd{kind: cmdCancel, id: live[rng.IntN(len(live))]}, true)
		default:
			id := live[rng.IntN(len(live))]
			o, _ := b.Order(id)
			c := cmd{kind: cmdAmend, id: id, price: o.Price, qty: max(1, o.Remaining-1)}
			if k >= 92 { // move the price one tick away from the spread
				c.price, c.qty = o.Price-Ticks(o.Side.Sign()), o.Remaining
			}
			emit(c, true)
		}
	}
	for len(live) > 0 {
		emit(cmd{kind: cmdCancel, id: live[len(live)-1]}, false)
	}
	if b.Len() != 0 || rejects != 0 {
		tb.Fatalf("flow does not close: %d resting, %d rejects", b.Len(), rejects)
	}
	mixed = max(mixed, 1)
	return cmds, float64(trades) / float64(mixed) * 100, levelSum / mixed
}

// BenchmarkBookMixed replays the mixed flow; one op is one command.
func BenchmarkBookMixed(b *testing.B) {
	cmds, trading, levels := mixedFlow(b, 1<<17)
	bk := New()
	var r Result
	for i := range cmds { // warm slabs, indexes and buffers
		apply(bk, &cmds[i], &r)
	}
	b.ReportAllocs()
	cpu := startCPU(b)
	j := 0
	for range b.N {
		apply(bk, &cmds[j], &r)
		if j++; j == len(cmds) {
			j = 0
		}
	}
	cpu.stop()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric(trading, "%trading")
	b.ReportMetric(float64(levels), "levels")
}

// prefilled returns the mixed flow's book after its fill phase: about
// 1 000 resting orders.
func prefilled(b *testing.B) *Book {
	cmds, _, _ := mixedFlow(b, 0)
	bk := New()
	var r Result
	for i := range cmds[:len(cmds)/2] {
		apply(bk, &cmds[i], &r)
	}
	return bk
}

// BenchmarkAddCancel places a passive GTC order and cancels it; one op is
// the pair.
func BenchmarkAddCancel(b *testing.B) {
	bk := prefilled(b)
	bid, _, _ := bk.BestBid()
	ask, _, _ := bk.BestAsk()
	for _, bc := range []struct {
		name  string
		price Ticks
	}{
		{"existing-level", bid},
		{"new-level", (bid + ask) / 2}, // inside the spread: creates and drops a level
	} {
		if bc.price <= bid && bc.name == "new-level" {
			b.Fatalf("no room in the spread %d-%d", bid, ask)
		}
		b.Run(bc.name, func(b *testing.B) {
			var r Result
			o := Order{ID: 1 << 40, Account: 7, Side: Buy, Price: bc.price, Qty: 3}
			b.ReportAllocs()
			cpu := startCPU(b)
			for range b.N {
				o.ID++
				bk.Place(o, &r)
				bk.Cancel(o.ID, &r)
			}
			cpu.stop()
		})
	}
}

// BenchmarkImpactPrice sweeps 200 lots (several levels) of the prefilled book.
func BenchmarkImpactPrice(b *testing.B) {
	bk := prefilled(b)
	b.ReportAllocs()
	cpu := startCPU(b)
	for range b.N {
		if _, ok := bk.ImpactPrice(Buy, 200); !ok {
			b.Fatal("book too thin")
		}
	}
	cpu.stop()
}

// cpuTimer reports the benchmark loop's thread CPU time per op as
// "cpu-ns/op" (see threadCPU) and resets the wall-clock timer.
type cpuTimer struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) cpuTimer {
	lockThread()
	b.ResetTimer()
	return cpuTimer{b, threadCPU()}
}

func (c cpuTimer) stop() {
	used := threadCPU() - c.start
	c.b.StopTimer()
	unlockThread()
	if used > 0 {
		c.b.ReportMetric(float64(used.Nanoseconds())/float64(c.b.N), "cpu-ns/op")
	}
}
