package binance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// TestCCXT runs the real ccxt npm package (binance/ccxt/package.json pins
// it; .ci/run installs it with npm ci) against the exchange: suite.mjs
// makes each call and asks the exchange over NATS (through a probe served
// here) what it says of the same thing; this test compares the two.
func TestCCXT(t *testing.T) {
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("ccxt", "node_modules", "ccxt", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and binance/ccxt/node_modules are needed in CI (npm ci in binance/ccxt): %v", err)
		}
		t.Skipf("no node or no binance/ccxt/node_modules (run npm ci in binance/ccxt): %v", err)
	}
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "10000")
	e.deposit("mm", "1000000")
	e.index("BTC-PERP", "30000")
	e.index("ETH-PERP", "2000")
	// The market maker's ladder: 10 levels a side, 10 apart (ETH 1 apart).
	e.ladder("BTC-PERP", 30000, 10, 0.01, 10)
	e.ladder("ETH-PERP", 2000, 1, 0.1, 10)
	probe := e.probe()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	host := strings.TrimPrefix(e.base, "http://")
	cmd := exec.CommandContext(ctx, node, "suite.mjs", e.base, "ws://"+host, probe, "aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	cmd.Dir = "ccxt"
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node suite.mjs: %v\nstderr: %s\nstdout: %s", err, stderr.String(), stdout.String())
	}
	var out struct {
		Steps []struct {
			Name string          `json:"name"`
			CCXT json.RawMessage `json:"ccxt"`
			NATS json.RawMessage `json:"nats"`
		} `json:"steps"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("suite.mjs printed no JSON: %v\n%s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if out.Error != "" {
		t.Errorf("suite.mjs stopped: %s (after %d steps)", out.Error, len(out.Steps))
	}
	seen := map[string]bool{}
	for _, s := range out.Steps {
		seen[s.Name] = true
		check, ok := ccxtChecks[s.Name]
		if !ok {
			t.Errorf("step %q has no check", s.Name)
			continue
		}
		t.Run(s.Name, func(t *testing.T) { check(&cmp{t: t, e: e}, s.CCXT, s.NATS) })
	}
	for name := range ccxtChecks {
		if !seen[name] {
			t.Errorf("step %q did not run", name)
		}
	}
	e.audit()
}

func dec[T int | float64](v T) decimal.Decimal {
	if f, ok := any(v).(float64); ok {
		return decimal.NewFromFloat(f)
	}
	return decimal.NewFromInt(int64(v))
}

// ccxtIncome is a row of ccxt's fetchFundingHistory or fetchLedger.
type ccxtIncome struct {
	ID, Symbol, Code, Currency, Direction string
	Amount                                any
	Timestamp                             int64
}

// incomeRows decodes ccxt's rows and the exchange's income rows, one for
// one, and compares their ids and times.
func incomeRows(c *cmp, got, nats json.RawMessage, what string) ([]ccxtIncome, []wire.Income) {
	var gs []ccxtIncome
	var r wire.IncomeReply
	c.both(got, nats, &gs, &r)
	c.count(what+" (income rows)", len(gs), len(r.Income))
	for i, p := range r.Income {
		c.same("id", gs[i].ID, fmt.Sprint(p.ID))
		c.same("timestamp", gs[i].Timestamp, p.TimeMs)
	}
	return gs, r.Income
}

// probe serves POST {"subject","body"} → the exchange's NATS reply, for
// suite.mjs on loopback.
func (e *env) probe() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Subject string          `json:"subject"`
			Body    json.RawMessage `json:"body"`
		}
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if req.Subject == "clock.ahead" { // {"ms":N}: the exchange's clock N ms forward
			var a struct{ MS int64 }
			_ = json.Unmarshal(req.Body, &a)
			e.ahead.Add(a.MS)
			_, _ = w.Write([]byte(`{"ok":true}`))
			return
		}
		m, err := e.nc.Request(req.Subject, req.Body, wait)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = w.Write(m.Data)
	})}
	go func() { _ = srv.Serve(ln) }()
	e.t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// cmp compares ccxt's numbers (JSON numbers) with the exchange's decimals.
type cmp struct {
	t *testing.T
	e *env
}

func (c *cmp) decode(raw json.RawMessage, v any) {
	c.t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		c.t.Fatalf("%v: %s", err, raw)
	}
}

// both decodes ccxt's result and the exchange's reply.
func (c *cmp) both(got, nats json.RawMessage, g, w any) {
	c.t.Helper()
	c.decode(got, g)
	c.decode(nats, w)
}

// count stops the check unless ccxt and the exchange list as many (some).
func (c *cmp) count(what string, got, want int) {
	c.t.Helper()
	if got != want || got == 0 {
		c.t.Fatalf("ccxt has %d %s, the exchange %d", got, what, want)
	}
}

// num reads a ccxt number (or numeric string; null is nil).
func num(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case float64:
		return decimal.NewFromFloat(x), true
	case string:
		d, err := decimal.NewFromString(x)
		return d, err == nil
	}
	return decimal.Zero, false
}

func (c *cmp) eq(what string, got any, want decimal.Decimal) {
	c.t.Helper()
	d, ok := num(got)
	if !ok || !d.Equal(want) {
		c.t.Errorf("%s: ccxt says %v, the exchange %s", what, got, want)
	}
}

func (c *cmp) same(what string, got, want any) {
	c.t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		c.t.Errorf("%s: ccxt says %v, the exchange %v", what, got, want)
	}
}

// ccxt's unified order and the statuses it maps perpx's to.
type ccxtOrder struct {
	ID           string   `json:"id"`
	ClientID     string   `json:"clientOrderId"`
	Symbol       string   `json:"symbol"`
	Type         string   `json:"type"`
	Side         string   `json:"side"`
	Price        any      `json:"price"`
	Amount       any      `json:"amount"`
	Filled       any      `json:"filled"`
	Average      any      `json:"average"`
	Status       string   `json:"status"`
	TimeInForce  string   `json:"timeInForce"`
	PostOnly     bool     `json:"postOnly"`
	ReduceOnly   bool     `json:"reduceOnly"`
	TriggerPrice any      `json:"triggerPrice"`
	Timestamp    int64    `json:"timestamp"`
	Info         struct{} `json:"info"`
}

var ccxtStatus = map[wire.Status]string{wire.StatusNew: "open", wire.StatusPartiallyFilled: "open", wire.StatusUntriggered: "open",
	wire.StatusFilled: "closed", wire.StatusCanceled: "canceled", wire.StatusExpired: "expired", wire.StatusRejected: "rejected"}

var ccxtSymbols = map[string]string{"BTC-PERP": "BTC/USDT:USDT", "ETH-PERP": "ETH/USDT:USDT"}

// order compares a ccxt order with the exchange's.
func (c *cmp) order(o *ccxtOrder, w *wire.Order) {
	c.t.Helper()
	c.same("id", o.ID, w.OrderID)
	c.same("clientOrderId", o.ClientID, w.ClientOrderID)
	c.same("symbol", o.Symbol, ccxtSymbols[w.Symbol])
	c.same("side", o.Side, string(w.Side))
	want := ccxtStatus[w.Status]
	if w.Status == wire.StatusCanceled && (w.TIF == wire.IOC || w.TIF == wire.FOK || w.Type == wire.Market) {
		want = "expired" // Binance's EXPIRED for the rest of an order that never rests
	}
	c.same("status", o.Status, want)
	c.eq("amount", o.Amount, w.Qty)
	c.eq("filled", o.Filled, w.FilledQty)
	c.same("reduceOnly", o.ReduceOnly, w.ReduceOnly)
	c.same("postOnly", o.PostOnly, w.PostOnly)
	c.same("timestamp", o.Timestamp, w.CreatedMs)
	if w.Type.Limited() {
		c.eq("price", o.Price, w.Price)
	}
	if w.FilledQty.IsPositive() {
		c.eq("average", o.Average, w.AvgPrice)
	}
	if w.OrderTrigger != nil && !w.TriggerPrice.IsZero() {
		c.eq("triggerPrice", o.TriggerPrice, w.TriggerPrice)
	}
}

// one is the single order of an orders reply.
func (c *cmp) one(raw json.RawMessage) *wire.Order {
	c.t.Helper()
	var r wire.OrdersReply
	c.decode(raw, &r)
	if !r.OK || len(r.Orders) != 1 {
		c.t.Fatalf("the exchange's orders reply: %s", raw)
	}
	return &r.Orders[0]
}

func (c *cmp) account(raw json.RawMessage) *wire.Account {
	c.t.Helper()
	var r wire.AccountReply
	c.decode(raw, &r)
	if !r.OK || r.Account == nil {
		c.t.Fatalf("the exchange's state reply: %s", raw)
	}
	return r.Account
}

func orderCheck(wantStatus wire.Status, more func(c *cmp, o *ccxtOrder, w *wire.Order)) func(*cmp, json.RawMessage, json.RawMessage) {
	return func(c *cmp, got, nats json.RawMessage) {
		var o ccxtOrder
		c.decode(got, &o)
		w := c.one(nats)
		if wantStatus != "" && w.Status != wantStatus {
			c.t.Errorf("the exchange's order is %s, want %s", w.Status, wantStatus)
		}
		c.order(&o, w)
		if more != nil {
			more(c, &o, w)
		}
	}
}

// openIDs are the ids of the open orders, plain or untriggered ones.
func openIDs(a *wire.Account, untriggered bool) []string {
	var ids []string
	for _, o := range a.OpenOrders {
		if (o.Status == wire.StatusUntriggered) == untriggered {
			ids = append(ids, o.OrderID)
		}
	}
	sort.Strings(ids)
	return ids
}

func (c *cmp) ids(raw json.RawMessage) []string {
	var os []ccxtOrder
	c.decode(raw, &os)
	return c.idsOf(os)
}

// batch decodes ccxt's answer to a batch: the orders, less the rejected
// ones (Binance's error elements), which must be rejected many.
func (c *cmp) batch(raw json.RawMessage, rejected int) []ccxtOrder {
	c.t.Helper()
	var os []ccxtOrder
	c.decode(raw, &os)
	n := len(os)
	os = slices.DeleteFunc(os, func(o ccxtOrder) bool { return o.Status == "rejected" })
	c.same("rejected elements", n-len(os), rejected)
	return os
}

func (c *cmp) idsOf(os []ccxtOrder) []string {
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	sort.Strings(ids)
	return ids
}

// book compares ccxt's [[price, amount], ...] with the exchange's levels.
func (c *cmp) book(side string, got [][2]float64, want []wire.Level) {
	c.t.Helper()
	if len(got) != len(want) {
		c.t.Errorf("%s: ccxt has %d levels, the exchange %d", side, len(got), len(want))
		return
	}
	for i := range got {
		c.eq(fmt.Sprintf("%s[%d] price", side, i), got[i][0], want[i].Price())
		c.eq(fmt.Sprintf("%s[%d] amount", side, i), got[i][1], want[i].Qty())
	}
}

type ccxtPosition struct {
	Symbol           string `json:"symbol"`
	Side             string `json:"side"`
	Contracts        any    `json:"contracts"`
	EntryPrice       any    `json:"entryPrice"`
	MarkPrice        any    `json:"markPrice"`
	UnrealizedPnl    any    `json:"unrealizedPnl"`
	LiquidationPrice any    `json:"liquidationPrice"`
	MarginMode       string `json:"marginMode"`
	Leverage         any    `json:"leverage"`
	InitialMarginPct any    `json:"initialMarginPercentage"`
}

func (c *cmp) positions(got []ccxtPosition, a *wire.Account, full bool) {
	c.t.Helper()
	if len(got) != len(a.Positions) {
		c.t.Fatalf("ccxt has %d positions, the exchange %d: %+v", len(got), len(a.Positions), got)
	}
	for _, p := range a.Positions {
		i := slices.IndexFunc(got, func(g ccxtPosition) bool { return g.Symbol == ccxtSymbols[p.Symbol] })
		if i < 0 {
			c.t.Errorf("ccxt has no %s position", p.Symbol)
			continue
		}
		g := got[i]
		c.same(p.Symbol+" side", g.Side, string(p.Side))
		c.eq(p.Symbol+" contracts", g.Contracts, p.Qty)
		c.eq(p.Symbol+" entryPrice", g.EntryPrice, p.EntryPrice)
		c.eq(p.Symbol+" unrealizedPnl", g.UnrealizedPnl, p.UnrealizedPnL)
		c.same(p.Symbol+" marginMode", g.MarginMode, string(p.MarginMode))
		if full {
			c.eq(p.Symbol+" markPrice", g.MarkPrice, p.MarkPrice)
			if p.LiquidationPrice.IsZero() { // none: ccxt omits a zero
				c.same(p.Symbol+" liquidationPrice", g.LiquidationPrice, nil)
			} else {
				c.eq(p.Symbol+" liquidationPrice", g.LiquidationPrice, p.LiquidationPrice)
			}
			c.eq(p.Symbol+" initialMarginPercentage", g.InitialMarginPct, decimal.NewFromInt(1).DivRound(p.Leverage, 8))
		}
	}
}

// bookCheck compares ccxt's order book (REST, or rebuilt from the diff
// stream) with the exchange's depth: every level and the sequence.
func bookCheck(c *cmp, got, nats json.RawMessage) {
	var ob struct {
		Bids, Asks [][2]float64
		Nonce      uint64
	}
	var d wire.DepthReply
	c.both(got, nats, &ob, &d)
	c.same("nonce", ob.Nonce, d.Seq)
	c.book("bids", ob.Bids, d.Bids)
	c.book("asks", ob.Asks, d.Asks)
	if c.t.Failed() {
		c.t.Logf("ccxt: %s\nexchange: %s", got, nats)
	}
}

// ccxtTicker is what the ticker checks read of ccxt's tickers.
type ccxtTicker struct {
	Symbol                            string
	Last, Open, High, Low, BaseVolume any
}

// ticker compares ccxt's ticker of sym with the exchange's.
func (c *cmp) ticker(sym string, g *ccxtTicker, w *wire.TickerStats) {
	if w == nil {
		c.t.Fatalf("no ticker of %s from the exchange", sym)
	}
	c.same(sym+" symbol", g.Symbol, sym)
	c.eq(sym+" last", g.Last, w.Last)
	c.eq(sym+" open", g.Open, w.Open)
	c.eq(sym+" high", g.High, w.High)
	c.eq(sym+" low", g.Low, w.Low)
	c.eq(sym+" baseVolume", g.BaseVolume, w.Volume)
}

// allTickersCheck compares watchTickers' BTC and ETH tickers with the
// exchange's.
func allTickersCheck(c *cmp, got, nats json.RawMessage) {
	var g map[string]ccxtTicker
	var r map[string]wire.TickerReply
	c.both(got, nats, &g, &r)
	for _, sym := range []string{"BTC/USDT:USDT", "ETH/USDT:USDT"} {
		t := g[sym]
		c.ticker(sym, &t, r[sym].Ticker)
	}
}

// ccxtChecks compares each step of suite.mjs.
var ccxtChecks = map[string]func(c *cmp, got, nats json.RawMessage){
	"loadMarkets": func(c *cmp, got, _ json.RawMessage) {
		var m map[string]struct {
			ID           string  `json:"id"`
			Settle       string  `json:"settle"`
			Linear       bool    `json:"linear"`
			Swap         bool    `json:"swap"`
			Active       bool    `json:"active"`
			ContractSize float64 `json:"contractSize"`
			Precision    struct{ Price, Amount float64 }
			Limits       struct {
				Amount struct{ Min, Max float64 }
				Cost   struct{ Min float64 }
			}
		}
		c.decode(got, &m)
		syms, err := c.e.cfg.Compile()
		if err != nil {
			c.t.Fatal(err)
		}
		for i, key := range []string{"BTC", "ETH"} {
			g, s := m[key], syms[i]
			c.same(key+" id", g.ID, key+"USDT")
			c.same(key+" settle/linear/swap/active", []any{g.Settle, g.Linear, g.Swap, g.Active}, []any{"USDT", true, true, true})
			c.eq(key+" precision.price", g.Precision.Price, s.TickSize)
			c.eq(key+" precision.amount", g.Precision.Amount, s.LotSize)
			c.eq(key+" limits.amount.min", g.Limits.Amount.Min, s.LotSize)
			c.eq(key+" limits.amount.max", g.Limits.Amount.Max, s.Qty(s.MaxQty))
			c.eq(key+" limits.cost.min", g.Limits.Cost.Min, s.MinNotional.Decimal())
			c.eq(key+" contractSize", g.ContractSize, decimal.NewFromInt(1))
		}
	},
	"fetchOrderBook": bookCheck,
	"fetchBalance": func(c *cmp, got, nats json.RawMessage) {
		var b struct{ Free, Used, Total any }
		c.decode(got, &b)
		a := c.account(nats)
		c.eq("free", b.Free, a.Available)
		c.eq("total", b.Total, a.Equity)
		c.eq("used", b.Used, a.Equity.Sub(a.Available))
	},
	"setLeverage": func(c *cmp, got, _ json.RawMessage) {
		var r struct{ Leverage float64 }
		c.decode(got, &r)
		c.eq("leverage", r.Leverage, decimal.NewFromInt(10))
	},
	"editOrder": orderCheck(wire.StatusNew, func(c *cmp, o *ccxtOrder, w *wire.Order) {
		c.eq("price as edited", o.Price, decimal.RequireFromString("29850"))
		c.eq("amount as edited", o.Amount, decimal.RequireFromString("0.015"))
	}),
	"fetchLeverage": func(c *cmp, got, _ json.RawMessage) {
		var r struct {
			MarginMode                  string
			LongLeverage, ShortLeverage float64
		}
		c.decode(got, &r)
		c.same("leverage (setLeverage's)", []any{r.MarginMode, r.LongLeverage, r.ShortLeverage}, []any{"cross", 10.0, 10.0})
	},
	"fetchMarginMode": func(c *cmp, got, _ json.RawMessage) {
		var r struct{ MarginMode string }
		c.decode(got, &r)
		c.same("ETH's margin mode (setMarginMode's)", r.MarginMode, "isolated")
	},
	"fetchTradingFee": func(c *cmp, got, _ json.RawMessage) {
		var r struct{ Maker, Taker float64 }
		c.decode(got, &r)
		s := market.DemoSymbols()[0]
		c.eq("maker", r.Maker, s.MakerFee.Decimal())
		c.eq("taker", r.Taker, s.TakerFee.Decimal())
	},
	"fetchPositionMode": func(c *cmp, got, _ json.RawMessage) {
		var r struct{ Hedged *bool }
		c.decode(got, &r)
		c.same("hedged", r.Hedged != nil && !*r.Hedged, true)
	},
	"setPositionModeAgain": func(c *cmp, got, _ json.RawMessage) {
		var r struct{ Error string }
		c.decode(got, &r)
		c.same("error (-4059 No need to change position side)", r.Error, "OperationRejected")
	},
	"setMarginMode": func(c *cmp, got, _ json.RawMessage) {
		var r struct{ Code float64 }
		c.decode(got, &r)
		c.same("code", r.Code, 200)
	},
	"setMarginModeAgain": func(c *cmp, got, _ json.RawMessage) {
		var r struct{ Error string }
		c.decode(got, &r)
		c.same("error (-4046 No need to change margin type)", r.Error, "MarginModeAlreadySet")
	},
	"createOrder limit": orderCheck(wire.StatusNew, func(c *cmp, o *ccxtOrder, w *wire.Order) {
		c.same("type", o.Type, "limit")
		c.same("timeInForce", o.TimeInForce, "GTC")
	}),
	"createOrder post-only": orderCheck(wire.StatusNew, func(c *cmp, o *ccxtOrder, w *wire.Order) {
		c.same("timeInForce", o.TimeInForce, "PO")
		c.same("exchange's post_only", w.PostOnly, true)
	}),
	"createOrder market": orderCheck(wire.StatusFilled, func(c *cmp, o *ccxtOrder, w *wire.Order) {
		c.same("type", o.Type, "market")
	}),
	"createOrder reduce-only": orderCheck(wire.StatusNew, func(c *cmp, o *ccxtOrder, w *wire.Order) {
		c.same("exchange's reduce_only", w.ReduceOnly, true)
	}),
	"createOrder stop-market": orderCheck(wire.StatusUntriggered, func(c *cmp, o *ccxtOrder, w *wire.Order) {
		c.same("type (ccxt calls a stop-market a market order with a trigger)", o.Type, "market")
		c.same("exchange's type", w.Type, wire.StopMarket)
		c.same("exchange's trigger_by (Binance's default CONTRACT_PRICE)", w.TriggerBy, wire.TriggerLast)
	}),
	"fetchOpenOrders": func(c *cmp, got, nats json.RawMessage) {
		c.same("open order ids", c.ids(got), openIDs(c.account(nats), false))
	},
	"fetchOpenOrders trigger": func(c *cmp, got, nats json.RawMessage) {
		c.same("open algo order ids", c.ids(got), openIDs(c.account(nats), true))
	},
	"fetchOrder":          orderCheck(wire.StatusFilled, nil),
	"fetchOrder trigger":  orderCheck(wire.StatusUntriggered, nil),
	"cancelOrder":         orderCheck(wire.StatusCanceled, nil),
	"fetchOrder canceled": orderCheck(wire.StatusCanceled, nil),
	"cancelOrder stop as plain": func(c *cmp, got, nats json.RawMessage) {
		var r struct{ Error string }
		c.decode(got, &r)
		c.same("error", r.Error, "OrderNotFound")
		c.same("exchange's status", c.one(nats).Status, wire.StatusUntriggered)
	},
	"cancelOrder trigger": func(c *cmp, got, nats json.RawMessage) {
		var o ccxtOrder
		c.decode(got, &o)
		w := c.one(nats)
		c.same("exchange's status", w.Status, wire.StatusCanceled)
		c.same("id", o.ID, w.OrderID)
		c.same("clientOrderId", o.ClientID, w.ClientOrderID)
	},
	"createOrders": func(c *cmp, got, nats json.RawMessage) {
		os := c.batch(got, 1)
		a := c.account(nats)
		c.same("placed ids (the exchange's open plain orders)", c.idsOf(os), openIDs(a, false))
		for i := range os {
			if k := slices.IndexFunc(a.OpenOrders, func(w wire.Order) bool { return w.OrderID == os[i].ID }); k >= 0 {
				c.order(&os[i], &a.OpenOrders[k])
			}
		}
	},
	"editOrders": func(c *cmp, got, nats json.RawMessage) {
		os, w := c.batch(got, 1), c.one(nats)
		c.count("edited orders", len(os), 1)
		c.order(&os[0], w)
		c.eq("price as edited", os[0].Price, decimal.RequireFromString("29610"))
		c.eq("amount as edited", os[0].Amount, decimal.RequireFromString("0.015"))
	},
	"cancelOrders": func(c *cmp, got, nats json.RawMessage) {
		os := c.batch(got, 0) // the unknown id's -2011: ccxt keeps the symbol's orders only
		c.count("canceled orders", len(os), 2)
		for _, o := range os {
			c.same("status", o.Status, "canceled")
		}
		if ids := openIDs(c.account(nats), false); len(ids) != 1 {
			c.t.Errorf("open plain orders %v, want the batch's last", ids)
		}
	},
	"cancelOrders clientOrderIds": func(c *cmp, got, nats json.RawMessage) {
		os, w := c.batch(got, 0), c.one(nats)
		c.count("canceled orders", len(os), 1)
		c.same("exchange's status", w.Status, wire.StatusCanceled)
		c.order(&os[0], w)
	},
	"cancelAllOrders": func(c *cmp, got, nats json.RawMessage) {
		a := c.account(nats)
		if ids := openIDs(a, false); len(ids) != 0 {
			c.t.Errorf("plain orders still open: %v", ids)
		}
		if ids := openIDs(a, true); len(ids) != 1 {
			c.t.Errorf("the stop should stay (cancelAllOrders is the plain orders'): %v", ids)
		}
	},
	"fetchMyTrades": func(c *cmp, got, nats json.RawMessage) {
		var ts []struct {
			ID, Order, Side, TakerOrMaker string
			Price, Amount                 any
			Timestamp                     int64
			Fee                           struct{ Cost any }
		}
		var r wire.FillsReply
		c.both(got, nats, &ts, &r)
		c.count("trades (fills)", len(ts), len(r.Fills))
		for i, f := range r.Fills {
			g := ts[i]
			c.same("id", g.ID, fmt.Sprint(f.TradeSeq))
			c.same("order", g.Order, f.OrderID)
			c.same("side", g.Side, string(f.Side))
			c.same("takerOrMaker", g.TakerOrMaker, string(f.Liquidity))
			c.eq("price", g.Price, f.Price)
			c.eq("amount", g.Amount, f.Qty)
			c.eq("fee", g.Fee.Cost, f.Fee)
			c.same("timestamp", g.Timestamp, f.TimeMs)
		}
	},
	"fetchFundingHistory": func(c *cmp, got, nats json.RawMessage) {
		fs, rows := incomeRows(c, got, nats, "funding payments")
		if len(rows) == 0 {
			c.t.Fatal("no funding payment booked")
		}
		for i, p := range rows {
			if p.Type != wire.IncomeFunding || p.Amount.Sign() >= 0 {
				c.t.Errorf("the long's funding row %+v: a payment, negative", p)
			}
			c.same("symbol", fs[i].Symbol, ccxtSymbols[p.Symbol])
			c.same("code", fs[i].Code, p.Asset)
			c.eq("amount", fs[i].Amount, p.Amount)
		}
	},
	"fetchLedger": func(c *cmp, got, nats json.RawMessage) {
		ls, rows := incomeRows(c, got, nats, "ledger entries")
		sum := decimal.Zero
		for i, p := range rows {
			dir := "in"
			if p.Amount.Sign() < 0 {
				dir = "out"
			}
			c.same("currency", ls[i].Currency, p.Asset)
			c.same("direction", ls[i].Direction, dir)
			c.eq("amount (the direction has the sign)", ls[i].Amount, p.Amount.Abs())
			sum = sum.Add(p.Amount)
		}
		if b := c.e.state("alice").Balances["USDT"]; !sum.Equal(b) {
			c.t.Errorf("the ledger adds up to %s, the balance is %s", sum, b)
		}
	},
	"fetchFundingRate": func(c *cmp, got, nats json.RawMessage) {
		var f struct {
			FundingRate, MarkPrice, IndexPrice any
			FundingTimestamp                   int64
		}
		var r wire.TickerReply
		c.both(got, nats, &f, &r)
		c.eq("fundingRate", f.FundingRate, r.Ticker.FundingRate)
		c.eq("markPrice", f.MarkPrice, r.Ticker.Mark)
		c.eq("indexPrice", f.IndexPrice, r.Ticker.Index)
		c.same("fundingTimestamp", f.FundingTimestamp, r.Ticker.NextFundingMs)
	},
	"fetchTicker": func(c *cmp, got, nats json.RawMessage) {
		var tk struct{ Last, High, Low, Open, BaseVolume, QuoteVolume, Change, Percentage any }
		var r wire.TickerReply
		c.both(got, nats, &tk, &r)
		s := r.Ticker
		for _, f := range []struct {
			name string
			got  any
			want decimal.Decimal
		}{{"last", tk.Last, s.Last}, {"high", tk.High, s.High}, {"low", tk.Low, s.Low}, {"open", tk.Open, s.Open},
			{"baseVolume", tk.BaseVolume, s.Volume}, {"quoteVolume", tk.QuoteVolume, s.QuoteVolume},
			{"change", tk.Change, s.Change}, {"percentage", tk.Percentage, s.ChangePct}} {
			c.eq(f.name, f.got, f.want)
		}
	},
	"fetchOHLCV": func(c *cmp, got, nats json.RawMessage) {
		var ks [][6]float64
		var r wire.KlinesReply
		c.both(got, nats, &ks, &r)
		c.count("candles", len(ks), len(r.Klines))
		for i, k := range r.Klines {
			c.same("open time", int64(ks[i][0]), k.OpenMs)
			for j, w := range []decimal.Decimal{k.Open, k.High, k.Low, k.Close, k.Volume} {
				c.eq(fmt.Sprintf("candle %d field %d", i, j+1), ks[i][j+1], w)
			}
		}
	},
	"fetchTrades": func(c *cmp, got, nats json.RawMessage) {
		var ts []struct {
			ID, Side      string
			Price, Amount any
			Timestamp     int64
		}
		var r wire.RecentTradesReply
		c.both(got, nats, &ts, &r)
		c.count("trades", len(ts), len(r.Trades))
		for i, w := range r.Trades {
			c.same("id", ts[i].ID, fmt.Sprint(w.Seq))
			c.same("side", ts[i].Side, string(w.TakerSide))
			c.eq("price", ts[i].Price, w.Price)
			c.eq("amount", ts[i].Amount, w.Qty)
			c.same("timestamp", ts[i].Timestamp, w.TimeMs)
		}
	},
	"fetchPositions": func(c *cmp, got, nats json.RawMessage) {
		var ps []ccxtPosition
		c.decode(got, &ps)
		a := c.account(nats)
		c.positions(ps, a, true)
		for _, p := range a.Positions {
			want := wire.MarginCross
			if p.Symbol == "ETH-PERP" {
				want = wire.MarginIsolated // setMarginMode
			} else if !p.Leverage.Equal(decimal.NewFromInt(10)) {
				c.t.Errorf("BTC leverage %s, want setLeverage's 10", p.Leverage)
			}
			c.same(p.Symbol+" exchange's margin mode", p.MarginMode, want)
		}
	},
	"watchOrderBook": bookCheck,
	"watchTicker": func(c *cmp, got, nats json.RawMessage) {
		var g ccxtTicker
		var r wire.TickerReply
		c.both(got, nats, &g, &r)
		c.ticker("BTC/USDT:USDT", &g, r.Ticker)
	},
	"watchTrades": func(c *cmp, got, nats json.RawMessage) {
		var ts []struct {
			ID, Side      string
			Price, Amount any
		}
		var r wire.RecentTradesReply
		c.both(got, nats, &ts, &r)
		if len(ts) == 0 {
			c.t.Fatal("no trade watched")
		}
		for _, g := range ts {
			i := slices.IndexFunc(r.Trades, func(w wire.Trade) bool { return fmt.Sprint(w.Seq) == g.ID })
			if i < 0 {
				c.t.Errorf("watched trade %s is not among the exchange's", g.ID)
				continue
			}
			c.same("side", g.Side, string(r.Trades[i].TakerSide))
			c.eq("price", g.Price, r.Trades[i].Price)
			c.eq("amount", g.Amount, r.Trades[i].Qty)
		}
	},
	"watchOrders": func(c *cmp, got, nats json.RawMessage) {
		var os []ccxtOrder
		c.decode(got, &os)
		if len(os) != 1 {
			c.t.Fatalf("watched %d updates of the order, want 1", len(os))
		}
		c.order(&os[0], c.one(nats))
	},
	"watchTickers":        allTickersCheck,
	"watchTickers ticker": allTickersCheck,
	"watchLiquidations": func(c *cmp, got, nats json.RawMessage) {
		var ls []struct {
			Symbol, Side     string
			Contracts, Price any
		}
		var r wire.AccountReply
		c.both(got, nats, &ls, &r)
		if len(ls) != 1 || r.Account == nil || len(r.Account.Positions) != 1 {
			c.t.Fatalf("liquidations %s, bob before %s", got, nats)
		}
		p := r.Account.Positions[0]
		c.same("symbol", ls[0].Symbol, "ETH/USDT:USDT")
		c.same("side (a short's liquidation buys)", ls[0].Side, "buy")
		c.eq("contracts (the position)", ls[0].Contracts, p.Qty)
		c.eq("price (the position's bankruptcy price)", ls[0].Price, p.BankruptcyPrice)
	},
	"watchPositions": func(c *cmp, got, nats json.RawMessage) {
		var ps []ccxtPosition
		c.decode(got, &ps)
		a := c.account(nats)
		a.Positions = slices.DeleteFunc(a.Positions, func(p wire.Position) bool { return p.Symbol != "BTC-PERP" })
		c.positions(ps, a, false)
	},
}
