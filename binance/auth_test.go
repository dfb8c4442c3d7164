package binance_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/binance"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// TestSigning checks Binance's signed-request rules end to end: which key,
// which timestamps, which signatures are accepted, and each refusal's code
// and HTTP status.
func TestSigning(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "10000")
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	now := func(deltaMs int64) string { return strconv.FormatInt(time.Now().UnixMilli()+deltaMs, 10) }
	const balance = "/fapi/v3/balance"

	// The reference: Binance's own documented example signs the query string
	// concatenated with the body; the same split works here.
	q := "recvWindow=5000"
	body := "timestamp=" + now(0)
	status, out := alice.raw(http.MethodPost, "/fapi/v1/leverage?symbol=BTCUSDT&leverage=7&"+q,
		body+"&signature="+sign(alice.secret, "symbol=BTCUSDT&leverage=7&"+q+body))
	if status != 200 || !strings.Contains(string(out), `"leverage":7`) {
		t.Fatalf("query + body signature: HTTP %d %s", status, out)
	}
	// Upper-case hex is the same signature.
	p := "timestamp=" + now(0)
	if status, out := alice.raw(http.MethodGet, balance+"?"+p+"&signature="+strings.ToUpper(sign(alice.secret, p)), ""); status != 200 {
		t.Fatalf("upper-case signature: HTTP %d %s", status, out)
	}

	for _, tc := range []struct {
		name       string
		key        string
		params     url.Values
		tamper     func(query string) string // changes the signed query before it is sent
		status     int
		code       int
		wantInBody string
	}{
		{name: "no API key", key: "", status: 401, code: -2014},
		{name: "malformed API key", key: "not a key!", status: 401, code: -2014},
		{name: "unknown API key", key: "nobodyKey0123", status: 401, code: -2015},
		{name: "wrong secret", key: alice.key, tamper: func(q string) string {
			return q[:strings.Index(q, "signature=")] + "signature=" + sign("wrong", q[:strings.Index(q, "&signature=")])
		}, status: 400, code: -1022},
		{name: "parameter changed after signing", key: alice.key, tamper: func(q string) string {
			return strings.Replace(q, "timestamp=", "recvWindow=6000&timestamp=", 1)
		}, status: 400, code: -1022},
		{name: "no signature", key: alice.key, tamper: func(q string) string { return q[:strings.Index(q, "&signature=")] },
			status: 400, code: -1102, wantInBody: "signature"},
		{name: "no timestamp", key: alice.key, params: url.Values{"timestamp": {"x"}}, status: 400, code: -1102, wantInBody: "timestamp"},
		{name: "expired: older than the default 5000 ms window", key: alice.key, params: vals("timestamp", now(-6000)), status: 400, code: -1021},
		{name: "expired: older than its own recvWindow", key: alice.key, params: vals("timestamp", now(-3000), "recvWindow", "2000"), status: 400, code: -1021},
		{name: "from the future: 1000 ms ahead", key: alice.key, params: vals("timestamp", now(1500)), status: 400, code: -1021},
		{name: "recvWindow over 60000", key: alice.key, params: vals("recvWindow", "60001"), status: 400, code: -1131},
		{name: "recvWindow not a number", key: alice.key, params: vals("recvWindow", "5s"), status: 400, code: -1100},
		// 20 digits match Binance's pattern: too large, not illegal.
		{name: "recvWindow of 20 digits", key: alice.key, params: vals("recvWindow", "99999999999999999999"), status: 400, code: -1131},
		{name: "recvWindow of 21 digits", key: alice.key, params: vals("recvWindow", "999999999999999999999"), status: 400, code: -1100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := url.Values{}
			for k, v := range tc.params {
				params[k] = v
			}
			if params.Get("timestamp") == "" {
				params.Set("timestamp", now(0))
			}
			query := params.Encode()
			query += "&signature=" + sign(alice.secret, query)
			if tc.tamper != nil {
				query = tc.tamper(query)
			}
			c := e.client(tc.key, "")
			status, out := c.raw(http.MethodGet, balance+"?"+query, "")
			got := fails(t, tc.name, status, out, tc.status, tc.code)
			if !strings.Contains(got.Msg, tc.wantInBody) {
				t.Errorf("message %q does not name %q", got.Msg, tc.wantInBody)
			}
		})
	}

	// Within its window an old request is still good (3 s old, 5 s window).
	if status, out := alice.signed(http.MethodGet, balance, vals("timestamp", now(-3000))); status != 200 {
		t.Fatalf("3 s old request in a 5 s window: HTTP %d %s", status, out)
	}
	// Public endpoints need no key.
	if status, out := e.client("", "").raw(http.MethodGet, "/fapi/v1/time", ""); status != 200 {
		t.Fatalf("time: HTTP %d %s", status, out)
	}
	// A listen key needs the API key only, no signature (Binance's USER_STREAM).
	if status, out := alice.raw(http.MethodPost, "/fapi/v1/listenKey", ""); status != 200 || !strings.Contains(string(out), "listenKey") {
		t.Fatalf("listenKey: HTTP %d %s", status, out)
	}
}

// TestReplay: a captured order request sent again. Within its window
// Binance would accept it: the client order id stops a second order while
// the first is open (-4116); once the window has passed it is refused -1021
// and nothing changes.
func TestReplay(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "10000")
	e.index("BTC-PERP", "30000")
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	params := vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC", "quantity", "0.010",
		"price", "29000", "newClientOrderId", "replayed-1", "recvWindow", "1000",
		"timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10))
	body := params.Encode()
	body += "&signature=" + sign(alice.secret, body)
	if status, out := alice.raw(http.MethodPost, "/fapi/v1/order", body); status != 200 {
		t.Fatalf("order: HTTP %d %s", status, out)
	}
	status, out := alice.raw(http.MethodPost, "/fapi/v1/order", body)
	fails(t, "replay within the window", status, out, 400, -4116)
	time.Sleep(1100 * time.Millisecond)
	status, out = alice.raw(http.MethodPost, "/fapi/v1/order", body)
	fails(t, "replay after the window", status, out, 400, -1021)
	if n := len(e.state("alice").OpenOrders); n != 1 {
		t.Fatalf("the replays placed orders: %d open, want 1", n)
	}
}

// TestOpenServer: without users the API key names the account and any
// secret signs (the open NATS server lets anyone act for any account too);
// the timestamp rules still hold.
func TestOpenServer(t *testing.T) {
	e := start(t, `{}`)
	e.deposit("carol", "500")
	carol := e.client("carol", "anything")
	var bal []map[string]any
	carol.ok(http.MethodGet, "/fapi/v2/balance", nil, &bal)
	if len(bal) != 1 || bal[0]["balance"] != "500" || bal[0]["asset"] != "USDT" {
		t.Fatalf("carol's balance: %v", bal)
	}
	status, out := carol.signed(http.MethodGet, "/fapi/v2/balance", vals("timestamp", strconv.FormatInt(time.Now().UnixMilli()-10000, 10)))
	fails(t, "expired", status, out, 400, -1021)
	long := strings.Repeat("a", wire.MaxTokenLen+1)
	status, out = e.client(long, "x").signed(http.MethodGet, "/fapi/v2/balance", nil)
	fails(t, "a key that is no account name", status, out, 401, -2015)
}

// TestOpenModeNeedsOptIn: a config without users makes the face open; over
// a NATS login (the server guards its accounts) that is refused unless
// asked for, since anyone reaching the port could trade any account.
func TestOpenModeNeedsOptIn(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	_, err := binance.New(binance.Options{Conn: e.nc, Config: config.Default()})
	if err == nil || !strings.Contains(err.Error(), "open") {
		t.Fatalf("open mode over an admin login: want a refusal, got %v", err)
	}
	s, err := binance.New(binance.Options{Conn: e.nc, Config: config.Default(), Open: true})
	if err != nil {
		t.Fatalf("open mode asked for: %v", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The same login with the users' keys is not open: fine.
	s, err = binance.New(binance.Options{Conn: e.nc, Config: e.cfg})
	if err != nil {
		t.Fatalf("with users: %v", err)
	}
	_ = s.Close(context.Background())
}

// TestResplitReplay: Binance signs query and body run together, so a
// captured signed order can be split again inside a value (here its client
// order id, cut short so the duplicate check misses it); a part that is
// no name=value is refused, while the same request replayed as sent is the
// duplicate it is.
func TestResplitReplay(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "100000")
	e.index("BTC-PERP", "30000")
	const secret = "aliceSecret0123456789abcdefghijklmnop"
	alice := e.client("aliceKey0123456789", secret)
	q := vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC", "price", "29000",
		"quantity", "0.01", "newClientOrderId", "cid-12", "timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10)).Encode()
	sig := sign(secret, q)
	status, out := alice.raw(http.MethodPost, "/fapi/v1/order", q+"&signature="+sig)
	if status != 200 {
		t.Fatalf("the order: %d %s", status, out)
	}
	status, out = alice.raw(http.MethodPost, "/fapi/v1/order", q+"&signature="+sig)
	fails(t, "replayed as sent", status, out, 400, -4116)
	cut := strings.Index(q, "cid-1") + len("cid-1")
	status, out = alice.raw(http.MethodPost, "/fapi/v1/order?"+q[:cut], q[cut:]+"&signature="+sig)
	fails(t, "split again inside the client order id", status, out, 400, -1022)
	if a := e.state("alice"); len(a.OpenOrders) != 1 {
		t.Fatalf("open orders %+v, want the one order", a.OpenOrders)
	}
}
