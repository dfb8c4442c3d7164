package liq

import (
	"errors"
	"fmt"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// A leg's funding while a liquidation holds it (Machine.onFunding): it
// joins the liquidation's equity and moves the leg's bankruptcy price by
// payment/qty, so the ADL counterparties (or the book) cover it at the new
// price, and what no price took settles with the rest of the deficit.

const onePct = market.Rate(market.RateScale / 100) // funding rates far above real ones: the price moves by ticks

// fundingWorld opens alice's 1-lot position on side (a long at 3750 on 750,
// bankrupt at 3000, or a short at 2500 on 500, bankrupt at 3000) against
// bob, and a second lot of bob's against dave (so bob is still a winner
// after his ADL close), with fund in the insurance fund; mark is the
// liquidating mark for alice's side.
func fundingWorld(t *testing.T, social bool, side book.Side, lots book.Lots, fund string) (w *world, alice, bob, carol *acct, mark book.Ticks) {
	tiers, entry, margin, mark := longTiers(), book.Ticks(3750), "750", book.Ticks(3050)
	if side == book.Sell {
		tiers, entry, margin, mark = shortTiers(), 2500, "500", 2950
	}
	w = newWorld(t, nil, compile(t, symSpec{name: "FUND", tiers: tiers, socialized: social}))
	w.record = true
	w.setMark(0, entry)
	alice = w.addAccount("alice", risk.Cross, usdt(margin)*market.Money(lots))
	bob = w.addAccount("bob", risk.Cross, usdt("100000"))
	carol = w.addAccount("carol", risk.Cross, usdt("100000"))
	dave := w.addAccount("dave", risk.Cross, usdt("100000"))
	w.fundDeposit(usdt(fund))
	w.open(alice, bob, 0, side, entry, lots, 5)
	w.open(dave, bob, 0, side, entry, 1, 5)
	if lots == 1 {
		w.prices(alice, 0, mark+book.Ticks(side.Sign())*50, 3000)
	}
	return w, alice, bob, carol, mark
}

// TestLegFundingMovesBankruptcyPrice: alice's leg waits for its
// reservation when a funding time passes (rate ±1 % at the liquidating
// mark: 30.5 on a long at 3050, 29.5 on a short at 2950). A payment moves
// its bankruptcy price towards the mark by payment/qty rounded up to the
// tick (a long's up, a short's down), a receipt away from it rounded down;
// the book is empty, so bob closes the leg by ADL at the new price and
// pays back what he was paid (or is paid what he paid). The rounding, 0.5,
// is the fund's; nothing else moves it, whether it holds 1000 or nothing,
// in ADL or socialized mode.
func TestLegFundingMovesBankruptcyPrice(t *testing.T) {
	for _, c := range []struct {
		name string
		side book.Side // alice's
		rate market.Rate
		bk   book.Ticks // alice's after the funding
	}{
		{"AliceLongPays", book.Buy, onePct, 3031},
		{"AliceLongReceives", book.Buy, -onePct, 2970},
		{"AliceShortPays", book.Sell, -onePct, 2970},
		{"AliceShortReceives", book.Sell, onePct, 3029},
	} {
		for _, social := range []bool{false, true} {
			for _, fund := range []string{"0", "1000"} {
				t.Run(fmt.Sprintf("%s/socialized=%v/fund=%s", c.name, social, fund), func(t *testing.T) {
					w, alice, bob, _, mark := fundingWorld(t, social, c.side, 1, fund)
					w.setMark(0, mark)
					if alice.m == nil {
						t.Fatal("alice not liquidated")
					}
					bobBefore := bob.r.Balance()
					w.funding(0, c.rate)
					bobFunding := bob.r.Balance() - bobBefore
					if g := alice.m.Legs[0]; g.Bankruptcy != c.bk || g.funding != 0 {
						t.Fatalf("leg %s, want bankruptcy %d", alice.m.Describe(), c.bk)
					}
					w.drain()
					w.quiet()
					w.liquidated(alice, 1)
					if dl := effectsOf[Deleverage](w); len(dl) != 1 || dl[0].Price != c.bk {
						t.Fatalf("deleverage %+v, want at %d", dl, c.bk)
					}
					w.fundIs(usdt(fund) + usdt("0.5"))
					// bob: his funding back (and the rounding) through the price.
					entry := book.Ticks(3750)
					if c.side == book.Sell {
						entry = 2500
					}
					closed := w.syms[0].Value(c.bk-entry, -book.Lots(c.side.Sign()))
					w.balance(bob, bobBefore+bobFunding+closed)
				})
			}
		}
	}
}

// fundWhile delivers until alice's leg is in the state in describes (what),
// pays a funding time at rate, which must wait (the price unmoved, the
// payment pending), and runs the liquidation to its end.
func fundWhile(t *testing.T, w *world, alice *acct, what string, in func(*Leg) bool, rate market.Rate) {
	t.Helper()
	for alice.m != nil && !in(&alice.m.Legs[0]) {
		if !w.deliverOne() {
			t.Fatalf("never %s", what)
		}
		w.check(what)
	}
	g := &alice.m.Legs[0]
	pay := risk.FundingPayment(g.Symbol, g.Remaining, rate, w.marks[0])
	w.funding(0, rate)
	if g.Bankruptcy != 3000 || g.funding != pay {
		t.Fatalf("leg %s: the payment should wait for %s", alice.m.Describe(), what)
	}
	w.drain()
	w.quiet()
	w.liquidated(alice, 1)
}

// TestLegFundingWaitsForTheADLRound: the funding time passes while alice's
// ADL request is out. The round's closes are booked at the price it was
// sent with (the counterparties close there), so the payment waits for the
// round's end; the round closes the whole leg, so no price is left to
// move: bob, who closed it after the payment, pays back the 30.5 he was
// paid (alice's long paid at 1 %), as a close at the moved price would
// have, or is paid back the 30.5 he paid (alice received at −1 %)
// (AdjustClose). Nothing stays in the deficit: the fund neither pays nor
// gets it, the winners pay nothing, whether the fund holds 1000 or
// nothing, in adl and socialized mode. Before, the liquidation kept it:
// the fund paid 30.5 (or got it), the winners on a socialized symbol, and
// with an empty fund in adl mode nobody (uncovered).
func TestLegFundingWaitsForTheADLRound(t *testing.T) {
	for _, c := range []struct {
		name string
		rate market.Rate
	}{{"AliceLongPays", onePct}, {"AliceLongReceives", -onePct}} {
		for _, social := range []bool{false, true} {
			for _, fund := range []string{"0", "1000"} {
				t.Run(fmt.Sprintf("%s/socialized=%v/fund=%s", c.name, social, fund), func(t *testing.T) {
					w, alice, bob, _, mark := fundingWorld(t, social, book.Buy, 1, fund)
					w.setMark(0, mark)
					bobBefore := bob.r.Balance()
					fundWhile(t, w, alice, "the ADL round", func(g *Leg) bool { return g.asked }, c.rate)
					w.fundIs(usdt(fund))
					s := effectsOf[Settle](w)
					if len(s) != 1 || s[0].Fund != 0 || w.machines[0].Charged() != 0 {
						t.Fatalf("settlements %+v, charged %s", s, w.machines[0].Charged())
					}
					if dl := effectsOf[Deleverage](w); len(dl) != 1 || dl[0].Price != 3000 {
						t.Fatalf("deleverage %+v", dl)
					}
					paid := risk.FundingPayment(w.syms[0], 1, c.rate, mark) // alice's: − paid
					if a := effectsOf[AdjustClose](w); len(a) != 1 || a[0].Account != bob.id || a[0].Qty != 1 || a[0].Amount != paid {
						t.Fatalf("adjustments %+v, want bob's of %s", a, paid)
					}
					// bob: the close at 3000 less what he was paid back; his
					// funding on the lot he still holds against dave.
					held := risk.FundingPayment(w.syms[0], -1, c.rate, mark)
					w.balance(bob, bobBefore+w.syms[0].Value(3750-3000, 1)+held)
					if w.st.fundingKept != 0 || w.st.fundingUncovered != 0 || w.shortfall != 0 {
						t.Fatalf("kept %d, uncovered %d (%s)", w.st.fundingKept, w.st.fundingUncovered, w.shortfall)
					}
				})
			}
		}
	}
}

// TestAdjustCloseUnpaid: what a counterparty cannot pay of its adjustment
// stays in the deficit (the fund's); a part of the payment the round's
// other closes by liquidations' legs took is kept the same way; a round
// that leaves lots moves the price over them as before, and the closes
// it made pay nothing.
func TestAdjustCloseUnpaid(t *testing.T) {
	m, sym := seedMachineOf(t, false, 2)
	cost := RankedCost(m.Legs[0].LiquidationLeg)
	stepWants(t, m, Reserved{Amount: 0, Quotes: []Quote{{Need: 0, Mark: 3100}}}, &PlaceIOC{Leg: 0, ID: 101, Side: book.Sell, Price: 3000, Qty: 2})
	stepWants(t, m, IOCDone{ID: 101}, &Deleverage{Leg: 0, Price: 3000, Qty: 2, Cost: cost})
	paid := risk.FundingPayment(sym, 2, onePct, 3100) // −62
	stepWants(t, m, Funding{Leg: 0, Amount: paid})
	stepWants(t, m, ADLPlan{Leg: 0, Closes: 2, Covered: 2})
	stepWants(t, m, ADLFilled{Leg: 0, Qty: 1, Asked: 1, Account: 5})
	stepWants(t, m, ADLFilled{Leg: 0, Qty: 1, Asked: 1, Account: 6},
		&AdjustClose{Leg: 0, Account: 5, Qty: 1, Amount: paid / 2}, &AdjustClose{Leg: 0, Account: 6, Qty: 1, Amount: paid / 2})
	stepWants(t, m, CloseAdjusted{Leg: 0, Amount: paid / 2, Asked: paid / 2})
	if err := m.Step(CloseAdjusted{Leg: 0, Amount: 1, Asked: paid / 2}); !errors.Is(err, ErrInvariant) {
		t.Fatalf("an adjustment the wrong way: %v", err)
	}
	unpaid := usdt("10")
	stepWants(t, m, CloseAdjusted{Leg: 0, Amount: paid/2 + unpaid, Asked: paid / 2},
		&Settle{ID: 7, Fund: -unpaid + m.L.Base - paid, Volume: sym.Notional(3000, 2), Symbol: sym})
	if g := m.Legs[0]; g.kept != -unpaid {
		t.Fatalf("kept %s", g.kept)
	}

	// A close by another liquidation's leg (Account 0) pays nothing: its
	// part is kept; bob's is asked.
	m, _ = seedMachineOf(t, false, 2)
	stepWants(t, m, Reserved{Amount: 0, Quotes: []Quote{{Need: 0, Mark: 3100}}}, &PlaceIOC{Leg: 0, ID: 101, Side: book.Sell, Price: 3000, Qty: 2})
	stepWants(t, m, IOCDone{ID: 101}, &Deleverage{Leg: 0, Price: 3000, Qty: 2, Cost: cost})
	stepWants(t, m, Funding{Leg: 0, Amount: paid})
	stepWants(t, m, ADLPlan{Leg: 0, Closes: 2, Covered: 2})
	stepWants(t, m, ADLFilled{Leg: 0, Qty: 1, Asked: 1})
	stepWants(t, m, ADLFilled{Leg: 0, Qty: 1, Asked: 1, Account: 6}, &AdjustClose{Leg: 0, Account: 6, Qty: 1, Amount: paid / 2})
	if g := m.Legs[0]; g.kept != paid/2 {
		t.Fatalf("kept %s, want %s", g.kept, paid/2)
	}
	// The account fails meanwhile: what the counterparty paid is booked on
	// the frozen leg, as its side was.
	m.Abandon()
	gain := m.Legs[0].Gain
	if err := m.Step(CloseAdjusted{Leg: 0, Amount: paid / 2, Asked: paid / 2}); err != nil || m.Legs[0].Gain != gain-paid/2 {
		t.Fatalf("after Abandon: %v, gain %s", err, m.Legs[0].Gain)
	}

	// The round closes one lot of two: the price of the other moves by the
	// whole payment, as before, and the close pays nothing.
	m, _ = seedMachineOf(t, false, 2)
	stepWants(t, m, Reserved{Amount: 0, Quotes: []Quote{{Need: 0, Mark: 3100}}}, &PlaceIOC{Leg: 0, ID: 101, Side: book.Sell, Price: 3000, Qty: 2})
	stepWants(t, m, IOCDone{ID: 101}, &Deleverage{Leg: 0, Price: 3000, Qty: 2, Cost: cost})
	stepWants(t, m, Funding{Leg: 0, Amount: paid})
	stepWants(t, m, ADLPlan{Leg: 0, Closes: 1, Covered: 1})
	stepWants(t, m, ADLFilled{Leg: 0, Qty: 1, Asked: 1, Account: 5}, &Deleverage{Leg: 0, Price: 3062, Qty: 1, Cost: cost / 2})
	if g := m.Legs[0]; len(g.closers) != 0 || g.adjusting != 0 {
		t.Fatalf("leg %s", m.Describe())
	}
}

// TestLegFundingWaitsForTheIOC: alice's 2-lot long (bankrupt at 3000)
// sells into carol's one bid at 2990 with 20 reserved; the funding time
// (61 paid) passes while the IOC is in the book. Its fill is booked
// against 3000 (10 lost, the reservation's), then the payment moves the
// price of the lot left by 61: ADL at 3061. The fund pays the 10 only.
func TestLegFundingWaitsForTheIOC(t *testing.T) {
	w, alice, _, carol, mark := fundingWorld(t, false, book.Buy, 2, "1000")
	w.leverage(carol, 0, 5)
	w.mustPlace(carol, 0, book.Buy, 2990, 1, book.GTC)
	w.drain()
	w.setMark(0, mark)
	fundWhile(t, w, alice, "the IOC", func(g *Leg) bool { return g.order != 0 }, onePct)
	if ioc := effectsOf[PlaceIOC](w); len(ioc) != 1 || ioc[0].Price != 2990 {
		t.Fatalf("IOC %+v", ioc)
	}
	if dl := effectsOf[Deleverage](w); len(dl) != 1 || dl[0].Price != 3061 || dl[0].Qty != 1 {
		t.Fatalf("deleverage %+v, want 1 at 3061", dl)
	}
	w.fundIs(usdt("990"))
}

// TestLegFundingRepricesAWaitingRemainder: a remainder offered to ADL and
// waiting (RetryAfter) is held by the ranking with its bankruptcy price as
// its bound (adl.Ranking.Report); a funding time that moves the price
// reports it again (Reprice).
func TestLegFundingRepricesAWaitingRemainder(t *testing.T) {
	m, sym := seedMachine(t, false)
	stepWants(t, m, Reserved{Amount: 0, Quotes: []Quote{{Need: 0, Mark: 3100}}}, &PlaceIOC{Leg: 0, ID: 101, Side: book.Sell, Price: 3000, Qty: 1})
	stepWants(t, m, IOCDone{ID: 101}, &Deleverage{Leg: 0, Price: 3000, Qty: 1, Cost: RankedCost(m.Legs[0].LiquidationLeg)})
	stepWants(t, m, ADLPlan{Leg: 0}, &RetryAfter{Leg: 0, After: m.cfg.Retry})
	stepWants(t, m, Funding{Leg: 0, Amount: risk.FundingPayment(sym, 1, onePct, 3100)}, &Reprice{Leg: 0, Price: 3031, Qty: 1, Cost: RankedCost(m.Legs[0].LiquidationLeg)})
	stepWants(t, m, TimerFired{Leg: 0}, &Deleverage{Leg: 0, Price: 3031, Qty: 1, Cost: RankedCost(m.Legs[0].LiquidationLeg)})
	if m.L.Base != usdt("0") {
		t.Fatalf("base %s", m.L.Base)
	}
}

// TestLegFundingKeptBeyondAStarvedSetAside (the socialized soak, seed 63
// of the race binary: 14 liquidations of one side in flight, the first
// set aside all 283 094 of the winners' profit, the others 0; two of them
// kept a leg's funding after the ADL round closed it, 1.07 uncovered):
// erin's long is liquidated with alice's, and the ranking sets aside all
// the winners' profit for erin, none for alice. The funding time passes
// while both IOC orders are in the book, and carol's bid at 3000 takes
// both legs whole, so each keeps its 30.5 (no price left to move, and the
// book's counterparty traded at its price). Capped by its set-aside,
// alice's settlement spread nothing and the 30.5 ended uncovered (the
// fund is empty); now it is spread over the winners like the rest of a
// deficit beyond what its set-aside leaves: bob pays it (the ranking
// charges no winner beyond its profit). (An ADL round closing the legs
// now has its counterparties pay it back: TestLegFundingWaitsForTheADLRound.)
func TestLegFundingKeptBeyondAStarvedSetAside(t *testing.T) {
	w, alice, bob, carol, mark := fundingWorld(t, true, book.Buy, 1, "0")
	erin := w.addAccount("erin", risk.Cross, usdt("750"))
	w.open(erin, bob, 0, book.Buy, 3750, 1, 5)
	w.leverage(carol, 0, 5)
	w.mustPlace(carol, 0, book.Buy, 3000, 2, book.GTC)
	w.drain()
	w.setMark(0, mark)
	if alice.m == nil || erin.m == nil {
		t.Fatal("alice and erin not both liquidated")
	}
	// erin's set-aside first: she holds all the winners' profit.
	quote := func(from, to ep) bool { return to == epADL && from == erin.ep() }
	for !erin.m.Legs[0].social.quoted {
		if !w.deliverWhere(quote) && !w.deliverOne() {
			t.Fatal("erin's set-aside never answered")
		}
	}
	for !(alice.m.Legs[0].order != 0 && erin.m.Legs[0].order != 0) {
		if !w.deliverOne() {
			t.Fatal("never both IOC orders in the book")
		}
		w.check("the IOC orders")
	}
	if c := alice.m.Legs[0].social.capacity; c != 0 || erin.m.Legs[0].social.capacity == 0 {
		t.Fatalf("set-asides alice %s, erin %s: want erin all", c, erin.m.Legs[0].social.capacity)
	}
	w.funding(0, onePct)
	w.drain()
	w.quiet()
	w.liquidated(alice, 1)
	w.liquidated(erin, 1)
	w.fundIs(0)
	if c := w.machines[0].Charged() + w.machines[1].Charged(); c != usdt("61") {
		t.Fatalf("the winners paid %s of the 61 kept", c)
	}
	if a := effectsOf[AdjustClose](w); len(a) != 0 {
		t.Fatalf("adjustments %+v of closes in the book", a)
	}
}
