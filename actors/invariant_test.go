package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/wire"
)

// A broken invariant stops the actor that saw it, with the reason in the
// log, in the audit and (for an account) in an error event; it is never a
// log line after which the actor carries on.

// waitFailure waits until the audit lists a failure of who and returns
// its reason.
func (e *env) waitFailure(who string) (AuditReport, string) {
	e.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		r := call(e.t, func(d func(AuditReport)) { e.x.audit(d) })
		for _, f := range r.Failures {
			if f.Actor == who {
				return r, f.Reason
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s never failed: %+v", who, r.Failures)
		}
	}
}

// TestRiskRefusingABookFillStopsTheAccount: the book fills an order risk
// does not know (the ledgers diverged): the maker's account stops — its
// requests answered INTERNAL, an error event with the reason, the audit
// listing it — instead of trading on with a fill it never booked.
func TestRiskRefusingABookFillStopsTheAccount(t *testing.T) {
	e := demoEnv(t)
	e.deposit("A", "100000")
	e.deposit("B", "100000")
	o := e.mustPlace("A", "BTC-PERP", wire.Buy, "30000", "0.01")
	call(t, func(d func(bool)) {
		e.x.root.Send(e.x.accounts.get(e.x, "A").pid, &testHook{fn: func(a *accountActor) {
			a.wallets[0].acct.OnCancel(a.orders.sorted()[0].id) // risk forgets the order; the book still holds it
			d(true)
		}})
	})
	if r := e.place("B", "BTC-PERP", wire.Sell, "30000", "0.01", wire.IOC); !r.OK || r.Order.Status != wire.StatusFilled {
		t.Fatalf("B's sell: %+v", r)
	}
	r, reason := e.waitFailure("account A")
	if !strings.Contains(reason, "risk refused the book's fill") || !strings.Contains(reason, o.OrderID) {
		t.Fatalf("reason %q", reason)
	}
	if len(r.Failed) != 1 || r.Failed[0] != "A" || r.Halted {
		t.Fatalf("audit: %s", r.String())
	}
	wantCode(t, "A's order after its failure", e.place("A", "BTC-PERP", wire.Buy, "29000", "0.01").Reply, wire.CodeInternal)
	e.x.quiesce()
	ev := e.rec.events("A", wire.EventError)
	if len(ev) != 1 || ev[0].Error == nil || ev[0].Error.Code != wire.CodeInternal || !strings.Contains(ev[0].Error.Message, "risk refused") {
		t.Fatalf("A's error events: %+v", ev)
	}
	e.mustPlace("B", "BTC-PERP", wire.Buy, "29000", "0.01") // everyone else trades on
}

// TestAnswerNobodyAskedStopsTheAccount: an ADL plan for a liquidation leg
// the account does not have is a protocol break (liq.ErrInvariant's
// actor-side twin): the account stops with the reason.
func TestAnswerNobodyAskedStopsTheAccount(t *testing.T) {
	e := demoEnv(t)
	e.deposit("A", "1000")
	e.x.root.Send(e.x.accounts.get(e.x, "A").pid, &adlPlanMsg{sym: 0, closes: 1, covered: 5})
	_, reason := e.waitFailure("account A")
	if !strings.Contains(reason, "ADL plan for no liquidation leg") {
		t.Fatalf("reason %q", reason)
	}
	wantCode(t, "A's state after its failure", call(t, func(d func(wire.AccountReply)) { e.x.AccountState("A", wire.State{}, d) }).Reply, wire.CodeInternal)
}

// TestFundThatCannotKeepItsLedgerHaltsTrading: the fund asked to release
// a reservation it never made stops, and with it trading (every order
// needs the fund behind its liquidation): orders are refused INTERNAL
// with the reason, cancels still work, the audit fails and says why.
func TestFundThatCannotKeepItsLedgerHaltsTrading(t *testing.T) {
	e := demoEnv(t)
	e.deposit("A", "100000")
	o := e.mustPlace("A", "BTC-PERP", wire.Buy, "30000", "0.01")
	e.x.root.Send(e.x.fund, &releaseMsg{id: 777})
	r, reason := e.waitFailure("fund")
	if !strings.Contains(reason, "could not release the reservation of liquidation 777") || !r.Halted || r.OK {
		t.Fatalf("reason %q, audit %s", reason, r.String())
	}
	if w := r.Wire(e.x.symbols); w.InvariantsOK || len(w.Failures) != 1 || w.Failures[0].Actor != "fund" {
		t.Fatalf("admin.audit reply: %+v", w)
	}
	rep := e.place("A", "BTC-PERP", wire.Buy, "29000", "0.01")
	wantCode(t, "an order while halted", rep.Reply, wire.CodeInternal)
	if !strings.Contains(rep.Error.Message, "halted") {
		t.Fatalf("refusal %q", rep.Error.Message)
	}
	wantCode(t, "fund state of a failed fund", call(t, func(d func(wire.FundStateReply)) { e.x.FundState(wire.FundState{Limit: wire.MaxFundHistoryPage}, d) }).Reply, wire.CodeInternal)
	c := call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("A", wire.Cancel{Symbol: "BTC-PERP", OrderID: o.OrderID}, d)
	})
	if !c.OK || c.Order.Status != wire.StatusCanceled {
		t.Fatalf("a cancel while halted: %+v", c)
	}
}

// TestADLRankingRefusingAReportHaltsTrading: a position report the ranking
// cannot hold (no entry cost) stops the ADL actor and halts trading.
func TestADLRankingRefusingAReportHaltsTrading(t *testing.T) {
	e := demoEnv(t)
	e.deposit("A", "100000")
	e.x.root.Send(e.x.adl, &adlPositionMsg{sym: 0, acct: book.AccountID(99), name: "ghost", qty: 5, cost: 0, margin: 1})
	r, reason := e.waitFailure("adl")
	if !strings.Contains(reason, "refused ghost's position") || !r.Halted {
		t.Fatalf("reason %q, audit %s", reason, r.String())
	}
	wantCode(t, "an order while halted", e.place("A", "BTC-PERP", wire.Buy, "29000", "0.01").Reply, wire.CodeInternal)
}

// TestEveryLedgerBreakStopsThePartThatSawIt provokes each remaining path
// where one ledger disagreed with another and the actor used to log and
// carry on: each now stops the actor that saw it, with a reason the audit
// reports (the liquidation machine's own breaks are liq's tests:
// ErrInvariant).
func TestEveryLedgerBreakStopsThePartThatSawIt(t *testing.T) {
	for _, c := range []struct {
		name, who, reason string
		send              func(e *env, a *accountEntry)
	}{
		{"a maker fill for an order the account does not know", "account A", "which the account does not know",
			func(e *env, a *accountEntry) {
				e.x.root.Send(a.pid, &makerFillMsg{sym: 0, fill: book.Fill{MakerID: 999_999, Price: 3_000_000, Qty: 1, MakerRemaining: 0}})
			}},
		{"a taker result for an order the account does not know", "account A", "which the account does not know",
			func(e *env, a *accountEntry) {
				e.x.root.Send(a.pid, &takerResultMsg{sym: 0, id: 999_999, code: book.OK, status: book.StatusFilled})
			}},
		{"risk refusing an ADL close", "account A", "risk refused an ADL close",
			func(e *env, a *accountEntry) {
				e.x.root.Send(a.pid, &adlCloseMsg{sym: 0, side: book.Buy, qty: 1, price: 0, bankrupt: a.pid, name: "ghost"})
			}},
		{"the fund asked to reserve under no id", "fund", "could not reserve coverage",
			func(e *env, a *accountEntry) { e.x.root.Send(e.x.fund, &reserveMsg{id: 0, from: a.pid}) }},
		{"the fund asked to settle a reservation it never made", "fund", "could not settle a liquidation",
			func(e *env, a *accountEntry) {
				e.x.root.Send(e.x.fund, &settleMsg{id: 4242, acct: a.id, name: "A", sym: "BTC-PERP", pnl: -1})
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := demoEnv(t)
			e.deposit("A", "100000")
			e.deposit("B", "100000")
			e.mustPlace("B", "BTC-PERP", wire.Sell, "30000", "0.01")
			e.mustPlace("A", "BTC-PERP", wire.Buy, "30000", "0.01", wire.IOC) // A holds a long
			a := e.x.accounts.get(e.x, "A")
			c.send(e, a)
			r, reason := e.waitFailure(c.who)
			if !strings.Contains(reason, c.reason) {
				t.Fatalf("reason %q, want %q", reason, c.reason)
			}
			if halted := c.who != "account A"; r.Halted != halted || (halted && r.OK) {
				t.Fatalf("halted %v: %s", r.Halted, r.String())
			}
		})
	}
}
