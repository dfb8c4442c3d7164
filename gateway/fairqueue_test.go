package gateway

import (
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
)

// TestEndpointOfSharedOrder: on the shared order endpoint the intake
// classifies each request by its own subject, so order.query and
// order.open are charged as reads (and order.open as a state read), the
// order requests not; before, every request there counted as the
// endpoint's first op, a place, and lists escaped the read bounds.
func TestEndpointOfSharedOrder(t *testing.T) {
	subj := wire.DefaultSubjects()
	var orders *endpoint
	for _, e := range endpoints(subj) {
		if len(e.ops) > 1 {
			orders = e
		}
	}
	if orders == nil {
		t.Fatal("no shared endpoint")
	}
	for _, o := range orders.ops {
		subject := strings.Replace(o.subject, wire.Any, "alice", 1)
		if got := endpointOf(orders, subject); got != o.ep {
			t.Errorf("%s: endpoint %s, want %s", subject, got, o.ep)
		}
	}
	for subject, want := range map[string][2]bool{ // read, state read
		subj.OrderOpen("alice"):  {true, true},
		subj.OrderQuery("alice"): {true, false},
		subj.OrderPlace("alice"): {false, false},
		subj.OrderCancelAll("a"): {false, false},
	} {
		ep := endpointOf(orders, subject)
		if got := [2]bool{isRead(ep), isStateRead(ep)}; got != want {
			t.Errorf("%s (%s): read, state read %v, want %v", subject, ep, got, want)
		}
	}
	if got := endpointOf(orders, "px.acct.alice.order.nope"); got != orders.ops[0].ep {
		t.Errorf("unknown subject: %s, want the first op's", got)
	}
}
