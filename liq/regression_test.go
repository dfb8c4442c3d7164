package liq

import (
	"errors"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/risk"
)

// TestLosingDuelistsSettle (a bug found in review): two opposite bankrupt legs that are
// each other's only counterparty, each losing (against its entry) at the
// other's bankruptcy price. CloseAgainst would take either close (X's leg
// at Y's 993 ≥ X's own 971; Y's leg at X's 971 ≤ Y's own 993), but the
// ranking holds each leg with a token margin of 1 and, since e8f0165,
// passes over a position whose close would lose more than its margin: it
// never plans the close, and both liquidations retry forever.
// Fixed: liquidation remainders are now exempt from the ranking's affordability test
// (position.bankrupt).
func TestLosingDuelistsSettle(t *testing.T) {
	w := newWorld(t, nil, compile(t, symSpec{name: "AAA", tiers: simTiers()}))
	w.setMark(0, 982)
	// Isolated, at leverages whose initial margin holds their loss against
	// the mark (risk.WouldLiquidate; in cross the open loss would be
	// reserved from cash they do not have): X's margin 2941.18 puts its
	// bankruptcy price at 970.6, Y's 3310.34 at 993.1.
	x := w.addAccount("X", risk.Isolated, usdt("3000"))
	y := w.addAccount("Y", risk.Isolated, usdt("3500"))
	z := w.addAccount("Z", risk.Cross, usdt("1000000"))
	w.leverage(x, 0, 34)
	w.leverage(y, 0, 29)
	w.leverage(z, 0, 10)
	w.mustPlace(z, 0, book.Sell, 1000, 100, book.GTC)
	w.mustPlace(x, 0, book.Buy, 1000, 100, book.IOC)
	w.drain()
	w.mustPlace(z, 0, book.Buy, 960, 100, book.GTC)
	w.mustPlace(y, 0, book.Sell, 960, 100, book.IOC)
	w.drain()
	w.position(x, 0, 100, w.syms[0].Value(1000, 100), 0)
	w.position(y, 0, -100, -w.syms[0].Value(960, 100), 0)
	if p, _ := z.r.Position(w.syms[0]); p.Qty != 0 {
		t.Fatalf("Z keeps %d", p.Qty)
	}
	bx, _ := x.r.BankruptcyPrice(w.syms[0])
	by, _ := y.r.BankruptcyPrice(w.syms[0])
	t.Logf("X long 100 @1000, bankrupt at %d; Y short 100 @960, bankrupt at %d", bx, by)
	// A whipsaw liquidates both before anything is delivered.
	w.setMark(0, 979)
	w.setMark(0, 986)
	w.setMark(0, 982)
	if x.m == nil || y.m == nil {
		t.Fatal("not both liquidating")
	}
	for n := 0; w.deliverOne(); n++ {
		w.check("duel")
		if n > 20_000 {
			t.Fatalf("no settlement after %d deliveries (%d ADL rounds, %d retries, ADL closes %d, CloseAgainst %d of %d tries):\n%s\n%s",
				n, w.st.adlRounds, w.st.retries, w.st.adlCloses, w.st.closeAgainst, w.st.closeToLiq, x.m.Describe(), y.m.Describe())
		}
	}
	w.quiet()
}

// TestAbandonAfterAFailedStepAnswersEachCloseOnce (a bug found in review): a Step that answered
// a deferred counterparty close (AnswerClose emitted, the close booked on
// the leg) and then broke on the next deferred one returns ErrInvariant;
// the actor panics before performing the effects, and Abandon hands back
// the failed Step's effects (Ready was never called) plus every deferred
// close again: the first close is answered twice (two adlFilledMsg and two
// acks for one adlCloseMsg), which throws the other liquidation's round
// count off.
// Fixed: answerDeferred now drops each close as it answers it.
func TestAbandonAfterAFailedStepAnswersEachCloseOnce(t *testing.T) {
	m, sym := seedMachineOf(t, false, 2)
	for _, in := range []Input{Reserved{Quotes: []Quote{{Mark: 3100}}}, IOCDone{ID: 101}} {
		if err := m.Step(in); err != nil {
			t.Fatal(err)
		}
		m.Ready()
	}
	// Two closes against the leg while its own ADL request is unplanned.
	for _, c := range []struct {
		price book.Ticks
		token uint64
	}{{3100, 1}, {2*sym.MaxPrice + 1, 2}} {
		if _, deferred, err := m.CloseAgainst(sym, book.Buy, 1, c.price, c.token); err != nil || !deferred {
			t.Fatalf("close %d: deferred %v, %v", c.token, deferred, err)
		}
	}
	if err := m.Step(ADLPlan{Leg: 0}); !errors.Is(err, ErrInvariant) {
		t.Fatalf("ADLPlan: %v", err)
	}
	answers := map[uint64]int{}
	for _, e := range m.Abandon() {
		if ac, ok := e.(*AnswerClose); ok {
			answers[ac.Token]++
		}
	}
	if answers[1] != 1 || answers[2] != 1 {
		t.Fatalf("answers per close after Abandon: %v, want each once", answers)
	}
}

// TestStaleCollateralDoesNotLetADLPastBankruptcy (a bug found in review): the ranking's margin for
// a cross position is risk.Account.Collateral (its share of the cross
// equity less its own uPnL), which moves with every cross position's mark
// and with the other positions' fills, but the account re-reports a
// position only on its own symbol's fills, funding or a deposit. Z (cash
// 500) reports its S long while its T long is 10000 in profit (collateral
// ≈ 3700); T's profit then goes (mark) and Z closes T flat: Z's S is now
// backed by 500 of cash, the ranking still holds ≈ 3700. X's ADL at 1020
// closes Z's S (a loss of 800) as affordable: a deficit of 300 nobody
// reserved (the fund is empty: uncovered), the case e8f0165 meant to rule
// out.
// Fixed: the counterparty now checks its current collateral itself (risk.CloseForADL) and closes
// nothing it cannot afford.
func TestStaleCollateralDoesNotLetADLPastBankruptcy(t *testing.T) {
	w := newWorld(t, nil, compile(t, symSpec{name: "S", tiers: simTiers()}), compile(t, symSpec{name: "T", tiers: simTiers()}))
	w.setMark(0, 1000)
	w.setMark(1, 1000)
	x := w.addAccount("X", risk.Cross, usdt("2000"))
	y := w.addAccount("Y", risk.Cross, usdt("1000000"))
	z := w.addAccount("Z", risk.Cross, usdt("500"))
	m := w.addAccount("M", risk.Cross, usdt("1000000"))
	n := w.addAccount("N", risk.Cross, usdt("1000000"))
	for _, a := range []*acct{m, n} {
		w.leverage(a, 0, 10)
		w.leverage(a, 1, 10)
	}
	w.leverage(z, 0, 50)
	w.leverage(z, 1, 50)
	// Z: long 10 T at 1000, then 10000 in profit at mark 2000.
	w.mustPlace(n, 1, book.Sell, 1000, 10, book.GTC)
	w.mustPlace(z, 1, book.Buy, 1000, 10, book.IOC)
	w.drain()
	w.setMark(1, 2000)
	w.open(x, y, 0, book.Sell, 1000, 100, 50)
	w.prices(x, 0, 1010, 1020)
	w.setMark(0, 1010)
	if x.m == nil {
		t.Fatal("X not liquidating")
	}
	notX := func(from, to ep) bool { return from != x.ep() && to != x.ep() }
	// Z opens S long 10 at 1100 (reported with T's profit behind it).
	w.setMark(0, 1100)
	w.mustPlace(m, 0, book.Sell, 1100, 10, book.GTC)
	w.mustPlace(z, 0, book.Buy, 1100, 10, book.IOC)
	for w.deliverWhere(notX) {
		w.check("Z opens S")
	}
	info, _ := w.ranks[0].Position(z.id)
	t.Logf("Z's S as ranked after opening: qty %d margin %s (Collateral %s, cash %s)", info.Qty, info.Margin, z.r.Collateral(w.syms[0]), z.r.Cash())
	// T's profit goes, Z closes T flat: only S is left, on 500 of cash.
	w.setMark(1, 1000)
	w.mustPlace(n, 1, book.Buy, 1000, 10, book.GTC)
	w.mustPlace(z, 1, book.Sell, 1000, 10, book.IOC)
	for w.deliverWhere(notX) {
		w.check("Z closes T")
	}
	info, _ = w.ranks[0].Position(z.id)
	t.Logf("Z's S as ranked now: qty %d margin %s (Collateral %s, cash %s)", info.Qty, info.Margin, z.r.Collateral(w.syms[0]), z.r.Cash())
	w.setMark(0, 1120)
	w.drain()
	w.quiet()
}

// TestNoCloseWhileSettingAside (a bug found in review): on a
// socialized symbol, Y's short goes bankrupt first (mark 1010) and its ADL
// plan closes X's long, still ranked as an ordinary position. Before the
// close reaches X the mark whipsaws to 989 and X is taken over; X's
// reservation is answered and its leg's set-aside is asked (QuoteSocial).
// The close then arrives: CloseAgainst takes it (reserved, no IOC out, not
// asked to ADL) and closes the whole leg, and checkDone settles — it does
// not wait for the set-aside due (SetAsidesDue() == 1). The SocialCap that
// follows is an answer for a liquidation that no longer exists: the actor
// panics (the old code ignored it), and the ranking keeps the profit set
// aside for good.
// Fixed: CloseAgainst and checkDone now wait while a set-aside is due.
func TestNoCloseWhileSettingAside(t *testing.T) {
	w := newWorld(t, nil, compile(t, symSpec{name: "SOC", socialized: true, tiers: [][2]string{{"200000", "0.01"}, {"1000000000", "0.05"}}}))
	w.setMark(0, 1000)
	x := w.addAccount("X", risk.Cross, usdt("2000"))
	y := w.addAccount("Y", risk.Cross, usdt("2000"))
	z := w.addAccount("Z", risk.Cross, usdt("1000000"))
	w.open(x, y, 0, book.Buy, 1000, 100, 50)
	w.prices(x, 0, 989, 980)
	w.prices(y, 0, 1010, 1020)
	// A bid below X's bankruptcy price: X's book quotes a need, so its
	// liquidation sets profit aside (a leg the book quotes nothing for
	// has nothing to escrow).
	w.mustPlace(z, 0, book.Buy, 950, 100, book.GTC)
	w.setMark(0, 1010)
	if y.m == nil || x.m != nil {
		t.Fatal("Y alone should be liquidating")
	}
	// Y's liquidation runs until its ADL close to X is on its way.
	toX := func(from, to ep) bool { return to == x.ep() }
	closeQueued := func() bool {
		if ch := w.chans[[2]ep{epADL, x.ep()}]; ch != nil {
			for _, e := range ch.q[ch.head:] {
				if _, ok := e.m.(*adlCloseMsg); ok {
					return true
				}
			}
		}
		return false
	}
	for !closeQueued() {
		if !w.deliverWhere(func(from, to ep) bool { return !toX(from, to) && from != epTimer }) {
			t.Fatalf("Y never sent X a close:\n%s", w.describe())
		}
		w.check("Y")
	}
	// The whipsaw: X is taken over with the close in flight to it.
	w.setMark(0, 989)
	if x.m == nil {
		t.Fatal("X not liquidating")
	}
	// X's reservation comes back and its set-aside is asked, the ADL
	// actor's messages to X held.
	fromADLToX := func(from, to ep) bool { return from == epADL && to == x.ep() }
	for x.m != nil && x.m.SetAsidesDue() == 0 || w.chans[[2]ep{x.ep(), epADL}] != nil && w.chans[[2]ep{x.ep(), epADL}].slot >= 0 {
		if !w.deliverWhere(func(from, to ep) bool {
			return !fromADLToX(from, to) && from != epTimer && (from == x.ep() || to == x.ep() || from >= symBase)
		}) {
			t.Fatalf("stuck:\n%s", w.describe())
		}
		w.check("X reserves")
	}
	if x.m == nil || x.m.SetAsidesDue() != 1 {
		t.Fatalf("X should wait for its set-aside: %v", x.m != nil)
	}
	t.Logf("X waits for its set-aside (%s set aside in the ranking); the close reaches it", w.ranks[0].SetAsideTotal())
	w.deliverWhere(fromADLToX) // the close
	if x.m == nil {
		t.Logf("X settled with its set-aside still due")
	}
	w.deliverWhere(fromADLToX) // the SocialCap
	w.drain()
	w.quiet()
}
