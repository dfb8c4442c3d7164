package adl

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// snapAccounts are the walk's accounts: dense ids and two the sparse index
// holds.
var snapAccounts = []book.AccountID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
	denseLimit + 3, 1 << 40}

// snapWalk drives rankings that should be in one state with the same random
// operation, built from the first one's state, and returns each one's
// answers (every return value, then its observable state) as text.
type snapWalk struct {
	rng   *rand.Rand
	nowMs int64
	quiet bool // answers only, not the observable state after
}

func (w *snapWalk) step(rks []*Ranking) []string {
	rng := w.rng
	rk0 := rks[0]
	acct := snapAccounts[rng.IntN(len(snapAccounts))]
	side := Long
	if rng.IntN(2) == 0 {
		side = Short
	}
	mark := rk0.Mark()
	if mark == 0 {
		mark = 1000
	}
	entry := book.Ticks(float64(mark) * (0.8 + 0.4*rng.Float64()))
	qty := book.Lots(rng.IntN(50))
	cost := market.Money(int64(qty) * int64(entry) * int64(rk0.cfg.Multiplier))
	margin := max(1, market.Money(float64(cost)/levels[rng.IntN(len(levels))]))
	price := book.Ticks(float64(mark) * (0.7 + 0.6*rng.Float64()))
	req := func() Request {
		a := snapAccounts[rng.IntN(len(snapAccounts))]
		info, ok := rk0.Position(a)
		if !ok {
			return Request{Account: a, Side: side, Qty: 1 + qty, Price: price}
		}
		return Request{Account: a, Side: info.Side, Qty: 1 + book.Lots(rng.Int64N(int64(info.Qty))), Price: price}
	}
	var do func(rk *Ranking) string
	switch op := rng.IntN(20); {
	case op < 5:
		do = func(rk *Ranking) string { return fmt.Sprint(rk.Update(acct, side, qty, cost, margin)) }
	case op < 9:
		acked := book.Lots(0)
		if p := rk0.Promised(acct); p > 0 {
			acked = book.Lots(rng.Int64N(int64(p) + 2))
		}
		var bound book.Ticks // a remainder's bankruptcy price, a quarter of the time
		if rng.IntN(4) == 0 {
			bound = book.Ticks(float64(mark) * (0.9 + 0.2*rng.Float64()))
		}
		do = func(rk *Ranking) string {
			held, err := rk.Report(acct, side, qty, cost, margin, acked, bound)
			return fmt.Sprint(held, err)
		}
	case op < 11:
		m := book.Ticks(float64(mark) * (0.9 + 0.2*rng.Float64()))
		if rng.IntN(20) == 0 {
			m = 0
		}
		do = func(rk *Ranking) string { return fmt.Sprint(rk.SetMark(m)) }
	case op < 13:
		r := req()
		do = func(rk *Ranking) string {
			out, err := rk.Deleverage(r, nil)
			return fmt.Sprintf("%+v %v", out, err)
		}
	case op < 14:
		reqs := []Request{req(), req(), req()}
		do = func(rk *Ranking) string {
			res, closes := rk.DeleverageBatch(reqs, nil, nil)
			return fmt.Sprintf("%+v %+v", res, closes)
		}
	case op < 15:
		do = func(rk *Ranking) string {
			v, err := rk.SetAside(side)
			return fmt.Sprint(v, err)
		}
	case op < 16:
		amount := market.Money(rng.Int64N(int64(rk0.SetAsideTotal()) + 2))
		do = func(rk *Ranking) string { rk.ReleaseAside(side, amount); return "" }
	case op < 17:
		deficit := market.Money(rng.Int64N(int64(usdt(5000))))
		unable, closed := rng.IntN(3) == 0, rng.IntN(2) == 0
		do = func(rk *Ranking) string { // a round's charges go out; one winner could not pay
			res, err := rk.Socialize(side, deficit, nil)
			if err == nil {
				rk.Charged(side, res.Charges)
			}
			if unable {
				rk.Unable(side, acct, closed, deficit/7)
			}
			return fmt.Sprintf("%+v %v", res, err)
		}
	case op < 19:
		w.nowMs += rng.Int64N(800)
		if rng.IntN(30) == 0 {
			w.nowMs -= 5000
		}
		now := w.nowMs
		do = func(rk *Ranking) string {
			light, err := rk.Indicator(acct, now)
			return fmt.Sprint(light, err)
		}
	default:
		n := rng.IntN(30)
		do = func(rk *Ranking) string {
			top, err := rk.Top(side, n, nil)
			return fmt.Sprintf("%+v %v", top, err)
		}
	}
	out := make([]string, len(rks))
	for i, rk := range rks {
		out[i] = do(rk)
		if !w.quiet {
			out[i] += " | " + observe(rk)
		}
	}
	return out
}

// observe is a ranking's observable state as text.
func observe(rk *Ranking) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "mark %d aside %d count %d/%d oi %d/%d check %v", rk.Mark(), rk.SetAsideTotal(),
		rk.Count(Long), rk.Count(Short), rk.OpenInterest(Long), rk.OpenInterest(Short), rk.Check())
	for _, a := range snapAccounts {
		info, ok := rk.Position(a)
		fmt.Fprintf(&b, " %d:%v %+v p%d", a, ok, info, rk.Promised(a))
	}
	return b.String()
}

// decodeAll decodes a whole snapshot and checks that it re-encodes to it.
func decodeAll(t testing.TB, snap []byte) *Ranking {
	t.Helper()
	rk, rest, err := DecodeSnapshot(snap)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(rest) != 0 {
		t.Fatalf("decode left %d bytes", len(rest))
	}
	if again, want := rk.AppendSnapshot(nil), reencoded(t, snap); !bytes.Equal(again, want) {
		t.Fatalf("re-encoding differs (%d vs %d bytes)", len(again), len(want))
	}
	return rk
}

// reencoded is what a decoded snap encodes to: itself, or for an older
// version the current one (empty socialized-loss sections, bounds 0),
// which must then round-trip exactly.
func reencoded(t testing.TB, snap []byte) []byte {
	t.Helper()
	if snap[len(snapMagic)] == snapVersion {
		return snap
	}
	rk, _, err := DecodeSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	want := rk.AppendSnapshot(nil)
	if rk2, _, err := DecodeSnapshot(want); err != nil || !bytes.Equal(rk2.AppendSnapshot(nil), want) {
		t.Fatalf("an old snapshot's re-encoding does not round-trip: %v", err)
	}
	return want
}

// walkSnapshots runs a seeded walk, snapshotting the original every few
// steps and checking every decoded copy answers exactly as it does; it
// returns some of the snapshots taken.
func walkSnapshots(t testing.TB, seed uint64, steps int) [][]byte {
	w := &snapWalk{rng: rand.New(rand.NewPCG(seed, 13))}
	cfg := unitConfig
	cfg.Mode = Mode(seed % 2)
	cfg.IndicatorRefreshMs = int64(seed%3) * 700
	rks := []*Ranking{mustNew(t, cfg)}
	var snaps [][]byte
	for i := range steps {
		if i%40 == 39 {
			snap := rks[0].AppendSnapshot([]byte("prefix")) // appends
			snap = snap[len("prefix"):]
			rk := decodeAll(t, snap)
			snaps = append(snaps, snap)
			if len(rks) > 2 {
				rks = append(rks[:1], rks[2:]...)
			}
			rks = append(rks, rk)
		}
		out := w.step(rks)
		for j := 1; j < len(out); j++ {
			if out[j] != out[0] {
				t.Fatalf("seed %d step %d: copy %d answers\n%s\noriginal\n%s", seed, i, j, out[j], out[0])
			}
		}
		if err := rks[0].Check(); err != nil {
			t.Fatalf("seed %d step %d: %v", seed, i, err)
		}
	}
	for j := 1; j < len(rks); j++ {
		if a, b := rks[0].AppendSnapshot(nil), rks[j].AppendSnapshot(nil); !bytes.Equal(a, b) {
			t.Fatalf("seed %d: copy %d encodes differently at the end", seed, j)
		}
	}
	return snaps
}

// TestSnapshotCopiesGoOnAsTheOriginal also checks that the walk's snapshots
// hold what the property is about (promises, set-asides, profit gone since,
// bankrupt positions, cuts, sparse accounts), so its comparison means
// something.
func TestSnapshotCopiesGoOnAsTheOriginal(t *testing.T) {
	var promised, aside, gone, charged, unable, bankrupt, cuts, sparse bool
	for seed := range uint64(4) {
		for _, snap := range walkSnapshots(t, seed, 500) {
			rk := decodeAll(t, snap)
			promised = promised || len(rk.promised) > 0
			aside = aside || rk.SetAsideTotal() > 0
			gone = gone || len(rk.gone[0])+len(rk.gone[1]) > 0
			charged = charged || len(rk.charged[0])+len(rk.charged[1]) > 0
			unable = unable || len(rk.unable[0])+len(rk.unable[1]) > 0
			cuts = cuts || rk.sides[0].cuts.ncut > 0 || rk.sides[1].cuts.ncut > 0
			sparse = sparse || len(rk.index.sparse) > 0
			for _, p := range rk.pos {
				bankrupt = bankrupt || p.live && p.bankrupt
			}
		}
	}
	if !promised || !aside || !gone || !charged || !unable || !bankrupt || !cuts || !sparse {
		t.Fatalf("promised %v, aside %v, gone %v, charged %v, unable %v, bankrupt %v, cuts %v, sparse %v",
			promised, aside, gone, charged, unable, bankrupt, cuts, sparse)
	}
}

func TestSnapshotOfAnEmptyRanking(t *testing.T) {
	rk := mustNew(t, unitConfig)
	got := decodeAll(t, rk.AppendSnapshot(nil))
	if got.Config() != unitConfig || got.Mark() != 0 || got.Count(Long)+got.Count(Short) != 0 {
		t.Fatalf("decoded %+v", got.Config())
	}
	snap := rk.AppendSnapshot(nil)
	rest := []byte("next")
	if _, r, err := DecodeSnapshot(append(snap, rest...)); err != nil || string(r) != "next" {
		t.Fatalf("rest %q, %v", r, err)
	}
	snap[4] = snapVersion + 1
	if _, _, err := DecodeSnapshot(snap); !errors.Is(err, ErrSnapshotVersion) {
		t.Fatalf("version %d: %v", snapVersion+1, err)
	}
}

// TestSnapshotDamage: every truncation is refused; every single bit flip is
// refused or decodes to a ranking that passes Check, encodes to the flipped
// bytes and keeps working.
func TestSnapshotDamage(t *testing.T) {
	snaps := walkSnapshots(t, 3, 200)
	for k, snap := range [][]byte{snaps[1], snaps[len(snaps)-1]} {
		for n := range len(snap) {
			if _, _, err := DecodeSnapshot(snap[:n]); !errors.Is(err, ErrSnapshot) {
				t.Fatalf("truncated to %d of %d: %v", n, len(snap), err)
			}
		}
		if k == 1 {
			continue // bit flips in the smaller one
		}
		rk := decodeAll(t, snap)
		t.Logf("%d bytes: %d positions, %d promised, cuts %d/%d, set aside %d", len(snap), rk.index.len(), len(rk.promised), rk.sides[0].cuts.ncut, rk.sides[1].cuts.ncut, rk.SetAsideTotal())
		bad := bytes.Clone(snap)
		for i := range len(snap) * 8 {
			bad[i/8] ^= 1 << (i % 8)
			rk, rest, err := DecodeSnapshot(bad)
			switch {
			case err != nil:
				if !errors.Is(err, ErrSnapshot) && !errors.Is(err, ErrSnapshotVersion) {
					t.Fatalf("bit %d: %v", i, err)
				}
			default:
				exerciseDecoded(t, rk, bad[:len(bad)-len(rest)], uint64(i))
			}
			bad[i/8] ^= 1 << (i % 8)
		}
	}
}

// exerciseDecoded checks a ranking decoded from snap (which need not be a
// snapshot the walk took) and runs a few random operations on it.
func exerciseDecoded(t testing.TB, rk *Ranking, snap []byte, seed uint64) {
	t.Helper()
	if err := rk.Check(); err != nil {
		t.Fatalf("decoded ranking: %v", err)
	}
	if again := rk.AppendSnapshot(nil); !bytes.Equal(again, reencoded(t, snap)) {
		t.Fatal("a decoded ranking encodes to other bytes")
	}
	w := &snapWalk{rng: rand.New(rand.NewPCG(seed, 7)), quiet: true}
	for range 6 {
		w.step([]*Ranking{rk})
		if err := rk.Check(); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzDecodeSnapshot(f *testing.F) {
	for seed := range uint64(3) {
		snaps := walkSnapshots(f, seed, 200)
		f.Add(snaps[0])
		f.Add(snaps[len(snaps)-1])
	}
	f.Add(mustNew(f, unitConfig).AppendSnapshot(nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		rk, rest, err := DecodeSnapshot(p)
		if err != nil {
			if !errors.Is(err, ErrSnapshot) && !errors.Is(err, ErrSnapshotVersion) {
				t.Fatalf("error %v", err)
			}
			return
		}
		exerciseDecoded(t, rk, p[:len(p)-len(rest)], uint64(len(p)))
	})
}

func BenchmarkRankingSnapshot(b *testing.B) {
	const n = 10_000
	rng := rand.New(rand.NewPCG(1, 2))
	rk := mustNew(b, unitConfig)
	load(b, rk, genPopulation(rng, n, 1000, rk.cfg.Multiplier))
	if err := rk.SetMark(1000); err != nil {
		b.Fatal(err)
	}
	rk.RefreshIndicators(0)
	snap := rk.AppendSnapshot(nil)
	b.Run("encode", func(b *testing.B) {
		buf := make([]byte, 0, len(snap))
		b.SetBytes(int64(len(snap)))
		b.ReportAllocs()
		for b.Loop() {
			buf = rk.AppendSnapshot(buf[:0])
		}
		b.ReportMetric(float64(len(snap)), "B/snapshot")
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(snap)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := DecodeSnapshot(snap); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(snap)), "B/snapshot")
	})
}

// TestSnapshotRefusesOwedPastBound: profit taken out (or charged) summing
// past maxOwed on a side does not decode: forged amounts near int64's limit
// would overflow SocializeAt's total and stop the ADL actor.
func TestSnapshotRefusesOwedPastBound(t *testing.T) {
	for _, charged := range []bool{false, true} {
		rk := mustNew(t, unitConfig)
		m := &rk.gone[1]
		if charged {
			m = &rk.charged[1]
		}
		*m = setIn(*m, 7, maxOwed/2+1)
		if _, _, err := DecodeSnapshot(rk.AppendSnapshot(nil)); err != nil {
			t.Fatalf("one amount under the bound: %v", err)
		}
		*m = setIn(*m, 8, maxOwed/2+1)
		if _, _, err := DecodeSnapshot(rk.AppendSnapshot(nil)); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("charged %v: two amounts past the bound decoded: %v", charged, err)
		}
		rk.gone[1], rk.charged[1] = nil, nil
	}
}
