package liq

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/market"
)

// snapSims are TestSimProperty's worlds, shorter.
func snapSims() []struct {
	seed  uint64
	syms  []symSpec
	quiet map[int]bool
} {
	aaa := symSpec{name: "AAA", tiers: simTiers(), liqFee: "0.01"}
	bbb := symSpec{name: "BBB", tiers: simTiers(), maker: "0.0002", taker: "0.0005", liqFee: "0.005"}
	soc := symSpec{name: "SOC", socialized: true, tiers: simTiers(), maker: "-0.0001", taker: "0.0004", liqFee: "0.008"}
	aaaF, socF := aaa, soc
	aaaF.funding, socF.funding = true, true
	return []struct {
		seed  uint64
		syms  []symSpec
		quiet map[int]bool
	}{
		{1, []symSpec{aaa, bbb, soc}, nil},
		{3, []symSpec{aaa, soc}, map[int]bool{0: true}},
		{5, []symSpec{bbb, soc, aaa}, map[int]bool{1: true}},
		{6, []symSpec{soc, bbb}, map[int]bool{0: true}},
		// Deferred closes: since a flip's opening part is held to the mark
		// (risk.WouldLiquidate), the walks above meet none.
		{14, []symSpec{aaa, bbb, soc}, nil},
		// Funding times: legs' payments waiting for an order or a round.
		{7, []symSpec{aaaF, socF}, map[int]bool{0: true}},
	}
}

// symbolsOf resolves the world's symbols by name.
func symbolsOf(syms []*market.Symbol) func(string) *market.Symbol {
	byName := make(map[string]*market.Symbol, len(syms))
	for _, s := range syms {
		byName[s.Name] = s
	}
	return func(name string) *market.Symbol { return byName[name] }
}

// snapRun runs a sim of steps steps; with swap > 0, after each step it
// replaces each live machine, with probability 1/swap, by the copy its
// snapshot decodes to (checking the copy re-encodes to the same bytes),
// and hands every snapshot to keep. It returns the world's final hash.
func snapRun(t testing.TB, seed uint64, specs []symSpec, quiet map[int]bool, steps, swap int, keep func([]byte)) (string, stats) {
	var syms []*market.Symbol
	for _, s := range specs {
		syms = append(syms, compile(t, s))
	}
	lookup := symbolsOf(syms)
	s := newSim(t, seed, syms)
	s.quietSyms = quiet
	pick := rand.New(rand.NewPCG(seed, 77)) // not the world's: the swaps must not change its course
	var buf []byte
	swapAll := func() {
		for _, a := range s.accts {
			m := a.m
			if m == nil || swap == 0 || (pick.IntN(swap) != 0 && !hasDeferred(m)) {
				continue
			}
			if err := m.SnapshotReady(); err != nil {
				s.fatalf("%s: %v", a.name, err)
			}
			buf = m.AppendSnapshot(buf[:0])
			if keep != nil {
				keep(append([]byte(nil), buf...))
			}
			m2, rest, err := DecodeSnapshot(buf, lookup, s.cfg)
			if err != nil || len(rest) != 0 {
				s.fatalf("%s: decode: %v (%d bytes left)\n%s", a.name, err, len(rest), m.Describe())
			}
			if again := m2.AppendSnapshot(nil); string(again) != string(buf) {
				s.fatalf("%s: the decoded machine encodes to other bytes\n%s\n%s", a.name, m.Describe(), m2.Describe())
			}
			if m2.Describe() != m.Describe() {
				s.fatalf("%s: decoded\n%s\nof\n%s", a.name, m2.Describe(), m.Describe())
			}
			a.m = m2
			for i := range s.machines {
				if s.machines[i] == m {
					s.machines[i] = m2
				}
			}
		}
	}
	s.afterStep = swapAll
	s.run(steps)
	h := sha256.New()
	var b []byte
	for _, a := range s.accts {
		b = a.r.AppendSnapshot(b[:0])
		h.Write(b)
	}
	for i := range s.syms {
		h.Write(s.books[i].AppendSnapshot(b[:0]))
		h.Write(s.ranks[i].AppendSnapshot(b[:0]))
	}
	h.Write(s.fund.AppendSnapshot(b[:0]))
	for _, m := range s.machines {
		h.Write(m.AppendSnapshot(b[:0]))
	}
	fmt.Fprint(h, s.fees)
	return fmt.Sprintf("%x", h.Sum(nil)), s.st
}

// hasDeferred: the rare machines holding deferred closes are swapped at
// every step.
func hasDeferred(m *Machine) bool {
	for i := range m.Legs {
		if len(m.Legs[i].deferred) > 0 {
			return true
		}
	}
	return false
}

// TestSnapshotSwapGoesOnAsTheOriginal: in the property test's worlds,
// machines replaced at random points by the copies their snapshots decode
// to run to the very same end: accounts, books, rankings, fund, fees,
// machines and every stat.
func TestSnapshotSwapGoesOnAsTheOriginal(t *testing.T) {
	steps := 15_000
	if testing.Short() {
		steps = 3000
	}
	// seen counts the swapped machines by what they were in the middle of.
	seen := map[string]int{}
	for _, r := range snapSims() {
		t.Run(fmt.Sprintf("seed%d", r.seed), func(t *testing.T) {
			var syms []*market.Symbol
			for _, s := range r.syms {
				syms = append(syms, compile(t, s))
			}
			lookup := symbolsOf(syms)
			n := 0
			want, wst := snapRun(t, r.seed, r.syms, r.quiet, steps, 0, nil)
			got, gst := snapRun(t, r.seed, r.syms, r.quiet, steps, 20, func(p []byte) {
				n++
				m, _, err := DecodeSnapshot(p, lookup, Config{})
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range map[string]bool{"set-asides due": m.quotes > 0, "several legs": len(m.Legs) > 1, "unreserved": !m.reserved} {
					if v {
						seen[k]++
					}
				}
				for i := range m.Legs {
					g := &m.Legs[i]
					for k, v := range map[string]bool{"IOC in the book": g.order != 0, "ADL asked": g.asked && !g.planned,
						"ADL planned": g.asked && g.planned, "deferred closes": len(g.deferred) > 0, "ADL idle": g.idle > 0,
						"socializing": g.social.asked, "set aside": g.social.quoted, "funding waiting": g.funding != 0, "funding kept or passed on": g.kept != 0 || g.adjusting > 0,
						"closers noted": len(g.closers) > 0} {
						if v {
							seen[k]++
						}
					}
				}
			})
			if got != want || gst != wst {
				t.Fatalf("with %d swaps: hash %s, stats %s\nwithout: hash %s, stats %s", n, got, gst, want, wst)
			}
			if n < 50 {
				t.Fatalf("only %d swaps", n)
			}
			t.Logf("%d swaps; %s", n, gst)
		})
	}
	t.Logf("swapped machines: %v", seen)
	for _, k := range []string{"set-asides due", "several legs", "unreserved", "IOC in the book", "ADL asked", "ADL planned",
		"deferred closes", "ADL idle", "socializing", "set aside", "funding waiting", "funding kept or passed on", "closers noted"} {
		if seen[k] == 0 && !t.Failed() && !testing.Short() { // -short's steps are too few to reach each
			t.Errorf("no machine swapped with %s", k)
		}
	}
}

// realSnapshots returns varied snapshots from a short sim: the longest,
// and some with deferred closes, several legs, a socialized round.
func realSnapshots(tb testing.TB) ([][]byte, func(string) *market.Symbol) {
	r := snapSims()[0]
	var syms []*market.Symbol
	for _, s := range r.syms {
		syms = append(syms, compile(tb, s))
	}
	lookup := symbolsOf(syms)
	var out [][]byte
	seen := map[string]bool{}
	snapRun(tb, r.seed, r.syms, r.quiet, 1500, 10, func(p []byte) {
		m, _, err := DecodeSnapshot(p, lookup, Config{})
		if err != nil {
			tb.Fatal(err)
		}
		var kind string
		for i := range m.Legs {
			g := &m.Legs[i]
			kind += fmt.Sprintf("%d%v%v%v%v%v%v|", len(m.Legs), len(g.deferred) > 0, g.asked, g.planned, g.social.asked, g.order != 0, m.settled)
		}
		if !seen[kind] {
			seen[kind] = true
			out = append(out, p)
		}
	})
	if len(out) < 5 {
		tb.Fatalf("only %d kinds of snapshots", len(out))
	}
	return out, lookup
}

// TestSnapshotDamage: every truncation is refused; every single bit flip is
// refused or decodes to a machine that encodes to the flipped bytes.
func TestSnapshotDamage(t *testing.T) {
	snaps, lookup := realSnapshots(t)
	t.Logf("%d snapshots, %d to %d bytes", len(snaps), len(snaps[0]), len(snaps[len(snaps)-1]))
	for _, snap := range snaps {
		for n := range len(snap) {
			if _, _, err := DecodeSnapshot(snap[:n], lookup, Config{Retry: 1}); err == nil {
				t.Fatalf("truncated to %d of %d: decoded", n, len(snap))
			}
		}
		p := append([]byte(nil), snap...)
		for i := range len(p) * 8 {
			p[i/8] ^= 1 << (i % 8)
			checkDecoded(t, p, lookup)
			p[i/8] ^= 1 << (i % 8)
		}
	}
}

// checkDecoded: p is refused with one of the package's errors, or decodes
// to a machine that encodes to what it consumed.
func checkDecoded(t *testing.T, p []byte, lookup func(string) *market.Symbol) {
	m, rest, err := DecodeSnapshot(p, lookup, Config{Retry: 1})
	if err != nil {
		if !errors.Is(err, ErrSnapshot) && !errors.Is(err, ErrSnapshotVersion) {
			t.Fatalf("error %v", err)
		}
		return
	}
	if again := m.AppendSnapshot(nil); string(again) != string(p[:len(p)-len(rest)]) {
		t.Fatalf("decoded %x to a machine encoding to %x", p, again)
	}
}

// TestSnapshotPendingEffects: a machine holding effects Ready has not
// handed out cannot be snapshotted (SnapshotReady, and AppendSnapshot
// panics); once they are, it can. The snapshot decodes with the bytes
// after it left, reads version 1 (no leg funding), and refuses another
// version or an unknown symbol.
func TestSnapshotPendingEffects(t *testing.T) {
	m, sym := seedMachine(t, true)
	lookup := symbolsOf([]*market.Symbol{sym})
	if err := m.Step(Reserved{Amount: usdt("40"), Quotes: []Quote{{Need: usdt("40"), Mark: 3100}}}); err != nil {
		t.Fatal(err)
	}
	if err := m.SnapshotReady(); !errors.Is(err, ErrSnapshotPending) {
		t.Fatalf("with the QuoteSocial pending: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("AppendSnapshot with an effect pending did not panic")
			}
		}()
		m.AppendSnapshot(nil)
	}()
	if len(m.Ready()) != 1 {
		t.Fatal("no QuoteSocial")
	}
	if err := m.SnapshotReady(); err != nil {
		t.Fatal(err)
	}
	p := m.AppendSnapshot(nil)
	buf := make([]byte, 0, 2*len(p))
	if n := testing.AllocsPerRun(10, func() { buf = m.AppendSnapshot(buf[:0]) }); n != 0 {
		t.Errorf("AppendSnapshot into room: %v allocations", n)
	}
	m2, rest, err := DecodeSnapshot(append(p, 7), lookup, m.cfg)
	if err != nil || string(rest) != "\x07" || string(m2.AppendSnapshot(nil)) != string(p) {
		t.Fatalf("decode: %v, rest %x", err, rest)
	}
	for _, v := range []byte{1, 2, 4, 5} {
		p[4] = v
		if _, _, err := DecodeSnapshot(p, lookup, m.cfg); !errors.Is(err, ErrSnapshotVersion) {
			t.Fatalf("version %d: %v", v, err)
		}
	}
	p[4] = snapVersion
	if _, _, err := DecodeSnapshot(p, func(string) *market.Symbol { return nil }, m.cfg); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("unknown symbol: %v", err)
	}
}

// TestSnapshotAbandoned: an abandoned machine's copy absorbs the answers
// still due as the original does.
func TestSnapshotAbandoned(t *testing.T) {
	reserved := Reserved{Amount: usdt("10"), Quotes: []Quote{{Need: usdt("40"), Mark: 3100}}}
	paid := SocialCharged{Leg: 0, Paid: usdt("30"), Asked: usdt("30"), Account: 9, Qty: -2}
	for _, c := range []struct {
		name   string
		before []Input
		after  Input
	}{
		{"before the reservation", nil, reserved},
		{"set-aside asked", []Input{reserved}, SocialCap{Leg: 0, Amount: usdt("500")}},
		{"escrow collecting", []Input{reserved, SocialCap{Leg: 0, Amount: usdt("500")}, SocialPlan{Leg: 0, N: 1}}, paid},
		{"escrow paid", []Input{reserved, SocialCap{Leg: 0, Amount: usdt("500")}, SocialPlan{Leg: 0, N: 1}, paid}, IOCDone{ID: 101}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, sym := seedMachine(t, true)
			for _, in := range c.before {
				if err := m.Step(in); err != nil {
					t.Fatal(err)
				}
				m.Ready()
			}
			m.Abandon()
			p := m.AppendSnapshot(nil)
			m2, _, err := DecodeSnapshot(p, symbolsOf([]*market.Symbol{sym}), m.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got [2]string
			for i, x := range []*Machine{m, m2} {
				if err := x.Step(c.after); err != nil {
					t.Fatal(err)
				}
				for _, e := range x.Ready() {
					got[i] += fmt.Sprintf("%T%+v ", e, e)
				}
				got[i] += string(x.AppendSnapshot(nil))
			}
			if got[0] != got[1] {
				t.Fatalf("the copy answered %q, the original %q", got[1], got[0])
			}
		})
	}
}

func FuzzDecodeSnapshot(f *testing.F) {
	snaps, lookup := realSnapshots(f)
	for _, p := range snaps {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		checkDecoded(t, p, lookup)
	})
}
