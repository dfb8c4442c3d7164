package wire

import (
	"encoding/json"
	"testing"
)

func sampleOrder(s string) *Order {
	return &Order{OrderID: "17", ClientOrderID: s, Account: "alice", Symbol: "BTC-PERP",
		Side: Buy, Type: Limit, Price: d("30000.5"), Qty: d("0.010"), FilledQty: d("-0"),
		AvgPrice: d("123456789.123456789"), Status: StatusPartiallyFilled, TIF: GTC,
		ReduceOnly: true, CreatedMs: -1}
}

// The hand-written encoders must be byte-identical to encoding/json.
func TestAppendMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "c1", "quote\" back\\slash", "<a&b>", "\x00\x01\b\f\n\r\t\x1f\x7f", "é€\u2028\u2029", "bad\xffutf8\xc3"} {
		o := sampleOrder(s)
		want, _ := json.Marshal(OrderReply{Reply: OK(), Order: o})
		if got := AppendOrderReply(nil, o); string(got) != string(want) {
			t.Errorf("order reply\n got %s\nwant %s", got, want)
		}
		c := *o // a conditional order's extra fields, some given
		c.Type, c.Status = TrailingStopMarket, StatusUntriggered
		c.OrderTrigger = &OrderTrigger{TriggerBy: TriggerLast, CallbackRate: d("1.5"), ClosePosition: len(s)%2 == 0}
		if len(s)%3 == 0 {
			c.TriggerPrice, c.ActivationPrice = d("3000"), d("3100.5")
		}
		want, _ = json.Marshal(OrderReply{Reply: OK(), Order: &c})
		if got := AppendOrderReply(nil, &c); string(got) != string(want) {
			t.Errorf("conditional order reply\n got %s\nwant %s", got, want)
		}
		o.STP, o.CanceledBySTP = STPCancelBoth, true
		for _, r := range []OrderReply{{Reply: OK(), Order: o, STPCanceled: []string{"12", s}}, {Reply: OK(), STPCanceled: []string{"3"}}, {Reply: OK(), Order: o}} {
			want, _ = json.Marshal(r)
			if got := AppendOrderReplyOf(nil, &r); string(got) != string(want) {
				t.Errorf("order reply with stp\n got %s\nwant %s", got, want)
			}
		}
		b := *o
		b.STP, b.CanceledBySTP, b.CanceledByBankruptcy = STPCancelTaker, false, true
		want, _ = json.Marshal(OrderReply{Reply: OK(), Order: &b})
		if got := AppendOrderReply(nil, &b); string(got) != string(want) {
			t.Errorf("order canceled by the bankruptcy bound\n got %s\nwant %s", got, want)
		}
		e := &Error{Code: CodeInvalidQty, Message: s}
		want, _ = json.Marshal(Fail(e))
		if got := AppendError(nil, e); string(got) != string(want) {
			t.Errorf("error reply\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("plain")
	f.Add("\"\\<>&\u2028\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("got %s want %s", got, want)
		}
	})
}

func TestAppendOrderReplyAllocs(t *testing.T) {
	o := sampleOrder("c1")
	buf := make([]byte, 0, 1024)
	n := testing.AllocsPerRun(100, func() { buf = AppendOrderReply(buf[:0], o) })
	// Decimals with an int64 coefficient are formatted without math/big.
	if n != 0 {
		t.Fatalf("%v allocs per reply", n)
	}
}

func TestReplyShapes(t *testing.T) {
	got := string(Encode(DepthReply{Reply: OK(), Bids: []Level{NewLevel(d("1.5"), d("2"))}, Asks: []Level{}, Seq: 7}))
	if want := `{"ok":true,"bids":[["1.5","2"]],"asks":[],"seq":7}`; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	var back DepthReply
	if err := json.Unmarshal([]byte(got), &back); err != nil || !back.OK || back.Bids[0].Price().String() != "1.5" || back.Bids[0].Qty().String() != "2" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	// Failures are sent as the bare envelope; a typed reply still decodes them.
	var bal BalanceReply
	if err := json.Unmarshal(Encode(Fail(Errorf(CodeRateLimited, "slow down"))), &bal); err != nil || bal.OK || bal.Error.Code != CodeRateLimited || bal.Error.Message != "slow down" {
		t.Fatalf("failure round trip: %+v %v", bal, err)
	}
}

func BenchmarkAppendOrderReply(b *testing.B) {
	o := sampleOrder("c1")
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendOrderReply(buf[:0], o)
	}
}

func BenchmarkMarshalOrderReply(b *testing.B) {
	r := OrderReply{Reply: OK(), Order: sampleOrder("c1")}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = json.Marshal(r)
	}
}

func TestAuditReplyShape(t *testing.T) {
	r := AuditReply{Reply: OK(), Deposits: d("100"), FundDeposits: d("5"), Balances: d("90.5"),
		Unrealized: d("-1.5"), Fund: d("15"), Fees: d("1"),
		OpenInterest:     map[string]OpenInterest{"BTC-PERP": {Long: d("0.5"), Short: d("0.5")}},
		NegativeBalances: []string{}, Uncovered: d("2"), HeldForFailed: d("3"), FailedShortfall: d("4"), Failures: []Failure{{Actor: "fund", Reason: "x"}},
		HeldFills: map[string]HeldFills{"BTC-PERP": {Fills: 1, Buy: d("0"), Sell: d("0.5"), Cost: d("-25000"), Fee: d("5")}}}
	want := `{"ok":true,"deposits":"100","fund_deposits":"5","balances":"90.5","unrealized":"-1.5",` +
		`"fund":"15","fees":"1","open_interest":{"BTC-PERP":{"long":"0.5","short":"0.5"}},` +
		`"negative_balances":[],"uncovered":"2","held_for_failed":"3","failed_shortfall":"4",` +
		`"held_fills":{"BTC-PERP":{"fills":1,"buy":"0","sell":"0.5","cost":"-25000","fee":"5"}},` +
		`"failures":[{"actor":"fund","reason":"x"}],"invariants_ok":false}`
	if got := string(Encode(r)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if env := r.Envelope(); !env.OK || env.Error != nil {
		t.Fatalf("envelope %+v", env)
	}
	if _, err := DecodeAudit([]byte(`{"x":1}`)); err == nil || err.Code != CodeBadRequest {
		t.Fatalf("audit body with a field: %v", err)
	}
}

func TestStateHashReplyShape(t *testing.T) {
	r := StateHashReply{Reply: OK(), Hash: "00c0ffee12345678", Seq: 42}
	if got, want := string(Encode(r)), `{"ok":true,"hash":"00c0ffee12345678","seq":42}`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if env := r.Envelope(); !env.OK || env.Error != nil {
		t.Fatalf("envelope %+v", env)
	}
	for _, ok := range []string{``, `{}`, ` { } `} {
		if _, err := DecodeStateHash([]byte(ok)); err != nil {
			t.Errorf("DecodeStateHash(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{`{"x":1}`, `null`, `[]`, `{} {}`, `{`, "\xff"} {
		if _, err := DecodeStateHash([]byte(bad)); err == nil || err.Code != CodeBadRequest {
			t.Errorf("DecodeStateHash(%q): %v, want BAD_REQUEST", bad, err)
		}
	}
}

func TestSideOpposite(t *testing.T) {
	if Buy.Opposite() != Sell || Sell.Opposite() != Buy {
		t.Fatalf("buy → %s, sell → %s", Buy.Opposite(), Sell.Opposite())
	}
}
