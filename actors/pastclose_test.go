package actors

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// Resting closes that the bankruptcy price moved past after they were
// placed are canceled (cancelPastCloses); TestCrossOpenPastRestingClose
// has the account's own fill, these the other changes.

// boundCancelSent fails unless acct's open order id has the past-close
// cancel on its way (order.pastBound).
func (e *env) boundCancelSent(acct, id string) {
	e.t.Helper()
	ent := e.x.accounts.get(e.x, acct)
	sent := call(e.t, func(d func(bool)) {
		e.x.root.Send(ent.pid, &testHook{fn: func(a *accountActor) {
			o := a.orders.Values()
			i := slices.IndexFunc(o, func(o *order) bool { return o.wid == id })
			d(i >= 0 && o[i].pastBound)
		}})
	})
	if !sent {
		e.t.Fatalf("order %s of %s: no past-close cancel on its way", id, acct)
	}
}

// orderOpen fails unless acct's order id is still open.
func (e *env) orderOpen(acct, id string) {
	e.t.Helper()
	for _, o := range e.state(acct).OpenOrders {
		if o.OrderID == id {
			return
		}
	}
	e.t.Fatalf("order %s of %s is not open", id, acct)
}

// TestFundingPastRestingClose: a cross long of 2 at 3750 on 3750 of cash is
// bankrupt at 1875, where alice rests a sell of 1, and one more at 1876. A
// funding payment (longs pay) moves the bankruptcy price to 1876: the sell
// at 1875 is canceled, the one at 1876, within, stays and fills for carol.
// The exchange is durable: the cancel's reason survives a snapshot and a
// replay, in the order's history and the state hash.
func TestFundingPastRestingClose(t *testing.T) {
	j := &memJournal{}
	cfg := testConfig(tsym, longTiers()...)
	on := true
	cfg.Funding = &on
	sym := compileSymbol(t, cfg)
	e := pairEnvWith(t, j, "3750", sym)
	e.openPosition("alice", "bob", wire.Buy, "3750", "2", 2)
	past := e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	within := e.mustPlace("alice", tsym, wire.Sell, "1876", "1")
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3750") // a funding time
	e.x.quiesce()
	if f := e.rec.events("alice", wire.EventFunding); len(f) != 1 || f[0].Funding.Payment.Sign() >= 0 {
		t.Fatalf("alice's funding %+v", f)
	}
	if p := e.position("alice", tsym); !p.BankruptcyPrice.Equal(dec("1876")) {
		t.Fatalf("bankruptcy price %s after the payment", p.BankruptcyPrice)
	}
	e.pastBoundCanceled("alice", past.OrderID)
	e.orderOpen("alice", within.OrderID)
	e.carolTakes("1876") // the audit, the fund empty
	if o := e.state("alice").OpenOrders; len(o) != 0 {
		t.Fatalf("alice's open orders %+v", o)
	}

	want := e.hash()
	p, _, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*env{"snapshot": newEnvFrom(t, j.clone(), p, sym), "replay": newEnvWith(t, j.clone(), sym)} {
		if got := r.hash(); got != want {
			t.Fatalf("%s: state hash %x, want %x", name, got, want)
		}
		o := call(t, func(d func(wire.OrdersReply)) {
			r.x.AccountOrders("alice", wire.Orders{OrderID: past.OrderID, Limit: 1}, d)
		})
		if !o.OK || len(o.Orders) != 1 || !o.Orders[0].CanceledByBankruptcy {
			t.Fatalf("%s: order %s: %+v", name, past.OrderID, o)
		}
	}
}

// TestCrossMarkPastRestingClose: two cross longs of 1 at 3750 on 3750 of
// cash share the equity by maintenance margin, half each: bankrupt at
// 1875, where alice rests a sell of TEST-PERP. OTHER-PERP's mark rising to
// 4000 gives it the larger share (its maintenance margin grows faster than
// the equity), and TEST-PERP's bankruptcy price rises past the sell, which
// is canceled: carol's buy there finds nothing.
func TestCrossMarkPastRestingClose(t *testing.T) {
	const other = "OTHER-PERP"
	e := pairEnv(t, "3750", testSymbol(t, tsym, longTiers()...), testSymbol(t, other, longTiers()...))
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.leverage("alice", other, 5)
	e.leverage("bob", other, 5)
	e.mustPlace("bob", other, wire.Sell, "3750", "1")
	e.mustPlace("alice", other, wire.Buy, "3750", "1", wire.IOC)
	if p := e.position("alice", tsym); !p.BankruptcyPrice.Equal(dec("1875")) {
		t.Fatalf("bankruptcy price %s", p.BankruptcyPrice)
	}
	sell := e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	e.index(other, "4000")
	e.x.quiesce()
	if p := e.position("alice", tsym); !p.BankruptcyPrice.GreaterThan(dec("1875")) {
		t.Fatalf("bankruptcy price %s after OTHER-PERP's mark rose", p.BankruptcyPrice)
	}
	e.pastBoundCanceled("alice", sell.OrderID)
	e.leverage("carol", tsym, 5)
	if o := e.mustPlace("carol", tsym, wire.Buy, "1875", "1", wire.IOC); o.FilledQty.Sign() != 0 {
		t.Fatalf("carol took alice's sell past its bankruptcy price: %+v", o)
	}
	if a := e.audit(); !a.OK || a.Uncovered != 0 || !e.fundBalance().IsZero() {
		t.Fatalf("audit %s, fund %s", a, e.fundBalance())
	}
}

// TestAddMarginPastRestingClose: margin added to an isolated position
// leaves the cash that backs a cross long (1 at 3750 on 2250: bankrupt at
// 1500); 500 more would raise its bankruptcy price to 2000, past its
// resting sell at 1875, so it is refused like a withdrawal (once it
// canceled the sell, and a buy already queued at the book could fill it
// first: TestAddMarginRacesRestingClose). With the sell canceled it goes
// in, and a sell at 2500, still within after 250 more, stays.
func TestAddMarginPastRestingClose(t *testing.T) {
	const other = "OTHER-PERP"
	e := pairEnv(t, "3000", testSymbol(t, tsym, longTiers()...), testSymbol(t, other, longTiers()...))
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	if r := call(t, func(d func(wire.MarginModeReply)) {
		e.x.SetMarginMode("alice", wire.MarginMode{Symbol: other, Mode: wire.MarginIsolated}, d)
	}); !r.OK {
		t.Fatalf("isolated: %+v", r.Reply)
	}
	e.leverage("alice", other, 5)
	e.leverage("bob", other, 5)
	e.mustPlace("bob", other, wire.Sell, "3750", "1")
	e.mustPlace("alice", other, wire.Buy, "3750", "1", wire.IOC) // 750 of margin: cash 2250, bankrupt at 1500
	past := e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	if r := e.positionMarginIn("alice", other, "500"); r.OK || r.Error.Code != wire.CodeInsufficientMargin {
		t.Fatalf("margin added past the resting sell: %+v", r.Reply)
	}
	e.orderOpen("alice", past.OrderID)
	if c := call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: tsym, OrderID: past.OrderID}, d)
	}); !c.OK {
		t.Fatalf("cancel: %+v", c.Reply)
	}
	if r := e.positionMarginIn("alice", other, "500"); !r.OK {
		t.Fatalf("add margin: %+v", r.Reply) // cash 1750: bankrupt at 2000
	}
	within := e.mustPlace("alice", tsym, wire.Sell, "2500", "1")
	if r := e.positionMarginIn("alice", other, "250"); !r.OK {
		t.Fatalf("add margin: %+v", r.Reply) // cash 1500: bankrupt at 2250
	}
	e.x.quiesce()
	e.orderOpen("alice", within.OrderID)
	e.carolTakes("1875")
	e.orderOpen("alice", within.OrderID)
}

// TestFundingPastCloseBehindIsolatedOpen: alice, cross long 1 at 3750 on
// 2000 (bankrupt at 1750), rests an isolated buy at 1900 (380 reserved:
// bankrupt at 2130 once it fills) and a sell at 2130, placement's bound.
// A funding payment moves both bounds up a tick: the sell is within at the
// cash (1751) but past once the open fills (2131), and it is canceled at
// once, the open still resting. Before, its cancel waited for the open's
// fill and reached the book behind carol's buy queued there: the sell
// filled past the bound, the cash ended below zero, and the fund paid it
// when the isolated long was liquidated.
func TestFundingPastCloseBehindIsolatedOpen(t *testing.T) {
	cfg := testConfig(tsym, longTiers()...)
	on := true
	cfg.Funding = &on
	e := otherEnvWith(t, "2000", wire.MarginIsolated, compileSymbol(t, cfg))
	open := e.mustPlace("alice", otherSym, wire.Buy, "1900", "1")
	sell := e.mustPlace("alice", tsym, wire.Sell, "2130", "1")
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3750") // a funding time
	e.x.quiesce()
	if p := e.position("alice", tsym); !p.BankruptcyPrice.Equal(dec("1751")) {
		t.Fatalf("bankruptcy price %s after the payment", p.BankruptcyPrice)
	}
	e.pastBoundCanceled("alice", sell.OrderID)
	e.orderOpen("alice", open.OrderID)
	release := e.holdBook(tsym)
	buy := e.takeBehind("2130")
	e.mustPlace("bob", otherSym, wire.Sell, "1900", "1", wire.IOC) // the open fills: bankrupt at 2131
	e.raceAudit(release, buy)
	if p := e.position("carol", tsym); p != nil {
		t.Fatalf("carol's buy took alice's sell: %+v", p)
	}
}

// TestUserCancelBeatsPastCloseCancel: alice's sell at 1875 is past her
// bankruptcy price once her second cross open fills (pastCloseRace), and
// her own cancel of it is queued at the held book ahead of the bankruptcy
// cancel that fill sends. Her cancel takes it: the order ends
// canceled, not by the bankruptcy bound, in her reply, its event and its
// history. Without her cancel, the bound's cancel takes it and says so.
func TestUserCancelBeatsPastCloseCancel(t *testing.T) {
	for _, user := range []bool{true, false} {
		e, sell, release := pastCloseRace(t)
		var ch <-chan wire.OrderReply
		if user {
			ch = e.cancelAsync("alice", sell.OrderID)
		}
		e.mustPlace("alice", otherSym, wire.Buy, "3750", "1", wire.IOC) // the equity split: bankrupt at 2750
		e.boundCancelSent("alice", sell.OrderID)
		release()
		if !user {
			e.pastBoundCanceled("alice", sell.OrderID)
			continue
		}
		if r := <-ch; !r.OK || r.Order.Status != wire.StatusCanceled || r.Order.CanceledByBankruptcy {
			t.Fatalf("alice's cancel: %+v %+v", r.Reply, r.Order)
		}
		e.x.quiesce()
		for _, ev := range e.rec.events("alice", wire.EventOrder) {
			if ev.Order.OrderID == sell.OrderID && ev.Order.CanceledByBankruptcy {
				t.Fatalf("order event %+v", ev.Order)
			}
		}
		o := call(t, func(d func(wire.OrdersReply)) {
			e.x.AccountOrders("alice", wire.Orders{OrderID: sell.OrderID, Limit: 1}, d)
		})
		if !o.OK || len(o.Orders) != 1 || o.Orders[0].Status != wire.StatusCanceled || o.Orders[0].CanceledByBankruptcy {
			t.Fatalf("history of %s: %+v", sell.OrderID, o)
		}
		if a := e.audit(); !a.OK {
			t.Fatalf("audit %s", a)
		}
	}
}

// TestWithdrawBesidePastCloseCancel: alice's sell at 1875 is past her
// bankruptcy price once her second cross open fills (pastCloseRace), and
// the bound's cancel is on its way to the held book. A withdrawal of 400
// meanwhile is refused, saying the exchange is canceling the order, not
// to cancel it: carol's buy queued ahead of that cancel fills the sell,
// and with the 400 out the cash would end below zero (2000 − 400 − 1875),
// the fund's loss. Without carol's buy the cancel takes the sell, and the
// same withdrawal then passes, as the refusal said.
func TestWithdrawBesidePastCloseCancel(t *testing.T) {
	for _, race := range []bool{true, false} {
		e, sell, release := pastCloseRace(t)
		var buy <-chan wire.OrderReply
		if race {
			buy = e.takeBehind("1875")
		}
		e.mustPlace("alice", otherSym, wire.Buy, "3750", "1", wire.IOC) // the equity split: bankrupt at 2750
		e.boundCancelSent("alice", sell.OrderID)
		r := e.withdraw("alice", "400")
		if r.OK || r.Error.Code != wire.CodeInsufficientMargin || !strings.Contains(r.Error.Message, "the exchange is canceling that order") ||
			strings.Contains(r.Error.Message, "cancel that order first") {
			t.Fatalf("race %v: withdrawal beside the bound's cancel: %+v", race, r.Reply)
		}
		if !race {
			release()
			e.pastBoundCanceled("alice", sell.OrderID)
			if r := e.withdraw("alice", "400"); !r.OK {
				t.Fatalf("withdrawal once the sell is canceled: %+v", r.Reply)
			}
			continue
		}
		release()
		if b := <-buy; !b.OK || !b.Order.FilledQty.Equal(dec("1")) {
			t.Fatalf("carol's buy %+v %+v", b.Reply, b.Order)
		}
		if a := e.audit(); !a.OK || a.Uncovered != 0 || !e.fundBalance().IsZero() {
			t.Fatalf("audit %s, fund %s", a, e.fundBalance())
		}
		if b := e.state("alice").Balances["USDT"]; b.Sign() < 0 {
			t.Fatalf("alice's cash %s", b)
		}
	}
}
