package actors

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// The market of BenchmarkTriggersActors: trigSym at index trigIndex, with
// trigAccounts accounts each holding trigStops sell stops (qty 1, by mark)
// at triggers trigIndex-trigStops … trigIndex-1, one per tick; the move to
// trigMove reaches the top trigFired levels, trigAccounts × trigFired
// stops. trigMakers makers bid trigMakerQty lots trigMakerOrders times
// each at trigBid (twice what one move sells) and offer as much at trigAsk.
const (
	trigSym         = "TRIG-PERP"
	trigIndex       = 1000
	trigMove        = 990
	trigAccounts    = 1000
	trigStops       = 100
	trigFired       = trigIndex - trigMove // trigger levels at or above the move
	trigMakers      = 10
	trigMakerOrders = 20
	trigMakerQty    = 100
	trigBid         = 980
	trigAsk         = 1020
)

// BenchmarkTriggersActors measures conditional orders firing through the
// actors: 1000 accounts hold 100 000 untriggered sell stop_market orders
// (by mark) and one index move down fires 10 000 of them, 10 % of the
// trigger levels. Timed: from the index tick to quiescence, that is the
// symbol actor's trigger pass, each fired order's trip to its account
// (triggered event, pre-trade risk), to the book (a 1-lot market sell into
// the makers' bids) and back (settlement of the taker; the fill message to
// the maker), metric ns/fired. The quiescence probe (at least two rounds
// over every actor) is in the time; ms/quiesce is what one costs on the
// idle exchange just before the move (not timed), about 1.7 ms on 2 cores,
// 5-7 % of a move.
//
// Sub-benchmarks: events builds every event for a Sink that discards them
// (a gateway with subscribers); noevents has no Sink (as
// BenchmarkActorsOrders). Each iteration builds its own exchange (not
// timed) and stops it at once, so every move fires into the same market;
// after it, every stop account must hold a 10-lot short and 90
// untriggered stops, else the benchmark fails.
func BenchmarkTriggersActors(b *testing.B) {
	for _, events := range []bool{true, false} {
		name := "noevents"
		if events {
			name = "events"
		}
		b.Run(name, func(b *testing.B) {
			var total, idle time.Duration
			reply := make(chan wire.IndexReply, 1)
			for range b.N {
				b.StopTimer()
				var x *Exchange
				withoutHooks(func() { x = newTriggerMarket(b, events) })
				runtime.GC()
				q := time.Now()
				x.quiesce()
				idle += time.Since(q)
				b.StartTimer()
				start := time.Now()
				x.SetIndex(trigSym, wire.IndexSet{Price: decimal.NewFromInt(trigMove)}, func(r wire.IndexReply) { reply <- r })
				r := <-reply
				x.quiesce()
				total += time.Since(start)
				b.StopTimer()
				if !r.OK {
					b.Fatalf("index %d: %v", trigMove, r.Error)
				}
				checkTriggered(b, x)
				x.Stop()
			}
			fired := float64(b.N) * trigAccounts * trigFired
			b.ReportMetric(float64(total.Nanoseconds())/fired, "ns/fired")
			b.ReportMetric(float64(total.Microseconds())/1e3/float64(b.N), "ms/move")
			b.ReportMetric(float64(idle.Microseconds())/1e3/float64(b.N), "ms/quiesce")
		})
	}
}

// newTriggerMarket builds BenchmarkTriggersActors' market, with a Sink
// discarding every event when events is set.
func newTriggerMarket(tb testing.TB, events bool) *Exchange {
	tb.Helper()
	off := false
	sym, err := market.SymbolConfig{Symbol: trigSym, Tick: dec("1"), Lot: dec("1"), MaxLeverage: dec("100"),
		PriceBand: dec("0.5"), Funding: &off}.Compile() // funding off: the mark is the index
	if err != nil {
		tb.Fatal(err)
	}
	o := Options{Symbols: []*market.Symbol{sym},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	if events {
		o.Sink = nopSink{}
	}
	x, err := Start(o)
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{t: tb, x: x}
	e.index(trigSym, fmt.Sprint(trigIndex))
	for m := range trigMakers {
		e.deposit(fmt.Sprintf("maker%d", m), "1000000000")
	}
	// The makers' orders alternate, so the fills go round the makers.
	pipeline(tb, 2*trigMakers*trigMakerOrders, 64, func(i int, next func(wire.Reply)) {
		side, price := wire.Buy, int64(trigBid)
		if i%2 == 1 {
			side, price = wire.Sell, trigAsk
		}
		x.PlaceOrder(fmt.Sprintf("maker%d", (i/2)%trigMakers), wire.PlaceOrder{Symbol: trigSym, Side: side, Type: wire.Limit,
			Price: decimal.NewFromInt(price), Qty: decimal.NewFromInt(trigMakerQty), TIF: wire.GTC}, func(r wire.OrderReply) {
			if r.OK && r.Order.Status != wire.StatusNew {
				r.Reply = fail(wire.CodeInternal, "maker order %s", r.Order.Status)
			}
			next(r.Reply)
		})
	})
	pipeline(tb, trigAccounts, 256, func(i int, next func(wire.Reply)) {
		x.Deposit(wire.Deposit{Account: fmt.Sprintf("stop%d", i), Asset: "USDT", Amount: dec("10000000")},
			func(r wire.BalanceReply) { next(r.Reply) })
	})
	refs := make([]AccountRef, trigAccounts)
	for i := range refs {
		refs[i] = x.Account(fmt.Sprintf("stop%d", i))
	}
	// Level by level, so each level's stops come from every account.
	pipeline(tb, trigAccounts*trigStops, 4096, func(i int, next func(wire.Reply)) {
		trig := int64(trigIndex - trigStops + i/trigAccounts)
		refs[i%trigAccounts].PlaceOrder(wire.PlaceOrder{Symbol: trigSym, Side: wire.Sell, Type: wire.StopMarket,
			TriggerPrice: decimal.NewFromInt(trig), TriggerBy: wire.TriggerMark, Qty: decimal.NewFromInt(1)}, func(r wire.OrderReply) {
			if r.OK && r.Order.Status != wire.StatusUntriggered {
				r.Reply = fail(wire.CodeInternal, "stop order %s", r.Order.Status)
			}
			next(r.Reply)
		})
	})
	x.quiesce()
	return x
}

// checkTriggered fails unless the move fired exactly the stops at or
// above it, each filled: every stop account short trigFired lots, holding
// its trigStops-trigFired stops below the move untriggered.
func checkTriggered(tb testing.TB, x *Exchange) {
	tb.Helper()
	var mu sync.Mutex
	fired := 0
	pipeline(tb, trigAccounts, 64, func(i int, next func(wire.Reply)) {
		acct := fmt.Sprintf("stop%d", i)
		x.AccountState(acct, wire.State{}, func(r wire.AccountReply) {
			if !r.OK {
				next(r.Reply)
				return
			}
			short, left := 0, 0
			for _, p := range r.Account.Positions {
				if p.Symbol == trigSym && p.Side == wire.Short {
					short += int(p.Qty.IntPart())
				}
			}
			for _, o := range r.Account.OpenOrders {
				if o.Status != wire.StatusUntriggered || !o.TriggerPrice.LessThan(decimal.NewFromInt(trigMove)) {
					next(fail(wire.CodeInternal, "%s: open order %s %s trigger %s after the move to %d", acct, o.OrderID, o.Status, o.TriggerPrice, trigMove))
					return
				}
				left++
			}
			if left != trigStops-trigFired {
				next(fail(wire.CodeInternal, "%s: %d untriggered stops left, want %d", acct, left, trigStops-trigFired))
				return
			}
			mu.Lock()
			fired += short
			mu.Unlock()
			next(r.Reply)
		})
	})
	if fired != trigAccounts*trigFired {
		tb.Fatalf("the move filled %d stops, want %d", fired, trigAccounts*trigFired)
	}
}
