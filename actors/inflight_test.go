package actors

import (
	"strings"
	"testing"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// A close on its way to the book when an ADL close lands: the book
// matches it after the position it closed is gone.

// closeBehindADL: alice holds an isolated long of 1 at 3750 at leverage
// lev on cash (rest: and a resting sell of 1 there, "" for none); dave's
// cross short of 1 (750 at 5x, bankrupt at 4500) sold it to her; carol,
// her second account, bids 1 at bid. Alice's request (send: a sell of 1,
// or an amend of the resting one, accepted as a close) waits in her
// mailbox while the mark at 4300 liquidates dave, whose IOC finds no ask:
// his leg goes to ADL, and alice, the only long, is ranked first. Once
// dave has his plan (the close is in alice's mailbox, behind the request),
// the book is held and alice runs: the request goes to the book, then the
// ADL close reaches her. settle lets the book go. The fund holds 10000;
// the exchange is durable.
func closeBehindADL(t *testing.T, sym *market.Symbol, cash string, lev int64, bid, rest string, send func(e *env, resting string) <-chan wire.OrderReply) *behindADL {
	t.Helper()
	j := &memJournal{}
	e := pairEnvWith(t, j, "0", sym)
	e.fundDeposit("10000")
	e.deposit("alice", cash)
	e.deposit("dave", "750")
	e.marginMode("alice", wire.MarginIsolated)
	e.leverage("alice", tsym, lev)
	e.leverage("dave", tsym, 5)
	e.leverage("carol", tsym, 5)
	e.mustPlace("dave", tsym, wire.Sell, "3750", "1")
	e.mustPlace("alice", tsym, wire.Buy, "3750", "1", wire.IOC)
	var resting string
	if rest != "" {
		resting = e.mustPlace("alice", tsym, wire.Sell, rest, "1").OrderID
	}
	e.mustPlace("carol", tsym, wire.Buy, bid, "1")
	held := make(chan struct{})
	e.x.root.Send(e.x.accounts.get(e.x, "alice").pid, &pauseMsg{until: held})
	b := &behindADL{env: e, j: j, sym: sym, reply: send(e, resting)}
	e.index(tsym, "4300")
	e.awaitLiq("dave", "had its ADL plan", func(a *accountActor) bool { return strings.Contains(a.liq.Describe(), "planned true") })
	b.release = e.holdBook(tsym)
	close(held)
	e.drained("alice")
	return b
}

// behindADL is closeBehindADL's exchange, its journal and symbol, where
// the reply to alice's request comes, and the book's release.
type behindADL struct {
	*env
	j       *memJournal
	sym     *market.Symbol
	reply   <-chan wire.OrderReply
	release func()
}

// sellOf sends alice's sell req.
func sellOf(req wire.PlaceOrder) func(*env, string) <-chan wire.OrderReply {
	return func(e *env, _ string) <-chan wire.OrderReply { return e.placeAsync("alice", req) }
}

// settle lets the book go and waits for the reply to alice's request and
// for the end of dave's liquidation (its ADL rounds retry on a timer
// while the request is out). A short alice holds then is liquidated.
func (b *behindADL) settle() wire.OrderReply {
	b.t.Helper()
	b.release()
	r := <-b.reply
	b.awaitAccount("dave", "settled", func(a *accountActor) bool { return a.liq == nil })
	if p := b.position("alice", tsym); p != nil && p.Side == wire.Short {
		b.index(tsym, p.LiquidationPrice.String())
	}
	return r
}

// fundKept fails unless the audit holds with nothing uncovered and the
// fund's 10000 untouched.
func (b *behindADL) fundKept() {
	b.t.Helper()
	if r := b.audit(); r.Uncovered != 0 || !b.fundBalance().Equal(dec("10000")) || b.liquidations("alice") != 0 {
		b.t.Fatalf("alice liquidated %d times; fund %s, audit %s", b.liquidations("alice"), b.fundBalance(), r)
	}
}

// closedBySell fails unless alice's request (its reply r) closed her long
// whole and no ADL close took any of it, dave's leg closed against carol,
// long from alice's sell, at 4500, and a replay of the journal reaches the
// same state.
func (b *behindADL) closedBySell(r wire.OrderReply) {
	b.t.Helper()
	if !r.OK || !r.Order.FilledQty.Equal(dec("1")) || b.position("alice", tsym) != nil || len(b.rec.events("alice", wire.EventADL)) != 0 {
		b.t.Fatalf("alice's sell %+v, position %+v, ADL closes %+v", r.Order, b.position("alice", tsym), b.rec.events("alice", wire.EventADL))
	}
	b.legClosedAt("carol", "4500")
	want := b.hash()
	if got := newEnvWith(b.t, b.j.clone(), b.sym).hash(); got != want {
		b.t.Fatalf("replay: state hash %x, want %x", got, want)
	}
}

// bothModes runs f on TEST-PERP in adl and in socialized mode.
func bothModes(t *testing.T, f func(t *testing.T, sym *market.Symbol)) {
	for _, sym := range []*market.Symbol{testSymbol(t, tsym, longTiers()...), socializedSymbol(t, tsym, longTiers()...)} {
		t.Run(sym.ADL.String(), func(t *testing.T) { f(t, sym) })
	}
}

// TestADLCloseBehindMarketClose: alice (5x, 750: bankrupt at 3000) sends
// a market sell, bounded at 3000 as a close. The ADL close took her long
// at 4500 (1500 of cash), and the sell, matched after it, sold short to
// carol's bid at 3000 with the mark at 4300: an open no check judged (an
// open's bound, OpenBound, stops near 3770), its 600 of margin 1300 under
// water, liquidated
// at once at bankruptcy price 3600. Carol's ask at the liquidation's bound
// (3780), queued behind, took 180 of the fund, in either mode (with an
// empty fund the IOC stops at 3600 and the leg goes to ADL). Now the ADL
// close leaves alice the lot her sell is on its way to close: the sell
// closes it, and dave's leg closes against carol's long at the next round.
func TestADLCloseBehindMarketClose(t *testing.T) {
	bothModes(t, func(t *testing.T, sym *market.Symbol) {
		b := closeBehindADL(t, sym, "750", 5, "3000", "",
			sellOf(wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")}))
		b.placeAsync("carol", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3780"), Qty: dec("1")})
		b.drained("carol")
		r := b.settle()
		b.fundKept()
		b.closedBySell(r)
	})
}

// TestADLCloseBehindLimitClose: alice (1x, 3750: bankrupt at 0) sends a
// sell at 5625, IOC or GTC, accepted as a close (reserving nothing). The
// ADL close left her flat on 4500, and the sell, matched after it (the
// GTC's cancel, OpenedByClose's, came behind it), sold short to carol's
// bid at 5625: an isolated open taking 5625 of margin from 4500 of cash.
// When the short was liquidated the cash's −1125 went to the fund (10000
// → 8875, either mode; with an empty fund 1125 uncovered in adl mode, paid
// by carol, the only winner, socialized). Now the sell closes the long.
func TestADLCloseBehindLimitClose(t *testing.T) {
	bothModes(t, func(t *testing.T, sym *market.Symbol) {
		for _, tif := range []wire.TIF{wire.IOC, wire.GTC} {
			b := closeBehindADL(t, sym, "3750", 1, "5625", "",
				sellOf(wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: tif, Price: dec("5625"), Qty: dec("1")}))
			r := b.settle()
			b.fundKept()
			b.closedBySell(r)
		}
	})
}

// TestADLCloseBehindAmendedClose: alice (1x, 3750) rests a sell at 5625,
// a close, and amends it down to carol's bid at 5000 as the ADL close
// lands. Risk held the amend to the order's close (no margin), and the
// resting sell is what OpenedByClose cancels; its cancel reached the book
// behind the amend, which sold short to carol: 5000 of margin from 4500
// of cash, the fund's 500 at the short's liquidation. The amend on its way
// holds the lot as a place does.
func TestADLCloseBehindAmendedClose(t *testing.T) {
	bothModes(t, func(t *testing.T, sym *market.Symbol) {
		b := closeBehindADL(t, sym, "3750", 1, "5000", "5625", func(e *env, id string) <-chan wire.OrderReply {
			ch := make(chan wire.OrderReply, 1)
			e.x.AmendOrder("alice", wire.Amend{Symbol: tsym, OrderID: id, Price: dec("5000")}, func(r wire.OrderReply) { ch <- r })
			return ch
		})
		r := b.settle()
		b.fundKept()
		b.closedBySell(r)
	})
}
