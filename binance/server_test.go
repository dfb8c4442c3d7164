package binance_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/binance"
)

// serveFace runs a second face on e's exchange with o (Conn and Config
// e's unless set) and points e's clients at it.
func serveFace(t *testing.T, e *env, o binance.Options) *binance.Server {
	t.Helper()
	if o.Conn == nil {
		o.Conn = e.nc
	}
	if o.Config == nil {
		o.Config = e.cfg
	}
	s, err := binance.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Serve(ln)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	e.base = "http://" + s.Addr()
	return s
}

// TestWebSocketLimits: the HTTP server's read and write timeouts (twice
// the 300 ms request timeout here) do not cut a stream; more WebSockets
// than MaxWebSockets are refused 503 -1008 until one closes.
func TestWebSocketLimits(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	s := serveFace(t, e, binance.Options{Timeout: 300 * time.Millisecond, MaxWebSockets: 2})
	ws := "ws://" + s.Addr()
	a := dial(t, ws+"/ws")
	b := dial(t, ws+"/ws")
	time.Sleep(time.Second) // past the server's deadlines
	a.write(map[string]any{"method": "SUBSCRIBE", "params": []string{"btcusdt@trade"}, "id": 7})
	a.next("SUBSCRIBE's reply after the deadlines", func(m map[string]any) bool { return m["id"] == 7.0 })

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, ws+"/ws", nil)
	if err == nil {
		_ = c.CloseNow()
		t.Fatal("a third WebSocket over a cap of 2 was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a third WebSocket: %v %v, want HTTP 503", resp, err)
	}
	_ = b.c.Close(websocket.StatusNormalClosure, "")
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		c, _, err := websocket.Dial(ctx, ws+"/ws", nil)
		if err == nil {
			_ = c.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a WebSocket closed: %v", err)
		}
	}
}

// TestNATSDown: while the face's NATS connection is down an order is
// refused at once, -1001 (never sent), instead of waiting in the
// reconnect buffer to execute when the connection comes back.
func TestNATSDown(t *testing.T) {
	e := start(t, `{}`)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(wait) {
		t.Fatal("nats server not ready")
	}
	nc, err := nats.Connect(ns.ClientURL(), append(binance.NATSOptions(), nats.MaxReconnects(-1), nats.ReconnectWait(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	serveFace(t, e, binance.Options{Conn: nc})
	ns.Shutdown()
	for deadline := time.Now().Add(wait); !nc.IsReconnecting(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the connection did not notice the server is gone")
		}
	}
	began := time.Now()
	status, out := e.client("alice", "any").signed(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY",
		"type", "LIMIT", "timeInForce", "GTC", "quantity", "0.01", "price", "30000"))
	fails(t, "an order while NATS is down", status, out, 503, -1001)
	if d := time.Since(began); d > time.Second {
		t.Errorf("the refusal took %v", d)
	}
}

// TestRequestWeight: every answer says the IP's weight used this minute
// (Binance's weights: depth by limit, a ticker of every symbol 40),
// order requests count per account instead, and a request past
// WeightPerMinute is -1003, HTTP 429 with Retry-After, and costs nothing.
func TestRequestWeight(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "10000")
	e.index("BTC-PERP", "30000")
	public := e.client("", "")
	get := func(path string, wantStatus int, wantWeight string) http.Header {
		t.Helper()
		resp, err := http.Get(e.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != wantStatus || resp.Header.Get("X-MBX-USED-WEIGHT-1M") != wantWeight {
			t.Fatalf("GET %s: HTTP %d weight %q, want %d %q", path, resp.StatusCode, resp.Header.Get("X-MBX-USED-WEIGHT-1M"), wantStatus, wantWeight)
		}
		return resp.Header
	}
	// The counts are per minute of the clock: start early in one.
	if s := time.Now().Second(); s > 50 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	// The exchange's own face: Binance's limit.
	get("/fapi/v1/depth?symbol=BTCUSDT&limit=1000", 200, "20")
	get("/fapi/v1/ticker/24hr", 200, "60")

	serveFace(t, e, binance.Options{WeightPerMinute: 30})
	var info struct{ RateLimits []map[string]any }
	public.ok(http.MethodGet, "/fapi/v1/exchangeInfo", nil, &info) // 1
	if l := info.RateLimits[0]; l["rateLimitType"] != "REQUEST_WEIGHT" || l["limit"] != 30.0 {
		t.Errorf("exchangeInfo's rate limits: %v", info.RateLimits)
	}
	get("/fapi/v1/depth?symbol=BTCUSDT", 200, "11") // limit 500: 10
	get("/fapi/v1/ticker/24hr?symbol=BTCUSDT", 200, "12")
	h := get("/fapi/v1/ticker/24hr", 429, "12") // 40 more would pass 30
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q", h.Get("Retry-After"))
	}
	status, body := public.raw(http.MethodGet, "/fapi/v1/ticker/24hr", "")
	fails(t, "past the weight limit", status, body, 429, -1003)

	for i := 1; i <= 2; i++ {
		req := vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC", "quantity", "0.01", "price", "29000",
			"timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10))
		q := req.Encode()
		r, _ := http.NewRequest(http.MethodPost, e.base+"/fapi/v1/order", strings.NewReader(q+"&signature="+sign("aliceSecret0123456789abcdefghijklmnop", q)))
		r.Header.Set("X-MBX-APIKEY", "aliceKey0123456789")
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		n := strconv.Itoa(i)
		if resp.StatusCode != 200 || resp.Header.Get("X-MBX-ORDER-COUNT-1M") != n || resp.Header.Get("X-MBX-ORDER-COUNT-10S") == "" ||
			resp.Header.Get("X-MBX-USED-WEIGHT-1M") != "12" {
			t.Errorf("order %d: HTTP %d headers %v, want order count %s and the weight unchanged", i, resp.StatusCode, resp.Header, n)
		}
	}
	get("/fapi/v1/ping", 200, "13")
}
