package actors

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// heldMarket is a symbol the held-fill tests trade: A holds a long of qty
// at open against C, and its fill in flight trades qty at px.
type heldMarket struct {
	name, asset        string
	open, px, qty      string
	depA, depOthers    string
	makerFee, takerFee string
	inverse            bool
}

var heldMarkets = []heldMarket{
	{name: "linear", asset: "USDT", open: "3750", px: "3800", qty: "1", depA: "10000", depOthers: "100000",
		makerFee: "0.0002", takerFee: "0.0005"},
	{name: "inverse", asset: "BTC", open: "40000", px: "40100", qty: "10000", depA: "1", depOthers: "100",
		makerFee: "-0.00025", takerFee: "0.00075", inverse: true},
}

// env starts the exchange of m (its options changed by opts, if not nil):
// A (in mode) long qty at open against C, B with money to trade.
func (m heldMarket) env(t *testing.T, mode wire.MarginModeName, j *memJournal, opts func(*Options)) *env {
	cfg := testConfig(tsym, longTiers()...)
	if m.inverse {
		cfg = testConfig(tsym, [2]string{"10", "0.005"}, [2]string{"1000", "0.01"})
		cfg.Contract, cfg.Quote, cfg.Settle = "inverse", "USD", "BTC"
		cfg.Tick, cfg.Lot = dec("0.5"), dec("100")
	}
	cfg.MakerFee, cfg.TakerFee = dec(m.makerFee), dec(m.takerFee)
	e := newEnvOpts(t, j, nil, opts, compileSymbol(t, cfg))
	e.index(tsym, m.open)
	for acct, amount := range map[string]string{"A": m.depA, "B": m.depOthers, "C": m.depOthers} {
		e.depositIn(acct, m.asset, amount)
	}
	e.marginMode("A", mode)
	e.openPosition("A", "C", wire.Buy, m.open, m.qty, 5)
	e.leverage("B", tsym, 5)
	return e
}

// want is what A holds after trading qty at px, as the maker (its sell)
// or the taker (its buy).
func (m heldMarket) want(e *env, aMakes bool) HeldFill {
	e.t.Helper()
	s := e.x.symbol(tsym).sym
	q, err := s.QtyToLots(dec(m.qty))
	px, err2 := s.PriceToTicks(dec(m.px))
	if err != nil || err2 != nil {
		e.t.Fatal(err, err2)
	}
	if aMakes {
		return HeldFill{Fills: 1, Sell: q, Cost: s.Value(px, -q), Fee: risk.TradeFee(s, px, q, s.MakerFee)}
	}
	return HeldFill{Fills: 1, Buy: q, Cost: s.Value(px, q), Fee: risk.TradeFee(s, px, q, s.TakerFee)}
}

// ownFillInFlight fails A while a fill of one of its own orders is on its
// way: with the book held, the taker's order (sent, queued there) crosses
// the maker's resting one; A fails (its pull queued behind that order),
// then the book goes on. A is the maker (its resting close at px, which
// B's buy takes) or the taker (its buy at px, which takes B's resting
// sell). It returns the reply to the taker's order.
func ownFillInFlight(e *env, m heldMarket, aMakes bool) wire.OrderReply {
	e.t.Helper()
	maker, taker := "B", "A"
	if aMakes {
		maker, taker = "A", "B"
	}
	e.mustPlace(maker, tsym, wire.Sell, m.px, m.qty)
	book := make(chan struct{})
	e.x.root.Send(e.x.symbol(tsym).pid, &symbolHook{fn: func(*symbolActor) { <-book }})
	reply := make(chan wire.OrderReply, 1)
	e.x.PlaceOrder(taker, wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec(m.px), Qty: dec(m.qty), TIF: wire.GTC},
		func(r wire.OrderReply) { reply <- r })
	e.awaitAccount(taker, "sent its order", func(*accountActor) bool { return true }) // behind it in its mailbox
	e.fail("A", func(*accountActor) {})
	close(book)
	select {
	case r := <-reply:
		return r
	case <-time.After(10 * time.Second):
		e.t.Fatal("no reply to the taker's order")
	}
	return wire.OrderReply{}
}

// heldAudit is failedAudit with A failed, checking that A holds want,
// as the audit and admin.audit report it.
func (e *env) heldAudit(want HeldFill) AuditReport {
	e.t.Helper()
	r := e.failedAudit("A")
	e.t.Logf("audit: %s", r.String())
	if got := r.HeldFills[0]; got != want {
		e.t.Fatalf("held %+v, want %+v", got, want)
	}
	s := e.x.symbol(tsym).sym
	w := r.Wire(e.x.symbols).HeldFills[tsym]
	if w.Fills != want.Fills || !w.Buy.Equal(s.Qty(want.Buy)) || !w.Sell.Equal(s.Qty(want.Sell)) ||
		!w.Cost.Equal(want.Cost.Decimal()) || !w.Fee.Equal(want.Fee.Decimal()) {
		e.t.Fatalf("admin.audit's held_fills %+v, want %+v", w, want)
	}
	return r
}

// TestOwnFillsOfAFailedAccountAreHeld: a fill of a failed account's own
// order that the book matched before the pull (A's resting close taken by
// B's buy, queued at the book ahead of the cancel; A's own buy queued
// there, taking B's resting sell) reaches A after it failed. B booked its
// side, so A's is held beside its frozen state: the lots (the audit's open
// interest counts them as A's), their cost (Σ the fills' values: A's
// unrealized PnL at the mark counts it) and the fee A would pay, held too.
// Before, the fill was dropped: linear, 2 long against 1 short and 50 (A's
// side: sold 50 above the mark) missing as the maker, 1 against 2 and 50
// too much as the taker; inverse, 20000 against 10000 and 0.24937655 BTC.
// A's filled order stayed open, though no book held it.
func TestOwnFillsOfAFailedAccountAreHeld(t *testing.T) {
	for _, m := range heldMarkets {
		for _, mode := range []wire.MarginModeName{wire.MarginCross, wire.MarginIsolated} {
			for _, aMakes := range []bool{true, false} {
				t.Run(m.name+"/"+string(mode)+"/"+map[bool]string{true: "maker", false: "taker"}[aMakes], func(t *testing.T) {
					e := m.env(t, mode, nil, nil)
					if r := ownFillInFlight(e, m, aMakes); r.OK != aMakes { // B's order traded, A's is refused INTERNAL
						t.Fatalf("the taker's order: %+v", r)
					}
					e.heldAudit(m.want(e, aMakes))
				})
			}
		}
	}
}

// panicOnFill is a sink that panics on acct's fill event once armed: a
// handler that breaks after risk booked the fill.
type panicOnFill struct {
	*recorder
	acct  string
	armed *atomic.Bool
}

func (s panicOnFill) AccountEvent(acct string, e *wire.AccountEvent) {
	if acct == s.acct && e.Type == wire.EventFill && s.armed.Load() {
		panic("test: the fill event panics")
	}
	s.recorder.AccountEvent(acct, e)
}

// TestFillThatFailedTheAccountIsHeldOnce: the fill whose handling panicked
// A comes back to the failed account (the supervisor answers a book's
// message there). Its lots risk did not book are held (a maker fill of an
// order A does not know, a broken invariant before anything was booked);
// those it booked are not held again (the fill event panicked after risk
// booked it): that would count A's side twice, 1 long against 2 short.
// Before, the first was dropped, 2 long against 1 short.
func TestFillThatFailedTheAccountIsHeldOnce(t *testing.T) {
	m := heldMarkets[0]
	for _, c := range []struct {
		name   string
		booked bool
	}{{"before risk booked it", false}, {"after risk booked it", true}} {
		t.Run(c.name, func(t *testing.T) {
			var armed atomic.Bool
			e := m.env(t, wire.MarginCross, nil, func(o *Options) { o.Sink = panicOnFill{o.Sink.(*recorder), "A", &armed} })
			id := e.mustPlace("A", tsym, wire.Sell, m.px, m.qty).OrderID
			if c.booked {
				armed.Store(true)
			} else {
				e.awaitAccount("A", "forgot its order", func(a *accountActor) bool {
					for _, o := range a.orders.Values() {
						if o.wid == id {
							a.orders.Remove(o.id)
						}
					}
					return a.orders.Len() == 0
				})
			}
			e.mustPlace("B", tsym, wire.Buy, m.px, m.qty)
			e.awaitAccount("A", "failed", func(a *accountActor) bool { return a.e.failed.Load() })
			want := m.want(e, true)
			if c.booked {
				want = HeldFill{}
				if e.x.quiesce(); e.position("B", tsym) == nil {
					t.Fatal("B's buy did not trade")
				}
			}
			e.heldAudit(want)
		})
	}
}

// TestHeldFillsOutliveARefusedSnapshot: a snapshot is refused while an
// account is failed (it would keep a broken state), so what a failed
// account holds is never written into one, nor lost by one: after the
// refusal the audit still holds A's fill. A restart replays the journal
// TestHeldFillsSurviveARestart: what is held for a failed account is in the
// journal (the failure and the failed account's answers are records,
// failrecord.go) and in a snapshot (with the account): an exchange
// recovered from either holds the same. Before, no snapshot could be
// taken, and the replay refused the journal.
func TestHeldFillsSurviveARestart(t *testing.T) {
	m := heldMarkets[0]
	j := &memJournal{}
	e := m.env(t, wire.MarginCross, j, nil)
	ownFillInFlight(e, m, true)
	want := m.want(e, true)
	e.heldAudit(want)
	snap, _, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]byte{nil, snap} {
		r := newEnvFrom(t, j.clone(), s, e.x.symbol(tsym).sym)
		r.heldAudit(want)
	}
}

// TestOwnFillOfAFailedLiquidationIsHeld: A's resting close is taken by D
// before the takeover's cancel, and A fails after its liquidation started
// and before the fill reaches it (live, the leg would book it: OrderFill).
// The abandoned liquidation books no own order's fill, so it is held beside
// the frozen leg, which keeps the lot: with the held sale they net to
// nothing, and D's long is matched. Before, 2 long against 1 short.
func TestOwnFillOfAFailedLiquidationIsHeld(t *testing.T) {
	e := longAgainstBWithD(t)
	e.mustPlace("A", tsym, wire.Sell, "3200", "1")
	resume := make(chan struct{})
	pid := e.x.accounts.get(e.x, "A").pid
	e.x.root.Send(pid, &pauseMsg{until: resume})
	e.index(tsym, "3100") // its mark waits in A's mailbox
	e.x.root.Send(pid, &testHook{fn: func(a *accountActor) {
		if a.liq == nil {
			t.Error("A's liquidation did not start")
		}
		panic("injected")
	}})
	e.mustPlace("D", tsym, wire.Buy, "3200", "1") // the fill waits behind the panic
	close(resume)
	e.awaitAccount("A", "failed", func(a *accountActor) bool { return a.e.failed.Load() })
	s := e.x.symbol(tsym).sym
	e.heldAudit(HeldFill{Fills: 1, Sell: 1, Cost: s.Value(3200, -1), Fee: 0})
}
