package actors

import (
	"strings"
	"testing"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// Adversarial scenarios, fourth round: the liquidation's price bound
// (linear, inverse, socialized), the past-close cancel racing fills and
// amends, conditional orders firing as closes, ADL at a bankruptcy price
// far from the mark.

// placeAsync sends acct's order and returns where its reply will come.
func (e *env) placeAsync(acct string, req wire.PlaceOrder) <-chan wire.OrderReply {
	ch := make(chan wire.OrderReply, 1)
	e.x.PlaceOrder(acct, req, func(r wire.OrderReply) { ch <- r })
	return ch
}

// cancelAsync sends acct's cancel of TEST-PERP order id and returns where
// its reply will come, once acct's actor has forwarded it to the book.
func (e *env) cancelAsync(acct, id string) <-chan wire.OrderReply {
	ch := make(chan wire.OrderReply, 1)
	e.x.CancelOrder(acct, wire.Cancel{Symbol: tsym, OrderID: id}, func(r wire.OrderReply) { ch <- r })
	e.drained(acct)
	return ch
}

// cancel cancels acct's TEST-PERP order id.
func (e *env) cancel(acct, id string) {
	e.t.Helper()
	if r := <-e.cancelAsync(acct, id); !r.OK {
		e.t.Fatalf("%s's cancel of %s: %+v", acct, id, r.Reply)
	}
}

// holdBook pauses sym's book; the returned func lets it go on.
func (e *env) holdBook(sym string) func() {
	until := make(chan struct{})
	e.x.root.Send(e.x.symbol(sym).pid, &pauseMsg{until: until})
	return func() { close(until) }
}

// markLeavesFund moves TEST-PERP's index to mark, audits, and fails unless
// the fund holds want after it (why: what it paid).
func (e *env) markLeavesFund(mark, want, why string) AuditReport {
	e.t.Helper()
	e.index(tsym, mark)
	a := e.audit()
	if f := e.fundBalance(); !f.Equal(dec(want)) {
		e.t.Fatalf("fund %s, want %s (%s)", f, want, why)
	}
	return a
}

// TestPairAtLiquidationBound: the known gap, held to its bound. Alice and
// carol hold opposite positions; carol rests a bid at alice's bound
// (3000 × 0.95 = 2850) and one a tick beyond it. The mark liquidates alice:
// her IOC sells to the bid at 2850 and the fund pays 150 (s·B), not a unit
// more; the bid beyond stays. Repeated, each round costs the pair a
// liquidation's margin and a mark move, and the fund s·B per unit.
func TestPairAtLiquidationBound(t *testing.T) {
	e := pairEnv(t, "750")
	e.fundDeposit("10000")
	e.openPosition("alice", "carol", wire.Buy, "3750", "1", 5) // bankruptcy 3000
	e.mustPlace("carol", tsym, wire.Buy, "2850", "1")
	beyond := e.mustPlace("carol", tsym, wire.Buy, "2849", "1")
	a := e.markLeavesFund("3100", "9850", "the bound's 150")
	if e.position("carol", tsym) != nil || !a.Conserved() || a.Uncovered != 0 {
		t.Fatalf("carol %+v, audit %s", e.position("carol", tsym), a)
	}
	e.orderOpen("carol", beyond.OrderID)
	// carol: +900 on the short, alice −750: the pair's 150 is the fund's.
	if c, al := balance(t, e.state("carol")), balance(t, e.state("alice")); !dec(c).Equal(dec("100900")) || !dec(al).IsZero() {
		t.Fatalf("carol %s, alice %s", c, al)
	}
}

// TestInverseLiquidationBound: the bound's direction on an inverse symbol
// (prices in USD, money in BTC): a long's sell no lower than B·(1 − s), a
// short's buy no higher than B·(1 + s), each rounded toward B. The pair's
// order at the bound fills, its order a tick beyond is left, the rest goes
// to ADL at B against the pair's other account, and the fund pays no more
// than the bound's loss.
func TestInverseLiquidationBound(t *testing.T) {
	for _, side := range []wire.Side{wire.Buy, wire.Sell} {
		t.Run(string(side), func(t *testing.T) {
			e := invEnv(t, "0.0501875") // 0.25 BTC at 5x and the opening fee
			e.fundDepositIn("BTC", "10")
			e.openPosition("alice", "carol", side, "40000", "10000", 5)
			p := e.position("alice", tsym)
			bk := p.BankruptcyPrice
			opp, mark := wire.Sell, p.LiquidationPrice.Add(dec("100"))
			bound := bk.Mul(dec("1.05")).Div(dec("0.5")).Floor().Mul(dec("0.5"))
			beyond := bound.Add(dec("0.5"))
			if side == wire.Buy {
				opp, mark = wire.Buy, p.LiquidationPrice.Sub(dec("100"))
				bound = bk.Mul(dec("0.95")).Div(dec("0.5")).Ceil().Mul(dec("0.5"))
				beyond = bound.Sub(dec("0.5"))
			}
			at := e.mustPlace("carol", tsym, opp, bound.String(), "5000")
			far := e.mustPlace("carol", tsym, opp, beyond.String(), "10000")
			e.index(tsym, mark.String())
			if a := e.audit(); !a.Conserved() || a.Uncovered != 0 {
				t.Fatalf("audit %s", a)
			}
			if e.liquidations("alice") != 1 {
				t.Fatalf("alice %+v not liquidated at mark %s", p, mark)
			}
			e.orderCanceled("carol", far.OrderID) // unfilled; the ADL close made it an open
			adl := e.rec.events("carol", wire.EventADL)
			if len(adl) != 1 || !adl[0].ADL.Price.Equal(bk) || !adl[0].ADL.Qty.Equal(dec("5000")) {
				t.Fatalf("carol's ADL closes %+v (bankruptcy %s, bound %s)", adl, bk, bound)
			}
			for _, o := range e.state("carol").OpenOrders {
				if o.OrderID == at.OrderID {
					t.Fatalf("carol's order at the bound %s was left: %+v", bound, o)
				}
			}
			// Half at the bound: the fund pays at most |5000/bound − 5000/B|,
			// and a unit of 1e-8 BTC of rounding.
			loss := dec("5000").Div(bound).Sub(dec("5000").Div(bk)).Abs().Add(dec("0.00000001"))
			if f := e.fundState().Balances["BTC"]; f.LessThan(dec("10").Sub(loss)) {
				t.Fatalf("the fund paid the pair %s, the bound's loss is %s", dec("10").Sub(f), loss)
			}
		})
	}
}

// TestSocializedPairAtBound: the known gap with an empty fund on a
// socialized symbol. Alice's long (against carol's short) is liquidated
// into carol's bid at the bound, 150 below the bankruptcy price; the
// shortfall is spread over the shorts in profit by profit, carol among
// them for the profit she took out by that very fill: the pair nets what
// dave pays, at most the bound's 150 (DESIGN.md's known gap).
func TestSocializedPairAtBound(t *testing.T) {
	sym := socializedSymbol(t, tsym, longTiers()...)
	e := pairEnv(t, "750", sym)
	e.deposit("dave", "100000")
	e.openPosition("alice", "carol", wire.Buy, "3750", "1", 5) // bankruptcy 3000
	e.openPosition("dave", "bob", wire.Sell, "3750", "1", 1)   // another winner when the mark falls
	e.mustPlace("carol", tsym, wire.Buy, "2850", "1")
	e.index(tsym, "3100")
	a := e.audit()
	if a.Uncovered != 0 || !a.Conserved() || !e.fundBalance().IsZero() {
		t.Fatalf("fund %s, audit %s", e.fundBalance(), a)
	}
	carol, dave := dec(balance(t, e.state("carol"))), dec(balance(t, e.state("dave")))
	t.Logf("carol %s, dave %s", carol, dave)
	// The 150 is paid by the winners: dave from his short's profit, carol
	// from the 900 her close took out. Her close raced the first round,
	// which charged her position (gone: nothing), so the second spread
	// the rest by what each still held (650 against dave's 575).
	paid, kept := dec("100000").Sub(dave), carol.Sub(dec("100900"))
	if paid.Sign() <= 0 || !paid.Sub(kept).Equal(dec("150")) {
		t.Fatalf("dave paid %s, carol %s of the 150", paid, kept.Neg())
	}
}

// drained returns once acct's actor has handled everything sent to it
// before (a request it forwards to a book is then in that book's mailbox).
func (e *env) drained(acct string) {
	e.t.Helper()
	ent := e.x.accounts.get(e.x, acct)
	call(e.t, func(d func(bool)) { e.x.root.Send(ent.pid, &testHook{fn: func(*accountActor) { d(true) }}) })
}

// isolatedOther gives alice, cross long 1 at 3750 in TEST-PERP on cash,
// an isolated OTHER-PERP at leverage 5 (bob, carol at 5 there too).
func isolatedOther(t *testing.T, cash string) *env { return otherEnv(t, cash, wire.MarginIsolated) }

// otherEnv is isolatedOther with alice's OTHER-PERP in mode.
func otherEnv(t *testing.T, cash string, mode wire.MarginModeName) *env {
	t.Helper()
	return otherEnvWith(t, cash, mode, testSymbol(t, tsym, longTiers()...))
}

// otherEnvWith is otherEnv with test as TEST-PERP.
func otherEnvWith(t *testing.T, cash string, mode wire.MarginModeName, test *market.Symbol) *env {
	t.Helper()
	e := pairEnv(t, cash, test, testSymbol(t, otherSym, longTiers()...))
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.marginModeIn("alice", otherSym, mode)
	for _, a := range []string{"alice", "bob", "carol"} {
		e.leverage(a, otherSym, 5)
	}
	e.leverage("carol", tsym, 5)
	return e
}

const otherSym = "OTHER-PERP"

// takeBehind has carol send an IOC buy of 1 at price to the held TEST-PERP
// book, queued there ahead of whatever alice does next, and returns its
// reply's channel.
func (e *env) takeBehind(price string) <-chan wire.OrderReply {
	r := e.placeAsync("carol", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec(price), Qty: dec("1"), TIF: wire.IOC})
	e.drained("carol")
	return r
}

// raceAudit lets the book go, then liquidates alice's isolated
// OTHER-PERP long if she holds one (the mark at its liquidation price;
// bob's short takes it by ADL at its bankruptcy price), and checks that
// nobody paid for carol's buy: the fund untouched, nothing uncovered. A
// sell filled past its bankruptcy price left the cash negative behind the
// isolated margin, and that liquidation handed it to the fund.
func (e *env) raceAudit(release func(), buy <-chan wire.OrderReply) {
	e.t.Helper()
	release()
	r := <-buy
	liqs := 0
	if p := e.position("alice", otherSym); p != nil {
		e.index(otherSym, p.LiquidationPrice.String())
		liqs = 1
	}
	if a := e.audit(); a.Uncovered != 0 || !e.fundBalance().IsZero() || e.liquidations("alice") != liqs {
		e.t.Fatalf("carol's buy %+v %+v; fund %s, %d liquidations, audit %s", r.Reply, r.Order, e.fundBalance(), e.liquidations("alice"), a)
	}
}

// TestAddMarginRacesRestingClose: alice, cross long 1 at 3750 on 2250 of
// cash (bankrupt at 1500), rests a sell at 1875. Carol's buy there is
// queued at the book when alice moves 500 into an isolated position: the
// cash left (1750) puts her bankruptcy price at 2000, past the sell, whose
// cancel then reaches the book behind carol's buy. Filled, the sell lost
// 1875 of 1750: the cash ended negative, and nobody paid the 125. Adding
// margin is now refused like a withdrawal while a close would be past.
func TestAddMarginRacesRestingClose(t *testing.T) {
	e := isolatedOther(t, "3000")
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1")
	e.mustPlace("alice", otherSym, wire.Buy, "3750", "1", wire.IOC) // margin 750: cash 2250
	e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	release := e.holdBook(tsym)
	buy := e.takeBehind("1875") // within: it fills, at no one's cost
	r := e.positionMarginIn("alice", otherSym, "500")
	e.raceAudit(release, buy)
	if r.OK || r.Error.Code != wire.CodeInsufficientMargin {
		t.Fatalf("margin added past the resting sell: %+v", r.Reply)
	}
}

// positionMarginIn moves delta into acct's isolated sym position.
func (e *env) positionMarginIn(acct, sym, delta string) wire.PositionMarginReply {
	e.t.Helper()
	return call(e.t, func(d func(wire.PositionMarginReply)) {
		e.x.MovePositionMargin(acct, wire.PositionMargin{Symbol: sym, Delta: dec(delta)}, d)
	})
}

// TestIsolatedOpenRacesRestingClose: alice, cross long 1 at 3750 on 2000
// (bankrupt at 1750), rests a sell at 1875; carol's buy there is queued at
// the book when alice opens an isolated long whose 750 of margin leaves
// the cash only as it fills. Accepted, its fill put the sell past (the
// bankruptcy price at 2500) and sent the cancel behind carol's buy: the
// sell lost 1875 of the 1250 of cash left, and when the isolated long was
// liquidated the 625 below zero went to the fund (uncovered here). The
// open is now refused at placement; carol's buy fills the sell, within.
func TestIsolatedOpenRacesRestingClose(t *testing.T) {
	e := isolatedOther(t, "2000")
	sell := e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1")
	release := e.holdBook(tsym)
	buy := e.takeBehind("1875")
	o := e.place("alice", otherSym, wire.Buy, "3750", "1", wire.IOC)
	e.raceAudit(release, buy)
	e.isolatedOpenRefused(o, sell.OrderID)
	if p := e.position("alice", tsym); p != nil {
		t.Fatalf("carol's buy did not take the sell, within: alice %+v", p)
	}
}

// isolatedOpenRefused fails unless r is the refusal of an isolated open
// that would put order close past its bound.
func (e *env) isolatedOpenRefused(r wire.OrderReply, close string) {
	e.t.Helper()
	if r.OK || r.Error.Code != wire.CodeInsufficientMargin || !strings.Contains(r.Error.Message, "isolated order's margin") ||
		!strings.Contains(r.Error.Message, "order "+close+" ") {
		e.t.Fatalf("isolated open past the resting sell %s: %+v", close, r.Reply)
	}
}

// closeRefused fails unless r is the refusal of a close past its bound
// once the resting isolated opens take their margin out of the cash.
func (e *env) closeRefused(r wire.OrderReply) {
	e.t.Helper()
	e.closeRefusedSaying(r, "resting isolated opening orders")
}

// closeRefusedSaying fails unless r refused a close past its bound
// (INSUFFICIENT_MARGIN) saying why.
func (e *env) closeRefusedSaying(r wire.OrderReply, why string) {
	e.t.Helper()
	if r.OK || r.Error.Code != wire.CodeInsufficientMargin || !strings.Contains(r.Error.Message, why) {
		e.t.Fatalf("a close past its bound (%s): %+v", why, r.Reply)
	}
}

// TestRestingIsolatedOpenRefusesClose: the other order of placement.
// Alice's isolated buy rests first (750 of margin and fee reserved, out
// of the cash once it fills); a sell at 1875 would then be past the
// bankruptcy price that leaves (2500), so it is refused, while one at
// 2500 is accepted. Bob fills the open and carol's buys find the sell at
// 2500 and nothing at 1875; liquidated, the isolated long costs the fund
// nothing.
func TestRestingIsolatedOpenRefusesClose(t *testing.T) {
	e := isolatedOther(t, "2000")
	e.mustPlace("alice", otherSym, wire.Buy, "3750", "1")
	e.closeRefused(e.place("alice", tsym, wire.Sell, "1875", "1"))
	within := e.mustPlace("alice", tsym, wire.Sell, "2500", "1")
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1", wire.IOC) // alice's margin leaves the cash: bankrupt at 2500
	e.x.quiesce()
	e.orderOpen("alice", within.OrderID)
	release := e.holdBook(tsym)
	e.raceAudit(release, e.takeBehind("1875"))
	if e.position("carol", tsym) != nil {
		t.Fatalf("carol bought at 1875: %+v", e.position("carol", tsym))
	}
	e.carolTakes("2500")
	if p := e.position("alice", tsym); p != nil {
		t.Fatalf("carol did not take the sell at 2500: alice %+v", p)
	}
}

// TestAmendIsolatedOpenPastClose: amends are held to both rules. Alice
// (cross long 1 at 3750 on 2000: bankrupt at 1750) rests an isolated buy
// at 1900 (380 reserved: bankrupt at 2130 once it fills) and a sell at
// 2200, within. Amending the buy to 3750 (750: 2500) would put the sell
// past: refused; amending the sell to 2100 too. Both stay as they were;
// a buy amended down and a sell amended nearer the mark go through.
func TestAmendIsolatedOpenPastClose(t *testing.T) {
	e := isolatedOther(t, "2000")
	open := e.mustPlace("alice", otherSym, wire.Buy, "1900", "1")
	sell := e.mustPlace("alice", tsym, wire.Sell, "2200", "1")
	amend := func(sym, id, price string) wire.OrderReply {
		return call(t, func(d func(wire.OrderReply)) {
			e.x.AmendOrder("alice", wire.Amend{Symbol: sym, OrderID: id, Price: dec(price)}, d)
		})
	}
	e.isolatedOpenRefused(amend(otherSym, open.OrderID, "3750"), sell.OrderID)
	e.closeRefused(amend(tsym, sell.OrderID, "2100"))
	if r := amend(otherSym, open.OrderID, "1875"); !r.OK { // less margin: nothing to check
		t.Fatalf("amend the buy down: %+v", r.Reply)
	}
	if r := amend(tsym, sell.OrderID, "2300"); !r.OK {
		t.Fatalf("amend the sell nearer the mark: %+v", r.Reply)
	}
	e.x.quiesce()
	for _, o := range e.state("alice").OpenOrders {
		if o.OrderID == open.OrderID && !o.Price.Equal(dec("1875")) || o.OrderID == sell.OrderID && !o.Price.Equal(dec("2300")) {
			t.Fatalf("open order %+v", o)
		}
	}
	e.carolTakes("2300")
	if a := e.audit(); !a.OK || a.Uncovered != 0 {
		t.Fatalf("audit %s", a)
	}
}

// TestIsolatedOpenWithinRestingClose: the check refuses nothing harmless.
// Alice (cross long 1 at 3750 on 2000) holds a sell at 2500 and opens an
// isolated long of 750 margin (bankrupt at 2500 after it): in either
// order of placement both are accepted, the sell stays through the fill,
// and carol takes it at no one's cost.
func TestIsolatedOpenWithinRestingClose(t *testing.T) {
	for _, sellFirst := range []bool{true, false} {
		e := isolatedOther(t, "2000")
		var sell *wire.Order
		if sellFirst {
			sell = e.mustPlace("alice", tsym, wire.Sell, "2500", "1")
		}
		e.mustPlace("alice", otherSym, wire.Buy, "3750", "1")
		if !sellFirst {
			sell = e.mustPlace("alice", tsym, wire.Sell, "2500", "1")
		}
		e.mustPlace("bob", otherSym, wire.Sell, "3750", "1", wire.IOC)
		e.x.quiesce()
		if p := e.position("alice", otherSym); p == nil {
			t.Fatalf("sell first %v: the isolated open did not fill", sellFirst)
		}
		e.orderOpen("alice", sell.OrderID)
		e.carolTakes("2500")
		if p := e.position("alice", tsym); p != nil {
			t.Fatalf("sell first %v: carol did not take the sell: alice %+v", sellFirst, p)
		}
	}
}

// TestStopLimitFiresPastBankruptcy: an untriggered stop is no order risk
// sees, so neither its placement nor a withdrawal checks its limit against
// the bankruptcy price. Alice (long 1 at 3750 on 10000) arms a stop-limit
// sell at 1875 triggered at 3200, withdraws down to 1250 of cash
// (bankrupt at 2500), and carol bids 1875. The mark fires the stop: the
// sell would lose 1875 of 1250, so it is refused as it fires (the
// placement's BeyondBankruptcy), and the fund pays nothing.
func TestStopLimitFiresPastBankruptcy(t *testing.T) {
	e := pairEnv(t, "10000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.StopLimit, Price: dec("1875"), Qty: dec("1"),
		TIF: wire.GTC, TriggerPrice: dec("3200"), ReduceOnly: true, ClientOrderID: "sl"}); !r.OK {
		t.Fatalf("stop-limit: %+v", r.Reply)
	}
	if r := e.withdraw("alice", "8750"); !r.OK {
		t.Fatalf("withdrawal behind an untriggered stop: %+v", r.Reply)
	}
	e.leverage("carol", tsym, 5)
	e.mustPlace("carol", tsym, wire.Buy, "1875", "1")
	e.index(tsym, "3150") // fires the stop; alice (liquidation 2600) is not liquidated
	a := e.audit()
	if p := e.position("alice", tsym); p == nil || e.position("carol", tsym) != nil {
		t.Fatalf("the stop sold into carol's bid past alice's bankruptcy price: alice %+v", p)
	}
	if a.Uncovered != 0 || !e.fundBalance().IsZero() || e.liquidations("alice") != 0 {
		t.Fatalf("fund %s, audit %s", e.fundBalance(), a)
	}
	var last *wire.Order
	for _, ev := range e.rec.events("alice", wire.EventOrder) {
		if ev.Order.ClientOrderID == "sl" {
			last = ev.Order
		}
	}
	if last == nil || last.Status == wire.StatusNew || last.Status == wire.StatusUntriggered || last.FilledQty.Sign() != 0 {
		t.Fatalf("the stop's last event %+v: it never fired, or filled", last)
	}
	t.Logf("the stop: %s", last.Status)
}

// pastCloseRace: alice, cross long 1 at 3750 on 2000 (bankrupt at 1750),
// rests a sell at 1875 and bob a sell of OTHER-PERP at 3750, whose taking
// by alice's IOC buy puts her sell past (the equity split: 2750); the
// TEST-PERP book is held until release.
func pastCloseRace(t *testing.T) (e *env, sell *wire.Order, release func()) {
	t.Helper()
	e = otherEnv(t, "2000", wire.MarginCross)
	sell = e.mustPlace("alice", tsym, wire.Sell, "1875", "1")
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1")
	return e, sell, e.holdBook(tsym)
}

// TestAmendRacesPastCloseCancel: alice's sell at 1875 is past her
// bankruptcy price once her second cross open fills (its share of the
// equity falls to 1000), and its cancel is on its way while she amends it
// (once before the fill, once after): the book holds them all. Whatever order they reach it in, the sell ends canceled
// by the bound, nothing fills it, and the reservations agree with the
// book.
func TestAmendRacesPastCloseCancel(t *testing.T) {
	for _, early := range []bool{true, false} {
		e, sell, release := pastCloseRace(t)
		amend := func(price string) <-chan wire.OrderReply {
			ch := make(chan wire.OrderReply, 1)
			e.x.AmendOrder("alice", wire.Amend{Symbol: tsym, OrderID: sell.OrderID, Price: dec(price)}, func(r wire.OrderReply) { ch <- r })
			e.drained("alice")
			return ch
		}
		var am <-chan wire.OrderReply
		if early {
			am = amend("1900")
		}
		e.mustPlace("alice", otherSym, wire.Buy, "3750", "1", wire.IOC) // the equity split: bankrupt at 2750
		if !early {
			am = amend("1900")
		}
		release()
		r := <-am
		buy := e.placeAsync("carol", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("1900"), Qty: dec("1"), TIF: wire.IOC})
		if b := <-buy; !b.OK || b.Order.FilledQty.Sign() != 0 {
			t.Fatalf("early %v: amend %+v; carol's buy %+v %+v", early, r.Reply, b.Reply, b.Order)
		}
		if a := e.audit(); a.Uncovered != 0 || !e.fundBalance().IsZero() {
			t.Fatalf("early %v: fund %s, audit %s", early, e.fundBalance(), a)
		}
		e.pastBoundCanceled("alice", sell.OrderID)
	}
}

// TestADLAtBankruptcyFarFromMark: the index gaps from 3750 to 2000, far
// below alice's bankruptcy price (3000), and no bid is within the bound
// (the band at the new mark reaches 3000, so the IOC goes out and finds
// nothing). The leg closes by ADL at 3000 against carol, the pair's short:
// carol realizes 750 instead of the 1750 the mark shows, the fund pays
// nothing, and whether or not carol is the one ranked first, the pair
// gains nothing from the fund.
func TestADLAtBankruptcyFarFromMark(t *testing.T) {
	e := pairEnv(t, "750")
	e.fundDeposit("10000")
	e.openPosition("alice", "carol", wire.Buy, "3750", "1", 5)
	e.index(tsym, "2000")
	a := e.audit()
	if !e.fundBalance().Equal(dec("10000")) || a.Uncovered != 0 || e.liquidations("alice") != 1 {
		t.Fatalf("fund %s, audit %s", e.fundBalance(), a)
	}
	adl := e.rec.events("carol", wire.EventADL)
	if len(adl) != 1 || !adl[0].ADL.Price.Equal(dec("3000")) || e.position("carol", tsym) != nil {
		t.Fatalf("carol's ADL closes %+v", adl)
	}
	if c := balance(t, e.state("carol")); !dec(c).Equal(dec("100750")) {
		t.Fatalf("carol %s, want 100750", c)
	}
}

// TestRestingIsolatedOpenHoldsWithdrawAndMarketClose: a resting isolated
// open's margin counts as gone for what else moves the cash or closes.
// Alice (cross long 1 at 3750) rests an isolated buy of 750 margin and a
// sell at 2600. On 3000 of cash, a withdrawal of 1200 would leave the sell
// past the bound once the buy fills (1050 left: 2700) and is refused; 1000
// (2500) goes through. Then carol bids 2000, within the bound at the cash
// (1750 on 2000) but past the one the buy leaves: alice's market sell
// stops there and expires, where it sold to carol and the buy's fill then
// took the cash below zero behind the isolated margin.
func TestRestingIsolatedOpenHoldsWithdrawAndMarketClose(t *testing.T) {
	e := isolatedOther(t, "3000")
	e.mustPlace("alice", otherSym, wire.Buy, "3750", "1")
	sell := e.mustPlace("alice", tsym, wire.Sell, "2600", "1")
	if r := e.withdraw("alice", "1200"); r.OK || r.Error.Code != wire.CodeInsufficientMargin || !strings.Contains(r.Error.Message, "order "+sell.OrderID+" ") {
		t.Fatalf("withdrawal past the sell once the isolated buy fills: %+v", r.Reply)
	}
	if r := e.withdraw("alice", "1000"); !r.OK {
		t.Fatalf("withdrawal within: %+v", r.Reply)
	}
	if c := call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: tsym, OrderID: sell.OrderID}, d)
	}); !c.OK {
		t.Fatalf("cancel: %+v", c.Reply)
	}
	e.mustPlace("carol", tsym, wire.Buy, "2000", "1")
	m := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")})
	if !m.OK || m.Order.FilledQty.Sign() != 0 {
		t.Fatalf("market sell into the bid past the bound: %+v %+v", m.Reply, m.Order)
	}
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1", wire.IOC)
	release := e.holdBook(tsym)
	e.raceAudit(release, e.takeBehind("1875"))
}
