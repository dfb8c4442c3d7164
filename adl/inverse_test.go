package adl

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/shopspring/decimal"
)

// xbtusd is BitMEX's XBTUSD: contracts of 1 USD, tick 0.5 USD, settled in
// BTC, so InverseK = 1 × 1 × 1e8 / 0.5 = 2e8: one contract at p ticks (p/2
// USD) is worth ⌊2e8/p⌋ satoshi. Prices below are in ticks (20 000 = 10 000
// USD) and money in satoshi.
func xbtusd(t testing.TB) *market.Symbol {
	t.Helper()
	s, err := market.SymbolConfig{Symbol: "XBTUSD", Quote: "USD", Contract: "inverse", Settle: "BTC",
		Tick: decimal.RequireFromString("0.5"), Lot: decimal.NewFromInt(1)}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if s.InverseK != 200_000_000 || s.Multiplier != 0 {
		t.Fatalf("XBTUSD compiles to K %d, multiplier %d", s.InverseK, s.Multiplier)
	}
	return s
}

// configOf is the ranking config of sym: its contract fields as they are.
func configOf(sym *market.Symbol) Config {
	return Config{Symbol: sym.Name, Kind: sym.Kind, Multiplier: sym.Multiplier, InverseK: sym.InverseK, IndicatorRefreshMs: 1000}
}

// signedQty is a position's qty as market.Symbol takes it (+ long).
func signedQty(side book.Side, qty book.Lots) book.Lots {
	if side == Short {
		return -qty
	}
	return qty
}

// signedCost is a cost magnitude signed as market.Symbol's cost basis: as
// the position's value, so an inverse long's cost is negative.
func signedCost(sym *market.Symbol, side book.Side, cost market.Money) market.Money {
	if (side == Long) != (sym.Kind == market.Inverse) {
		return cost
	}
	return -cost
}

// openAt adds a position of qty at entry with the given leverage, its cost
// the notional market.Symbol gives it.
func openAt(t testing.TB, rk *Ranking, sym *market.Symbol, acct book.AccountID, side book.Side, qty book.Lots, entry book.Ticks, lev int64) {
	t.Helper()
	cost := sym.Notional(entry, qty)
	if err := rk.Update(acct, side, qty, cost, cost/market.Money(lev)); err != nil {
		t.Fatalf("update %d: %v", acct, err)
	}
}

// byHand is doc.go's score from market.Symbol's amounts: PnL% = PnL / C,
// leverage = N / (M + PnL), PnL% × leverage in profit, ÷ in loss, −Inf
// once M + PnL ≤ 0. N is rounded down as the Money amount is, so it differs
// from the ranking's float score (unrounded N) by a relative 1e-8 at most
// here.
func byHand(sym *market.Symbol, p PositionInfo, mark book.Ticks) (score float64, pnl market.Money) {
	pnl = sym.PnL(signedQty(p.Side, p.Qty), signedCost(sym, p.Side, p.Cost), mark)
	n := sym.Notional(mark, p.Qty)
	eq := p.Margin + pnl
	if eq <= 0 {
		return math.Inf(-1), pnl
	}
	pct, lev := float64(pnl)/float64(p.Cost), float64(n)/float64(eq)
	if pnl > 0 {
		return pct * lev, pnl
	}
	return pct / lev, pnl
}

// scoreIsExact reports whether v is doc.go's score of p at mark computed
// exactly (in rationals) on the unrounded value N = qty × K / mark, to
// float64 rounding: 1e-9 relative plus 1e-12 (r = g − 1 cancels near 0);
// −Inf on either side only when the equity ratio is within 1e-9 of 0.
func scoreIsExact(sym *market.Symbol, p PositionInfo, mark book.Ticks, v float64) bool {
	want, eq := exactScore(sym, p, mark)
	if want == nil || math.IsInf(v, -1) {
		eqC, _ := new(big.Rat).Quo(eq, new(big.Rat).SetInt64(int64(p.Cost))).Float64()
		return math.IsInf(v, -1) && want == nil || math.Abs(eqC) < 1e-9
	}
	w, _ := want.Float64()
	return math.Abs(v-w) <= 1e-9*math.Abs(w)+1e-12
}

func nearRel(a, b, rel float64) bool {
	return a == b || math.Abs(a-b) <= rel*math.Abs(b)
}

// rankedAs checks Top(side) against want (accounts in order), each score
// against byHand and each PnL against market.Symbol.PnL to the satoshi.
func rankedAs(t *testing.T, rk *Ranking, sym *market.Symbol, side book.Side, want []book.AccountID, scores []float64) {
	t.Helper()
	top, err := rk.Top(side, len(want)+1, nil)
	if err != nil || len(top) != len(want) {
		t.Fatalf("Top %v: %+v (%v), want %d", side, top, err, len(want))
	}
	for i, e := range top {
		info, _ := rk.Position(e.Account)
		hand, pnl := byHand(sym, info, rk.Mark())
		if e.Account != want[i] || e.Rank != i+1 || e.PnL != pnl || !nearRel(e.Score, hand, 1e-7) || !nearRel(e.Score, scores[i], 1e-6) {
			t.Errorf("rank %d: account %d score %v PnL %d; want account %d score %v (by hand %v) PnL %d",
				i+1, e.Account, e.Score, e.PnL, want[i], scores[i], hand, pnl)
		}
	}
}

// TestInverseShortsRankAndDeleverage: XBTUSD, the price fell from 10 000 to
// 9 000 USD (mark 18 000 ticks). A is long 200 000 contracts from 10 000 at
// 10× (cost 20 BTC, margin 2 BTC): bankrupt at 9 091 USD (tick 18 182,
// where 2 + 20 − ⌊200 000·2e8/18 182⌋/1e8 = 0.00022 BTC ≥ 0, one tick below
// is < 0). Opposite it, shorts (C = ⌊q·2e8/entry⌋, M = C/lev, N at the mark
// = ⌊q·2e8/18 000⌋, PnL = N − C):
//
//	B 150 000 from 11 000 at 20×: C 13.63636363  PnL  3.03030303  PnL% 22.2 %  lev 4.490  score  0.99773
//	C 230 000 from 10 500 at  5×: C 21.90476190  PnL  3.65079365  PnL% 16.7 %  lev 3.182  score  0.53030
//	E 100 000 from  9 500 at 50×: C 10.52631578  PnL  0.58479533  PnL%  5.6 %  lev 13.97  score  0.77614
//	F  50 000 from  8 800 at 10×: C  5.68181818  PnL −0.12626263  PnL% −2.2 %  lev 12.57  score −0.00177
//
// so the queue is B, E, C, F: E's 50× puts it before C's larger PnL%.
// Deleveraging A's 200 000 at 18 182 closes B's 150 000 and 50 000 of E's:
//
//	B: ⌊150 000·2e8/18 182⌋ = 16.49983500 − 13.63636363 = 2.86347137 BTC
//	E: ⌊ 50 000·2e8/18 182⌋ =  5.49994500 − (10.52631578 − 5.26315789) = 0.23678711 BTC
//	A: 20 − (16.49983500 + 5.49994500) = −1.99978000 BTC
func TestInverseShortsRankAndDeleverage(t *testing.T) {
	sym := xbtusd(t)
	rk := mustNew(t, configOf(sym))
	const b, c, d, e, f = traderB, traderC, traderD, 5, 6
	openAt(t, rk, sym, traderA, Long, 200_000, 20_000, 10)
	openAt(t, rk, sym, b, Short, 150_000, 22_000, 20)
	openAt(t, rk, sym, c, Short, 230_000, 21_000, 5)
	openAt(t, rk, sym, e, Short, 100_000, 19_000, 50)
	openAt(t, rk, sym, f, Short, 50_000, 17_600, 10)
	openAt(t, rk, sym, d, Long, 330_000, 19_000, 3)
	if err := rk.SetMark(18_000); err != nil {
		t.Fatal(err)
	}
	if p, _ := rk.Position(b); p.Cost != 1_363_636_363 || p.Margin != 68_181_818 || p.PnL != 303_030_303 {
		t.Fatalf("B %+v", p)
	}
	rankedAs(t, rk, sym, Short, []book.AccountID{b, e, c, f}, []float64{0.99773243, 0.77614380, 0.53030303, -0.0017676768})

	out, err := rk.Deleverage(Request{Account: traderA, Side: Long, Qty: 200_000, Price: 18_182}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Close{
		{Account: b, Side: Short, Qty: 150_000, Price: 18_182, Realized: 286_347_137, Remaining: 0, Rank: 1},
		{Account: e, Side: Short, Qty: 50_000, Price: 18_182, Realized: 23_678_711, Remaining: 50_000, Rank: 2},
	}
	if len(out.Closes) != 2 || out.Closes[0] != want[0] || out.Closes[1] != want[1] || out.Covered != 200_000 || out.Uncovered != 0 {
		t.Fatalf("outcome %+v, want closes %+v", out, want)
	}
	if out.BankruptRealized != -199_978_000 {
		t.Fatalf("A realized %d, want -199 978 000", out.BankruptRealized)
	}
	// market.Symbol's view of the same closes: value at the price less the
	// cost removed, both signed (a short's cost is positive here).
	if v := sym.Value(18_182, -150_000) - 1_363_636_363; v != want[0].Realized {
		t.Fatalf("B realized per market.Symbol %d", v)
	}
	if v := sym.Value(18_182, -50_000) - 526_315_789; v != want[1].Realized {
		t.Fatalf("E realized per market.Symbol %d", v)
	}
	if p, _ := rk.Position(e); p.Qty != 50_000 || p.Cost != 526_315_789 || p.Margin != 10_526_315 {
		t.Fatalf("E keeps %+v", p)
	}
	if _, ok := rk.Position(traderA); ok || rk.OpenInterest(Long) != rk.OpenInterest(Short) {
		t.Fatalf("A still ranked or open interest %d/%d", rk.OpenInterest(Long), rk.OpenInterest(Short))
	}
}

// TestInverseLongsRankAndDeleverage: the price rose to 11 100 USD (mark
// 22 200). S is short 100 000 from 10 500 at 20× (C 9.52380952, M
// 0.47619047): bankrupt at tick 22 105 (11 052.5 USD; equity 0.00010770).
// Opposite it, longs (PnL = C − N: a long's value −N less its cost −C):
//
//	L1 100 000 from 10 000 at  25×: C 10.00000000  PnL  0.99099100  score  0.64183
//	L2 200 000 from  9 000 at   3×: C 22.22222222  PnL  4.20420421  score  0.29357
//	L3  50 000 from 10 500 at 100×: C  4.76190476  PnL  0.25740026  score  0.79827
//	L4  80 000 from 11 500 at  10×: C  6.95652173  PnL −0.25068547  score −0.00222
//	L5  10 000 from 12 500 at  20×: C  0.80000000  PnL −0.10090090  > its margin 0.04: −Inf
//
// so the queue is L3, L1, L2, L4, L5. Deleveraging S at 22 105 closes
// L3's 50 000 and 50 000 of L1's; each close is worth ⌊50 000·2e8/22 105⌋
// = 4.52386337 BTC, so S realizes 2 × 4.52386337 − 9.52380952 =
// −0.47608278 BTC — one satoshi more than a single value of 100 000 lots,
// ⌊100 000·2e8/22 105⌋ = 9.04772675, would say: S trades with each
// counterparty at one price, so the values of each trade are exactly
// opposite and money is conserved to the satoshi.
func TestInverseLongsRankAndDeleverage(t *testing.T) {
	sym := xbtusd(t)
	rk := mustNew(t, configOf(sym))
	const s, l1, l2, l3, l4, l5, o = 100, 1, 2, 3, 4, 5, 101
	openAt(t, rk, sym, s, Short, 100_000, 21_000, 20)
	openAt(t, rk, sym, l1, Long, 100_000, 20_000, 25)
	openAt(t, rk, sym, l2, Long, 200_000, 18_000, 3)
	openAt(t, rk, sym, l3, Long, 50_000, 21_000, 100)
	openAt(t, rk, sym, l4, Long, 80_000, 23_000, 10)
	openAt(t, rk, sym, l5, Long, 10_000, 25_000, 20)
	openAt(t, rk, sym, o, Short, 340_000, 20_000, 2)
	if err := rk.SetMark(22_200); err != nil {
		t.Fatal(err)
	}
	rankedAs(t, rk, sym, Long, []book.AccountID{l3, l1, l2, l4, l5}, []float64{0.79826664, 0.64183354, 0.29356943, -0.0022248335, math.Inf(-1)})
	if p, _ := rk.Position(l5); !math.IsInf(p.Leverage, 1) {
		t.Fatalf("L5 leverage %v", p.Leverage)
	}

	out, err := rk.Deleverage(Request{Account: s, Side: Short, Qty: 100_000, Price: 22_105}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Close{
		{Account: l3, Side: Long, Qty: 50_000, Price: 22_105, Realized: 23_804_139, Remaining: 0, Rank: 1},
		{Account: l1, Side: Long, Qty: 50_000, Price: 22_105, Realized: 47_613_663, Remaining: 50_000, Rank: 2},
	}
	if len(out.Closes) != 2 || out.Closes[0] != want[0] || out.Closes[1] != want[1] {
		t.Fatalf("closes %+v, want %+v", out.Closes, want)
	}
	if out.BankruptRealized != -47_608_278 || sym.Value(22_105, -100_000) != 904_772_675 {
		t.Fatalf("S realized %d, want -47 608 278", out.BankruptRealized)
	}
	// Each trade: the long's value and the short's are opposite, so the
	// realized amounts sum to minus the signed costs removed.
	removed := signedCost(sym, Long, 476_190_476) + signedCost(sym, Long, 500_000_000) + signedCost(sym, Short, 952_380_952)
	if sum := want[0].Realized + want[1].Realized + out.BankruptRealized; sum != -removed {
		t.Fatalf("realized sum %d, signed costs removed %d", sum, removed)
	}
}

// TestInverseConfigValidation: an inverse config needs its K and no
// multiplier, a linear one (Kind 0 or market.Linear) the other way round.
func TestInverseConfigValidation(t *testing.T) {
	for _, c := range []Config{
		{Kind: market.Inverse},
		{Kind: market.Inverse, InverseK: 2e8, Multiplier: 1},
		{Kind: market.Inverse, InverseK: -1},
		{Kind: market.Linear, Multiplier: 1, InverseK: 2e8},
		{Kind: market.Linear},
		{Kind: 3, Multiplier: 1},
		{Multiplier: 1, InverseK: 1},
	} {
		if _, err := New(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, c := range []Config{{Kind: market.Inverse, InverseK: 1}, {Kind: market.Linear, Multiplier: 1}, {Multiplier: 1}} {
		if _, err := New(c); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// TestLinearKindEqualsKindZero: the same random book under Kind 0 and
// market.Linear answers identically.
func TestLinearKindEqualsKindZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	cfg := Config{Multiplier: 10_000}
	a := mustNew(t, cfg)
	cfg.Kind = market.Linear
	b := mustNew(t, cfg)
	ps := genPopulation(rng, 2000, 1_000_000, 10_000)
	load(t, a, ps)
	load(t, b, ps)
	for _, mark := range []book.Ticks{1_000_000, 900_000, 1_100_000} {
		_ = a.SetMark(mark)
		_ = b.SetMark(mark)
		for _, side := range []book.Side{Long, Short} {
			ta, _ := a.Top(side, 3000, nil)
			tb, _ := b.Top(side, 3000, nil)
			for i := range ta {
				if ta[i] != tb[i] {
					t.Fatalf("rank %d: %+v vs %+v", i+1, ta[i], tb[i])
				}
			}
			req := Request{Account: ta[len(ta)-1].Account, Side: side, Qty: 1 + ta[len(ta)-1].Qty/2, Price: mark}
			oa, ea := a.Deleverage(req, nil)
			ob, eb := b.Deleverage(req, nil)
			if ea != eb || oa.BankruptRealized != ob.BankruptRealized || len(oa.Closes) != len(ob.Closes) {
				t.Fatalf("deleverage %+v %v vs %+v %v", oa, ea, ob, eb)
			}
			for i := range oa.Closes {
				if oa.Closes[i] != ob.Closes[i] {
					t.Fatalf("close %d: %+v vs %+v", i, oa.Closes[i], ob.Closes[i])
				}
			}
		}
	}
}

// genInverse makes n XBTUSD positions around mark (ticks): entries within
// ±15 %, 1 to 100 000 contracts, the usual leverages; accounts 1..n.
func genInverse(rng *rand.Rand, sym *market.Symbol, n int, mark book.Ticks) []genPos {
	ps := make([]genPos, n)
	for i := range ps {
		ps[i] = genInverseOne(rng, sym, book.AccountID(i+1), mark)
	}
	return ps
}

func genInverseOne(rng *rand.Rand, sym *market.Symbol, acct book.AccountID, mark book.Ticks) genPos {
	side := Long
	if rng.IntN(2) == 0 {
		side = Short
	}
	qty := book.Lots(1 + rng.IntN(100_000))
	entry := book.Ticks(float64(mark) * (0.85 + 0.3*rng.Float64()))
	cost := max(1, sym.Notional(entry, qty))
	lev := levels[rng.IntN(len(levels))] * (0.9 + 0.2*rng.Float64())
	return genPos{acct: acct, side: side, qty: qty, cost: cost, margin: max(1, market.Money(float64(cost)/lev))}
}

// crowdInverse appends n positions of qty contracts on side at one entry
// (so one key) with leverage lev, margins spread by up to jitter.
func crowdInverse(rng *rand.Rand, sym *market.Symbol, ps []genPos, first book.AccountID, n int, side book.Side, qty book.Lots, entry book.Ticks, lev, jitter float64) []genPos {
	cost := sym.Notional(entry, qty)
	for i := range n {
		margin := max(1, market.Money(float64(cost)/lev*(1+jitter*rng.Float64())))
		ps = append(ps, genPos{acct: first + book.AccountID(i), side: side, qty: qty, cost: cost, margin: margin})
	}
	return ps
}

// crowdedInverse is crowdedBook's XBTUSD counterpart around 10 000 USD:
// identical crowds, one entry with spread margins, crowds entered at
// 20 000 ticks (2e8/20 000 is a whole 10 000 satoshi, so r is exactly 0 at
// that mark and every b ties), leverage beyond 1024×, top account ids.
func crowdedInverse(t *testing.T, rng *rand.Rand, sym *market.Symbol) *Ranking {
	rk := mustNew(t, configOf(sym))
	ps := genInverse(rng, sym, 1000, 20_000)
	ps = crowdInverse(rng, sym, ps, 10_000, 300, Short, 3000, 20_500, 10, 0)
	ps = crowdInverse(rng, sym, ps, 20_000, 300, Long, 3000, 19_500, 10, 0)
	ps = crowdInverse(rng, sym, ps, 30_000, 200, Short, 5000, 20_200, 20, 0.05)
	ps = crowdInverse(rng, sym, ps, 40_000, 200, Long, 2000, 20_000, 5, 0.04)
	ps = crowdInverse(rng, sym, ps, 50_000, 100, Short, 7000, 20_000, 3, 0.5)
	ps = crowdInverse(rng, sym, ps, 60_000, 20, Short, 9000, 20_300, 5000, 0.5)
	ps = crowdInverse(rng, sym, ps, 70_000, 20, Long, 9000, 19_700, 5000, 0.5)
	ps = crowdInverse(rng, sym, ps, 80_000, 20, Short, 777, 20_600, 700, 0.1)
	ps = crowdInverse(rng, sym, ps, 1<<64-60, 50, Short, 3000, 20_500, 10, 0)
	ps = crowdInverse(rng, sym, ps, 1<<64-10, 10, Long, 3000, 19_500, 10, 0)
	rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	load(t, rk, ps)
	return rk
}

// inverseMarks: flat, the crowds' entries, deep profit and loss both ways,
// the 10× shorts from 20 500 going bankrupt (r = 20 500/m − 1 = −0.1 at
// m ≈ 22 778), extremes.
var inverseMarks = []book.Ticks{20_000, 20_500, 19_500, 18_000, 22_000, 21_000, 22_777, 22_778, 22_800, 17_000, 16_000, 25_000, 15_000, 20_001, 19_999, 1, 1e9}

// TestInverseTopMatchesNaiveRanking: Top lists exactly the naive sort of
// every score at every mark (the merge on inverse keys), and every entry's
// PnL is market.Symbol's and its score doc.go's formula by hand.
func TestInverseTopMatchesNaiveRanking(t *testing.T) {
	sym := xbtusd(t)
	rk := crowdedInverse(t, rand.New(rand.NewPCG(23, 24)), sym)
	var top []QueueEntry
	for _, mark := range inverseMarks {
		if err := rk.SetMark(mark); err != nil {
			t.Fatal(err)
		}
		for _, side := range []book.Side{Long, Short} {
			var ref []scored
			top, ref = topIsNaive(t, rk, side, top[:0])
			for i := range ref {
				info, _ := rk.Position(top[i].Account)
				_, pnl := byHand(sym, info, mark)
				if top[i].PnL != pnl || !scoreIsExact(sym, info, mark, top[i].Score) {
					t.Fatalf("mark %d %v account %d: PnL %d score %v, market.Symbol's PnL %d", mark, side, top[i].Account, top[i].PnL, top[i].Score, pnl)
				}
			}
			n := 1 + len(ref)/7
			top, _ = rk.Top(side, n, top[:0])
			for i := range n {
				if top[i].Account != ref[i].acct {
					t.Fatalf("mark %d %v: Top(%d)[%d] is %d, naive %d", mark, side, n, i, top[i].Account, ref[i].acct)
				}
			}
		}
	}
}

// TestInverseTopMatchesNaiveNearBankruptcy: positions within a few satoshi
// of bankruptcy at extreme marks (an inverse short at 8e8 USD is worth a
// fraction of a satoshi a contract, so its equity M − C + N cancels to that
// fraction, as in testdata/fuzz/FuzzRankingInverse/09740382ac924ecc), some
// sharing one key with margins across the bankruptcy edge: Top lists
// exactly the naive sort, and it is the order of the exact (rational)
// scores, −Inf exactly for the positions whose equity is gone, to the
// rounding of the ranking's inputs.
func TestInverseTopMatchesNaiveNearBankruptcy(t *testing.T) {
	sym := xbtusd(t)
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct {
		side book.Side
		mark book.Ticks
	}{{Short, 1_629_565_539}, {Short, 1_000_000_000}, {Short, 61_000}, {Long, 7_000}, {Long, 1}} {
		rk := mustNew(t, configOf(sym))
		loadNearBankrupt(t, rng, rk, c.side, 300, func(qty book.Lots) (market.Money, market.Money) {
			return sym.Notional(book.Ticks(15_000+rng.IntN(10_000)), qty), sym.Notional(c.mark, qty)
		})
		if err := rk.SetMark(c.mark); err != nil {
			t.Fatal(err)
		}
		top, _ := topIsNaive(t, rk, c.side, nil)
		prevHi := math.Inf(1) // the highest the previous exact score can be
		for i, q := range top {
			info, _ := rk.Position(q.Account)
			// The ranking's b and key are M/C and C/qty rounded (so is the
			// mark's value K/m): the equity they give is off by a few
			// 1e-16 × (M + N) satoshi, a relative dE/E of the score.
			want, eq := exactScore(sym, info, c.mark)
			e, _ := eq.Float64()
			dE := 1e-15 * (float64(info.Margin) + float64(info.Cost) + float64(info.Qty)*float64(sym.InverseK)/float64(c.mark))
			if math.IsInf(q.Score, -1) != (e <= 0) && math.Abs(e) > dE {
				t.Fatalf("mark %d %v account %d: score %v, equity %v satoshi", c.mark, c.side, info.Account, q.Score, e)
			}
			if want == nil {
				continue
			}
			w, _ := want.Float64()
			slack := math.Abs(w) * (dE/e + 1e-12)
			if w-slack > prevHi {
				t.Fatalf("mark %d %v rank %d: account %d exactly scores %v, above the one before (at most %v)",
					c.mark, c.side, i+1, info.Account, w, prevHi)
			}
			prevHi = w + slack
		}
	}
}

// exactScore is doc.go's score of p at mark in rationals on the unrounded
// N = qty × K / mark, and the equity M + PnL in satoshi; nil once the
// equity is gone.
func exactScore(sym *market.Symbol, p PositionInfo, mark book.Ticks) (*big.Rat, *big.Rat) {
	n := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(p.Qty)), big.NewInt(int64(sym.InverseK))), big.NewInt(int64(mark)))
	c := new(big.Rat).SetInt64(int64(p.Cost))
	pnl := new(big.Rat).Sub(n, c)
	if p.Side == Long { // an inverse long: C − N
		pnl.Neg(pnl)
	}
	eq := new(big.Rat).Add(new(big.Rat).SetInt64(int64(p.Margin)), pnl)
	if eq.Sign() <= 0 {
		return nil, eq
	}
	// PnL/C × N/eq in profit, PnL/C ÷ (N/eq) in loss
	if pnl.Sign() > 0 {
		return new(big.Rat).Quo(new(big.Rat).Mul(pnl, n), new(big.Rat).Mul(c, eq)), eq
	}
	return new(big.Rat).Quo(new(big.Rat).Mul(pnl, eq), new(big.Rat).Mul(c, n)), eq
}

// TestInverseDeleverageBatchEqualsSequential: DeleverageBatch on the
// inverse crowds answers as one Deleverage per request.
func TestInverseDeleverageBatchEqualsSequential(t *testing.T) {
	sym := xbtusd(t)
	rng := rand.New(rand.NewPCG(25, 26))
	for range 20 {
		seed := rng.Uint64()
		mk := func() *Ranking { return crowdedInverse(t, rand.New(rand.NewPCG(seed, 1)), sym) }
		a, b := mk(), mk()
		mark := inverseMarks[rng.IntN(len(inverseMarks)-2)]
		_ = a.SetMark(mark)
		_ = b.SetMark(mark)
		accts := liveAccounts(a)
		for range 5 {
			reqs := make([]Request, 1+rng.IntN(60))
			side := Long
			for i := range reqs {
				if rng.IntN(10) == 0 {
					side = side.Opposite()
				}
				acct := accts[rng.IntN(len(accts))]
				p, _ := a.Position(acct)
				qty := book.Lots(1 + rng.IntN(max(1, int(p.Qty))))
				price := book.Ticks(float64(mark) * (0.9 + 0.2*rng.Float64()))
				reqs[i] = Request{Account: acct, Side: side, Qty: qty, Price: price}
				if rng.IntN(8) != 0 {
					reqs[i].Side = p.Side
				}
			}
			batchMatchesSequential(t, a, b, reqs, accts)
		}
	}
}

// TestInverseDeleverageProperties: random XBTUSD books through random
// deleverages. The closes follow the naive ranking of the positions that
// can afford a close at the price (market.Symbol's PnL), cover the request
// as far as those go, keep open interest balanced; each close realizes
// market.Symbol's value at the price less the signed cost it removes; and
// money is conserved to the satoshi: the realized amounts, bankrupt's
// included, sum to minus the signed costs removed (the trades' values
// cancel), even when the closes' rounded values do not sum to the rounded
// value of their total (the case is counted: it must occur).
func TestInverseDeleverageProperties(t *testing.T) {
	sym := xbtusd(t)
	rng := rand.New(rand.NewPCG(27, 28))
	passedOver, split := 0, 0
	for round := range 30 {
		rk := mustNew(t, configOf(sym))
		ps := genInverse(rng, sym, 200+rng.IntN(400), 20_000)
		load(t, rk, ps)
		if d := rk.OpenInterest(Long) - rk.OpenInterest(Short); d != 0 {
			side := Short
			if d < 0 {
				side, d = Long, -d
			}
			openAt(t, rk, sym, 0, side, d, 20_000, 5)
		}
		var closes []Close
		for step := range 40 {
			mark := book.Ticks(14_000 + rng.IntN(12_000))
			_ = rk.SetMark(mark)
			accts := liveAccounts(rk)
			bankrupt, _ := rk.Position(accts[rng.IntN(len(accts))])
			qty := book.Lots(1 + rng.IntN(int(bankrupt.Qty)))
			price := book.Ticks(float64(mark) * (0.9 + 0.2*rng.Float64()))
			ref := reference(rk, bankrupt.Side.Opposite())
			before := map[book.AccountID]PositionInfo{}
			for _, a := range accts {
				before[a], _ = rk.Position(a)
			}
			want, passed := affordableInverse(rk, sym, ref, qty, price)
			passedOver += passed

			out, err := rk.Deleverage(Request{Account: bankrupt.Account, Side: bankrupt.Side, Qty: qty, Price: price}, closes[:0])
			if err != nil {
				t.Fatalf("round %d step %d: %v", round, step, err)
			}
			closes = out.Closes
			if len(want) != len(out.Closes) {
				t.Fatalf("round %d step %d: %d closes, the naive rank of those that can afford it says %d", round, step, len(out.Closes), len(want))
			}
			removed := func(a book.AccountID) market.Money { // signed cost taken off a's position
				b := before[a]
				after, _ := rk.Position(a) // zero when gone
				return signedCost(sym, b.Side, b.Cost-after.Cost)
			}
			var sum book.Lots
			var values market.Money
			realized, allRemoved := out.BankruptRealized, removed(bankrupt.Account)
			for i, c := range out.Closes {
				held := before[c.Account].Qty
				if c.Account != want[i] || c.Qty <= 0 || c.Qty > held || c.Remaining != held-c.Qty || c.Price != price {
					t.Fatalf("round %d step %d close %d: %+v of %d, naive rank says %d", round, step, i, c, held, want[i])
				}
				v := sym.Value(price, signedQty(c.Side, c.Qty))
				if r := removed(c.Account); c.Realized != v-r {
					t.Fatalf("close %+v realizes %d, market.Symbol %d − %d", c, c.Realized, v, r)
				} else {
					allRemoved += r
				}
				values += v
				sum += c.Qty
				realized += c.Realized
			}
			if sum != out.Covered || out.Covered+out.Uncovered != qty || rk.OpenInterest(Long) != rk.OpenInterest(Short) {
				t.Fatalf("round %d step %d: closed %d (covered %d, uncovered %d) of %d, open interest %d/%d",
					round, step, sum, out.Covered, out.Uncovered, qty, rk.OpenInterest(Long), rk.OpenInterest(Short))
			}
			if realized != -allRemoved {
				t.Fatalf("round %d step %d: realized %d in all, signed costs removed %d", round, step, realized, allRemoved)
			}
			if sum > 0 && values != -sym.Value(price, signedQty(bankrupt.Side, sum)) {
				split++
			}
			if err := rk.Check(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if passedOver == 0 || split == 0 {
		t.Fatalf("passed over %d, values split %d: the walk misses a case", passedOver, split)
	}
	t.Logf("%d positions passed over, %d requests whose closes' values round apart from their total's", passedOver, split)
}

// affordableInverse is affordable with market.Symbol's PnL.
func affordableInverse(rk *Ranking, sym *market.Symbol, ref []scored, qty book.Lots, price book.Ticks) (out []book.AccountID, passed int) {
	for _, s := range ref {
		if qty == 0 {
			break
		}
		idx, _ := rk.index.get(s.acct)
		p := &rk.pos[idx]
		take := min(p.qty, qty)
		removed, backing := p.cost, p.margin
		if take < p.qty {
			removed -= kept(p.cost, p.qty-take, p.qty)
			backing -= kept(p.margin, p.qty-take, p.qty)
		}
		realized := sym.PnL(signedQty(p.side, take), signedCost(sym, p.side, removed), price)
		if realized+backing < 0 && !p.bankrupt {
			passed++
			continue
		}
		out = append(out, s.acct)
		qty -= take
	}
	return out, passed
}

// TestInverseSocializeUsesCoinProfit: profits are market.Symbol's PnL in
// the settlement coin; shorts win as the price falls.
func TestInverseSocializeUsesCoinProfit(t *testing.T) {
	sym := xbtusd(t)
	rk := mustNew(t, configOf(sym))
	openAt(t, rk, sym, 1, Short, 150_000, 22_000, 20)
	openAt(t, rk, sym, 2, Short, 100_000, 19_000, 50)
	openAt(t, rk, sym, 3, Short, 50_000, 17_600, 10) // losing
	openAt(t, rk, sym, 4, Long, 300_000, 20_000, 10)
	_ = rk.SetMark(18_000)
	out, err := rk.Socialize(Long, 100_000_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Charges) != 2 || out.Charges[0].Profit != 303_030_303 || out.Charges[1].Profit != 58_479_533 ||
		out.Charged != 100_000_000 || out.Charges[0].Amount+out.Charges[1].Amount != 100_000_000 {
		t.Fatalf("%+v", out)
	}
}

// inverseGolden is a version-1 snapshot written before inverse contracts
// (Kind 0, Multiplier 10 000, socialized, two shorts and a long, cuts): it
// must decode to the same ranking and encode to the same bytes.
const inverseGolden = "5058414401084254432d50455250102700000000000001e80300000000000058800400000000000000000000000000000000000000000003010000000000000001001400000000000000005847f80d00000000bca06501000000020000000000000002000f0000000000000000b19dd30a00000040af948a000000000300000000000000020005000000000000000071446003000000007ddaac00000000000107000000000000000101070000000000000002179a5d58256069bf0300000000000000179a5d58256069bf0300000000000000"

func TestSnapshotBeforeInverseDecodes(t *testing.T) {
	snap, err := hex.DecodeString(inverseGolden)
	if err != nil {
		t.Fatal(err)
	}
	rk := decodeAll(t, snap)
	if c := rk.Config(); c != (Config{Symbol: "BTC-PERP", Multiplier: 10_000, Mode: ModeSocialized, IndicatorRefreshMs: 1000}) {
		t.Fatalf("config %+v", c)
	}
	if p, ok := rk.Position(2); !ok || p.Side != Short || p.Qty != 15 || rk.Mark() != 295_000 {
		t.Fatalf("position %+v %v, mark %d", p, ok, rk.Mark())
	}
}

// TestInverseSnapshotRoundTrip: an inverse ranking's snapshot carries its
// contract; copies taken along a walk of inverse updates and the snapshot
// walk's other operations answer exactly as the original.
func TestInverseSnapshotRoundTrip(t *testing.T) {
	sym := xbtusd(t)
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 29))
		w := &snapWalk{rng: rand.New(rand.NewPCG(seed, 30))}
		cfg := configOf(sym)
		cfg.Mode = Mode(seed % 2)
		rks := []*Ranking{mustNew(t, cfg)}
		copies := 0
		for i := range 600 {
			if i%40 == 39 {
				snap := rks[0].AppendSnapshot(nil)
				rk := decodeAll(t, snap)
				if rk.Config() != cfg {
					t.Fatalf("config %+v, want %+v", rk.Config(), cfg)
				}
				rks = append(rks, rk)
				copies++
			}
			mark := rks[0].Mark()
			if mark == 0 {
				mark = 20_000
			}
			var out []string
			if rng.IntN(2) == 0 { // an inverse position: the walk's own would cost nothing here
				p := genInverseOne(rng, sym, snapAccounts[rng.IntN(len(snapAccounts))], mark)
				p.qty = book.Lots(rng.IntN(50))
				p.cost = max(1, sym.Notional(book.Ticks(float64(mark)*(0.8+0.4*rng.Float64())), p.qty))
				p.margin = max(1, p.cost/market.Money(1+rng.IntN(100)))
				var bound book.Ticks // a remainder's bankruptcy price, now and then
				if rng.IntN(8) == 0 {
					bound = book.Ticks(float64(mark) * (0.8 + 0.4*rng.Float64()))
				}
				for _, rk := range rks {
					held, err := rk.Report(p.acct, p.side, p.qty, p.cost, p.margin, 0, bound)
					out = append(out, fmt.Sprint(held, err, " | ", observe(rk)))
				}
			} else {
				out = w.step(rks)
			}
			for j := 1; j < len(out); j++ {
				if out[j] != out[0] {
					t.Fatalf("seed %d step %d: copy %d answers\n%s\noriginal\n%s", seed, i, j, out[j], out[0])
				}
			}
		}
		if copies == 0 || rks[0].Count(Long)+rks[0].Count(Short) == 0 {
			t.Fatalf("seed %d: the walk holds nothing", seed)
		}
	}
	// A damaged kind nibble is refused (3) or decodes as the other
	// contract, which then encodes as it decoded.
	rk := crowdedInverse(t, rand.New(rand.NewPCG(1, 2)), sym)
	_ = rk.SetMark(20_500)
	snap := rk.AppendSnapshot(nil)
	at := len(snapMagic) + 1 + 1 + len(sym.Name) + 8
	if snap[at] != byte(market.Inverse)<<4 {
		t.Fatalf("mode byte %#x", snap[at])
	}
	snap[at] = 3 << 4
	if _, _, err := DecodeSnapshot(snap); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("kind 3: %v", err)
	}
	snap[at] = byte(market.Linear) << 4
	lin := decodeAll(t, snap)
	if c := lin.Config(); c.Kind != market.Linear || c.Multiplier != sym.InverseK || c.InverseK != 0 {
		t.Fatalf("config %+v", c)
	}
}

// FuzzRankingInverse is FuzzRanking on an inverse contract (XBTUSD's K):
// nothing panics, the state stays consistent, Top lists the naive ranking,
// deleverages cover what they report and conserve open interest.
func FuzzRankingInverse(f *testing.F) {
	f.Add([]byte{0, 1, 1, 10, 0, 100, 0, 10, 3, 30, 1, 2, 2, 10, 0, 90, 0, 5, 2, 0, 0, 0, 0, 0, 0, 0, 4, 1, 1, 5, 0, 95})
	f.Add([]byte{0, 1, 1, 10, 0, 100, 0, 10, 0, 2, 1, 12, 0, 100, 0, 10, 1, 3, 2, 30, 1, 2, 2, 10, 2, 0, 0, 0, 0, 90, 0, 5,
		6, 1, 1, 12, 0, 95, 0, 0, 4, 0, 2, 20, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rk := mustNew(t, Config{Kind: market.Inverse, InverseK: 200_000_000})
		for len(data) >= 8 {
			op, acct, side := data[0]%6, book.AccountID(data[1]%8), book.Side(data[2]%3)
			v := int64(binary.LittleEndian.Uint32(data[4:8])) - 1<<20
			w := int64(data[3]) - 8
			data = data[8:]
			switch op {
			case 0, 1:
				_ = rk.Update(acct, side, book.Lots(w), market.Money(v), market.Money(v/(1+w&7)))
			case 2:
				_ = rk.SetMark(book.Ticks(v))
			case 3:
				before := rk.OpenInterest(side.Opposite())
				out, err := rk.Deleverage(Request{Account: acct, Side: side, Qty: book.Lots(w), Price: book.Ticks(v)}, nil)
				if err == nil {
					var sum book.Lots
					for _, c := range out.Closes {
						sum += c.Qty
					}
					if sum != out.Covered || out.Covered+out.Uncovered != book.Lots(w) || rk.OpenInterest(side.Opposite()) != before-sum {
						t.Fatalf("deleverage %+v covered %d of %d", out, sum, w)
					}
				}
			case 4:
				top, err := rk.Top(side, int(w), nil)
				if err == nil && validSide(side) {
					ref := reference(rk, side)
					for i := range top {
						if top[i].Account != ref[i].acct {
							t.Fatalf("Top %v rank %d is %d, naive %d", side, i+1, top[i].Account, ref[i].acct)
						}
					}
				}
				_, _ = rk.Indicator(acct, v)
			case 5:
				reqs := []Request{{acct, side, book.Lots(w), book.Ticks(v)}, {(acct + 1) % 8, side, book.Lots(w / 2), book.Ticks(v)}}
				_, _ = rk.Socialize(side, market.Money(v), nil)
				res, _ := rk.DeleverageBatch(reqs, nil, nil)
				for i, r := range res {
					var n book.Lots
					for _, c := range r.Closes {
						n += c.Qty
					}
					if r.Err == nil && (n != r.Covered || r.Covered+r.Uncovered != reqs[i].Qty) {
						t.Fatalf("batch request %d %+v: %+v", i, reqs[i], r)
					}
				}
			}
			if err := rk.Check(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
