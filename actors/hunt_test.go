package actors

import (
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// Adversarial scenarios, sixth round: what an ADL close, a conditional
// order and an amend leave of the bankruptcy bound and the isolated
// reservation.

// lastOrderEvent is the order in acct's last order event of order id (or
// client order id), once quiescent; nil when none.
func (e *env) lastOrderEvent(acct, id string) *wire.Order {
	e.t.Helper()
	e.x.quiesce()
	var last *wire.Order
	for _, ev := range e.rec.events(acct, wire.EventOrder) {
		if ev.Order.OrderID == id || ev.Order.ClientOrderID == id {
			last = ev.Order
		}
	}
	return last
}

// orderCanceled fails unless acct's order id ended canceled, unfilled.
func (e *env) orderCanceled(acct, id string) {
	e.t.Helper()
	last := e.lastOrderEvent(acct, id)
	if last == nil || last.Status != wire.StatusCanceled || last.FilledQty.Sign() != 0 {
		e.t.Fatalf("order %s's last event %+v: not canceled unfilled", id, last)
	}
}

// adlAgainstAlice: alice's isolated long of qty at 3750 at leverage 1
// (all her cash its margin) rests sells of 1 at 5625, closes reserving
// nothing; dave's cross short of 1 (bob sells her the rest) is liquidated
// at 4300 and closes by ADL at its bankruptcy price 4500 against her.
// The fund holds 10000.
func adlAgainstAlice(t *testing.T, qty string, sells int) (e *env, ids []string) {
	t.Helper()
	e = pairEnv(t, "0")
	e.fundDeposit("10000")
	e.deposit("alice", dec(qty).Mul(dec("3750")).String())
	e.deposit("dave", "750")
	e.marginMode("alice", wire.MarginIsolated)
	e.leverage("alice", tsym, 1)
	e.leverage("dave", tsym, 5)
	e.leverage("bob", tsym, 5)
	e.mustPlace("dave", tsym, wire.Sell, "3750", "1")
	if rest := dec(qty).Sub(dec("1")); rest.Sign() > 0 {
		e.mustPlace("bob", tsym, wire.Sell, "3750", rest.String())
	}
	e.mustPlace("alice", tsym, wire.Buy, "3750", qty, wire.IOC)
	for range sells {
		ids = append(ids, e.mustPlace("alice", tsym, wire.Sell, "5625", "1").OrderID)
	}
	e.index(tsym, "4300")
	e.x.quiesce()
	if adl := e.rec.events("alice", wire.EventADL); len(adl) != 1 || e.liquidations("dave") != 1 {
		t.Fatalf("alice's ADL closes %+v", adl)
	}
	e.leverage("carol", tsym, 5)
	return e, ids
}

// TestADLCloseTurnsCloseIntoOpen: alice's isolated long of 1 at 3750 at
// leverage 1 rests a sell at 5625 (adlAgainstAlice); the ADL close leaves
// her flat on 4500 of cash, and the sell is now an isolated open needing
// 5625 of margin, never checked as one. Carol (her second account) took
// it: the open's margin took the cash to −1125, and the short's
// liquidation handed that to the fund (10000 → 8875). The ADL close now
// cancels it.
func TestADLCloseTurnsCloseIntoOpen(t *testing.T) {
	e, ids := adlAgainstAlice(t, "1", 1)
	b := e.mustPlace("carol", tsym, wire.Buy, "5625", "1", wire.IOC)
	if p := e.position("alice", tsym); p != nil {
		e.index(tsym, p.LiquidationPrice.String())
	}
	if a := e.audit(); a.Uncovered != 0 || !e.fundBalance().Equal(dec("10000")) || b.FilledQty.Sign() != 0 {
		t.Fatalf("carol's buy filled %s; fund %s, audit %s", b.FilledQty, e.fundBalance(), a)
	}
	e.orderCanceled("alice", ids[0])
}

// TestADLCloseKeepsTheCloses: of alice's long of 2, the ADL close takes
// 1; of her two sells only the newer, now an open, is canceled, and the
// older still closes what is left.
func TestADLCloseKeepsTheCloses(t *testing.T) {
	e, ids := adlAgainstAlice(t, "2", 2)
	e.orderCanceled("alice", ids[1])
	e.orderOpen("alice", ids[0])
	if b := e.mustPlace("carol", tsym, wire.Buy, "5625", "2", wire.IOC); !b.FilledQty.Equal(dec("1")) || e.position("alice", tsym) != nil {
		t.Fatalf("carol's buy %+v", b)
	}
	if a := e.audit(); a.Uncovered != 0 || !e.fundBalance().Equal(dec("10000")) {
		t.Fatalf("fund %s, audit %s", e.fundBalance(), a)
	}
}

// isolatedAlice is pairEnv with alice's TEST-PERP isolated at lev, bob's
// and carol's at 5, and 10000 in the fund.
func isolatedAlice(t *testing.T, alice string, lev int64) *env {
	t.Helper()
	e := pairEnv(t, alice)
	e.fundDeposit("10000")
	e.marginMode("alice", wire.MarginIsolated)
	e.leverage("alice", tsym, lev)
	e.leverage("bob", tsym, 5)
	e.leverage("carol", tsym, 5)
	return e
}

// amendAsync sends acct's amend of TEST-PERP order id to price and returns
// where its reply will come, once acct's actor has sent it to the book.
func (e *env) amendAsync(acct, sym, id, price string) <-chan wire.OrderReply {
	ch := make(chan wire.OrderReply, 1)
	e.x.AmendOrder(acct, wire.Amend{Symbol: sym, OrderID: id, Price: dec(price)}, func(r wire.OrderReply) { ch <- r })
	e.drained(acct)
	return ch
}

// TestAmendDownRacesFill: alice's isolated buy of 1 at 3750 reserves all
// her 750. Bob's sell at 3750 is queued at the held book when she amends
// the buy down to 1875 (375 reserved, checked as a new order) and
// withdraws the 375 that frees: the book fills the buy as it was, taking
// 750 of margin from 375 of cash. The cash was −375 behind the isolated
// margin, and the long's liquidation handed it to the fund. Or she bids
// 1875 with it, and carol's sell fills that too: the same −375. While the
// amend is on its way risk now holds the larger of the two reservations,
// so the withdrawal and the bid are refused.
func TestAmendDownRacesFill(t *testing.T) {
	for _, bid := range []bool{false, true} {
		e := isolatedAlice(t, "750", 5)
		buy := e.mustPlace("alice", tsym, wire.Buy, "3750", "1")
		release := e.holdBook(tsym)
		sell := e.placeAsync("bob", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, Price: dec("3750"), Qty: dec("1"), TIF: wire.IOC})
		e.drained("bob")
		am := e.amendAsync("alice", tsym, buy.OrderID, "1875")
		var used wire.Reply
		var placed <-chan wire.OrderReply
		if bid { // its reply comes from the held book, when accepted
			placed = e.placeAsync("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("1875"), Qty: dec("1"), TIF: wire.GTC})
			e.drained("alice")
		} else {
			used = e.withdraw("alice", "375").Reply
		}
		release()
		<-sell
		<-am
		if bid {
			used = (<-placed).Reply
		}
		if bid {
			e.place("carol", tsym, wire.Sell, "1875", "1", wire.IOC)
		}
		if p := e.position("alice", tsym); p != nil {
			e.index(tsym, p.LiquidationPrice.String())
		}
		if a := e.audit(); a.Uncovered != 0 || !e.fundBalance().Equal(dec("10000")) {
			t.Fatalf("bid %v: %+v; fund %s, audit %s", bid, used, e.fundBalance(), a)
		}
		if used.OK {
			t.Fatalf("bid %v: the margin an amend on its way frees, used: %+v", bid, used)
		}
	}
}

// TestLeverageRaiseOpensBankrupt: alice's isolated buy at 5625 (the band's
// top, mark 3750) passes at leverage 1: its 5625 of margin survives the
// 1875 it loses against the mark. At leverage 5 it would be refused
// (risk.WouldLiquidate: 1125 of margin does not). Raised to 5 once it
// rests, it filled for bob, bankrupt at 4500 with the mark at 3750: its
// liquidation sold into carol's bid at the bound, 4275, and the fund paid
// 225. The raise is now refused, as the order would be at 5.
func TestLeverageRaiseOpensBankrupt(t *testing.T) {
	e := isolatedAlice(t, "5625", 1)
	e.mustPlace("alice", tsym, wire.Buy, "5625", "1")
	r := call(t, func(d func(wire.LeverageReply)) {
		e.x.SetLeverage("alice", wire.Leverage{Symbol: tsym, Leverage: dec("5")}, d)
	})
	e.mustPlace("carol", tsym, wire.Buy, "4275", "1")
	e.mustPlace("bob", tsym, wire.Sell, "5625", "1", wire.IOC)
	if a := e.audit(); a.Uncovered != 0 || !e.fundBalance().Equal(dec("10000")) {
		t.Fatalf("leverage %+v; fund %s, audit %s", r.Reply, e.fundBalance(), a)
	}
	if r.OK || r.Error.Code != wire.CodeInsufficientMargin || e.liquidations("alice") != 0 {
		t.Fatalf("leverage 5 behind a buy it leaves bankrupt as it fills: %+v", r.Reply)
	}
}

// TestStopFiresAsIsolatedOpenPastClose (held): alice, cross long 1 at 3750
// on 2000 (bankrupt at 1750), rests a sell at 1875 and arms a stop-market
// buy of OTHER-PERP, isolated, at mark 3800. Untriggered it reserves
// nothing, so nothing refuses it; fired, it meets the pre-trade check of
// an isolated open: its 760 of margin out of the cash would put the sell
// past (2510), so it is rejected, and carol's buy at 1875, queued behind,
// fills the sell at no one's cost.
func TestStopFiresAsIsolatedOpenPastClose(t *testing.T) {
	e := isolatedOther(t, "2000")
	sell := e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	e.mustPlace("bob", otherSym, wire.Sell, "3800", "1")
	if r := e.send("alice", wire.PlaceOrder{Symbol: otherSym, Side: wire.Buy, Type: wire.StopMarket, Qty: dec("1"), TIF: wire.IOC,
		TriggerPrice: dec("3800"), TriggerBy: wire.TriggerMark, ClientOrderID: "stop"}); !r.OK {
		t.Fatalf("stop: %+v", r.Reply)
	}
	release := e.holdBook(tsym)
	buy := e.takeBehind("1875")
	e.index(otherSym, "3800")
	e.raceAudit(release, buy)
	last := e.lastOrderEvent("alice", "stop")
	if last == nil || last.Status != wire.StatusRejected || e.position("alice", otherSym) != nil {
		t.Fatalf("the stop's last event %+v", last)
	}
	if p := e.position("alice", tsym); p != nil {
		t.Fatalf("carol's buy did not take the sell %s, within: alice %+v", sell.OrderID, p)
	}
}

// TestHedgerCloseBelowItsShare (a refusal kept): alice, cross long 1
// TEST-PERP and short 1 OTHER-PERP at 3750 on 1500 of cash, splits her
// equity by maintenance margin, half each: TEST-PERP is bankrupt at 3000 on
// its share, and liquidated (the whole equity) only at 2489. A sell at 2900
// would leave her solvent and not liquidatable, and a real exchange takes
// it; it is refused, because each symbol's resting closes are held to its
// share so that closes resting in several symbols, all filled before a
// cancel reaches one, still lose no more than the equity (the joint rule):
// bounded by what the rest's liquidation needs instead, a sell of each leg
// at its bound would together lose the equity less the maintenance
// margins (1170 here) beyond it.
func TestHedgerCloseBelowItsShare(t *testing.T) {
	e := otherEnv(t, "1500", wire.MarginCross)
	e.mustPlace("bob", otherSym, wire.Buy, "3750", "1")
	e.mustPlace("alice", otherSym, wire.Sell, "3750", "1", wire.IOC)
	p := e.position("alice", tsym)
	if !p.BankruptcyPrice.Equal(dec("3000")) || !p.LiquidationPrice.Equal(dec("2489")) {
		t.Fatalf("TEST-PERP %+v", p)
	}
	e.closeRefusedSaying(e.place("alice", tsym, wire.Sell, "2900", "1"), "bankruptcy price")
	e.mustPlace("alice", tsym, wire.Sell, "3000", "1")
}

// TestLeverageRaiseBehindMarketBuy: the market form. Alice's isolated
// market buy at leverage 1 may fill up to the band's top (5625: its
// margin survives the loss); raised to 5 while it is on its way, the fill
// at 5625 was bankrupt at once and its liquidation cost the fund 225. The
// raise is refused while the order is on its way.
func TestLeverageRaiseBehindMarketBuy(t *testing.T) {
	e := isolatedAlice(t, "5625", 1)
	e.mustPlace("carol", tsym, wire.Buy, "4275", "1")
	e.mustPlace("bob", tsym, wire.Sell, "5625", "1")
	release := e.holdBook(tsym)
	buy := e.placeAsync("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")})
	e.drained("alice")
	r := call(t, func(d func(wire.LeverageReply)) {
		e.x.SetLeverage("alice", wire.Leverage{Symbol: tsym, Leverage: dec("5")}, d)
	})
	release()
	b := <-buy
	if a := e.audit(); a.Uncovered != 0 || !e.fundBalance().Equal(dec("10000")) {
		t.Fatalf("leverage %+v, buy %+v; fund %s, audit %s", r.Reply, b.Order, e.fundBalance(), a)
	}
	if r.OK {
		t.Fatalf("leverage 5 behind a market buy it leaves bankrupt as it fills: %+v", r.Reply)
	}
}

// TestIsolatedFundingPastRestingClose (held): alice's isolated long of 2 at
// 3750 at leverage 2 (3750 of margin: bankrupt at 1875) rests a sell of 1
// at 1875 and one at 1876, and an isolated buy of OTHER-PERP rests beside
// them. A funding payment comes out of the long's margin and moves its
// bankruptcy price to 1876: the sell at 1875 is canceled, the other stays
// and carol takes it at no one's cost; the buy stays.
func TestIsolatedFundingPastRestingClose(t *testing.T) {
	cfg := testConfig(tsym, longTiers()...)
	on := true
	cfg.Funding = &on
	e := pairEnv(t, "10000", compileSymbol(t, cfg), testSymbol(t, otherSym, longTiers()...))
	for _, s := range []string{tsym, otherSym} {
		e.marginModeIn("alice", s, wire.MarginIsolated)
	}
	e.leverage("alice", tsym, 2)
	e.leverage("alice", otherSym, 5)
	e.leverage("bob", tsym, 2)
	e.mustPlace("bob", tsym, wire.Sell, "3750", "2")
	e.mustPlace("alice", tsym, wire.Buy, "3750", "2", wire.IOC)
	past := e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	within := e.mustPlace("alice", tsym, wire.Sell, "1876", "1")
	open := e.mustPlace("alice", otherSym, wire.Buy, "3000", "1")
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3750")
	e.x.quiesce()
	if p := e.position("alice", tsym); p == nil || !p.BankruptcyPrice.Equal(dec("1876")) {
		t.Fatalf("alice's long after the funding %+v", p)
	}
	e.pastBoundCanceled("alice", past.OrderID)
	e.orderOpen("alice", within.OrderID)
	e.orderOpen("alice", open.OrderID)
	e.carolTakes("1876")
}
