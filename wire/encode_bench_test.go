package wire

import "testing"

// Sink payloads as the exchange publishes them under load: a fill and an
// order event per side of every trade, the trade, a book update.

func benchFillEvent() *AccountEvent {
	o := sampleOrder("c-1042")
	o.FilledQty, o.AvgPrice = d("0.004"), d("30000.45")
	return &AccountEvent{Type: EventFill, Seq: 981, TimeMs: 1718000000123, Order: o,
		Fill: &Fill{Symbol: "BTC-PERP", OrderID: "17", ClientOrderID: "c-1042", Side: Buy, Price: d("30000.4"),
			Qty: d("0.002"), Fee: d("0.0300004"), Liquidity: Taker, RealizedPnL: d("-1.25"), TradeSeq: 4411}}
}

func benchOrderEvent() *AccountEvent {
	return &AccountEvent{Type: EventOrder, Seq: 982, TimeMs: 1718000000124, Order: sampleOrder("c-1043")}
}

func benchTrade() *Trade {
	return &Trade{Symbol: "BTC-PERP", Price: d("30000.5"), Qty: d("0.010"), TakerSide: Sell, Seq: 4411, TimeMs: 1718000000123}
}

func benchBookUpdate() *BookUpdate {
	return &BookUpdate{Seq: 77120, Bids: []Level{NewLevel(d("30000.4"), d("1.25")), NewLevel(d("30000.3"), d("0"))},
		Asks: []Level{NewLevel(d("30000.5"), d("0.731"))}}
}

func benchMarkUpdate() *MarkUpdate {
	return &MarkUpdate{Symbol: "BTC-PERP", Index: d("30000.12"), Mark: d("30001.0371"), FundingRate: d("0.0001"),
		NextFundingMs: 1718006400000, TimeMs: 1718000000123}
}

func benchFundEvent() *FundEvent {
	return &FundEvent{Seq: 12, TimeMs: 1718000000123, Asset: "USDT", Delta: d("12.5"), Balance: d("1000012.5"),
		Reason: ReasonLiquidationSurplus, Account: "bob", Symbol: "BTC-PERP"}
}

func benchADLEvent() *ADLEvent {
	return &ADLEvent{Symbol: "BTC-PERP", BankruptAccount: "bob", Counterparty: "carol", Qty: d("0.5"),
		Price: d("29000.1"), TimeMs: 1718000000123}
}

// benchEncode runs enc, which appends one payload to its argument, with a
// reused buffer.
func benchEncode(b *testing.B, enc func([]byte) []byte) {
	buf := enc(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = enc(buf[:0])
	}
}

func BenchmarkEncodeAccountEventFill(b *testing.B) {
	e := benchFillEvent()
	benchEncode(b, func(dst []byte) []byte { return AppendAccountEvent(dst, e) })
}

func BenchmarkEncodeAccountEventOrder(b *testing.B) {
	e := benchOrderEvent()
	benchEncode(b, func(dst []byte) []byte { return AppendAccountEvent(dst, e) })
}

func BenchmarkEncodeTrade(b *testing.B) {
	t := benchTrade()
	benchEncode(b, func(dst []byte) []byte { return AppendTrade(dst, t) })
}

func BenchmarkEncodeBookUpdate(b *testing.B) {
	u := benchBookUpdate()
	benchEncode(b, func(dst []byte) []byte { return AppendBookUpdate(dst, u) })
}

func BenchmarkEncodeMarkUpdate(b *testing.B) {
	m := benchMarkUpdate()
	benchEncode(b, func(dst []byte) []byte { return AppendMarkUpdate(dst, m) })
}

func BenchmarkEncodeFundEvent(b *testing.B) {
	e := benchFundEvent()
	benchEncode(b, func(dst []byte) []byte { return AppendFundEvent(dst, e) })
}

func BenchmarkEncodeADLEvent(b *testing.B) {
	e := benchADLEvent()
	benchEncode(b, func(dst []byte) []byte { return AppendADLEvent(dst, e) })
}

// BenchmarkMarshalAccountEventFill is the encoding/json reference.
func BenchmarkMarshalAccountEventFill(b *testing.B) {
	e := benchFillEvent()
	benchEncode(b, func([]byte) []byte { return Encode(e) })
}

func BenchmarkAppendDecimalString(b *testing.B) {
	v := d("-30000.0371")
	benchEncode(b, func(dst []byte) []byte { return appendDecimalString(dst, v) })
}

func BenchmarkDecimalString(b *testing.B) {
	v := d("-30000.0371")
	benchEncode(b, func(dst []byte) []byte { return append(dst, v.String()...) })
}
