package binance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/perpx/perpx/binance"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// wsClient reads one WebSocket's messages as JSON objects.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, url string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &wsClient{t: t, c: c}
}

func (w *wsClient) write(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	if err := w.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

// next reads until match accepts a message; it fails after wait.
func (w *wsClient) next(what string, match func(m map[string]any) bool) map[string]any {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		_, data, err := w.c.Read(ctx)
		if err != nil {
			w.t.Fatalf("%s: %v", what, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			w.t.Fatalf("%s: %v: %s", what, err, data)
		}
		if d, ok := m["data"].(map[string]any); ok { // a combined stream's wrapper
			m = d
		}
		if match(m) {
			return m
		}
	}
}

// attached waits until the connection's streams are set up: the server
// reads requests only after, so a reply to one proves it (and the user
// feed's NATS subscription went out before any order sent after this).
func (w *wsClient) attached() {
	w.t.Helper()
	w.write(map[string]any{"method": "LIST_SUBSCRIPTIONS", "id": 424242})
	w.next("LIST_SUBSCRIPTIONS' reply", func(m map[string]any) bool { return m["id"] == 424242.0 })
}

func event(e string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["e"] == e }
}

func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	return v
}

// TestStreams checks the WebSocket streams ccxt's suite does not: the
// market streams by path and by SUBSCRIBE, and the user data events
// ALGO_UPDATE, ORDER_TRADE_UPDATE, ACCOUNT_UPDATE, MARGIN_CALL and
// listenKeyExpired, against what the exchange says over NATS.
func TestStreams(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "60")
	e.deposit("mm", "1000000")
	e.index("BTC-PERP", "30000")
	for _, o := range []wire.PlaceOrder{
		{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit, Price: decimal.RequireFromString("30010"), Qty: decimal.RequireFromString("0.1")},
		{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: decimal.RequireFromString("29990"), Qty: decimal.RequireFromString("0.1")},
	} {
		mustOK(t, "mm", e.place("mm", o).Reply)
	}
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	ws := "ws://" + strings.TrimPrefix(e.base, "http://")

	// Market streams: two by the combined path, three by SUBSCRIBE.
	market := dial(t, ws+"/stream?streams=btcusdt@aggTrade/btcusdt@bookTicker")
	bt := market.next("bookTicker", event("bookTicker"))
	if bt["b"] != "29990" || bt["a"] != "30010" || bt["A"] != "0.1" {
		t.Errorf("bookTicker: %v", bt)
	}
	market.write(map[string]any{"method": "SUBSCRIBE", "params": []string{"btcusdt@kline_1m", "btcusdt@markPrice@1s", "!markPrice@arr@1s", "btcusdt@trade", "btcusdt@miniTicker"}, "id": 7})
	market.next("SUBSCRIBE's reply", func(m map[string]any) bool { return m["id"] == 7.0 && m["result"] == nil })
	market.write(map[string]any{"method": "SUBSCRIBE", "params": []string{"btcusdt@nonsense"}, "id": 8})
	market.next("a bad stream's refusal", func(m map[string]any) bool { return m["id"] == 8.0 && m["error"] != nil })

	// The user stream.
	var lk struct{ ListenKey string }
	status, body := alice.raw(http.MethodPost, "/fapi/v1/listenKey", "")
	if status != 200 || json.Unmarshal(body, &lk) != nil {
		t.Fatalf("listenKey: %d %s", status, body)
	}
	user := dial(t, ws+"/private/ws?listenKey="+lk.ListenKey)
	time.Sleep(200 * time.Millisecond) // the feed's NATS subscription is in place

	var algo map[string]any
	alice.ok(http.MethodPost, "/fapi/v1/algoOrder", vals("algoType", "CONDITIONAL", "symbol", "BTCUSDT", "side", "SELL",
		"type", "STOP_MARKET", "triggerPrice", "25000", "workingType", "MARK_PRICE", "closePosition", "true", "clientAlgoId", "sl-1"), &algo)
	au := user.next("ALGO_UPDATE", event("ALGO_UPDATE"))
	if field(au, "o", "caid") != "sl-1" || field(au, "o", "X") != "NEW" || field(au, "o", "tp") != "25000" || field(au, "o", "cp") != true {
		t.Errorf("ALGO_UPDATE: %v", au)
	}

	alice.ok(http.MethodPost, "/fapi/v1/leverage", vals("symbol", "BTCUSDT", "leverage", "50"), nil)
	var placed map[string]any
	alice.ok(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "MARKET", "quantity", "0.05"), &placed)
	trade := user.next("ORDER_TRADE_UPDATE TRADE", func(m map[string]any) bool {
		return m["e"] == "ORDER_TRADE_UPDATE" && field(m, "o", "x") == "TRADE"
	})
	if field(trade, "o", "L") != "30010" || field(trade, "o", "l") != "0.05" || field(trade, "o", "i") != placed["orderId"] {
		t.Errorf("ORDER_TRADE_UPDATE: %v (order %v)", trade, placed)
	}
	acct := user.next("ACCOUNT_UPDATE", event("ACCOUNT_UPDATE"))
	st := e.state("alice")
	pos := field(acct, "a", "P").([]any)[0].(map[string]any)
	if pos["pa"] != "0.05" || pos["ep"] != st.Positions[0].EntryPrice.String() || pos["mt"] != "cross" {
		t.Errorf("ACCOUNT_UPDATE position: %v, the exchange: %+v", pos, st.Positions[0])
	}
	if wb := field(acct, "a", "B").([]any)[0].(map[string]any)["wb"]; wb != st.Balances["USDT"].String() {
		t.Errorf("ACCOUNT_UPDATE wallet %v, the exchange %s", wb, st.Balances["USDT"])
	}
	got := map[string]map[string]any{}
	market.next("aggTrade, trade, kline and miniTicker", func(m map[string]any) bool {
		if e, ok := m["e"].(string); ok && got[e] == nil && (e != "24hrMiniTicker" || m["c"] == "30010") {
			got[e] = m
		}
		return got["aggTrade"] != nil && got["trade"] != nil && got["kline"] != nil && got["24hrMiniTicker"] != nil
	})
	if mt := got["24hrMiniTicker"]; mt["s"] != "BTCUSDT" || mt["v"] != "0.05" || mt["h"] != "30010" {
		t.Errorf("miniTicker: %v", mt)
	}
	at, tr, k := got["aggTrade"], got["trade"], got["kline"]
	if at["p"] != "30010" || at["q"] != "0.05" || at["m"] != false || tr["t"] != at["a"] {
		t.Errorf("aggTrade %v, trade %v", at, tr)
	}
	if field(k, "k", "c") != "30010" || field(k, "k", "i") != "1m" {
		t.Errorf("kline: %v", k)
	}

	// A mark move: the mark price streams; then one that liquidates alice
	// (60 USDT backing 1 500 of BTC): MARGIN_CALL.
	e.index("BTC-PERP", "29500")
	mp := market.next("markPrice", func(m map[string]any) bool { return m["e"] == "markPriceUpdate" && m["i"] == "29500" })
	var tk wire.TickerReply
	e.req(e.subj.Ticker("BTC-PERP"), map[string]string{}, &tk)
	if mp["s"] != "BTCUSDT" || mp["p"] != tk.Ticker.Mark.String() || mp["r"] != tk.Ticker.FundingRate.String() {
		t.Errorf("markPrice: %v, the exchange's ticker: %+v", mp, tk.Ticker)
	}
	e.index("BTC-PERP", "28000")
	mc := user.next("MARGIN_CALL", event("MARGIN_CALL"))
	if p := field(mc, "p").([]any)[0].(map[string]any); p["s"] != "BTCUSDT" || p["pa"] != "0.05" {
		t.Errorf("MARGIN_CALL: %v", mc)
	}
	e.audit()
}

// TestListenKeyExpiry: a key not kept alive ends its connections with
// listenKeyExpired; one kept alive (PUT) lives on.
func TestListenKeyExpiry(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A second face on the same exchange, a NATS client with the admin's
	// login like a separate process, with 2 s listen keys (alice's keepalive
	// every 150 ms may stall for a second on a loaded machine).
	s, err := binance.New(binance.Options{Conn: e.nc, Config: e.cfg, ListenKeyTTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.Serve(ln)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	e.base = "http://" + s.Addr()
	bob := e.client("bobKey0123456789", "bobSecret0123456789abcdefghijklmnop")
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	key := func(c client) string {
		var lk struct{ ListenKey string }
		c.ok(http.MethodPost, "/fapi/v1/listenKey", nil, &lk)
		return lk.ListenKey
	}
	bobKey, aliceKey := key(bob), key(alice)
	if again := key(bob); again != bobKey {
		t.Errorf("a second POST gave %s, want the live key %s", again, bobKey)
	}
	bobWS := dial(t, "ws://"+s.Addr()+"/ws/"+bobKey)
	aliceWS := dial(t, "ws://"+s.Addr()+"/ws/"+aliceKey)
	stop, stopped := make(chan struct{}), make(chan struct{})
	defer func() { // before the cleanup closes the server under a keepalive in flight (EOF)
		close(stop)
		<-stopped
	}()
	go func() { // alice's bot keeps its key alive
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
				if status, body := alice.raw(http.MethodPut, "/fapi/v1/listenKey", ""); status != 200 {
					t.Errorf("keepalive: %d %s", status, body)
				}
			}
		}
	}()
	ex := bobWS.next("listenKeyExpired", event("listenKeyExpired"))
	if ex["listenKey"] != bobKey {
		t.Errorf("listenKeyExpired: %v", ex)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, _, err := bobWS.c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after listenKeyExpired: %v, want a normal close", err)
	}
	if status, body := bob.raw(http.MethodPut, "/fapi/v1/listenKey", ""); status != 400 || !strings.Contains(string(body), "-1125") {
		t.Errorf("keepalive of an expired key: %d %s, want -1125", status, body)
	}
	// Alice's connection is still served: an order of hers is on it.
	e.index("BTC-PERP", "30000")
	e.deposit("alice", "1000")
	alice.ok(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC",
		"quantity", "0.001", "price", "29000"), nil)
	aliceWS.next("alice's ORDER_TRADE_UPDATE", event("ORDER_TRADE_UPDATE"))
}

// TestOneListenKeyPerConnection: a connection naming two listen keys is
// refused (closed, policy violation): their feeds would share its one slot
// and the first could be neither stopped nor freed. One key, even named
// twice, is served.
func TestOneListenKeyPerConnection(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	key := func(c client) string {
		var lk struct{ ListenKey string }
		c.ok(http.MethodPost, "/fapi/v1/listenKey", nil, &lk)
		return lk.ListenKey
	}
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	aliceKey, bobKey := key(alice), key(e.client("bobKey0123456789", "bobSecret0123456789abcdefghijklmnop"))
	ws := "ws://" + strings.TrimPrefix(e.base, "http://")
	two := dial(t, ws+"/stream?streams="+aliceKey+"/"+bobKey)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, _, err := two.c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("two listen keys on a connection: %v, want a policy-violation close", err)
	}
	one := dial(t, ws+"/stream?streams="+aliceKey+"/"+aliceKey)
	one.attached()
	e.index("BTC-PERP", "30000")
	e.deposit("alice", "1000")
	alice.ok(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC",
		"quantity", "0.001", "price", "29000"), nil)
	one.next("alice's ORDER_TRADE_UPDATE", event("ORDER_TRADE_UPDATE"))
}

// TestCombinedUserStream: on a combined stream the user data is wrapped
// like the market streams, its stream name the listen key.
func TestCombinedUserStream(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	var lk struct{ ListenKey string }
	alice.ok(http.MethodPost, "/fapi/v1/listenKey", nil, &lk)
	c := dial(t, "ws://"+strings.TrimPrefix(e.base, "http://")+"/stream?streams="+lk.ListenKey+"/btcusdt@trade")
	c.attached()
	e.index("BTC-PERP", "30000")
	e.deposit("alice", "1000")
	alice.ok(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC",
		"quantity", "0.001", "price", "29000"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		_, data, err := c.c.Read(ctx)
		if err != nil {
			t.Fatalf("no ORDER_TRADE_UPDATE: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m["e"] == "ORDER_TRADE_UPDATE" {
			t.Fatalf("a user event not wrapped on a combined stream: %s", data)
		}
		if field(m, "data", "e") == "ORDER_TRADE_UPDATE" {
			if m["stream"] != lk.ListenKey {
				t.Fatalf("stream %v, want the listen key: %s", m["stream"], data)
			}
			// A new order's time is its creation time (ccxt's timestamp).
			if o := e.state("alice").OpenOrders; len(o) != 1 || field(m, "data", "o", "T") != float64(o[0].CreatedMs) {
				t.Fatalf("NEW's T: %s, the order %+v", data, o)
			}
			return
		}
	}
}

// TestOrderTradeUpdates: each order's ORDER_TRADE_UPDATE events are
// Binance's sequence: NEW first (a taker's too), every TRADE with the
// status that fill left (PARTIALLY_FILLED, FILLED), an IOC's unfilled rest
// EXPIRED, and nothing after a FILLED trade.
func TestOrderTradeUpdates(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "100000")
	e.deposit("mm", "1000000")
	e.index("BTC-PERP", "30000")
	for _, p := range []string{"30010", "30020"} {
		mustOK(t, "mm", e.place("mm", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit,
			Price: decimal.RequireFromString(p), Qty: decimal.RequireFromString("0.02")}).Reply)
	}
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	var lk struct{ ListenKey string }
	if status, body := alice.raw(http.MethodPost, "/fapi/v1/listenKey", ""); status != 200 || json.Unmarshal(body, &lk) != nil {
		t.Fatalf("listenKey: %d %s", status, body)
	}
	user := dial(t, "ws://"+strings.TrimPrefix(e.base, "http://")+"/private/ws?listenKey="+lk.ListenKey)
	time.Sleep(200 * time.Millisecond) // the feed's NATS subscription is in place

	order := func(kv ...string) string {
		var o map[string]any
		alice.ok(http.MethodPost, "/fapi/v1/order", vals(append([]string{"symbol", "BTCUSDT"}, kv...)...), &o)
		return strconv.FormatFloat(o["orderId"].(float64), 'f', -1, 64)
	}
	// A market buy through both asks, a buy that rests and mm fills at
	// once, an IOC that finds half its quantity, then a resting sentinel:
	// every event of the others comes before its NEW.
	market := order("side", "BUY", "type", "MARKET", "quantity", "0.03")
	rest := order("side", "BUY", "type", "LIMIT", "price", "29000", "quantity", "0.01", "timeInForce", "GTC")
	mustOK(t, "mm", e.place("mm", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Market,
		Qty: decimal.RequireFromString("0.01"), TIF: wire.IOC}).Reply)
	ioc := order("side", "BUY", "type", "LIMIT", "price", "30020", "quantity", "0.02", "timeInForce", "IOC")
	sentinel := order("side", "BUY", "type", "LIMIT", "price", "28000", "quantity", "0.01", "timeInForce", "GTC")
	got := map[string][]string{}
	user.next("the sentinel's NEW", func(m map[string]any) bool {
		if m["e"] != "ORDER_TRADE_UPDATE" {
			return false
		}
		id := strconv.FormatFloat(field(m, "o", "i").(float64), 'f', -1, 64)
		got[id] = append(got[id], fmt.Sprintf("%v/%v/%v", field(m, "o", "x"), field(m, "o", "X"), field(m, "o", "z")))
		return id == sentinel
	})
	for _, c := range []struct {
		name, id string
		want     []string
	}{
		{"market", market, []string{"NEW/NEW/0", "TRADE/PARTIALLY_FILLED/0.02", "TRADE/FILLED/0.03"}},
		{"resting", rest, []string{"NEW/NEW/0", "TRADE/FILLED/0.01"}},
		{"IOC", ioc, []string{"NEW/NEW/0", "TRADE/PARTIALLY_FILLED/0.01", "EXPIRED/EXPIRED/0.01"}},
	} {
		if !slices.Equal(got[c.id], c.want) {
			t.Errorf("%s order's events %v, want %v", c.name, got[c.id], c.want)
		}
	}
	var q map[string]any
	alice.ok(http.MethodGet, "/fapi/v1/order", vals("symbol", "BTCUSDT", "orderId", ioc), &q)
	if q["status"] != "EXPIRED" || q["timeInForce"] != "IOC" {
		t.Errorf("the IOC's REST status %v, time in force %v, want EXPIRED, IOC", q["status"], q["timeInForce"])
	}
	alice.ok(http.MethodGet, "/fapi/v1/order", vals("symbol", "BTCUSDT", "orderId", market), &q)
	if q["status"] != "FILLED" || q["timeInForce"] != "GTC" { // as Binance shows a market order
		t.Errorf("the market order's REST status %v, time in force %v, want FILLED, GTC", q["status"], q["timeInForce"])
	}
	e.audit()
}

// TestListenKeyCaps: in open mode every API key is an account with a
// listen key to make, so the live keys are capped per IP (429 -1003) and
// overall (503 -1008); a key made again or deleted frees nothing twice, a
// deleted one makes room. With users configured the accounts are the cap.
func TestListenKeyCaps(t *testing.T) {
	e := start(t, `{}`)
	serveFace(t, e, binance.Options{MaxListenKeys: 3, MaxListenKeysPerIP: 2})
	post := func(c client) (int, []byte) { return c.raw(http.MethodPost, "/fapi/v1/listenKey", "") }
	for _, k := range []string{"a", "b", "a"} {
		if status, body := post(e.client(k, "")); status != 200 {
			t.Fatalf("listen key of %s: HTTP %d %s", k, status, body)
		}
	}
	status, body := post(e.client("c", ""))
	fails(t, "a third key from one IP", status, body, 429, -1003)
	other := e.client("d", "").fromIP("127.0.0.2")
	if status, body := post(other); status != 200 {
		t.Fatalf("a key from another IP: HTTP %d %s", status, body)
	}
	status, body = post(e.client("e", "").fromIP("127.0.0.2"))
	fails(t, "a fourth key in all", status, body, 503, -1008)
	if status, body := e.client("a", "").raw(http.MethodDelete, "/fapi/v1/listenKey", ""); status != 200 {
		t.Fatalf("DELETE listenKey: HTTP %d %s", status, body)
	}
	if status, body := post(e.client("c", "")); status != 200 {
		t.Fatalf("a key after one was deleted: HTTP %d %s", status, body)
	}

	// Configured: a cap of one per IP does not apply, each account has its key.
	e = start(t, `{`+usersJSON+`}`)
	serveFace(t, e, binance.Options{MaxListenKeys: 1, MaxListenKeysPerIP: 1})
	for _, k := range []string{"aliceKey0123456789", "bobKey0123456789"} {
		if status, body := post(e.client(k, "")); status != 200 {
			t.Fatalf("listen key of %s with users: HTTP %d %s", k, status, body)
		}
	}
}

// TestWSMessageRate: a client may send 10 messages a second, as on
// Binance; more closes the connection (policy violation) unanswered.
func TestWSMessageRate(t *testing.T) {
	e := start(t, `{}`)
	ws := "ws://" + strings.TrimPrefix(e.base, "http://") + "/ws"
	c := dial(t, ws)
	for round := range 2 { // 10 at once, twice a second apart: within the limit
		for i := range 10 {
			c.write(map[string]any{"method": "LIST_SUBSCRIPTIONS", "id": round*10 + i})
		}
		for i := range 10 {
			c.next("a reply within the limit", func(m map[string]any) bool { return m["id"] == float64(round*10+i) })
		}
		time.Sleep(1100 * time.Millisecond)
	}
	c.attached()

	// 25 at once span at most two seconds of the clock: one has 13 or more.
	c = dial(t, ws)
	for i := range 25 {
		b, _ := json.Marshal(map[string]any{"method": "LIST_SUBSCRIPTIONS", "id": i})
		if err := c.c.Write(context.Background(), websocket.MessageText, b); err != nil {
			break // closed already
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		_, data, err := c.c.Read(ctx)
		if err == nil {
			continue // a reply to one of the first 10 of a second
		}
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("after 25 messages at once: %v (last %s), want a policy-violation close", err, data)
		}
		break
	}
}
