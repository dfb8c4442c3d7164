package adl

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/btree"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

const (
	benchMark = book.Ticks(1_000_000) // BTC at 100 000 with tick 0.1
	benchMult = 10_000                // tick 0.1 × lot 0.001 = 0.0001 USDT
)

type benchBook struct {
	rk *Ranking
	ps []genPos
}

var benchBooks = map[int]*benchBook{}

// benchRanking builds (once per size) a book of n random positions around
// benchMark, entries ±15%, leverage 1–125×.
func benchRanking(b *testing.B, n int) *benchBook {
	if bb, ok := benchBooks[n]; ok {
		return bb
	}
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	rk := mustNew(b, Config{Multiplier: benchMult})
	ps := genPopulation(rng, n, benchMark, benchMult)
	load(b, rk, ps)
	_ = rk.SetMark(benchMark)
	bb := &benchBook{rk, ps}
	benchBooks[n] = bb
	return bb
}

func benchUpdate(b *testing.B, n int) {
	bb := benchRanking(b, n)
	rng := rand.New(rand.NewPCG(1, 1))
	order := rng.Perm(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := &bb.ps[order[i%n]]
		// a fill of ±1..16 lots at a price near the mark moves qty, cost
		// (so the entry key) and margin.
		d := book.Lots(1 + i&15)
		if i&16 != 0 && p.qty > d {
			p.cost -= scaleDown(p.cost, d, p.qty)
			p.margin -= scaleDown(p.margin, d, p.qty)
			p.qty -= d
		} else {
			add := moneyOf(d) * moneyOf(benchMark) * benchMult
			p.qty, p.cost, p.margin = p.qty+d, p.cost+add, p.margin+add/10
		}
		p.margin = max(p.margin, 1)
		if err := bb.rk.Update(p.acct, p.side, p.qty, p.cost, p.margin); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkADLUpdate1M is the target: one position update with
// 1 000 000 ranked positions (< 2 µs, 0 allocs).
func BenchmarkADLUpdate1M(b *testing.B)  { benchUpdate(b, 1_000_000) }
func BenchmarkADLUpdate10k(b *testing.B) { benchUpdate(b, 10_000) }

// BenchmarkSetMark is a mark tick: O(1), nothing re-ranked.
func BenchmarkSetMark(b *testing.B) {
	rk := benchRanking(b, 10_000).rk
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = rk.SetMark(benchMark + book.Ticks(i&1023))
	}
	_ = rk.SetMark(benchMark)
}

// benchDeleverage deleverages a 20 000-lot long (≈ 4 average positions) at
// a mark where about half the shorts are in profit (flat) or all are (crash
// −10%), then restores the book outside the timer.
func benchDeleverage(b *testing.B, n int) {
	bb := benchRanking(b, n)
	rk := bb.rk
	const bankrupt = book.AccountID(1 << 40)
	for _, c := range []struct {
		name string
		mark book.Ticks
	}{{"flat", benchMark}, {"crash", benchMark * 9 / 10}} {
		b.Run(c.name, func(b *testing.B) {
			_ = rk.SetMark(c.mark)
			defer func() { _ = rk.SetMark(benchMark) }()
			timedDeleverage(b, rk, bankrupt, 20_000, benchMark, c.mark, func(cl Close) genPos { return bb.ps[cl.Account-1] }, nil)
		})
	}
}

// benchCrowd deleverages a 2 000-lot long against 10 000 random positions
// plus 5 000 shorts of 100 lots that share one entry price (+8 %) at about
// 200× — identical, or with margins spread inside one bucket — and rank
// first: 20 closes from the crowd per call, the book restored outside the
// timer. A cascade meets such crowds (round entry prices, default leverage).
func benchCrowd(b *testing.B, jitter float64) {
	rng := rand.New(rand.NewPCG(3, 7))
	rk := mustNew(b, Config{Multiplier: benchMult})
	ps := genPopulation(rng, 10_000, benchMark, benchMult)
	entry := benchMark * 108 / 100
	for i := range 5000 {
		cost := moneyOf(100) * moneyOf(entry) * benchMult
		margin := market.Money(float64(cost) / 200 * (1 + jitter*rng.Float64()))
		ps = append(ps, genPos{acct: book.AccountID(20_000 + i), side: Short, qty: 100, cost: cost, margin: margin})
	}
	load(b, rk, ps)
	_ = rk.SetMark(benchMark)
	byAcct := map[book.AccountID]genPos{}
	for _, p := range ps {
		byAcct[p.acct] = p
	}
	timedDeleverage(b, rk, book.AccountID(1<<40), 2000, benchMark, benchMark, func(cl Close) genPos { return byAcct[cl.Account] },
		func(first Close) {
			if first.Account < 20_000 {
				b.Fatalf("the crowd does not rank first: %+v", first)
			}
		})
}

// timedDeleverage times Deleverage of a bankrupt long of qty entered at
// entry, closed at price, restoring the closed positions (orig) outside the timer each round;
// check, when set, looks at each round's first close.
func timedDeleverage(b *testing.B, rk *Ranking, bankrupt book.AccountID, qty book.Lots, entry, price book.Ticks,
	orig func(Close) genPos, check func(Close)) {
	cost := moneyOf(int64(qty)) * moneyOf(int64(entry)) * benchMult
	var closes []Close
	rk.m.scoredN = 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := rk.Update(bankrupt, Long, qty, cost, cost/20); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		out, err := rk.Deleverage(Request{Account: bankrupt, Side: Long, Qty: qty, Price: price}, closes[:0])
		if err != nil || out.Covered != qty {
			b.Fatal(out, err)
		}
		b.StopTimer()
		closes = out.Closes
		if check != nil {
			check(closes[0])
		}
		for _, cl := range closes {
			p := orig(cl)
			if err := rk.Update(p.acct, p.side, p.qty, p.cost, p.margin); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(rk.m.scoredN)/float64(b.N), "scored/op")
}

// BenchmarkDeleverageCrowd: 5 000 identical shorts, and 5 000 at one entry
// price with margins spread by up to 5 % (many groups, one key).
func BenchmarkDeleverageCrowd(b *testing.B) {
	b.Run("identical", func(b *testing.B) { benchCrowd(b, 0) })
	b.Run("sameEntry", func(b *testing.B) { benchCrowd(b, 0.05) })
}

func BenchmarkDeleverage10k(b *testing.B) { benchDeleverage(b, 10_000) }
func BenchmarkDeleverage1M(b *testing.B)  { benchDeleverage(b, 1_000_000) }

// BenchmarkTop20_1M is a px.adl.<sym>.queue listing of 20.
func BenchmarkTop20_1M(b *testing.B) {
	rk := benchRanking(b, 1_000_000).rk
	var top []QueueEntry
	rk.m.scoredN = 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		top, _ = rk.Top(Short, 20, top[:0])
	}
	b.ReportMetric(float64(rk.m.scoredN)/float64(b.N), "scored/op")
}

// BenchmarkIndicatorRefresh1M is the O(n) quintile refresh of one side.
func BenchmarkIndicatorRefresh1M(b *testing.B) {
	rk := benchRanking(b, 1_000_000).rk
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rk.refreshCuts(Long, int64(i))
	}
}

// BenchmarkRerankAll1M is the rejected design, for comparison: a tree keyed
// on the score itself must be rebuilt on every mark tick.
func BenchmarkRerankAll1M(b *testing.B) {
	rk := benchRanking(b, 1_000_000).rk
	fl := btree.NewFreeListG[scored](freeListSize)
	t := btree.NewWithFreeListG(treeDegree, better, fl)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		t.Clear(true)
		for idx := range rk.pos {
			if rk.pos[idx].live && rk.pos[idx].side == Long {
				t.ReplaceOrInsert(scored{rk.exact(int32(idx)), rk.pos[idx].acct})
			}
		}
	}
	if t.Len() != rk.Count(Long) {
		b.Fatal(fmt.Sprint("tree has ", t.Len()))
	}
}

func moneyOf[T ~int | ~int64](v T) market.Money { return market.Money(v) }

// BenchmarkBTreeBaseline1M calibrates the machine: a bare delete+insert in
// one google/btree of 1 000 000 items, what an Update costs at least.
func BenchmarkBTreeBaseline1M(b *testing.B) {
	t := btree.NewWithFreeListG(treeDegree, itemLess, btree.NewFreeListG[item](freeListSize))
	rng := rand.New(rand.NewPCG(1, 2))
	items := make([]item, 1_000_000)
	for i := range items {
		items[i] = item{key: rng.Float64(), acct: book.AccountID(i)}
		t.ReplaceOrInsert(items[i])
	}
	order := rng.Perm(len(items))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it := &items[order[i%len(items)]]
		t.Delete(*it)
		it.key += 1e-7
		t.ReplaceOrInsert(*it)
	}
}

// BenchmarkTop20LosingSide1M lists the queue of a side that is wholly in
// loss (longs after a 20% fall, many of them past bankruptcy), where bounds are weakest.
func BenchmarkTop20LosingSide1M(b *testing.B) {
	rk := benchRanking(b, 1_000_000).rk
	_ = rk.SetMark(benchMark * 8 / 10)
	defer func() { _ = rk.SetMark(benchMark) }()
	var top []QueueEntry
	rk.m.scoredN = 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		top, _ = rk.Top(Long, 20, top[:0])
	}
	b.ReportMetric(float64(rk.m.scoredN)/float64(b.N), "scored/op")
}
