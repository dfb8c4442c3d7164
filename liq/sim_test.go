package liq

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// TestSimProperty drives liq, risk, fund, adl and book together (the world
// of helpers_test.go, no actors, no goroutines) through thousands of
// liquidations: market makers quoting deep, thin, empty or far books,
// highly leveraged traders (cross over several symbols, and isolated),
// random mark moves and shocks, fund top-ups and droughts (an empty fund
// sends the remainders to ADL, and on the socialized symbol to the
// winners), every message delivered from a randomly picked channel so the
// liquidations interleave (and a liquidating account is picked as an ADL
// counterparty: CloseAgainst). After every step the world checks money
// conservation, open-interest symmetry, the fund, flat balances, the legs
// and the reservation rule (an IOC loses at most its leg's share; a
// settlement draws at most what was reserved); each liquidation must
// settle exactly once. Two known issues are counted instead of failing
// (world.tolerate): a socialized settlement beyond its reservation and
// escrow (a base deficit the winners cannot pay), and a close deficit the
// fund cannot pay.
func TestSimProperty(t *testing.T) {
	type run struct {
		seed  uint64
		syms  []symSpec
		steps int
		// quiet lists the symbols no market maker quotes: their open
		// interest is between leveraged traders only, so whipsaws
		// liquidate both sides at once and ADL meets liquidations.
		quiet map[int]bool
	}
	// The liquidation fees take most of the surpluses, so the fund runs
	// short and reservations are partial or empty.
	aaa := symSpec{name: "AAA", tiers: simTiers(), liqFee: "0.01"}
	bbb := symSpec{name: "BBB", tiers: simTiers(), maker: "0.0002", taker: "0.0005", liqFee: "0.005"}
	// SOC's liquidations may trade far from the bankruptcy price, else
	// its winners are seldom charged beyond what they can pay.
	soc := symSpec{name: "SOC", socialized: true, tiers: simTiers(), maker: "-0.0001", taker: "0.0004", liqFee: "0.008", slippage: "0.5"}
	// Funding times (world.funding) while legs wait: their bankruptcy
	// prices move (Machine.onFunding).
	aaaF, bbbF, socF := aaa, bbb, soc
	aaaF.funding, bbbF.funding, socF.funding = true, true, true
	// Two socialized symbols with funding: multi-leg escrows, refunds over
	// both legs' payers, a leg's funding kept spread over the set-asides.
	sodF := socF
	sodF.name = "SOD"
	runs := []run{
		{1, []symSpec{aaa, bbb, soc}, 70_000, nil},
		{2, []symSpec{soc}, 40_000, nil},
		{3, []symSpec{aaa, soc}, 50_000, map[int]bool{0: true}},
		{4, []symSpec{aaa}, 30_000, map[int]bool{0: true}},
		{5, []symSpec{bbb, soc, aaa}, 70_000, map[int]bool{1: true}},
		{6, []symSpec{soc, bbb}, 40_000, map[int]bool{0: true}},
		{7, []symSpec{aaaF, socF}, 50_000, map[int]bool{0: true}},
		{8, []symSpec{bbbF, socF, aaaF}, 50_000, map[int]bool{1: true}},
		{9, []symSpec{socF, sodF}, 40_000, map[int]bool{0: true}},
		{10, []symSpec{sodF, aaaF, socF}, 40_000, nil},
	}
	if testing.Short() {
		for i := range runs {
			runs[i].steps /= 10
		}
	}
	var total stats
	start := time.Now()
	for _, r := range runs {
		t.Run(fmt.Sprintf("seed%d-%dsym", r.seed, len(r.syms)), func(t *testing.T) {
			var syms []*market.Symbol
			for _, s := range r.syms {
				syms = append(syms, compile(t, s))
			}
			s := newSim(t, r.seed, syms)
			s.quietSyms = r.quiet
			s.run(r.steps)
			t.Logf("%s", s.st)
			t.Logf("trader opens by risk code %v; open interest injected to finish: %d", s.refused, s.injections)
			total.add(s.st)
		})
	}
	t.Logf("total in %v: %s", time.Since(start).Round(time.Millisecond), total)
	if t.Failed() || testing.Short() {
		return
	}
	if total.steps < 100_000 {
		t.Errorf("only %d steps", total.steps)
	}
	for _, c := range []struct {
		name string
		n    int
	}{
		{"liquidations", total.liquidations}, {"multi-leg liquidations", total.multiLeg}, {"isolated liquidations", total.isolated},
		{"liquidation IOC fills", total.iocFills}, {"fund surpluses", total.surplus}, {"fund draws", total.drawn},
		{"empty-fund reservations", total.reserveEmpty}, {"partial reservations", total.reservePartial},
		{"ADL closes", total.adlCloses}, {"closes against a liquidating account (CloseAgainst)", total.closeAgainst},
		{"ADL retries", total.retries}, {"set-asides", total.quotes}, {"socialized rounds", total.socialRounds},
		{"socialized charges", total.charges}, {"re-spread rounds of unpaid charges", total.respread},
		{"funding times", total.fundings}, {"legs paying or receiving funding", total.legFundings},
		{"close adjustments (AdjustClose)", total.adjusts},
	} {
		if c.n == 0 {
			t.Errorf("no %s: the walk is too tame (%s)", c.name, total)
		}
	}
}

func (s *stats) add(o stats) {
	s.steps += o.steps
	s.deliveries += o.deliveries
	s.actions += o.actions
	s.liquidations += o.liquidations
	s.settled += o.settled
	s.multiLeg += o.multiLeg
	s.isolated += o.isolated
	s.iocFills += o.iocFills
	s.surplus += o.surplus
	s.drawn += o.drawn
	s.adlCloses += o.adlCloses
	s.closeAgainst += o.closeAgainst
	s.adlRounds += o.adlRounds
	s.retries += o.retries
	s.quotes += o.quotes
	s.charges += o.charges
	s.unpaid += o.unpaid
	s.socialRounds += o.socialRounds
	s.respread += o.respread
	s.deficits += o.deficits
	s.reserveEmpty += o.reserveEmpty
	s.reservePartial += o.reservePartial
	s.trades += o.trades
	s.shortfalls += o.shortfalls
	s.closeToLiq += o.closeToLiq
	s.uncoveredDeficits += o.uncoveredDeficits
	s.uncoveredADL += o.uncoveredADL
	s.overdrawn += o.overdrawn
	s.fundings += o.fundings
	s.legFundings += o.legFundings
	s.fundingWaits += o.fundingWaits
	s.fundingKept += o.fundingKept
	s.fundingUncovered += o.fundingUncovered
	s.adjusts += o.adjusts
	s.adjustsUnpaid += o.adjustsUnpaid
}

// simTiers: 1 % up to 200 000 of notional (max leverage 50), 5 % above
// (max leverage 10).
func simTiers() [][2]string { return [][2]string{{"200000", "0.01"}, {"1000000000", "0.05"}} }

// Book modes a market maker quotes a symbol in.
const (
	bookEmpty = iota
	bookThin
	bookDeep
	bookFar   // one big level 15 % away: fills far beyond bankruptcy prices
	bookDense // a level at every tick from 2 % to 5 % away on one side
)

type sim struct {
	*world
	rng     *rand.Rand
	mms     []*acct
	traders []*acct
	drought bool // no fund top-ups
	// bias is each trader's preferred side per symbol (it flips now and
	// then), so positions build up to what the margin allows.
	bias     map[*acct][]book.Side
	storm    int // actions left in a storm: marks whipsaw, nothing delivered
	stormSym int
	stormMid book.Ticks
	// quietSyms: symbols the market makers do not quote.
	quietSyms map[int]bool
	refused   map[risk.Code]int // the trader opens, by PreTrade's code
	// injections counts the rounds of fresh open interest finish needed.
	injections int
	// afterStep, when set, runs after each step's checks.
	afterStep func()
}

func newSim(t testing.TB, seed uint64, syms []*market.Symbol) *sim {
	rng := rand.New(rand.NewPCG(seed, seed*0x9E3779B97F4A7C15))
	s := &sim{world: newWorld(t, rng, syms...), rng: rng, refused: map[risk.Code]int{}, bias: map[*acct][]book.Side{}}
	s.tolerate = true
	for i := range syms {
		s.setMark(i, 1000)
	}
	for i := range 3 {
		a := s.addAccount(fmt.Sprintf("mm%d", i), risk.Cross, usdt("5000000"))
		for si := range syms {
			s.leverage(a, si, 10)
		}
		s.mms = append(s.mms, a)
	}
	for i := range 14 {
		mode := risk.Cross
		if i >= 9 {
			mode = risk.Isolated
		}
		a := s.addAccount(fmt.Sprintf("t%d", i), mode, usdt("1000")*market.Money(2+rng.IntN(19)))
		for si := range syms {
			s.leverage(a, si, []int64{10, 20, 30, 50, 50}[rng.IntN(5)])
			s.bias[a] = append(s.bias[a], []book.Side{book.Buy, book.Sell}[rng.IntN(2)])
		}
		s.traders = append(s.traders, a)
	}
	return s
}

func (s *sim) run(steps int) {
	for s.st.steps < steps {
		deliver := s.queued > 0 && s.rng.IntN(100) < 50+min(s.queued, 45)
		if s.storm > 0 {
			s.storm--
			deliver = s.queued > 200
		}
		if deliver {
			s.deliverOne()
		} else {
			s.st.steps++
			s.st.actions++
			s.action()
		}
		s.check("step")
		if s.afterStep != nil {
			s.afterStep()
		}
	}
	s.finish()
}

// finish delivers everything queued; legs waiting for counterparties that
// never come (the only opposite positions are liquidations whose
// bankruptcy prices refuse the close) get fresh open interest from two
// market makers trading with each other.
func (s *sim) finish() {
	for n := 0; !s.idle(); n++ {
		s.deliverOne()
		s.check("finish")
		if n > 0 && n%20_000 == 0 {
			if n > 400_000 {
				s.fatalf("no quiescence after %d deliveries\n%s", n, s.describe())
			}
			s.injections++
			for si := range s.syms {
				s.crossMakers(si)
			}
		}
	}
	s.quiet()
}

// crossMakers: mm1 rests a sell at the mark, mm0 takes it.
func (s *sim) crossMakers(si int) {
	mark := s.marks[si]
	if _, c := s.place(s.mms[1], si, book.Sell, mark, 20, book.GTC); c != risk.OK {
		return
	}
	s.place(s.mms[0], si, book.Buy, mark, 20, book.IOC)
}

func (s *sim) action() {
	si := s.rng.IntN(len(s.syms))
	if s.storm > 0 && s.rng.IntN(2) == 0 {
		// The storm's symbol whipsaws around where the storm began.
		d := s.stormMid * book.Ticks(1+s.rng.IntN(6)) / 100
		if s.storm%2 == 0 {
			d = -d
		}
		s.setMark(s.stormSym, min(max(s.stormMid+d, 300), 5000))
		return
	}
	if s.syms[si].Funding && s.rng.IntN(40) == 0 {
		// A funding time at up to ±1 %, far above any real rate, so the
		// legs' bankruptcy prices move by ticks.
		s.funding(si, market.Rate(s.rng.IntN(201)-100)*10_000)
		return
	}
	switch k := s.rng.IntN(100); {
	case k < 30:
		s.open(si)
	case k < 40:
		s.rest(si)
		if s.quietSyms[si] {
			s.rest(si)
			s.rest(si)
		}
	case k < 44:
		s.cancelOne()
	case k < 52:
		s.requote(s.mms[s.rng.IntN(len(s.mms))], si)
	case k < 60:
		s.open(si)
	case k < 81:
		s.moveMark(si)
	case k < 82:
		// A storm: some 30 actions without a delivery, the marks
		// whipsawing, so many liquidations run at once on both sides.
		s.storm = 20 + s.rng.IntN(20)
		s.stormSym = si
		for q := range s.syms {
			if s.quietSyms[q] && s.rng.IntN(2) == 0 {
				s.stormSym = q
			}
		}
		s.stormMid = s.marks[s.stormSym]
	case k < 84:
		if !s.drought {
			s.fundDeposit(market.Money(100*1e8) * market.Money(1+s.rng.IntN(20)))
		}
	case k < 86:
		s.open(si)
	case k < 87:
		if s.rng.IntN(3) == 0 {
			s.drought = !s.drought
		}
	case k < 94:
		s.refill()
	case k < 95:
		for q := range s.syms {
			s.duel(q)
		}
	case k < 97:
		a := s.traders[s.rng.IntN(len(s.traders))]
		a.r.SetLeverage(s.syms[si], []int64{5, 10, 20, 30, 50}[s.rng.IntN(5)])
	default:
		s.crossMakers(si)
	}
}

// open: a trader (or now and then a market maker) takes liquidity with an
// IOC a few percent through the mark, sized to most of what it can afford.
func (s *sim) open(si int) {
	a := s.traders[s.rng.IntN(len(s.traders))]
	if s.rng.IntN(10) == 0 && !s.quietSyms[si] {
		a = s.mms[s.rng.IntN(len(s.mms))]
	}
	if a.m != nil {
		return
	}
	mark := s.marks[si]
	side := book.Side(0)
	if b := s.bias[a]; b != nil {
		if s.rng.IntN(50) == 0 {
			b[si] = b[si].Opposite()
		}
		side = b[si]
		if s.rng.IntN(5) == 0 {
			side = side.Opposite()
		}
	} else {
		side = []book.Side{book.Buy, book.Sell}[s.rng.IntN(2)]
	}
	price := mark + book.Ticks(side.Sign())*mark*book.Ticks(1+s.rng.IntN(3))/100
	p, _ := a.r.Position(s.syms[si])
	lev := max(p.Leverage, 1)
	per := int64(price) * int64(s.syms[si].Multiplier)
	afford := int64(a.r.Available()) * lev / per
	tier := int64(s.syms[si].Tiers[0].MaxNotional)/per - int64(abs(p.Qty)) // stay in the first tier
	q := book.Lots(1 + s.rng.Int64N(max(1, min(afford, tier, 300))))
	_, c := s.place(a, si, side, price, q, book.IOC)
	s.refused[c]++
}

// rest: a trader rests a GTC order near the mark.
func (s *sim) rest(si int) {
	a := s.traders[s.rng.IntN(len(s.traders))]
	if a.m != nil || len(a.orders) > 12 {
		return
	}
	mark := s.marks[si]
	off := mark * book.Ticks(1+s.rng.IntN(20)) / 1000
	side, price := book.Buy, mark-off
	if s.rng.IntN(2) == 0 {
		side, price = book.Sell, mark+off
	}
	q := book.Lots(1 + s.rng.IntN(20))
	if s.quietSyms[si] {
		q *= 3
	}
	s.place(a, si, side, price, q, book.GTC)
}

func (s *sim) cancelOne() {
	a := s.traders[s.rng.IntN(len(s.traders))]
	if ids := sortedIDs(a, -1); len(ids) > 0 {
		s.cancelIDs(a, ids[s.rng.IntN(len(ids)):][:1])
	}
}

// requote: mm cancels its orders in symbol si and quotes a book of a
// random mode around the mark.
func (s *sim) requote(mm *acct, si int) {
	s.cancelIDs(mm, sortedIDs(mm, si))
	if mm.m != nil || s.quietSyms[si] {
		return
	}
	mark := s.marks[si]
	step := max(1, mark/400)
	switch mode := []int{bookEmpty, bookThin, bookThin, bookDeep, bookDeep, bookFar, bookFar, bookDense}[s.rng.IntN(8)]; mode {
	case bookThin:
		for _, side := range []book.Side{book.Buy, book.Sell} {
			s.place(mm, si, side, mark-book.Ticks(side.Sign())*step*book.Ticks(1+s.rng.IntN(3)), book.Lots(1+s.rng.IntN(3)), book.GTC)
		}
	case bookDeep:
		for lvl := range 3 {
			for _, side := range []book.Side{book.Buy, book.Sell} {
				s.place(mm, si, side, mark-book.Ticks(side.Sign())*step*book.Ticks(1+2*lvl), book.Lots(10+s.rng.IntN(80)), book.GTC)
			}
		}
	case bookFar:
		side := []book.Side{book.Buy, book.Sell}[s.rng.IntN(2)]
		s.place(mm, si, side, mark-book.Ticks(side.Sign())*mark*15/100, book.Lots(50+s.rng.IntN(100)), book.GTC)
	case bookDense:
		side := []book.Side{book.Buy, book.Sell}[s.rng.IntN(2)]
		for d := mark * 2 / 100; d <= mark*5/100; d++ {
			s.place(mm, si, side, mark-book.Ticks(side.Sign())*d, book.Lots(1+s.rng.IntN(3)), book.GTC)
		}
	}
}

// sortedIDs lists a's open orders (in symbol si, all for -1) by id: the
// walk must not depend on map order.
func sortedIDs(a *acct, si int) []book.OrderID {
	var ids []book.OrderID
	for id, o := range a.orders {
		if si < 0 || o.sym == si {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// duel: two traders open opposite positions with each other in a quiet
// symbol, each as large as its margin allows: a whipsaw liquidates both.
func (s *sim) duel(si int) {
	if !s.quietSyms[si] {
		return
	}
	x, y := s.traders[s.rng.IntN(len(s.traders))], s.traders[s.rng.IntN(len(s.traders))]
	if x == y || x.m != nil || y.m != nil {
		return
	}
	mark := s.marks[si]
	per := int64(mark) * int64(s.syms[si].Multiplier)
	px, _ := x.r.Position(s.syms[si])
	py, _ := y.r.Position(s.syms[si])
	q := book.Lots(max(1, min(int64(x.r.Available())*px.Leverage, int64(y.r.Available())*py.Leverage)*9/10/per))
	q = min(q, book.Lots(int64(s.syms[si].Tiers[0].MaxNotional)/per/2))
	side := []book.Side{book.Buy, book.Sell}[s.rng.IntN(2)]
	if _, c := s.place(x, si, side, mark, q, book.GTC); c == risk.OK {
		s.place(y, si, side.Opposite(), mark, q, book.IOC)
	}
}

// moveMark: mostly a small random move, now and then a shock, bounded to
// [300, 5000].
func (s *sim) moveMark(si int) {
	mark := s.marks[si]
	pct := s.rng.NormFloat64() * 1.5
	if s.rng.IntN(10) == 0 {
		pct = (5 + 10*s.rng.Float64()) * float64(1-2*s.rng.IntN(2))
	}
	next := book.Ticks(float64(mark) * (1 + pct/100))
	s.setMark(si, min(max(next, 300), 5000))
	if pct > 4 || pct < -4 {
		// The market makers requote at once (their messages race the
		// liquidations the shock started).
		for _, mm := range s.mms {
			s.requote(mm, si)
		}
	}
}

// refill: a flat trader with little left deposits again; a market maker
// low on cash tops up.
func (s *sim) refill() {
	const unit = market.Money(1000 * 1e8) // 1000 USDT
	for _, a := range s.traders {
		if a.m == nil && a.r.Balance() < unit && s.rng.IntN(2) == 0 {
			s.deposit(a, unit*market.Money(2+s.rng.IntN(19)))
		}
	}
	for _, mm := range s.mms {
		if mm.m == nil && mm.r.Balance() < 2000*unit {
			s.deposit(mm, 3000*unit)
		}
	}
}
