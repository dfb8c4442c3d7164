package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/natsrv"
	"github.com/perpx/perpx/web"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

const btc = "BTC-PERP"

// ladderHas is a JavaScript test that the ladder's side shows price.
func ladderHas(side, price string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#%s .lrow")].some(r => r.dataset.price === %q)`, side, price)
}

// The scenario on the demo symbols, as a person would go through
// it in a real browser: the book fills in and updates, an account name
// logs in, demo money arrives, a limit order shows in the open orders and
// is canceled, refused orders say why next to the field that caused it,
// an order that takes liquidity opens a position whose liquidation price is
// the one the preview promised and the one `state` reports, and moving the
// index liquidates it: the liquidation, the fund's change and its history
// show. Then the same page at phone width, and the book under 100+
// updates a second.
func TestTradingPage(t *testing.T) {
	browser := newBrowser(t)
	clock := newLagClock(90 * time.Minute)
	e := startExchange(t, nil, clock.now)
	e.history(clock, decimal.NewFromInt(30000))
	e.index(btc, "30000")
	e.index("ETH-PERP", "2000")
	e.deposit("mm", "10000000")
	for _, o := range []struct {
		side       wire.Side
		price, qty string
	}{{wire.Sell, "30010.0", "3.000"}, {wire.Sell, "30012.5", "0.420"}, {wire.Sell, "30015.0", "0.800"}, {wire.Sell, "30020.0", "1.000"},
		{wire.Sell, "30027.5", "0.350"}, {wire.Sell, "30035.5", "0.800"}, {wire.Sell, "30042.0", "1.200"}, {wire.Sell, "30050.0", "2.000"},
		{wire.Buy, "29990.0", "1.000"}, {wire.Buy, "29987.5", "0.300"}, {wire.Buy, "29980.0", "1.000"}, {wire.Buy, "29975.0", "0.450"},
		{wire.Buy, "29962.5", "0.600"}, {wire.Buy, "29955.0", "1.500"}, {wire.Buy, "29948.0", "0.700"}, {wire.Buy, "29940.0", "2.500"}} {
		e.limit("mm", btc, o.side, o.price, o.qty)
	}

	p := newTab(t, browser, e.page, 1280, 800)
	p.until("the book's snapshot", ladderHas("asks", "30010.0")+" && "+ladderHas("bids", "29962.5"))
	e.limit("mm", btc, wire.Buy, "29995.0", "0.500")
	p.until("a book update", ladderHas("bids", "29995.0"))

	// The open demo asks only for an account name; the faucet deposits.
	p.fill("#acct-input", "alice")
	p.click("#trade-as button")
	p.until("logged in", `document.getElementById("who").textContent === "alice" && !document.getElementById("acct-summary").hidden`)
	p.click("#faucet")
	p.until("the demo deposit", `document.getElementById("a-balance").textContent === "10,000.00"`)
	p.fill("#o-lev", "10")
	p.choose("#o-lev", "10")
	p.until("leverage 10", `window.perpx.S.levs["BTC-PERP"] === 10`)

	// A resting limit order shows in the open orders, and is canceled there.
	p.fill("#o-price", "29900.0")
	p.fill("#o-qty", "0.010")
	p.click("#submit")
	p.until("the open order", `document.getElementById("n-orders").textContent === "1"`)
	p.click(`.tabs button[data-tab="orders"]`)
	if row := p.text("#t-orders tbody tr"); !strings.Contains(row, "29,900.0") || !strings.Contains(row, "0.010") {
		t.Errorf("open order row %q", row)
	}
	if open := e.state("alice").OpenOrders; len(open) != 1 || !open[0].Price.Equal(decimal.RequireFromString("29900")) {
		t.Errorf("state's open orders %+v", open)
	}
	p.shot("open-order")
	p.click("#t-orders tbody tr button")
	p.until("the cancel", `document.getElementById("n-orders").textContent === "" && !document.getElementById("e-orders").hidden`)
	if open := e.state("alice").OpenOrders; len(open) != 0 {
		t.Errorf("after the cancel, state's open orders %+v", open)
	}
	// Two more, and "Cancel all".
	for _, price := range []string{"29800.0", "29700.0"} {
		p.fill("#o-price", price)
		p.click("#submit")
	}
	p.until("two open orders", `document.getElementById("n-orders").textContent === "2"`)
	p.click("#cancel-all")
	p.until("cancel all", `document.getElementById("n-orders").textContent === ""`)
	if open := e.state("alice").OpenOrders; len(open) != 0 {
		t.Errorf("after cancel all, state's open orders %+v", open)
	}
	// The three canceled orders are the order history, newest first.
	p.click(`.tabs button[data-tab="history"]`)
	p.until("the order history", `document.querySelectorAll("#t-history tbody tr").length === 3`)
	if row := p.text("#t-history tbody tr"); !strings.Contains(row, "canceled") || !strings.Contains(row, "29,700.0") {
		t.Errorf("the newest closed order %q, want the one at 29 700 canceled", row)
	}
	p.shot("order-history")

	// Refused orders say why, next to what caused it.
	p.fill("#o-price", "29900.05")
	p.click("#submit")
	p.until("the price's refusal", `document.getElementById("err-price").textContent !== ""`)
	if msg := p.text("#err-price"); !strings.Contains(msg, "tick") {
		t.Errorf("off-tick price refused with %q", msg)
	}
	p.fill("#o-price", "29900.0")
	p.fill("#o-qty", "100")
	p.click("#submit")
	p.until("the margin refusal", `document.getElementById("err-submit").textContent !== ""`)
	if msg := p.text("#err-submit"); !strings.Contains(strings.ToLower(msg), "margin") || p.text("#err-price") != "" {
		t.Errorf("too large an order refused with %q (price error %q)", msg, p.text("#err-price"))
	}
	p.shot("refused")

	// Taking liquidity: an IOC limit order at the best ask fills there. The
	// preview's liquidation price is the exchange's, and the positions
	// panel shows what state says, with the ADL lights.
	p.fill("#o-price", "30010.0")
	p.fill("#o-qty", "3.000")
	p.choose("#o-tif", "IOC")
	p.until("the preview", `document.getElementById("pv-liq").dataset.raw !== ""`)
	promised := eval[string](p, `document.getElementById("pv-liq").dataset.raw`)
	p.click("#submit")
	p.until("the position", `document.querySelector('#t-positions tr[data-symbol="BTC-PERP"]') !== null`)
	pos := e.state("alice").Positions
	if len(pos) != 1 || pos[0].Side != wire.Long || !pos[0].Qty.Equal(decimal.RequireFromString("3")) || !pos[0].EntryPrice.Equal(decimal.RequireFromString("30010")) {
		t.Fatalf("state's positions %+v", pos)
	}
	liq := pos[0].LiquidationPrice
	if !num(t, promised).Equal(liq) {
		t.Errorf("the preview promised liquidation at %s, the exchange says %s", promised, liq)
	}
	p.click(`.tabs button[data-tab="positions"]`)
	shown := p.text(`#t-positions tr[data-symbol="BTC-PERP"] td[data-field="liq"]`)
	if !num(t, shown).Equal(liq) {
		t.Errorf("positions panel shows liquidation at %q, state says %s", shown, liq)
	}
	lights := eval[struct {
		Rank string `json:"rank"`
		N    int    `json:"n"`
	}](p, `(() => { const a = document.querySelector('#t-positions tr[data-symbol="BTC-PERP"] [data-field="adl"]');
		return {rank: a.dataset.rank, n: a.querySelectorAll("i").length}; })()`)
	if lights.N != 5 || lights.Rank != fmt.Sprint(pos[0].ADLRank) {
		t.Errorf("ADL lights %+v, state's rank %d", lights, pos[0].ADLRank)
	}
	t.Logf("position: long 3 at 30010, liquidation %s (preview %s, shown %s), bankruptcy %s, ADL rank %d",
		liq, promised, shown, pos[0].BankruptcyPrice, pos[0].ADLRank)
	p.shot("position")

	// The margin mode cannot change under a position: said next to it, the
	// choice put back. A flat symbol's leverage set elsewhere (by a bot)
	// shows when the page turns to it (state's settings).
	p.choose("#o-mode", "isolated")
	p.until("the mode's refusal", `document.getElementById("err-mode").textContent !== ""`)
	if m := eval[string](p, `document.getElementById("o-mode").value`); m != "cross" {
		t.Errorf("after the refusal (%q) the margin select shows %q, want cross", p.text("#err-mode"), m)
	}
	e.req(e.subj.Leverage("alice"), wire.Leverage{Symbol: "ETH-PERP", Leverage: decimal.NewFromInt(7)}, nil)
	p.choose("#symbol", "ETH-PERP")
	p.until("ETH-PERP's leverage from state", `document.getElementById("o-lev").value === "7"`)
	p.choose("#symbol", btc)
	p.until("back on BTC-PERP", `document.getElementById("o-lev").value === "10" && document.querySelector('#t-positions tr[data-symbol="BTC-PERP"]') !== null`)
	t.Run("phone", func(t *testing.T) { phone(t, browser, e) })
	t.Run("laptop", func(t *testing.T) { laptop(t, browser, e) })

	// The admin moves the index to just below the liquidation price: a bid
	// there takes the position over, and what is left of its margin beyond
	// the liquidation fee (which the exchange keeps) goes to the insurance
	// fund.
	bid := liq.Sub(decimal.NewFromInt(5))
	e.req(e.subj.OrderCancelAll("mm"), wire.CancelAll{}, nil)
	e.index(btc, liq.Add(decimal.NewFromInt(1000)).StringFixed(1))
	e.limit("mm", btc, wire.Buy, bid.StringFixed(1), "3.000")
	e.index(btc, bid.StringFixed(1))
	p.until("the liquidation", `document.getElementById("n-liqs").textContent !== "" && document.getElementById("n-positions").textContent === ""`)
	p.until("the fund's change", `document.getElementById("st-fund").textContent !== "0.00 USDT" && document.querySelector("#t-fund tbody tr") !== null`)
	var fund wire.FundStateReply
	e.req(e.subj.FundState(), wire.FundState{}, &fund)
	if got := p.text("#st-fund"); !num(t, strings.TrimSuffix(got, " USDT")).Equal(fund.Balances["USDT"].Round(2)) || fund.Balances["USDT"].Sign() <= 0 {
		t.Errorf("the page shows the fund at %q, fund.state says %s", got, fund.Balances["USDT"])
	}
	p.click(`.tabs button[data-tab="liquidations"]`)
	if row := p.text("#t-liqs tbody tr"); !strings.Contains(row, btc) || !strings.Contains(row, "long") || !strings.Contains(row, "3.000") {
		t.Errorf("liquidation row %q", row)
	}
	p.shot("liquidation")
	p.click(`.tabs button[data-tab="fund"]`)
	if row := p.text("#t-fund tbody"); !strings.Contains(row, "liquidation surplus") || !strings.Contains(row, btc) {
		t.Errorf("fund history %q", row)
	}
	p.shot("fund")
	e.conserved()

	// The market maker quotes again around the new price.
	for i := int64(1); i <= 8; i++ {
		step := decimal.NewFromInt(3 * i)
		e.limit("mm", btc, wire.Sell, bid.Add(step).StringFixed(1), "0.250")
		e.limit("mm", btc, wire.Buy, bid.Sub(step).StringFixed(1), "0.250")
	}

	t.Run("smooth", func(t *testing.T) { smooth(t, browser, e) })
}

// phone: the page at 390×844 (the same profile, so logged in as alice,
// with her position open) lays out in one column with nothing wider than
// the screen.
func phone(t *testing.T, browser context.Context, e *exchange) {
	p := newTab(t, browser, e.page, 390, 844)
	p.until("the book and the position", `document.querySelector("#bids .lrow:not(.empty)") !== null && document.getElementById("n-positions").textContent === "1"`)
	m := eval[struct{ Scroll, Inner, ChartW, OrderW float64 }](p, `({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth,
		ChartW: document.getElementById("p-chart").getBoundingClientRect().width,
		OrderW: document.getElementById("p-order").getBoundingClientRect().width})`)
	if m.Scroll > m.Inner || m.Inner != 390 {
		t.Errorf("page %v px wide in a %v px window", m.Scroll, m.Inner)
	}
	if m.ChartW < 350 || m.OrderW < 350 {
		t.Errorf("at phone width the chart is %v px and the order form %v px wide, want the screen's width", m.ChartW, m.OrderW)
	}
	// A fresh page reads alice's fills from px.acct.alice.fills: her buy.
	p.until("the fills history", `window.perpx.S.fillsFromHistory === true && document.querySelectorAll("#t-fills tbody tr").length === 1`)
	if row := p.text("#t-fills tbody"); !strings.Contains(row, "30,010.0") || !strings.Contains(row, "3.000") || !strings.Contains(row, "taker") {
		t.Errorf("fills %q", row)
	}
	p.shot("phone")
}

// laptop: at 1024×768 and 1280×800 (three columns, the account tables
// under the chart between the book and the order form) the position's
// row, its close button included, fits its pane: nothing to scroll
// sideways to (as cards where the pane is narrower than the table).
func laptop(t *testing.T, browser context.Context, e *exchange) {
	for _, w := range []int64{1024, 1280} {
		p := newTab(t, browser, e.page, w, 800)
		p.until("the position", `document.getElementById("n-positions").textContent === "1"`)
		m := eval[struct{ Scroll, Client, Button, Pane float64 }](p, `(() => {
			const s = document.querySelector("#tab-positions .scroll"), pane = s.getBoundingClientRect();
			const b = document.querySelector("#t-positions tbody tr button").getBoundingClientRect();
			return {Scroll: s.scrollWidth, Client: s.clientWidth, Button: b.right, Pane: pane.right};
		})()`)
		if m.Scroll > m.Client || m.Button > m.Pane {
			t.Errorf("at %d px the positions pane is %v px wide and scrolls to %v px; the close button ends at %v, the pane at %v", w, m.Client, m.Scroll, m.Button, m.Pane)
		}
		p.shot(fmt.Sprintf("laptop-%d", w))
	}
}

// smooth drives the book at over 100 updates a second (a trader placing
// and canceling orders away from the spread) and measures in the page how
// many diffs it applied, how often it drew the ladder and how many
// animation frames ran: the ladder draws at most once a frame however many
// diffs arrive, keeps drawing, and ends equal to the exchange's book.
func smooth(t *testing.T, browser context.Context, e *exchange) {
	p := newTab(t, browser, e.page, 1280, 800)
	p.until("the book", `window.perpx.S.book && window.perpx.S.book.seq !== null && document.querySelector("#bids .lrow:not(.empty)") !== null`)
	e.deposit("flood", "1000000")
	var d wire.DepthReply
	e.req(e.subj.Depth(btc), wire.Depth{Levels: 1}, &d)
	if len(d.Bids) == 0 {
		t.Fatal("no bid to price the flood from")
	}
	base := d.Bids[0].Price().Sub(decimal.NewFromInt(200))

	eval[bool](p, `(() => { const m = window.__m = {u0: perpx.perf.bookUpdates, r0: perpx.perf.bookRenders, f: 0, t0: performance.now()};
		const loop = () => { m.f++; if (!m.stop) requestAnimationFrame(loop); }; requestAnimationFrame(loop); return true; })()`)
	// Fire and forget, 100 ticks a second: each places one order and cancels
	// the one placed ten ticks before (by client order id: an account's order
	// requests on one connection are handled in the order sent), so the
	// rate does not depend on round trips. The replies are counted.
	const ticks, dur = 100, 3 * time.Second
	var replies, refused atomic.Int64
	inbox := nats.NewInbox()
	sub, err := e.nc.Subscribe(inbox, func(m *nats.Msg) {
		replies.Add(1)
		if !strings.Contains(string(m.Data), `"ok":true`) {
			refused.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	send := func(subject string, body any) {
		data, _ := json.Marshal(body)
		if err := e.nc.PublishRequest(subject, inbox, data); err != nil {
			t.Fatal(err)
		}
	}
	// Paced by the clock, not a ticker (which drops ticks when the test is
	// starved): whatever is due by now is sent now.
	sent, start := 0, time.Now()
	for i := 0; time.Since(start) < dur; time.Sleep(2 * time.Millisecond) {
		for due := int(time.Since(start) * ticks / time.Second); i < due; i++ {
			price := base.Sub(decimal.NewFromInt(int64(i % 97)))
			send(e.subj.OrderPlace("flood"), wire.PlaceOrder{Symbol: btc, Side: wire.Buy, Type: wire.Limit,
				Price: price, Qty: decimal.RequireFromString("0.010"), ClientOrderID: fmt.Sprint("f", i)})
			sent++
			if i >= 10 {
				send(e.subj.OrderCancel("flood"), wire.Cancel{Symbol: btc, ClientOrderID: fmt.Sprint("f", i-10)})
				sent++
			}
		}
	}
	deadline := time.Now().Add(wait)
	for replies.Load() < int64(sent) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if replies.Load() != int64(sent) || refused.Load() != 0 {
		t.Fatalf("%d requests, %d replies, %d refused", sent, replies.Load(), refused.Load())
	}
	m := eval[struct{ Updates, Renders, Frames, Ms float64 }](p, `(() => { const m = window.__m; m.stop = true;
		return {Updates: perpx.perf.bookUpdates - m.u0, Renders: perpx.perf.bookRenders - m.r0, Frames: m.f, Ms: performance.now() - m.t0}; })()`)
	s := m.Ms / 1000
	t.Logf("book flood: %d requests in %v; the page applied %.0f diffs (%.0f/s), drew the ladder %.0f times (%.0f/s) in %.0f animation frames (%.0f/s)",
		sent, dur, m.Updates, m.Updates/s, m.Renders, m.Renders/s, m.Frames, m.Frames/s)
	if m.Updates/s < 100 {
		t.Errorf("the page saw %.0f book updates a second, want at least 100", m.Updates/s)
	}
	if m.Renders > m.Frames+1 {
		t.Errorf("the ladder drew %.0f times in %.0f frames: renders are not coalesced", m.Renders, m.Frames)
	}
	if m.Renders/s < 10 || m.Frames/s < 20 {
		t.Errorf("%.0f ladder draws and %.0f frames a second: not smooth", m.Renders/s, m.Frames/s)
	}

	// After the flood the page's book is the exchange's.
	want := map[string]string{}
	e.req(e.subj.Depth(btc), wire.Depth{Levels: wire.MaxDepthLevels}, &d)
	for side, levels := range map[string][]wire.Level{"bids": d.Bids, "asks": d.Asks} {
		for _, l := range levels {
			want[side+" "+l.Price().StringFixed(1)] = l.Qty().StringFixed(3)
		}
	}
	deadline = time.Now().Add(wait)
	for {
		got := eval[map[string]string](p, `(() => { const b = perpx.S.book, out = {};
			for (const side of ["bids", "asks"]) for (const [t, l] of b.levels(side)) out[side + " " + (t / 10).toFixed(1)] = (l / 1000).toFixed(3);
			return out; })()`)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page's book after the flood:\n%v\nthe exchange's:\n%v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With users in the config the page logs in with NATS user and password
// over the WebSocket and then only reads what the trader's permissions
// allow: its account, under its account's subjects.
func TestLoginWithUsers(t *testing.T) {
	browser := newBrowser(t)
	cfg, err := config.Parse([]byte(`{"users":[{"user":"alice","password":"s3cret","account":"alice"},
		{"user":"ops","password":"root-pw","admin":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := startExchange(t, cfg, nil, nats.UserInfo("ops", "root-pw"))
	e.index(btc, "30000")
	e.deposit("alice", "5000")
	e.index("ETH-PERP", "2000")
	e.deposit("mm", "100000")
	e.limit("mm", btc, wire.Sell, "30010.0", "0.100")
	e.limit("mm", "ETH-PERP", wire.Buy, "1999.25", "1.50")
	e.deposit("bob", "100000")
	e.limit("bob", btc, wire.Buy, "30010.0", "0.010") // a trade before she logs in

	p := newTab(t, browser, e.page, 1280, 800)
	p.until("the login form", `!document.getElementById("login").hidden`)
	p.fill("#l-user", "alice")
	p.fill("#l-pass", "guess")
	p.click("#login-form button")
	p.until("the refusal", `document.getElementById("l-err").textContent !== ""`)
	if msg := p.text("#l-err"); msg != "The user or password is wrong." {
		t.Errorf("wrong password says %q", msg)
	}
	p.fill("#l-pass", "s3cret")
	p.click("#login-form button")
	p.until("logged in", `document.getElementById("login").hidden && document.getElementById("a-balance").textContent === "5,000.00"`)
	p.until("the book under the account's subjects", ladderHas("asks", "30010.0"))
	// The market reads went under her account too (a trader may not ask the
	// public subjects): the tape holds the trade before her login, and the
	// chart and the fund panel show no permission error.
	p.until("the trade before the login on the tape", `document.getElementById("tape").textContent.includes("30,010.0")`)
	for _, id := range []string{"#chart-legend", "#e-fund"} {
		if txt := p.text(id); strings.Contains(txt, "ermission") {
			t.Errorf("%s says %q", id, txt)
		}
	}
	if !p.has("#faucet-row[hidden]") {
		t.Error("the faucet shows on an exchange with users (traders may not deposit)")
	}
	// Orders go under her account; another's is refused by the server.
	p.fill("#o-price", "29000.0")
	p.fill("#o-qty", "0.010")
	p.click("#submit")
	p.until("her order", `document.getElementById("n-orders").textContent === "1"`)
	raw, _ := json.Marshal(e.state("alice").OpenOrders)
	if !strings.Contains(string(raw), `"29000`) {
		t.Errorf("alice's open orders %s", raw)
	}
	// Another symbol: its own book, units and mark.
	p.choose("#symbol", "ETH-PERP")
	p.until("ETH-PERP's book", ladderHas("bids", "1999.25")+` && !`+ladderHas("asks", "30010.0"))
	if unit, mark := p.text("#u-qty"), p.text("#st-mark"); unit != "ETH" || !strings.HasPrefix(mark, "2,00") {
		t.Errorf("ETH-PERP shows size in %q and mark %q", unit, mark)
	}
}

// TestPageOnOutsideNATS: an exchange that joined an outside NATS server
// (--nats-url) has no WebSocket of its own; given that server's listener
// (--web-ws) the page connects there and shows the book. Without it the
// page is told there is none.
func TestPageOnOutsideNATS(t *testing.T) {
	browser := newBrowser(t)
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", Websocket: "127.0.0.1:-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	for _, ws := range []string{"", srv.WebsocketURL()} {
		a, err := app.Start(context.Background(), app.Options{NATSURL: srv.ClientURL(), WebWS: ws, HTTP: "127.0.0.1:0", Index: "manual"})
		if err != nil {
			t.Fatal(err)
		}
		page := "http://" + a.HTTPAddr() + "/"
		_, body := get(t, page+"config.json")
		var c web.Config
		if err := json.Unmarshal([]byte(body), &c); err != nil || c.Websocket != ws {
			t.Fatalf("--web-ws %q: config.json %s (%v)", ws, body, err)
		}
		if ws == "" {
			_ = a.Close(context.Background())
			continue
		}
		t.Cleanup(func() { _ = a.Close(context.Background()) })
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		e := &exchange{t: t, app: a, nc: nc, subj: wire.DefaultSubjects(), page: page}
		e.index(btc, "30000")
		p := newTab(t, browser, page, 1280, 800)
		// No order yet: the page says the book is empty, not one side of it.
		p.until("the empty book", `document.getElementById("spread-v").textContent === "book empty"`)
		e.deposit("mm", "1000000")
		e.limit("mm", btc, wire.Sell, "30010.0", "1.000")
		p.until("the book over the outside server's WebSocket", ladderHas("asks", "30010.0"))
		p.until("one side", `document.getElementById("spread-v").textContent === "one side empty"`)
	}
}

// TestCloseWithReduceOnly: the position's Close button closes it although
// a reduce-only take-profit already covers it (alone the close would be
// REDUCE_ONLY_REJECTED): the page cancels such orders first.
func TestCloseWithReduceOnly(t *testing.T) {
	browser := newBrowser(t)
	e := startExchange(t, nil, nil)
	e.index(btc, "30000")
	e.deposit("mm", "10000000")
	e.deposit("alice", "100000")
	e.limit("mm", btc, wire.Sell, "30010.0", "1.000")
	e.limit("mm", btc, wire.Buy, "29990.0", "1.000")
	e.limit("alice", btc, wire.Buy, "30010.0", "0.100")
	var tp wire.OrderReply
	e.req(e.subj.OrderPlace("alice"), wire.PlaceOrder{Symbol: btc, Side: wire.Sell, Type: wire.Limit, Price: decimal.RequireFromString("31000.0"),
		Qty: decimal.RequireFromString("0.100"), ReduceOnly: true}, &tp)
	if !tp.OK {
		t.Fatalf("take-profit: %v", tp.Error)
	}
	p := newTab(t, browser, e.page, 1280, 800)
	p.until("the book", ladderHas("asks", "30010.0"))
	p.fill("#acct-input", "alice")
	p.click("#trade-as button")
	p.until("the position", `document.querySelector('#t-positions tr[data-symbol="BTC-PERP"] button') !== null`)
	p.click(`#t-positions tr[data-symbol="BTC-PERP"] button`)
	p.until("closed", `document.getElementById("n-positions").textContent === ""`)
	if st := e.state("alice"); len(st.Positions) != 0 || len(st.OpenOrders) != 0 {
		t.Errorf("after Close: positions %+v, open orders %+v", st.Positions, st.OpenOrders)
	}
	e.conserved()
}
