package adl

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

func TestSocializeSplitsInProportionToProfit(t *testing.T) {
	rk := mustNew(t, Config{Multiplier: 1, Mode: ModeSocialized}) // 1 tick × 1 lot = 1e-8
	// shorts with profits 1, 1, 1 units at mark 9; one losing short; a long
	open(t, rk, 30, Short, 1, 10, 2)
	open(t, rk, 10, Short, 1, 10, 2)
	open(t, rk, 20, Short, 1, 10, 2)
	open(t, rk, 40, Short, 1, 8, 2)
	open(t, rk, 50, Long, 4, 9, 2)
	_ = rk.SetMark(9)
	out, err := rk.Socialize(Long, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A = min(10, 3) = 3: one unit each, 7 uncovered.
	if out.Charged != 3 || out.Uncovered != 7 || len(out.Charges) != 3 || out.Mark != 9 {
		t.Fatalf("%+v", out)
	}
	out, _ = rk.Socialize(Long, 2, nil)
	// 2 over 1,1,1 with market.Split's rule: the dust goes to the higher
	// accounts (cumulative ⌊2·k/3⌋ = 0, 1, 2)
	want := []Charge{{Account: 10, Profit: 1, Amount: 0}, {Account: 20, Profit: 1, Amount: 1}, {Account: 30, Profit: 1, Amount: 1}}
	for i, c := range out.Charges {
		if c.Account != want[i].Account || c.Profit != want[i].Profit || c.Amount != want[i].Amount {
			t.Fatalf("charges %+v, want %+v", out.Charges, want)
		}
	}
	// At mark 7, as a liquidation quoted before the mark rose to 9, the
	// shorts held 3 each (the losing one 1): 10 is covered there.
	if out, err = rk.SocializeAt(Long, 10, 7, nil); err != nil || out.Charged != 10 || out.Uncovered != 0 || len(out.Charges) != 4 || out.Mark != 7 {
		t.Fatalf("at mark 7: %+v, %v", out, err)
	}
	if _, err := rk.SocializeAt(Long, 1, -1, nil); !errors.Is(err, ErrInvalidPrice) {
		t.Fatalf("negative mark: %v", err)
	}
	if _, err := rk.Socialize(Long, -1, nil); !errors.Is(err, ErrInvalidAmount) {
		t.Fatalf("negative deficit: %v", err)
	}
	if rk.Config().Mode != ModeSocialized || rk.Config().Mode.String() != "socialized" {
		t.Fatal("mode not kept")
	}
}

// TestSocializeProperties: the pieces sum to min(deficit, Σ profit) exactly,
// none exceeds its profit, each is within one unit of its exact share.
func TestSocializeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	rk := mustNew(t, Config{Multiplier: 10_000})
	load(t, rk, genPopulation(rng, 2000, 1_000_000, rk.cfg.Multiplier))
	var charges []Charge
	for range 40 {
		_ = rk.SetMark(book.Ticks(800_000 + rng.IntN(400_000)))
		side := []book.Side{Long, Short}[rng.IntN(2)]
		deficit := market.Money(rng.Int64N(int64(usdt(5_000_000))))
		out, err := rk.Socialize(side, deficit, charges[:0])
		if err != nil {
			t.Fatal(err)
		}
		charges = out.Charges
		var total, sum market.Money
		for _, c := range out.Charges {
			total += c.Profit
		}
		for _, c := range out.Charges {
			if c.Amount < 0 || c.Amount > c.Profit {
				t.Fatalf("charge %+v outside [0, profit]", c)
			}
			// |amount − A·profit/total| < 1, checked in exact rationals
			share := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(out.Charged)), big.NewInt(int64(c.Profit))), big.NewInt(int64(total)))
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(c.Amount)), share)
			if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("charge %+v is %v away from its share %v", c, diff, share)
			}
			sum += c.Amount
		}
		if sum != out.Charged || out.Charged != min(deficit, total) || out.Charged+out.Uncovered != deficit {
			t.Fatalf("charged %v (pieces %v) + uncovered %v, deficit %v, profit %v", out.Charged, sum, out.Uncovered, deficit, total)
		}
	}
}

// TestSocializeChargesProfitTakenOut: while profit is set aside against a
// side, a winner that closes or reduces keeps its share of the loss: what
// it took out (at the mark then) is charged like a position's profit
// (Closed), once; a new set-aside after every one was released starts
// afresh, and without one a close notes nothing.
func TestSocializeChargesProfitTakenOut(t *testing.T) {
	rk := mustNew(t, Config{Multiplier: 1, Mode: ModeSocialized})
	open(t, rk, 10, Short, 4, 10, 2) // profit 4 at mark 9
	open(t, rk, 20, Short, 2, 10, 2) // profit 2
	open(t, rk, 30, Long, 6, 9, 2)
	_ = rk.SetMark(9)
	if err := rk.Update(20, Short, 0, 0, 0); err != nil { // closes before any set-aside
		t.Fatal(err)
	}
	if g := rk.Gone(Long, 20); g != 0 {
		t.Fatalf("gone %d without a set-aside", g)
	}
	open(t, rk, 20, Short, 2, 10, 2)
	if avail, err := rk.SetAside(Long); err != nil || avail != 6 {
		t.Fatalf("set aside %d, %v", avail, err)
	}
	_ = rk.SetMark(8)                                     // the shorts gain on: 20 takes 2 × 2 out
	if err := rk.Update(20, Short, 0, 0, 0); err != nil { // closed
		t.Fatal(err)
	}
	if err := rk.Update(10, Short, 3, 30, 15); err != nil { // 1 of 4 closed: 2 out
		t.Fatal(err)
	}
	if g10, g20 := rk.Gone(Long, 10), rk.Gone(Long, 20); g10 != 2 || g20 != 4 {
		t.Fatalf("gone %d, %d; want 2, 4", g10, g20)
	}
	// At the quote's mark 9, 10's 3 lots hold 3; with the 6 taken out,
	// 9 in all cover a loss of 9.
	out, err := rk.SocializeAt(Long, 9, 9, nil)
	want := []Charge{{Account: 10, Profit: 3, Amount: 3}, {Account: 10, Profit: 2, Amount: 2, Closed: true}, {Account: 20, Profit: 4, Amount: 4, Closed: true}}
	if err != nil || out.Charged != 9 || out.Uncovered != 0 || len(out.Charges) != len(want) {
		t.Fatalf("%+v, %v", out, err)
	}
	for i, c := range out.Charges {
		if c != want[i] {
			t.Fatalf("charges %+v, want %+v", out.Charges, want)
		}
	}
	// A charge consumes what was taken out, and a position's profit
	// counts less what rounds charged it: a second round finds nothing
	// left to charge; at mark 8 10's 3 lots gain 3 more, and only those.
	rk.Charged(Long, out.Charges)
	if g10, g20 := rk.Gone(Long, 10), rk.Gone(Long, 20); g10 != 0 || g20 != 0 {
		t.Fatalf("gone after the charges %d, %d", g10, g20)
	}
	if out, _ := rk.SocializeAt(Long, 9, 9, nil); out.Charged != 0 || len(out.Charges) != 0 {
		t.Fatalf("second round %+v", out)
	}
	if out, _ := rk.SocializeAt(Long, 9, 8, nil); out.Charged != 3 || len(out.Charges) != 1 || out.Charges[0].Profit != 3 {
		t.Fatalf("second round at mark 8 %+v", out)
	}
	// A lot closed at mark 8 takes out 2, of which the round charged 1
	// (3 over 3 lots): 1 is gone, and 2 stays charged on the 2 lots left.
	if err := rk.Update(10, Short, 2, 20, 10); err != nil {
		t.Fatal(err)
	}
	if g := rk.Gone(Long, 10); g != 1 {
		t.Fatalf("gone %d, want 1", g)
	}
	// Released: 10, charged in a round, still answers for what it takes
	// out (its charge may arrive after its close); 40, never charged, not.
	rk.ReleaseAside(Long, 6)
	open(t, rk, 40, Short, 1, 10, 2)
	for _, u := range []struct {
		acct       book.AccountID
		qty        book.Lots
		cost, marg market.Money
	}{{10, 1, 10, 5}, {40, 0, 0, 0}} {
		if err := rk.Update(u.acct, Short, u.qty, u.cost, u.marg); err != nil {
			t.Fatal(err)
		}
	}
	if g10, g40 := rk.Gone(Long, 10), rk.Gone(Long, 40); g10 != 2 || g40 != 0 {
		t.Fatalf("gone after the release %d, %d; want 2, 0", g10, g40)
	}
	// A new set-aside: what was taken out before is nobody's concern any
	// more; what rounds charged the last lot stays with it (1).
	if _, err := rk.SetAside(Long); err != nil || rk.Gone(Long, 10) != 0 {
		t.Fatalf("gone %d after a fresh set-aside (%v)", rk.Gone(Long, 10), err)
	}
	if out, _ := rk.SocializeAt(Long, 9, 8, nil); len(out.Charges) != 1 || out.Charges[0].Profit != 1 {
		t.Fatalf("a lot of profit 2 charged 1 before: %+v", out)
	}
	if err := rk.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestSocializePassesOverWinnersUnableToPay: a round's dust goes to the
// last winner; once that one could not pay (Unable), the next round passes
// it over, until a fresh set-aside.
func TestSocializePassesOverWinnersUnableToPay(t *testing.T) {
	rk := mustNew(t, Config{Multiplier: 1, Mode: ModeSocialized})
	open(t, rk, 10, Short, 1, 10, 2)
	open(t, rk, 20, Short, 1, 10, 2)
	open(t, rk, 30, Short, 1, 10, 2)
	open(t, rk, 40, Long, 3, 9, 2)
	_ = rk.SetMark(9)
	payer := func() book.AccountID {
		t.Helper()
		out, err := rk.Socialize(Long, 1, nil)
		if err != nil || out.Charged != 1 {
			t.Fatalf("%+v, %v", out, err)
		}
		for _, c := range out.Charges {
			if c.Amount == 1 {
				return c.Account
			}
		}
		return 0
	}
	if p := payer(); p != 30 {
		t.Fatalf("dust on %d, want 30", p)
	}
	rk.Unable(Long, 30, false, 1)
	if p := payer(); p != 20 {
		t.Fatalf("dust on %d after 30 could not pay, want 20", p)
	}
	if _, err := rk.SetAside(Long); err != nil {
		t.Fatal(err)
	}
	if p := payer(); p != 30 {
		t.Fatalf("dust on %d after a fresh set-aside, want 30", p)
	}
}

// TestSocializeChargesAPositionsProfitOnce: what rounds charged a position
// stays with it across liquidations (a second liquidation may quote while
// the first's rounds go on), so no round charges its profit twice; a
// close takes its share along.
func TestSocializeChargesAPositionsProfitOnce(t *testing.T) {
	rk := chargedAll(t)
	rk.ReleaseAside(Long, 4)
	if _, err := rk.SetAside(Long); err != nil { // another liquidation quotes
		t.Fatal(err)
	}
	if out, _ := rk.SocializeAt(Long, 4, 9, nil); out.Charged != 0 {
		t.Fatalf("charged again: %+v", out)
	}
	if err := rk.Update(10, Short, 0, 0, 0); err != nil { // closed: nothing left to take
		t.Fatal(err)
	}
	if out, _ := rk.SocializeAt(Long, 4, 9, nil); out.Charged != 0 || rk.Gone(Long, 10) != 0 {
		t.Fatalf("charged after the close: %+v, gone %d", out, rk.Gone(Long, 10))
	}
}

// TestSocializeADLCloseNotedOnce: a winner closed by ADL while profit is
// set aside takes the close's profit out (gone); if its account closes
// less than planned, its acknowledging report puts the lots back, and the
// noted profit is dropped rather than charged beside them.
func TestSocializeADLCloseNotedOnce(t *testing.T) {
	for _, closes := range []bool{true, false} {
		rk := mustNew(t, Config{Multiplier: 1, Mode: ModeSocialized})
		open(t, rk, 10, Short, 4, 10, 2) // profit 4 at mark 9
		open(t, rk, 20, Short, 4, 10, 2)
		open(t, rk, 30, Long, 8, 9, 2)
		_ = rk.SetMark(9)
		if _, err := rk.SetAside(Long); err != nil {
			t.Fatal(err)
		}
		out, err := rk.Deleverage(Request{Account: 30, Side: Long, Qty: 4, Price: 9}, nil)
		if err != nil || len(out.Closes) != 1 {
			t.Fatalf("%+v, %v", out, err)
		}
		c := out.Closes[0]
		if g := rk.Gone(Long, c.Account); g != 4 {
			t.Fatalf("gone %d after an ADL close of 4 at 9, want 4", g)
		}
		left, cost := book.Lots(0), market.Money(0)
		if !closes {
			left, cost = 4, 40
		}
		if _, err := rk.Report(c.Account, Short, left, cost, cost/2, 4, 0); err != nil {
			t.Fatal(err)
		}
		res, _ := rk.SocializeAt(Long, 100, 9, nil)
		var sum market.Money
		for _, ch := range res.Charges {
			if ch.Account == c.Account {
				sum += ch.Profit
			}
		}
		if sum != 4 {
			t.Fatalf("closed %v: account %d's charges count %d of profit, want 4: %+v", closes, c.Account, sum, res.Charges)
		}
	}
}

// TestSocializeChargesRefundedProfitAgain: a position's escrow refunded
// (its liquidation needed 1 of the 4 it paid) comes off what rounds
// charged it: the next liquidation may charge the 3 again, not more.
func TestSocializeChargesRefundedProfitAgain(t *testing.T) {
	rk := chargedAll(t) // the escrow
	rk.Refunded(Long, 10, 3)
	rk.Refunded(Long, 10, 0)
	rk.Refunded(Short, 10, 3) // another side's: nothing to take off
	if out, _ := rk.SocializeAt(Long, 9, 0, nil); out.Charged != 3 {
		t.Fatalf("after the refund of 3: %+v", out)
	}
	rk.Refunded(Long, 10, 100) // never below nothing
	if out, _ := rk.SocializeAt(Long, 9, 0, nil); out.Charged != 4 {
		t.Fatalf("after a refund beyond the charges: %+v", out)
	}
}

// chargedAll: account 10 short 4 at 10 (profit 4 at mark 9) against 30's
// long, its profit set aside for the long side and charged in full.
func chargedAll(t *testing.T) *Ranking {
	t.Helper()
	rk := mustNew(t, Config{Multiplier: 1, Mode: ModeSocialized})
	open(t, rk, 10, Short, 4, 10, 2)
	open(t, rk, 30, Long, 4, 9, 2)
	_ = rk.SetMark(9)
	if _, err := rk.SetAside(Long); err != nil {
		t.Fatal(err)
	}
	out, _ := rk.SocializeAt(Long, 4, 9, nil)
	rk.Charged(Long, out.Charges) // paid 4: all of it
	return rk
}
