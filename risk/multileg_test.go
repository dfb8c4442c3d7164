package risk

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// longTiers: MM(P) = 0.1·P − 210 per unit above 3000.
var longTiers = [][2]string{{"3000", "0.03"}, {"1000000000", "0.10"}}

// Two cross longs at 3750 on 1500 of cash, marks 3100: equity 200, MM
// 100 + 100, so each leg's share is 100 and both are bankrupt at 3000.
// Closing both there leaves the account at exactly zero and the fund
// untouched (the actors engineer's failing test, moved into risk).
func TestCrossTwoLegBankruptcy(t *testing.T) {
	a, b := namedSymbol(t, "A-PERP", longTiers...), namedSymbol(t, "B-PERP", longTiers...)
	acct := funded("1500", Cross)
	for _, s := range []*market.Symbol{a, b} {
		mustOK(t, acct.SetLeverage(s, 5), "leverage")
		trade(t, acct, s, book.Buy, 3750, 1, 3750, false)
	}
	acct.OnMark(a, 3100)
	if !acct.OnMark(b, 3100) {
		t.Fatal("not liquidatable")
	}
	if acct.Equity() != usdt("200") {
		t.Fatalf("equity %s", acct.Equity())
	}
	for _, s := range []*market.Symbol{a, b} {
		if bk, ok := acct.BankruptcyPrice(s); !ok || bk != 3000 {
			t.Fatalf("%s: bankruptcy %d", s.Name, bk)
		}
	}
	l, _, c := acct.StartLiquidation(a)
	mustOK(t, c, "start")
	if l.Escrow != usdt("1500") || l.Base != 0 || l.Deficit != 0 {
		t.Fatalf("escrow %s base %s deficit %s", l.Escrow, l.Base, l.Deficit)
	}
	for _, g := range l.Legs {
		if g.Bankruptcy != 3000 || g.Deficit != 0 {
			t.Fatalf("leg %s: bankruptcy %d deficit %s", g.Symbol.Name, g.Bankruptcy, g.Deficit)
		}
		mustOK(t, l.ApplyFill(g.Symbol, g.Bankruptcy, 1), "ADL at bankruptcy")
	}
	s, c := l.Settle()
	mustOK(t, c, "settle")
	if s != (Settlement{}) {
		t.Fatalf("closing every leg at its bankruptcy price settles %+v, want zero", s)
	}
}

// randomCrossBook builds a liquidatable cross account with 2–4 positions
// (random sides, entries and marks) whose equity E is a random fraction of
// Σ MM, or in one case out of three deeply negative (down to −1.5 × Σ
// notional), so some bankruptcy ticks fall outside [1, MaxPrice].
func randomCrossBook(seed uint64, syms []*market.Symbol) *Account {
	rng := rand.New(rand.NewPCG(seed, 11))
	a := NewAccount(1, Cross)
	k := 2 + rng.IntN(len(syms)-1)
	for _, n := range rng.Perm(len(syms))[:k] {
		s := syms[n]
		p := &a.pos[a.slot(s)]
		p.qty = book.Lots(1 + rng.Int64N(int64(s.MaxQty)/4))
		if rng.IntN(2) == 0 {
			p.qty = -p.qty
		}
		entry := book.Ticks(1 + rng.Int64N(int64(s.MaxPrice)/2))
		p.cost = s.Value(entry, p.qty)
		p.mark = max(1, entry+book.Ticks(rng.Int64N(int64(entry)/2+1))-entry/4)
	}
	a.afterChange(-1)
	eq, mm := a.crossEquityMM() // cash is 0
	var notional market.Money
	for i := range a.pos {
		notional += a.pos[i].notional()
	}
	target := market.Money(rng.Int64N(int64(mm) + 1))
	if seed%3 == 0 {
		target = -market.Money(rng.Int64N(int64(notional) * 3 / 2))
	}
	a.cash = target - eq
	a.afterChange(-1)
	return a
}

// TestCrossBankruptcyJointProperty: for random multi-leg cross accounts the
// legs' bankruptcy ticks are where each leg's share of the equity (∝ its
// MM) is used up, so closing every leg at its tick leaves the book at zero
// plus rounding dust in [0, Σ |q|·m) for the fund, never below zero unless a
// tick was clamped, and then exactly the reported deficit. The takeover is
// deterministic and leaves the account at a zero balance.
func TestCrossBankruptcyJointProperty(t *testing.T) {
	btc, eth := demo()
	syms := []*market.Symbol{btc, eth, namedSymbol(t, "A-PERP", longTiers...), namedSymbol(t, "B-PERP", [2]string{"1500", "0.02"}, [2]string{"1000000000", "0.05"})}
	var clamped, exact int
	for seed := uint64(1); seed <= 600; seed++ {
		a := randomCrossBook(seed, syms)
		eq, mm := a.crossEquityMM()
		if !a.liquidatable(0) {
			t.Fatalf("seed %d: equity %s, MM %s: not liquidatable", seed, eq, mm)
		}
		bks := map[*market.Symbol]book.Ticks{}
		for _, s := range syms {
			if bk, ok := a.BankruptcyPrice(s); ok {
				bks[s] = bk
			}
		}
		marks := map[*market.Symbol]book.Ticks{}
		for i := range a.pos {
			marks[a.pos[i].sym] = a.pos[i].mark
		}
		l, _, c := a.StartLiquidation(a.pos[0].sym)
		mustOK(t, c, "start")
		if again, _, _ := randomCrossBook(seed, syms).StartLiquidation(a.pos[0].sym); !slices.Equal(again.Legs, l.Legs) || again.Base != l.Base {
			t.Fatalf("seed %d: takeover not deterministic", seed)
		}
		if a.Balance() != 0 || a.Cash() != 0 || l.Escrow != eq-sumUPnL(l, marks) {
			t.Fatalf("seed %d: balance %s escrow %s", seed, a.Balance(), l.Escrow)
		}
		var dust, deficits market.Money
		base := l.Escrow
		for _, g := range l.Legs {
			s := g.Symbol
			if g.Bankruptcy != bks[s] {
				t.Fatalf("seed %d %s: leg bankruptcy %d, BankruptcyPrice %d", seed, s.Name, g.Bankruptcy, bks[s])
			}
			// x·ΣMM = E·MM_i + ΣMM·(B − mark)·q·m: the leg's equity at B
			// with its exact proportional share.
			mmi := s.MaintenanceMargin(s.Notional(marks[s], g.Qty))
			x := new(big.Int).Mul(big.NewInt(int64(eq)), big.NewInt(int64(mmi)))
			x.Add(x, new(big.Int).Mul(big.NewInt(int64(mm)), big.NewInt(int64(s.Value(g.Bankruptcy-marks[s], g.Qty)))))
			unit := s.Value(1, abs(g.Qty)) // one tick of the leg
			bigMM := big.NewInt(int64(mm))
			lo := new(big.Int).Mul(big.NewInt(-int64(len(l.Legs))), bigMM)
			hi := new(big.Int).Mul(big.NewInt(int64(unit)+int64(len(l.Legs))), bigMM)
			edge := g.Bankruptcy == 1 || g.Bankruptcy == s.MaxPrice
			if !edge && (x.Cmp(lo) < 0 || x.Cmp(hi) >= 0) {
				t.Fatalf("seed %d %s: bankruptcy %d is not where the leg's share is used up (x·ΣMM = %s)", seed, s.Name, g.Bankruptcy, x)
			}
			if eq >= 0 && (g.Qty > 0) == (g.Bankruptcy > marks[s]) && g.Bankruptcy != marks[s] {
				t.Fatalf("seed %d %s: bankruptcy %d on the wrong side of the mark %d", seed, s.Name, g.Bankruptcy, marks[s])
			}
			base += s.Value(g.Bankruptcy, g.Qty) - g.Cost
			if g.Deficit > 0 {
				if !edge {
					t.Fatalf("seed %d %s: deficit %s at an unclamped tick %d", seed, s.Name, g.Deficit, g.Bankruptcy)
				}
				deficits += g.Deficit
			} else {
				dust += unit
			}
			mustOK(t, l.ApplyFill(s, g.Bankruptcy, abs(g.Qty)), "close at bankruptcy")
		}
		st, c := l.Settle()
		mustOK(t, c, "settle")
		switch {
		case base != l.Base || st.Surplus != l.Base || st.Fund+st.Fee != st.Surplus:
			t.Fatalf("seed %d: base %s (recomputed %s), settlement %+v", seed, l.Base, base, st)
		case l.Deficit != max(0, -l.Base):
			t.Fatalf("seed %d: deficit %s, base %s", seed, l.Deficit, l.Base)
		case l.Base+deficits < 0 || l.Base+deficits > 0 && l.Base+deficits >= dust:
			// Each unclamped leg leaves [0, one tick of it); a clamped one
			// exactly −Deficit.
			t.Fatalf("seed %d: closing at the bankruptcy ticks leaves %s (leg deficits %s, dust bound %s)", seed, l.Base, deficits, dust)
		}
		if deficits > 0 {
			clamped++
		} else {
			exact++
		}
	}
	t.Logf("%d books with a clamped tick, %d without", clamped, exact)
	if clamped == 0 || exact == 0 {
		t.Fatalf("%d clamped, %d exact: the generator misses a case", clamped, exact)
	}
}

// sumUPnL is Σ uPnL of the legs at marks.
func sumUPnL(l *Liquidation, marks map[*market.Symbol]book.Ticks) market.Money {
	var u market.Money
	for _, g := range l.Legs {
		u += g.Symbol.PnL(g.Qty, g.Cost, marks[g.Symbol])
	}
	return u
}

// ledger is the conservation identity over a few accounts at common marks:
// Σ balances + Σ uPnL + fund + fees + in-flight liquidation = deposits.
type ledger struct {
	t              *testing.T
	accts          []*Account
	deposits, fund market.Money
}

func (g *ledger) open(amount string, mode MarginMode) *Account {
	a := funded(amount, mode)
	a.id = book.AccountID(len(g.accts) + 1)
	g.accts = append(g.accts, a)
	g.deposits += usdt(amount)
	return a
}

// check asserts the identity with l (if any) in flight at marks.
func (g *ledger) check(what string, l *Liquidation, marks map[*market.Symbol]book.Ticks) {
	g.t.Helper()
	total := g.fund
	for _, a := range g.accts {
		total += a.Balance()
		for i := range a.pos {
			p := &a.pos[i]
			total += p.sym.PnL(p.qty, p.cost, marks[p.sym])
		}
	}
	if l != nil {
		total += l.Base
		for _, x := range l.Legs {
			total += x.Gain + x.Symbol.Value(marks[x.Symbol]-x.Bankruptcy, x.Remaining)
		}
	}
	if total != g.deposits {
		g.t.Fatalf("%s: total %s, deposits %s", what, total, g.deposits)
	}
}

// A cross account whose long A crashed holds a small short B: with the
// whole equity negative, B's share is bankrupt at every price. Its tick is
// clamped to 1 (ADL can close there) and the equity missing at 1 is the
// leg's deficit, exactly what the fund pays when every leg closes at its
// tick.
func TestBankruptcyClampedToOneTick(t *testing.T) {
	a, b := namedSymbol(t, "A-PERP", longTiers...), shortSeed(t)
	g := &ledger{t: t}
	acct, cp := g.open("800", Cross), g.open("100000", Cross)
	for _, x := range []*Account{acct, cp} {
		mustOK(t, x.SetLeverage(a, 5), "leverage")
	}
	trade(t, acct, a, book.Buy, 3750, 1, 3750, false)
	trade(t, cp, a, book.Sell, 3750, 1, 3750, false)
	trade(t, acct, b, book.Sell, 100, 1, 100, false)
	trade(t, cp, b, book.Buy, 100, 1, 100, false)
	marks := map[*market.Symbol]book.Ticks{a: 100, b: 100}
	cp.OnMark(a, 100)
	if !acct.OnMark(a, 100) {
		t.Fatal("not liquidatable")
	}
	// E = 800 − 3650 = −2850 over MM 3 (A) and 2 (B): shares −1710 and
	// −1140. A: 100 + 1710 = 1810. B: 100 − 1140 < 1, so 1 with
	// −1140 + 99 = −1041 missing.
	l, _, c := acct.StartLiquidation(a)
	mustOK(t, c, "start")
	la, lb := l.Leg(a), l.Leg(b)
	if la.Bankruptcy != 1810 || la.Deficit != 0 || lb.Bankruptcy != 1 || lb.Deficit != usdt("1041") ||
		l.Base != -usdt("1041") || l.Deficit != usdt("1041") {
		t.Fatalf("legs %+v %+v, base %s deficit %s", *la, *lb, l.Base, l.Deficit)
	}
	g.check("takeover", l, marks)
	for _, x := range l.Legs {
		r, c := cp.ApplyADLClose(x.Symbol, 1, x.Bankruptcy)
		mustOK(t, c, "ADL close at the clamped tick")
		g.fund -= r.Deficit
		mustOK(t, l.ApplyFill(x.Symbol, x.Bankruptcy, 1), "leg")
	}
	s, c := l.Settle()
	mustOK(t, c, "settle")
	if s.Fund != -l.Deficit || s.Fee != 0 {
		t.Fatalf("settlement %+v, deficit %s", s, l.Deficit)
	}
	g.fund += s.Fund
	g.check("settled", nil, marks)
	if acct.Balance() != 0 || cp.Balance() < 0 {
		t.Fatalf("balances %s %s", acct.Balance(), cp.Balance())
	}
}
