package bench

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// cascadeLongs is how many 10x longs one cascade liquidates.
const cascadeLongs = 2000

const cascadeSymbol = "CASCADE-PERP"

// await runs n requests through the actors' callback API, at most 256 in
// flight, and fails b on the first refusal.
func await(b *testing.B, n int, do func(i int, done func(wire.Reply))) {
	b.Helper()
	var wg sync.WaitGroup
	slots := make(chan struct{}, 256)
	var mu sync.Mutex
	var first *wire.Error
	for i := range n {
		slots <- struct{}{}
		wg.Add(1)
		do(i, func(r wire.Reply) {
			if !r.OK {
				mu.Lock()
				if first == nil {
					first = r.Error
				}
				mu.Unlock()
			}
			<-slots
			wg.Done()
		})
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

// startCascade builds the cascade's market through the actors' public API
// (untimed): a whale short and cascadeLongs 10x longs of one lot at 1000
// with 110 of margin (bankrupt at 890), and a bid wall at 880 deep enough
// for every liquidation order, so a fall of the index to 850 liquidates
// every long through the book, each drawing 10 from the fund.
func startCascade(b *testing.B) *actors.Exchange {
	b.Helper()
	off := false
	sym, err := market.SymbolConfig{Symbol: cascadeSymbol, Tick: decimal.NewFromInt(1), Lot: decimal.NewFromInt(1),
		Funding: &off, MaxOpenOrders: 10}.Compile()
	if err != nil {
		b.Fatal(err)
	}
	x, err := actors.Start(actors.Options{Symbols: []*market.Symbol{sym}, Sink: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	big := decimal.NewFromInt(1_000_000_000)
	limit := func(acct string, side wire.Side, price, qty int64, tif wire.TIF) wire.PlaceOrder {
		return wire.PlaceOrder{Symbol: cascadeSymbol, Side: side, Type: wire.Limit, Price: decimal.NewFromInt(price),
			Qty: decimal.NewFromInt(qty), TIF: tif}
	}
	await(b, 1, func(_ int, done func(wire.Reply)) {
		x.SetIndex(cascadeSymbol, wire.IndexSet{Price: decimal.NewFromInt(1000)}, func(r wire.IndexReply) { done(r.Reply) })
	})
	await(b, 1, func(_ int, done func(wire.Reply)) {
		x.FundDeposit(wire.FundDeposit{Asset: "USDT", Amount: big}, func(r wire.BalanceReply) { done(r.Reply) })
	})
	for _, w := range []string{"whale", "wall"} {
		await(b, 1, func(_ int, done func(wire.Reply)) {
			x.Deposit(wire.Deposit{Account: w, Asset: "USDT", Amount: big}, func(r wire.BalanceReply) { done(r.Reply) })
		})
	}
	await(b, 1, func(_ int, done func(wire.Reply)) {
		x.PlaceOrder("whale", limit("whale", wire.Sell, 1000, cascadeLongs, wire.GTC), func(r wire.OrderReply) { done(r.Reply) })
	})
	long := func(i int) string { return fmt.Sprintf("long-%d", i) }
	await(b, cascadeLongs, func(i int, done func(wire.Reply)) {
		x.Deposit(wire.Deposit{Account: long(i), Asset: "USDT", Amount: decimal.NewFromInt(110)}, func(r wire.BalanceReply) { done(r.Reply) })
	})
	await(b, cascadeLongs, func(i int, done func(wire.Reply)) {
		x.SetLeverage(long(i), wire.Leverage{Symbol: cascadeSymbol, Leverage: decimal.NewFromInt(10)}, func(r wire.LeverageReply) { done(r.Reply) })
	})
	await(b, cascadeLongs, func(i int, done func(wire.Reply)) {
		x.PlaceOrder(long(i), limit(long(i), wire.Buy, 1000, 1, wire.IOC), func(r wire.OrderReply) {
			if r.OK && r.Order.Status != wire.StatusFilled {
				r.Reply = wire.Fail(wire.Errorf(wire.CodeInternal, "long %d not filled: %s", i, r.Order.Status))
			}
			done(r.Reply)
		})
	})
	await(b, 1, func(_ int, done func(wire.Reply)) {
		x.PlaceOrder("wall", limit("wall", wire.Buy, 880, cascadeLongs, wire.GTC), func(r wire.OrderReply) { done(r.Reply) })
	})
	x.Quiesce() // the whale's 2 000 maker fills and the ADL reports settle before the clock starts
	return x
}

// BenchmarkCascade times a liquidation cascade through the actors: from
// the index's fall until every one of the cascadeLongs accounts has run its
// liquidation (the mark reaching it, a fund reservation, a liquidation
// order filled in the bid wall) and sent its settlement to the fund; the
// wall's side of the fills may still be settling then. orders/s is
// liquidations per second. (BenchmarkCascade10k in actors/ is the harder
// cascade: a thin book, ADL against a crowded ranking.)
func BenchmarkCascade(b *testing.B) {
	var total time.Duration
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		x := startCascade(b)
		runtime.GC()
		b.StartTimer()
		start := time.Now()
		x.SetIndex(cascadeSymbol, wire.IndexSet{Price: decimal.NewFromInt(850)}, func(wire.IndexReply) {})
		for deadline := start.Add(time.Minute); x.LiquidationsSettled() < cascadeLongs; time.Sleep(50 * time.Microsecond) {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d liquidations settled after a minute", x.LiquidationsSettled(), cascadeLongs)
			}
		}
		total += time.Since(start)
		b.StopTimer()
		checkCascade(b, x)
		x.Stop()
	}
	b.ReportMetric(float64(total.Microseconds())/1e3/float64(b.N), "ms/cascade")
	b.ReportMetric(float64(cascadeLongs*b.N)/total.Seconds(), "orders/s")
}

// checkCascade holds a finished cascade to what it claims: money conserved
// and open interest symmetric (the audit), every long closed into the wall
// (the wall holds their cascadeLongs lots), the fund having paid 10 each.
func checkCascade(b *testing.B, x *actors.Exchange) {
	b.Helper()
	x.Quiesce()
	audit := make(chan wire.AuditReply, 1)
	x.Audit(func(r wire.AuditReply) { audit <- r })
	a := <-audit
	oi := a.OpenInterest[cascadeSymbol]
	if !a.InvariantsOK || !oi.Short.Equal(oi.Long) ||
		!a.Fund.Equal(decimal.NewFromInt(1_000_000_000-10*cascadeLongs)) {
		b.Fatalf("after the cascade: invariants %v, open interest %+v, fund %s", a.InvariantsOK, oi, a.Fund)
	}
	state := make(chan wire.AccountReply, 1)
	x.AccountState("wall", wire.State{}, func(r wire.AccountReply) { state <- r })
	if r := <-state; len(r.Account.Positions) != 1 || !r.Account.Positions[0].Qty.Equal(decimal.NewFromInt(cascadeLongs)) {
		b.Fatalf("the wall holds %+v, want every long's lot", r.Account.Positions)
	}
}
