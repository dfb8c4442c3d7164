package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/natsrv"
	"github.com/perpx/perpx/wire"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/shopspring/decimal"
)

// env is an embedded server on a random port, a fake exchange behind a
// gateway, and an outside client connection.
type env struct {
	t   testing.TB
	srv *natsrv.Server
	nc  *nats.Conn // the exchange's connection
	x   *fake
	g   *Gateway
	m   *Metrics
	cl  *nats.Conn
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", Prefix: opts.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	e := &env{t: t, srv: srv, x: newFake()}
	if e.nc, err = srv.Connect("perpx-test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.nc.Close)
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	e.m = opts.Metrics
	if e.g, err = Start(e.nc, e.x, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.g.Stop(context.Background()) })
	if e.cl, err = nats.Connect(srv.ClientURL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.cl.Close)
	return e
}

// envelope is the part of every reply the tests look at first.
type envelope struct {
	OK    bool        `json:"ok"`
	Error *wire.Error `json:"error"`
}

// req sends payload to subject and returns the raw reply and its envelope.
func (e *env) req(subject, payload string) ([]byte, envelope) {
	e.t.Helper()
	msg, err := e.cl.Request(subject, []byte(payload), 5*time.Second)
	if err != nil {
		e.t.Fatalf("request %s %.80s: %v", subject, payload, err)
	}
	var env envelope
	if err := json.Unmarshal(msg.Data, &env); err != nil {
		e.t.Fatalf("reply to %s is not JSON: %q", subject, msg.Data)
	}
	if env.OK == (env.Error != nil) {
		e.t.Fatalf("reply to %s: ok=%v with error %v: %s", subject, env.OK, env.Error, msg.Data)
	}
	return msg.Data, env
}

var subj = wire.DefaultSubjects()

func TestEveryEndpointHappyPath(t *testing.T) {
	e := newEnv(t, Options{})
	steps := []struct {
		subject, payload string
		call             string // the fake's record of the call
		reply            string
	}{
		{subj.AdminDeposit(), `{"account":"alice","asset":"USDT","amount":"10000"}`,
			`Deposit(, {"account":"alice","asset":"USDT","amount":"10000"})`,
			`{"ok":true,"balance":"10000"}`},
		{subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.010","client_order_id":"c1"}`,
			`PlaceOrder(alice, {"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.01","tif":"GTC","client_order_id":"c1","stp":"cancel_taker"})`,
			`{"ok":true,"order":{"order_id":"1","client_order_id":"c1","account":"alice","symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.01","filled_qty":"0","avg_price":"0","status":"new","tif":"GTC","reduce_only":false,"post_only":false,"stp":"cancel_taker","created_ms":1700000000000,"updated_ms":0}}`},
		{subj.OrderAmend("alice"), `{"symbol":"BTC-PERP","client_order_id":"c1","qty":"0.020"}`,
			`AmendOrder(alice, {"symbol":"BTC-PERP","client_order_id":"c1","qty":"0.02"})`,
			`{"ok":true,"order":{"order_id":"1","client_order_id":"c1","account":"alice","symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.02","filled_qty":"0","avg_price":"0","status":"new","tif":"GTC","reduce_only":false,"post_only":false,"stp":"cancel_taker","created_ms":1700000000000,"updated_ms":0}}`},
		{subj.OrderCancel("alice"), `{"symbol":"BTC-PERP","client_order_id":"c1"}`,
			`CancelOrder(alice, {"symbol":"BTC-PERP","client_order_id":"c1"})`,
			`{"ok":true,"order":{"order_id":"1","client_order_id":"c1","account":"alice","symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.02","filled_qty":"0","avg_price":"0","status":"canceled","tif":"GTC","reduce_only":false,"post_only":false,"stp":"cancel_taker","created_ms":1700000000000,"updated_ms":0}}`},
		{subj.OrderPlace("alice"), `{"symbol":"ETH-PERP","side":"sell","type":"limit","price":"3300","qty":"1","stp":"none"}`,
			`PlaceOrder(alice, {"symbol":"ETH-PERP","side":"sell","type":"limit","price":"3300","qty":"1","tif":"GTC","stp":"none"})`,
			`{"ok":true,"order":{"order_id":"2","client_order_id":"","account":"alice","symbol":"ETH-PERP","side":"sell","type":"limit","price":"3300","qty":"1","filled_qty":"0","avg_price":"0","status":"new","tif":"GTC","reduce_only":false,"post_only":false,"stp":"none","created_ms":1700000000000,"updated_ms":0}}`},
		{subj.OrderCancelAll("alice"), `{"symbol":"ETH-PERP"}`, `CancelAll(alice, {"symbol":"ETH-PERP"})`,
			`{"ok":true,"count":1,"orders":[{"order_id":"2","client_order_id":"","account":"alice","symbol":"ETH-PERP","side":"sell","type":"limit","price":"3300","qty":"1","filled_qty":"0","avg_price":"0","status":"canceled","tif":"GTC","reduce_only":false,"post_only":false,"stp":"none","created_ms":1700000000000,"updated_ms":0}]}`},
		{subj.OrderCancelAllAfter("alice"), `{"timeout_ms":15000}`, `CancelAllAfter(alice, {"timeout_ms":15000})`,
			`{"ok":true,"timeout_ms":15000,"trigger_ms":1700000015000}`},
		{subj.OrderBatch("alice"), `{"orders":[{"cancel":{"symbol":"BTC-PERP","order_id":"1"}}]}`,
			`CancelOrder(alice, {"symbol":"BTC-PERP","order_id":"1"})`,
			`{"ok":true,"results":[{"ok":false,"error":{"code":"UNKNOWN_ORDER","message":"no open order 1"}}]}`},
		{subj.Leverage("alice"), `{"symbol":"ETH-PERP","leverage":"10"}`,
			`SetLeverage(alice, {"symbol":"ETH-PERP","leverage":"10"})`,
			`{"ok":true,"leverage":"10"}`},
		{subj.MarginMode("alice"), `{"symbol":"ETH-PERP","mode":"isolated"}`,
			`SetMarginMode(alice, {"symbol":"ETH-PERP","mode":"isolated"})`,
			`{"ok":true,"symbol":"ETH-PERP","mode":"isolated","changed":false}`},
		{subj.PositionMargin("alice"), `{"symbol":"ETH-PERP","delta":"-5"}`,
			`MovePositionMargin(alice, {"symbol":"ETH-PERP","delta":"-5"})`,
			`{"ok":false,"error":{"code":"NO_ISOLATED_POSITION","message":"no isolated position"}}`},
		{subj.Withdraw("alice"), `{"asset":"USDT","amount":"100"}`,
			`Withdraw(alice, {"asset":"USDT","amount":"100"})`,
			`{"ok":true,"balance":"9900"}`},
		{subj.State("alice"), `{}`, `AccountState(alice, {})`,
			`{"ok":true,"account":{"account":"alice","balances":{"USDT":"9900"},"equity":"9900","available":"9900","positions":[],"open_orders":[],"settings":[]}}`},
		{subj.AdminIndex("ETH-PERP"), `{"price":"3300"}`, `SetIndex(ETH-PERP, {"price":"3300"})`,
			`{"ok":true,"index":"3300","mark":"3300"}`},
		{subj.AdminFundDeposit(), `{"asset":"USDT","amount":"500"}`, `FundDeposit(, {"asset":"USDT","amount":"500"})`,
			`{"ok":true,"balance":"500"}`},
		{subj.Depth("BTC-PERP"), ``, `Depth(BTC-PERP, {"levels":20})`,
			`{"ok":true,"bids":[["30000","0.5"]],"asks":[],"seq":7}`},
		{subj.FundState(), `{}`, `FundState(, {"limit":1000})`,
			`{"ok":true,"balances":{"USDT":"500"},"history":[]}`},
		{subj.ADLQueue("BTC-PERP"), `{"side":"short"}`, `ADLQueue(BTC-PERP, {"side":"short"})`,
			`{"ok":true,"queue":[]}`},
		{subj.Klines("BTC-PERP"), `{"interval":"5m"}`, `Klines(BTC-PERP, {"interval":"5m","limit":500,"source":"last"})`,
			`{"ok":true,"symbol":"BTC-PERP","interval":"5m","source":"last","klines":[]}`},
		{subj.RecentTrades("BTC-PERP"), ``, `RecentTrades(BTC-PERP, {"limit":500})`,
			`{"ok":true,"trades":[]}`},
		{subj.FundingHistory("BTC-PERP"), `{"limit":3}`, `FundingHistory(BTC-PERP, {"limit":3})`,
			`{"ok":true,"history":[]}`},
		{subj.FundDaily(), ``, `FundDaily(, {})`, `{"ok":true,"days":[]}`},
		{subj.Ticker("ETH-PERP"), `{}`, `Ticker(ETH-PERP, {})`,
			`{"ok":true,"ticker":{"symbol":"ETH-PERP","last":"0","open":"0","change":"0","change_pct":"0","high":"0","low":"0","volume":"0","quote_volume":"0","trades":0,"mark":"0","index":"0","funding_rate":"0","next_funding_ms":0,"open_interest":"0","time_ms":0}}`},
		{subj.OpenInterest("ETH-PERP"), ``, `OpenInterest(ETH-PERP, {"limit":30})`,
			`{"ok":true,"symbol":"ETH-PERP","open_interest":"0","time_ms":0,"history":[]}`},
		{subj.AccountOrders("alice"), `{"symbol":"ETH-PERP"}`, `AccountOrders(alice, {"symbol":"ETH-PERP","limit":500})`,
			`{"ok":true,"orders":[]}`},
		{subj.OrderQuery("alice"), `{"client_order_id":"c1"}`, `AccountOrders(alice, {"client_order_id":"c1","limit":500})`,
			`{"ok":true,"orders":[]}`},
		{subj.OrderOpen("alice"), `{"symbol":"ETH-PERP"}`, `OpenOrders(alice, {"symbol":"ETH-PERP"})`, `{"ok":true,"orders":[]}`},
		{subj.Fills("alice"), ``, `Fills(alice, {"limit":500})`, `{"ok":true,"fills":[]}`},
		{subj.Income("alice"), `{"type":"funding"}`, `Income(alice, {"limit":500,"type":"funding"})`, `{"ok":true,"income":[]}`},
		{subj.AdminAudit(), `{}`, `Audit(, {})`,
			`{"ok":true,"deposits":"9900","fund_deposits":"500","balances":"9900","unrealized":"0","fund":"500","fees":"0","open_interest":{},"negative_balances":[],"uncovered":"0","held_for_failed":"0","failed_shortfall":"0","failures":[],"invariants_ok":true}`},
		{subj.AdminStateHash(), ``, `StateHashAt(, {})`, `{"ok":true,"hash":"4bbd30dfd5935554","seq":0}`},
		{subj.AdminResume(), `{"actor":"symbol-ETH-PERP"}`, `Resume(, {"actor":"symbol-ETH-PERP"})`,
			`{"ok":true,"actor":"symbol-ETH-PERP","halted":false}`},
	}
	for i, s := range steps {
		raw, _ := e.req(s.subject, s.payload)
		if string(raw) != s.reply {
			t.Errorf("%s:\n got %s\nwant %s", s.subject, raw, s.reply)
		}
		calls := e.x.Calls()
		if len(calls) != i+1 || calls[i].String() != s.call {
			t.Fatalf("%s: calls %v, want the last to be %s", s.subject, calls, s.call)
		}
	}
	// Every request endpoint is covered.
	seen := map[wire.Endpoint]bool{}
	for _, s := range steps {
		r, _ := subj.Parse(s.subject)
		seen[r.Endpoint] = true
	}
	for _, o := range ops(subj) {
		if !seen[o.ep] {
			t.Errorf("endpoint %s untested", o.ep)
		}
	}
}

// badInputs are refused by the gateway: the exchange never sees them.
var badInputs = []struct {
	class, subject, payload string
	code                    wire.Code
}{
	{"malformed account", "px.acct.al$ce.order.place", `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1"}`, wire.CodeBadRequest},
	{"malformed account", "px.acct.a%20b.state", `{}`, wire.CodeBadRequest},
	{"malformed account", "px.acct." + strings.Repeat("a", 65) + ".leverage", `{"symbol":"BTC-PERP","leverage":"2"}`, wire.CodeBadRequest},
	{"malformed symbol", "px.md.B$TC.depth", `{}`, wire.CodeBadRequest},
	{"malformed symbol", "px.admin.index.é", `{"price":"1"}`, wire.CodeBadRequest},
	{"unparsable", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP",`, wire.CodeBadRequest},
	{"unparsable", subj.OrderCancel("alice"), `{symbol:BTC}`, wire.CodeBadRequest},
	{"unparsable", subj.AdminDeposit(), "\xff\xfe", wire.CodeBadRequest},
	{"not an object", subj.OrderPlace("alice"), `[]`, wire.CodeBadRequest},
	{"not an object", subj.FundState(), `null`, wire.CodeBadRequest},
	{"trailing data", subj.State("alice"), `{} {}`, wire.CodeBadRequest},
	{"wrong type", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":1}`, wire.CodeBadRequest},
	{"wrong type", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1","reduce_only":"yes"}`, wire.CodeBadRequest},
	{"wrong type", subj.OrderPlace("alice"), `{"symbol":5,"side":"buy","type":"market","qty":"1"}`, wire.CodeBadRequest},
	{"wrong type", subj.Depth("BTC-PERP"), `{"levels":"20"}`, wire.CodeBadRequest},
	{"wrong type", subj.Depth("BTC-PERP"), `{"levels":1.5}`, wire.CodeBadRequest},
	{"wrong type", subj.AdminIndex("BTC-PERP"), `{"price":3300}`, wire.CodeBadRequest},
	{"missing field", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market"}`, wire.CodeBadRequest},
	{"missing field", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","qty":"1"}`, wire.CodeBadRequest},
	{"missing field", subj.AdminDeposit(), `{"amount":"1"}`, wire.CodeBadRequest},
	{"missing field", subj.ADLQueue("BTC-PERP"), `{}`, wire.CodeBadRequest},
	{"missing field", subj.OrderCancel("alice"), `{"symbol":"BTC-PERP"}`, wire.CodeBadRequest},
	{"both ids", subj.OrderCancel("alice"), `{"symbol":"BTC-PERP","order_id":"1","client_order_id":"c1"}`, wire.CodeBadRequest},
	{"unknown field", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1","reduceOnly":true}`, wire.CodeBadRequest},
	{"names an account", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1","account":"bob"}`, wire.CodeBadRequest},
	{"names an account", subj.State("alice"), `{"account":"bob"}`, wire.CodeBadRequest},
	{"bad enum", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"BUY","type":"market","qty":"1"}`, wire.CodeBadRequest},
	{"bad enum", subj.ADLQueue("BTC-PERP"), `{"side":"up"}`, wire.CodeBadRequest},
	{"negative", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"-1","qty":"1"}`, wire.CodeInvalidPrice},
	{"negative", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"-0.5"}`, wire.CodeInvalidQty},
	{"negative", subj.AdminDeposit(), `{"account":"alice","asset":"USDT","amount":"-100"}`, wire.CodeBadRequest},
	{"negative", subj.AdminFundDeposit(), `{"asset":"USDT","amount":"-1"}`, wire.CodeBadRequest},
	{"negative", subj.Leverage("alice"), `{"symbol":"BTC-PERP","leverage":"-5"}`, wire.CodeBadRequest},
	{"zero", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"0","qty":"1"}`, wire.CodeInvalidPrice},
	{"zero", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"0.000"}`, wire.CodeInvalidQty},
	{"zero", subj.Leverage("alice"), `{"symbol":"BTC-PERP","leverage":"0"}`, wire.CodeBadRequest},
	{"zero", subj.AdminIndex("BTC-PERP"), `{"price":"0"}`, wire.CodeInvalidPrice},
	{"zero", subj.Depth("BTC-PERP"), `{"levels":0}`, wire.CodeBadRequest},
	{"NaN", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"NaN","qty":"1"}`, wire.CodeBadRequest},
	{"NaN", subj.AdminIndex("BTC-PERP"), `{"price":"Infinity"}`, wire.CodeBadRequest},
	{"exponent", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1e9"}`, wire.CodeBadRequest},
	{"huge", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1` + strings.Repeat("0", 40) + `"}`, wire.CodeBadRequest},
	{"huge", subj.Depth("BTC-PERP"), `{"levels":1001}`, wire.CodeBadRequest},
	{"huge", subj.Depth("BTC-PERP"), `{"levels":99999999999999999999}`, wire.CodeBadRequest},
	{"too many decimals", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1.` + strings.Repeat("0", 30) + `1","qty":"1"}`, wire.CodeBadRequest},
	{"too many decimals", subj.AdminDeposit(), `{"account":"alice","asset":"USDT","amount":"0.` + strings.Repeat("1", 31) + `"}`, wire.CodeBadRequest},
	{"shape", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","price":"1","qty":"1"}`, wire.CodeBadRequest},
	{"shape", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1","tif":"IOC","post_only":true}`, wire.CodeBadRequest},
	{"malformed token in payload", subj.OrderCancel("alice"), `{"symbol":"BTC-PERP","order_id":"1.2"}`, wire.CodeBadRequest},
	{"malformed token in payload", subj.AdminDeposit(), `{"account":"al ice","asset":"USDT","amount":"1"}`, wire.CodeBadRequest},
	{"fields on an empty request", subj.AdminAudit(), `{"x":1}`, wire.CodeBadRequest},
	{"fields on an empty request", subj.AdminStateHash(), `{"seq":1}`, wire.CodeBadRequest},
	{"oversize", subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1"}` + strings.Repeat(" ", wire.MaxPayload), wire.CodeBadRequest},
	{"batch unparsable", subj.OrderBatch("alice"), `{"orders":[{"place":{"symbol":"BTC-PERP"`, wire.CodeBadRequest},
	{"batch not an object", subj.OrderBatch("alice"), `[{"place":{}}]`, wire.CodeBadRequest},
	{"batch empty", subj.OrderBatch("alice"), `{"orders":[]}`, wire.CodeBadRequest},
	{"batch empty", subj.OrderBatch("alice"), `{}`, wire.CodeBadRequest},
	{"batch empty", subj.OrderBatch("alice"), `{"orders":null}`, wire.CodeBadRequest},
	{"batch too long", subj.OrderBatch("alice"), `{"orders":[` + strings.Repeat(`{"cancel":{"symbol":"BTC-PERP","order_id":"1"}},`, wire.MaxBatchItems) + `{"cancel":{"symbol":"BTC-PERP","order_id":"1"}}]}`, wire.CodeBadRequest},
	{"batch unknown key", subj.OrderBatch("alice"), `{"orders":[{"cancel":{"symbol":"BTC-PERP","order_id":"1"}}],"account":"bob"}`, wire.CodeBadRequest},
	{"batch unknown key", subj.OrderBatch("alice"), `{"orders":[{"amend":{"symbol":"BTC-PERP","order_id":"1"}}]}`, wire.CodeBadRequest},
	{"batch unknown key", subj.OrderBatch("alice"), `{"Orders":[{"cancel":{"symbol":"BTC-PERP","order_id":"1"}}]}`, wire.CodeBadRequest},
	{"batch two keys", subj.OrderBatch("alice"), `{"orders":[{"cancel":{"symbol":"BTC-PERP","order_id":"1"},"place":{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1"}}]}`, wire.CodeBadRequest},
	{"batch no key", subj.OrderBatch("alice"), `{"orders":[{}]}`, wire.CodeBadRequest},
	{"batch wrong type", subj.OrderBatch("alice"), `{"orders":{"cancel":{"symbol":"BTC-PERP","order_id":"1"}}}`, wire.CodeBadRequest},
	{"batch wrong type", subj.OrderBatch("alice"), `{"orders":[{"cancel":"1"}]}`, wire.CodeBadRequest},
	{"batch wrong type", subj.OrderBatch("alice"), `{"orders":[["cancel"]]}`, wire.CodeBadRequest},
	{"batch trailing data", subj.OrderBatch("alice"), `{"orders":[{"cancel":{"symbol":"BTC-PERP","order_id":"1"}}]}{}`, wire.CodeBadRequest},
	{"batch oversize", subj.OrderBatch("alice"), `{"orders":[{"cancel":{"symbol":"BTC-PERP","order_id":"1"}}]}` + strings.Repeat(" ", wire.MaxBatchPayload), wire.CodeBadRequest},
	{"oversize", subj.FundState(), `{}` + strings.Repeat("\n", 1<<20-1024), wire.CodeBadRequest},
}

func TestBadInputIsRefusedBeforeTheExchange(t *testing.T) {
	e := newEnv(t, Options{})
	e.req(subj.AdminDeposit(), `{"account":"alice","asset":"USDT","amount":"100"}`) // some state to keep
	before, calls := e.x.Hash(), len(e.x.Calls())
	for _, b := range badInputs {
		raw, env := e.req(b.subject, b.payload)
		if env.OK || env.Error.Code != b.code || env.Error.Message == "" {
			t.Errorf("%s: %s %.60q: got %s, want %s", b.class, b.subject, b.payload, raw, b.code)
		}
	}
	if got := e.x.Calls(); len(got) != calls {
		t.Errorf("the exchange saw refused requests: %v", got[calls:])
	}
	if e.x.Hash() != before {
		t.Error("state changed")
	}
}

// A refusal's message goes into a header too; it must not break the frame.
func TestRefusalHeaders(t *testing.T) {
	e := newEnv(t, Options{})
	msg, err := e.cl.Request(subj.OrderPlace("alice"), []byte("{\"symbol\":\"a\nb\"}"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Nats-Service-Error-Code") != "BAD_REQUEST" || !strings.HasPrefix(string(msg.Data), `{"ok":false,"error":{"code":"BAD_REQUEST"`) {
		t.Fatalf("headers %v body %s", msg.Header, msg.Data)
	}
	if got := headerValue("line\r\nInjected: 1\x00"); got != "line  Injected: 1 " {
		t.Fatalf("headerValue = %q", got)
	}
	if headerValue("") == "" {
		t.Fatal("empty header value")
	}
}

func TestExchangeRejectionsPassThrough(t *testing.T) {
	e := newEnv(t, Options{})
	e.req(subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"sell","type":"limit","price":"1","qty":"1","client_order_id":"dup"}`)
	before := e.x.Hash()
	for _, c := range []struct {
		subject, payload string
		code             wire.Code
	}{
		{subj.OrderPlace("alice"), `{"symbol":"DOGE-PERP","side":"buy","type":"market","qty":"1"}`, wire.CodeUnknownSymbol},
		{subj.OrderCancel("alice"), `{"symbol":"DOGE-PERP","order_id":"1"}`, wire.CodeUnknownSymbol},
		{subj.Leverage("alice"), `{"symbol":"DOGE-PERP","leverage":"2"}`, wire.CodeUnknownSymbol},
		{subj.AdminIndex("DOGE-PERP"), `{"price":"1"}`, wire.CodeUnknownSymbol},
		{subj.Depth("DOGE-PERP"), `{}`, wire.CodeUnknownSymbol},
		{subj.ADLQueue("DOGE-PERP"), `{"side":"long"}`, wire.CodeUnknownSymbol},
		{subj.OrderCancel("alice"), `{"symbol":"BTC-PERP","order_id":"999"}`, wire.CodeUnknownOrder},
		{subj.OrderCancel("bob"), `{"symbol":"BTC-PERP","order_id":"1"}`, wire.CodeUnknownOrder}, // alice's order
		{subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1","client_order_id":"dup"}`, wire.CodeDuplicateClientOrderID},
		{subj.Leverage("alice"), `{"symbol":"BTC-PERP","leverage":"101"}`, wire.CodeLeverageTooHigh},
	} {
		n := len(e.x.Calls())
		raw, env := e.req(c.subject, c.payload)
		if env.OK || env.Error.Code != c.code {
			t.Errorf("%s %s: got %s, want %s", c.subject, c.payload, raw, c.code)
		}
		if len(e.x.Calls()) != n+1 {
			t.Errorf("%s: the exchange was not asked", c.subject)
		}
	}
	if e.x.Hash() != before {
		t.Error("a rejected request changed state")
	}
}

// An exchange that breaks the reply contract still yields a well-formed
// INTERNAL error, never a panic or a malformed reply.
func TestBrokenExchangeReplyIsInternal(t *testing.T) {
	e := newEnv(t, Options{})
	e.x.script = map[string]any{
		"PlaceOrder": wire.OrderReply{Reply: wire.OK()},      // ok without the order
		"Deposit":    wire.BalanceReply{Reply: wire.Reply{}}, // failed without an error
	}
	for _, r := range []struct{ subject, payload string }{
		{subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1"}`},
		{subj.AdminDeposit(), `{"account":"alice","asset":"USDT","amount":"1"}`},
	} {
		raw, env := e.req(r.subject, r.payload)
		if env.OK || env.Error.Code != wire.CodeInternal {
			t.Errorf("%s: got %s, want INTERNAL", r.subject, raw)
		}
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{RateLimit: config.RateLimit{OrdersPerS: 0.001, Burst: 3}})
	place := `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1"}`
	var ok, limited int
	for range 5 {
		_, env := e.req(subj.OrderPlace("alice"), place)
		switch {
		case env.OK:
			ok++
		case env.Error.Code == wire.CodeRateLimited:
			limited++
		default:
			t.Fatalf("unexpected %v", env.Error)
		}
	}
	if ok != 3 || limited != 2 || len(e.x.Calls()) != 3 {
		t.Fatalf("%d ok, %d limited, %d calls; want 3, 2, 3", ok, limited, len(e.x.Calls()))
	}
	// Cancel, cancel-all and leverage share alice's (empty) bucket, even
	// when malformed.
	for _, r := range []struct{ subject, payload string }{
		{subj.OrderCancel("alice"), `{"symbol":"BTC-PERP","order_id":"1"}`},
		{subj.OrderCancelAll("alice"), `{}`},
		{subj.OrderCancelAllAfter("alice"), `{"timeout_ms":0}`},
		{subj.Leverage("alice"), `{"symbol":"BTC-PERP","leverage":"2"}`},
		{subj.Leverage("alice"), `garbage`},
	} {
		if _, env := e.req(r.subject, r.payload); env.OK || env.Error.Code != wire.CodeRateLimited {
			t.Errorf("%s %s: %v, want RATE_LIMITED", r.subject, r.payload, env.Error)
		}
	}
	// Reads and other accounts are not limited.
	for _, r := range []struct{ subject, payload string }{
		{subj.State("alice"), `{}`}, {subj.State("alice"), `{}`}, {subj.Depth("BTC-PERP"), `{}`},
		{subj.OrderPlace("bob"), place},
	} {
		if _, env := e.req(r.subject, r.payload); !env.OK {
			t.Errorf("%s: %v", r.subject, env.Error)
		}
	}
	if n := len(e.x.Calls()); n != 7 {
		t.Errorf("%d calls, want 7", n)
	}
}

func TestLimiterRefillsAndForgets(t *testing.T) {
	l := newLimiter(config.RateLimit{OrdersPerS: 10, Burst: 2})
	t0 := time.Unix(1000, 0)
	allowed := func(at time.Duration, tries int) (n int) {
		for range tries {
			if l.allow("a", 1, t0.Add(at)) {
				n++
			}
		}
		return n
	}
	for _, s := range []struct {
		at          time.Duration
		tries, want int
	}{
		{0, 3, 2},                       // the burst
		{50 * time.Millisecond, 1, 0},   // half a token
		{100 * time.Millisecond, 2, 1},  // one token per 100 ms
		{time.Hour, 3, 2},               // a refill stops at the burst
		{time.Hour - time.Second, 1, 0}, // a clock going back adds nothing
	} {
		if got := allowed(s.at, s.tries); got != s.want {
			t.Fatalf("at +%v: %d of %d allowed, want %d", s.at, got, s.tries, s.want)
		}
	}
	// Made-up account names do not pile up: full buckets are swept.
	for i := range 10 * minSweep {
		l.allow(strconv.Itoa(i), 1, t0.Add(2*time.Hour+time.Duration(i)*time.Second))
	}
	if n := len(l.buckets); n > 2*minSweep {
		t.Fatalf("%d buckets kept", n)
	}
	if newLimiter(config.RateLimit{}) != nil || !(*limiter)(nil).allow("a", 1, t0) {
		t.Fatal("a zero rate must turn the limit off")
	}
}

func TestOneWayRequestIsServedWithoutReply(t *testing.T) {
	e := newEnv(t, Options{})
	for _, p := range []string{`{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1"}`, `junk`} {
		if err := e.cl.Publish(subj.OrderPlace("alice"), []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the order and the refusal", func() bool {
		return len(e.x.Calls()) == 1 && e.g.inflight.Load() == 0 &&
			value(e.m.rejects.WithLabelValues("order.place", "BAD_REQUEST")) == 1
	})
	if c := e.x.Calls(); c[0].Method != "PlaceOrder" {
		t.Fatalf("calls %v", c)
	}
}

// value reads a counter or gauge.
func value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestMicroServiceAndQueueGroup(t *testing.T) {
	e := newEnv(t, Options{})
	g2, err := Start(e.nc, e.x, Options{}) // a second instance in the same queue group
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Stop(context.Background())
	info := e.g.Service().Info()
	if info.Name != ServiceName || len(info.Endpoints) != len(endpoints(subj)) {
		t.Fatalf("info %+v", info)
	}
	for _, ep := range info.Endpoints {
		if ep.QueueGroup != DefaultQueue {
			t.Errorf("%s: queue group %q", ep.Name, ep.QueueGroup)
		}
		if ep.Name == "order" && ep.Subject != "px.acct.*.order.*" {
			t.Errorf("order endpoint on %q", ep.Subject)
		}
	}
	const n = 60
	for range n {
		e.req(subj.Depth("BTC-PERP"), `{}`)
	}
	e.req(subj.Depth("BTC-PERP"), `{"levels":0}`)
	count := func(g *Gateway) (reqs, errs int) {
		for _, s := range g.Service().Stats().Endpoints {
			if s.Name == "depth" {
				return s.NumRequests, s.NumErrors
			}
		}
		return 0, 0
	}
	// micro counts a request when the handler returns, which may be after
	// the exchange's reply went out. It does not count errors: the handler
	// only queues the request (fairqueue.go); /metrics counts the rejects.
	eventually(t, "both instances to share the requests", func() bool {
		r1, _ := count(e.g)
		r2, _ := count(g2)
		return r1+r2 == n+1 && r1 > 0 && r2 > 0
	})
	// The stock tooling sees the service: `nats micro ls` is a $SRV.INFO request.
	msg, err := e.cl.Request("$SRV.INFO.perpx", nil, 5*time.Second)
	if err != nil || !strings.Contains(string(msg.Data), `"subject":"px.acct.*.order.*"`) {
		t.Fatalf("$SRV.INFO: %v %s", err, msg.Data)
	}
}

func TestCustomPrefix(t *testing.T) {
	e := newEnv(t, Options{Prefix: "paper.px"})
	s, _ := wire.NewSubjects("paper.px")
	if _, env := e.req(s.State("alice"), `{}`); !env.OK {
		t.Fatal(env.Error)
	}
	if _, err := Start(e.nc, e.x, Options{Prefix: "bad prefix"}); err == nil {
		t.Fatal("bad prefix accepted")
	}
}

func TestStopWaitsForUnansweredRequests(t *testing.T) {
	e := newEnv(t, Options{})
	e.x.gate = make(chan struct{})
	sub, err := e.cl.SubscribeSync(nats.NewInbox())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cl.PublishRequest(subj.State("alice"), sub.Subject, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the held request", func() bool { return len(e.x.Calls()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e.g.Stop(ctx); !errors.Is(err, ErrStop) {
		t.Fatalf("Stop with a held reply: %v, want ErrStop", err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- e.g.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v before the reply", err)
	case <-time.After(30 * time.Millisecond):
	}
	close(e.x.gate)
	if msg, err := sub.NextMsg(5 * time.Second); err != nil || !strings.HasPrefix(string(msg.Data), `{"ok":true`) {
		t.Fatalf("held reply: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	// Stopped: nobody answers any more.
	if _, err := e.cl.Request(subj.State("alice"), []byte(`{}`), time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("after Stop: %v", err)
	}
}

// A trader pipelining place, cancel, place, cancel... on one connection
// must have them reach the exchange in that order.
func TestOrderRequestsKeepConnectionOrder(t *testing.T) {
	e := newEnv(t, Options{})
	inbox := nats.NewInbox()
	const n = 400
	got := make(chan struct{}, 2*n)
	sub, err := e.cl.Subscribe(inbox, func(*nats.Msg) { got <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for i := 0; i < n; i++ {
		place := fmt.Sprintf(`{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"100","qty":"1","tif":"GTC","client_order_id":"c%d"}`, i)
		cancel := fmt.Sprintf(`{"symbol":"BTC-PERP","client_order_id":"c%d"}`, i)
		if err := e.cl.PublishRequest(subj.OrderPlace("alice"), inbox, []byte(place)); err != nil {
			t.Fatal(err)
		}
		if err := e.cl.PublishRequest(subj.OrderCancel("alice"), inbox, []byte(cancel)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2*n; i++ {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d replies", i, 2*n)
		}
	}
	calls := e.x.Calls()
	if len(calls) != 2*n {
		t.Fatalf("%d calls, want %d", len(calls), 2*n)
	}
	for i, c := range calls {
		want := "PlaceOrder"
		if i%2 == 1 {
			want = "CancelOrder"
		}
		if c.Method != want {
			t.Fatalf("call %d is %s, want %s: order requests were reordered", i, c.Method, want)
		}
	}
}

// TestOversizedReplyIsAnError: a reply bigger than the server's max_payload
// (an account with thousands of open orders asking for its state) would be
// refused by the server and leave the client waiting; it gets INTERNAL
// saying why instead.
func TestOversizedReplyIsAnError(t *testing.T) {
	e := newEnv(t, Options{})
	orders := make([]wire.Order, 6000)
	for i := range orders {
		orders[i] = wire.Order{OrderID: strconv.Itoa(i + 1), Account: "alice", Symbol: "BTC-PERP", Side: wire.Buy,
			Type: wire.Limit, Price: decimal.NewFromInt(30000), Qty: decimal.NewFromInt(1), Status: wire.StatusNew, TIF: wire.GTC}
	}
	e.x.script = map[string]any{"AccountState": wire.AccountReply{Reply: wire.OK(), Account: &wire.Account{Account: "alice",
		Balances: map[string]decimal.Decimal{}, Positions: []wire.Position{}, OpenOrders: orders}}}
	raw, env := e.req(subj.State("alice"), `{}`)
	if env.OK || env.Error.Code != wire.CodeInternal || !strings.Contains(env.Error.Message, "max_payload") {
		t.Fatalf("oversized reply: %.300s", raw)
	}
	if len(wire.Encode(e.x.script["AccountState"])) <= int(e.nc.MaxPayload()) {
		t.Fatal("the scripted reply is not over the limit: the test proves nothing")
	}
}

// TestStopDrainedCountsOthers: Stop trusts the connection's subscription
// count only while the others sharing it stay as they were: the app's bots
// unsubscribe from it while Stop runs, and counting "at most the others"
// called the service drained while one of its subscriptions still held a
// queued request (review).
func TestStopDrainedCountsOthers(t *testing.T) {
	e := newEnv(t, Options{})
	var others []*nats.Subscription
	for i := range 15 {
		s, err := e.nc.Subscribe(fmt.Sprintf("other.bot.%d", i), func(*nats.Msg) {})
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, s)
	}
	e.g.intake.mu.Lock() // the State endpoint's subscription is held in push, a request queued behind it
	for range 2 {
		if err := e.cl.PublishRequest(subj.State("alice"), nats.NewInbox(), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	_ = e.cl.Flush()
	time.Sleep(50 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- e.g.Stop(context.Background()) }()
	time.Sleep(50 * time.Millisecond) // Stop counted the others and drains the service
	for _, s := range others {
		_ = s.Unsubscribe()
	}
	if e.g.drained() {
		t.Errorf("drained with %d subscriptions left, %d others counted, one of the service's holding a request", e.nc.NumSubscriptions(), e.g.others)
	}
	e.g.intake.mu.Unlock()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// TestStopOwnConnection: with Options.Service the endpoints subscribe on
// that connection and reply on the exchange's; Stop's drained test counts
// only the service's connection, so subscriptions the exchange's
// connection gains or loses meanwhile change nothing, and a request still
// queued in a subscription holds Stop until it is answered.
func TestStopOwnConnection(t *testing.T) {
	g, nc, sc, cl := ownConnection(t)
	if nc.NumSubscriptions() != 0 || sc.NumSubscriptions() != g.subs || g.subs == 0 {
		t.Fatalf("subscriptions: %d on the exchange's connection, %d on the service's, %d the service's", nc.NumSubscriptions(), sc.NumSubscriptions(), g.subs)
	}
	replies := make(chan *nats.Msg, 8)
	inbox := nats.NewInbox()
	if _, err := cl.ChanSubscribe(inbox, replies); err != nil {
		t.Fatal(err)
	}
	if err := cl.PublishRequest(subj.State("alice"), inbox, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if m := <-replies; !strings.Contains(string(m.Data), `"ok":true`) {
		t.Fatalf("reply %s", m.Data)
	}
	if o := sc.Stats().OutMsgs; nc.Stats().OutMsgs != 1 || o != 0 {
		t.Fatalf("replies sent: %d on the exchange's connection, %d on the service's; want 1 and 0", nc.Stats().OutMsgs, o)
	}

	g.intake.mu.Lock() // a subscription is held in push, a request queued behind it
	for range 2 {
		if err := cl.PublishRequest(subj.State("alice"), inbox, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	_ = cl.Flush()
	time.Sleep(50 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- g.Stop(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	if _, err := nc.Subscribe("other.bot", func(*nats.Msg) {}); err != nil { // not the service's connection: no matter
		t.Fatal(err)
	}
	if g.drained() || g.others != 0 {
		t.Errorf("drained with %d subscriptions left on the service's connection (%d others counted), one holding a request", sc.NumSubscriptions(), g.others)
	}
	g.intake.mu.Unlock()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if !g.drained() || sc.NumSubscriptions() != 0 {
		t.Errorf("stopped with %d subscriptions on the service's connection", sc.NumSubscriptions())
	}
	for range 2 {
		select {
		case <-replies:
		case <-time.After(5 * time.Second):
			t.Fatal("a request queued at Stop was not answered")
		}
	}
}

// TestStopWaitsForAStarvedSubscription: a subscription's goroutine starved
// between two requests, with more queued behind them, looks quiet: every
// request it delivered is answered and nothing new arrives. On a
// connection of its own Stop waits for the subscription to drain instead of
// ending after a quiet moment and leaving the queued requests unanswered.
func TestStopWaitsForAStarvedSubscription(t *testing.T) {
	g, _, _, cl := ownConnection(t)
	var n atomic.Int32
	starved, resume := make(chan struct{}), make(chan struct{})
	g.delivered = func(string) {
		if n.Add(1) == 2 {
			close(starved)
			<-resume
		}
	}
	replies := make(chan *nats.Msg, 8)
	inbox := nats.NewInbox()
	if _, err := cl.ChanSubscribe(inbox, replies); err != nil {
		t.Fatal(err)
	}
	const sent = 3
	for range sent {
		if err := cl.PublishRequest(subj.State("alice"), inbox, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	<-starved
	if m := <-replies; !strings.Contains(string(m.Data), `"ok":true`) {
		t.Fatalf("reply %s", m.Data)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- g.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) with two requests queued behind a starved subscription", err)
	case <-time.After(2 * quietUndrained):
	}
	close(resume)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	for i := 1; i < sent; i++ {
		select {
		case m := <-replies:
			if !strings.Contains(string(m.Data), `"ok":true`) {
				t.Fatalf("reply %s", m.Data)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d requests answered", i, sent)
		}
	}
}

// ownConnection starts a gateway whose endpoints subscribe on a
// connection of their own (sc) and reply on the exchange's (nc), as app
// wires it, and a client connection.
func ownConnection(t *testing.T) (g *Gateway, nc, sc, cl *nats.Conn) {
	t.Helper()
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	conn := func(name string) *nats.Conn {
		c, err := srv.Connect(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	nc, sc, cl = conn("exchange"), conn("gateway"), conn("client")
	g, err = Start(nc, newFake(), Options{Service: sc, Metrics: NewMetrics()})
	if err != nil {
		t.Fatal(err)
	}
	return g, nc, sc, cl
}
