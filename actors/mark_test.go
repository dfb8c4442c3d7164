package actors

import (
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// subscribers returns the accounts a symbol actor sends marks to.
func (e *env) subscribers(sym string) map[string]bool {
	e.t.Helper()
	names := map[uint64]string{}
	for _, a := range e.x.accounts.all() {
		names[uint64(a.id)] = a.name
	}
	return call(e.t, func(d func(map[string]bool)) {
		e.x.root.Send(e.x.symbol(sym).pid, &symbolHook{fn: func(s *symbolActor) {
			out := map[string]bool{}
			for id := range s.subs {
				out[names[uint64(id)]] = true
			}
			d(out)
		}})
	})
}

func TestMarksReachOnlyPositionHolders(t *testing.T) {
	e := demoEnv(t)
	for _, a := range []string{"alice", "bob", "carol"} {
		e.deposit(a, "10000")
	}
	e.mustPlace("carol", "BTC-PERP", wire.Buy, "29000", "0.1") // resting only: no position
	e.mustPlace("alice", "BTC-PERP", wire.Buy, "30000", "0.1")
	e.mustPlace("bob", "BTC-PERP", wire.Sell, "30000", "0.1")
	e.x.quiesce()
	if s := e.subscribers("BTC-PERP"); len(s) != 2 || !s["alice"] || !s["bob"] {
		t.Fatalf("subscribers with positions open: %v", s)
	}
	// bob buys back from carol: bob is flat (unsubscribed), carol short.
	e.mustPlace("carol", "BTC-PERP", wire.Sell, "30100", "0.1")
	e.mustPlace("bob", "BTC-PERP", wire.Buy, "30100", "0.1", wire.IOC)
	e.x.quiesce()
	if s := e.subscribers("BTC-PERP"); len(s) != 2 || !s["alice"] || !s["carol"] {
		t.Fatalf("subscribers after bob closed: %v", s)
	}
	e.audit()
	for name, in := range e.subscribers("BTC-PERP") {
		if p := e.position(name, "BTC-PERP"); in != (p != nil) {
			t.Fatalf("%s subscribed=%v with position %+v", name, in, p)
		}
	}
}

func TestFundingPaysAndConserves(t *testing.T) {
	e := demoEnv(t)
	e.deposit("alice", "10000")
	e.deposit("bob", "10000")
	e.deposit("carol", "10000")
	e.mustPlace("alice", "BTC-PERP", wire.Buy, "30000", "0.1")
	e.mustPlace("bob", "BTC-PERP", wire.Sell, "30000", "0.1")
	e.mustPlace("carol", "BTC-PERP", wire.Buy, "28000", "0.1") // no position: no funding
	e.clk.advance(8 * time.Hour)
	e.index("BTC-PERP", "30000")
	e.x.quiesce()
	pay := e.rec.events("alice", wire.EventFunding)
	get := e.rec.events("bob", wire.EventFunding)
	if len(pay) != 1 || len(get) != 1 || len(e.rec.events("carol", wire.EventFunding)) != 0 {
		t.Fatalf("funding events: alice %v bob %v", pay, get)
	}
	// Interest only (empty book, no premium): 0.01 % of 0.1 × mark.
	f := pay[0].Funding
	want := dec("0.1").Mul(f.MarkPrice).Mul(f.Rate)
	if !f.Rate.Equal(dec("0.0001")) || !f.Payment.Equal(want.Neg()) || !get[0].Funding.Payment.Equal(want) {
		t.Fatalf("payments: long %s, short %s, want %s at rate %s", f.Payment, get[0].Funding.Payment, want, f.Rate)
	}
	e.audit()
	e.rec.mu.Lock()
	marks := len(e.rec.marks["BTC-PERP"])
	e.rec.mu.Unlock()
	if marks != 2 {
		t.Fatalf("%d mark updates published, want 2", marks)
	}
}
