package binance_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestLookupFollowsPlace: a bot that looks its order up right behind the
// place (ccxt's fetchOrder or fetchOpenOrder after a createOrder that timed
// out or was not awaited; the cancel of an algo order, which looks it up
// first) finds it while the exchange is busy with others' requests. Each
// pair sends its GET v1/order, GET v1/openOrder or DELETE v1/algoOrder once
// the face has sent the place to the exchange (seen on NATS), before the
// place is answered. Looked up on orders or state, subscriptions of their
// own, lookups overtook their place in 8 runs of 10 (up to 200 of a round's
// 400 requests answered -2013 or -2011); on order.query they ride the order
// requests' subscription behind the place.
func TestLookupFollowsPlace(t *testing.T) {
	const rounds, pairs = 3, 200
	e, alice := batchEnv(t, "")
	// A transport of its own, its idle connections closed before the face
	// stops: one dialed but never used holds the face's Shutdown for 5 s.
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * pairs}
	t.Cleanup(tr.CloseIdleConnections)
	alice.from = &http.Client{Transport: tr}
	sent := spyPlaces(t, e, "alice")
	defer flood(t, e, "bob")()
	for r := range rounds {
		var wg sync.WaitGroup
		missed := make(chan string, 2*pairs)
		do := func(method, path string, v url.Values) {
			defer wg.Done()
			if status, body := alice.signed(method, path, v); status != http.StatusOK {
				missed <- fmt.Sprintf("%s %s %s: HTTP %d %s", method, path, v.Encode(), status, body)
			}
		}
		for k := range pairs {
			cid := fmt.Sprintf("q-%d-%d", r, k)
			wg.Add(2)
			place, method, look := "/fapi/v1/order", http.MethodGet, "/fapi/v1/order"
			var pv, lv url.Values
			switch k % 3 {
			case 0: // an IOC bid with nothing to take: it expires at once
				pv = vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "IOC",
					"quantity", "0.01", "price", "29000", "newClientOrderId", cid)
				lv = vals("symbol", "BTCUSDT", "origClientOrderId", cid)
			case 1: // a resting bid
				pv = vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", "GTC",
					"quantity", "0.01", "price", "29000", "newClientOrderId", cid)
				lv = vals("symbol", "BTCUSDT", "origClientOrderId", cid)
				look = "/fapi/v1/openOrder"
			case 2: // a stop, canceled
				place, pv = "/fapi/v1/algoOrder", vals("algoType", "CONDITIONAL", "symbol", "BTCUSDT", "side", "SELL",
					"type", "STOP_MARKET", "triggerPrice", "25000", "quantity", "0.01", "clientAlgoId", cid)
				method, look, lv = http.MethodDelete, "/fapi/v1/algoOrder", vals("clientAlgoId", cid)
			}
			go do(http.MethodPost, place, pv)
			go func() {
				<-sent(cid)
				do(method, look, lv)
			}()
		}
		wg.Wait()
		close(missed)
		n := 0
		for m := range missed {
			if n++; n <= 3 {
				t.Error(m)
			}
		}
		if n > 0 {
			t.Fatalf("round %d: %d of %d requests failed", r, n, 2*pairs)
		}
	}
}

// spyPlaces watches acct's order.place requests: sent(cid) is closed once
// the place of that client order id is on its way to the exchange.
func spyPlaces(t *testing.T, e *env, acct string) (sent func(cid string) <-chan struct{}) {
	t.Helper()
	var mu sync.Mutex
	chans := map[string]chan struct{}{}
	ch := func(cid string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		c, ok := chans[cid]
		if !ok {
			c = make(chan struct{})
			chans[cid] = c
		}
		return c
	}
	sub, err := e.nc.Subscribe(e.subj.OrderPlace(acct), func(m *nats.Msg) {
		var p struct {
			ClientOrderID string `json:"client_order_id"`
		}
		if json.Unmarshal(m.Data, &p) == nil {
			close(ch(p.ClientOrderID))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return func(cid string) <-chan struct{} { return ch(cid) }
}

// flood keeps the order requests' subscription busy with acct's lookups
// of an order it never placed (a busy exchange) until the returned stop:
// 20 000 in flight, enough to queue a place for milliseconds, a bound so
// that the queue does not outgrow the face's timeout.
func flood(t *testing.T, e *env, acct string) (stop func()) {
	t.Helper()
	slots := make(chan struct{}, 20000)
	inbox := nats.NewInbox()
	sub, err := e.nc.Subscribe(inbox, func(*nats.Msg) { <-slots })
	if err != nil {
		t.Fatal(err)
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		ask := []byte(`{"client_order_id":"none"}`)
		for {
			select {
			case <-quit:
				return
			case slots <- struct{}{}:
			}
			if err := e.nc.PublishRequest(e.subj.OrderQuery(acct), inbox, ask); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	return func() { close(quit); <-done; _ = sub.Unsubscribe() }
}
