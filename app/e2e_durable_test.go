package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// readable is everything clients can read of the exchange, as JSON.
func (e *exchange) readable(accts ...string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	put := func(k string, v any) {
		e.t.Helper()
		out[k] = string(payload(e.t, v))
	}
	for _, a := range accts {
		put("state "+a, e.trader(a).state())
	}
	put("fund", e.fundState())
	put("depth", e.depth())
	put("adl long", e.adlQueue(wire.Long))
	put("adl short", e.adlQueue(wire.Short))
	put("audit", e.settledAudit())
	return out
}

// TestE2ERestart: an exchange with --data is stopped and started again on
// the same directory; everything a client can read, and the state hash,
// are as they were: balances, positions and entry prices, resting orders
// in their priority, order and client order ids, the fund and its history
// after a liquidation with surplus and one with ADL, funding times, the
// book's update sequence. It then trades on: a dead man's switch armed
// before the stop fires after it, order ids keep growing.
func TestE2ERestart(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{}
	clk.ms.Store(time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC).UnixMilli())
	cfg := seedConfig(t, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"})
	e := start(t, cfg, startOpts{data: dir, now: clk.now})
	accts := []string{"A", "B", "C", "D", "L", "M", "N"}

	// A liquidation the fund profits from: L long 1 at 3750 (margin 750)
	// is liquidated below 3093 and fills at 3060 against N's bid.
	e.index("3750")
	e.deposit("L", "750")
	tr := e.funded("1000000", "M", "N")
	e.trader("L").openPosition(tr[0], wire.Buy, "3750", "1", "5")
	tr[1].leverage("5")
	tr[1].limit(wire.Buy, "3060", "1")
	e.index("3080")
	e.waitEvents("L", wire.EventLiquidation, 1)
	e.settledAudit()

	// One the fund cannot cover: A's 200 long is closed against B's 230
	// short by ADL at A's bankruptcy price (the fund holds 60, far too
	// little).
	e.index("3750")
	e.deposit("A", "150000")
	e.deposit("B", "200000")
	e.deposit("D", "1000000")
	a, b, d := e.trader("A"), e.trader("B"), e.trader("D")
	for _, c := range []*trader{a, b, d} {
		c.leverage("5")
	}
	b.limit(wire.Sell, "3750", "230")
	a.limit(wire.Buy, "3750", "200", wire.IOC)
	d.limit(wire.Buy, "3750", "30", wire.IOC)
	e.settledAudit()
	e.index("3100")
	e.waitEvents("A", wire.EventLiquidation, 1)
	e.waitEvents("B", wire.EventADL, 1)
	e.settledAudit()

	// Resting orders at one price, in time order, with client ids; C's
	// dead man's switch armed.
	e.index("3000")
	e.deposit("C", "100000")
	c := e.trader("C")
	for i := range 3 {
		r := c.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("2900"), Qty: dec("1"),
			TIF: wire.GTC, ClientOrderID: fmt.Sprint("c", i)})
		mustOK(t, "C's bid", r.Reply)
	}
	d.limit(wire.Buy, "2900", "2")
	arm := request[wire.CancelAllAfterReply](t, c.nc, e.subj.OrderCancelAllAfter("C"), wire.CancelAllAfter{TimeoutMs: 3000})
	mustOK(t, "dead man's switch", arm.Reply)
	lastID := c.state().OpenOrders[2].OrderID

	clk.advance(2 * time.Second) // the ADL lights' cached cuts are stale: each read below refreshes them
	want, h := e.readable(accts...), e.hash()
	if err := e.close(); err != nil {
		t.Fatal(err)
	}

	deps, fundDeps := e.deposits, e.fundDeposits
	e = start(t, cfg, startOpts{data: dir, now: clk.now})
	e.deposits, e.fundDeposits = deps, fundDeps // what the audit checks against
	got := e.readable(accts...)
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("after restart %s:\n got %s\nwant %s", k, got[k], v)
		}
	}
	if h2 := e.hash(); h2 != h {
		t.Fatalf("state hash %x after restart, want %x", h2, h)
	}
	// Trading goes on where it was: M's sell takes C's first bid (time
	// priority survived), the ids go on growing, and C's switch fires.
	m := e.trader("M")
	o := m.limit(wire.Sell, "2900", "1", wire.IOC)
	if o.Status != wire.StatusFilled || o.OrderID <= lastID && len(o.OrderID) <= len(lastID) {
		t.Fatalf("order after restart %+v (last id before %s)", o, lastID)
	}
	eventually(t, "C's first bid filled, the dead man's switch canceled the rest", func() error {
		st := e.trader("C").state()
		if len(st.OpenOrders) != 0 {
			return fmt.Errorf("C's orders %+v", st.OpenOrders)
		}
		if p := st.Positions; len(p) != 1 || !p[0].Qty.Equal(dec("1")) {
			return fmt.Errorf("C's positions %+v", p)
		}
		return nil
	})
	e.settledAudit()
}
