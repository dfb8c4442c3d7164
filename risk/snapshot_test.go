package risk

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// snapSymbols: the demo BTC and ETH, and a third symbol with a maker rebate
// and max leverage 50 (other multiplier, tiers, fees).
func snapSymbols(tb testing.TB) []*market.Symbol {
	btc, eth := demo()
	sol, err := market.SymbolConfig{Symbol: "SOL-PERP", Tick: dec("0.001"), Lot: dec("0.1"), MaxLeverage: dec("50"),
		MakerFee: dec("-0.0001"), TakerFee: dec("0.0007"), PriceBand: dec("0.05"),
		MMTiers: []market.TierConfig{{MaxNotional: dec("20000"), MMR: dec("0.01")}, {MaxNotional: dec("10000000"), MMR: dec("0.05")}},
	}.Compile()
	if err != nil {
		tb.Fatal(err)
	}
	return []*market.Symbol{btc, eth, sol}
}

// resolver looks symbols up by name, like the config.
func resolver(syms []*market.Symbol) func(string) *market.Symbol {
	return func(name string) *market.Symbol {
		for _, s := range syms {
			if s.Name == name {
				return s
			}
		}
		return nil
	}
}

// snapWalk drives an account through seeded random operations. Each
// operation is drawn from the original account's state and returned as a
// function, so the very same call can be applied to the original and to
// its decoded copy; the function returns everything the call returned.
type snapWalk struct {
	rng  *rand.Rand
	syms []*market.Symbol
	mark []book.Ticks
	id   book.OrderID
}

func newSnapWalk(tb testing.TB, seed uint64) *snapWalk {
	w := &snapWalk{rng: rand.New(rand.NewPCG(seed, 13)), syms: snapSymbols(tb)}
	for range w.syms {
		w.mark = append(w.mark, 300_000)
	}
	return w
}

// near is a price within sym's band around mark, mostly close to it.
func (w *snapWalk) near(sym *market.Symbol, mark book.Ticks) book.Ticks {
	lo, hi := sym.Band(mark)
	p := lo + book.Ticks(w.rng.Int64N(int64(hi-lo+1)))
	return (p + 3*mark) / 4
}

// lots is a quantity worth up to about 60 000 USDT at mark.
func (w *snapWalk) lots(sym *market.Symbol, mark book.Ticks) book.Lots {
	most := max(1, usdt("60000")/sym.Notional(mark, 1))
	return book.Lots(1 + w.rng.Int64N(int64(most)))
}

func (w *snapWalk) money(most string) market.Money {
	return market.Money(w.rng.Int64N(int64(usdt(most)))) + 1
}

func (w *snapWalk) mode() MarginMode {
	if w.rng.IntN(2) == 0 {
		return Isolated
	}
	return Cross
}

type snapOp func(*Account) []any

// cancelAll cancels ids and returns what each released.
func cancelAll(x *Account, ids []book.OrderID) []any {
	out := []any{ids}
	for _, id := range ids {
		r, ok := x.OnCancel(id)
		out = append(out, r, ok)
	}
	return out
}

// liquidate starts a liquidation of sym and cancels the orders it names.
func liquidate(x *Account, sym *market.Symbol) []any {
	l, cancel, c := x.StartLiquidation(sym)
	out := []any{c}
	if l != nil {
		out = append(out, *l)
	}
	return append(out, cancelAll(x, cancel)...)
}

func (w *snapWalk) op(a *Account) (string, snapOp) {
	r := w.rng
	k := r.IntN(len(w.syms))
	sym, mark := w.syms[k], w.mark[k]
	switch n := r.IntN(100); {
	case n < 4:
		m := w.money("20000")
		return "deposit", func(x *Account) []any { return []any{x.Deposit(m)} }
	case n < 7:
		m := w.money("5000")
		return "withdraw", func(x *Account) []any { return []any{x.Withdraw(m)} }
	case n < 11:
		lev := 1 + r.Int64N(110)
		return "leverage", func(x *Account) []any { return []any{x.SetLeverage(sym, lev)} }
	case n < 14:
		mode, i := w.mode(), a.find(sym)
		var ids []book.OrderID // sym's orders: cancel them first (sometimes), so the mode may change
		for _, o := range a.orders.Values() {
			if int(o.slot) == i && i%2 == 0 {
				ids = append(ids, o.id)
			}
		}
		return "mode", func(x *Account) []any { return append(cancelAll(x, ids), x.SetMarginMode(sym, mode)) }
	case n < 40:
		w.id++
		o := Order{ID: w.id, Side: book.Side(1 + r.IntN(2)), Type: Limit, Price: w.near(sym, mark), Qty: w.lots(sym, mark),
			ReduceOnly: r.IntN(6) == 0, NeverRests: r.IntN(10) == 0}
		if r.IntN(6) == 0 {
			o.Type = Market
		}
		if ids := a.OpenOrders(); len(ids) > 0 && r.IntN(30) == 0 {
			o.ID = ids[r.IntN(len(ids))] // a duplicate
		}
		return "pretrade", func(x *Account) []any {
			c, res := x.PreTrade(sym, o, mark)
			return []any{c, res}
		}
	case n < 64:
		ids := a.OpenOrders()
		if len(ids) == 0 {
			return "none", func(*Account) []any { return nil }
		}
		oo := *a.orders.At(a.orders.Find(ids[r.IntN(len(ids))]))
		s := a.pos[oo.slot].sym
		f := Fill{OrderID: oo.id, Side: oo.side, Qty: 1 + book.Lots(r.Int64N(int64(oo.qty))), Maker: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			f.Qty = oo.qty
		}
		for i := range w.syms {
			if w.syms[i] == s {
				f.Price = w.near(s, w.mark[i])
			}
		}
		f.FeeRate = s.FeeRate(f.Maker)
		start := r.IntN(2) == 0
		return "fill", func(x *Account) []any {
			res, c := x.ApplyFill(s, f)
			out := []any{res, c}
			if res.ReduceOnlyExcess {
				out = append(out, cancelAll(x, x.ExcessReduceOnly(s))...)
			}
			if res.Liquidate && start {
				out = append(out, liquidate(x, s)...)
			}
			return out
		}
	case n < 71:
		id := w.id + 1 // unknown
		if ids := a.OpenOrders(); len(ids) > 0 && r.IntN(8) != 0 {
			id = ids[r.IntN(len(ids))]
		}
		return "cancel", func(x *Account) []any {
			rel, ok := x.OnOrderDone(id)
			return []any{rel, ok}
		}
	case n < 84:
		m := mark + book.Ticks(r.Int64N(int64(mark)/15+1)) - mark/30
		m = min(max(m, 1000), sym.MaxPrice)
		w.mark[k] = m
		start := r.IntN(2) == 0
		return "mark", func(x *Account) []any {
			hit := x.OnMark(sym, m)
			if hit && start {
				return append([]any{hit}, liquidate(x, sym)...)
			}
			return []any{hit}
		}
	case n < 88:
		rate := market.Rate(r.Int64N(1_000_001) - 500_000)
		return "funding", func(x *Account) []any { return []any{x.ApplyFunding(sym, rate, mark)} }
	case n < 91:
		m, add := w.money("3000"), r.IntN(2) == 0
		return "margin", func(x *Account) []any {
			if add {
				return []any{x.AddMargin(sym, m)}
			}
			return []any{x.RemoveMargin(sym, m)}
		}
	case n < 94:
		ps, _ := a.Position(sym)
		q := 1 + book.Lots(r.Int64N(int64(abs(ps.Qty))+1))
		price := w.near(sym, mark)
		if bk, ok := a.BankruptcyPrice(sym); ok && r.IntN(2) == 0 {
			price = bk
		}
		side := book.Side(1 + r.IntN(2))
		return "adl", func(x *Account) []any {
			if side == book.Buy {
				res, c := x.ApplyADLClose(sym, q, price)
				return []any{res, c}
			}
			got, res, c := x.CloseForADL(sym, side.Opposite(), q, price, 0)
			return []any{got, res, c}
		}
	case n < 96:
		ps, _ := a.Position(sym)
		profit := sym.PnL(ps.Qty, ps.Cost, mark)
		charge := w.money("100")
		if profit > 0 {
			charge = 1 + market.Money(r.Int64N(int64(profit)+1))
		}
		return "socialize", func(x *Account) []any {
			res, c := x.ApplySocializedCharge(sym, charge, mark)
			return []any{res, c}
		}
	case n < 98:
		return "liquidate", func(x *Account) []any { return liquidate(x, sym) }
	default:
		return "end liquidation", func(x *Account) []any { x.EndLiquidation(); return nil }
	}
}

// observe is everything the account shows; prices() may refresh stale
// caches, as a live query would.
func (w *snapWalk) observe(x *Account) []any {
	out := []any{x.Report(), x.Cash(), x.Balance(), x.Equity(), x.Available(), x.OrderMargin(),
		x.MaintenanceMargin(), x.MarginRatio(), x.InLiquidation(), x.OpenOrders(), x.ID()}
	for _, s := range w.syms {
		ps, ok := x.Position(s)
		liq, lok := x.LiquidationPrice(s)
		bk, bok := x.BankruptcyPrice(s)
		out = append(out, ps, ok, liq, lok, bk, bok, x.Collateral(s), x.ADLScore(s), x.ExcessReduceOnly(s))
	}
	return out
}

// sameResults fails unless x and y print the same (decimals by value,
// symbols by address: the two accounts share them).
func sameResults(t *testing.T, step int, what string, x, y []any) {
	t.Helper()
	if a, b := fmt.Sprintf("%+v", x), fmt.Sprintf("%+v", y); a != b {
		t.Fatalf("step %d %s: the copy differs\noriginal %s\ncopy     %s", step, what, a, b)
	}
}

// roundTrip encodes a, decodes it, checks the copy field by field and that
// it encodes to the same bytes.
func roundTrip(t *testing.T, a *Account, syms []*market.Symbol) *Account {
	t.Helper()
	enc := a.AppendSnapshot([]byte("prefix"))[len("prefix"):]
	c, rest, err := DecodeAccountSnapshot(append(enc, "next"...), resolver(syms))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if string(rest) != "next" {
		t.Fatalf("rest %q", rest)
	}
	sameInternals(t, a, c)
	if again := c.AppendSnapshot(nil); !bytes.Equal(again, enc) {
		t.Fatal("the copy encodes differently")
	}
	return c
}

// sameInternals proves the derived fields equal: everything but the cached
// ticks is identical; the copy's ticks are fresh only where the original's
// are (with ≥ 2 cross positions the copy's are stale, live code recomputes
// them on demand), and then equal.
func sameInternals(t *testing.T, a, c *Account) {
	t.Helper()
	if a.id != c.id || a.mode != c.mode || a.cash != c.cash || a.orderMargin != c.orderMargin || a.isoOrderMargin != c.isoOrderMargin || a.nOpen != c.nOpen ||
		a.nCross != c.nCross || a.crossSlot != c.crossSlot || a.inLiq != c.inLiq || len(a.pos) != len(c.pos) {
		t.Fatalf("account fields differ:\n%+v\n%+v", *a, *c)
	}
	for i := range a.pos {
		p, q := a.pos[i], c.pos[i]
		if q.fresh && (!p.fresh || p.liq != q.liq || p.bk != q.bk) {
			t.Fatalf("slot %d: copy's ticks %d/%d fresh, original's %d/%d fresh %v", i, q.liq, q.bk, p.liq, p.bk, p.fresh)
		}
		if p.fresh && !q.fresh && (p.mode == Isolated || a.nCross == 1) {
			t.Fatalf("slot %d: the copy's trigger tick is stale", i)
		}
		p.liq, p.bk, p.fresh, q.liq, q.bk, q.fresh = 0, 0, false, 0, 0, false
		if p != q {
			t.Fatalf("slot %d differs:\n%+v\n%+v", i, p, q)
		}
	}
	if a.orders.Len() != c.orders.Len() {
		t.Fatalf("%d orders, copy %d", a.orders.Len(), c.orders.Len())
	}
	for j := range a.orders.Len() {
		if a.orders.ID(j) != c.orders.ID(j) || *a.orders.At(j) != *c.orders.At(j) {
			t.Fatalf("order %d: %+v, copy %+v", j, *a.orders.At(j), *c.orders.At(j))
		}
	}
}

// TestSnapshotContinuesExactly: after a random history, an account and its
// decoded copy answer the same random operations identically at every step
// (every return value, Report and every query), and encode to the same
// bytes; the copy is re-snapshotted from time to time, so the walk passes
// through many snapshot states (in liquidation, cross and isolated, ≥ 2
// cross positions with stale ticks, more than OrderSetLinear orders).
func TestSnapshotContinuesExactly(t *testing.T) {
	var inLiq, multiCross, isolated, many, snaps int
	for seed := uint64(1); seed <= 8; seed++ {
		w := newSnapWalk(t, seed)
		a := NewAccount(book.AccountID(seed), w.mode())
		mustOK(t, a.Deposit(usdt("30000")), "deposit")
		for range 300 {
			_, f := w.op(a)
			f(a)
		}
		c := roundTrip(t, a, w.syms)
		for step := range 3000 {
			what, f := w.op(a)
			sameResults(t, step, what, f(a), f(c))
			if w.rng.IntN(2) == 0 {
				sameResults(t, step, what+" then observe", w.observe(a), w.observe(c))
			}
			for _, x := range []*Account{a, c} {
				if err := x.Check(); err != nil {
					t.Fatalf("seed %d step %d %s: %v", seed, step, what, err)
				}
			}
			if !bytes.Equal(a.AppendSnapshot(nil), c.AppendSnapshot(nil)) {
				t.Fatalf("seed %d step %d %s: snapshots differ", seed, step, what)
			}
			if w.rng.IntN(20) == 0 {
				c = roundTrip(t, c, w.syms)
				snaps++
				if c.inLiq {
					inLiq++
				}
				if c.nCross >= 2 {
					multiCross++
				}
				if c.nOpen > c.nCross {
					isolated++
				}
				if c.orders.Len() > book.OrderSetLinear {
					many++
				}
			}
		}
	}
	t.Logf("%d snapshots: %d in liquidation, %d with ≥ 2 cross positions, %d with isolated ones, %d with > %d orders",
		snaps, inLiq, multiCross, isolated, many, book.OrderSetLinear)
	if inLiq == 0 || multiCross == 0 || isolated == 0 || many == 0 {
		t.Error("the walk is too tame")
	}
}

// snapSeeds are real snapshots of distinct kinds (open and cross position
// counts, in liquidation or not, orders beyond OrderSetLinear or not),
// taken along two walks, and one with more than OrderSetLinear orders.
func snapSeeds(tb testing.TB) [][]byte {
	many, _ := snapBenchAccount(tb, 2*book.OrderSetLinear)
	out := [][]byte{NewAccount(7, Isolated).AppendSnapshot(nil), many.AppendSnapshot(nil)}
	seen := map[[4]int]bool{}
	for seed, mode := range []MarginMode{Cross, Isolated} {
		w := newSnapWalk(tb, uint64(90+seed))
		a := NewAccount(7, mode)
		a.Deposit(usdt("30000"))
		for range 3000 {
			_, f := w.op(a)
			f(a)
			kind := [4]int{a.nOpen, a.nCross, min(a.orders.Len()/(book.OrderSetLinear+1), 1)}
			if a.inLiq {
				kind[3] = 1
			}
			if !seen[kind] {
				seen[kind] = true
				out = append(out, a.AppendSnapshot(nil))
			}
		}
	}
	return out
}

// TestSnapshotDamage: every truncation is refused; every single bit flip
// is refused or decodes to an account that passes Check and encodes back
// to the flipped bytes (the encoding is canonical).
func TestSnapshotDamage(t *testing.T) {
	syms := snapSymbols(t)
	for _, enc := range snapSeeds(t) {
		for n := range len(enc) {
			if _, _, err := DecodeAccountSnapshot(enc[:n], resolver(syms)); !errors.Is(err, ErrSnapshot) {
				t.Fatalf("%d of %d bytes: %v", n, len(enc), err)
			}
		}
		for i := range len(enc) * 8 {
			p := bytes.Clone(enc)
			p[i/8] ^= 1 << (i % 8)
			checkDecoded(t, p, syms)
		}
	}
	enc := snapSeeds(t)[1]
	enc[4]++
	if _, _, err := DecodeAccountSnapshot(enc, resolver(syms)); !errors.Is(err, ErrSnapshotVersion) {
		t.Fatalf("version 2: %v", err)
	}
	if _, _, err := DecodeAccountSnapshot(snapSeeds(t)[1], resolver(syms[:1])); !errors.Is(err, ErrSnapshotSymbol) {
		t.Fatalf("unknown symbol: %v", err)
	}
}

// checkDecoded decodes p: an error must be one of the package's; an
// account must pass Check, encode back to the bytes it came from and
// survive being used.
func checkDecoded(t *testing.T, p []byte, syms []*market.Symbol) {
	a, rest, err := DecodeAccountSnapshot(p, resolver(syms))
	if err != nil {
		if !errors.Is(err, ErrSnapshot) && !errors.Is(err, ErrSnapshotVersion) && !errors.Is(err, ErrSnapshotSymbol) {
			t.Fatalf("foreign error %v", err)
		}
		return
	}
	if err := a.Check(); err != nil {
		t.Fatalf("decoded account fails Check: %v", err)
	}
	if enc := a.AppendSnapshot(nil); !bytes.Equal(enc, p[:len(p)-len(rest)]) {
		t.Fatalf("decoded account encodes differently")
	}
	a.Report()
	for _, s := range syms {
		a.OnMark(s, 300_000)
		a.LiquidationPrice(s)
	}
	a.Report()
}

func FuzzDecodeAccountSnapshot(f *testing.F) {
	for _, s := range snapSeeds(f) {
		f.Add(s)
	}
	syms := snapSymbols(f)
	f.Fuzz(func(t *testing.T, p []byte) { checkDecoded(t, p, syms) })
}

// snapBenchAccount has 3 positions and n open orders.
func snapBenchAccount(tb testing.TB, n int) (*Account, []*market.Symbol) {
	syms := snapSymbols(tb)
	a := funded("10000000", Cross)
	for _, s := range syms {
		trade(tb, a, s, book.Buy, 300_000, 10, 300_000, false)
	}
	for i := range n {
		s := syms[i%3]
		price := book.Ticks(290_000 + i)
		c, _ := a.PreTrade(s, Order{ID: newID(), Side: book.Buy, Type: Limit, Price: price, Qty: book.Lots(max(1, usdt("10")/s.Notional(price, 1)))}, 300_000)
		mustOK(tb, c, "resting order")
	}
	return a, syms
}

// BenchmarkAccountSnapshot: encode (into a reused buffer) and decode an
// account with 3 positions and 1 000 open orders.
func BenchmarkAccountSnapshot(b *testing.B) {
	a, syms := snapBenchAccount(b, 1000)
	buf := a.AppendSnapshot(nil)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = a.AppendSnapshot(buf[:0])
		}
		b.ReportMetric(float64(len(buf)), "snapshot-bytes")
	})
	b.Run("decode", func(b *testing.B) {
		res := resolver(syms)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := DecodeAccountSnapshot(buf, res); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf)), "snapshot-bytes")
	})
}
