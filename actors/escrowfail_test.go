package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// awaitLiq polls acct's liquidation with a hook until ok holds of it (as
// TestFailedLiquidationGivesBackEveryLegsSetAside waits for its quotes).
func (e *env) awaitLiq(acct, what string, ok func(a *accountActor) bool) {
	e.t.Helper()
	e.awaitAccount(acct, what, func(a *accountActor) bool { return a.liq != nil && ok(a) })
}

// awaitAccount polls acct's actor with a hook until ok holds of it: for a
// state that no event announces, or one reached after a retry timer that
// quiesce does not wait for.
func (e *env) awaitAccount(acct, what string, ok func(a *accountActor) bool) {
	e.t.Helper()
	pid := e.x.accounts.get(e.x, acct).pid
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		got := make(chan bool, 1)
		e.x.root.Send(pid, &testHook{fn: func(a *accountActor) { got <- ok(a) }})
		if <-got {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s never %s", acct, what)
		}
	}
}

// escrowFromBAndC: on a socialized symbol A (150000) is long 200 at 3750
// against B and C (shorts of 100 each), D bids 200 at 2900 and the fund
// holds 1000; the mark falls to 3100 and A's liquidation collects its
// escrow from B and C. It returns once B has paid, with C paused before
// paying until held is closed, and B's and C's balances before. accts
// (A, B, C, D and any other) are made in that order, with leverage 5.
func escrowFromBAndC(t *testing.T, accts ...string) (e *env, before map[string]decimal.Decimal, held chan struct{}) {
	return escrowFromBAndCOn(t, nil, accts...)
}

// escrowSymbol is escrowFromBAndC's symbol.
func escrowSymbol(t *testing.T) *market.Symbol {
	return socializedSymbol(t, tsym, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"})
}

// escrowFromBAndCOn is escrowFromBAndC durable on j (nil: in memory).
func escrowFromBAndCOn(t *testing.T, j *memJournal, accts ...string) (e *env, before map[string]decimal.Decimal, held chan struct{}) {
	e = newEnvWith(t, j, escrowSymbol(t))
	e.index(tsym, "3750")
	e.fundDeposit("1000")
	for _, acct := range accts {
		dep := "1000000"
		if acct == "A" {
			dep = "150000"
		}
		e.deposit(acct, dep)
		e.leverage(acct, tsym, 5)
	}
	e.mustPlace("B", tsym, wire.Sell, "3750", "100")
	e.mustPlace("C", tsym, wire.Sell, "3750", "100")
	e.mustPlace("A", tsym, wire.Buy, "3750", "200", wire.IOC)
	e.mustPlace("D", tsym, wire.Buy, "2900", "200")
	before = map[string]decimal.Decimal{"B": e.state("B").Balances["USDT"], "C": e.state("C").Balances["USDT"]}
	held = make(chan struct{})
	e.x.root.Send(e.x.accounts.get(e.x, "C").pid, &pauseMsg{until: held})
	e.index(tsym, "3100")
	e.awaitLiq("A", "had B's payment", func(a *accountActor) bool {
		return a.e.failed.Load() || a.liq.SetAsidesDue() > 0 && a.liq.Charged() > 0 // failed: on it (FailCharged)
	})
	return e, before, held
}

// TestFailedLiquidationRefundsItsEscrow: A's socialized liquidation
// collects its escrow from B and C, shorts of 100 each; B has paid and C's
// payment waits in C's (paused) mailbox when A fails. Both payments go back
// (Abandon, and the answer after it), and the audit, which counts what a
// liquidation's winners paid as held by it, must not count B's again once
// refunded: money is conserved.
func TestFailedLiquidationRefundsItsEscrow(t *testing.T) {
	e, before, held := escrowFromBAndC(t, "A", "B", "C", "D")
	e.fail("A", func(*accountActor) {})
	close(held)
	e.failedAudit("A")
	for acct, b := range before {
		if got := e.state(acct).Balances["USDT"]; !got.Equal(b) {
			t.Errorf("%s's balance %s, %s before: its escrow was not refunded", acct, got, b)
		}
	}
}

// TestRefundToAFailedWinnerIsHeld: B, a winner that paid into A's
// socialized liquidation's escrow, fails before its payment comes back,
// when A settles (E's bid at A's bankruptcy price takes the
// IOC: the escrow is not needed) or when A fails too (Abandon). The refund
// reaches a failed account; its frozen risk state cannot take it, so it is
// held for it beside that state, and the audit counts it in the balances
// and reports it as held: money is conserved. Before, it was dropped (and
// logged) and the audit found B's payment missing.
func TestRefundToAFailedWinnerIsHeld(t *testing.T) {
	for _, c := range []struct {
		name   string
		failed []string
	}{{"settled", []string{"B"}}, {"abandoned", []string{"A", "B"}}} {
		t.Run(c.name, func(t *testing.T) {
			e, before, held := escrowFromBAndC(t, "A", "B", "C", "D", "E") // in the order failedAudit lists them
			var frozen market.Money
			e.fail("B", func(a *accountActor) { frozen = a.wallets[0].acct.Balance() })
			if c.name == "settled" {
				e.mustPlace("E", tsym, wire.Buy, "3000", "200")
			} else {
				e.fail("A", func(*accountActor) {})
			}
			close(held)
			r := e.failedAudit(c.failed...)
			paid := before["B"].Sub(frozen.Decimal())
			if !paid.IsPositive() || !r.Held.Decimal().Equal(paid) {
				t.Fatalf("B paid %s into the escrow, %s held for it: %s", paid, r.Held, r.String())
			}
			if w := r.Wire(e.x.symbols); !w.HeldForFailed.Equal(paid) {
				t.Errorf("admin.audit reports %s held for failed accounts, want %s", w.HeldForFailed, paid)
			}
			if got := e.state("C").Balances["USDT"]; !got.Equal(before["C"]) {
				t.Errorf("C's balance %s, %s before: its escrow was not refunded", got, before["C"])
			}
			if c.name == "settled" && e.liquidations("A") != 1 {
				t.Error("A's liquidation did not settle")
			}
		})
	}
}

// longAgainstB: A (750) is long 1 at 3750, leverage 5 (bankrupt at 3000),
// against B (100000); the fund holds fund.
func longAgainstB(t *testing.T, fund string) *env { return longAgainstBOn(t, nil, nil, fund) }

// longAgainstBOn is longAgainstB durable on j (nil: in memory), with the
// exchange's options changed by opts (when not nil).
func longAgainstBOn(t *testing.T, j *memJournal, opts func(*Options), fund string) *env {
	e := newEnvOpts(t, j, nil, opts, testSymbol(t, tsym, longTiers()...))
	e.index(tsym, "3750")
	if fund != "0" {
		e.fundDeposit(fund)
	}
	e.deposit("A", "750")
	e.deposit("B", "100000")
	e.openPosition("A", "B", wire.Buy, "3750", "1", 5)
	return e
}

// longAgainstBWithD is longAgainstB with a fund of 1000 and D (100000,
// leverage 5) to take A's liquidation.
func longAgainstBWithD(t *testing.T) *env { return longAgainstBWithDOn(t, nil) }

// longAgainstBWithDOn is longAgainstBWithD durable on j (nil: in memory).
func longAgainstBWithDOn(t *testing.T, j *memJournal) *env {
	e := longAgainstBOn(t, j, nil, "1000")
	e.deposit("D", "100000")
	e.leverage("D", tsym, 5)
	return e
}

// TestADLCloseOfAFailedLiquidationIsBooked: A's bankrupt long goes to ADL
// (no bid, no fund); its counterparty B closes at A's bankruptcy price
// after A failed (B was paused with the close in its mailbox). The close
// happened: B's short is gone and its profit paid, so the abandoned
// liquidation books it on its frozen leg as a live one would. Before, the
// answer was dropped: A's leg kept the lot B had closed, 1 long against 0
// short, and its value at the mark was counted twice.
func TestADLCloseOfAFailedLiquidationIsBooked(t *testing.T) {
	e := longAgainstB(t, "0")
	held := make(chan struct{})
	e.x.root.Send(e.x.accounts.get(e.x, "B").pid, &pauseMsg{until: held})
	e.index(tsym, "3100")
	e.awaitLiq("A", "sent its ADL round", func(a *accountActor) bool {
		return strings.Contains(a.liq.Describe(), "planned true pending 1")
	})
	e.fail("A", func(*accountActor) {})
	close(held)
	r := e.failedAudit("A")
	if r.Long[0] != 0 || r.Short[0] != 0 || e.position("B", tsym) != nil {
		t.Fatalf("B's close was not booked on A's leg: %s", r.String())
	}
}

// TestIOCFillOfAFailedLiquidationIsBooked: A's liquidation IOC is queued at
// the (held) book when A fails; the book then sells it into D's bid at
// 2990. D booked its long, so the abandoned liquidation books the fill on
// its frozen leg (10 below A's bankruptcy price 3000, in its gain). Before,
// the result was dropped: A's leg kept the lot, 2 long against 1 short.
func TestIOCFillOfAFailedLiquidationIsBooked(t *testing.T) {
	e := longAgainstBWithD(t)
	e.mustPlace("D", tsym, wire.Buy, "2990", "1")
	fund := make(chan struct{})
	e.x.root.Send(e.x.fund, &pauseMsg{until: fund})
	e.index(tsym, "3100")
	// Its reservation's quote is in the book's mailbox ahead of the hold.
	e.awaitLiq("A", "started", func(*accountActor) bool { return true })
	book := make(chan struct{})
	e.x.root.Send(e.x.symbol(tsym).pid, &symbolHook{fn: func(*symbolActor) { <-book }})
	close(fund)
	e.awaitLiq("A", "sent its IOC", func(a *accountActor) bool { return !strings.Contains(a.liq.Describe(), " order 0 ") })
	e.fail("A", func(*accountActor) {})
	close(book)
	r := e.failedAudit("A")
	if r.Long[0] != 1 || r.Short[0] != 1 {
		t.Fatalf("D's fill was not booked on A's leg: %s", r.String())
	}
	if p := e.position("D", tsym); p == nil || !p.Qty.Equal(dec("1")) {
		t.Fatalf("D's bid did not take the IOC: %+v", p)
	}
}
