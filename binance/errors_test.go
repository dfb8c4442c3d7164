package binance_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/binance"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// TestErrorCodes drives each refusal of the list through the face
// to the exchange and checks Binance's code, its HTTP status, and that the
// refused request changed nothing.
func TestErrorCodes(t *testing.T) {
	// BTC-PERP's minimum notional is 100 here (5 in the demo).
	e := start(t, `{`+usersJSON+`}`, func(c *config.Config) { c.Symbols[0].MinNotional = decimal.NewFromInt(100) })
	e.deposit("alice", "1000")
	e.deposit("mm", "1000000")
	e.index("BTC-PERP", "30000")
	e.index("ETH-PERP", "2000")
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	order := func(kv ...string) url.Values {
		v := vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC", "quantity", "0.010", "price", "29000")
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	// A resting ask of the market maker's at 30010 for post-only and FOK.
	mustOK(t, "mm ask", e.place("mm", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit,
		Price: decimal.RequireFromString("30010"), Qty: decimal.RequireFromString("0.005")}).Reply)
	before := e.state("alice")

	for _, tc := range []struct {
		name         string
		method, path string
		params       url.Values
		status, code int
		msg          string // a part of the message
	}{
		{"price off the tick", "POST", "/fapi/v1/order", order("price", "29000.05"), 400, -1013, "PRICE_FILTER"},
		{"quantity off the lot", "POST", "/fapi/v1/order", order("quantity", "0.0105"), 400, -1013, "LOT_SIZE"},
		{"market quantity off the lot", "POST", "/fapi/v1/order", order("type", "MARKET", "timeInForce", "", "price", "", "quantity", "0.0105"), 400, -1013, "MARKET_LOT_SIZE"},
		{"notional under the minimum", "POST", "/fapi/v1/order", order("quantity", "0.001", "price", "29000"), 400, -4164, "notional must be no smaller"},
		{"price outside the band", "POST", "/fapi/v1/order", order("price", "50000"), 400, -1013, "PERCENT_PRICE"},
		{"margin", "POST", "/fapi/v1/order", order("quantity", "1", "price", "29000"), 400, -2019, "Margin is insufficient"},
		{"reduce-only without a position", "POST", "/fapi/v1/order", order("reduceOnly", "true"), 400, -2022, "ReduceOnly"},
		{"post-only that would take", "POST", "/fapi/v1/order", order("price", "30010", "timeInForce", "GTX", "quantity", "0.004"), 400, -5022, "Post Only"},
		{"FOK that cannot fill", "POST", "/fapi/v1/order", order("price", "30010", "timeInForce", "FOK", "quantity", "0.010"), 400, -5021, "FOK"},
		{"stop that would trigger at once", "POST", "/fapi/v1/algoOrder", order("algoType", "CONDITIONAL", "type", "STOP_MARKET",
			"timeInForce", "", "price", "", "side", "SELL", "triggerPrice", "31000", "workingType", "MARK_PRICE", "quantity", "0.001"), 400, -2021, "immediately trigger"},
		{"a stop on the plain order endpoint", "POST", "/fapi/v1/order", order("type", "STOP_MARKET", "stopPrice", "29000"), 400, -4120, "Algo Order"},
		{"cancel of an unknown order", "DELETE", "/fapi/v1/order", vals("symbol", "BTCUSDT", "orderId", "987654321"), 400, -2011, "Unknown order"},
		{"query of an unknown order", "GET", "/fapi/v1/order", vals("symbol", "BTCUSDT", "orderId", "987654321"), 400, -2013, "does not exist"},
		{"unknown symbol", "POST", "/fapi/v1/order", order("symbol", "DOGEUSDT"), 400, -1121, "Invalid symbol"},
		{"missing quantity", "POST", "/fapi/v1/order", order("quantity", ""), 400, -1102, "quantity"},
		{"bad side", "POST", "/fapi/v1/order", order("side", "HOLD"), 400, -1117, "side"},
		{"hedge-mode position side", "POST", "/fapi/v1/order", order("positionSide", "LONG"), 400, -4061, "position side"},
		{"leverage over the maximum", "POST", "/fapi/v1/leverage", vals("symbol", "BTCUSDT", "leverage", "126"), 400, -4028, "Leverage"},
		{"margin type already so", "POST", "/fapi/v1/marginType", vals("symbol", "BTCUSDT", "marginType", "CROSSED"), 400, -4046, "No need to change margin type"},
		{"isolated margin without an isolated position", "POST", "/fapi/v1/positionMargin", vals("symbol", "BTCUSDT", "amount", "10", "type", "1"), 400, -4049, "isolated"},
		{"bad depth limit", "GET", "/fapi/v1/depth", vals("symbol", "BTCUSDT", "limit", "7"), 400, -4021, "depth limit"},
		{"bad kline interval", "GET", "/fapi/v1/klines", vals("symbol", "BTCUSDT", "interval", "7m"), 400, -1120, "interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := url.Values{}
			for k, v := range tc.params {
				if v[0] != "" { // "" removes a default parameter
					params[k] = v
				}
			}
			status, body := alice.signed(tc.method, tc.path, params)
			got := fails(t, tc.name, status, body, tc.status, tc.code)
			if !contains(got.Msg, tc.msg) {
				t.Errorf("message %q does not say %q", got.Msg, tc.msg)
			}
		})
	}
	after := e.state("alice")
	if len(after.OpenOrders) != 0 || !after.Balances["USDT"].Equal(before.Balances["USDT"]) || len(after.Positions) != 0 {
		t.Fatalf("a refused request changed the account: %+v", after)
	}

	// Margin type: -4047 with an open order, -4048 with a position.
	var placed map[string]any
	alice.ok(http.MethodPost, "/fapi/v1/order", order("symbol", "ETHUSDT", "price", "1990", "quantity", "0.10"), &placed)
	status, body := alice.signed(http.MethodPost, "/fapi/v1/marginType", vals("symbol", "ETHUSDT", "marginType", "ISOLATED"))
	fails(t, "margin type with an open order", status, body, 400, -4047)
	alice.ok(http.MethodDelete, "/fapi/v1/allOpenOrders", vals("symbol", "ETHUSDT"), nil)
	mustOK(t, "mm ETH ask", e.place("mm", wire.PlaceOrder{Symbol: "ETH-PERP", Side: wire.Sell, Type: wire.Limit,
		Price: decimal.RequireFromString("2001"), Qty: decimal.RequireFromString("0.10")}).Reply)
	alice.ok(http.MethodPost, "/fapi/v1/order", vals("symbol", "ETHUSDT", "side", "BUY", "type", "MARKET", "quantity", "0.10"), nil)
	status, body = alice.signed(http.MethodPost, "/fapi/v1/marginType", vals("symbol", "ETHUSDT", "marginType", "ISOLATED"))
	fails(t, "margin type with a position", status, body, 400, -4048)
	e.audit()
}

// TestRateLimit: the exchange's per-account order bucket, empty, is
// Binance's -1003 with HTTP 429; nothing is placed.
func TestRateLimit(t *testing.T) {
	e := start(t, `{`+usersJSON+`,"rate_limit":{"orders_per_s":0.001,"burst":2}}`)
	e.deposit("alice", "10000")
	e.index("BTC-PERP", "30000")
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	order := vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC", "quantity", "0.010", "price", "29000")
	for range 2 {
		alice.ok(http.MethodPost, "/fapi/v1/order", order, nil)
	}
	status, body := alice.signed(http.MethodPost, "/fapi/v1/order", order)
	fails(t, "third order", status, body, http.StatusTooManyRequests, -1003)
	if n := len(e.state("alice").OpenOrders); n != 2 {
		t.Fatalf("%d open orders, want 2", n)
	}
}

func contains(s, part string) bool {
	return len(part) == 0 || len(s) >= len(part) && (s == part || indexOf(s, part) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestHostileReplies: replies that say ok but lack what they answer (no
// order, a ticker or a position of a symbol the face does not serve) are
// errors or left out, never a crash. A fake exchange on another prefix
// answers everything with such a reply.
func TestHostileReplies(t *testing.T) {
	e := start(t, `{}`)
	nc, err := nats.Connect(e.app.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hostile := []byte(`{"ok":true,"ticker":{"symbol":"ZZZ-PERP","last":"1"},
		"account":{"account":"alice","positions":[{"symbol":"ZZZ-PERP","side":"long","qty":"1"}]}}`)
	sub, err := nc.Subscribe("fake.>", func(m *nats.Msg) { _ = m.Respond(hostile) })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	serveFace(t, e, binance.Options{Conn: nc, Prefix: "fake"})
	c := e.client("alice", "any")

	status, out := c.signed(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT",
		"timeInForce", "GTC", "quantity", "0.01", "price", "30000"))
	fails(t, "an order reply without the order", status, out, 500, -1000)
	status, out = c.signed(http.MethodDelete, "/fapi/v1/order", vals("symbol", "BTCUSDT", "orderId", "1"))
	fails(t, "a cancel's lookup reply without the order", status, out, 500, -1000)
	status, out = c.signed(http.MethodPost, "/fapi/v1/algoOrder", vals("symbol", "BTCUSDT", "side", "SELL", "algoType", "CONDITIONAL",
		"type", "STOP_MARKET", "quantity", "0.01", "triggerPrice", "20000"))
	fails(t, "an algo order reply without the order", status, out, 500, -1000)
	var prices []map[string]any
	c.ok(http.MethodGet, "/fapi/v1/ticker/price", nil, &prices)
	if len(prices) != 2 || prices[0]["symbol"] != "BTCUSDT" || prices[1]["symbol"] != "ETHUSDT" {
		t.Fatalf("tickers answered for another symbol: %v", prices)
	}
	var rows []map[string]any
	c.ok(http.MethodGet, "/fapi/v2/positionRisk", nil, &rows)
	if len(rows) != 0 {
		t.Fatalf("a position in a symbol not served: %v", rows)
	}
}

// TestCancelAllSmallBucket: with a rate-limit bucket of 5, DELETE
// allOpenOrders cancels 12 plain orders (batches that fit the bucket, sent
// again as it refills) and leaves the conditional (algo) order alone.
func TestCancelAllSmallBucket(t *testing.T) {
	e := start(t, `{`+usersJSON+`,"rate_limit":{"orders_per_s":20,"burst":5}}`)
	e.deposit("alice", "100000")
	e.index("BTC-PERP", "30000")
	place := func(p wire.PlaceOrder) {
		t.Helper()
		for {
			r := e.place("alice", p)
			if r.OK {
				return
			}
			if r.Error.Code != wire.CodeRateLimited {
				t.Fatalf("place: %+v", r.Error)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := range 12 {
		place(wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: decimal.NewFromInt(int64(29000 - i)),
			Qty: decimal.RequireFromString("0.01")})
	}
	place(wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.StopMarket, TriggerPrice: decimal.NewFromInt(31000),
		Qty: decimal.RequireFromString("0.01"), TriggerBy: wire.TriggerMark})
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	alice.ok(http.MethodDelete, "/fapi/v1/allOpenOrders", vals("symbol", "BTCUSDT"), nil)
	open := e.state("alice").OpenOrders
	if len(open) != 1 || open[0].Status != wire.StatusUntriggered {
		t.Fatalf("after allOpenOrders: %+v, want the conditional order only", open)
	}
	e.audit()
}

// TestBadRoutes: an unknown path or a method a path does not serve is
// Binance's JSON error (404, or 405 with Allow), not Go's plain text.
func TestBadRoutes(t *testing.T) {
	e := start(t, `{}`)
	c := e.client("alice", "any")
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPatch, "/fapi/v1/order", 405, "DELETE, GET, HEAD, POST, PUT"},
		{http.MethodPost, "/fapi/v1/time", 405, "GET, HEAD"},
		{http.MethodGet, "/fapi/v1/nothing", 404, ""},
		{http.MethodPost, "/nothing", 404, ""},
	} {
		req, err := http.NewRequest(tc.method, c.e.base+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bnError
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || body.Code != -5000 || resp.Header.Get("Allow") != tc.allow ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: HTTP %d Allow %q %+v (%v), want %d -5000 Allow %q", tc.method, tc.path, resp.StatusCode,
				resp.Header.Get("Allow"), body, err, tc.status, tc.allow)
		}
	}
}

// TestNumbersAndRateLimits: a negative number is no Binance number
// (-1100); exchangeInfo's ORDERS limit is the bucket's rate in whole
// orders per the shortest interval that holds one, and absent when off.
func TestNumbersAndRateLimits(t *testing.T) {
	orders := func(e *env) []map[string]any {
		t.Helper()
		var info struct {
			RateLimits []map[string]any `json:"rateLimits"`
		}
		e.client("", "").ok(http.MethodGet, "/fapi/v1/exchangeInfo", nil, &info)
		var out []map[string]any
		for _, l := range info.RateLimits {
			if l["rateLimitType"] == "ORDERS" {
				out = append(out, l)
			}
		}
		return out
	}
	e := start(t, `{`+usersJSON+`,"rate_limit":{"orders_per_s":0.5,"burst":2}}`)
	if o := orders(e); len(o) != 1 || o[0]["interval"] != "MINUTE" || o[0]["limit"] != 30.0 {
		t.Errorf("0.5 orders a second: %v, want 30 a minute", o)
	}
	e.deposit("alice", "10000")
	e.index("BTC-PERP", "30000")
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	for _, p := range [][2]string{{"quantity", "-0.01"}, {"price", "-29000"}} {
		params := vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC", "quantity", "0.01", "price", "29000")
		params.Set(p[0], p[1])
		status, body := alice.signed(http.MethodPost, "/fapi/v1/order", params)
		fails(t, "a negative "+p[0], status, body, 400, -1100)
	}
	if n := len(e.state("alice").OpenOrders); n != 0 {
		t.Fatalf("%d orders placed", n)
	}
	if o := orders(start(t, `{"rate_limit":{"orders_per_s":0}}`)); len(o) != 0 {
		t.Errorf("no rate limit: %v, want no ORDERS limit", o)
	}
}
