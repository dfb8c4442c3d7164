package binance_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// walletsJSON: XBTUSD (inverse, settled in BTC) first, so the exchange's
// primary asset (the top-level equity and available of state) is BTC;
// BTC-PERP, the only symbol the face serves, settles in USDT.
const walletsJSON = `{"symbols":[
 {"symbol":"XBTUSD","quote":"USD","contract":"inverse","settle":"BTC","tick":"0.5","lot":"1","max_leverage":"100",
  "mm_tiers":[{"max_notional":"1000","mmr":"0.01"}],"maker_fee":"0","taker_fee":"0","liquidation_fee":"0","price_band":"0.5","funding":false},
 {"symbol":"BTC-PERP","quote":"USDT","tick":"0.1","lot":"0.001","max_leverage":"100",
  "mm_tiers":[{"max_notional":"1000000","mmr":"0.01"}],"maker_fee":"0","taker_fee":"0","liquidation_fee":"0","price_band":"0.5","funding":false}],
 ` + usersJSON + `}`

// TestWallets: an account holding an inverse position (not served) and a
// USDT one. positionRisk (v2, v3), account and balance show the USDT
// position only, with USDT's wallet (not the primary BTC one's available),
// one asset row, and do not crash on the position they do not serve.
func TestWallets(t *testing.T) {
	e := start(t, walletsJSON)
	for _, acct := range []string{"alice", "bob"} {
		e.depositIn(acct, "USDT", "10000")
		e.depositIn(acct, "BTC", "2")
	}
	e.index("XBTUSD", "10000")
	e.index("BTC-PERP", "30000")
	trade := func(sym, price, qty string) {
		t.Helper()
		mustOK(t, "maker", e.place("bob", wire.PlaceOrder{Symbol: sym, Side: wire.Sell, Type: wire.Limit,
			Price: decimal.RequireFromString(price), Qty: decimal.RequireFromString(qty)}).Reply)
		mustOK(t, "taker", e.place("alice", wire.PlaceOrder{Symbol: sym, Side: wire.Buy, Type: wire.Limit,
			Price: decimal.RequireFromString(price), Qty: decimal.RequireFromString(qty), TIF: wire.IOC}).Reply)
	}
	trade("XBTUSD", "10000", "5000")
	trade("BTC-PERP", "30000", "0.1")
	// A resting order takes some of USDT's available.
	mustOK(t, "resting", e.place("alice", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit,
		Price: decimal.RequireFromString("29000"), Qty: decimal.RequireFromString("0.1")}).Reply)
	st := e.state("alice")
	usdt, btc := st.Wallets["USDT"], st.Wallets["BTC"]
	if len(st.Positions) != 2 || usdt.Available.Equal(btc.Available) || !st.Available.Equal(btc.Available) {
		t.Fatalf("the setting is not what the test needs: %+v", st)
	}
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")

	for _, path := range []string{"/fapi/v2/positionRisk", "/fapi/v3/positionRisk"} {
		var rows []map[string]any
		alice.ok(http.MethodGet, path, nil, &rows)
		if len(rows) != 1 || rows[0]["symbol"] != "BTCUSDT" || rows[0]["positionAmt"] != "0.1" {
			t.Fatalf("%s: want the BTCUSDT position only: %v", path, rows)
		}
		if path == "/fapi/v3/positionRisk" && rows[0]["marginAsset"] != "USDT" {
			t.Fatalf("%s: marginAsset %v", path, rows[0]["marginAsset"])
		}
	}
	var bal []map[string]any
	alice.ok(http.MethodGet, "/fapi/v2/balance", nil, &bal)
	if len(bal) != 1 || bal[0]["asset"] != "USDT" || bal[0]["balance"] != usdt.Balance.String() ||
		bal[0]["availableBalance"] != usdt.Available.String() {
		t.Fatalf("balance: %v, want USDT's wallet %+v", bal, usdt)
	}
	for _, path := range []string{"/fapi/v2/account", "/fapi/v3/account"} {
		var acc struct {
			Available string           `json:"availableBalance"`
			Margin    string           `json:"totalMarginBalance"`
			Assets    []map[string]any `json:"assets"`
			Positions []map[string]any `json:"positions"`
		}
		alice.ok(http.MethodGet, path, nil, &acc)
		if acc.Available != usdt.Available.String() || acc.Margin != usdt.Equity.String() || len(acc.Assets) != 1 ||
			acc.Assets[0]["asset"] != "USDT" || acc.Assets[0]["availableBalance"] != usdt.Available.String() ||
			len(acc.Positions) != 1 || acc.Positions[0]["symbol"] != "BTCUSDT" {
			t.Fatalf("%s: %+v, want USDT's wallet %+v and the BTCUSDT position", path, acc, usdt)
		}
	}
	e.audit()
}

// TestFlatSymbolLeverage: v2 positionRisk and account list a symbol
// without a position with the leverage and margin type set there (as
// Binance does, and as a bot reads them back); v3 lists positions only.
func TestFlatSymbolLeverage(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	alice.ok(http.MethodPost, "/fapi/v1/leverage", vals("symbol", "BTCUSDT", "leverage", "7"), nil)
	alice.ok(http.MethodPost, "/fapi/v1/marginType", vals("symbol", "BTCUSDT", "marginType", "ISOLATED"), nil)
	var rows []map[string]any
	alice.ok(http.MethodGet, "/fapi/v2/positionRisk", vals("symbol", "BTCUSDT"), &rows)
	if len(rows) != 1 || rows[0]["symbol"] != "BTCUSDT" || rows[0]["positionAmt"] != "0" || rows[0]["leverage"] != "7" ||
		rows[0]["marginType"] != "isolated" || rows[0]["isolated"] != true {
		t.Fatalf("v2 positionRisk of a flat symbol: %v", rows)
	}
	alice.ok(http.MethodGet, "/fapi/v2/positionRisk", nil, &rows)
	if len(rows) != len(e.cfg.Symbols) {
		t.Fatalf("v2 positionRisk: %d rows, want one per symbol (%d): %v", len(rows), len(e.cfg.Symbols), rows)
	}
	alice.ok(http.MethodGet, "/fapi/v3/positionRisk", nil, &rows)
	if len(rows) != 0 {
		t.Fatalf("v3 positionRisk lists positions only: %v", rows)
	}
	// The account's positions likewise: every symbol in v2, a bot reads
	// positions[i].leverage there.
	for v, want := range map[string]int{"v2": len(e.cfg.Symbols), "v3": 0} {
		var acc struct{ Positions []map[string]any }
		alice.ok(http.MethodGet, "/fapi/"+v+"/account", nil, &acc)
		i := slices.IndexFunc(acc.Positions, func(p map[string]any) bool { return p["symbol"] == "BTCUSDT" })
		if len(acc.Positions) != want || want > 0 && (i < 0 || acc.Positions[i]["leverage"] != "7") {
			t.Errorf("%s account's positions: %v, want %d rows, BTCUSDT's leverage 7", v, acc.Positions, want)
		}
	}
}

// TestAccountModes: one-way positions and single-asset margin, as a bot
// reads them at start (freqtrade refuses to run on a 404 here); setting
// them to what they are is Binance's "no need to change", to true refused.
func TestAccountModes(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	for _, c := range []struct {
		path, field string
		same        int
	}{{"/fapi/v1/positionSide/dual", "dualSidePosition", -4059}, {"/fapi/v1/multiAssetsMargin", "multiAssetsMargin", -4171}} {
		var got map[string]any
		alice.ok(http.MethodGet, c.path, nil, &got)
		if v, ok := got[c.field]; !ok || v != false {
			t.Errorf("GET %s: %v", c.path, got)
		}
		for _, w := range []struct {
			params url.Values
			code   int
		}{{vals(c.field, "false"), c.same}, {vals(c.field, "true"), -1130}, {nil, -1102}} {
			status, body := alice.signed(http.MethodPost, c.path, w.params)
			var r struct{ Code int }
			if status != 400 || json.Unmarshal(body, &r) != nil || r.Code != w.code {
				t.Errorf("POST %s %v: HTTP %d %s, want code %d", c.path, w.params, status, body, w.code)
			}
		}
	}
}

// aliceBuys starts an exchange where alice (100 000 USDT) bought 0.01 BTC
// at 30010 from mm n times, and returns alice's Binance client.
func aliceBuys(t *testing.T, n int) (*env, client) {
	t.Helper()
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "100000")
	e.deposit("mm", "1000000")
	e.index("BTC-PERP", "30000")
	for range n {
		mustOK(t, "mm", e.place("mm", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit,
			Price: decimal.RequireFromString("30010"), Qty: decimal.RequireFromString("0.01")}).Reply)
		mustOK(t, "alice", e.place("alice", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit,
			Price: decimal.RequireFromString("30010"), Qty: decimal.RequireFromString("0.01"), TIF: wire.IOC}).Reply)
	}
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	return e, alice
}

// TestPagingFromStart: startTime (or fromId) pages forward, as Binance and
// ccxt's paginated fetches expect: the first limit rows from it, not the
// newest limit (which skipped rows silently).
func TestPagingFromStart(t *testing.T) {
	_, alice := aliceBuys(t, 5)
	ids := func(path, idField string, kv ...string) []float64 {
		t.Helper()
		var rows []map[string]any
		alice.ok(http.MethodGet, path, vals(append([]string{"symbol", "BTCUSDT"}, kv...)...), &rows)
		var out []float64
		for _, r := range rows {
			out = append(out, r[idField].(float64))
		}
		return out
	}
	var all []map[string]any
	alice.ok(http.MethodGet, "/fapi/v1/userTrades", vals("symbol", "BTCUSDT"), &all)
	if len(all) != 5 {
		t.Fatalf("alice's trades: %v", all)
	}
	first := strconv.FormatInt(int64(all[0]["time"].(float64)), 10)
	id := func(i int) float64 { return all[i]["id"].(float64) }
	for _, c := range []struct {
		what string
		got  []float64
		want []float64
	}{
		{"userTrades from startTime", ids("/fapi/v1/userTrades", "id", "startTime", first, "limit", "2"), []float64{id(0), id(1)}},
		{"userTrades newest", ids("/fapi/v1/userTrades", "id", "limit", "2"), []float64{id(3), id(4)}},
		{"aggTrades from startTime", ids("/fapi/v1/aggTrades", "a", "startTime", first, "limit", "2"), []float64{id(0), id(1)}},
		{"historicalTrades from fromId", ids("/fapi/v1/historicalTrades", "id", "fromId", strconv.FormatFloat(id(1), 'f', -1, 64), "limit", "2"), []float64{id(1), id(2)}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
}

// TestModifyOrder: PUT v1/order amends a resting limit order's price and
// total quantity (ccxt's editOrder), and refuses what Binance refuses.
func TestModifyOrder(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("alice", "100000")
	e.index("BTC-PERP", "30000")
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	var o map[string]any
	alice.ok(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC",
		"price", "29000", "quantity", "0.02", "newClientOrderId", "grid:7/m.1"), &o)
	id := strconv.FormatFloat(o["orderId"].(float64), 'f', -1, 64)
	var m map[string]any
	alice.ok(http.MethodPut, "/fapi/v1/order", vals("symbol", "BTCUSDT", "orderId", id, "side", "BUY", "price", "29100", "quantity", "0.01"), &m)
	if m["orderId"] != o["orderId"] || m["price"] != "29100" || m["origQty"] != "0.01" || m["status"] != "NEW" {
		t.Errorf("modified order: %v", m)
	}
	var ex wire.OrdersReply
	e.req(e.subj.AccountOrders("alice"), wire.Orders{OrderID: id}, &ex)
	if len(ex.Orders) != 1 || !ex.Orders[0].Price.Equal(decimal.RequireFromString("29100")) || !ex.Orders[0].Qty.Equal(decimal.RequireFromString("0.01")) {
		t.Errorf("the exchange's order: %+v", ex.Orders)
	}
	for _, c := range []struct {
		what string
		kv   []string
		code int
	}{
		{"no change", []string{"orderId", id, "side", "BUY", "price", "29100", "quantity", "0.01"}, -5027},
		{"the other side", []string{"orderId", id, "side", "SELL", "price", "29200", "quantity", "0.01"}, -1130},
		{"no price", []string{"orderId", id, "side", "BUY", "quantity", "0.01"}, -1102},
		{"by client id, off the tick", []string{"origClientOrderId", "grid:7/m.1", "side", "BUY", "price", "29100.05", "quantity", "0.01"}, -1013},
		{"unknown", []string{"orderId", "999999", "side", "BUY", "price", "29100", "quantity", "0.01"}, -2013},
	} {
		status, body := alice.signed(http.MethodPut, "/fapi/v1/order", vals(append([]string{"symbol", "BTCUSDT"}, c.kv...)...))
		var r struct{ Code int }
		if status != 400 || json.Unmarshal(body, &r) != nil || r.Code != c.code {
			t.Errorf("%s: HTTP %d %s, want %d", c.what, status, body, c.code)
		}
	}
}

// TestSymbolConfigAndFees: symbolConfig shows the leverage and margin type
// the account set (ccxt's fetchLeverage, fetchMarginMode), commissionRate
// the symbol's fees.
func TestSymbolConfigAndFees(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	alice := e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop")
	alice.ok(http.MethodPost, "/fapi/v1/leverage", vals("symbol", "BTCUSDT", "leverage", "7"), nil)
	alice.ok(http.MethodPost, "/fapi/v1/marginType", vals("symbol", "ETHUSDT", "marginType", "ISOLATED"), nil)
	var cfg []map[string]any
	alice.ok(http.MethodGet, "/fapi/v1/symbolConfig", nil, &cfg)
	got := map[string]string{}
	for _, r := range cfg {
		got[r["symbol"].(string)] = fmt.Sprint(r["marginType"], " ", r["leverage"])
	}
	if got["BTCUSDT"] != "CROSSED 7" || !strings.HasPrefix(got["ETHUSDT"], "ISOLATED ") || len(got) != 2 {
		t.Errorf("symbolConfig: %v", cfg)
	}
	alice.ok(http.MethodGet, "/fapi/v1/symbolConfig", vals("symbol", "ETHUSDT"), &cfg)
	if len(cfg) != 1 || cfg[0]["symbol"] != "ETHUSDT" {
		t.Errorf("symbolConfig of ETHUSDT: %v", cfg)
	}
	var fee map[string]string
	alice.ok(http.MethodGet, "/fapi/v1/commissionRate", vals("symbol", "BTCUSDT"), &fee)
	s := e.cfg.Symbols[0]
	if fee["symbol"] != "BTCUSDT" || fee["makerCommissionRate"] != s.MakerFee.String() || fee["takerCommissionRate"] != s.TakerFee.String() {
		t.Errorf("commissionRate: %v, config maker %s taker %s", fee, s.MakerFee, s.TakerFee)
	}
}

// TestIncome: GET v1/income serves the account's income rows as Binance's
// (a deposit's TRANSFER, each fill's COMMISSION with its trade id), which
// add up to the balance, filtered by incomeType and paged like Binance's.
func TestIncome(t *testing.T) {
	type bnIncome struct {
		Symbol, IncomeType, Income, Asset, Info, TradeID string
		Time                                             int64
		TranID                                           uint64
	}
	type bnTrade struct {
		ID         uint64
		Time       int64
		Commission string
	}
	e, alice := aliceBuys(t, 3)
	var rows []bnIncome
	alice.ok(http.MethodGet, "/fapi/v1/income", nil, &rows)
	var trades []bnTrade
	alice.ok(http.MethodGet, "/fapi/v1/userTrades", vals("symbol", "BTCUSDT"), &trades)
	if len(rows) != 4 || len(trades) != 3 || rows[0].IncomeType != "TRANSFER" || rows[0].Income != "100000" || rows[0].Symbol != "" || rows[0].Info != "deposit" {
		t.Fatalf("income %+v, trades %+v", rows, trades)
	}
	sum := decimal.Zero
	for i, r := range rows {
		sum = sum.Add(decimal.RequireFromString(r.Income))
		if r.TranID != uint64(i+1) || r.Asset != "USDT" {
			t.Errorf("row %d: %+v", i, r)
		}
		if i == 0 {
			continue
		}
		f := trades[i-1]
		if r.IncomeType != "COMMISSION" || r.Symbol != "BTCUSDT" || r.TradeID != strconv.FormatUint(f.ID, 10) || r.Time != f.Time ||
			!decimal.RequireFromString(r.Income).Equal(decimal.RequireFromString(f.Commission).Neg()) || r.Income == "0" {
			t.Errorf("row %d %+v, its trade %+v", i, r, f)
		}
	}
	if b := e.state("alice").Balances["USDT"]; !sum.Equal(b) {
		t.Errorf("income adds up to %s, the balance is %s", sum, b)
	}
	tranIDs := func(kv ...string) []uint64 {
		t.Helper()
		var rs []bnIncome
		alice.ok(http.MethodGet, "/fapi/v1/income", vals(kv...), &rs)
		out := []uint64{}
		for _, r := range rs {
			out = append(out, r.TranID)
		}
		return out
	}
	first := strconv.FormatInt(rows[0].Time, 10)
	for _, c := range []struct {
		what      string
		got, want []uint64
	}{
		{"COMMISSION", tranIDs("incomeType", "COMMISSION", "symbol", "BTCUSDT"), []uint64{2, 3, 4}},
		{"FUNDING_FEE", tranIDs("incomeType", "FUNDING_FEE"), []uint64{}},
		{"WELCOME_BONUS (never booked)", tranIDs("incomeType", "WELCOME_BONUS"), []uint64{}},
		{"newest", tranIDs("limit", "2"), []uint64{3, 4}},
		{"newest, page 2", tranIDs("limit", "2", "page", "2"), []uint64{1, 2}},
		{"from startTime", tranIDs("startTime", first, "limit", "3"), []uint64{1, 2, 3}},
		{"from startTime, page 2", tranIDs("startTime", first, "limit", "3", "page", "2"), []uint64{4}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	status, body := alice.signed(http.MethodGet, "/fapi/v1/income", vals("incomeType", "BONUS"))
	fails(t, "an unknown incomeType", status, body, 400, -1130)
	status, body = alice.signed(http.MethodGet, "/fapi/v1/income", vals("limit", "1001"))
	fails(t, "limit 1001", status, body, 400, -1130)
	// 20 digits match the pattern the -1100 message names: out of range.
	status, body = alice.signed(http.MethodGet, "/fapi/v1/income", vals("limit", "99999999999999999999"))
	fails(t, "limit of 20 digits", status, body, 400, -1130)
}

// TestIncomeTypeOfTwoKinds: an incomeType that is two of perpx's kinds
// (REALIZED_PNL: realized_pnl and socialized_loss) finds its rows behind
// a thousand of other kinds (history.account_income above 1 000): one read
// of every kind, filtered in the face, held none of them (review).
func TestIncomeTypeOfTwoKinds(t *testing.T) {
	e := start(t, `{`+usersJSON+`,"history":{"account_income":1100}}`)
	e.deposit("alice", "100000")
	e.deposit("mm", "1000000")
	e.index("BTC-PERP", "30000")
	for range 1000 {
		e.deposit("alice", "1")
	}
	trade := func(maker, taker string, side wire.Side, price string) {
		mustOK(t, maker, e.place(maker, wire.PlaceOrder{Symbol: "BTC-PERP", Side: side.Opposite(), Type: wire.Limit,
			Price: decimal.RequireFromString(price), Qty: decimal.RequireFromString("0.01")}).Reply)
		mustOK(t, taker, e.place(taker, wire.PlaceOrder{Symbol: "BTC-PERP", Side: side, Type: wire.Limit,
			Price: decimal.RequireFromString(price), Qty: decimal.RequireFromString("0.01"), TIF: wire.IOC}).Reply)
	}
	trade("mm", "alice", wire.Buy, "30010")
	trade("mm", "alice", wire.Sell, "30000") // alice closes at a loss of 0.1
	var rows []struct{ IncomeType, Income string }
	e.client("aliceKey0123456789", "aliceSecret0123456789abcdefghijklmnop").ok(http.MethodGet, "/fapi/v1/income",
		vals("incomeType", "REALIZED_PNL", "startTime", "1"), &rows)
	if len(rows) != 1 || rows[0].IncomeType != "REALIZED_PNL" || rows[0].Income != "-0.1" {
		t.Fatalf("REALIZED_PNL rows %+v, want alice's one close", rows)
	}
}
