package actors

import (
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// TestPanickingAccountIsIsolated: a panic in one account's actor answers
// its requests INTERNAL from then on (queued ones included) while every
// other account keeps trading, and the money stays where it was.
func TestPanickingAccountIsIsolated(t *testing.T) {
	e := demoEnv(t)
	for _, a := range []string{"victim", "alice", "bob"} {
		e.deposit(a, "10000")
	}
	victim := e.x.accounts.get(e.x, "victim")
	e.x.root.Send(victim.pid, &testHook{fn: func(*accountActor) { panic("injected") }})
	// Queued behind the panic: answered, not dropped.
	queued := call(t, func(d func(wire.AccountReply)) { e.x.AccountState("victim", wire.State{}, d) })
	wantCode(t, "state of the failed account", queued.Reply, wire.CodeInternal)
	deadline := time.Now().Add(5 * time.Second)
	for !victim.failed.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	wantCode(t, "order of the failed account", e.place("victim", "BTC-PERP", wire.Buy, "30000", "0.01").Reply, wire.CodeInternal)

	e.mustPlace("alice", "BTC-PERP", wire.Buy, "30000", "0.1")
	if o := e.mustPlace("bob", "BTC-PERP", wire.Sell, "30000", "0.1", wire.IOC); o.Status != wire.StatusFilled {
		t.Fatalf("other accounts stopped trading: %+v", o)
	}
	e.x.quiesce()
	r := call(t, func(d func(AuditReport)) { e.x.audit(d) })
	if !r.OK || len(r.Failed) != 1 || r.Failed[0] != "victim" || r.Long[0] != 100 {
		t.Fatalf("audit: %s", r.String())
	}
}
