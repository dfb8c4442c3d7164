package gateway

import (
	"testing"

	"github.com/perpx/perpx/wire"
)

// The publisher's per-event cost, NATS client included (no subscriber, so
// the server drops the messages).

func benchPublisher(b *testing.B) *Publisher {
	e := newEnv(b, Options{})
	p, err := NewPublisher(e.nc, Options{Metrics: e.m})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

var benchFill = &wire.AccountEvent{Type: wire.EventFill, Seq: 981, TimeMs: 1718000000123,
	Order: &wire.Order{OrderID: "17", ClientOrderID: "c-1042", Account: "alice", Symbol: "BTC-PERP", Side: wire.Buy,
		Type: wire.Limit, Price: dec("30000.5"), Qty: dec("0.010"), FilledQty: dec("0.004"), AvgPrice: dec("30000.45"),
		Status: wire.StatusPartiallyFilled, TIF: wire.GTC, STP: wire.STPCancelTaker, CreatedMs: 1718000000100},
	Fill: &wire.Fill{Symbol: "BTC-PERP", OrderID: "17", ClientOrderID: "c-1042", Side: wire.Buy, Price: dec("30000.4"),
		Qty: dec("0.002"), Fee: dec("0.0300004"), Liquidity: wire.Taker, RealizedPnL: dec("-1.25"), TradeSeq: 4411}}

func BenchmarkPublishAccountEvent(b *testing.B) {
	p := benchPublisher(b)
	b.ReportAllocs()
	for b.Loop() {
		p.AccountEvent("alice", benchFill)
	}
}

func BenchmarkPublishTrade(b *testing.B) {
	p := benchPublisher(b)
	t := &wire.Trade{Symbol: "BTC-PERP", Price: dec("30000.5"), Qty: dec("0.010"), TakerSide: wire.Sell, Seq: 4411, TimeMs: 1718000000123}
	b.ReportAllocs()
	for b.Loop() {
		p.Trade("BTC-PERP", t)
	}
}

func BenchmarkPublishBookUpdate(b *testing.B) {
	p := benchPublisher(b)
	u := &wire.BookUpdate{Seq: 77120, Bids: []wire.Level{wire.NewLevel(dec("30000.4"), dec("1.25"))},
		Asks: []wire.Level{wire.NewLevel(dec("30000.5"), dec("0.731"))}}
	b.ReportAllocs()
	for b.Loop() {
		p.BookUpdate("BTC-PERP", u)
	}
}
