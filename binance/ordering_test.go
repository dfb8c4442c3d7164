package binance_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// TestLookupFollowsPlace: a bot that looks its order up right behind the
// place (ccxt's fetchOrder or fetchOpenOrder after a createOrder that timed
// out or was not awaited; the cancel of an algo order, which looks it up
// first) finds it while the exchange is busy with others' requests. Each
// pair sends its GET v1/order, GET v1/openOrder or DELETE v1/algoOrder once
// the face has sent the place to the exchange (seen on NATS), before the
// place is answered. Looked up on orders, a subscription of its own,
// every lookup overtook its place (200 of 200 in each of 3 runs; 8 runs
// of 10 failed while the flood was one burst); on order.query they ride
// the order requests' subscription behind the place.
func TestLookupFollowsPlace(t *testing.T) {
	const rounds, pairs = 3, 200
	_, alice, sent := orderingEnv(t, pairs)
	for r := range rounds {
		ps := make([]pipePair, pairs)
		for k := range ps {
			cid := fmt.Sprintf("q-%d-%d", r, k)
			switch k % 3 {
			case 0: // an IOC bid with nothing to take: it expires at once
				ps[k] = pipePair{cid: cid, place: bidPlace(cid, "IOC"),
					then: hreq{http.MethodGet, "/fapi/v1/order", vals("symbol", "BTCUSDT", "origClientOrderId", cid)}}
			case 1: // a resting bid
				ps[k] = pipePair{cid: cid, place: bidPlace(cid, "GTC"),
					then: hreq{http.MethodGet, "/fapi/v1/openOrder", vals("symbol", "BTCUSDT", "origClientOrderId", cid)}}
			case 2: // a stop, canceled
				ps[k] = pipePair{cid: cid, place: stopPlace(cid),
					then: hreq{http.MethodDelete, "/fapi/v1/algoOrder", vals("clientAlgoId", cid)}}
			}
		}
		if missed := pipelined(t, alice, sent, ps); len(missed) > 0 {
			for _, m := range missed[:min(3, len(missed))] {
				t.Error(m)
			}
			t.Fatalf("round %d: %d of %d lookups failed", r, len(missed), pairs)
		}
	}
}

// TestListsFollowPlace: the face's lists read right behind a place (ccxt's
// createOrder, then at once fetchOpenOrders, cancelAllOrders, editOrders
// or cancelOrders: a cancel-all right after a place is how bots flatten)
// see the order, while the exchange is busy with others' requests. Read
// from state, a subscription of its own, they missed it in every run (5 of
// 5), per 50 pairs: openOrders 0 to 50, openAlgoOrders 0 to 50, PUT
// batchOrders 2 to 50 (-2013), DELETE batchOrders 0 to 50 (the algo order
// canceled instead of -2011); per 10 pairs sent one at a time,
// allOpenOrders 8 to 10 and algoOpenOrders 6 to 10 left their place open.
// On order.open they ride the order requests' subscription behind the place.
func TestListsFollowPlace(t *testing.T) {
	const pairs, ones = 50, 10
	e, alice, sent := orderingEnv(t, pairs)
	listed := func(key, cid string) func([]byte) string {
		return func(body []byte) string {
			var os []map[string]any
			if err := json.Unmarshal(body, &os); err != nil {
				return err.Error()
			}
			if !slices.ContainsFunc(os, func(o map[string]any) bool { return o[key] == cid }) {
				return "not listed"
			}
			return ""
		}
	}
	// element: the batch's one element is an order (code 0) or that error.
	element := func(code int) func([]byte) string {
		return func(body []byte) string {
			var out []batchElem
			switch {
			case json.Unmarshal(body, &out) != nil || len(out) != 1:
				return "not one element"
			case out[0].Code != code || (code == 0) != (out[0].OrderID != nil):
				return fmt.Sprintf("element %+v, want code %d", out[0], code)
			}
			return ""
		}
	}
	// canceled: the order is no longer open once the cancel-all answered.
	canceled := func(cid string) func([]byte) string {
		return func([]byte) string {
			if slices.ContainsFunc(e.state("alice").OpenOrders, func(o wire.Order) bool { return o.ClientOrderID == cid }) {
				return "left open"
			}
			return ""
		}
	}
	sym := func() url.Values { return vals("symbol", "BTCUSDT") } // signed sets its timestamp
	lists := []struct {
		name string
		// one: ones pairs one at a time (each cancels every open order)
		one  bool
		pair func(cid string) pipePair
	}{
		{"GET openOrders", false, func(cid string) pipePair {
			return pipePair{cid, bidPlace(cid, "GTC"), hreq{http.MethodGet, "/fapi/v1/openOrders", sym()}, listed("clientOrderId", cid)}
		}},
		{"GET openAlgoOrders", false, func(cid string) pipePair {
			return pipePair{cid, stopPlace(cid), hreq{http.MethodGet, "/fapi/v1/openAlgoOrders", sym()}, listed("clientAlgoId", cid)}
		}},
		{"PUT batchOrders", false, func(cid string) pipePair {
			mod := fmt.Sprintf(`[{"symbol":"BTCUSDT","origClientOrderId":%q,"side":"BUY","quantity":"0.01","price":"28999"}]`, cid)
			return pipePair{cid, bidPlace(cid, "GTC"), hreq{http.MethodPut, "/fapi/v1/batchOrders", vals("batchOrders", mod)}, element(0)}
		}},
		{"DELETE batchOrders", false, func(cid string) pipePair {
			ids := vals("symbol", "BTCUSDT", "origClientOrderIdList", fmt.Sprintf("[%q]", cid))
			return pipePair{cid, stopPlace(cid), hreq{http.MethodDelete, "/fapi/v1/batchOrders", ids}, element(-2011)}
		}},
		{"DELETE allOpenOrders", true, func(cid string) pipePair {
			return pipePair{cid, bidPlace(cid, "GTC"), hreq{http.MethodDelete, "/fapi/v1/allOpenOrders", sym()}, canceled(cid)}
		}},
		{"DELETE algoOpenOrders", true, func(cid string) pipePair {
			return pipePair{cid, stopPlace(cid), hreq{http.MethodDelete, "/fapi/v1/algoOpenOrders", sym()}, canceled(cid)}
		}},
	}
	failed := false
	for i, l := range lists {
		ps := make([]pipePair, pairs)
		if l.one {
			ps = ps[:ones]
		}
		for k := range ps {
			ps[k] = l.pair(fmt.Sprintf("l-%d-%d", i, k))
		}
		var missed []string
		if l.one {
			for _, p := range ps {
				missed = append(missed, pipelined(t, alice, sent, []pipePair{p})...)
			}
		} else {
			missed = pipelined(t, alice, sent, ps)
		}
		if len(missed) > 0 {
			failed = true
			t.Errorf("%s: %d of %d missed the place before it, e.g. %s", l.name, len(missed), len(ps), missed[0])
		}
		var r wire.CancelAllReply
		e.req(e.subj.OrderCancelAll("alice"), map[string]string{}, &r)
		mustOK(t, "cancel_all", r.Reply)
	}
	if !failed {
		e.audit()
	}
}

// orderingEnv is batchEnv with alice's client able to hold pairs requests
// at once, a spy on her places and bob's flood on the order requests'
// subscription (stopped at the test's end).
func orderingEnv(t *testing.T, pairs int) (*env, client, func(cid string) <-chan struct{}) {
	t.Helper()
	e, alice := batchEnv(t, "")
	// A transport of its own, its idle connections closed before the face
	// stops: one dialed but never used holds the face's Shutdown for 5 s.
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * pairs}
	t.Cleanup(tr.CloseIdleConnections)
	alice.from = &http.Client{Transport: tr}
	sent := spyPlaces(t, e, "alice")
	t.Cleanup(flood(t, e, "bob"))
	return e, alice, sent
}

// hreq is one signed request of the face.
type hreq struct {
	method, path string
	v            url.Values
}

// pipePair is a place (cid its client id) and the request a bot sends
// right behind it; check, when set, judges the second's answer, an HTTP
// 200 ("" when right). It runs once both are answered.
type pipePair struct {
	cid         string
	place, then hreq
	check       func(body []byte) string
}

func bidPlace(cid, tif string) hreq {
	return hreq{http.MethodPost, "/fapi/v1/order", vals("symbol", "BTCUSDT", "side", "BUY", "type", "LIMIT", "timeInForce", tif,
		"quantity", "0.01", "price", "29000", "newClientOrderId", cid)}
}

func stopPlace(cid string) hreq {
	return hreq{http.MethodPost, "/fapi/v1/algoOrder", vals("algoType", "CONDITIONAL", "symbol", "BTCUSDT", "side", "SELL",
		"type", "STOP_MARKET", "triggerPrice", "25000", "quantity", "0.01", "clientAlgoId", cid)}
}

// pipelined sends the pairs at once, each pair's second request once the
// face has sent its place to the exchange (seen on NATS), before the place
// is answered, and returns what went wrong: a place refused, a second
// request judged wrong.
func pipelined(t *testing.T, c client, sent func(cid string) <-chan struct{}, ps []pipePair) []string {
	t.Helper()
	type answer struct {
		status int
		body   []byte
	}
	places, thens := make([]answer, len(ps)), make([]answer, len(ps))
	var wg sync.WaitGroup
	for k, p := range ps {
		wg.Add(2)
		go func() {
			defer wg.Done()
			places[k].status, places[k].body = c.signed(p.place.method, p.place.path, p.place.v)
		}()
		go func() {
			defer wg.Done()
			<-sent(p.cid)
			thens[k].status, thens[k].body = c.signed(p.then.method, p.then.path, p.then.v)
		}()
	}
	wg.Wait()
	var missed []string
	for k, p := range ps {
		if a := places[k]; a.status != http.StatusOK {
			missed = append(missed, fmt.Sprintf("%s: place: HTTP %d %s", p.cid, a.status, a.body))
			continue
		}
		a := thens[k]
		why := ""
		switch {
		case a.status != http.StatusOK:
			why = "HTTP " + fmt.Sprint(a.status)
		case p.check != nil:
			why = p.check(a.body)
		}
		if why != "" {
			missed = append(missed, fmt.Sprintf("%s: %s %s %s: %s: %s", p.cid, p.then.method, p.then.path, p.then.v.Encode(), why, a.body))
		}
	}
	return missed
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
// of an order it never placed (a busy exchange) from its return, once all
// are in flight, until the returned stop:
// floodSize in flight, enough to queue a place for milliseconds, a bound so
// that the queue does not outgrow the face's timeout. It asks on a
// connection of its own (its replies on e.nc held the spy's view of a
// place back), with replies to _INBOX.<token>.<...>, the inbox the
// gateway answers with users: on _INBOX.<token> it answered none, and
// the flood was one burst, spent in the first round.
func flood(t *testing.T, e *env, acct string) (stop func()) {
	t.Helper()
	nc, err := nats.Connect(e.app.URL(), nats.UserInfo("admin", "admin-pw"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	slots := make(chan struct{}, floodSize)
	inbox := nats.NewInbox() + ".flood"
	if _, err := nc.Subscribe(inbox, func(*nats.Msg) { <-slots }); err != nil {
		t.Fatal(err)
	}
	quit, done, full := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func(full chan struct{}) {
		defer close(done)
		ask := []byte(`{"client_order_id":"none"}`)
		for {
			select {
			case <-quit:
				return
			case slots <- struct{}{}:
			}
			if full != nil && len(slots) == cap(slots) {
				close(full)
				full = nil
			}
			if err := nc.PublishRequest(e.subj.OrderQuery(acct), inbox, ask); err != nil {
				t.Error(err)
				return
			}
		}
	}(full)
	select { // the flood at its height
	case <-full:
	case <-done:
	}
	return func() { close(quit); <-done }
}
