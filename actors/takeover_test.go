package actors

import (
	"testing"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// An order of the account's own still on its way to the book (or a
// resting one a taker queued there takes) when the account's liquidation
// takes it over: the book matches it before the takeover's cancel.

// takeoverBehind: alice holds a long of 1 at 3750 at 5x (bankrupt at
// 3000) from bob, in mode, on cash; rest, when not "", is a sell of 1 of
// hers resting there, and carol rests an order of 1 on side at price ("":
// none). Her request (mine, may be nil) waits in her paused
// mailbox while the mark moves to her liquidation price (her mark behind
// it); the book is then held, a taker's order (theirs, may be nil) is
// queued there, and alice runs: her request goes to the book, then the
// mark takes her over, whose cancels queue behind both. The fund holds
// 10000; the exchange is durable.
func takeoverBehind(t *testing.T, sym *market.Symbol, mode wire.MarginModeName, cash, rest string, side wire.Side, price string,
	mine func(e *env, resting string) <-chan wire.OrderReply, theirs func(e *env) <-chan wire.OrderReply) *behindADL {
	t.Helper()
	j := &memJournal{}
	e := pairEnvWith(t, j, cash, sym)
	e.fundDeposit("10000")
	e.marginMode("alice", mode)
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.leverage("carol", tsym, 5)
	var resting string
	if rest != "" {
		resting = e.mustPlace("alice", tsym, wire.Sell, rest, "1").OrderID
	}
	if price != "" {
		e.mustPlace("carol", tsym, side, price, "1")
	}
	liqAt := e.position("alice", tsym).LiquidationPrice
	held := make(chan struct{})
	e.x.root.Send(e.x.accounts.get(e.x, "alice").pid, &pauseMsg{until: held})
	b := &behindADL{env: e, j: j, sym: sym}
	if mine != nil {
		b.reply = mine(e, resting)
	}
	e.index(tsym, liqAt.String())
	b.release = e.holdBook(tsym)
	if theirs != nil {
		b.reply = theirs(e)
		e.drained("carol")
	}
	close(held)
	e.drained("alice")
	return b
}

// carolBuys queues carol's IOC buy of 1 at price at the held book.
func carolBuys(price string) func(*env) <-chan wire.OrderReply {
	return func(e *env) <-chan wire.OrderReply {
		return e.placeAsync("carol", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, TIF: wire.IOC, Price: dec(price), Qty: dec("1")})
	}
}

// amendTo amends alice's resting order to price.
func amendTo(price string) func(*env, string) <-chan wire.OrderReply {
	return func(e *env, id string) <-chan wire.OrderReply {
		ch := make(chan wire.OrderReply, 1)
		e.x.AmendOrder("alice", wire.Amend{Symbol: tsym, OrderID: id, Price: dec(price)}, func(r wire.OrderReply) { ch <- r })
		return ch
	}
}

// liquidateLeftover moves the mark to the liquidation price of a position
// alice holds after her liquidation settled, if any, and audits.
func (b *behindADL) liquidateLeftover(sym string) AuditReport {
	b.t.Helper()
	b.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
	if p := b.position("alice", sym); p != nil {
		b.index(sym, p.LiquidationPrice.String())
	}
	return b.audit()
}

// TestTakeoverBehindClose: alice's close of her long, sent or resting,
// meets carol's bid at 3050 after the mark (3100) took her over. It
// filled in the account, flat since the takeover: an open no check
// judged. Isolated, it took 610 of margin from zero cash; the short's
// liquidation (its mark at 3519, ADL at 3660) handed the −610 to the fund
// (10000 → 9390, either mode). Cross, a
// short at 3050 on zero cash, liquidated again once the first settled;
// alice's 50 beyond the bankruptcy price went to the counterparties the
// long and the short were deleveraged against. Now the lots a fill of
// her own order closes are the leg's (liq.OrderFill): the leg closes at
// 3050 as the liquidation's execution, the fund takes the 50 of surplus,
// no ADL, nobody opens anything.
func TestTakeoverBehindClose(t *testing.T) {
	sell := func(typ wire.OrderType, tif wire.TIF, price string) func(*env, string) <-chan wire.OrderReply {
		r := wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: typ, TIF: tif, Qty: dec("1")}
		if price != "" {
			r.Price = dec(price)
		}
		return sellOf(r)
	}
	cases := []struct {
		name   string
		rest   string
		mine   func(*env, string) <-chan wire.OrderReply
		theirs func(*env) <-chan wire.OrderReply
	}{
		{"market", "", sell(wire.Market, wire.IOC, ""), nil},
		{"ioc", "", sell(wire.Limit, wire.IOC, "3050"), nil},
		{"gtc", "", sell(wire.Limit, wire.GTC, "3050"), nil},
		{"amend", "3500", amendTo("3050"), nil},
		{"resting", "3050", nil, carolBuys("3050")},
	}
	bothModes(t, func(t *testing.T, sym *market.Symbol) {
		for _, mode := range []wire.MarginModeName{wire.MarginIsolated, wire.MarginCross} {
			for _, c := range cases {
				t.Run(string(mode)+"/"+c.name, func(t *testing.T) {
					bid := "3050"
					if c.theirs != nil {
						bid = ""
					}
					b := takeoverBehind(t, sym, mode, "750", c.rest, wire.Buy, bid, c.mine, c.theirs)
					b.release()
					if r := <-b.reply; !r.OK || !r.Order.FilledQty.Equal(dec("1")) {
						t.Fatalf("the order %+v %+v", r.Reply, r.Order)
					}
					a := b.liquidateLeftover(tsym)
					if b.liquidations("alice") != 1 || b.position("alice", tsym) != nil || !b.fundBalance().Equal(dec("10050")) || a.Uncovered != 0 {
						t.Fatalf("alice liquidated %d times, holds %+v; fund %s, audit %s", b.liquidations("alice"), b.position("alice", tsym), b.fundBalance(), a)
					}
					if adl := b.rec.events("bob", wire.EventADL); len(adl) != 0 {
						t.Fatalf("bob deleveraged: %+v", adl)
					}
					if c := b.position("carol", tsym); c == nil || c.Side != wire.Long {
						t.Fatalf("carol %+v, want long 1 from alice's close", c)
					}
					want := b.hash()
					if got := newEnvWith(t, b.j.clone(), b.sym).hash(); got != want {
						t.Fatalf("replay: state hash %x, want %x", got, want)
					}
				})
			}
		}
	})
}

// TestTakeoverBehindIsolatedOpen: alice (1500, isolated) sends a buy of 1
// at 3300, checked at the mark 3100 that then takes her long over; it
// fills against carol's ask as an open of its own, backed by the 660 it
// reserved from the cash the isolated takeover left: a long at 3300,
// liquidation price 2721. The leg goes to ADL at 3000 against bob, the
// fund untouched; the new long, liquidated in its turn, costs it nothing
// either. Regression: this was already right.
func TestTakeoverBehindIsolatedOpen(t *testing.T) {
	bothModes(t, func(t *testing.T, sym *market.Symbol) {
		b := takeoverBehind(t, sym, wire.MarginIsolated, "1500", "", wire.Sell, "3300", sellOf(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy,
			Type: wire.Limit, TIF: wire.IOC, Price: dec("3300"), Qty: dec("1")}), nil)
		b.release()
		if r := <-b.reply; !r.OK || !r.Order.FilledQty.Equal(dec("1")) {
			t.Fatalf("the buy %+v %+v", r.Reply, r.Order)
		}
		b.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
		if p := b.position("alice", tsym); p == nil || !p.Margin.Equal(dec("660")) || !p.EntryPrice.Equal(dec("3300")) || !b.fundBalance().Equal(dec("10000")) {
			t.Fatalf("alice %+v; fund %s", p, b.fundBalance())
		}
		b.legClosedAt("bob", "3000")
		if a := b.liquidateLeftover(tsym); a.Uncovered != 0 || !b.fundBalance().Equal(dec("10000")) {
			t.Fatalf("fund %s, audit %s", b.fundBalance(), a)
		}
	})
}

// TestTakeoverBehindCrossOrders: alice, cross on 2000, long 1 at 3750 in
// TEST-PERP and in OTHER-PERP at 5x, sends an order in TEST-PERP, whose
// book then holds it, and OTHER-PERP's mark at its liquidation price
// (1974) takes both legs over.
// A sell of 1 at 3700 (a close) meets carol's bid there: booked on the
// TEST-PERP leg (700 beyond its bankruptcy price 3000, the fund's with
// the rest of the surplus), where it opened a short on zero cash before.
// A buy of 1 at 2400 (an open, checked at the mark 3750) meets carol's
// ask: a long of its own in the flat account, on zero cash, as the
// takeover took the cash that backed it; in profit at the mark, it is
// liquidated later at its bankruptcy price 2400 by ADL, costing the fund
// nothing. Either way nothing is uncovered and the legs' accounting holds
// (a fill beyond a leg would panic the account: liq.ErrInvariant).
func TestTakeoverBehindCrossOrders(t *testing.T) {
	for _, side := range []wire.Side{wire.Sell, wire.Buy} {
		t.Run(string(side), func(t *testing.T) {
			e := otherEnvWith(t, "2000", wire.MarginCross, testSymbol(t, tsym, longTiers()...))
			e.fundDeposit("10000")
			e.mustPlace("bob", otherSym, wire.Sell, "3750", "1")
			e.mustPlace("alice", otherSym, wire.Buy, "3750", "1", wire.IOC)
			price, opp := "3700", wire.Buy
			if side == wire.Buy {
				price, opp = "2400", wire.Sell
			}
			e.mustPlace("carol", tsym, opp, price, "1")
			liqAt := e.position("alice", otherSym).LiquidationPrice
			release := e.holdBook(tsym)
			reply := e.placeAsync("alice", wire.PlaceOrder{Symbol: tsym, Side: side, Type: wire.Limit, TIF: wire.IOC, Price: dec(price), Qty: dec("1")})
			e.drained("alice")
			e.index(otherSym, liqAt.String())
			e.drained("alice")
			release()
			if r := <-reply; !r.OK || !r.Order.FilledQty.Equal(dec("1")) {
				t.Fatalf("alice's order %+v %+v", r.Reply, r.Order)
			}
			e.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
			p := e.position("alice", tsym)
			if e.liquidations("alice") != 2 || (side == wire.Sell) != (p == nil) {
				t.Fatalf("alice liquidated %d times, holds %+v", e.liquidations("alice"), p)
			}
			if p != nil {
				e.index(tsym, p.LiquidationPrice.String())
			}
			if a := e.audit(); a.Uncovered != 0 || e.fundBalance().LessThan(dec("10000")) || e.position("alice", tsym) != nil {
				t.Fatalf("alice %+v; fund %s, audit %s", e.position("alice", tsym), e.fundBalance(), a)
			}
		})
	}
}
