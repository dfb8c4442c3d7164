package actors

import (
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// socializedSymbol is testSymbol's symbol with adl_mode "socialized".
func socializedSymbol(t *testing.T, name string, tiers ...[2]string) *market.Symbol {
	t.Helper()
	off := false
	cfg := market.SymbolConfig{Symbol: name, Tick: dec("1"), Lot: dec("1"), MaxLeverage: dec("100"),
		PriceBand: dec("0.5"), Funding: &off, ADLMode: "socialized"}
	for _, tr := range tiers {
		cfg.MMTiers = append(cfg.MMTiers, market.TierConfig{MaxNotional: dec(tr[0]), MMR: dec(tr[1])})
	}
	s, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if s.ADL != market.ADLSocialized {
		t.Fatalf("mode %v", s.ADL)
	}
	return s
}

func balance(t *testing.T, a *wire.Account) string {
	t.Helper()
	if len(a.Balances) != 1 {
		t.Fatalf("balances %v", a.Balances)
	}
	for _, b := range a.Balances {
		return b.String()
	}
	return ""
}

// TestSocializedLoss: with an empty fund, a bankrupt long on a socialized
// symbol sells its position into the book below its bankruptcy price; the
// deficit is split over the two profitable shorts (profits 3:1), which pay
// 3:1 from their profit and keep their positions.
func TestSocializedLoss(t *testing.T) {
	e := newEnv(t, socializedSymbol(t, tsym, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"}))
	e.index(tsym, "3750")
	deps := map[string]string{"A": "150000", "B": "1000000", "C": "1000000", "D": "1000000"}
	for _, a := range []string{"A", "B", "C", "D"} {
		e.deposit(a, deps[a])
		e.leverage(a, tsym, 5)
	}
	e.mustPlace("B", tsym, wire.Sell, "3750", "150")
	e.mustPlace("C", tsym, wire.Sell, "3750", "50")
	e.mustPlace("A", tsym, wire.Buy, "3750", "200", wire.IOC)
	if p := e.position("A", tsym); !p.BankruptcyPrice.Equal(dec("3000")) || !p.LiquidationPrice.Equal(dec("3100")) {
		t.Fatalf("A: %+v", p)
	}
	// The book's only bid is 100 below A's bankruptcy price: selling 200
	// there leaves a deficit of 200 × 100 = 20000 the empty fund cannot pay.
	e.mustPlace("D", tsym, wire.Buy, "2900", "200")
	e.index(tsym, "3100")
	e.x.quiesce()
	if e.liquidations("A") != 1 || e.position("A", tsym) != nil {
		t.Fatal("A was not liquidated")
	}
	if p := e.position("D", tsym); p == nil || !p.Qty.Equal(dec("200")) || p.Side != wire.Long {
		t.Fatalf("D: %+v", p)
	}
	// Profits at the mark 3100: B 150 × 650 = 97500, C 50 × 650 = 32500.
	for acct, want := range map[string][2]string{"B": {"150", "985000"}, "C": {"50", "995000"}} {
		p := e.position(acct, tsym)
		if p == nil || !p.Qty.Equal(dec(want[0])) || p.Side != wire.Short {
			t.Fatalf("%s keeps %+v, want %s", acct, p, want[0])
		}
		st := e.state(acct)
		if b := balance(t, st); !dec(b).Equal(dec(want[1])) {
			t.Fatalf("%s balance %s, want %s", acct, b, want[1])
		}
		evs := e.rec.events(acct, wire.EventADL)
		if len(evs) != 1 || evs[0].ADL.BankruptAccount != "A" || evs[0].ADL.Counterparty != acct || !evs[0].ADL.Qty.IsZero() {
			t.Fatalf("%s's adl events: %+v", acct, evs)
		}
		// The charge is its realized PnL (the balance moved by it); it traded nothing.
		if ev := evs[0].ADL; ev.Side != "" || ev.RealizedPnL == nil || !ev.RealizedPnL.Equal(dec(want[1]).Sub(dec(deps[acct]))) {
			t.Fatalf("%s's charge: side %q, realized %v", acct, ev.Side, ev.RealizedPnL)
		}
		if r := e.place(acct, tsym, wire.Buy, "3000", "1"); !r.OK {
			t.Fatalf("%s after the charge: %v", acct, r.Error)
		}
	}
	if b := balance(t, e.state("A")); !dec(b).IsZero() {
		t.Fatalf("A balance %s", b)
	}
	if !e.fundBalance().IsZero() {
		t.Fatalf("fund %s", e.fundBalance())
	}
	r := e.audit()
	if r.Uncovered != 0 || !r.Conserved() {
		t.Fatalf("audit: %s", r.String())
	}
	for i := range r.Long {
		if r.Long[i] != r.Short[i] {
			t.Fatalf("open interest: %s", r.String())
		}
	}
}

// TestSocializedChargeRespreads: B is charged for a profit it no longer
// holds as a position (it closed its short between the ranking's view and
// the charge): that charge takes nothing, and its share is spread again
// over the winners, B among them for the profit it took out as cash, so
// nothing falls on the empty fund and no money is created.
func TestSocializedChargeRespreads(t *testing.T) {
	e := newEnv(t, socializedSymbol(t, tsym, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"}))
	e.index(tsym, "3750")
	deps := map[string]string{"A": "150000", "B": "1000000", "C": "1000000", "D": "1000000", "E": "1000000"}
	for _, a := range []string{"A", "B", "C", "D", "E"} {
		e.deposit(a, deps[a])
		e.leverage(a, tsym, 5)
	}
	e.mustPlace("B", tsym, wire.Sell, "3750", "150")
	e.mustPlace("C", tsym, wire.Sell, "3750", "50")
	e.mustPlace("A", tsym, wire.Buy, "3750", "200", wire.IOC)
	e.mustPlace("D", tsym, wire.Buy, "2900", "200")  // A sells here: deficit 20000
	e.leverage("E", tsym, 1)                         // a short opened 650 under the mark
	e.mustPlace("E", tsym, wire.Sell, "3100", "150") // where B closes

	// B's close is matched while B's actor is held: its result, and
	// later its charge, queue up behind the hold (the book is held until
	// B is, so the result cannot overtake it).
	holdBook, holdB := make(chan struct{}), make(chan struct{})
	e.x.root.Send(e.x.symbol(tsym).pid, &symbolHook{fn: func(*symbolActor) { <-holdBook }})
	closed := make(chan wire.OrderReply, 1)
	e.x.PlaceOrder("B", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("3100"), Qty: dec("150"), TIF: wire.IOC},
		func(r wire.OrderReply) { closed <- r })
	held := make(chan struct{})
	e.x.root.Send(e.x.accounts.get(e.x, "B").pid, &testHook{fn: func(*accountActor) { close(held); <-holdB }})
	<-held
	close(holdBook)
	e.index(tsym, "3100")
	// C's charge is sent with B's: once C paid, B's is queued behind its close.
	for deadline := time.Now().Add(5 * time.Second); len(e.rec.events("C", wire.EventADL)) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("C was never charged")
		}
	}
	close(holdB)
	if r := <-closed; !r.OK || r.Order.Status != wire.StatusFilled {
		t.Fatalf("B's close: %+v", r)
	}
	e.x.quiesce()
	if e.liquidations("A") != 1 || e.position("A", tsym) != nil {
		t.Fatal("A's liquidation did not finish")
	}
	// B realized 150 × (3750 − 3100) = 97500. The first round's 20000
	// was 15000 for B's position (gone: B paid nothing) and 5000 for C;
	// the second spread B's 15000 over the profit B took out (97500) and
	// C's not charged yet (50 × 650 − 5000 = 27500): 11700 and 3300.
	for acct, want := range map[string]string{"B": "1085800", "C": "991700"} {
		if b := balance(t, e.state(acct)); !dec(b).Equal(dec(want)) {
			t.Fatalf("%s balance %s, want %s", acct, b, want)
		}
	}
	if nb, nc := len(e.rec.events("B", wire.EventADL)), len(e.rec.events("C", wire.EventADL)); nb != 1 || nc != 2 {
		t.Fatalf("B charged %d times, C %d; want 1 and 2", nb, nc)
	}
	if !e.fundBalance().IsZero() {
		t.Fatalf("fund %s", e.fundBalance())
	}
	r := e.audit()
	if r.Uncovered != 0 || !r.Conserved() {
		t.Fatalf("audit: %s", r.String())
	}
}

// TestSocializedLossTwoLegs: a cross account bankrupt with longs on two
// socialized-loss symbols sells both into bids 100 below its bankruptcy
// prices with an empty fund. Each leg gets its own set-aside and its own
// round: each symbol's winners pay that leg's deficit (20000 each, split by
// profit) and keep their positions; nothing falls on the fund.
func TestSocializedLossTwoLegs(t *testing.T) {
	const aaa, bbb = "AAA-PERP", "BBB-PERP"
	tiers := [][2]string{{"600000", "0.03"}, {"1000000000", "0.10"}}
	e := newEnv(t, socializedSymbol(t, aaa, tiers...), socializedSymbol(t, bbb, tiers...))
	e.index(aaa, "3750")
	e.index(bbb, "3750")
	deps := map[string]string{"A": "300000", "B": "1000000", "C": "1000000", "D": "1000000", "E": "1000000", "F": "1000000", "G": "1000000"}
	for acct, dep := range deps {
		e.deposit(acct, dep)
		e.leverage(acct, aaa, 5)
		e.leverage(acct, bbb, 5)
	}
	// Winners: B and C short AAA (3:1), F and G short BBB (1:1).
	e.mustPlace("B", aaa, wire.Sell, "3750", "150")
	e.mustPlace("C", aaa, wire.Sell, "3750", "50")
	e.mustPlace("A", aaa, wire.Buy, "3750", "200", wire.IOC)
	e.mustPlace("F", bbb, wire.Sell, "3750", "100")
	e.mustPlace("G", bbb, wire.Sell, "3750", "100")
	e.mustPlace("A", bbb, wire.Buy, "3750", "200", wire.IOC)
	// The only bids are 100 below A's bankruptcy prices (3000 on each
	// leg): selling 200 there leaves 20000 per leg.
	e.mustPlace("D", aaa, wire.Buy, "2900", "200")
	e.mustPlace("E", bbb, wire.Buy, "2900", "200")
	e.index(aaa, "3100")
	e.x.quiesce()
	if e.liquidations("A") != 0 {
		t.Fatal("A liquidated on one shock")
	}
	e.index(bbb, "3100")
	e.x.quiesce()
	// One liquidation, one event per leg.
	if e.liquidations("A") != 2 || e.position("A", aaa) != nil || e.position("A", bbb) != nil {
		t.Fatal("A was not liquidated")
	}
	for acct, sym := range map[string]string{"D": aaa, "E": bbb} {
		if p := e.position(acct, sym); p == nil || !p.Qty.Equal(dec("200")) || p.Side != wire.Long {
			t.Fatalf("%s: %+v", acct, p)
		}
	}
	// Profits at the marks 3100: B 97500, C 32500 on AAA; F, G 65000 on
	// BBB. Each leg's 20000 is split by profit on its own symbol.
	for acct, want := range map[string][3]string{
		"B": {aaa, "150", "985000"}, "C": {aaa, "50", "995000"},
		"F": {bbb, "100", "990000"}, "G": {bbb, "100", "990000"},
	} {
		p := e.position(acct, want[0])
		if p == nil || !p.Qty.Equal(dec(want[1])) || p.Side != wire.Short {
			t.Fatalf("%s keeps %+v, want %s", acct, p, want[1])
		}
		if b := balance(t, e.state(acct)); !dec(b).Equal(dec(want[2])) {
			t.Fatalf("%s balance %s, want %s", acct, b, want[2])
		}
		evs := e.rec.events(acct, wire.EventADL)
		if len(evs) != 1 || evs[0].ADL.Symbol != want[0] || evs[0].ADL.BankruptAccount != "A" || !evs[0].ADL.Qty.IsZero() {
			t.Fatalf("%s's adl events: %+v", acct, evs)
		}
	}
	if b := balance(t, e.state("A")); !dec(b).IsZero() {
		t.Fatalf("A balance %s", b)
	}
	if !e.fundBalance().IsZero() {
		t.Fatalf("fund %s", e.fundBalance())
	}
	r := e.audit()
	if r.Uncovered != 0 || !r.Conserved() || r.Earmarked != 0 {
		t.Fatalf("audit: %s", r.String())
	}
	for i := range r.Long {
		if r.Long[i] != r.Short[i] {
			t.Fatalf("open interest: %s", r.String())
		}
	}
}

// TestSocializedWinnerLosesProfitBeforeCharge: the socialized soak's
// uncovered loss, step by step. A's 200-lot long (bankrupt at 3000) goes
// to a book whose only bid is 100 below; the only winner B is short 200 at
// 3750 at leverage 5 with 150000 (liquidated near 4282). The ranking sees
// B's profit at 3100 (130000) when A's liquidation asks, and the mark runs
// to 4270 before B hears of any charge. Before the escrow, the set-aside
// let the IOC sell at 2900, 20000 below B, and B's charge came after the
// move: B could pay only what left it above its maintenance margin
// (≈ 2600), nobody else had profit, and the empty fund left ≈ 17400
// uncovered. Now the winners pay into escrow before the IOC goes out, at
// the ranking's mark then (4270: B has no profit), so the IOC may lose
// nothing beyond the bankruptcy price: it stops at 3000, D's bid is left,
// and the leg closes by ADL at 3000 against B. Money and open interest
// balance.
func TestSocializedWinnerLosesProfitBeforeCharge(t *testing.T) {
	e := bidBelowBankruptcy(t, "0", "150000")
	// The ranking holds A's set-aside request until the mark has moved.
	until := make(chan struct{})
	e.x.root.Send(e.x.adl, &pauseMsg{until: until})
	e.index(tsym, "3100")
	pid := e.x.accounts.get(e.x, "A").pid
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		due := call(t, func(d func(int)) {
			e.x.root.Send(pid, &testHook{fn: func(a *accountActor) {
				if a.liq == nil {
					d(0)
					return
				}
				d(a.liq.SetAsidesDue())
			}})
		})
		if due == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("A never asked for its set-aside")
		}
	}
	e.index(tsym, "4270")
	close(until)
	e.failedAudit() // none failed: money, open interest, nothing uncovered
	if e.liquidations("A") != 1 || e.position("A", tsym) != nil || e.liquidations("B") != 0 {
		t.Fatalf("liquidations: A %d, B %d", e.liquidations("A"), e.liquidations("B"))
	}
	// B closed A's leg by ADL at 3000: 200 × 750 realized, nothing charged.
	if p := e.position("B", tsym); p != nil {
		t.Fatalf("B: %+v", p)
	}
	if b := balance(t, e.state("B")); !dec(b).Equal(dec("300000")) {
		t.Fatalf("B balance %s, want 300000", b)
	}
	if p := e.position("D", tsym); p != nil {
		t.Fatalf("D's bid beyond what the escrow holds was taken: %+v", p)
	}
}
