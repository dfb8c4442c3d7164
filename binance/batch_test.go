package binance_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// batchElem is an element of a batch's answer: an order or an error.
type batchElem struct {
	OrderID       *float64 `json:"orderId"`
	ClientOrderID string   `json:"clientOrderId"`
	Status        string   `json:"status"`
	Price         string   `json:"price"`
	OrigQty       string   `json:"origQty"`
	Code          int      `json:"code"`
	Msg           string   `json:"msg"`
}

func (b batchElem) id() string {
	if b.OrderID == nil {
		return ""
	}
	return strconv.FormatFloat(*b.OrderID, 'f', -1, 64)
}

// batch sends a batch request that must be answered 200 and returns its
// elements, checked against want: a status ("NEW", "CANCELED") for an
// order, a code for an error object.
func batch(t *testing.T, c client, method string, params map[string]string, want ...any) ([]batchElem, http.Header) {
	t.Helper()
	status, body, h := c.signedH(method, "/fapi/v1/batchOrders", vals(flat(params)...))
	var out []batchElem
	if status != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("%s batchOrders: HTTP %d %s", method, status, body)
	}
	if len(out) != len(want) {
		t.Fatalf("%s batchOrders: %d elements, want %d: %s", method, len(out), len(want), body)
	}
	for i, w := range want {
		switch w := w.(type) {
		case string:
			if out[i].OrderID == nil || out[i].Status != w || out[i].Code != 0 {
				t.Errorf("element %d: want an order %s, got %s", i, w, body)
			}
		case int:
			if out[i].OrderID != nil || out[i].Code != w || out[i].Msg == "" {
				t.Errorf("element %d: want error %d, got %s", i, w, body)
			}
		}
	}
	return out, h
}

func flat(m map[string]string) []string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k, v)
	}
	return kv
}

// openIDsOf are alice's open order ids, sorted.
func openIDsOf(e *env, acct string) []string {
	var ids []string
	for _, o := range e.state(acct).OpenOrders {
		ids = append(ids, o.OrderID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

// batchEnv is an exchange (config: usersJSON and more) with alice's
// 100 000 USDT and BTC's index at 30 000, and alice's client.
func batchEnv(t *testing.T, more string) (*env, client) {
	t.Helper()
	e := start(t, `{`+usersJSON+more+`}`)
	e.deposit("alice", "100000")
	e.index("BTC-PERP", "30000")
	return e, e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
}

// TestBatchPlace: POST batchOrders places the valid orders of a mixed
// list in one go; each refused one (by the face's checks or the exchange's)
// is Binance's error object at its index, the answer in the request's
// order, HTTP 200; the batch counts 5 and 1 orders and weighs 5.
func TestBatchPlace(t *testing.T) {
	e, alice := batchEnv(t, "")
	e.index("ETH-PERP", "2000")
	orders := `[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.010","price":"29000","newClientOrderId":"b-0"},
	 {"symbol":"BTCUSDT","side":"HOLD","type":"LIMIT","quantity":"0.010","price":"29000"},
	 {"symbol":"ETHUSDT","side":"SELL","type":"LIMIT","timeInForce":"GTX","quantity":0.1,"price":2100,"reduceOnly":false,"newClientOrderId":"b-2"},
	 {"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.010","price":"29000.05"},
	 {"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.010","price":{"v":"1"}}]`
	out, h := batch(t, alice, http.MethodPost, map[string]string{"batchOrders": orders}, "NEW", -1117, "NEW", -1013, -1130)
	if out[0].ClientOrderID != "b-0" || out[2].ClientOrderID != "b-2" || out[2].Price != "2100" || out[2].OrigQty != "0.1" {
		t.Errorf("placed orders: %+v", out)
	}
	if !strings.Contains(out[3].Msg, "PRICE_FILTER") || !strings.Contains(out[4].Msg, "'price'") {
		t.Errorf("errors: %+v", out)
	}
	if got, want := openIDsOf(e, "alice"), sorted(out[0].id(), out[2].id()); !slices.Equal(got, want) {
		t.Errorf("open orders %v, want %v", got, want)
	}
	if h.Get("X-MBX-ORDER-COUNT-10S") != "5" || h.Get("X-MBX-ORDER-COUNT-1M") != "1" || h.Get("X-MBX-USED-WEIGHT-1M") != "5" {
		t.Errorf("headers: %v, want order counts 5 and 1, weight 5", h)
	}
	// All refused: nothing reaches the exchange, still a list.
	batch(t, alice, http.MethodPost, map[string]string{"batchOrders": `[{"symbol":"DOGEUSDT"},{"side":"BUY"},{"symbol":"BTCUSDT","side":"BUY","type":"STOP_MARKET"}]`},
		-1121, -1102, -4120)
	// A client id used twice: the second is refused (the first is open).
	batch(t, alice, http.MethodPost, map[string]string{"batchOrders": `[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01","price":"28000","newClientOrderId":"dup"},
	 {"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01","price":"28001","newClientOrderId":"dup"}]`}, "NEW", -4116)
	if n := len(e.state("alice").OpenOrders); n != 3 {
		t.Errorf("%d open orders, want 3", n)
	}
	e.audit()
}

// TestBatchCancel: DELETE batchOrders cancels by orderIdList and by
// origClientOrderIdList (and ccxt's lower-case spellings); an unknown id is
// -2011 at its index and the others are still canceled.
func TestBatchCancel(t *testing.T) {
	e, alice := batchEnv(t, "")
	var list []string
	for i := range 5 {
		list = append(list, fmt.Sprintf(`{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01","price":"%d","newClientOrderId":"c-%d"}`, 29000-i, i))
	}
	placed, _ := batch(t, alice, http.MethodPost, map[string]string{"batchOrders": "[" + strings.Join(list, ",") + "]"}, "NEW", "NEW", "NEW", "NEW", "NEW")

	ids := fmt.Sprintf("[%s,987654321,%q]", placed[0].id(), placed[1].id()) // a number, or its digits quoted
	out, _ := batch(t, alice, http.MethodDelete, map[string]string{"symbol": "BTCUSDT", "orderIdList": ids}, "CANCELED", -2011, "CANCELED")
	if out[0].id() != placed[0].id() || out[2].id() != placed[1].id() {
		t.Errorf("canceled %s, %s, want %s, %s", out[0].id(), out[2].id(), placed[0].id(), placed[1].id())
	}
	if got, want := openIDsOf(e, "alice"), sorted(placed[2].id(), placed[3].id(), placed[4].id()); !slices.Equal(got, want) {
		t.Errorf("open orders %v, want %v", got, want)
	}
	out, _ = batch(t, alice, http.MethodDelete, map[string]string{"symbol": "BTCUSDT", "origclientorderidlist": `["c-4","nope","not an id!","c-2"]`},
		"CANCELED", -2011, -2011, "CANCELED")
	if out[0].ClientOrderID != "c-4" || out[3].ClientOrderID != "c-2" {
		t.Errorf("canceled %+v", out)
	}
	// ccxt's orderidlist; an order canceled already is unknown.
	batch(t, alice, http.MethodDelete, map[string]string{"symbol": "BTCUSDT", "orderidlist": "[" + placed[3].id() + "," + placed[0].id() + "]"}, "CANCELED", -2011)
	if ids := openIDsOf(e, "alice"); len(ids) != 0 {
		t.Errorf("still open: %v", ids)
	}
	e.audit()
}

// TestBatchModify: PUT batchOrders modifies in order, each item checked
// against the orders as the items before left them.
func TestBatchModify(t *testing.T) {
	e, alice := batchEnv(t, "")
	placed, _ := batch(t, alice, http.MethodPost, map[string]string{"batchOrders": `[
	 {"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.02","price":"29000","newClientOrderId":"m-0"},
	 {"symbol":"BTCUSDT","side":"SELL","type":"LIMIT","timeInForce":"GTC","quantity":"0.02","price":"31000","newClientOrderId":"m-1"}]`}, "NEW", "NEW")
	a := placed[0].id()
	mods := fmt.Sprintf(`[{"symbol":"BTCUSDT","orderId":%s,"side":"BUY","quantity":"0.01","price":"29100"},
	 {"symbol":"BTCUSDT","orderId":"987654321","side":"BUY","quantity":"0.01","price":"29100"},
	 {"symbol":"BTCUSDT","origClientOrderId":"m-1","side":"BUY","quantity":"0.01","price":"31000"},
	 {"symbol":"BTCUSDT","orderId":"%s","side":"BUY","quantity":"0.01","price":"29100"},
	 {"symbol":"BTCUSDT","origClientOrderId":"m-0","side":"BUY","quantity":"0.01","price":"29200"}]`, a, a)
	out, h := batch(t, alice, http.MethodPut, map[string]string{"batchOrders": mods}, "NEW", -2013, -1130, -5027, "NEW")
	if out[0].id() != a || out[0].Price != "29100" || out[4].id() != a || out[4].Price != "29200" || out[4].OrigQty != "0.01" {
		t.Errorf("modified: %+v", out)
	}
	if h.Get("X-MBX-ORDER-COUNT-10S") != "10" || h.Get("X-MBX-ORDER-COUNT-1M") != "2" {
		t.Errorf("headers: %v, want order counts 10 and 2", h)
	}
	var ex wire.OrdersReply
	e.req(e.subj.AccountOrders("alice"), wire.Orders{OrderID: a}, &ex)
	if len(ex.Orders) != 1 || !ex.Orders[0].Price.Equal(decimal.NewFromInt(29200)) || !ex.Orders[0].Qty.Equal(decimal.RequireFromString("0.01")) {
		t.Errorf("the exchange's order: %+v", ex.Orders)
	}
	e.audit()
}

// TestBatchLimits: a list too long, empty or malformed is one Binance
// error for the whole request, and nothing is done.
func TestBatchLimits(t *testing.T) {
	e, alice := batchEnv(t, "")
	one := `{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01","price":"29000"}`
	six := "[" + strings.TrimSuffix(strings.Repeat(one+",", 6), ",") + "]"
	var ids, cids []string
	for i := range 11 {
		ids = append(ids, strconv.Itoa(i+1))
		cids = append(cids, strconv.Quote(fmt.Sprint("c-", i)))
	}
	eleven, elevenCids := "["+strings.Join(ids, ",")+"]", "["+strings.Join(cids, ",")+"]"
	for _, c := range []struct {
		what   string
		method string
		params []string
		code   int
	}{
		{"6 orders", "POST", []string{"batchOrders", six}, -4082},
		{"6 modifies", "PUT", []string{"batchOrders", six}, -4082},
		{"no orders", "POST", []string{"batchOrders", "[]"}, -4082},
		{"no list", "POST", nil, -1102},
		{"malformed JSON", "POST", []string{"batchOrders", `[` + one}, -1130},
		{"an object, no list", "POST", []string{"batchOrders", one}, -1130},
		{"a number in the list", "POST", []string{"batchOrders", `[` + one + `,1]`}, -1130},
		{"null in the list", "PUT", []string{"batchOrders", `[null]`}, -1130},
		{"11 ids", "DELETE", []string{"symbol", "BTCUSDT", "orderIdList", eleven}, -1130},
		{"11 client ids", "DELETE", []string{"symbol", "BTCUSDT", "origClientOrderIdList", elevenCids}, -1130},
		{"no ids", "DELETE", []string{"symbol", "BTCUSDT", "orderIdList", "[]"}, -1130},
		{"malformed ids", "DELETE", []string{"symbol", "BTCUSDT", "orderIdList", "[1,"}, -1130},
		{"a word for an id", "DELETE", []string{"symbol", "BTCUSDT", "orderIdList", `[1,"x"]`}, -1130},
		{"a negative id", "DELETE", []string{"symbol", "BTCUSDT", "orderIdList", `[-1]`}, -1130},
		{"both lists", "DELETE", []string{"symbol", "BTCUSDT", "orderIdList", "[1]", "origClientOrderIdList", `["a"]`}, -1128},
		{"neither list", "DELETE", []string{"symbol", "BTCUSDT"}, -1102},
		{"no symbol", "DELETE", []string{"orderIdList", "[1]"}, -1102},
	} {
		status, body := alice.signed(c.method, "/fapi/v1/batchOrders", vals(c.params...))
		var r bnError
		if status != 400 || json.Unmarshal(body, &r) != nil || r.Code != c.code {
			t.Errorf("%s: HTTP %d %s, want 400 %d", c.what, status, body, c.code)
		}
	}
	if ids := openIDsOf(e, "alice"); len(ids) != 0 {
		t.Errorf("a refused batch placed %v", ids)
	}
}

// TestBatchRateLimit: a batch that passes the exchange's order bucket
// partway is the orders placed and -1003 for the rest; one that finds it
// empty is a single -1003, HTTP 429.
func TestBatchRateLimit(t *testing.T) {
	e, alice := batchEnv(t, `,"rate_limit":{"orders_per_s":0.001,"burst":2}`)
	one := `{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01","price":"29000"}`
	three := "[" + one + "," + one + "," + one + "]"
	batch(t, alice, http.MethodPost, map[string]string{"batchOrders": three}, "NEW", "NEW", -1003)
	status, body := alice.signed(http.MethodPost, "/fapi/v1/batchOrders", vals("batchOrders", three))
	fails(t, "a batch on an empty bucket", status, body, 429, -1003)
	if n := len(e.state("alice").OpenOrders); n != 2 {
		t.Errorf("%d open orders, want 2", n)
	}
}
