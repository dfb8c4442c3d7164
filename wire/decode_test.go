package wire

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// placeAccepts are orders DecodePlace accepts.
var placeAccepts = []struct {
	name string
	in   string
	want PlaceOrder
}{
	{"full limit", `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.010","tif":"IOC","reduce_only":true,"post_only":false,"client_order_id":"c1"}`,
		PlaceOrder{Symbol: "BTC-PERP", Side: Buy, Type: Limit, Price: d("30000.5"), Qty: d("0.01"), TIF: IOC, ReduceOnly: true, ClientOrderID: "c1", STP: DefaultSTP}},
	{"limit defaults to GTC", `{"symbol":"ETH-PERP","side":"sell","type":"limit","price":"3300","qty":"1"}`,
		PlaceOrder{Symbol: "ETH-PERP", Side: Sell, Type: Limit, Price: d("3300"), Qty: d("1"), TIF: GTC, STP: DefaultSTP}},
	{"market defaults to IOC", `{"symbol":"ETH-PERP","side":"sell","type":"market","qty":"1"}`,
		PlaceOrder{Symbol: "ETH-PERP", Side: Sell, Type: Market, Qty: d("1"), TIF: IOC, STP: DefaultSTP}},
	{"market FOK", `{"symbol":"X","side":"buy","type":"market","qty":"2","tif":"FOK"}`,
		PlaceOrder{Symbol: "X", Side: Buy, Type: Market, Qty: d("2"), TIF: FOK, STP: DefaultSTP}},
	{"stp given", `{"symbol":"X","side":"buy","type":"limit","price":"1","qty":"2","stp":"none"}`,
		PlaceOrder{Symbol: "X", Side: Buy, Type: Limit, Price: d("1"), Qty: d("2"), TIF: GTC, STP: STPNone}},
	{"client order id with Binance's . : /", `{"symbol":"X","side":"buy","type":"limit","price":"1","qty":"2","client_order_id":"grid:7/leg.2"}`,
		PlaceOrder{Symbol: "X", Side: Buy, Type: Limit, Price: d("1"), Qty: d("2"), TIF: GTC, ClientOrderID: "grid:7/leg.2", STP: DefaultSTP}},
	{"post only GTC, whitespace", " {\n\"symbol\" : \"X\", \"side\":\"buy\",\"type\":\"limit\",\"price\":\"1\",\"qty\":\"2\",\"post_only\":true}\n",
		PlaceOrder{Symbol: "X", Side: Buy, Type: Limit, Price: d("1"), Qty: d("2"), TIF: GTC, PostOnly: true, STP: DefaultSTP}},
}

func TestDecodePlaceAccepts(t *testing.T) {
	for _, c := range placeAccepts {
		got, err := DecodePlace([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(Encode(got)) != string(Encode(c.want)) {
			t.Errorf("%s: got %s want %s", c.name, Encode(got), Encode(c.want))
		}
	}
}

// okPlace are the members of a valid limit order.
const okPlace = `"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1"`

// placeRejects are orders DecodePlace refuses.
var placeRejects = []struct {
	in   string
	code Code
	msg  string // substring of the message
}{
	{``, CodeBadRequest, `missing field "symbol"`},
	{`{}`, CodeBadRequest, `missing field "symbol"`},
	{`{` + okPlace + `,"stp":"cancel_all"}`, CodeBadRequest, `"stp"`},
	{`null`, CodeBadRequest, "JSON object"},
	{`[1]`, CodeBadRequest, "JSON object"},
	{`"x"`, CodeBadRequest, "JSON object"},
	{`{` + okPlace, CodeBadRequest, "invalid JSON"},
	{`{` + okPlace + `}}`, CodeBadRequest, "trailing data"},
	{`{` + okPlace + `} {}`, CodeBadRequest, "trailing data"},
	{`{` + okPlace + `,}`, CodeBadRequest, "invalid JSON"},
	{`{` + okPlace + `,"reduceOnly":true}`, CodeBadRequest, `unknown field "reduceOnly"`},
	{`{` + okPlace + `,"account":"bob"}`, CodeBadRequest, `unknown field "account"`},
	{`{` + okPlace + `,"qty":"2"}`, CodeBadRequest, `"qty" given twice`},
	{`{"Symbol":"BTC-PERP"}`, CodeBadRequest, `unknown field "Symbol"`},
	{`{"symbol":1,"side":"buy","type":"limit","price":"1","qty":"1"}`, CodeBadRequest, `"symbol" must be a string`},
	{`{"symbol":"BTC.PERP","side":"buy","type":"limit","price":"1","qty":"1"}`, CodeBadRequest, "[A-Za-z0-9_-]"},
	{`{"symbol":"` + strings.Repeat("A", 65) + `","side":"buy","type":"limit","price":"1","qty":"1"}`, CodeBadRequest, "1-64"},
	{`{"symbol":"X","side":"BUY","type":"limit","price":"1","qty":"1"}`, CodeBadRequest, `"side" must be one of`},
	{`{"symbol":"X","side":"buy","type":"stop","price":"1","qty":"1"}`, CodeBadRequest, `"type" must be one of`},
	{`{` + okPlace + `,"tif":"gtc"}`, CodeBadRequest, `"tif" must be one of`},
	{`{` + okPlace + `,"reduce_only":"true"}`, CodeBadRequest, "true or false"},
	{`{` + okPlace + `,"client_order_id":"a b"}`, CodeBadRequest, "client_order_id"},
	{`{` + okPlace + `,"client_order_id":"a*b>"}`, CodeBadRequest, "client_order_id"},
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
	{`{` + okPlace + `,"tif":"IOC","post_only":true}`, CodeBadRequest, "post_only"},
	{`{` + okPlace + `,"pad":"` + strings.Repeat("x", MaxPayload) + `"}`, CodeBadRequest, "exceeds"},
	{`{"symbol":"X","side":"buy","type":"market","qty":"2","tif":"FOK","price":null}`, CodeBadRequest, `"price" is null`},
	{`{` + okPlace + `,"client_order_id":null}`, CodeBadRequest, `"client_order_id" is null`},
	{" ", CodeBadRequest, "whitespace"},
}

func TestDecodePlaceRejects(t *testing.T) {
	for _, c := range placeRejects {
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

// payload is s as a request body; "" is a nil one.
func payload(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// othersAccept are requests the decoders of fuzz_test.go's decoders accept.
var othersAccept = []struct {
	decoder string
	in      string
	want    any
}{
	{"cancel", `{"symbol":"X","order_id":"42"}`, Cancel{Symbol: "X", OrderID: "42"}},
	{"cancel", `{"symbol":"X","client_order_id":"c-1"}`, Cancel{Symbol: "X", ClientOrderID: "c-1"}},
	{"cancel", `{"symbol":"X","client_order_id":"grid:7/leg.2"}`, Cancel{Symbol: "X", ClientOrderID: "grid:7/leg.2"}},
	{"cancel_all", ``, CancelAll{}},
	{"cancel_all", `{}`, CancelAll{}},
	{"cancel_all", `{"symbol":"BTC-PERP"}`, CancelAll{Symbol: "BTC-PERP"}},
	{"cancel_after", `{"timeout_ms":0}`, CancelAllAfter{}},
	{"cancel_after", `{"timeout_ms":3600000}`, CancelAllAfter{TimeoutMs: MaxCancelAfterMs}},
	{"leverage", `{"symbol":"X","leverage":"10"}`, Leverage{Symbol: "X", Leverage: d("10")}},
	{"state", "", State{}},
	{"state", " {} ", State{}},
	{"state", `{"symbol":"ETH-PERP"}`, State{Symbol: "ETH-PERP"}},
	{"deposit", `{"account":"alice","asset":"USDT","amount":"10000"}`, Deposit{Account: "alice", Asset: "USDT", Amount: d("10000")}},
	{"deposit", `{"account":"alice","asset":"BTC","amount":"0"}`, Deposit{Account: "alice", Asset: "BTC", Amount: d("0")}},
	{"index", `{"price":"3300"}`, IndexSet{Price: d("3300")}},
	{"fund.deposit", `{"asset":"USDT","amount":"0"}`, FundDeposit{Asset: "USDT", Amount: d("0")}},
	{"depth", `{}`, Depth{Levels: DefaultDepthLevels}},
	{"depth", `{"levels":5}`, Depth{Levels: 5}},
	{"fund.state", `{}`, FundState{Limit: MaxFundHistoryPage}},
	{"fund.state", `{"before_seq":42,"limit":10}`, FundState{BeforeSeq: 42, Limit: 10}},
	{"adl.queue", `{"side":"short"}`, ADLQueue{Side: Short}},
	{"audit", `{}`, Audit{}},
	{"state_hash", ``, StateHash{}},
	{"state_hash", ` {} `, StateHash{}},
}

// othersReject are requests those decoders refuse.
var othersReject = []struct {
	decoder string
	in      string
	code    Code
	msg     string
}{
	{"cancel", `{"symbol":"X"}`, CodeBadRequest, "exactly one"},
	{"cancel", `{"symbol":"X","order_id":"1","client_order_id":"c"}`, CodeBadRequest, "exactly one"},
	{"cancel", `{"symbol":"X","order_id":42}`, CodeBadRequest, "string"},
	{"cancel_all", `{"symbol":"a.b"}`, CodeBadRequest, "[A-Za-z0-9_-]"},
	{"cancel_all", `{"symbol":""}`, CodeBadRequest, "[A-Za-z0-9_-]"},
	{"cancel_all", `{"symbol":7}`, CodeBadRequest, "string"},
	{"cancel_all", `{"order_id":"1"}`, CodeBadRequest, "unknown field"},
	{"cancel_after", `{}`, CodeBadRequest, `missing field "timeout_ms"`},
	{"cancel_after", `{"timeout_ms":-1}`, CodeBadRequest, "integer from 0 to 3600000"},
	{"cancel_after", `{"timeout_ms":3600001}`, CodeBadRequest, "integer from 0 to 3600000"},
	{"cancel_after", `{"timeout_ms":"5000"}`, CodeBadRequest, "integer"},
	{"cancel_after", `{"timeout_ms":1.5}`, CodeBadRequest, "integer"},
	{"leverage", `{"symbol":"X","leverage":"0.5"}`, CodeBadRequest, "at least 1"},
	{"leverage", `{"symbol":"X"}`, CodeBadRequest, `missing field "leverage"`},
	{"state", `{"account":"bob"}`, CodeBadRequest, "unknown field"},
	{"state", `{"symbol":"a b"}`, CodeBadRequest, "[A-Za-z0-9_-]"},
	{"deposit", `{"account":"alice","asset":"USDT","amount":"-1"}`, CodeBadRequest, "negative"},
	{"deposit", `{"account":"a.b","asset":"USDT","amount":"1"}`, CodeBadRequest, "[A-Za-z0-9_-]"},
	{"deposit", `{"account":"alice","amount":"1"}`, CodeBadRequest, `missing field "asset"`},
	{"deposit", `{"account":"alice","asset":null,"amount":"1"}`, CodeBadRequest, `"asset" is null`},
	{"index", `{"price":"0"}`, CodeInvalidPrice, "positive"},
	{"index", `{"price":"-0.1"}`, CodeInvalidPrice, "positive"},
	{"fund.deposit", `{"asset":"USDT","amount":"-3"}`, CodeBadRequest, "negative"},
	{"fund.deposit", `{"amount":"3"}`, CodeBadRequest, `missing field "asset"`},
	{"depth", `{"levels":0}`, CodeBadRequest, "integer from 1"},
	{"depth", `{"levels":2.5}`, CodeBadRequest, "integer"},
	{"depth", `{"levels":"5"}`, CodeBadRequest, "integer"},
	{"depth", `{"levels":1e3}`, CodeBadRequest, "integer"},
	{"depth", `{"levels":99999999999999999999999}`, CodeBadRequest, "integer"},
	{"fund.state", `[]`, CodeBadRequest, "object"},
	{"fund.state", `{"limit":0}`, CodeBadRequest, "limit"},
	{"fund.state", `{"before_seq":0}`, CodeBadRequest, "before_seq"},
	{"adl.queue", `{"side":"buy"}`, CodeBadRequest, "one of"},
	{"adl.queue", `{}`, CodeBadRequest, "missing"},
	{"state_hash", `{"seq":1}`, CodeBadRequest, "unknown field"},
	{"state_hash", `null`, CodeBadRequest, "object"},
}

func TestDecodeOthers(t *testing.T) {
	for _, g := range othersAccept {
		got, err := decoders[g.decoder](payload(g.in))
		if err != nil || string(Encode(got)) != string(Encode(g.want)) {
			t.Errorf("%s %q: want %s, got %s %v", g.decoder, g.in, Encode(g.want), Encode(got), err)
		}
	}
	for _, b := range othersReject {
		got, err := decoders[b.decoder](payload(b.in))
		if err == nil || err.Code != b.code || !strings.Contains(err.Message, b.msg) {
			t.Errorf("%s %q: got %v (value %s), want %s containing %q", b.decoder, b.in, err, Encode(got), b.code, b.msg)
		}
	}
}

// decimalAccepts and decimalRejects are ParseDecimal's cases.
var (
	decimalAccepts = []string{"0", "-0", "1", "0.5", "30000.5", "007.100", "-12.34", strings.Repeat("9", 30)}
	decimalRejects = []string{"", "-", ".", "1.", ".5", "+1", "1e3", "1E3", "NaN", "Inf", " 1", "1 ", "1,5", "0x10", "--1", "1.2.3", strings.Repeat("9", 31), "١"}
)

func TestParseDecimal(t *testing.T) {
	for _, s := range decimalAccepts {
		if _, ok := ParseDecimal(s); !ok {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range decimalRejects {
		if _, ok := ParseDecimal(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestDecodeAmend(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // the decoded body re-encoded, or the error code
	}{
		{`{"symbol":"X","order_id":"7","qty":"2"}`, `{"symbol":"X","order_id":"7","qty":"2"}`},
		{`{"symbol":"X","client_order_id":"c1","price":"1.5"}`, `{"symbol":"X","client_order_id":"c1","price":"1.5"}`},
		{`{"symbol":"X","order_id":"7","price":"1","qty":"3"}`, `{"symbol":"X","order_id":"7","price":"1","qty":"3"}`},
		{`{"symbol":"X","order_id":"7"}`, string(CodeBadRequest)},
		{`{"symbol":"X","price":"1"}`, string(CodeBadRequest)},
		{`{"symbol":"X","order_id":"7","client_order_id":"c1","price":"1"}`, string(CodeBadRequest)},
		{`{"symbol":"X","order_id":"7","price":"0"}`, string(CodeInvalidPrice)},
		{`{"symbol":"X","order_id":"7","qty":"-1"}`, string(CodeInvalidQty)},
		{`{"symbol":"X","order_id":"7","qty":"1","stp":"none"}`, string(CodeBadRequest)},
		{`{"symbol":"X","order_id":"7","trigger_price":"9.5"}`, `{"symbol":"X","order_id":"7","trigger_price":"9.5"}`},
		{`{"symbol":"X","order_id":"7","trigger_price":"0"}`, string(CodeInvalidPrice)},
	} {
		a, err := DecodeAmend([]byte(c.in))
		got := string(Encode(a))
		if err != nil {
			got = string(err.Code)
		}
		if got != c.want {
			t.Errorf("%s: got %s, want %s", c.in, got, c.want)
		}
	}
}
