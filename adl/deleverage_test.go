package adl

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Accounts of the seed example.
const (
	traderA book.AccountID = 1 // 200 long, bankrupt
	traderB book.AccountID = 2 // short, top of the queue
	traderC book.AccountID = 3 // short, next
	traderD book.AccountID = 4 // long, balances open interest
)

// seedBook: A is long 200 at 3300 with 10× (bankruptcy price 2970), the mark
// has fallen to 2950, the fund is empty. B is short at 3400 with 20× (PnL
// 13%, leverage ~4.8: top), C short 230 at 3200 with 5×.
func seedBook(t *testing.T, bQty book.Lots) *Ranking {
	t.Helper()
	rk := mustNew(t, unitConfig)
	open(t, rk, traderA, Long, 200, 3300, 10)
	open(t, rk, traderB, Short, bQty, 3400, 20)
	open(t, rk, traderC, Short, 230, 3200, 5)
	open(t, rk, traderD, Long, bQty+30, 3000, 3)
	if err := rk.SetMark(2950); err != nil {
		t.Fatal(err)
	}
	top, err := rk.Top(Short, 2, nil)
	if err != nil || len(top) != 2 || top[0].Account != traderB || top[1].Account != traderC {
		t.Fatalf("queue %+v (%v), want B then C", top, err)
	}
	return rk
}

func TestSeedExampleTopTraderAbsorbsAll(t *testing.T) {
	rk := seedBook(t, 230)
	out, err := rk.Deleverage(Request{Account: traderA, Side: Long, Qty: 200, Price: 2970}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Close{Account: traderB, Side: Short, Qty: 200, Price: 2970, Remaining: 30, Rank: 1,
		Realized: usdt(200 * (3400 - 2970))}
	if len(out.Closes) != 1 || out.Closes[0] != want || out.Covered != 200 || out.Uncovered != 0 {
		t.Fatalf("outcome %+v, want one close %+v", out, want)
	}
	if out.BankruptRealized != usdt(200*(2970-3300)) {
		t.Fatalf("A realized %v", out.BankruptRealized)
	}
	if b, _ := rk.Position(traderB); b.Qty != 30 || b.Cost != usdt(30*3400) {
		t.Fatalf("B keeps %+v, want 30 at 3400", b)
	}
	if _, ok := rk.Position(traderA); ok {
		t.Fatal("A's position should be gone")
	}
}

func TestSeedExampleNextTraderTakesTheRest(t *testing.T) {
	rk := seedBook(t, 150)
	out, err := rk.Deleverage(Request{Account: traderA, Side: Long, Qty: 200, Price: 2970}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Closes) != 2 ||
		out.Closes[0].Account != traderB || out.Closes[0].Qty != 150 || out.Closes[0].Remaining != 0 ||
		out.Closes[1].Account != traderC || out.Closes[1].Qty != 50 || out.Closes[1].Remaining != 180 ||
		out.Closes[1].Price != 2970 || out.Closes[1].Realized != usdt(50*(3200-2970)) {
		t.Fatalf("closes %+v, want B 150 then C 50 at 2970", out.Closes)
	}
	if _, ok := rk.Position(traderB); ok {
		t.Fatal("B fully closed but still ranked")
	}
	if rk.OpenInterest(Long) != rk.OpenInterest(Short) {
		t.Fatalf("open interest %d long / %d short", rk.OpenInterest(Long), rk.OpenInterest(Short))
	}
}

func TestDeleverageRejectsBadRequests(t *testing.T) {
	rk := seedBook(t, 230)
	for _, c := range []struct {
		name string
		req  Request
		want error
	}{
		{"bad side", Request{Account: traderA, Qty: 1, Price: 1}, ErrInvalidSide},
		{"zero qty", Request{Account: traderA, Side: Long, Price: 1}, ErrInvalidQty},
		{"zero price", Request{Account: traderA, Side: Long, Qty: 1}, ErrInvalidPrice},
		{"unknown account", Request{Account: 99, Side: Long, Qty: 1, Price: 1}, ErrNoPosition},
		{"wrong side", Request{Account: traderA, Side: Short, Qty: 1, Price: 1}, ErrNoPosition},
		{"more than held", Request{Account: traderA, Side: Long, Qty: 201, Price: 1}, ErrQtyExceedsPosition},
	} {
		if _, err := rk.Deleverage(c.req, nil); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if rk.OpenInterest(Long) != 460 || rk.OpenInterest(Short) != 460 {
		t.Fatal("a rejected request changed state")
	}
	if _, err := mustNew(t, unitConfig).Deleverage(Request{Account: 1, Side: Long, Qty: 1, Price: 1}, nil); !errors.Is(err, ErrNoMark) {
		t.Fatalf("no mark: %v", err)
	}
}

func TestDeleverageReportsUncoveredRemainder(t *testing.T) {
	rk := mustNew(t, unitConfig)
	open(t, rk, 1, Long, 100, 3000, 10)
	open(t, rk, 2, Short, 60, 3000, 10)
	_ = rk.SetMark(2900)
	out, err := rk.Deleverage(Request{Account: 1, Side: Long, Qty: 100, Price: 2710}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Covered != 60 || out.Uncovered != 40 || len(out.Closes) != 1 {
		t.Fatalf("outcome %+v, want 60 covered, 40 uncovered", out)
	}
	if a, _ := rk.Position(1); a.Qty != 40 {
		t.Fatalf("bankrupt keeps %d, want the uncovered 40", a.Qty)
	}
}

// TestDeleverageProperties runs random books through random deleverages:
// the closes follow the naive ranking of the positions that can afford a
// close at the price (the others are passed over), cover the request as
// far as those go,
// leave open interest balanced, and move money only between the parties
// (Σ realized + Σ unrealized at the mark is unchanged, to the unit).
func TestDeleverageProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	passedOver := 0
	for round := range 30 {
		rk := mustNew(t, Config{Multiplier: 10_000})
		ps := genPopulation(rng, 200+rng.IntN(400), 1_000_000, rk.cfg.Multiplier)
		load(t, rk, ps)
		// balance open interest with one more position
		if d := rk.OpenInterest(Long) - rk.OpenInterest(Short); d != 0 {
			side := Short
			if d < 0 {
				side, d = Long, -d
			}
			open(t, rk, 0, side, d, 1_000_000, 5)
		}
		var closes []Close
		for step := range 40 {
			mark := book.Ticks(700_000 + rng.IntN(600_000))
			_ = rk.SetMark(mark)
			if rng.IntN(3) == 0 { // some position changes in between
				p := genOne(rng, book.AccountID(rng.IntN(len(ps))+1), mark, rk.cfg.Multiplier)
				if old, ok := rk.Position(p.acct); ok && old.Side == p.side {
					// keep OI balanced: only change cost and margin
					_ = rk.Update(p.acct, p.side, old.Qty, p.cost/market.Money(p.qty)*market.Money(old.Qty), p.margin)
				}
			}
			var accts []book.AccountID
			for _, p := range rk.pos {
				if p.live {
					accts = append(accts, p.acct)
				}
			}
			bankrupt, _ := rk.Position(accts[rng.IntN(len(accts))])
			qty := book.Lots(1 + rng.IntN(int(bankrupt.Qty)))
			price := book.Ticks(float64(mark) * (0.9 + 0.2*rng.Float64()))
			ref := reference(rk, bankrupt.Side.Opposite())
			held := map[book.AccountID]book.Lots{}
			for _, s := range ref {
				p, _ := rk.Position(s.acct)
				held[s.acct] = p.Qty
			}
			before := unrealized(t, rk)
			want, passed := affordable(rk, ref, qty, price) // before the closes change the positions
			passedOver += passed

			out, err := rk.Deleverage(Request{Account: bankrupt.Account, Side: bankrupt.Side, Qty: qty, Price: price}, closes[:0])
			if err != nil {
				t.Fatalf("round %d step %d: %v", round, step, err)
			}
			closes = out.Closes
			if len(want) != len(out.Closes) {
				t.Fatalf("round %d step %d: %d closes, the naive rank of those that can afford it says %d", round, step, len(out.Closes), len(want))
			}
			var sum book.Lots
			realized := out.BankruptRealized
			for i, c := range out.Closes {
				if c.Account != want[i] {
					t.Fatalf("round %d step %d: close %d hits %d, naive rank says %d", round, step, i, c.Account, want[i])
				}
				if c.Qty <= 0 || c.Qty > held[c.Account] || c.Remaining != held[c.Account]-c.Qty || c.Price != price {
					t.Fatalf("close %+v of a position of %d", c, held[c.Account])
				}
				if i < len(out.Closes)-1 && c.Remaining != 0 {
					t.Fatalf("close %d is partial but not the last", i)
				}
				sum += c.Qty
				realized += c.Realized
			}
			if sum != out.Covered || out.Covered+out.Uncovered != qty {
				t.Fatalf("round %d step %d: closed %d (covered %d, uncovered %d) of %d", round, step, sum, out.Covered, out.Uncovered, qty)
			}
			if rk.OpenInterest(Long) != rk.OpenInterest(Short) {
				t.Fatalf("open interest %d / %d", rk.OpenInterest(Long), rk.OpenInterest(Short))
			}
			if after := unrealized(t, rk); after+realized != before {
				t.Fatalf("money: unrealized %v before, %v after + %v realized", before, after, realized)
			}
			if err := rk.Check(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if passedOver == 0 {
		t.Fatal("no position was ever passed over for a close it could not afford")
	}
	t.Logf("%d positions passed over", passedOver)
}

// TestDeleverageBatchEqualsSequential serves random batches of requests
// (mostly one side, as in a cascade, with side switches, repeated and
// refused accounts, and prices whose amounts overflow) with one
// DeleverageBatch on one ranking and one Deleverage per request on an
// identical one: every outcome, close and final position must be the same.
func TestDeleverageBatchEqualsSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for range 40 {
		seed := rng.Uint64()
		mk := func() *Ranking { return crowdedBook(t, rand.New(rand.NewPCG(seed, 1))) }
		a, b := mk(), mk()
		mark := crowdMarks[rng.IntN(len(crowdMarks))]
		_ = a.SetMark(mark)
		_ = b.SetMark(mark)
		accts := liveAccounts(a)
		for range 5 {
			side := Long
			if rng.IntN(2) == 0 {
				side = Short
			}
			reqs := make([]Request, 1+rng.IntN(60))
			for i := range reqs {
				if rng.IntN(10) == 0 {
					side = side.Opposite()
				}
				acct := accts[rng.IntN(len(accts))]
				if i > 0 && rng.IntN(15) == 0 {
					acct = reqs[rng.IntN(i)].Account // repeated in the batch
				}
				p, _ := a.Position(acct)
				qty := book.Lots(1 + rng.IntN(max(1, int(p.Qty))))
				price := book.Ticks(float64(mark) * (0.9 + 0.2*rng.Float64()))
				if rng.IntN(25) == 0 {
					price = 1e11 // Money overflows
				}
				reqs[i] = Request{Account: acct, Side: side, Qty: qty, Price: price}
				if rng.IntN(8) != 0 {
					reqs[i].Side = p.Side // mostly a real position
				}
			}
			batchMatchesSequential(t, a, b, reqs, accts)
		}
	}
}

// TestDeleverageBatchReranksPartialCloses: 100 alike shorts whose cost is
// no multiple of their 7 lots rank first; 3-lot requests close them
// partly, which rounds each one's entry key down and so sends it behind
// the untouched ones — a batch must re-rank it as the next Deleverage
// would, not keep serving it.
func TestDeleverageBatchReranksPartialCloses(t *testing.T) {
	mk := func() *Ranking {
		rk := mustNew(t, unitConfig)
		for i := range 100 {
			cost := market.Money(7*3080)*rk.cfg.Multiplier + 3
			if err := rk.Update(book.AccountID(1000+i), Short, 7, cost, cost/10); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 50 {
			open(t, rk, book.AccountID(1+i), Long, 14, 3000, 50)
		}
		_ = rk.SetMark(3000)
		return rk
	}
	a, b := mk(), mk()
	var reqs []Request
	for i := range 50 {
		reqs = append(reqs, Request{Account: book.AccountID(1 + i), Side: Long, Qty: 3, Price: 2950})
	}
	batchMatchesSequential(t, a, b, reqs, liveAccounts(a))
}

func liveAccounts(rk *Ranking) []book.AccountID {
	var accts []book.AccountID
	for _, p := range rk.pos {
		if p.live {
			accts = append(accts, p.acct)
		}
	}
	return accts
}

// batchMatchesSequential runs reqs as one batch on a and one by one on b
// and compares outcomes, closes and the positions of accts.
func batchMatchesSequential(t *testing.T, a, b *Ranking, reqs []Request, accts []book.AccountID) {
	t.Helper()
	res, closes := a.DeleverageBatch(reqs, nil, nil)
	if len(res) != len(reqs) {
		t.Fatalf("%d results for %d requests", len(res), len(reqs))
	}
	var seq []Close
	for i, req := range reqs {
		out, err := b.Deleverage(req, seq[:0])
		seq = out.Closes
		got := res[i]
		if err != got.Err || out.Covered != got.Covered || out.Uncovered != got.Uncovered ||
			out.BankruptRealized != got.BankruptRealized || len(out.Closes) != len(got.Closes) {
			t.Fatalf("request %d %+v: batch %+v / %v, sequential %+v / %v", i, req, got.Outcome, got.Err, out, err)
		}
		for k := range out.Closes {
			if out.Closes[k] != got.Closes[k] {
				t.Fatalf("request %d close %d: batch %+v, sequential %+v", i, k, got.Closes[k], out.Closes[k])
			}
		}
	}
	total := 0
	for _, r := range res {
		total += len(r.Closes)
	}
	if total != len(closes) {
		t.Fatalf("results hold %d closes, dst %d", total, len(closes))
	}
	for _, acct := range accts {
		pa, oka := a.Position(acct)
		pb, okb := b.Position(acct)
		if oka != okb || pa != pb {
			t.Fatalf("account %d: batch %+v, sequential %+v", acct, pa, pb)
		}
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
}

// affordable is the naive plan of a deleverage of qty at price: the
// ranked positions in order, each closing what is still needed, passed over
// when it would lose more than its collateral (margin + realized < 0).
func affordable(rk *Ranking, ref []scored, qty book.Lots, price book.Ticks) (out []book.AccountID, passed int) {
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
		realized, _ := pnl(p.side == Long, take, removed, price, rk.cfg.Multiplier)
		if realized+backing < 0 && !p.bankrupt {
			passed++
			continue
		}
		out = append(out, s.acct)
		qty -= take
	}
	return out, passed
}

// TestRemainderPastItsBoundIsPassedOver: a liquidation's remainder ranks
// with a token margin, so in profit at the mark it heads the queue; it
// closes at no price worse than its own bankruptcy price (its bound), so a
// request past that passes it over for the next position, and one within
// it closes it first. Before, the plan counted on the remainder, which
// refused, and the bankrupt leg's rounds stayed empty while the next
// position could have closed it.
func TestRemainderPastItsBoundIsPassedOver(t *testing.T) {
	for _, c := range []struct {
		price book.Ticks
		first book.AccountID
	}{
		{3050, 3}, // a short remainder buys back at ≤ 3000: passed over
		{3000, 2}, // at its bound: it closes
		{2950, 2},
	} {
		rk := mustNew(t, unitConfig)
		open(t, rk, 1, Long, 10, 3300, 10) // the bankrupt long
		// A short remainder entered at 3200 (in profit at 3100), bound 3000.
		cost, _ := notional(10, 3200, rk.cfg.Multiplier)
		if _, err := rk.Report(2, Short, 10, cost, 1, 0, 3000); err != nil {
			t.Fatal(err)
		}
		open(t, rk, 3, Short, 10, 3150, 5)
		_ = rk.SetMark(3100)
		if q, err := rk.Top(Short, 2, nil); err != nil || len(q) != 2 || q[0].Account != 2 {
			t.Fatalf("queue %+v %v: the remainder should lead", q, err)
		}
		out, err := rk.Deleverage(Request{Account: 1, Side: Long, Qty: 10, Price: c.price}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Closes) == 0 || out.Closes[0].Account != c.first || out.Covered != 10 {
			t.Fatalf("at %d: closes %+v, want account %d first, all covered", c.price, out.Closes, c.first)
		}
	}
}
