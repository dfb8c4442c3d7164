package risk

import (
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// world is a tiny exchange around pure accounts: it matches orders directly,
// runs funding, liquidations and ADL, and keeps the ledgers the actors
// would keep (fund, fees, funding pool).
type world struct {
	t        *testing.T
	rng      *rand.Rand
	syms     []*market.Symbol
	mark     map[*market.Symbol]book.Ticks
	accts    []*Account
	deposits market.Money // deposits − withdrawals
	fund     market.Money
	fees     market.Money
	pool     market.Money // funding in flight
	liqs     int
	adls     int
	// socialized counts the socialized-loss charges.
	socialized int
	// scale divides the walk's money amounts (deposits, withdrawals,
	// margin moves) for symbols whose lots are worth less than the demo's.
	scale int64
}

func newWorld(t *testing.T, seed uint64, n int) *world {
	btc, eth := demo()
	return newWorldOf(t, seed, n, 1, btc, eth)
}

// newWorldOf is a world over syms, each starting at a mark of 300 000
// ticks, with money amounts divided by scale.
func newWorldOf(t *testing.T, seed uint64, n int, scale int64, syms ...*market.Symbol) *world {
	w := &world{t: t, rng: rand.New(rand.NewPCG(seed, seed+1)), syms: syms, mark: map[*market.Symbol]book.Ticks{}, scale: scale}
	for _, s := range syms {
		w.mark[s] = 300_000
	}
	for i := 0; i < n; i++ {
		mode := Cross
		if i%3 == 2 {
			mode = Isolated
		}
		w.accts = append(w.accts, NewAccount(book.AccountID(i+1), mode))
		w.deposit(w.accts[i], usdt("20000")/market.Money(scale))
	}
	return w
}

func (w *world) deposit(a *Account, m market.Money) {
	if a.Deposit(m) == OK {
		w.deposits += m
	}
}

// check asserts conservation at the common marks, Σ qty = 0, and that a
// flat account never has (or reports) a negative balance.
func (w *world) check(step int) {
	w.t.Helper()
	for _, a := range w.accts {
		if err := a.Check(); err != nil {
			w.t.Fatalf("step %d: %v", step, err)
		}
		if a.nOpen == 0 && (a.Cash() < 0 || a.Balance() != a.Cash() || a.Report().Balance.IsNegative()) {
			w.t.Fatalf("step %d: flat account %d has cash %s, balance %s", step, a.ID(), a.Cash(), a.Balance())
		}
	}
	total := w.fund + w.fees + w.pool
	for _, a := range w.accts {
		total += a.Balance()
		for _, s := range w.syms {
			if ps, ok := a.Position(s); ok && s.Kind == market.Inverse {
				// All positions at one mark are worth exactly nothing
				// together (Σ qty = 0), but an inverse value rounds
				// position by position: the exact sum of the uPnLs is
				// Σ −cost.
				total -= ps.Cost
			} else if ok {
				total += s.PnL(ps.Qty, ps.Cost, w.mark[s])
			}
		}
	}
	if total != w.deposits {
		w.t.Fatalf("step %d: balances+uPnL+fund+fees+pool = %s, deposits %s (diff %s)", step, total, w.deposits, total-w.deposits)
	}
	for _, s := range w.syms {
		var q book.Lots
		for _, a := range w.accts {
			ps, _ := a.Position(s)
			q += ps.Qty
		}
		if q != 0 {
			w.t.Fatalf("step %d: %s Σ qty = %d", step, s.Name, q)
		}
	}
}

// place puts an order for a at price; 0 when rejected.
func (w *world) place(a *Account, s *market.Symbol, side book.Side, price book.Ticks, qty book.Lots, ro bool) book.OrderID {
	id := newID()
	if c, _ := a.PreTrade(s, Order{ID: id, Side: side, Type: Limit, Price: price, Qty: qty, ReduceOnly: ro}, w.mark[s]); c != OK {
		return 0
	}
	return id
}

// fill applies a fill and books its fee and deficit; returns whether the
// account must be liquidated.
func (w *world) fill(a *Account, s *market.Symbol, id book.OrderID, side book.Side, price book.Ticks, q book.Lots, maker bool) bool {
	r, c := a.ApplyFill(s, Fill{OrderID: id, Side: side, Price: price, Qty: q, Maker: maker, FeeRate: s.FeeRate(maker)})
	mustOK(w.t, c, "fill")
	w.fees += r.Fee
	w.fund -= r.Deficit
	if r.ReduceOnlyExcess {
		for _, x := range a.ExcessReduceOnly(s) {
			a.OnCancel(x)
		}
	}
	return r.Liquidate
}

func (w *world) tradeStep() {
	s := w.syms[w.rng.IntN(len(w.syms))]
	i, j := w.rng.IntN(len(w.accts)), w.rng.IntN(len(w.accts))
	if i == j {
		return
	}
	buyer, seller := w.accts[i], w.accts[j]
	lo, hi := s.Band(w.mark[s])
	price := lo + book.Ticks(w.rng.Int64N(int64(hi-lo+1)))
	price = (price + w.mark[s]*3) / 4 // mostly near the mark
	qty := book.Lots(1 + w.rng.Int64N(3000))
	bid := w.place(buyer, s, book.Buy, price, qty, w.rng.IntN(8) == 0)
	ask := w.place(seller, s, book.Sell, price, qty, w.rng.IntN(8) == 0)
	if bid != 0 && ask != 0 {
		q := book.Lots(1 + w.rng.Int64N(int64(qty)))
		makerBuys := w.rng.IntN(2) == 0
		lb := w.fill(buyer, s, bid, book.Buy, price, q, makerBuys)
		ls := w.fill(seller, s, ask, book.Sell, price, q, !makerBuys)
		if lb {
			w.liquidate(buyer, s)
		}
		if ls {
			w.liquidate(seller, s)
		}
	}
	for _, x := range []struct {
		a  *Account
		id book.OrderID
	}{{buyer, bid}, {seller, ask}} {
		if x.id != 0 {
			x.a.OnOrderDone(x.id)
		}
	}
}

func (w *world) markStep() {
	s := w.syms[w.rng.IntN(len(w.syms))]
	m := w.mark[s]
	m += book.Ticks(w.rng.Int64N(int64(m)/15+1)) - m/30
	w.mark[s] = min(max(m, 1000), s.MaxPrice)
	var hit []*Account
	for _, a := range w.accts {
		if a.OnMark(s, w.mark[s]) {
			hit = append(hit, a)
		}
	}
	for _, a := range hit {
		w.liquidate(a, s)
	}
}

func (w *world) fundingStep() {
	s := w.syms[w.rng.IntN(len(w.syms))]
	rate := market.Rate(w.rng.Int64N(200_001) - 100_000)
	var tally FundingTally
	var hit []*Account
	n := 0 // positions charged or credited
	for _, a := range w.accts {
		if ps, _ := a.Position(s); ps.Qty != 0 {
			n++
		}
		r := a.ApplyFunding(s, rate, w.mark[s])
		tally.Add(r.Delta)
		w.pool -= r.Delta
		if r.Liquidate {
			hit = append(hit, a)
		}
	}
	// Each position rounds by less than one unit, in the pool's favour.
	if tally.Dust() < 0 || (n > 0 && tally.Dust() >= market.Money(n)) || tally.Dust() != w.pool {
		w.t.Fatalf("funding dust %s pool %s positions %d", tally.Dust(), w.pool, n)
	}
	w.fees += w.pool // the dust goes to fees
	w.pool = 0
	for _, a := range hit {
		w.liquidate(a, s)
	}
}

// liquidate takes a's book over and closes it: part in the "book" against a
// random account's order near the mark, the rest by ADL at bankruptcy.
func (w *world) liquidate(a *Account, s *market.Symbol) {
	l, cancel, c := a.StartLiquidation(s)
	if c != OK {
		return // no longer liquidatable (or already)
	}
	w.liqs++
	for _, id := range cancel {
		a.OnCancel(id)
	}
	// Cash may stay below zero only while other positions back it (doc.go).
	if a.nOpen == 0 && (a.Cash() < 0 || a.Balance() < 0) {
		w.t.Fatalf("flat account: balance %s cash %s after takeover", a.Balance(), a.Cash())
	}
	var again []*Account
	for li := range l.Legs {
		leg := &l.Legs[li]
		side := book.Buy // the counterparty's side
		if leg.Qty < 0 {
			side = book.Sell
		}
		if cp := w.accts[w.rng.IntN(len(w.accts))]; cp != a && w.rng.IntN(2) == 0 {
			q := book.Lots(1 + w.rng.Int64N(int64(abs(leg.Remaining))))
			price := w.mark[leg.Symbol]
			if id := w.place(cp, leg.Symbol, side, price, q, false); id != 0 {
				if w.fill(cp, leg.Symbol, id, side, price, q, true) {
					again = append(again, cp)
				}
				mustOK(w.t, l.ApplyFill(leg.Symbol, price, q), "liquidation fill")
			}
		}
		for _, cp := range w.accts {
			ps, _ := cp.Position(leg.Symbol)
			if leg.Remaining == 0 || cp == a || ps.Qty == 0 || (ps.Qty > 0) == (leg.Qty > 0) {
				continue
			}
			q := min(abs(ps.Qty), abs(leg.Remaining))
			r, c := cp.ApplyADLClose(leg.Symbol, q, leg.Bankruptcy)
			mustOK(w.t, c, "adl")
			w.fund -= r.Deficit
			w.adls++
			if r.Liquidate {
				again = append(again, cp)
			}
			mustOK(w.t, l.ApplyFill(leg.Symbol, leg.Bankruptcy, q), "adl leg")
		}
	}
	st, c := l.Settle()
	mustOK(w.t, c, "settle")
	if st.Fee < 0 || st.Fee > max(st.Surplus, 0) {
		w.t.Fatalf("settlement %+v", st)
	}
	w.fund += st.Fund
	if st.Fund < 0 && w.rng.IntN(2) == 0 {
		again = append(again, w.socialize(a, l.Legs[0], -st.Fund)...)
	}
	w.fees += st.Fee
	a.EndLiquidation()
	for _, x := range again {
		w.liquidate(x, s)
	}
}

func TestConservationProperty(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		conservationWalk(t, seed, newWorld(t, seed*7, 9))
	}
}

// TestConservationPropertyInverse is the walk over inverse contracts
// (XBTUSD's: 1 USD contracts, tick 0.5, settled in BTC) with the money
// scaled to their lots' value.
func TestConservationPropertyInverse(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		conservationWalk(t, seed, newWorldOf(t, seed*11, 9, 4_000_000, inverseSymbol(t, "XBTUSD"), inverseSymbol(t, "XBTUSD2")))
	}
}

func conservationWalk(t *testing.T, seed uint64, w *world) {
	{
		for step := 0; step < 2500; step++ {
			a := w.accts[w.rng.IntN(len(w.accts))]
			s := w.syms[w.rng.IntN(len(w.syms))]
			switch k := w.rng.IntN(100); {
			case k < 55:
				w.tradeStep()
			case k < 80:
				w.markStep()
			case k < 84:
				w.fundingStep()
			case k < 88:
				w.deposit(a, market.Money(1+w.rng.Int64N(5e11/w.scale)))
			case k < 91:
				m := market.Money(1 + w.rng.Int64N(3e11/w.scale))
				if a.Withdraw(m) == OK {
					w.deposits -= m
				}
			case k < 96:
				a.SetLeverage(s, 1+w.rng.Int64N(100))
			case k < 98:
				mode := Cross
				if w.rng.IntN(2) == 0 {
					mode = Isolated
				}
				a.SetMarginMode(s, mode)
			default:
				m := market.Money(1 + w.rng.Int64N(1e11/w.scale))
				if w.rng.IntN(2) == 0 {
					a.AddMargin(s, m)
				} else {
					a.RemoveMargin(s, m)
				}
			}
			w.check(step)
			for _, x := range w.accts {
				if x.orders.Len() != 0 || x.OrderMargin() != 0 {
					t.Fatalf("step %d: leaked reservation %s", step, x.OrderMargin())
				}
			}
		}
		if w.liqs == 0 || w.adls == 0 || w.socialized == 0 {
			t.Errorf("seed %d: %d liquidations, %d ADL closes, %d socialized charges: the walk is too tame", seed, w.liqs, w.adls, w.socialized)
		}
		t.Logf("seed %d: %d liquidations, %d ADL closes, %d socialized charges, fund %s, fees %s", seed, w.liqs, w.adls, w.socialized, w.fund, w.fees)
	}
}

func TestFundingConservation(t *testing.T) {
	btc, _ := demo()
	rng := rand.New(rand.NewPCG(9, 9))
	for iter := 0; iter < 300; iter++ {
		var qs []book.Lots
		var sum book.Lots
		for i := 0; i < 1+rng.IntN(10); i++ {
			q := book.Lots(rng.Int64N(2*int64(btc.MaxQty)) - int64(btc.MaxQty))
			qs = append(qs, q)
			sum += q
		}
		// The last position balances the others (Σ qty = 0), split in two
		// when it would exceed MaxQty.
		for sum != 0 {
			q := -min(max(sum, -btc.MaxQty), btc.MaxQty)
			qs = append(qs, q)
			sum += q
		}
		rate := market.Rate(rng.Int64N(2*int64(btc.FundingCap)+1) - int64(btc.FundingCap))
		mark := book.Ticks(1 + rng.Int64N(int64(btc.MaxPrice)))
		var tally FundingTally
		for _, q := range qs {
			d := FundingPayment(btc, q, rate, mark)
			tally.Add(d)
			if rate > 0 && q > 0 && d > 0 || rate > 0 && q < 0 && d < 0 {
				t.Fatalf("wrong direction: q %d rate %d pays %d", q, rate, d)
			}
		}
		if tally.Dust() < 0 || tally.Dust() >= market.Money(len(qs)) {
			t.Fatalf("dust %s with %d positions (paid %s received %s)", tally.Dust(), len(qs), tally.Paid, tally.Received)
		}
	}
	// Seed-style numbers: 1 BTC long at 30000, rate 0.0001 pays 3; the short receives 3.
	if p := FundingPayment(btc, 1000, 10_000, 300_000); p != usdt("-3") {
		t.Errorf("long pays %s", p)
	}
	if p := FundingPayment(btc, -1000, 10_000, 300_000); p != usdt("3") {
		t.Errorf("short receives %s", p)
	}
	// Rounding: 0.001 BTC at 30000.1 × 0.00003333 = 0.00099990333…: the payer
	// pays up, the receiver receives down.
	if p := FundingPayment(btc, 1, 3333, 300_001); p != -99991 {
		t.Errorf("payer rounding %d", p)
	}
	if p := FundingPayment(btc, -1, 3333, 300_001); p != 99990 {
		t.Errorf("receiver rounding %d", p)
	}
}

// socialize charges up to deficit to the profitable positions opposite leg
// (socialized-loss mode), in account order, each at most its profit at the
// mark and what leaves it above its maintenance margin; what they pay goes
// to the fund, which paid the deficit. Returns the accounts the charges
// made liquidatable.
func (w *world) socialize(bankrupt *Account, leg LiquidationLeg, deficit market.Money) []*Account {
	var hit []*Account
	s, mark := leg.Symbol, w.mark[leg.Symbol]
	for _, a := range w.accts {
		ps, _ := a.Position(s)
		profit := s.PnL(ps.Qty, ps.Cost, mark)
		if deficit == 0 || a == bankrupt || ps.Qty == 0 || (ps.Qty > 0) == (leg.Qty > 0) || profit <= 0 {
			continue
		}
		charge := min(deficit, profit)
		if _, c := a.ApplySocializedCharge(s, profit+1, mark); c != ChargeExceedsProfit {
			w.t.Fatalf("charge above profit: %s", c)
		}
		r, c := a.ApplySocializedCharge(s, charge, mark)
		if c == ChargeExceedsProfit {
			continue // no headroom above its maintenance margin: it pays nothing
		}
		mustOK(w.t, c, "socialized charge")
		if paid := -r.Realized; paid <= 0 || paid > charge {
			w.t.Fatalf("charged %s of %s", paid, charge)
		} else {
			charge = paid // at most what leaves it above its maintenance margin
		}
		w.fund += charge
		deficit -= charge
		w.socialized++
		if r.Liquidate {
			hit = append(hit, a)
		}
	}
	return hit
}
