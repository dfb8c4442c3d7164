package wire

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestDecodePlaceAccepts(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want PlaceOrder
	}{
		{"full limit", `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.010","tif":"IOC","reduce_only":true,"post_only":false,"client_order_id":"c1"}`,
			PlaceOrder{Symbol: "BTC-PERP", Side: Buy, Type: Limit, Price: d("30000.5"), Qty: d("0.01"), TIF: IOC, ReduceOnly: true, ClientOrderID: "c1"}},
		{"limit defaults to GTC", `{"symbol":"ETH-PERP","side":"sell","type":"limit","price":"3300","qty":"1"}`,
			PlaceOrder{Symbol: "ETH-PERP", Side: Sell, Type: Limit, Price: d("3300"), Qty: d("1"), TIF: GTC}},
		{"market defaults to IOC", `{"symbol":"ETH-PERP","side":"sell","type":"market","qty":"1"}`,
			PlaceOrder{Symbol: "ETH-PERP", Side: Sell, Type: Market, Qty: d("1"), TIF: IOC}},
		{"market FOK, null price is absent", `{"symbol":"X","side":"buy","type":"market","qty":"2","tif":"FOK","price":null}`,
			PlaceOrder{Symbol: "X", Side: Buy, Type: Market, Qty: d("2"), TIF: FOK}},
		{"post only GTC, whitespace", " {\n\"symbol\" : \"X\", \"side\":\"buy\",\"type\":\"limit\",\"price\":\"1\",\"qty\":\"2\",\"post_only\":true}\n",
			PlaceOrder{Symbol: "X", Side: Buy, Type: Limit, Price: d("1"), Qty: d("2"), TIF: GTC, PostOnly: true}},
	}
	for _, c := range cases {
		got, err := DecodePlace([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(Encode(got)) != string(Encode(c.want)) {
			t.Errorf("%s: got %s want %s", c.name, Encode(got), Encode(c.want))
		}
	}
}

func TestDecodePlaceRejects(t *testing.T) {
	const ok = `"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1"`
	cases := []struct {
		in   string
		code Code
		msg  string // substring of the message
	}{
		{``, CodeBadRequest, `missing field "symbol"`},
		{`{}`, CodeBadRequest, `missing field "symbol"`},
		{`null`, CodeBadRequest, "JSON object"},
		{`[1]`, CodeBadRequest, "JSON object"},
		{`"x"`, CodeBadRequest, "JSON object"},
		{`{` + ok, CodeBadRequest, "invalid JSON"},
		{`{` + ok + `}}`, CodeBadRequest, "trailing data"},
		{`{` + ok + `} {}`, CodeBadRequest, "trailing data"},
		{`{` + ok + `,}`, CodeBadRequest, "invalid JSON"},
		{`{` + ok + `,"reduceOnly":true}`, CodeBadRequest, `unknown field "reduceOnly"`},
		{`{` + ok + `,"account":"bob"}`, CodeBadRequest, `unknown field "account"`},
		{`{` + ok + `,"qty":"2"}`, CodeBadRequest, `"qty" given twice`},
		{`{"Symbol":"BTC-PERP"}`, CodeBadRequest, `unknown field "Symbol"`},
		{`{"symbol":1,"side":"buy","type":"limit","price":"1","qty":"1"}`, CodeBadRequest, `"symbol" must be a string`},
		{`{"symbol":"BTC.PERP","side":"buy","type":"limit","price":"1","qty":"1"}`, CodeBadRequest, "[A-Za-z0-9_-]"},
		{`{"symbol":"` + strings.Repeat("A", 65) + `","side":"buy","type":"limit","price":"1","qty":"1"}`, CodeBadRequest, "1-64"},
		{`{"symbol":"X","side":"BUY","type":"limit","price":"1","qty":"1"}`, CodeBadRequest, `"side" must be one of`},
		{`{"symbol":"X","side":"buy","type":"stop","price":"1","qty":"1"}`, CodeBadRequest, `"type" must be one of`},
		{`{` + ok + `,"tif":"gtc"}`, CodeBadRequest, `"tif" must be one of`},
		{`{` + ok + `,"reduce_only":"true"}`, CodeBadRequest, "true or false"},
		{`{` + ok + `,"client_order_id":"a b"}`, CodeBadRequest, "client_order_id"},
		{`{"symbol":"X","side":"buy","type":"limit","qty":"1"}`, CodeBadRequest, `missing field "price"`},
		{`{"symbol":"X","side":"buy","type":"limit","price":1,"qty":"1"}`, CodeBadRequest, "decimal string"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"NaN","qty":"1"}`, CodeBadRequest, "plain decimal"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"1e5","qty":"1"}`, CodeBadRequest, "plain decimal"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"Infinity","qty":"1"}`, CodeBadRequest, "plain decimal"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"1.","qty":"1"}`, CodeBadRequest, "plain decimal"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"` + strings.Repeat("9", 31) + `","qty":"1"}`, CodeBadRequest, "at most 30"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"0","qty":"1"}`, CodeInvalidPrice, "positive"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"-5","qty":"1"}`, CodeInvalidPrice, "positive"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"5","qty":"0.000"}`, CodeInvalidQty, "positive"},
		{`{"symbol":"X","side":"buy","type":"limit","price":"5","qty":"-1"}`, CodeInvalidQty, "positive"},
		{`{"symbol":"X","side":"buy","type":"market","price":"5","qty":"1"}`, CodeBadRequest, "no price"},
		{`{"symbol":"X","side":"buy","type":"market","qty":"1","tif":"GTC"}`, CodeBadRequest, "cannot rest"},
		{`{"symbol":"X","side":"buy","type":"market","qty":"1","post_only":true}`, CodeBadRequest, "post_only"},
		{`{` + ok + `,"tif":"IOC","post_only":true}`, CodeBadRequest, "post_only"},
		{`{` + ok + `,"pad":"` + strings.Repeat("x", MaxPayload) + `"}`, CodeBadRequest, "exceeds"},
	}
	for _, c := range cases {
		_, err := DecodePlace([]byte(c.in))
		if err == nil {
			t.Errorf("%.80s: accepted", c.in)
			continue
		}
		if err.Code != c.code || !strings.Contains(err.Message, c.msg) {
			t.Errorf("%.80s: got %v, want %s containing %q", c.in, err, c.code, c.msg)
		}
	}
}

func TestDecodeOthers(t *testing.T) {
	type result struct {
		v   any
		err *Error
	}
	run := func(v any, err *Error) result { return result{v, err} }
	good := []struct {
		got  result
		want any
	}{
		{run(DecodeCancel([]byte(`{"symbol":"X","order_id":"42"}`))), Cancel{Symbol: "X", OrderID: "42"}},
		{run(DecodeCancel([]byte(`{"symbol":"X","client_order_id":"c-1"}`))), Cancel{Symbol: "X", ClientOrderID: "c-1"}},
		{run(DecodeLeverage([]byte(`{"symbol":"X","leverage":"10"}`))), Leverage{Symbol: "X", Leverage: d("10")}},
		{run(DecodeState(nil)), State{}},
		{run(DecodeState([]byte(" {} "))), State{}},
		{run(DecodeDeposit([]byte(`{"account":"alice","amount":"10000"}`))), Deposit{Account: "alice", Asset: "USDT", Amount: d("10000")}},
		{run(DecodeDeposit([]byte(`{"account":"alice","asset":"BTC","amount":"0"}`))), Deposit{Account: "alice", Asset: "BTC", Amount: d("0")}},
		{run(DecodeIndexSet([]byte(`{"price":"3300"}`))), IndexSet{Price: d("3300")}},
		{run(DecodeFundDeposit([]byte(`{"asset":"USDT","amount":"0"}`))), FundDeposit{Asset: "USDT", Amount: d("0")}},
		{run(DecodeDepth([]byte(`{}`))), Depth{Levels: DefaultDepthLevels}},
		{run(DecodeDepth([]byte(`{"levels":5}`))), Depth{Levels: 5}},
		{run(DecodeFundState([]byte(`{}`))), FundState{}},
		{run(DecodeADLQueue([]byte(`{"side":"short"}`))), ADLQueue{Side: Short}},
	}
	for _, g := range good {
		if g.got.err != nil || string(Encode(g.got.v)) != string(Encode(g.want)) {
			t.Errorf("want %s, got %s %v", Encode(g.want), Encode(g.got.v), g.got.err)
		}
	}
	bad := []struct {
		got  result
		code Code
		msg  string
	}{
		{run(DecodeCancel([]byte(`{"symbol":"X"}`))), CodeBadRequest, "exactly one"},
		{run(DecodeCancel([]byte(`{"symbol":"X","order_id":"1","client_order_id":"c"}`))), CodeBadRequest, "exactly one"},
		{run(DecodeCancel([]byte(`{"symbol":"X","order_id":42}`))), CodeBadRequest, "string"},
		{run(DecodeLeverage([]byte(`{"symbol":"X","leverage":"0.5"}`))), CodeBadRequest, "at least 1"},
		{run(DecodeLeverage([]byte(`{"symbol":"X"}`))), CodeBadRequest, `missing field "leverage"`},
		{run(DecodeState([]byte(`{"account":"bob"}`))), CodeBadRequest, "unknown field"},
		{run(DecodeDeposit([]byte(`{"account":"alice","amount":"-1"}`))), CodeBadRequest, "negative"},
		{run(DecodeDeposit([]byte(`{"account":"a.b","amount":"1"}`))), CodeBadRequest, "[A-Za-z0-9_-]"},
		{run(DecodeIndexSet([]byte(`{"price":"0"}`))), CodeInvalidPrice, "positive"},
		{run(DecodeIndexSet([]byte(`{"price":"-0.1"}`))), CodeInvalidPrice, "positive"},
		{run(DecodeFundDeposit([]byte(`{"amount":"-3"}`))), CodeBadRequest, "negative"},
		{run(DecodeDepth([]byte(`{"levels":0}`))), CodeBadRequest, "integer from 1"},
		{run(DecodeDepth([]byte(`{"levels":2.5}`))), CodeBadRequest, "integer"},
		{run(DecodeDepth([]byte(`{"levels":"5"}`))), CodeBadRequest, "integer"},
		{run(DecodeDepth([]byte(`{"levels":1e3}`))), CodeBadRequest, "integer"},
		{run(DecodeDepth([]byte(`{"levels":99999999999999999999999}`))), CodeBadRequest, "integer"},
		{run(DecodeFundState([]byte(`[]`))), CodeBadRequest, "object"},
		{run(DecodeADLQueue([]byte(`{"side":"buy"}`))), CodeBadRequest, "one of"},
		{run(DecodeADLQueue([]byte(`{}`))), CodeBadRequest, "missing"},
	}
	for i, b := range bad {
		if b.got.err == nil || b.got.err.Code != b.code || !strings.Contains(b.got.err.Message, b.msg) {
			t.Errorf("bad[%d]: got %v (value %s), want %s containing %q", i, b.got.err, Encode(b.got.v), b.code, b.msg)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "0.5", "30000.5", "007.100", "-12.34", strings.Repeat("9", 30)} {
		if _, ok := ParseDecimal(s); !ok {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", "-", ".", "1.", ".5", "+1", "1e3", "1E3", "NaN", "Inf", " 1", "1 ", "1,5", "0x10", "--1", "1.2.3", strings.Repeat("9", 31), "١"} {
		if _, ok := ParseDecimal(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}
