package market

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/perpx/perpx/book"
)

// snapSymbols: 8-hourly funding, funding every minute (many crossings and
// skipped intervals) and funding off.
func snapSymbols(t testing.TB) []*Symbol {
	off := false
	minute, err := SymbolConfig{Symbol: "MIN-PERP", FundingIntervalS: MinFundingIntervalS}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	none, err := SymbolConfig{Symbol: "OFF", Funding: &off}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return []*Symbol{DemoSymbols()[0], minute, none}
}

// markGen draws inputs: a random walk of the index, impact
// prices on either side of it or missing, time standing still, creeping,
// jumping over funding times or whole intervals, and now and then an input
// Update refuses (time backwards, an index out of range).
type markGen struct {
	rng   *rand.Rand
	sym   *Symbol
	index book.Ticks
	now   int64
}

func (g *markGen) next() MarkInput {
	iv, r := g.sym.FundingIntervalMs, g.rng
	g.index = min(max(g.index+book.Ticks(r.IntN(201)-100), 1), g.sym.MaxPrice)
	in := MarkInput{Index: g.index, NowMs: g.now}
	if r.IntN(8) > 0 {
		in.ImpactBid = g.index + book.Ticks(r.IntN(1201)-600)
	}
	if r.IntN(8) > 0 {
		in.ImpactAsk = g.index + book.Ticks(r.IntN(1201)-600)
	}
	switch k := r.IntN(100); {
	case k < 25: // same millisecond
	case k < 65:
		in.NowMs += 1 + r.Int64N(5000)
	case k < 85:
		in.NowMs += r.Int64N(iv)
	case k < 95:
		in.NowMs += r.Int64N(3 * iv)
	case k < 97:
		in.NowMs -= 1 + r.Int64N(1000) // refused
	case k < 98:
		in.Index = g.sym.MaxPrice + 1 // refused
	default:
		in.ImpactBid = -1 // refused
	}
	g.now = max(g.now, in.NowMs)
	return in
}

func mustDecodeMark(t testing.TB, sym *Symbol, p []byte) *MarkState {
	t.Helper()
	m, rest, err := DecodeMarkSnapshot(sym, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left over", len(rest))
	}
	return m
}

// TestMarkSnapshotRoundTrip: a MarkState decoded from a snapshot goes on
// exactly as the one it was taken of: the same further inputs give the same
// updates (marks, premiums, funding rates, due payments) and errors at
// every step. At each new snapshot the copy, run side by side since the
// last one, must encode to the original's bytes. The live state passes
// check at every step, so check refuses nothing Update can produce.
func TestMarkSnapshotRoundTrip(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	for _, sym := range snapSymbols(t) {
		for seed := range uint64(3) {
			t.Run(fmt.Sprint(sym.Name, "/seed", seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 0x3a2c))
				start := rng.Int64N(4*sym.FundingIntervalMs) - 2*sym.FundingIntervalMs
				g := &markGen{rng: rng, sym: sym, index: sym.MaxPrice / 3, now: start}
				orig := NewMarkState(sym, start)
				var cp *MarkState
				var paid, cpPaid Money // funding paid by a long of 1 000 lots
				payments, refused := 0, 0
				for step := range n {
					if step%499 == 0 || rng.IntN(300) == 0 {
						snap := orig.AppendSnapshot(nil)
						if cp != nil && !bytes.Equal(cp.AppendSnapshot(nil), snap) {
							t.Fatalf("step %d: the copy encodes differently from the original", step)
						}
						cp = mustDecodeMark(t, sym, snap)
					}
					in := g.next()
					u, err := orig.Update(in)
					cu, cerr := cp.Update(in)
					if u != cu || fmt.Sprint(err) != fmt.Sprint(cerr) {
						t.Fatalf("step %d: %+v: original %+v %v, copy %+v %v", step, in, u, err, cu, cerr)
					}
					if err != nil {
						refused++
					}
					if u.Due {
						payments++
						paid += sym.Value(u.Mark, 1000).MulRate(u.DueRate, true)
						cpPaid += sym.Value(cu.Mark, 1000).MulRate(cu.DueRate, true)
					}
					if err := orig.check(); err != nil {
						t.Fatalf("step %d: %+v: live state: %v", step, in, err)
					}
					if orig.Last() != cp.Last() || paid != cpPaid {
						t.Fatalf("step %d: last %+v / %+v, paid %d / %d", step, orig.Last(), cp.Last(), paid, cpPaid)
					}
				}
				if sym.Funding && payments < 10 || refused < n/100 {
					t.Fatalf("weak generator: %d payments, %d refused", payments, refused)
				}
				t.Logf("%d inputs, %d refused, %d payments (%v)", n, refused, payments, paid)
			})
		}
	}
}

// markSnap is a real state of a few hundred random inputs.
func markSnap(sym *Symbol, seed uint64) *MarkState {
	rng := rand.New(rand.NewPCG(seed, 7))
	g := &markGen{rng: rng, sym: sym, index: sym.MaxPrice / 3, now: 1_700_000_000_000}
	m := NewMarkState(sym, g.now)
	for range 300 {
		_, _ = m.Update(g.next()) // refusals change nothing
	}
	return m
}

// checkDecodedMark is the property of any input: DecodeMarkSnapshot refuses
// it with ErrSnapshot, or returns a sound state that is the input's one
// encoding and keeps working through inputs over the next intervals.
func checkDecodedMark(t *testing.T, sym *Symbol, p []byte) {
	t.Helper()
	m, rest, err := DecodeMarkSnapshot(sym, p)
	switch {
	case errors.Is(err, ErrSnapshot):
		return
	case err != nil:
		t.Fatalf("error %v does not wrap ErrSnapshot", err)
	case m.check() != nil:
		t.Fatalf("decoded a state that fails check: %v", m.check())
	case !bytes.Equal(m.AppendSnapshot(nil), p[:len(p)-len(rest)]):
		t.Fatalf("%x is not the one encoding of its state", p[:len(p)-len(rest)])
	}
	now := m.lastMs
	for _, dt := range []int64{0, 1, sym.FundingIntervalMs / 2, sym.FundingIntervalMs, 3 * sym.FundingIntervalMs} {
		if now > math.MaxInt64-2*dt-sym.FundingIntervalMs {
			break // near the end of time funding times overflow, decoded or not
		}
		now += dt
		for _, idx := range []book.Ticks{1, sym.MaxPrice / 2, sym.MaxPrice} {
			if _, err := m.Update(MarkInput{Index: idx, ImpactBid: idx * 2, ImpactAsk: idx / 2, NowMs: now}); err != nil {
				t.Fatalf("update at %d: %v", now, err)
			}
			if err := m.check(); err != nil {
				t.Fatalf("after an update at %d: %v", now, err)
			}
		}
	}
}

// TestMarkSnapshotDamage: every truncation is refused; every single bit
// flip is refused or decodes to a sound state.
func TestMarkSnapshotDamage(t *testing.T) {
	for _, sym := range snapSymbols(t) {
		snap := markSnap(sym, 1).AppendSnapshot(nil)
		for i := range len(snap) {
			if _, _, err := DecodeMarkSnapshot(sym, snap[:i]); !errors.Is(err, ErrSnapshot) {
				t.Fatalf("%s: truncated to %d of %d bytes: %v", sym.Name, i, len(snap), err)
			}
		}
		decoded := 0
		for bit := range 8 * len(snap) {
			p := slices.Clone(snap)
			p[bit/8] ^= 1 << (bit % 8)
			checkDecodedMark(t, sym, p)
			if _, _, err := DecodeMarkSnapshot(sym, p); err == nil {
				decoded++
			}
		}
		t.Logf("%s: %d of %d bit flips decode", sym.Name, decoded, 8*len(snap))
	}
}

func TestMarkSnapshotRefusals(t *testing.T) {
	syms := snapSymbols(t)
	btc, minute, off := syms[0], syms[1], syms[2]
	eth := DemoSymbols()[1]
	snap := markSnap(btc, 2).AppendSnapshot(nil)
	renamed := *btc
	renamed.Name = "BTC-PERQ"
	longer := *minute
	longer.FundingIntervalMs *= 2
	for _, c := range []struct {
		name string
		sym  *Symbol
		p    []byte
		want string
	}{
		{"no symbol", nil, snap, "no symbol"},
		{"magic", btc, append([]byte("PXBK"), snap[4:]...), "not a mark snapshot"},
		{"version", btc, append([]byte("PXMK\x02"), snap[5:]...), "version 2"},
		{"another symbol", eth, snap, `snapshot of "BTC-PERP", symbol ETH-PERP`},
		{"same length, another name", &renamed, snap, `snapshot of "BTC-PERP"`},
		{"another interval", &longer, markSnap(minute, 2).AppendSnapshot(nil), "funding 1 every 60000 ms, symbol MIN-PERP: true every 120000 ms"},
		{"funding switched off", off, append([]byte("PXMK\x01\x03OFF"), snap[14:]...), "funding 1 every 28800000 ms, symbol OFF: false every 28800000 ms"},
		{"non-minimal name length", btc, append([]byte("PXMK\x01\x88\x00"), snap[6:]...), "bad name length"},
	} {
		_, _, err := DecodeMarkSnapshot(c.sym, c.p)
		if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func FuzzDecodeMarkSnapshot(f *testing.F) {
	syms := snapSymbols(f)
	for i, sym := range syms {
		f.Add(uint8(i), NewMarkState(sym, 0).AppendSnapshot(nil))
		for seed := range uint64(3) {
			f.Add(uint8(i), markSnap(sym, seed).AppendSnapshot(nil))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, p []byte) {
		checkDecodedMark(t, syms[int(which)%len(syms)], p)
	})
}
