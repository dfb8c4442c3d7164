package gateway

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// batchOf wraps items ({"place":..} or {"cancel":..}) into a batch body.
func batchOf(items ...string) string { return `{"orders":[` + strings.Join(items, ",") + `]}` }

func placeItem(body string) string { return `{"place":` + body + `}` }

// Each result of a batch is byte for byte the reply the item would get as
// a single request, and the exchange sees the same calls in the same order.
func TestBatchAnswersAsSingleRequests(t *testing.T) {
	bodies := []struct{ ep, body string }{
		{"place", `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"100","qty":"1","client_order_id":"a"}`},
		{"place", ` { "symbol" : "BTC-PERP", "side":"sell","type":"limit","price":"200","qty":"1","client_order_id":"b"} `},
		{"cancel", `{"symbol":"BTC-PERP","client_order_id":"a"}`},
		{"place", `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"0","qty":"1"}`},                          // INVALID_PRICE, never sent
		{"place", `{"symbol":"BTC-PERP","side":"buy","type":"limit","qty":"1","extra":"\"}]"}`},                       // BAD_REQUEST, tricky string
		{"cancel", `{"symbol":"BTC-PERP","client_order_id":"a"}`},                                                     // UNKNOWN_ORDER: sees the cancel above
		{"place", `{"symbol":"DOGE-PERP","side":"buy","type":"market","qty":"1"}`},                                    // UNKNOWN_SYMBOL
		{"place", `{"symbol":"BTC-PERP","side":"sell","type":"limit","price":"300","qty":"1","client_order_id":"b"}`}, // DUPLICATE_CLIENT_ORDER_ID
	}
	single, batched := newEnv(t, Options{}), newEnv(t, Options{})
	var want []json.RawMessage
	var items []string
	for _, b := range bodies {
		subject := subj.OrderPlace("alice")
		if b.ep == "cancel" {
			subject = subj.OrderCancel("alice")
		}
		raw, _ := single.req(subject, b.body)
		want = append(want, raw)
		items = append(items, `{"`+b.ep+`":`+b.body+`}`)
	}
	raw, env := batched.req(subj.OrderBatch("alice"), batchOf(items...))
	var got struct {
		OK      bool              `json:"ok"`
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || !env.OK || len(got.Results) != len(want) {
		t.Fatalf("batch reply %s (%v)", raw, err)
	}
	for i := range want {
		if string(got.Results[i]) != string(want[i]) {
			t.Errorf("result %d:\n got %s\nwant %s", i, got.Results[i], want[i])
		}
	}
	if s, b := fmt.Sprint(single.x.Calls()), fmt.Sprint(batched.x.Calls()); s != b {
		t.Errorf("calls differ:\nsingle %s\nbatch  %s", s, b)
	}
	if single.x.Hash() != batched.x.Hash() {
		t.Error("a batch left another state than its items sent alone")
	}
	// Items are counted as single requests; the batch has its latency.
	for _, m := range []*Metrics{single.m, batched.m} {
		if a, r := value(m.orders.WithLabelValues("accepted")), value(m.orders.WithLabelValues("rejected")); a != 2 || r != 4 {
			t.Errorf("orders accepted %v rejected %v, want 2 and 4", a, r)
		}
	}
	if n := histCount(t, batched.m, "order.batch"); n != 1 {
		t.Errorf("order.batch latency count %d, want 1", n)
	}
}

// A batch over the bucket is refused whole; one that fits spends a token
// per item.
func TestBatchRateLimit(t *testing.T) {
	e := newEnv(t, Options{RateLimit: config.RateLimit{OrdersPerS: 0.001, Burst: 5}})
	place := placeItem(`{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1"}`)
	if _, env := e.req(subj.OrderBatch("alice"), batchOf(place, place, place)); !env.OK {
		t.Fatalf("batch of 3 in a bucket of 5: %v", env.Error)
	}
	if _, env := e.req(subj.OrderBatch("alice"), batchOf(place, place, place)); env.OK || env.Error.Code != wire.CodeRateLimited {
		t.Fatalf("batch of 3 with 2 tokens left: %v, want RATE_LIMITED", env.Error)
	}
	if n := len(e.x.Calls()); n != 3 {
		t.Fatalf("%d calls, want 3: the limited batch was executed", n)
	}
	if _, env := e.req(subj.OrderBatch("alice"), batchOf(place, place)); !env.OK {
		t.Fatalf("batch of 2 with 2 tokens left: %v", env.Error)
	}
	if _, env := e.req(subj.OrderPlace("alice"), `{}`); env.OK || env.Error.Code != wire.CodeRateLimited {
		t.Fatalf("single order after the bucket emptied: %v, want RATE_LIMITED", env.Error)
	}
}

// An exchange answering ok without an order fails that item, as it would
// fail the single request, not the batch.
func TestBatchBrokenExchangeReplyIsInternal(t *testing.T) {
	e := newEnv(t, Options{})
	e.x.script = map[string]any{"PlaceOrder": wire.OrderReply{Reply: wire.OK()}}
	raw, env := e.req(subj.OrderBatch("alice"), batchOf(placeItem(`{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1"}`)))
	if !env.OK || !strings.Contains(string(raw), `"results":[{"ok":false,"error":{"code":"INTERNAL"`) {
		t.Fatalf("got %s, want an INTERNAL result", raw)
	}
}

// histCount is the number of requests timed for endpoint.
func histCount(t *testing.T, m *Metrics, endpoint string) uint64 {
	t.Helper()
	var d dto.Metric
	if err := m.latency.WithLabelValues(endpoint).(prometheus.Metric).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetHistogram().GetSampleCount()
}
