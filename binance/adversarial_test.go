package binance_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// TestOrderIDSpellings: an orderId with leading zeros names the order on
// every endpoint, as the exchange reads it (openOrder compared it as text
// and did not find it); an integer parameter with a sign is no Binance
// number (-1100), nor a symbol of letters other than ASCII's (-1121).
func TestOrderIDSpellings(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "10000")
	e.index("BTC-PERP", "30000")
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	for _, q := range []string{"limit=%2B5", "limit=-0", "fromId=%2B1"} {
		status, body := alice.raw(http.MethodGet, "/fapi/v1/historicalTrades?symbol=BTCUSDT&"+q, "")
		fails(t, q, status, body, 400, -1100)
	}
	status, body := alice.raw(http.MethodGet, "/fapi/v1/ticker/price?symbol=btcu%C5%BFdt", "") // ſ, which ToUpper makes S
	fails(t, "a symbol of non-ASCII letters", status, body, 400, -1121)
	var o map[string]any
	alice.ok(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC",
		"quantity", "0.01", "price", "29000"), &o)
	id := "00" + strconv.FormatFloat(o["orderId"].(float64), 'f', -1, 64)
	for _, path := range []string{"/fapi/v1/order", "/fapi/v1/openOrder"} {
		var got map[string]any
		alice.ok(http.MethodGet, path, vals("symbol", "BTCUSDT", "orderId", id), &got)
		if got["orderId"] != o["orderId"] {
			t.Errorf("GET %s orderId=%s: %v, want order %v", path, id, got, o["orderId"])
		}
	}
}

// TestWeightOfBodyParams: a request is weighed by the parameters it is
// served with, a limit in its body too (a depth limit=1000 there cost 10,
// the default limit's weight, instead of 20).
func TestWeightOfBodyParams(t *testing.T) {
	e := start(t, `{}`)
	req, err := http.NewRequest(http.MethodGet, e.base+"/fapi/v1/depth?symbol=BTCUSDT", strings.NewReader("limit=1000"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-MBX-USED-WEIGHT-1M") != "20" {
		t.Errorf("depth with limit=1000 in the body: HTTP %d weight %q, want 200 and 20", resp.StatusCode, resp.Header.Get("X-MBX-USED-WEIGHT-1M"))
	}
}

// TestSubscribeAllOrNothing: a SUBSCRIBE naming one stream that is none is
// refused whole: the good names before it are not subscribed either.
func TestSubscribeAllOrNothing(t *testing.T) {
	e := start(t, `{}`)
	ws := dial(t, "ws://"+strings.TrimPrefix(e.base, "http://")+"/ws")
	ws.write(map[string]any{"method": "SUBSCRIBE", "params": []string{"btcusdt@trade", "btcusdt@depth@100ms", "nope@trade"}, "id": 1})
	ws.next("the refusal", func(m map[string]any) bool { return m["id"] == 1.0 && m["error"] != nil })
	ws.write(map[string]any{"method": "LIST_SUBSCRIPTIONS", "id": 2})
	list := ws.next("LIST_SUBSCRIPTIONS", func(m map[string]any) bool { return m["id"] == 2.0 })
	if r, _ := list["result"].([]any); len(r) != 0 {
		t.Errorf("after a refused SUBSCRIBE: %v, want no streams", list)
	}
}

// TestLongStreamNameRefused: a connection whose URL names no stream is
// closed with 1008 and a reason, however long the name (a reason past a
// close frame's 123 bytes made the library send 1011 with none).
func TestLongStreamNameRefused(t *testing.T) {
	e := start(t, `{}`)
	ws := dial(t, "ws://"+strings.TrimPrefix(e.base, "http://")+"/ws/"+strings.Repeat("é", 100)+"@trade")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, _, err := ws.c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.HasPrefix(ce.Reason, "unknown symbol") ||
		len(ce.Reason) > 123 || !utf8.ValidString(ce.Reason) {
		t.Fatalf("closed with %v, want 1008 and the reason", err)
	}
}
