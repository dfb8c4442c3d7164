package actors

import (
	"testing"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// crossTakeover: alice, cross on 2000, long 1 at 3750 in TEST-PERP and in
// OTHER-PERP (test and other) at 5x against bob: each leg's share of the
// equity is 1000, so a close of TEST-PERP is bounded at 2750. She closes
// TEST-PERP: a market sell (!resting), or a GTC sell at bid resting since;
// carol bids 1 at bid (market), or queues an IOC buy at bid at the held
// TEST-PERP book (resting). As in takeoverBehind, alice's sell waits in
// her paused mailbox while mover's index moves to her liquidation price
// there; she then sends it to the held book, and the mark takes both legs
// over, whose cancels queue behind it. The fund holds fund; the exchange
// is durable.
func crossTakeover(t *testing.T, test, other *market.Symbol, fund, mover string, resting bool, bid string) *behindADL {
	t.Helper()
	j := &memJournal{}
	e := pairEnvWith(t, j, "2000", test, other)
	if fund != "0" {
		e.fundDeposit(fund)
	}
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	for _, a := range []string{"alice", "bob", "carol"} {
		e.leverage(a, otherSym, 5)
	}
	e.leverage("carol", tsym, 5)
	e.mustPlace("bob", otherSym, wire.Sell, "3750", "1")
	e.mustPlace("alice", otherSym, wire.Buy, "3750", "1", wire.IOC)
	if resting {
		e.mustPlace("alice", tsym, wire.Sell, bid, "1")
	} else {
		e.mustPlace("carol", tsym, wire.Buy, bid, "1")
	}
	liqAt := e.position("alice", mover).LiquidationPrice
	held := make(chan struct{})
	e.x.root.Send(e.x.accounts.get(e.x, "alice").pid, &pauseMsg{until: held})
	b := &behindADL{env: e, j: j, sym: test}
	if !resting {
		b.reply = e.placeAsync("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")})
	}
	e.index(mover, liqAt.String())
	b.release = e.holdBook(tsym)
	if resting {
		b.reply = e.takeBehind(bid)
	}
	close(held)
	e.drained("alice")
	return b
}

// settleTakeover lets the book go, checks that alice's close filled, waits
// for her liquidation's end and checks that it liquidated both legs at
// bankruptcy prices bk (TEST-PERP, OTHER-PERP: the takeover's), that
// carol holds the long the close sold, that alice is flat, and that a
// replay of the journal reaches the same state; it returns the audit.
func (b *behindADL) settleTakeover(bk ...string) AuditReport {
	b.t.Helper()
	b.release()
	if r := <-b.reply; !r.OK || !r.Order.FilledQty.Equal(dec("1")) {
		b.t.Fatalf("the close %+v %+v", r.Reply, r.Order)
	}
	b.awaitAccount("alice", "settled", func(a *accountActor) bool { return a.liq == nil })
	a := b.audit()
	legs := b.rec.events("alice", wire.EventLiquidation)
	if len(legs) != len(bk) {
		b.t.Fatalf("legs %d, want %d", len(legs), len(bk))
	}
	for i, ev := range legs {
		if !ev.Liquidation.BankruptcyPrice.Equal(dec(bk[i])) {
			b.t.Fatalf("leg %+v, want bankrupt at %s", *ev.Liquidation, bk[i])
		}
	}
	if c := b.position("carol", tsym); c == nil || c.Side != wire.Long || len(b.state("alice").Positions) != 0 {
		b.t.Fatalf("carol %+v, alice %+v", c, b.state("alice").Positions)
	}
	want := b.hash()
	if got := newEnvWith(b.t, b.j.clone(), b.sym, b.x.symbol(otherSym).sym).hash(); got != want {
		b.t.Fatalf("replay: state hash %x, want %x", got, want)
	}
	return a
}

// TestTakeoverBehindCrossClosePast: a close of alice's TEST-PERP long,
// on its way (a market sell, bounded at 2750 when sent) or resting (a sell
// at 3000 a queued buy takes), is matched at carol's 3000 after
// OTHER-PERP's mark fell to 1974 and took both cross legs over: TEST-PERP's
// share of the equity left then made it bankrupt at 3586, OTHER-PERP at
// 1915. The fill closed TEST-PERP 586 beyond its bankruptcy price, a
// deficit the fund had reserved nothing for. Either close, adl mode: the
// fund paid it, 10000 → 9415 (OTHER-PERP closed by ADL at 1915 against
// bob, 1 of dust back), or with an empty fund 585 uncovered; socialized,
// bob paid the 585 as a charge after the fill. A sequenced engine would
// have sold first, leaving OTHER-PERP bankrupt at 2500 (1250 of cash) and
// bob's ADL close there. Now the fill's loss beyond the tick is the
// equity's (liq.Machine.spread): OTHER-PERP's tick moves to 2501 and bob's
// ADL close there takes it back; the fund gets the 1 of dust. Controls,
// which held before: when TEST-PERP's own mark falls instead (to 1975),
// its tick falls with it (1915), and the close at 3000 leaves the fund
// 1085 of surplus (and the dust); isolated, and cross alone, a close
// bounded at the takeover's bankruptcy price (3000) fills there and the
// fund neither pays nor gets anything: no mark moves that tick.
func TestTakeoverBehindCrossClosePast(t *testing.T) {
	bothModes(t, func(t *testing.T, sym *market.Symbol) {
		other := testSymbol(t, otherSym, longTiers()...)
		if sym.ADL == market.ADLSocialized {
			other = socializedSymbol(t, otherSym, longTiers()...)
		}
		for _, c := range []struct {
			name, fund string
			resting    bool
		}{{"market", "10000", false}, {"resting", "10000", true}, {"market/empty fund", "0", false}} {
			t.Run(c.name, func(t *testing.T) {
				b := crossTakeover(t, sym, other, c.fund, otherSym, c.resting, "3000")
				a := b.settleTakeover("3586", "1915")
				if want := dec(c.fund).Add(dec("1")); !b.fundBalance().Equal(want) || a.Uncovered != 0 {
					t.Fatalf("fund %s, want %s; audit %s", b.fundBalance(), want, a)
				}
				b.legClosedAt("bob", "2501")
			})
		}
	})
	t.Run("own mark", func(t *testing.T) {
		b := crossTakeover(t, testSymbol(t, tsym, longTiers()...), testSymbol(t, otherSym, longTiers()...), "10000", tsym, false, "3000")
		if a := b.settleTakeover("1915", "3586"); !b.fundBalance().Equal(dec("11086")) || a.Uncovered != 0 {
			t.Fatalf("fund %s; audit %s", b.fundBalance(), a)
		}
	})
	for _, mode := range []wire.MarginModeName{wire.MarginIsolated, wire.MarginCross} {
		t.Run("alone/"+string(mode), func(t *testing.T) {
			b := takeoverBehind(t, testSymbol(t, tsym, longTiers()...), mode, "750", "", wire.Buy, "3000",
				sellOf(wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")}), nil)
			b.release()
			if r := <-b.reply; !r.OK || !r.Order.FilledQty.Equal(dec("1")) || !r.Order.AvgPrice.Equal(dec("3000")) {
				t.Fatalf("the close %+v %+v", r.Reply, r.Order)
			}
			if a := b.liquidateLeftover(tsym); !b.fundBalance().Equal(dec("10000")) || a.Uncovered != 0 || b.position("alice", tsym) != nil {
				t.Fatalf("fund %s; audit %s", b.fundBalance(), a)
			}
		})
	}
}
