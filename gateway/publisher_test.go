package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// sink is actors.Sink, restated so these tests build while actors changes;
// the exchange's wiring checks the real one at compile time.
type sink interface {
	Trade(symbol string, t *wire.Trade)
	BookUpdate(symbol string, u *wire.BookUpdate)
	Mark(symbol string, m *wire.MarkUpdate)
	FundEvent(e *wire.FundEvent)
	ADLEvent(symbol string, e *wire.ADLEvent)
	AccountEvent(account string, e *wire.AccountEvent)
}

var _ sink = (*Publisher)(nil)

// interest is actors.Interest, restated like sink.
type interest interface {
	WantsTrades(symbol string) bool
	WantsBook(symbol string) bool
	WantsAccountEvents(account string) bool
}

var _ interest = (*Publisher)(nil)

// TestPublisherInterest: on the embedded server's in-process connection the
// publisher knows which streams have a subscriber, wildcards included, as
// soon as the subscriber has flushed its subscription.
func TestPublisherInterest(t *testing.T) {
	e := newEnv(t, Options{})
	p, err := NewPublisher(e.nc, Options{Metrics: e.m})
	if err != nil {
		t.Fatal(err)
	}
	if p.interest == nil {
		t.Fatal("no interest check on an in-process connection")
	}
	if p.WantsTrades("BTC-PERP") || p.WantsBook("BTC-PERP") || p.WantsAccountEvents("bob") {
		t.Fatal("interest without a subscriber")
	}
	subscribeAll(t, e, "px.acct.*.events")
	subscribeAll(t, e, "px.md.BTC-PERP.book")
	if !p.WantsAccountEvents("bob") || !p.WantsBook("BTC-PERP") {
		t.Fatal("no interest after subscribing")
	}
	if p.WantsTrades("BTC-PERP") || p.WantsBook("ETH-PERP") {
		t.Fatal("interest in a subject nobody subscribed")
	}
	// A TCP connection cannot ask: everything is wanted.
	q, err := NewPublisher(e.cl, Options{Metrics: e.m})
	if err != nil {
		t.Fatal(err)
	}
	if !q.WantsTrades("BTC-PERP") {
		t.Fatal("a TCP publisher must publish everything")
	}
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func subscribeAll(t *testing.T, e *env, subject string) *nats.Subscription {
	t.Helper()
	sub, err := e.cl.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cl.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestPublisherSubjectsAndPayloads(t *testing.T) {
	e := newEnv(t, Options{})
	p, err := NewPublisher(e.nc, Options{Metrics: e.m})
	if err != nil {
		t.Fatal(err)
	}
	sub := subscribeAll(t, e, "px.>")
	adl := &wire.ADLEvent{Symbol: "BTC-PERP", BankruptAccount: "bob", Counterparty: "carol", Qty: dec("0.5"), Price: dec("29000"), TimeMs: 5}
	p.Trade("BTC-PERP", &wire.Trade{Symbol: "BTC-PERP", Price: dec("30000.5"), Qty: dec("0.010"), TakerSide: wire.Buy, Seq: 3, TimeMs: 1})
	p.BookUpdate("BTC-PERP", &wire.BookUpdate{Seq: 4, Bids: []wire.Level{wire.NewLevel(dec("30000"), dec("0"))}, Asks: []wire.Level{}})
	p.Mark("ETH-PERP", &wire.MarkUpdate{Symbol: "ETH-PERP", Index: dec("3300"), Mark: dec("3301.5"), FundingRate: dec("0.0001"), NextFundingMs: 9, TimeMs: 2})
	p.FundEvent(&wire.FundEvent{Seq: 1, TimeMs: 3, Asset: "USDT", Delta: dec("12.5"), Balance: dec("1012.5"), Reason: wire.ReasonLiquidationSurplus, Account: "bob", Symbol: "BTC-PERP"})
	p.ADLEvent("BTC-PERP", adl)
	p.AccountEvent("bob", &wire.AccountEvent{Type: wire.EventLiquidation, Seq: 8, TimeMs: 4, Liquidation: &wire.Liquidation{Symbol: "BTC-PERP", Side: wire.Long,
		Qty: dec("1"), MarkPrice: dec("29500"), LiquidationPrice: dec("29600"), BankruptcyPrice: dec("29000"), Kind: wire.LiquidationPartial}})
	p.AccountEvent("carol", &wire.AccountEvent{Type: wire.EventADL, Seq: 2, TimeMs: 5, ADL: adl})
	p.AccountEvent("alice", benchFill)
	p.AccountEvent("dave", &wire.AccountEvent{Type: wire.EventFunding, Seq: 1, TimeMs: 6, Funding: &wire.Funding{Symbol: "ETH-PERP",
		Rate: dec("-0.000125"), Payment: dec("0.41250"), Side: wire.Short, Qty: dec("1.00"), MarkPrice: dec("3300")}})
	want := []struct{ subject, data string }{
		{"px.md.BTC-PERP.trades", `{"symbol":"BTC-PERP","price":"30000.5","qty":"0.01","taker_side":"buy","seq":3,"time_ms":1}`},
		{"px.md.BTC-PERP.book", `{"seq":4,"bids":[["30000","0"]],"asks":[]}`},
		{"px.md.ETH-PERP.mark", `{"symbol":"ETH-PERP","index":"3300","mark":"3301.5","funding_rate":"0.0001","next_funding_ms":9,"time_ms":2}`},
		{"px.fund.events", `{"seq":1,"time_ms":3,"asset":"USDT","delta":"12.5","balance":"1012.5","reason":"liquidation_surplus","account":"bob","symbol":"BTC-PERP"}`},
		{"px.adl.BTC-PERP.events", `{"symbol":"BTC-PERP","bankrupt_account":"bob","counterparty":"carol","qty":"0.5","price":"29000","time_ms":5}`},
		{"px.md.BTC-PERP.liquidations", `{"symbol":"BTC-PERP","side":"long","qty":"1","mark_price":"29500","liquidation_price":"29600","bankruptcy_price":"29000","kind":"partial","time_ms":4}`},
		{"px.acct.bob.events", `{"type":"liquidation","seq":8,"time_ms":4,"liquidation":{"symbol":"BTC-PERP","side":"long","qty":"1","mark_price":"29500","liquidation_price":"29600","bankruptcy_price":"29000","kind":"partial"}}`},
		{"px.acct.carol.events", `{"type":"adl","seq":2,"time_ms":5,"adl":{"symbol":"BTC-PERP","bankrupt_account":"bob","counterparty":"carol","qty":"0.5","price":"29000","time_ms":5}}`},
		{"px.acct.alice.events", `{"type":"fill","seq":981,"time_ms":1718000000123,"order":{"order_id":"17","client_order_id":"c-1042",` +
			`"account":"alice","symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.01","filled_qty":"0.004",` +
			`"avg_price":"30000.45","status":"partially_filled","tif":"GTC","reduce_only":false,"post_only":false,"stp":"cancel_taker","created_ms":1718000000100,"updated_ms":0},` +
			`"fill":{"symbol":"BTC-PERP","order_id":"17","client_order_id":"c-1042","side":"buy","price":"30000.4","qty":"0.002",` +
			`"fee":"0.0300004","liquidity":"taker","realized_pnl":"-1.25","trade_seq":4411,"time_ms":0}}`},
		{"px.acct.dave.events", `{"type":"funding","seq":1,"time_ms":6,"funding":{"symbol":"ETH-PERP","rate":"-0.000125","payment":"0.4125",` +
			`"side":"short","qty":"1","mark_price":"3300"}}`},
	}
	for _, w := range want {
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for %s: %v", w.subject, err)
		}
		if msg.Subject != w.subject || string(msg.Data) != w.data {
			t.Errorf("got  %s %s\nwant %s %s", msg.Subject, msg.Data, w.subject, w.data)
		}
	}
	for name, c := range map[string]struct {
		got, want float64
	}{
		"fund balance": {value(e.m.fundBalance.WithLabelValues("USDT")), 1012.5},
		"adl events":   {value(e.m.adlEvents.WithLabelValues("BTC-PERP")), 1},
		"liquidations": {value(e.m.liquidations.WithLabelValues("BTC-PERP")), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
}

// Actors call the sink from many goroutines at once; each message must
// carry its own payload, intact, although the encoding buffers are reused.
func TestPublisherConcurrentUse(t *testing.T) {
	e := newEnv(t, Options{})
	p, err := NewPublisher(e.nc, Options{Metrics: e.m})
	if err != nil {
		t.Fatal(err)
	}
	sub := subscribeAll(t, e, "px.md.*.trades")
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			sym := []string{"BTC-PERP", "ETH-PERP"}[w%2]
			for i := range each {
				p.Trade(sym, &wire.Trade{Symbol: sym, Price: dec(strings.Repeat("9", w+1)), Qty: dec("1"), TakerSide: wire.Sell, Seq: uint64(i)})
			}
		})
	}
	wg.Wait()
	for i := range workers * each {
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("got %d of %d trades: %v", i, workers*each, err)
		}
		var tr wire.Trade
		if err := json.Unmarshal(msg.Data, &tr); err != nil || string(wire.Encode(&tr)) != string(msg.Data) ||
			msg.Subject != subj.Trades(tr.Symbol) || len(tr.Price.String()) > workers {
			t.Fatalf("%s: corrupt trade %s (%v)", msg.Subject, msg.Data, err)
		}
	}
}

// A publish encodes into a pooled buffer: its only allocation is the
// subject. AllocsPerRun counts the whole process, the embedded server's
// read buffers included, hence the margin; encoding/json made 25.
func TestPublisherAllocs(t *testing.T) {
	e := newEnv(t, Options{})
	p, err := NewPublisher(e.nc, Options{Metrics: e.m})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() { p.AccountEvent("alice", benchFill) }); n > 2 {
		t.Fatalf("%v allocations per account event", n)
	}
}

func TestMetricsAndPprofOverHTTP(t *testing.T) {
	e := newEnv(t, Options{})
	e.req(subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"-1"}`)
	e.req(subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1"}`)
	unregister := e.m.RegisterMailbox("book/BTC-PERP", func() int { return 7 })
	mux := http.NewServeMux()
	mux.Handle("/metrics", e.m.Handler())
	mux.Handle("/debug/pprof/", Pprof())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		return string(body)
	}
	body := get("/metrics")
	for _, line := range []string{
		`perpx_rejects_total{code="INVALID_QTY",endpoint="order.place"} 1`,
		`perpx_orders_total{outcome="accepted"} 1`,
		`perpx_orders_total{outcome="rejected"} 1`,
		`perpx_request_duration_seconds_count{endpoint="order.place"} 2`,
		`perpx_mailbox_depth{actor="book/BTC-PERP"} 7`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	unregister()
	if strings.Contains(get("/metrics"), "perpx_mailbox_depth{") {
		t.Error("mailbox gauge still exported after unregister")
	}
	if !strings.Contains(get("/debug/pprof/"), "goroutine") {
		t.Error("/debug/pprof/ index missing")
	}
	get("/debug/pprof/cmdline")
}

// TestPublisherAnonymousWithUsers: with users, whom the permissions confine
// to their own accounts, the public fund and ADL streams name nobody (who
// was liquidated or deleveraged is those accounts' own news, on their
// events); the accounts' own events keep the names.
func TestPublisherAnonymousWithUsers(t *testing.T) {
	e := newEnv(t, Options{})
	p, err := NewPublisher(e.nc, Options{Metrics: e.m, Users: []config.User{{User: "alice", Password: "pw", Account: "alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	sub := subscribeAll(t, e, "px.>")
	adl := &wire.ADLEvent{Symbol: "BTC-PERP", BankruptAccount: "bob", Counterparty: "carol", Qty: dec("0.5"), Price: dec("29000"), TimeMs: 5}
	p.FundEvent(&wire.FundEvent{Seq: 1, TimeMs: 3, Asset: "USDT", Delta: dec("12.5"), Balance: dec("1012.5"), Reason: wire.ReasonLiquidationSurplus, Account: "bob", Symbol: "BTC-PERP"})
	p.ADLEvent("BTC-PERP", adl)
	p.AccountEvent("carol", &wire.AccountEvent{Type: wire.EventADL, Seq: 2, TimeMs: 5, ADL: adl})
	for _, w := range []struct{ subject, data string }{
		{"px.fund.events", `{"seq":1,"time_ms":3,"asset":"USDT","delta":"12.5","balance":"1012.5","reason":"liquidation_surplus","symbol":"BTC-PERP"}`},
		{"px.adl.BTC-PERP.events", `{"symbol":"BTC-PERP","bankrupt_account":"","counterparty":"","qty":"0.5","price":"29000","time_ms":5}`},
		{"px.acct.carol.events", `{"type":"adl","seq":2,"time_ms":5,"adl":{"symbol":"BTC-PERP","bankrupt_account":"bob","counterparty":"carol","qty":"0.5","price":"29000","time_ms":5}}`},
	} {
		msg, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for %s: %v", w.subject, err)
		}
		if msg.Subject != w.subject || string(msg.Data) != w.data {
			t.Errorf("got  %s %s\nwant %s %s", msg.Subject, msg.Data, w.subject, w.data)
		}
	}
}
