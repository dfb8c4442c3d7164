package floor

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// TestFloorAnswersThroughTheGateway: a place comes back as the order it
// describes, through the gateway's decoding and encoding (a bad one is
// refused there, as the exchange's would be), and the audit holds.
func TestFloorAnswersThroughTheGateway(t *testing.T) {
	for _, handoff := range []bool{false, true} {
		url, stop, err := Start("", handoff)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		subj := wire.DefaultSubjects()
		req := func(subject, body string, v any) {
			t.Helper()
			m, err := nc.Request(subject, []byte(body), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(m.Data, v); err != nil {
				t.Fatalf("%s: %s", subject, m.Data)
			}
		}
		var o wire.OrderReply
		req(subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.01","client_order_id":"c1"}`, &o)
		if !o.OK || o.Order == nil || o.Order.Account != "alice" || o.Order.ClientOrderID != "c1" || o.Order.Price.String() != "30000.5" || o.Order.Status != wire.StatusNew {
			t.Fatalf("handoff %v: place %+v", handoff, o)
		}
		var bad wire.OrderReply
		req(subj.OrderPlace("alice"), `{"symbol":"BTC-PERP","side":"up"}`, &bad)
		if bad.OK || bad.Error == nil || bad.Error.Code != wire.CodeBadRequest {
			t.Fatalf("handoff %v: a bad place %+v", handoff, bad)
		}
		var a wire.AuditReply
		req(subj.AdminAudit(), `{}`, &a)
		if !a.OK || !a.InvariantsOK {
			t.Fatalf("handoff %v: audit %+v", handoff, a)
		}
	}
}
