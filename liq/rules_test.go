package liq

import (
	"errors"
	"reflect"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// The seed rules, each on real cores (book, fund, ADL ranking, risk
// accounts) wired by the synchronous world of helpers_test.go, delivering
// in FIFO order and checking conservation, open-interest symmetry and the
// fund after every delivery.

// open gives acct a position of qty at price against maker, who rests the
// opposite order first (both at leverage lev), and delivers everything.
func (w *world) open(acct, maker *acct, si int, side book.Side, price book.Ticks, qty book.Lots, lev int64) {
	w.t.Helper()
	w.leverage(acct, si, lev)
	w.leverage(maker, si, lev)
	w.mustPlace(maker, si, side.Opposite(), price, qty, book.GTC)
	w.mustPlace(acct, si, side, price, qty, book.IOC)
	w.drain()
	if p, _ := acct.r.Position(w.syms[si]); p.Qty != book.Lots(side.Sign())*qty {
		w.fatalf("%s opened %d, want %d %s", acct.name, p.Qty, qty, side)
	}
}

func (w *world) mustPlace(a *acct, si int, side book.Side, price book.Ticks, qty book.Lots, tif book.TIF) book.OrderID {
	w.t.Helper()
	id, code := w.place(a, si, side, price, qty, tif)
	if code != risk.OK {
		w.fatalf("%s %s %d@%d on %s: %s", a.name, side, qty, price, w.syms[si].Name, code)
	}
	return id
}

// prices asserts a's liquidation and bankruptcy prices on symbol si.
func (w *world) prices(a *acct, si int, liq, bk book.Ticks) {
	w.t.Helper()
	l, ok1 := a.r.LiquidationPrice(w.syms[si])
	b, ok2 := a.r.BankruptcyPrice(w.syms[si])
	if !ok1 || !ok2 || l != liq || b != bk {
		w.fatalf("%s: liquidation %d bankruptcy %d, want %d %d", a.name, l, b, liq, bk)
	}
}

// position asserts a's position in symbol si: qty, cost and realized PnL.
func (w *world) position(a *acct, si int, qty book.Lots, cost, realized market.Money) {
	w.t.Helper()
	p, _ := a.r.Position(w.syms[si])
	if p.Qty != qty || p.Cost != cost || p.Realized != realized {
		w.fatalf("%s on %s: qty %d cost %s realized %s, want %d %s %s", a.name, w.syms[si].Name, p.Qty, p.Cost, p.Realized, qty, cost, realized)
	}
}

func (w *world) balance(a *acct, want market.Money) {
	w.t.Helper()
	if b := a.r.Balance(); b != want {
		w.fatalf("%s balance %s, want %s", a.name, b, want)
	}
}

func (w *world) fundIs(want market.Money) {
	w.t.Helper()
	if b := w.fund.Balance(quoteAsset); b != want {
		w.fatalf("fund %s, want %s", b, want)
	}
}

// liquidated asserts a's liquidations so far (each settled once) and that
// it is flat at zero.
func (w *world) liquidated(a *acct, n int) {
	w.t.Helper()
	got := 0
	for _, m := range w.machines {
		if m.L.Account == a.id {
			got++
		}
	}
	if got != n {
		w.fatalf("%s liquidated %d times, want %d", a.name, got, n)
	}
	if a.m != nil || a.r.InLiquidation() || a.r.Balance() != 0 {
		w.fatalf("%s after liquidation: balance %s, liquidating %v", a.name, a.r.Balance(), a.m != nil)
	}
	for si, s := range w.syms {
		if p, _ := a.r.Position(s); p.Qty != 0 {
			w.fatalf("%s keeps %d on %s", a.name, p.Qty, w.syms[si].Name)
		}
	}
}

func effectsOf[E any](w *world) []E {
	var out []E
	for _, e := range w.effects {
		if x, ok := any(e).(*E); ok {
			out = append(out, *x)
		}
	}
	return out
}

// TestSeedSettlementWithFund: the seed's examples per unit, no fees — a
// long (liquidation 3100, bankruptcy 3000) sold at 3060 pays the fund +60,
// at 2960 (the fund holding 100 ≥ 40) draws 40; a short (2900 / 3000)
// bought at 2960 pays +40, at 3060 draws 60. The liquidation order is IOC
// at B ∓ R/qty: R is the coverage the book's quote needs (0 for a
// surplus), so it reaches exactly the resting price.
func TestSeedSettlementWithFund(t *testing.T) {
	for _, c := range []struct {
		name             string
		tiers            [][2]string
		side             book.Side // the liquidated position's
		entry            book.Ticks
		margin           string
		liq              book.Ticks
		exec             book.Ticks // the resting order the IOC meets
		fund, want, flow string
	}{
		{"AliceLong1At3750/sold at 3060", longTiers(), book.Buy, 3750, "750", 3100, 3060, "0", "60", "60"},
		{"AliceLong1At3750/sold at 2960", longTiers(), book.Buy, 3750, "750", 3100, 2960, "100", "60", "-40"},
		{"AliceShort1At2500/bought at 2960", shortTiers(), book.Sell, 2500, "500", 2900, 2960, "0", "40", "40"},
		{"AliceShort1At2500/bought at 3060", shortTiers(), book.Sell, 2500, "500", 2900, 3060, "100", "40", "-60"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, nil, compile(t, symSpec{name: "SEED", tiers: c.tiers}))
			w.record = true
			entry := c.entry
			w.setMark(0, entry)
			alice := w.addAccount("alice", risk.Cross, usdt(c.margin))
			bob := w.addAccount("bob", risk.Cross, usdt("100000"))
			erin := w.addAccount("erin", risk.Cross, usdt("100000"))
			w.fundDeposit(usdt(c.fund))
			w.open(alice, bob, 0, c.side, entry, 1, 5)
			w.prices(alice, 0, c.liq, 3000)
			w.leverage(erin, 0, 5)
			w.mustPlace(erin, 0, c.side, c.exec, 1, book.GTC) // the liquidity the IOC takes
			w.drain()
			w.setMark(0, c.liq+book.Ticks(c.side.Sign())) // one tick short of the trigger
			if len(w.machines) != 0 {
				t.Fatal("liquidated before the mark reached the liquidation price")
			}
			w.setMark(0, c.liq)
			w.drain()
			w.quiet()

			w.fundIs(usdt(c.want))
			w.liquidated(alice, 1)
			s := effectsOf[Settle](w)
			if len(s) != 1 || s[0].Fund != usdt(c.flow) || s[0].Fee != 0 || s[0].Volume != usdt("1")*market.Money(c.exec) {
				t.Fatalf("settlements %+v, want one of %s", s, c.flow)
			}
			// A surplus needs no coverage: the IOC is limited at the
			// bankruptcy price and fills better; a deficit's is reserved,
			// and the limit reaches the resting price.
			limit := c.exec
			if usdt(c.flow) > 0 {
				limit = 3000
			}
			ioc := effectsOf[PlaceIOC](w)
			if len(ioc) != 1 || ioc[0].Price != limit || ioc[0].Qty != 1 || ioc[0].Side != c.side.Opposite() {
				t.Fatalf("liquidation orders %+v, want one limited at %d", ioc, limit)
			}
			if ev := w.fund.History(nil, 1); len(ev) != 1 || ev[0].Delta != usdt(c.flow) || ev[0].Account != alice.id {
				t.Fatalf("fund history %+v", ev)
			}
			// erin holds the position at the execution price; bob keeps his.
			q := book.Lots(c.side.Sign())
			w.position(erin, 0, q, w.syms[0].Value(c.exec, q), 0)
			w.position(bob, 0, -q, w.syms[0].Value(entry, -q), 0)
			w.balance(erin, usdt("100000"))
		})
	}
}

// TestSeedADLWithEmptyFund: A's 200-lot long is bankrupt at 3000 (liquidation
// 3100), the fund is empty and the book has no bids: the IOC finds nothing,
// and the top-ranked short is closed at A's bankruptcy price; when it holds
// fewer lots, the next-ranked short takes the rest. The closed traders keep
// what is left and realize 750 per lot (short at 3750, closed at 3000).
func TestSeedADLWithEmptyFund(t *testing.T) {
	for _, c := range []struct {
		name   string
		shorts []struct {
			name    string
			qty     book.Lots
			deposit string
		}
		closed map[string]book.Lots // by ADL
		keeps  map[string]book.Lots
	}{
		{"BobShort230 covers all", []struct {
			name    string
			qty     book.Lots
			deposit string
		}{{"B", 230, "200000"}}, map[string]book.Lots{"B": 200}, map[string]book.Lots{"B": -30}},
		{"BobShort150 then CarolShort80", []struct {
			name    string
			qty     book.Lots
			deposit string
		}{{"B", 150, "120000"}, {"C", 80, "1000000"}}, map[string]book.Lots{"B": 150, "C": 50}, map[string]book.Lots{"B": 0, "C": -30}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, nil, compile(t, symSpec{name: "TEST", tiers: bigTiers()}))
			w.record = true
			w.setMark(0, 3750)
			a := w.addAccount("A", risk.Cross, usdt("150000"))
			d := w.addAccount("D", risk.Cross, usdt("1000000"))
			w.leverage(a, 0, 5)
			w.leverage(d, 0, 5)
			by := map[string]*acct{}
			for _, s := range c.shorts {
				x := w.addAccount(s.name, risk.Cross, usdt(s.deposit))
				by[s.name] = x
				w.leverage(x, 0, 5)
				w.mustPlace(x, 0, book.Sell, 3750, s.qty, book.GTC)
			}
			w.mustPlace(a, 0, book.Buy, 3750, 200, book.IOC)
			w.mustPlace(d, 0, book.Buy, 3750, 30, book.IOC)
			w.liquidateSeed(a)
			if ioc := effectsOf[PlaceIOC](w); len(ioc) != 1 || ioc[0].Price != 3000 {
				t.Fatalf("liquidation orders %+v, want one limited at the bankruptcy price", ioc)
			}
			if dl := effectsOf[Deleverage](w); len(dl) != 1 || dl[0].Price != 3000 || dl[0].Qty != 200 {
				t.Fatalf("deleverage requests %+v, want one of 200 at 3000", dl)
			}
			if s := effectsOf[Settle](w); len(s) != 1 || s[0].Fund != 0 {
				t.Fatalf("settlements %+v", s)
			}
			for _, s := range c.shorts {
				x := by[s.name]
				closed, keep := c.closed[s.name], c.keeps[s.name]
				// Short s.qty at 3750, closed `closed` at 3000: realized 750 each.
				realized := w.syms[0].Value(750, closed)
				w.position(x, 0, keep, w.syms[0].Value(3750, keep), realized)
				w.balance(x, usdt(s.deposit)+realized)
				if x.r.InLiquidation() {
					t.Fatalf("%s in liquidation", s.name)
				}
				// Free to trade at once.
				w.mustPlace(x, 0, book.Buy, 3000, 1, book.GTC)
			}
			w.position(d, 0, 30, w.syms[0].Value(3750, 30), 0)
			w.drain()
		})
	}
}

// TestSeedSocializedLoss: on a socialized-loss symbol A's 200-lot long
// (bankrupt at 3000) sells into the only bid, 2900: a deficit of 20000.
// What the fund reserved covers its part; the shortfall beyond it is
// charged to the profitable shorts pro rata to their profit at the mark
// (B 150 × 650 = 97500, C 50 × 650 = 32500: 3:1, market.Split), who keep
// their positions; the fund ends at zero either way.
func TestSeedSocializedLoss(t *testing.T) {
	for _, c := range []struct {
		name               string
		fund               string
		chargeB, chargeC   string
		settle             string // the fund's flow at settlement
		reserved, capacity string
	}{
		{"empty fund", "0", "15000", "5000", "0", "0", "130000"},
		{"fund holds 8000", "8000", "9000", "3000", "-8000", "8000", "130000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, nil, compile(t, symSpec{name: "SOC", socialized: true, tiers: bigTiers()}))
			w.record = true
			w.setMark(0, 3750)
			a := w.addAccount("A", risk.Cross, usdt("150000"))
			b := w.addAccount("B", risk.Cross, usdt("1000000"))
			cc := w.addAccount("C", risk.Cross, usdt("1000000"))
			d := w.addAccount("D", risk.Cross, usdt("1000000"))
			for _, x := range []*acct{a, b, cc, d} {
				w.leverage(x, 0, 5)
			}
			w.fundDeposit(usdt(c.fund))
			w.mustPlace(b, 0, book.Sell, 3750, 150, book.GTC)
			w.mustPlace(cc, 0, book.Sell, 3750, 50, book.GTC)
			w.mustPlace(a, 0, book.Buy, 3750, 200, book.IOC)
			w.mustPlace(d, 0, book.Buy, 2900, 200, book.GTC)
			w.liquidateSeed(a)
			// The IOC may lose the quoted need (200 × 100) beyond the
			// reservation: the winners paid it into escrow first.
			if ioc := effectsOf[PlaceIOC](w); len(ioc) != 1 || ioc[0].Price != 2900 {
				t.Fatalf("liquidation orders %+v, want one limited at 2900", ioc)
			}
			if dl := effectsOf[Deleverage](w); len(dl) != 0 {
				t.Fatalf("deleveraged %+v", dl)
			}
			soc := effectsOf[Socialize](w)
			short := usdt("20000") - usdt(c.reserved)
			if len(soc) != 1 || soc[0].Deficit != short || soc[0].Release != 0 || soc[0].Side != book.Buy {
				t.Fatalf("socializations %+v, want one escrow of %s", soc, short)
			}
			if rel := effectsOf[ReleaseSocial](w); len(rel) != 1 || rel[0].Amount != usdt(c.capacity) {
				t.Fatalf("releases %+v, want one of %s", rel, c.capacity)
			}
			if rf := effectsOf[Refund](w); len(rf) != 0 {
				t.Fatalf("refunds %+v: the IOC lost all the escrow", rf)
			}
			if s := effectsOf[Settle](w); len(s) != 1 || s[0].Fund != usdt(c.settle) {
				t.Fatalf("settlements %+v, want %s", s, c.settle)
			}
			if got := market.Split(short, []market.Money{usdt("97500"), usdt("32500")}, nil); got[0] != usdt(c.chargeB) || got[1] != usdt(c.chargeC) {
				t.Fatalf("the split rule gives %v", got)
			}
			for _, x := range []struct {
				a      *acct
				qty    book.Lots
				charge string
			}{{b, -150, c.chargeB}, {cc, -50, c.chargeC}} {
				w.position(x.a, 0, x.qty, w.syms[0].Value(3750, x.qty), -usdt(x.charge))
				w.balance(x.a, usdt("1000000")-usdt(x.charge))
				w.mustPlace(x.a, 0, book.Buy, 3000, 1, book.GTC)
			}
			w.position(d, 0, 200, w.syms[0].Value(2900, 200), 0)
			w.drain()
		})
	}
}

// TestSplitReservationByNeed: a cross account long 200 on two symbols
// (bankrupt at 3000 on each) is liquidated with the fund holding less than
// the books' quoted needs (200 × (3000 − 2900) = 20000 on AAA, 200 × (3000
// − 2950) = 10000 on BBB). The reservation is split over the legs by need
// with market.Split's rule, the rounding dust to the later leg; each leg's
// IOC is limited at B − share/qty, fills what its book has there, and the
// rest goes to ADL at 3000.
func TestSplitReservationByNeed(t *testing.T) {
	for _, c := range []struct {
		name       string
		fund       market.Money
		shares     [2]market.Money
		limits     [2]book.Ticks
		fundAfter  market.Money
		fills, adl [2]book.Lots
	}{
		// 15000.00000001 × 2/3 = 10000.0000000066…: trunc to 10000, and
		// the later leg takes 5000.00000001 (its exact share 5000.0000000033…).
		{"dust to the later leg", usdt("15000.00000001"), [2]market.Money{usdt("10000"), usdt("5000.00000001")},
			[2]book.Ticks{2950, 2975}, usdt("10000.00000001"), [2]book.Lots{100, 100}, [2]book.Lots{100, 100}},
		// 30000: both needs in full, each IOC reaches its book's last level.
		{"needs covered", usdt("30000"), [2]market.Money{usdt("20000"), usdt("10000")},
			[2]book.Ticks{2900, 2950}, usdt("30000") - usdt("4000") - usdt("10000") - usdt("1000") - usdt("5000"),
			[2]book.Lots{200, 200}, [2]book.Lots{0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, nil, compile(t, symSpec{name: "AAA", tiers: bigTiers()}), compile(t, symSpec{name: "BBB", tiers: bigTiers()}))
			w.record = true
			w.setMark(0, 3750)
			w.setMark(1, 3750)
			a := w.addAccount("A", risk.Cross, usdt("300000"))
			b := w.addAccount("B", risk.Cross, usdt("1000000"))
			cc := w.addAccount("C", risk.Cross, usdt("1000000"))
			d := w.addAccount("D", risk.Cross, usdt("1000000"))
			e := w.addAccount("E", risk.Cross, usdt("1000000"))
			w.fundDeposit(c.fund)
			w.open(a, b, 0, book.Buy, 3750, 200, 5)
			w.open(a, cc, 1, book.Buy, 3750, 200, 5)
			w.leverage(d, 0, 5)
			w.leverage(e, 1, 5)
			w.mustPlace(d, 0, book.Buy, 2960, 100, book.GTC)
			w.mustPlace(d, 0, book.Buy, 2900, 100, book.GTC)
			w.mustPlace(e, 1, book.Buy, 2990, 100, book.GTC)
			w.mustPlace(e, 1, book.Buy, 2950, 100, book.GTC)
			w.drain()
			w.setMark(0, 3100)
			if len(w.machines) != 0 {
				t.Fatal("liquidated on one symbol's move")
			}
			w.setMark(1, 3100)
			if len(w.machines) != 1 || len(w.machines[0].Legs) != 2 {
				t.Fatalf("liquidations %d", len(w.machines))
			}
			m := w.machines[0]
			w.drain()
			w.quiet()

			w.liquidated(a, 1)
			var needs []market.Money
			for i := range m.Legs {
				if m.Legs[i].Bankruptcy != 3000 {
					t.Fatalf("leg %d bankrupt at %d", i, m.Legs[i].Bankruptcy)
				}
				needs = append(needs, m.Legs[i].quote.Need)
			}
			if needs[0] != usdt("20000") || needs[1] != usdt("10000") || m.L.Base != 0 {
				t.Fatalf("needs %v base %s", needs, m.L.Base)
			}
			want := market.Split(min(c.fund, usdt("30000")), needs, nil)
			for i := range 2 {
				if m.Legs[i].share != c.shares[i] || want[i] != c.shares[i] {
					t.Fatalf("leg %d share %s, market.Split %s, want %s", i, m.Legs[i].share, want[i], c.shares[i])
				}
			}
			ioc := effectsOf[PlaceIOC](w)
			if len(ioc) != 2 || ioc[0].Price != c.limits[0] || ioc[1].Price != c.limits[1] || ioc[0].Qty != 200 || ioc[1].Qty != 200 {
				t.Fatalf("liquidation orders %+v, want limits %v", ioc, c.limits)
			}
			w.fundIs(c.fundAfter)
			// The shorts are ADL'ed at 3000 for what the books did not take.
			for i, x := range []*acct{b, cc} {
				left := -200 + c.adl[i]
				w.position(x, i, left, w.syms[i].Value(3750, left), w.syms[i].Value(750, c.adl[i]))
			}
			dq, _ := d.r.Position(w.syms[0])
			eq, _ := e.r.Position(w.syms[1])
			if dq.Qty != c.fills[0] || eq.Qty != c.fills[1] {
				t.Fatalf("the books took %d and %d, want %v", dq.Qty, eq.Qty, c.fills)
			}
		})
	}
}

// seedMachine starts the liquidation of the seed's 1-lot long (liquidation
// 3100, bankruptcy 3000) on a symbol, socialized or not, and returns it
// with its first effect (the Reserve) consumed.
func seedMachine(t *testing.T, soc bool) (*Machine, *market.Symbol) {
	t.Helper()
	return seedMachineOf(t, soc, 1)
}

// seedMachineOf is seedMachine for a long of qty units (margin 750 each).
func seedMachineOf(t *testing.T, soc bool, qty book.Lots) (*Machine, *market.Symbol) {
	t.Helper()
	sym := compile(t, symSpec{name: "SEED", socialized: soc, tiers: longTiers()})
	a := risk.NewAccount(1, risk.Cross)
	if a.Deposit(750*market.MoneyScale*market.Money(qty)) != risk.OK || a.SetLeverage(sym, 5) != risk.OK {
		t.Fatal("setup")
	}
	if c, _ := a.PreTrade(sym, risk.Order{ID: 1, Side: book.Buy, Type: risk.Limit, Price: 3750, Qty: qty}, 3750); c != risk.OK {
		t.Fatal(c)
	}
	if _, c := a.ApplyFill(sym, risk.Fill{OrderID: 1, Side: book.Buy, Price: 3750, Qty: qty}); c != risk.OK {
		t.Fatal(c)
	}
	if !a.OnMark(sym, 3100) {
		t.Fatal("not liquidatable at 3100")
	}
	ids := book.OrderID(100)
	m, _, code := Start(a, sym, 7, Config{NewID: func() book.OrderID { ids++; return ids }}, socialized)
	if code != risk.OK {
		t.Fatal(code)
	}
	if r := m.Ready(); len(r) != 1 {
		t.Fatalf("first effects %+v", r)
	} else if res, ok := r[0].(*Reserve); !ok || res.ID != 7 || len(res.Legs) != 1 || res.Legs[0].Qty != qty || res.Legs[0].Bankruptcy != 3000 {
		t.Fatalf("first effect %+v", r[0])
	}
	return m, sym
}

// TestStepRejectsBrokenInvariants: an answer nobody asked for, or one the
// legs cannot absorb, is an error wrapping ErrInvariant, and so is any
// input after the settlement.
func TestStepRejectsBrokenInvariants(t *testing.T) {
	const ioc = book.OrderID(101) // the first IOC of seedMachine
	reserved := Reserved{Amount: 0, Quotes: []Quote{{Mark: 3100}}}
	settled := []Input{reserved, IOCDone{ID: ioc, Fills: []risk.Exec{{Price: 3060, Qty: 1}}}}
	socialReserved := Reserved{Amount: 0, Quotes: []Quote{{Need: usdt("40"), Mark: 3100}}}
	socialDue := []Input{socialReserved, SocialCap{Leg: 0, Amount: usdt("1000")}, SocialPlan{Leg: 0, N: 1}}
	inADL := []Input{reserved, IOCDone{ID: ioc}}
	for _, c := range []struct {
		name   string
		soc    bool
		before []Input
		bad    Input
	}{
		{"IOCDone for an unknown order", false, []Input{reserved}, IOCDone{ID: ioc + 50, Fills: []risk.Exec{{Price: 3060, Qty: 1}}}},
		{"IOCDone for order 0", false, []Input{reserved}, IOCDone{}},
		{"IOCDone before the order", false, nil, IOCDone{ID: ioc}},
		{"a fill beyond the leg's remaining", false, []Input{reserved}, IOCDone{ID: ioc, Fills: []risk.Exec{{Price: 3060, Qty: 2}}}},
		{"a second IOCDone", false, []Input{reserved, IOCDone{ID: ioc}}, IOCDone{ID: ioc}},
		{"ADLPlan for a leg that asked nothing", false, []Input{reserved}, ADLPlan{Leg: 0, Closes: 1, Covered: 1}},
		{"ADLFilled for a leg that asked nothing", false, []Input{reserved}, ADLFilled{Leg: 0, Qty: 1, Asked: 1}},
		{"ADLPlan for no leg", false, inADL, ADLPlan{Leg: 1}},
		{"a second ADLPlan", false, append(inADL, ADLPlan{Leg: 0, Closes: 1, Covered: 1}), ADLPlan{Leg: 0}},
		{"an ADL close beyond the remaining", false, append(inADL, ADLPlan{Leg: 0, Closes: 1, Covered: 1}), ADLFilled{Leg: 0, Qty: 2, Asked: 2}},
		{"TimerFired for no leg", false, inADL, TimerFired{Leg: -1}},
		{"a second Reserved", false, []Input{reserved}, reserved},
		{"Reserved for other legs", false, nil, Reserved{Quotes: []Quote{{}, {}}}},
		{"SocialCap not asked", false, []Input{reserved}, SocialCap{Leg: 0, Amount: 1}},
		{"a second SocialCap", true, []Input{socialReserved, SocialCap{Leg: 0}}, SocialCap{Leg: 0}},
		{"SocialPlan for a leg that asked nothing", true, []Input{socialReserved, SocialCap{Leg: 0}}, SocialPlan{Leg: 0}},
		{"SocialCharged for a leg that asked nothing", true, []Input{socialReserved, SocialCap{Leg: 0}}, SocialCharged{Leg: 0}},
		{"SocialCharged with Paid > Asked", true, socialDue, SocialCharged{Leg: 0, Paid: usdt("41"), Asked: usdt("40")}},
		{"SocialCharged with Paid < 0", true, socialDue, SocialCharged{Leg: 0, Paid: -1, Asked: usdt("40")}},
		{"a second SocialPlan", true, socialDue, SocialPlan{Leg: 0, N: 1}},
		{"a SocialPlan leaving less than nothing", true, socialDue[:3], SocialPlan{Leg: 0, N: 1, Uncovered: -1}},
		{"TimerFired after the settlement", false, settled, TimerFired{Leg: 0}},
		{"Reserved after the settlement", false, settled, reserved},
		{"IOCDone after the settlement", false, settled, IOCDone{ID: ioc}},
		{"ADLPlan after the settlement", false, settled, ADLPlan{Leg: 0}},
		{"ADLFilled after the settlement", false, settled, ADLFilled{Leg: 0}},
		{"SocialCap after the settlement", false, settled, SocialCap{Leg: 0}},
		{"SocialCharged after the settlement", true, append(socialDue, SocialCharged{Leg: 0, Paid: usdt("40"), Asked: usdt("40")},
			IOCDone{ID: ioc, Fills: []risk.Exec{{Price: 2960, Qty: 1}}}), SocialCharged{Leg: 0}},
		{"an unknown input", false, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := seedMachine(t, c.soc)
			for _, in := range c.before {
				if err := m.Step(in); err != nil {
					t.Fatalf("%T %+v: %v", in, in, err)
				}
				m.Ready()
			}
			err := m.Step(c.bad)
			if !errors.Is(err, ErrInvariant) {
				t.Fatalf("%T %+v: %v, want ErrInvariant; state %s", c.bad, c.bad, err, m.Describe())
			}
		})
	}
}

// TestStepSettlesOnce walks the seed long through both ends of the
// protocol (a surplus sale; a socialized deficit) and checks the effects:
// exactly one Settle, none after it.
func TestStepSettlesOnce(t *testing.T) {
	m, sym := seedMachine(t, false)
	steps := []struct {
		in   Input
		want []Effect
	}{
		{Reserved{Quotes: []Quote{{Mark: 3100}}}, []Effect{&PlaceIOC{Leg: 0, ID: 101, Side: book.Sell, Price: 3000, Qty: 1}}},
		{IOCDone{ID: 101, Fills: []risk.Exec{{Price: 3060, Qty: 1}}}, []Effect{&Settle{ID: 7, Fund: usdt("60"), Volume: usdt("3060"), Symbol: sym}}},
	}
	for _, s := range steps {
		stepWants(t, m, s.in, s.want...)
	}
	if !m.Settled() {
		t.Fatal("not settled")
	}
	if e := m.Abandon(); len(e) != 0 {
		t.Fatalf("Abandon after the settlement: %+v", e)
	}

	m, sym = seedMachine(t, true)
	for _, s := range append(socializedOpening(), []step{
		{SocialPlan{Leg: 0, N: 2}, nil},
		{SocialCharged{Leg: 0, Paid: usdt("30"), Asked: usdt("30"), Account: 2, Qty: -3}, nil},
		// The second winner could not pay: its 10 is spread again.
		{SocialCharged{Leg: 0, Paid: 0, Asked: usdt("10"), Account: 3, Qty: -1}, []Effect{&Socialize{Leg: 0, Side: book.Buy, Deficit: usdt("10")}}},
		{SocialPlan{Leg: 0, N: 1}, nil},
		{SocialCharged{Leg: 0, Paid: usdt("10"), Asked: usdt("10"), Account: 2, Qty: -3}, []Effect{iocAt2960}},
		{IOCDone{ID: 101, Fills: []risk.Exec{{Price: 2960, Qty: 1}}}, []Effect{&ReleaseSocial{Leg: 0, Side: book.Buy, Amount: usdt("1000")},
			&Settle{ID: 7, Fund: 0, Volume: usdt("2960"), Symbol: sym}}},
	}...) {
		stepWants(t, m, s.in, s.want...)
	}
	if m.Charged() != usdt("40") || !m.Settled() {
		t.Fatalf("charged %s", m.Charged())
	}
}

// step is an input and the effects it must give (stepWants).
type step struct {
	in   Input
	want []Effect
}

// socializedOpening takes seedMachine's socialized long (bankrupt at 3000)
// to its escrow's first Socialize: the set-aside quoted, the book's need
// of 40 beyond an empty reservation asked of the winners before the IOC.
func socializedOpening() []step {
	return []step{
		{Reserved{Quotes: []Quote{{Need: usdt("40"), Mark: 3100}}}, []Effect{&QuoteSocial{Leg: 0, Side: book.Buy}}},
		{SocialCap{Leg: 0, Amount: usdt("1000")}, []Effect{&Socialize{Leg: 0, Side: book.Buy, Deficit: usdt("40")}}},
	}
}

// iocAt2960 is the IOC the escrow of 40 lets the seed long place.
var iocAt2960 = &PlaceIOC{Leg: 0, ID: 101, Side: book.Sell, Price: 2960, Qty: 1}

// TestSocialUncoveredSpreadAgain: the winners' profit covers only 30 of
// the 40 the escrow asks (SocialPlan.Uncovered 10); the 10 is spread again
// like an unpaid charge, and the fund pays nothing.
func TestSocialUncoveredSpreadAgain(t *testing.T) {
	m, sym := seedMachine(t, true)
	for _, s := range append(socializedOpening(), []step{
		{SocialPlan{Leg: 0, N: 1, Uncovered: usdt("10")}, nil},
		{SocialCharged{Leg: 0, Paid: usdt("30"), Asked: usdt("30"), Account: 2, Qty: -3}, []Effect{&Socialize{Leg: 0, Side: book.Buy, Deficit: usdt("10")}}},
		{SocialPlan{Leg: 0, N: 1}, nil},
		{SocialCharged{Leg: 0, Paid: usdt("10"), Asked: usdt("10"), Account: 2, Qty: -3}, []Effect{iocAt2960}},
		{IOCDone{ID: 101, Fills: []risk.Exec{{Price: 2960, Qty: 1}}}, []Effect{&ReleaseSocial{Leg: 0, Side: book.Buy, Amount: usdt("1000")},
			&Settle{ID: 7, Fund: 0, Volume: usdt("2960"), Symbol: sym}}},
	}...) {
		stepWants(t, m, s.in, s.want...)
	}
	if m.Charged() != usdt("40") {
		t.Fatalf("charged %s", m.Charged())
	}
}

// TestAbandon: an abandoned liquidation gives back the fund's reservation,
// every set-aside not yet released and every winner's escrow, and what
// answers still bring.
func TestAbandon(t *testing.T) {
	reserved := Reserved{Amount: usdt("10"), Quotes: []Quote{{Need: usdt("40"), Mark: 3100}}}
	capped := SocialCap{Leg: 0, Amount: usdt("500")}
	paid := SocialCharged{Leg: 0, Paid: usdt("30"), Asked: usdt("30"), Account: 9, Qty: -2}
	refund := &Refund{Leg: 0, Side: book.Buy, Account: 9, Amount: usdt("30"), Qty: -2}
	for _, c := range []struct {
		name   string
		soc    bool
		before []Input
		want   []Effect // of Abandon
		after  Input
		then   []Effect // of the answer after Abandon
	}{
		{"before the reservation", false, nil, nil, reserved, []Effect{&Release{ID: 7}}},
		{"reserved", false, []Input{reserved}, []Effect{&Release{ID: 7}}, IOCDone{ID: 101}, nil},
		{"set-aside asked", true, []Input{reserved}, []Effect{&Release{ID: 7}},
			SocialCap{Leg: 0, Amount: usdt("500")}, []Effect{&ReleaseSocial{Leg: 0, Side: book.Buy, Amount: usdt("500")}}},
		{"set-aside quoted", true, []Input{reserved, SocialCap{Leg: 0, Amount: usdt("500")}},
			[]Effect{&Release{ID: 7}, &ReleaseSocial{Leg: 0, Side: book.Buy, Amount: usdt("500")}}, TimerFired{Leg: 0}, nil},
		// The escrow goes back, paid before or after Abandon.
		{"escrow collecting", true, []Input{reserved, capped, SocialPlan{Leg: 0, N: 1}},
			[]Effect{&Release{ID: 7}, &ReleaseSocial{Leg: 0, Side: book.Buy, Amount: usdt("500")}}, paid, []Effect{refund}},
		{"escrow paid", true, []Input{reserved, capped, SocialPlan{Leg: 0, N: 1}, paid},
			[]Effect{&Release{ID: 7}, &ReleaseSocial{Leg: 0, Side: book.Buy, Amount: usdt("500")}, refund}, IOCDone{ID: 101}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := seedMachine(t, c.soc)
			for _, in := range c.before {
				if err := m.Step(in); err != nil {
					t.Fatal(err)
				}
				m.Ready()
			}
			got := m.Abandon()
			if len(got) != len(c.want) {
				t.Fatalf("Abandon: %+v, want %+v", got, c.want)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], c.want[i]) {
					t.Fatalf("Abandon: %+v, want %+v", got[i], c.want[i])
				}
			}
			if again := m.Abandon(); len(again) != 0 {
				t.Fatalf("second Abandon: %+v", again)
			}
			if err := m.Step(c.after); err != nil {
				t.Fatalf("%T after Abandon: %v", c.after, err)
			}
			got = m.Ready()
			if len(got) != len(c.then) {
				t.Fatalf("%T after Abandon: %+v, want %+v", c.after, got, c.then)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], c.then[i]) {
					t.Fatalf("%T after Abandon: %+v, want %+v", c.after, got[i], c.then[i])
				}
			}
			if m.Settled() {
				t.Fatal("an abandoned liquidation settled")
			}
		})
	}
}

// TestAbandonedBooksWhatTheMarketDid: the long's IOC or its ADL round is
// out when its account fails. Its counterparties booked their side (the
// IOC's makers, the ADL counterparty at B), so the abandoned machine books
// the fills and closes on its frozen leg: what is left of it, and what it
// gained, still balance them in the audit. Before, both were ignored.
func TestAbandonedBooksWhatTheMarketDid(t *testing.T) {
	for _, c := range []struct {
		name   string
		before []Input
		after  Input
		gain   market.Money
	}{
		{"IOC fill", []Input{Reserved{Amount: usdt("10"), Quotes: []Quote{{Need: usdt("40"), Mark: 3100}}}},
			IOCDone{ID: 101, Fills: []risk.Exec{{Price: 2990, Qty: 1}}}, usdt("-10")},
		{"ADL close", []Input{Reserved{Quotes: []Quote{{Mark: 3100}}}, IOCDone{ID: 101}, ADLPlan{Leg: 0, Closes: 1, Covered: 1}},
			ADLFilled{Leg: 0, Qty: 1, Asked: 1}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := seedMachine(t, false)
			for _, in := range c.before {
				if err := m.Step(in); err != nil {
					t.Fatal(err)
				}
				m.Ready()
			}
			m.Abandon()
			if err := m.Step(c.after); err != nil {
				t.Fatalf("%T after Abandon: %v", c.after, err)
			}
			if g := m.Legs[0]; g.Remaining != 0 || g.Gain != c.gain {
				t.Fatalf("leg after %T: remaining %d, gain %s; want 0, %s", c.after, g.Remaining, g.Gain, c.gain)
			}
			if eff := m.Ready(); len(eff) != 0 || m.Settled() {
				t.Fatalf("an abandoned liquidation went on: %+v", eff)
			}
		})
	}
}

// TestAbandonGivesBackToTheCores: on real cores, a socialized liquidation
// abandoned at each point of its start gives the fund's reservation and
// the ranking's set-aside back, including those granted after Abandon.
func TestAbandonGivesBackToTheCores(t *testing.T) {
	for _, c := range []struct {
		name  string
		until func(w *world, m *Machine) bool // deliver until it holds
	}{
		{"reservation in flight", func(w *world, m *Machine) bool { return w.fund.Reserved(quoteAsset) > 0 }},
		{"set-aside in flight", func(w *world, m *Machine) bool { return w.ranks[0].SetAsideTotal() > 0 }},
		{"set-aside quoted", func(w *world, m *Machine) bool { return m.Legs[0].social.quoted }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, nil, compile(t, symSpec{name: "SOC", socialized: true, tiers: bigTiers()}))
			w.setMark(0, 3750)
			a := w.addAccount("A", risk.Cross, usdt("150000"))
			b := w.addAccount("B", risk.Cross, usdt("1000000"))
			d := w.addAccount("D", risk.Cross, usdt("1000000"))
			w.fundDeposit(usdt("8000"))
			w.open(a, b, 0, book.Buy, 3750, 200, 5)
			bid := w.mustPlace(d, 0, book.Buy, 2900, 1, book.GTC)
			w.drain()
			w.setMark(0, 3100)
			m := a.m
			if m == nil {
				t.Fatal("not liquidated")
			}
			// The book quotes a need of 200 × 100 from D's bid, which is
			// gone before the IOC comes: nothing will fill.
			w.cancelIDs(d, []book.OrderID{bid})
			for !c.until(w, m) {
				if !w.deliverOne() {
					t.Fatal("never got there")
				}
				w.check("until")
			}
			if w.fund.Reserved(quoteAsset) != usdt("8000") && c.name != "reservation in flight" {
				t.Fatalf("reserved %s", w.fund.Reserved(quoteAsset))
			}
			for _, e := range m.Abandon() {
				w.performOne(a, m, e)
			}
			w.drain()
			if r := w.fund.Reserved(quoteAsset); r != 0 {
				t.Fatalf("the fund still reserves %s", r)
			}
			if s := w.ranks[0].SetAsideTotal(); s != 0 {
				t.Fatalf("%s still set aside", s)
			}
			w.fundIs(usdt("8000"))
			if m.Settled() {
				t.Fatal("settled")
			}
		})
	}
}

// duelists: X long 100 at 1000 against Y short 100, 2000 of margin each
// at leverage 50: X liquidates at 989 (bankrupt at 980), Y at 1010
// (bankrupt at 1020). Nobody else holds the symbol and the fund is empty.
func duelists(t *testing.T) (w *world, x, y *acct) {
	w = newWorld(t, nil, compile(t, symSpec{name: "AAA", tiers: [][2]string{{"200000", "0.01"}, {"1000000000", "0.05"}}}))
	w.record = true
	w.setMark(0, 1000)
	x = w.addAccount("X", risk.Cross, usdt("2000"))
	y = w.addAccount("Y", risk.Cross, usdt("2000"))
	w.open(x, y, 0, book.Buy, 1000, 100, 50)
	w.prices(x, 0, 989, 980)
	w.prices(y, 0, 1010, 1020)
	// A whipsaw liquidates both before anything is delivered.
	w.setMark(0, 989)
	w.setMark(0, 1010)
	w.setMark(0, 1000)
	if x.m == nil || y.m == nil {
		t.Fatal("not both liquidating")
	}
	return w, x, y
}

// TestCloseAgainstLiquidatingCounterparty: two liquidations on opposite
// sides whose only counterparties are each other. X's ADL request finds no
// short (Y's position left the ranking at takeover) and waits; Y's finds
// X's leg, offered to ADL, and closes it at Y's bankruptcy price 1020:
// X's machine takes the close (CloseAgainst; 1020 is no worse than X's own
// 980) and both settle, X's leg with a gain of 100 × 40 for the fund.
func TestCloseAgainstLiquidatingCounterparty(t *testing.T) {
	w, x, y := duelists(t)
	// Y's takeover report (its position leaves the ranking) first.
	for w.deliverWhere(func(from, to ep) bool { return from == y.ep() && to == epADL }) {
		w.check("Y's report")
	}
	notY := func(from, to ep) bool { return from != y.ep() && to != y.ep() && from != epTimer }
	for w.deliverWhere(notY) {
		w.check("X alone")
	}
	g := &x.m.Legs[0]
	if !g.Offered() || g.asked || g.idle != 1 || g.Remaining != 100 {
		t.Fatalf("X should wait for a counterparty: %s", x.m.Describe())
	}
	noTimer := func(from, to ep) bool { return from != epTimer }
	for y.m != nil && w.deliverWhere(noTimer) {
		w.check("Y")
	}
	w.drain()
	w.quiet()
	if w.st.closeAgainst != 1 || w.st.adlCloses != 0 {
		t.Fatalf("CloseAgainst %d, ADL closes %d", w.st.closeAgainst, w.st.adlCloses)
	}
	w.liquidated(x, 1)
	w.liquidated(y, 1)
	s := effectsOf[Settle](w)
	if len(s) != 2 || s[0].Fund != usdt("4000") || s[1].Fund != 0 {
		t.Fatalf("settlements %+v, want X's +4000 then Y's 0", s)
	}
	w.fundIs(usdt("4000"))
}

// TestCloseAgainstLockstep: the duelists' two liquidations ask ADL in
// lockstep (the same backoff, the same flush); X's close reaches Y while
// Y's own request is out (asked, not planned), and Y's request finds
// nothing (X's leg is promised to X's own plan). Refusing X's close there
// made both retry after the same wait, forever; CloseAgainst defers it
// until Y's plan is in, then closes it.
func TestCloseAgainstLockstep(t *testing.T) {
	w, x, y := duelists(t)
	for n := 0; w.deliverOne(); n++ {
		w.check("lockstep")
		if n > 10_000 {
			t.Fatalf("no progress after %d deliveries (%d ADL rounds, %d refused closes): %s | %s",
				n, w.st.adlRounds, w.st.closeToLiq, x.m.Describe(), y.m.Describe())
		}
	}
	w.quiet()
	if w.st.closeDeferred == 0 || w.st.closeAgainst == 0 || w.st.settled != 2 {
		t.Fatalf("the duel was not settled by a deferred close: %s", w.st)
	}
}

// TestSocializedShortfallBeyondReservation: on a socialized symbol the IOC
// of A's 200-lot long may lose the book's quoted need (200 × 100 = 20000)
// beyond the fund's reservation (1000), on the strength of the winners'
// profit set aside at mark 3100; the mark then rises to 3760 before the
// socialization, where the shorts' profit is gone. They are charged the
// profit they held at the quote's mark, so the settlement asks the fund
// for no more than it reserved (charged at the current mark, nobody paid
// and fund.Settle left 19000 uncovered).
//
// Now the winners pay the need into escrow before the IOC goes out: the
// mark's move after it changes nothing.
func TestSocializedShortfallBeyondReservation(t *testing.T) {
	w := newWorld(t, nil, compile(t, symSpec{name: "SOC", socialized: true, tiers: bigTiers()}))
	w.setMark(0, 3750)
	a := w.addAccount("A", risk.Cross, usdt("150000"))
	b := w.addAccount("B", risk.Cross, usdt("1000000"))
	d := w.addAccount("D", risk.Cross, usdt("1000000"))
	for _, x := range []*acct{a, b, d} {
		w.leverage(x, 0, 5)
	}
	w.fundDeposit(usdt("1000"))
	w.open(a, b, 0, book.Buy, 3750, 200, 5)
	w.mustPlace(d, 0, book.Buy, 2900, 200, book.GTC)
	w.drain()
	w.setMark(0, 3100)
	// Deliver until the IOC is in the book, then move the mark.
	for len(effectsOf[PlaceIOC](w)) == 0 {
		w.record = true
		if !w.deliverOne() {
			t.Fatal("no IOC")
		}
		w.check("before")
	}
	w.setMark(0, 3760)
	w.drain()
	w.quiet()
}

// TestADLPassesOverACounterpartyThatCannotAfford: X's 100-lot short
// (bankrupt at 1020) waits in liquidation while the mark runs to 1120 and
// Z opens a 10-lot isolated long at 1100 (50×, margin 220). With no asks
// and an empty fund X's remainder goes to ADL at 1020, where Z, profitable
// at the mark and highly leveraged, ranks first; closed at 1020 it would
// lose 800 on a margin of 220, a deficit nobody reserved. The ranking
// passes it over: Y takes the close, Z keeps its position, no money is
// created.
func TestADLPassesOverACounterpartyThatCannotAfford(t *testing.T) {
	w := newWorld(t, nil, compile(t, symSpec{name: "AAA", tiers: simTiers()}))
	w.setMark(0, 1000)
	x := w.addAccount("X", risk.Cross, usdt("2000"))
	y := w.addAccount("Y", risk.Cross, usdt("1000000"))
	z := w.addAccount("Z", risk.Isolated, usdt("10000"))
	m := w.addAccount("M", risk.Cross, usdt("1000000"))
	w.open(x, y, 0, book.Sell, 1000, 100, 50)
	w.prices(x, 0, 1010, 1020)
	w.leverage(z, 0, 50)
	w.leverage(m, 0, 10)
	w.setMark(0, 1010)
	if x.m == nil {
		t.Fatal("X not liquidating")
	}
	// Z's trade first, at the mark, X's liquidation held.
	w.setMark(0, 1100)
	w.mustPlace(m, 0, book.Sell, 1100, 10, book.GTC)
	w.mustPlace(z, 0, book.Buy, 1100, 10, book.IOC)
	for w.deliverWhere(func(from, to ep) bool { return from != x.ep() && to != x.ep() }) {
		w.check("Z")
	}
	w.position(z, 0, 10, w.syms[0].Value(1100, 10), 0)
	w.setMark(0, 1120)
	w.drain()
	w.quiet()
	w.liquidated(x, 1)
	w.position(z, 0, 10, w.syms[0].Value(1100, 10), 0)
	if w.st.adlCloses == 0 || w.uncovered != 0 {
		t.Fatalf("ADL closes %d, uncovered %s", w.st.adlCloses, w.uncovered)
	}
}

// liquidateSeed runs the seed long a (liquidation 3100, bankruptcy 3000)
// into its liquidation: the mark goes to 3100 and the world runs quiet; a
// was liquidated once and the fund ends empty.
func (w *world) liquidateSeed(a *acct) {
	w.t.Helper()
	w.drain()
	w.prices(a, 0, 3100, 3000)
	w.setMark(0, 3100)
	w.drain()
	w.quiet()
	w.liquidated(a, 1)
	w.fundIs(0)
}

// stepWants steps m with in and requires exactly the effects want.
func stepWants(t *testing.T, m *Machine, in Input, want ...Effect) {
	t.Helper()
	if err := m.Step(in); err != nil {
		t.Fatal(err)
	}
	got := m.Ready()
	if len(got) != len(want) {
		t.Fatalf("%T: effects %+v, want %+v", in, got, want)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%T: effect %+v, want %+v", in, got[i], want[i])
		}
	}
}

// TestEscrowRefundsWhatTheSettlementLeaves: two winners pay the seed
// long's escrow of 40 (30 and 10) before its IOC goes out at 2960; the IOC
// fills at 2980, a loss of 20: the escrow pays it, split 15 and 5 by what
// each paid (market.Split), and the rest goes back (15 and 5); the fund
// neither pays nor gets anything. Filled at nothing, the leg goes to ADL
// at 3000 and the whole escrow goes back.
func TestEscrowRefundsWhatTheSettlementLeaves(t *testing.T) {
	escrow := append(socializedOpening(), []step{
		{SocialPlan{Leg: 0, N: 2}, nil},
		{SocialCharged{Leg: 0, Paid: usdt("30"), Asked: usdt("30"), Account: 2, Qty: -3}, nil},
		{SocialCharged{Leg: 0, Paid: usdt("10"), Asked: usdt("10"), Account: 3, Qty: -1}, []Effect{iocAt2960}},
	}...)
	release := &ReleaseSocial{Leg: 0, Side: book.Buy, Amount: usdt("1000")}
	t.Run("filled at 2980", func(t *testing.T) {
		m, sym := seedMachine(t, true)
		for _, s := range append(escrow, step{IOCDone{ID: 101, Fills: []risk.Exec{{Price: 2980, Qty: 1}}}, []Effect{release,
			&Refund{Leg: 0, Side: book.Buy, Account: 2, Amount: usdt("15"), Qty: -3},
			&Refund{Leg: 0, Side: book.Buy, Account: 3, Amount: usdt("5"), Qty: -1},
			&Settle{ID: 7, Fund: 0, Volume: usdt("2980"), Symbol: sym}}}) {
			stepWants(t, m, s.in, s.want...)
		}
	})
	t.Run("closed by ADL", func(t *testing.T) {
		m, sym := seedMachine(t, true)
		for _, s := range append(escrow, []step{
			{IOCDone{ID: 101}, []Effect{&Deleverage{Leg: 0, Price: 3000, Qty: 1, Cost: usdt("3750")}}},
			{ADLPlan{Leg: 0, Closes: 1, Covered: 1}, nil},
			{ADLFilled{Leg: 0, Qty: 1, Asked: 1}, []Effect{release,
				&Refund{Leg: 0, Side: book.Buy, Account: 2, Amount: usdt("30"), Qty: -3},
				&Refund{Leg: 0, Side: book.Buy, Account: 3, Amount: usdt("10"), Qty: -1},
				&Settle{ID: 7, Fund: 0, Volume: usdt("3000"), Symbol: sym}}},
		}...) {
			stepWants(t, m, s.in, s.want...)
		}
	})
}

// TestEscrowBoundsTheIOC: the winners pay only 25 of the seed long's
// escrow of 40, and a second round collects nothing: the IOC goes out at
// 2975, where a full fill loses what the escrow holds, not at the book's
// 2960; a winner that cannot pay leaves the rest to ADL at 3000, never to
// the fund.
func TestEscrowBoundsTheIOC(t *testing.T) {
	m, _ := seedMachine(t, true)
	for _, s := range append(socializedOpening(), []step{
		{SocialPlan{Leg: 0, N: 1}, nil},
		{SocialCharged{Leg: 0, Paid: usdt("25"), Asked: usdt("40"), Account: 2, Qty: -3}, []Effect{&Socialize{Leg: 0, Side: book.Buy, Deficit: usdt("15")}}},
		{SocialPlan{Leg: 0, N: 0, Uncovered: usdt("15")}, []Effect{&PlaceIOC{Leg: 0, ID: 101, Side: book.Sell, Price: 2975, Qty: 1}}},
	}...) {
		stepWants(t, m, s.in, s.want...)
	}
	if m.Charged() != usdt("25") {
		t.Fatalf("escrow %s", m.Charged())
	}
}

// TestRefundUncharged: a refund comes off what the ranking counts charged
// to the position only for the lots the winner still holds of those it
// paid with.
func TestRefundUncharged(t *testing.T) {
	r := Refund{Amount: 90, Qty: -3}
	for _, c := range []struct {
		now  book.Lots
		want market.Money
	}{{-3, 90}, {-5, 90}, {-1, 30}, {-2, 60}, {0, 0}, {4, 0}} {
		if got := r.Uncharged(c.now); got != c.want {
			t.Errorf("holding %d: %d, want %d", c.now, got, c.want)
		}
	}
	if c := (Refund{Amount: 90, Qty: -3, Closed: true}); c.Uncharged(-3) != 0 {
		t.Error("a refund of a charge on profit taken out uncharged the position")
	}
}
