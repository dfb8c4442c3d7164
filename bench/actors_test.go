package bench

import (
	"testing"

	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// discard is a Sink that takes every event, so the actors build them as
// they do for the NATS publisher, and drops them.
type discard struct{}

func (discard) Trade(string, *wire.Trade)               {}
func (discard) BookUpdate(string, *wire.BookUpdate)     {}
func (discard) Mark(string, *wire.MarkUpdate)           {}
func (discard) FundEvent(*wire.FundEvent)               {}
func (discard) ADLEvent(string, *wire.ADLEvent)         {}
func (discard) AccountEvent(string, *wire.AccountEvent) {}

// window is how many requests each driver keeps in flight: enough to keep
// every mailbox busy (an idle protoactor mailbox is woken on a new goroutine).
const window = 512

func startActors(b *testing.B) *actors.Exchange {
	b.Helper()
	x, err := actors.Start(actors.Options{Symbols: market.DemoSymbols(), Sink: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(x.Stop)
	wait := make(chan *wire.Error, flowAccounts+1)
	x.SetIndex(flowSymbol, wire.IndexSet{Price: decimal.NewFromInt(30000)}, func(r wire.IndexReply) { wait <- r.Error })
	for i := 0; i < flowAccounts; i++ {
		x.Deposit(wire.Deposit{Account: acctName(i), Asset: "USDT", Amount: decimal.NewFromInt(1_000_000_000)}, func(r wire.BalanceReply) { wait <- r.Error })
	}
	for i := 0; i < flowAccounts+1; i++ {
		if err := <-wait; err != nil {
			b.Fatal(err)
		}
	}
	return x
}

// BenchmarkFlowActors runs the flow through the actors: the account's risk
// check, the book, settlement on both sides, events built for the sink.
func BenchmarkFlowActors(b *testing.B) {
	x := startActors(b)
	ops := flowOps()
	places := make([]wire.PlaceOrder, len(ops))
	for i, o := range ops {
		places[i] = o.place()
	}
	names := make([]string, flowAccounts)
	for i := range names {
		names[i] = acctName(i)
	}
	var out outcome
	slots := make(chan struct{}, window)
	onOrder := func(r wire.OrderReply) {
		out.record(r.Error)
		<-slots
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := startClock()
	for i := 0; i < b.N; i++ {
		slots <- struct{}{}
		o := &ops[i%len(ops)]
		if o.cancel {
			x.CancelOrder(names[o.acct], o.cancelReq(), onOrder)
		} else {
			x.PlaceOrder(names[o.acct], places[i%len(ops)], onOrder)
		}
	}
	for i := 0; i < window; i++ {
		slots <- struct{}{}
	}
	report(b, start)
	b.StopTimer()
	out.check(b)
}
