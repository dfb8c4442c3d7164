package binance_test

// The harness: a whole exchange (app.Start: embedded NATS on a random
// loopback port, manual index, no bots) with the Binance face on a random
// port, an admin NATS connection to read the truth, and signed HTTP clients.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

const wait = 10 * time.Second

// usersJSON are the test users: an admin and three traders with API keys.
const usersJSON = `"users":[{"user":"admin","password":"admin-pw","admin":true},
 {"user":"alice","password":"alice-pw","account":"alice","api_key":"aliceKey0123456789","api_secret":"aliceSecret0123456789abcdefghijklmnop"},
 {"user":"bob","password":"bob-pw","account":"bob","api_key":"bobKey0123456789","api_secret":"bobSecret0123456789abcdefghijklmnop"},
 {"user":"mm","password":"mm-pw","account":"mm","api_key":"mmKey0123456789a","api_secret":"mmSecret0123456789abcdefghijklmnop"}]`

type env struct {
	t    testing.TB
	app  *app.App
	cfg  *config.Config
	nc   *nats.Conn
	subj wire.Subjects
	base string // http://127.0.0.1:port
	// ahead moves the exchange's clock (the wall clock's) forward, to reach
	// a funding time at once.
	ahead *atomic.Int64
}

// start runs an exchange with the config file body (the demo symbols when
// it names none), changed by the tweaks, and the Binance face.
func start(t testing.TB, cfgJSON string, tweaks ...func(*config.Config)) *env {
	t.Helper()
	cfg, err := config.Parse([]byte(cfgJSON))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tweaks {
		f(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ahead := new(atomic.Int64)
	a, err := app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", Config: cfg, Index: "manual",
		BinanceHTTP: "127.0.0.1:0", Now: func() int64 { return time.Now().UnixMilli() + ahead.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	var opts []nats.Option
	if len(cfg.Users) > 0 {
		opts = append(opts, nats.UserInfo("admin", "admin-pw"))
	}
	nc, err := nats.Connect(a.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return &env{t: t, app: a, cfg: cfg, nc: nc, subj: wire.DefaultSubjects(), base: "http://" + a.BinanceAddr(), ahead: ahead}
}

// req sends body on subject and decodes the reply into rep.
func (e *env) req(subject string, body, rep any) {
	e.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := e.nc.Request(subject, data, wait)
	if err != nil {
		e.t.Fatalf("request %s: %v", subject, err)
	}
	if err := json.Unmarshal(m.Data, rep); err != nil {
		e.t.Fatalf("reply to %s: %v: %s", subject, err, m.Data)
	}
}

func mustOK(t testing.TB, what string, r wire.Reply) {
	t.Helper()
	if !r.OK {
		t.Fatalf("%s: %+v", what, r.Error)
	}
}

func (e *env) deposit(acct, amount string) {
	e.t.Helper()
	e.depositIn(acct, "USDT", amount)
}

func (e *env) depositIn(acct, asset, amount string) {
	e.t.Helper()
	var r wire.BalanceReply
	e.req(e.subj.AdminDeposit(), wire.Deposit{Account: acct, Asset: asset, Amount: decimal.RequireFromString(amount)}, &r)
	mustOK(e.t, "deposit", r.Reply)
}

func (e *env) index(sym, price string) {
	e.t.Helper()
	var r wire.IndexReply
	e.req(e.subj.AdminIndex(sym), wire.IndexSet{Price: decimal.RequireFromString(price)}, &r)
	mustOK(e.t, "index", r.Reply)
}

func (e *env) place(acct string, p wire.PlaceOrder) wire.OrderReply {
	e.t.Helper()
	var r wire.OrderReply
	e.req(e.subj.OrderPlace(acct), p, &r)
	return r
}

// ladder has mm quote n levels a side of sym, step apart around mid, qty
// each.
func (e *env) ladder(sym string, mid, step, qty float64, n int) {
	e.t.Helper()
	for i := 1; i <= n; i++ {
		for _, side := range []wire.Side{wire.Sell, wire.Buy} {
			price := mid + step*float64(i)
			if side == wire.Buy {
				price = mid - step*float64(i)
			}
			o := wire.PlaceOrder{Symbol: sym, Side: side, Type: wire.Limit, Price: decimal.NewFromFloat(price), Qty: decimal.NewFromFloat(qty)}
			mustOK(e.t, "ladder", e.place("mm", o).Reply)
		}
	}
}

func (e *env) state(acct string) *wire.Account {
	e.t.Helper()
	var r wire.AccountReply
	e.req(e.subj.State(acct), map[string]string{}, &r)
	mustOK(e.t, "state", r.Reply)
	return r.Account
}

// audit checks the exchange's invariants (money conserved, open interest
// balanced).
func (e *env) audit() {
	e.t.Helper()
	// An audit holds at quiet points (API.md): a liquidation the test just
	// set off may still be settling.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var r wire.AuditReply
		e.req(e.subj.AdminAudit(), map[string]string{}, &r)
		mustOK(e.t, "audit", r.Reply)
		if r.InvariantsOK {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("audit: invariants broken: %+v", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client signs requests as a Binance bot does.
type client struct {
	e           *env
	key, secret string
	from        *http.Client // nil: http.DefaultClient
}

// fromIP is c sending from the loopback address ip (127.0.0.2, ...): a
// second client IP for per-IP limits.
func (c client) fromIP(ip string) client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.from = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	return c
}

func (e *env) client(key, secret string) client { return client{e: e, key: key, secret: secret} }

func sign(secret, payload string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

// signed sends params with timestamp (now unless set) and signature,
// in the query string for GET and DELETE, in the body otherwise.
func (c client) signed(method, path string, params url.Values) (int, []byte) {
	c.e.t.Helper()
	status, body, _ := c.signedH(method, path, params)
	return status, body
}

// signedH is signed with the answer's headers.
func (c client) signedH(method, path string, params url.Values) (int, []byte, http.Header) {
	c.e.t.Helper()
	if params == nil {
		params = url.Values{}
	}
	if params.Get("timestamp") == "" {
		params.Set("timestamp", strconv.FormatInt(time.Now().UnixMilli(), 10))
	}
	q := params.Encode()
	q += "&signature=" + sign(c.secret, q)
	if method == http.MethodGet || method == http.MethodDelete {
		return c.rawH(method, path+"?"+q, "")
	}
	return c.rawH(method, path, q)
}

// raw sends one request with the client's API key as it is given.
func (c client) raw(method, pathQuery, body string) (int, []byte) {
	c.e.t.Helper()
	status, out, _ := c.rawH(method, pathQuery, body)
	return status, out
}

// rawH is raw with the answer's headers.
func (c client) rawH(method, pathQuery, body string) (int, []byte, http.Header) {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.base+pathQuery, strings.NewReader(body))
	if err != nil {
		c.e.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("X-MBX-APIKEY", c.key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hc := c.from
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return resp.StatusCode, out, resp.Header
}

// ok decodes a successful reply into out.
func (c client) ok(method, path string, params url.Values, out any) {
	c.e.t.Helper()
	status, body := c.signed(method, path, params)
	if status != http.StatusOK {
		c.e.t.Fatalf("%s %s: HTTP %d %s", method, path, status, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			c.e.t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
}

// bnError is Binance's error body.
type bnError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// fails expects Binance's error code with the HTTP status.
func fails(t testing.TB, what string, status int, body []byte, wantStatus, wantCode int) bnError {
	t.Helper()
	var e bnError
	if err := json.Unmarshal(body, &e); err != nil || e.Code != wantCode || status != wantStatus {
		t.Fatalf("%s: want HTTP %d code %d, got HTTP %d %s", what, wantStatus, wantCode, status, body)
	}
	return e
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}
