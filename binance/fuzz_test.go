package binance

// Fuzz tests of the face's parsers: an order's parameters, the other
// parameter readers, the request pipeline (query, body, key, signature),
// stream names and the WebSocket control messages. Each asserts that
// nothing panics, that a refusal is a well-formed Binance error and that
// what is accepted round-trips. They run on a Server whose NATS server
// has no exchange behind it: nothing here reaches an account.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// Test keys of fuzzServer's configured user.
const (
	fuzzKey    = "fuzzKey0123456789"
	fuzzSecret = "fuzzSecret0123456789abcdefghijklmnop"
)

// fuzzServer is a Server on an embedded NATS server with nothing behind
// it, serving the demo symbols and extra copies of the first (T00USDT,
// ...); open: no users (any key), else fuzzKey's.
func fuzzServer(t testing.TB, extra int, open bool) *Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL(), NATSOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	cfg := config.Default()
	for i := range extra {
		sc := cfg.Symbols[0]
		sc.Symbol = fmt.Sprintf("T%02d-PERP", i)
		cfg.Symbols = append(cfg.Symbols, sc)
	}
	if !open {
		cfg.Users = []config.User{{User: "fuzz", Password: "fuzz-pw", Account: "fuzz", APIKey: fuzzKey, APISecret: fuzzSecret}}
	}
	s, err := New(Options{Conn: nc, Config: cfg, Timeout: 100 * time.Millisecond, WeightPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

// wellFormed fails unless e is Binance's error body: a 4xx or 5xx status,
// a code of Binance's ranges, a message, and JSON that reads back as it.
func wellFormed(t *testing.T, what string, e *apiError) {
	t.Helper()
	if e.status < 400 || e.status > 599 || e.Code > -1000 || e.Code < -5999 || e.Msg == "" {
		t.Fatalf("%s: malformed error: HTTP %d %d %q", what, e.status, e.Code, e.Msg)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var back struct {
		Code *int    `json:"code"`
		Msg  *string `json:"msg"`
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Code == nil || *back.Code != e.Code || back.Msg == nil {
		t.Fatalf("%s: the error's JSON %s does not read back (%v)", what, b, err)
	}
}

// testCall is a call of s with the parameters of raw (false when raw is no
// query string: the pipeline refuses it before any handler).
func testCall(s *Server, raw string) (*call, bool) {
	params, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false
	}
	return &call{s: s, params: params, account: "fuzz"}, true
}

// bnParams are the Binance parameters that say p (Binance's names).
func bnParams(sym *symbol, p *wire.PlaceOrder, algo bool) url.Values {
	v := url.Values{}
	v.Set("symbol", sym.bn)
	v.Set("side", bnSide(p.Side))
	v.Set("type", bnTypes[p.Type])
	if algo {
		v.Set("algoType", "CONDITIONAL")
		v.Set("clientAlgoId", p.ClientOrderID)
	} else {
		v.Set("newClientOrderId", p.ClientOrderID)
	}
	switch {
	case p.PostOnly:
		v.Set("timeInForce", "GTX")
	case p.TIF != "":
		v.Set("timeInForce", string(p.TIF))
	}
	if p.ClosePosition {
		v.Set("closePosition", "true")
	} else {
		v.Set("quantity", p.Qty.String())
	}
	if p.Type.Limited() {
		v.Set("price", p.Price.String())
	}
	if p.Type.Conditional() {
		v.Set("workingType", bnWorking[p.TriggerBy])
		if p.Type == wire.TrailingStopMarket {
			v.Set("callbackRate", p.CallbackRate.String())
			v.Set("activatePrice", p.ActivationPrice.String())
		} else {
			v.Set("triggerPrice", p.TriggerPrice.String())
		}
	}
	if p.ReduceOnly {
		v.Set("reduceOnly", "true")
	}
	if p.STP != "" {
		v.Set("selfTradePreventionMode", bnSTP[p.STP])
	}
	return v
}

func FuzzPlaceParams(f *testing.F) {
	for _, seed := range []string{
		"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=30000",
		"symbol=btcusdt&side=SELL&type=MARKET&quantity=1&newClientOrderId=my-id.1:2/3",
		"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=30000.50&reduceOnly=TRUE",
		"symbol=BTCUSDT&side=BUY&type=STOP_MARKET&algoType=CONDITIONAL&closePosition=true&triggerPrice=29000&workingType=MARK_PRICE",
		"symbol=BTCUSDT&side=SELL&type=TRAILING_STOP_MARKET&algoType=CONDITIONAL&quantity=1&callbackRate=1.5&activationPrice=31000",
		"symbol=BTCUSDT&side=BUY&type=TAKE_PROFIT&algoType=CONDITIONAL&quantity=1&price=1&stopPrice=2&selfTradePreventionMode=EXPIRE_BOTH",
		"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1e3&price=NaN",
		"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=-0&price=Inf&timeInForce=FOK",
		"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=99999999999999999999.9999999999&price=0.00000000000000000001",
		"symbol=BTCUSDT&symbol=ETHUSDT&side=&side=BUY&type=MARKET&quantity=1&price=0",
		"symbol=%E2%82%BFUSDT&side=BUY&type=LIMIT&quantity=1&price=1",
		"symbol=btcu%C5%BFdt&side=BUY&type=MARKET&quantity=1",
		"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=1&newClientOrderId=" + strings.Repeat("x", 37),
		"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&positionSide=LONG&priceMatch=QUEUE&goodTillDate=1",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	s := fuzzServer(f, 0, true)
	f.Fuzz(func(t *testing.T, raw string, algo bool) {
		c, ok := testCall(s, raw)
		if !ok {
			return
		}
		sym, p, e := c.placeParams(algo)
		if e != nil {
			wellFormed(t, "placeParams", e)
			return
		}
		switch {
		case sym == nil || p.Symbol != sym.name || s.syms.byName[p.Symbol] != sym || !asciiFold(c.params.Get("symbol"), sym.bn):
			t.Fatalf("symbol %v %q", sym, p.Symbol)
		case p.Side != wire.Buy && p.Side != wire.Sell:
			t.Fatalf("side %q", p.Side)
		case bnTypes[p.Type] == "" || p.Type.Conditional() != algo:
			t.Fatalf("type %q on the algo endpoint %v", p.Type, algo)
		case p.Qty.IsNegative() || p.Price.IsNegative() || p.TriggerPrice.IsNegative() || p.CallbackRate.IsNegative() ||
			p.ActivationPrice.IsNegative():
			t.Fatalf("a negative number: %+v", p)
		case !wire.ValidClientID(p.ClientOrderID) || len(p.ClientOrderID) > 36:
			t.Fatalf("client id %q", p.ClientOrderID)
		case p.TIF != "" && p.TIF != wire.GTC && p.TIF != wire.IOC && p.TIF != wire.FOK:
			t.Fatalf("tif %q", p.TIF)
		case p.PostOnly && (p.TIF != wire.GTC || !p.Type.Limited()):
			t.Fatalf("post-only %+v", p)
		}
		// The order's JSON to the exchange reads back as it.
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var q wire.PlaceOrder
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if b2, _ := json.Marshal(q); string(b2) != string(b) {
			t.Fatalf("JSON round trip: %s became %s", b, b2)
		}
		// Said again in Binance's parameters, it is the same order.
		c2 := &call{s: s, params: bnParams(sym, &p, algo), account: "fuzz"}
		_, p2, e := c2.placeParams(algo)
		if e != nil {
			t.Fatalf("%v said again (%s): %v", raw, c2.params.Encode(), e)
		}
		if b2, _ := json.Marshal(p2); string(b2) != string(b) {
			t.Fatalf("%q said again: %s, first %s", raw, b2, b)
		}
	})
}

// FuzzBatch: batchOrders and the id lists of the batch endpoints, as any
// text. A refusal is a well-formed error; otherwise the answer has an
// element per item, in order: a well-formed error, or an order.batch item
// (nil until the exchange answers) that is a valid place or cancel.
func FuzzBatch(f *testing.F) {
	for _, seed := range []string{
		`[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01","price":"30000"}]`,
		`[{"symbol":"BTCUSDT","side":"SELL","type":"MARKET","quantity":1,"reduceOnly":true},{"symbol":"x"}]`,
		`[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"1","price":{"a":1},"newClientOrderId":null}]`,
		`[{"quantity":"1","quantity":"2"}, {"symbol":"BTCUSDT","side":"BUY","type":"STOP_MARKET","stopPrice":"1"}]`,
		`[]`, `[null]`, `[1,2,3]`, `["a","b"]`, `["my-id","bad id!"]`, `[007,"12",-1,1e3]`, `[18446744073709551616]`,
		`[{},{},{},{},{},{}]`, `{"a":"b"}`, `[1,2,3,4,5,6,7,8,9,10,11]`, `[ 5 , "6" ]`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	s := fuzzServer(f, 0, true)
	f.Fuzz(func(t *testing.T, raw string, byID bool) {
		c := &call{s: s, params: url.Values{"batchOrders": {raw}}, account: "fuzz"}
		out, ops, e := c.placeOps()
		checkOps(t, "placeOps", out, ops, e, maxBatchOrders)
		for _, o := range ops {
			p, ok := o.item["place"].(wire.PlaceOrder)
			if !ok || len(o.item) != 1 || !wire.ValidClientID(p.ClientOrderID) || p.Type.Conditional() || p.Symbol == "" {
				t.Fatalf("place item %+v", o.item)
			}
		}
		name := "origclientorderidlist"
		if byID {
			name = "orderIdList"
		}
		c = &call{s: s, params: url.Values{"symbol": {"BTCUSDT"}, name: {raw}}, account: "fuzz"}
		out, ops, e = c.cancelOps()
		checkOps(t, "cancelOps", out, ops, e, maxBatchIDs)
		for _, o := range ops {
			k, ok := o.item["cancel"].(wire.Cancel)
			switch {
			case !ok || len(o.item) != 1 || k.Symbol != "BTC-PERP":
				t.Fatalf("cancel item %+v", o.item)
			case byID && (k.ClientOrderID != "" || strconv.FormatUint(orderID(k.OrderID), 10) != k.OrderID):
				t.Fatalf("cancel by id %+v", k)
			case !byID && (k.OrderID != "" || !wire.ValidClientID(k.ClientOrderID)):
				t.Fatalf("cancel by client id %+v", k)
			}
		}
	})
}

// checkOps checks a batch's answer before the exchange's: 1 to max
// elements, each a well-formed error or, nil, the index of one op.
func checkOps(t *testing.T, what string, out []any, ops []op, e *apiError, max int) {
	t.Helper()
	if e != nil {
		wellFormed(t, what, e)
		return
	}
	if len(out) < 1 || len(out) > max {
		t.Fatalf("%s: %d elements", what, len(out))
	}
	k := 0
	for i, v := range out {
		if v == nil {
			if k == len(ops) || ops[k].at != i {
				t.Fatalf("%s: element %d is neither an error nor sent", what, i)
			}
			k++
			continue
		}
		ae, ok := v.(*apiError)
		if !ok {
			t.Fatalf("%s: element %d is %T", what, i, v)
		}
		wellFormed(t, fmt.Sprint(what, " element ", i), ae)
	}
	if k != len(ops) {
		t.Fatalf("%s: %d ops for %d elements left", what, len(ops), k)
	}
}

// FuzzParams: the other parameter readers, as the endpoints call them.
func FuzzParams(f *testing.F) {
	for _, seed := range []string{
		"limit=500&startTime=1&endTime=2&fromId=7",
		"limit=0&startTime=-1&endTime=9007199254740993",
		"limit=+5&fromId=-0&orderId=007",
		"limit=99999999999999999999999&orderId=18446744073709551616",
		"startTime=5&endTime=4",
		"orderId=00012&origClientOrderId=x",
		"origClientOrderId=a%2Fb.c:d",
		"origClientOrderId=%00%FF",
		"reduceOnly=True&closePosition=FALSE&priceProtect=yes",
		"amount=1.5&type=2&leverage=125",
		"symbol=BTCUSDT&symbol=nope",
	} {
		f.Add(seed)
	}
	s := fuzzServer(f, 0, true)
	f.Fuzz(func(t *testing.T, raw string) {
		c, ok := testCall(s, raw)
		if !ok {
			return
		}
		if p, e := c.page(false, 500, "fromId"); e != nil {
			wellFormed(t, "page", e)
		} else if p.limit < 1 || p.limit > 1000 || p.start < 0 || p.end < 0 || p.end != 0 && p.start > p.end ||
			p.hasFrom && p.from > 1<<62 {
			t.Fatalf("page %+v", p)
		}
		for _, name := range []string{"orderId", "type", "page"} {
			if n, given, e := c.integer(name, 1, 1000); e != nil {
				wellFormed(t, name, e)
			} else if given && (n < 1 || n > 1000 || strconv.FormatInt(n, 10) != strings.TrimLeft(c.params.Get(name), "0")) {
				t.Fatalf("%s=%q read as %d", name, c.params.Get(name), n)
			}
		}
		for _, name := range []string{"amount", "quantity", "price"} {
			if d, given, e := c.decimal(name); e != nil {
				wellFormed(t, name, e)
			} else if given && d.IsNegative() {
				t.Fatalf("%s=%q read as %s", name, c.params.Get(name), d)
			}
		}
		for _, name := range []string{"reduceOnly", "closePosition", "priceProtect"} {
			if _, e := c.boolean(name); e != nil {
				wellFormed(t, name, e)
			}
		}
		id, cid, e := c.orderRef("orderId", "origClientOrderId")
		switch {
		case e != nil:
			wellFormed(t, "orderRef", e)
		case id != "" && cid != "" || id == "" && cid == "":
			t.Fatalf("orderRef %q %q", id, cid)
		case id != "":
			if n, err := strconv.ParseUint(id, 10, 64); err != nil || strconv.FormatUint(n, 10) != id {
				t.Fatalf("orderId %q is not as the exchange writes it", id)
			}
		case !wire.ValidClientID(cid):
			t.Fatalf("client id %q", cid)
		}
		if cid, e := c.clientID("newClientOrderId"); e != nil {
			wellFormed(t, "clientID", e)
		} else if !wire.ValidClientID(cid) || len(cid) > 36 {
			t.Fatalf("client id %q", cid)
		}
	})
}

// FuzzRequest: the pipeline of a signed request (query string, body, key,
// timestamp, signature) up to its handler. In the query and body, TS is
// replaced by the time now and SIG by the payload's signature, so that
// the fuzzer reaches past those checks; a handler runs only with the
// parameters the signature covers, each as signed.
func FuzzRequest(f *testing.F) {
	for _, seed := range [][3]string{
		{"symbol=BTCUSDT&timestamp=TS&signature=SIG", "", fuzzKey},
		{"symbol=BTCUSDT&timestamp=TS", "side=BUY&signature=SIG", fuzzKey},
		{"", "symbol=BTCUSDT&timestamp=TS&recvWindow=60000&signature=SIG", fuzzKey},
		{"timestamp=TS&signature=SIG&symbol=BTCUSDT", "symbol=ETHUSDT", fuzzKey},
		{"timestamp=TS&newClientOrderId=ab", "c&signature=SIG", fuzzKey},
		{"timestamp=TS&recvWindow=99999999999999999999&signature=SIG", "", fuzzKey},
		{"timestamp=9223372036854775807&signature=SIG", "", fuzzKey},
		{"timestamp=TS&signature=SIG&signature=00", "", "nobody"},
		{"a=%zz&timestamp=TS&signature=SIG", "", fuzzKey},
		{"timestamp=TS&signatur%65=SIG", "", fuzzKey},
		{"timestamp=TS&signature=SIG", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], false)
		f.Add(seed[0], seed[1], seed[2], true)
	}
	servers := map[bool]*Server{false: fuzzServer(f, 0, false), true: fuzzServer(f, 0, true)}
	f.Fuzz(func(t *testing.T, query, body, key string, open bool) {
		s := servers[open]
		now := strconv.FormatInt(time.Now().UnixMilli(), 10)
		query, body = strings.ReplaceAll(query, "TS", now), strings.ReplaceAll(body, "TS", now)
		sig := signature([]byte(fuzzSecret), strings.ReplaceAll(unsigned(query)+unsigned(body), "SIG", ""))
		query, body = strings.ReplaceAll(query, "SIG", sig), strings.ReplaceAll(body, "SIG", sig)
		if strings.ContainsAny(query, " #\r\n") {
			return // no request line carries it
		}
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/fapi/v1/order", RawQuery: query},
			Header: http.Header{"X-Mbx-Apikey": {key}}, Body: io.NopCloser(strings.NewReader(body)), RemoteAddr: "192.0.2.1:1"}
		var got *call
		rec := httptest.NewRecorder()
		_, e := s.serve(rec, r, route{sec: signedEP, weight: fixed(1)}, func(c *call) (any, *apiError) {
			got = c
			return nil, nil
		})
		if e != nil {
			wellFormed(t, "serve", e)
			if got != nil {
				t.Fatal("refused after its handler ran")
			}
			return
		}
		if got == nil {
			t.Fatal("accepted without its handler")
		}
		if open && got.account != key || !open && got.account != "fuzz" {
			t.Fatalf("key %q acts for %q", key, got.account)
		}
		if !open && !strings.EqualFold(first2(got.params, "signature"), signature([]byte(fuzzSecret), unsigned(query)+unsigned(body))) {
			t.Fatalf("accepted with a wrong signature: %q %q", query, body)
		}
		// What the handler reads is what was signed, query first.
		signed, err := url.ParseQuery(strings.Trim(unsigned(query)+"&"+unsigned(body), "&"))
		if err != nil {
			t.Fatalf("accepted an unparsable payload %q %q: %v", query, body, err)
		}
		for k := range got.params {
			if k == "signature" {
				continue
			}
			if a, b := first2(got.params, k), first2(signed, k); a != b {
				t.Fatalf("%s is %q to the handler, %q as signed (%q %q)", k, a, b, query, body)
			}
		}
	})
}

// asciiFold reports whether a and b are equal but for the case of ASCII
// letters.
func asciiFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func first2(p url.Values, k string) string {
	v, _ := first(p, k)
	return v
}

// FuzzStreamName: a stream name is refused, or names one stream whose
// canonical name parses as itself and can be written into JSON raw (the
// combined wrapper does).
func FuzzStreamName(f *testing.F) {
	for _, seed := range []string{"btcusdt@trade", "BTCUSDT@aggTrade", "btcusdt@depth", "btcusdt@depth@100ms",
		"btcusdt@depth20@500ms", "btcusdt@depth5@250ms", "btcusdt@depth@1ms", "btcusdt@depth0", "btcusdt@depth-5",
		"btcusdt@kline_1m", "btcusdt@kline_1w", "btcusdt@markPrice@1s", "!markPrice@arr", "!ticker@arr", "@trade",
		"btcusdt@", "btcusdt", "btcusdt@trade@trade", "ethusdt@bookTicker", "BtcUsdt@forceOrder", "btcusdt@\"x",
		"\u212aBTCUSDT@trade", "btcu\u017fdt@trade", "btcusdt@depth10@100ms\x00"} {
		f.Add(seed)
	}
	s := fuzzServer(f, 0, true)
	f.Fuzz(func(t *testing.T, name string) {
		n, err := s.hub.parse(name)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if strings.ContainsAny(n.canonical, "\"\\/") || strings.ContainsFunc(n.canonical, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			t.Fatalf("%q: canonical %q cannot go raw into JSON", name, n.canonical)
		}
		if n.sym != nil && (!strings.HasPrefix(n.canonical, n.sym.lower+"@") || !asciiFold(name[:strings.IndexByte(name, '@')], n.sym.bn)) {
			t.Fatalf("%q: canonical %q of %s", name, n.canonical, n.sym.bn)
		}
		if n.levels != 0 && n.levels != 5 && n.levels != 10 && n.levels != 20 || n.period < 0 {
			t.Fatalf("%q: %+v", name, n)
		}
		again, err := s.hub.parse(n.canonical)
		if err != nil || again != n {
			t.Fatalf("%q: canonical %q parses as %+v (%v), want %+v", name, n.canonical, again, err, n)
		}
	})
}

// FuzzWSRequest: a control message on a connection gets one reply with its
// id, a result or an error of Binance's stream codes; a refused SUBSCRIBE
// subscribes nothing, and the connection's streams are the hub's.
func FuzzWSRequest(f *testing.F) {
	for _, seed := range []string{
		`{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@depth@100ms"],"id":1}`,
		`{"method":"SUBSCRIBE","params":["btcusdt@trade","nope@trade"],"id":2}`,
		`{"method":"SUBSCRIBE","params":["btcusdt@trade",7],"id":"x"}`,
		`{"method":"SUBSCRIBE","params":{"a":1},"id":null}`,
		`{"method":"SUBSCRIBE","params":null}`,
		`{"method":"UNSUBSCRIBE","params":["btcusdt@trade","bogus"],"id":3}`,
		`{"method":"LIST_SUBSCRIPTIONS","id":[1,{"a":[]}]}`,
		`{"method":"SET_PROPERTY","params":["combined",true],"id":4}`,
		`{"method":"SET_PROPERTY","params":["combined","yes"],"id":5}`,
		`{"method":"GET_PROPERTY","params":["combined"],"id":1e400}`,
		`{"method":"SUBSCRIBE","params":["!markPrice@arr","BTCUSDT@kline_1m","btcusdt@kline_1m"],"id":6}`,
		`[1,2,3]`, `{"method":`, `"SUBSCRIBE"`, `{"method":"\u0000","id":-0}`, `{}`,
	} {
		f.Add([]byte(seed))
	}
	s := fuzzServer(f, 0, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		w := &wsConn{s: s, out: make(chan []byte, sendQueue), done: make(chan struct{})}
		defer func() {
			s.hub.unsubscribeAll(w)
			s.hub.mu.Lock()
			defer s.hub.mu.Unlock()
			if len(s.hub.sources) != 0 {
				t.Fatalf("sources left after the connection went: %d", len(s.hub.sources))
			}
		}()
		var req wsRequest
		isSub := json.Unmarshal(data, &req) == nil && req.Method == "SUBSCRIBE"
		b := w.answer(data)
		var rep struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *wsError        `json:"error"`
		}
		if err := json.Unmarshal(b, &rep); err != nil || rep.ID == nil {
			t.Fatalf("reply %s: %v", b, err)
		}
		if rep.Error != nil && (rep.Error.Code < 0 || rep.Error.Code > 3 || rep.Error.Msg == "") {
			t.Fatalf("reply %s", b)
		}
		w.mu.Lock()
		streams := slices.Clone(w.streams)
		w.mu.Unlock()
		if isSub && rep.Error != nil && len(streams) > 0 {
			t.Fatalf("a refused SUBSCRIBE subscribed %v", streams)
		}
		if len(streams) > maxStreams {
			t.Fatalf("%d streams", len(streams))
		}
		s.hub.mu.Lock()
		defer s.hub.mu.Unlock()
		for _, st := range streams {
			src := s.hub.sources[st]
			if src == nil {
				t.Fatalf("%s subscribed without a source", st)
			}
			src.mu.RLock()
			_, in := src.conns[w]
			src.mu.RUnlock()
			if !in {
				t.Fatalf("%s subscribed but not in its source", st)
			}
		}
	})
}
