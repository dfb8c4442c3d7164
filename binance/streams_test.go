package binance_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// combined reads a /stream connection's {"stream","data"} messages,
// keeping those of the streams not being waited for.
type combined struct {
	*wsClient
	kept map[string][]json.RawMessage
}

// next reads until a message of stream comes that match accepts (with
// its data decoded into out, a fresh value each time).
func (c combined) next(stream string, out func() any, match func() bool) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		var data json.RawMessage
		if q := c.kept[stream]; len(q) > 0 {
			data, c.kept[stream] = q[0], q[1:]
		} else {
			_, msg, err := c.c.Read(ctx)
			if err != nil {
				c.t.Fatalf("%s: %v", stream, err)
			}
			var m struct {
				Stream string          `json:"stream"`
				Data   json.RawMessage `json:"data"`
			}
			if json.Unmarshal(msg, &m) != nil {
				continue
			}
			if m.Stream != stream {
				c.kept[m.Stream] = append(c.kept[m.Stream], m.Data)
				continue
			}
			data = m.Data
		}
		if err := json.Unmarshal(data, out()); err != nil {
			c.t.Fatalf("%s: %v: %s", stream, err, data)
		}
		if match() {
			return
		}
	}
}

type depthEvent struct {
	E    string      `json:"e"`
	Time int64       `json:"E"` // else "E" would fill e: json matches names in either case
	S    string      `json:"s"`
	U    uint64      `json:"U"`
	Last uint64      `json:"u"`
	PU   uint64      `json:"pu"`
	Bids [][2]string `json:"b"`
	Asks [][2]string `json:"a"`
}

// TestPartialDepthTickersLiquidations: <symbol>@depth<levels>[@100ms] is
// the book's top levels (u its seq, pu the previous event's u);
// !ticker@arr and !miniTicker@arr carry every symbol's 24-hour ticker;
// <symbol>@forceOrder and !forceOrder@arr the liquidation the exchange
// announces on px.md.<sym>.liquidations.
func TestPartialDepthTickersLiquidations(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.deposit("mm", "1000000")
	e.deposit("bob", "60")
	e.index("BTC-PERP", "30000")
	e.index("ETH-PERP", "2000")
	e.ladder("BTC-PERP", 30000, 10, 0.1, 7)
	ws := "ws://" + strings.TrimPrefix(e.base, "http://")
	for _, bad := range []string{"btcusdt@depth7", "btcusdt@depth5@250ms", "btcusdt@depth5@1s", "!forceOrder@arr@1s"} {
		c := dial(t, ws+"/ws")
		c.write(map[string]any{"method": "SUBSCRIBE", "params": []string{bad}, "id": 1})
		c.next(bad+"'s refusal", func(m map[string]any) bool { return m["id"] == 1.0 && m["error"] != nil })
	}

	c := combined{dial(t, ws+"/stream?streams=btcusdt@depth5@100ms/btcusdt@depth10/!ticker@arr/!miniTicker@arr/btcusdt@forceOrder/!forceOrder@arr"),
		map[string][]json.RawMessage{}}
	depth := func(levels int) wire.DepthReply {
		var d wire.DepthReply
		e.req(e.subj.Depth("BTC-PERP"), map[string]int{"levels": levels}, &d)
		return d
	}
	check := func(stream string, levels int) depthEvent {
		t.Helper()
		want := depth(levels)
		var ev depthEvent
		c.next(stream, func() any { ev = depthEvent{}; return &ev }, func() bool { return ev.Last == want.Seq })
		if ev.E != "depthUpdate" || ev.S != "BTCUSDT" || len(ev.Bids) != len(want.Bids) || len(ev.Asks) != len(want.Asks) {
			t.Fatalf("%s: %+v, want the exchange's %d levels %+v", stream, ev, levels, want)
		}
		for i, l := range want.Bids {
			if ev.Bids[i] != [2]string{l.Price().String(), l.Qty().String()} {
				t.Errorf("%s bid %d: %v, want %v", stream, i, ev.Bids[i], l)
			}
		}
		for i, l := range want.Asks {
			if ev.Asks[i] != [2]string{l.Price().String(), l.Qty().String()} {
				t.Errorf("%s ask %d: %v, want %v", stream, i, ev.Asks[i], l)
			}
		}
		return ev
	}
	first := check("btcusdt@depth5@100ms", 5)
	if len(first.Bids) != 5 || first.Bids[0][0] != "29990" || first.Asks[4][0] != "30050" {
		t.Errorf("depth5: %+v", first)
	}
	if d10 := check("btcusdt@depth10", 10); len(d10.Bids) != 7 { // the whole ladder
		t.Errorf("depth10: %d bids, want 7", len(d10.Bids))
	}
	mustOK(t, "a new best bid", e.place("mm", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit,
		Price: dec(29995), Qty: dec(0.2)}).Reply)
	next := check("btcusdt@depth5@100ms", 5)
	if next.PU != first.Last || next.U != first.Last+1 || next.Bids[0] != [2]string{"29995", "0.2"} {
		t.Errorf("the next depth5: U %d pu %d %v after u %d", next.U, next.PU, next.Bids, first.Last)
	}

	// The all-market tickers: both symbols, as their own tickers say.
	for _, s := range []struct{ stream, event string }{{"!ticker@arr", "24hrTicker"}, {"!miniTicker@arr", "24hrMiniTicker"}} {
		seen := map[string]map[string]any{}
		var evs []map[string]any
		c.next(s.stream, func() any { evs = nil; return &evs }, func() bool {
			for _, ev := range evs {
				seen[ev["s"].(string)] = ev
			}
			return len(seen) == 2
		})
		for bn, sym := range map[string]string{"BTCUSDT": "BTC-PERP", "ETHUSDT": "ETH-PERP"} {
			var tk wire.TickerReply
			e.req(e.subj.Ticker(sym), map[string]string{}, &tk)
			ev := seen[bn]
			if ev["e"] != s.event || ev["c"] != tk.Ticker.Last.String() || ev["o"] != tk.Ticker.Open.String() ||
				ev["v"] != tk.Ticker.Volume.String() || (s.event == "24hrTicker") != (ev["P"] != nil) {
				t.Errorf("%s %s: %v, the exchange's ticker %+v", s.stream, bn, ev, tk.Ticker)
			}
		}
	}

	// bob, long 0.05 at 50x with 60 USDT, is liquidated at 28 000.
	liqs := make(chan wire.LiquidationNotice, 4)
	sub, err := e.nc.Subscribe(e.subj.Liquidations("BTC-PERP"), func(m *nats.Msg) {
		var l wire.LiquidationNotice
		if json.Unmarshal(m.Data, &l) == nil {
			liqs <- l
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	bob := e.client("bobKey0123456789", "bobSecret0123456789abcdefghijklmnop")
	bob.ok(http.MethodPost, "/fapi/v1/leverage", vals("symbol", "BTCUSDT", "leverage", "50"), nil)
	bob.ok(http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "MARKET", "quantity", "0.05"), nil)
	e.index("BTC-PERP", "28000")
	var notice wire.LiquidationNotice
	select {
	case notice = <-liqs:
	case <-time.After(wait):
		t.Fatal("no liquidation on NATS")
	}
	for _, stream := range []string{"btcusdt@forceOrder", "!forceOrder@arr"} {
		var raw map[string]any
		c.next(stream, func() any { raw = nil; return &raw }, func() bool { return true })
		o, _ := raw["o"].(map[string]any)
		want := map[string]any{"s": "BTCUSDT", "S": "SELL", "o": "LIMIT", "f": "IOC", "q": "0.05", "X": "FILLED", "l": "0.05", "z": "0.05",
			"p": notice.BankruptcyPrice.String(), "ap": notice.BankruptcyPrice.String(), "T": float64(notice.TimeMs)}
		for k, v := range want {
			if o[k] != v {
				t.Errorf("%s: o.%s = %v, want %v (%v)", stream, k, o[k], v, raw)
			}
		}
		if raw["e"] != "forceOrder" || !decimal.RequireFromString(o["p"].(string)).IsPositive() {
			t.Errorf("%s: %v", stream, raw)
		}
	}
	e.audit()
}

// TestPartialDepthUntouchedBook: a book that never changed (seq 0) still
// gets its first partial-depth event, its empty top levels: a bot that
// waits for it before quoting on a new market waited for ever.
func TestPartialDepthUntouchedBook(t *testing.T) {
	e := start(t, `{`+usersJSON+`}`)
	e.index("BTC-PERP", "30000")
	c := dial(t, "ws://"+strings.TrimPrefix(e.base, "http://")+"/ws/btcusdt@depth5@100ms")
	m := c.next("depth5 of an untouched book", event("depthUpdate"))
	if b, a := m["b"].([]any), m["a"].([]any); len(b) != 0 || len(a) != 0 || m["u"] != float64(0) || m["pu"] != float64(0) {
		t.Fatalf("first event %v, want empty levels at u 0", m)
	}
}
