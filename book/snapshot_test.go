package book

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func mustDecode(t testing.TB, p []byte) *Book {
	t.Helper()
	b, rest, err := DecodeBookSnapshot(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left over", len(rest))
	}
	if err := b.Check(); err != nil {
		t.Fatalf("decoded book: %v", err)
	}
	return b
}

// TestSnapshotRoundTrip: a book decoded from a snapshot goes on exactly as
// the one it was taken of. The random commands (places of every kind,
// cancels, amends, fills, self-trades in every STP mode) run on the
// original, which the harness checks against the reference book, and on
// the copy, whose results, depth and hash must be the same at every step.
// At each new snapshot the copy, run side by side since the last one, must
// encode to the original's bytes (state the hash does not cover included).
func TestSnapshotRoundTrip(t *testing.T) {
	eachSeed(t, 0x5a9, 20_000, func(t *testing.T, h *harness, g *gen, n int) {
		var cp *Book
		var r Result
		var bids, asks []Level
		snaps, maxLen := 0, 0
		for step := range n {
			if step%997 == 0 {
				snap := h.b.AppendSnapshot(nil)
				if cp != nil && !bytes.Equal(cp.AppendSnapshot(nil), snap) {
					t.Fatalf("step %d: the copy encodes differently from the original", step)
				}
				cp = mustDecode(t, snap)
				snaps, maxLen = snaps+1, max(maxLen, h.b.Len())
			}
			c := g.next()
			h.do(c)
			apply(cp, &c, &r)
			if err := sameOutcome(&r, &h.r, "original"); err != nil || !slices.Equal(r.Depth, h.r.Depth) {
				t.Fatalf("step %d: %s: copy: %v, depth changes %v, original %v", step, c, err, r.Depth, h.r.Depth)
			}
			if err := cp.Check(); err != nil {
				t.Fatalf("step %d: copy: %v", step, err)
			}
			bids, asks = cp.Depth(0, bids, asks)
			if cp.StateHash() != h.b.StateHash() || !slices.Equal(bids, h.bids) || !slices.Equal(asks, h.asks) {
				t.Fatalf("step %d: %s: copy's depth or hash differs", step, c)
			}
		}
		t.Logf("%d snapshots, up to %d resting orders", snaps, maxLen)
	})
}

// snapBook is a real book of a few hundred random commands.
func snapBook(t testing.TB, seed uint64, steps int) *Book {
	h := newHarness(t)
	g := h.newGen(seed, 1)
	for range steps {
		h.do(g.next())
	}
	return h.b
}

func TestSnapshotsConcatenate(t *testing.T) {
	a, b := snapBook(t, 1, 300), New()
	p := b.AppendSnapshot(a.AppendSnapshot(nil))
	p = append(p, "tail"...)
	for _, want := range []*Book{a, b} {
		got, rest, err := DecodeBookSnapshot(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.StateHash() != want.StateHash() || got.Len() != want.Len() {
			t.Fatal("decoded book differs")
		}
		p = rest
	}
	if string(p) != "tail" {
		t.Fatalf("rest %q", p)
	}
}

// checkDecoded is the property of any input: DecodeBookSnapshot refuses it
// with ErrSnapshot, or returns a book that passes Check, is the input's
// one encoding and keeps working (sweeping both sides empties it).
func checkDecoded(t *testing.T, p []byte) {
	t.Helper()
	b, rest, err := DecodeBookSnapshot(p)
	if err != nil {
		if !errors.Is(err, ErrSnapshot) {
			t.Fatalf("error %v does not wrap ErrSnapshot", err)
		}
		return
	}
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	if enc := b.AppendSnapshot(nil); !bytes.Equal(enc, p[:len(p)-len(rest)]) {
		t.Fatalf("re-encoded to %x, input %x", enc, p[:len(p)-len(rest)])
	}
	var r Result
	for _, s := range []Side{Buy, Sell} {
		price := Ticks(math.MaxInt64)
		if s == Sell {
			price = 1
		}
		// Each level's total fits int64, a side's need not: sweep until a
		// sweep fills nothing.
		for n := b.Len(); n >= 0; n-- {
			b.Place(Order{ID: math.MaxUint64, Account: math.MaxUint64, Side: s, TIF: IOC, Price: price, Qty: math.MaxInt64}, &r)
			if err := b.Check(); err != nil {
				t.Fatalf("after a sweep of the %v side: %v", s.Opposite(), err)
			}
			if r.Filled < math.MaxInt64 {
				break
			}
		}
	}
	if b.Len() != 0 {
		t.Fatalf("%d orders left after sweeping both sides", b.Len())
	}
}

// TestSnapshotDamage: every truncation is refused; every single bit flip is
// refused or decodes to a sound book.
func TestSnapshotDamage(t *testing.T) {
	b := snapBook(t, 2, 400)
	snap := b.AppendSnapshot(nil)
	if b.Len() < 10 {
		t.Fatalf("only %d orders", b.Len())
	}
	for i := range len(snap) {
		if _, _, err := DecodeBookSnapshot(snap[:i]); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("truncated to %d of %d bytes: %v", i, len(snap), err)
		}
	}
	decoded := 0
	for bit := range 8 * len(snap) {
		p := slices.Clone(snap)
		p[bit/8] ^= 1 << (bit % 8)
		checkDecoded(t, p)
		if _, _, err := DecodeBookSnapshot(p); err == nil {
			decoded++
		}
	}
	t.Logf("%d bytes, %d orders: %d of %d bit flips decode", len(snap), b.Len(), decoded, 8*len(snap))
}

// TestSnapshotRefusals edits one field of a two-order snapshot at a time.
func TestSnapshotRefusals(t *testing.T) {
	b := New()
	var r Result
	b.Place(buy(1, alice, 99, 2), &r)
	b.Place(sell(2, bob, 101, 3), &r)
	snap := b.AppendSnapshot(nil)
	// Offsets: header 16 (magic 4, version 1, last 8, three one-byte counts);
	// the bid level at 16 (price 8, count 1, then its order: id, account,
	// remaining, filled, flags, client id length); the ask level at 59.
	const bidPrice, bidID, bidRem, bidFilled, bidFlags, askID = 16, 25, 41, 49, 57, 68
	u64 := func(off int, v uint64) func([]byte) []byte {
		return func(p []byte) []byte { binary.LittleEndian.PutUint64(p[off:], v); return p }
	}
	set := func(off int, v byte) func([]byte) []byte { return func(p []byte) []byte { p[off] = v; return p } }
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"magic", set(0, 'X'), "not a book snapshot"},
		{"version", set(4, 2), "version 2"},
		{"negative last price", u64(5, math.MaxUint64), "last price -1"},
		{"fewer orders than levels", set(13, 1), "1 orders on 1+1 levels"},
		{"more orders than the levels hold", func(p []byte) []byte { p[13] = 3; return append(p, make([]byte, 40)...) }, "header says 3"},
		{"crossed", u64(bidPrice, 101), "crossed"},
		{"zero price", u64(bidPrice, 0), "out of order"},
		{"zero id", u64(bidID, 0), "order id 0"},
		{"duplicate id", u64(askID, 1), "order 1 twice"},
		{"zero remaining", u64(bidRem, 0), "remaining 0"},
		{"qty overflow", u64(bidFilled, math.MaxInt64), "filled 9223372036854775807"},
		{"unknown flag", set(bidFlags, 1<<4), "flags"},
		{"client id past the end", set(bidFlags+1, 100), "client id of 100"},
		{"non-minimal uvarint", func(p []byte) []byte { p[bidFlags+1] = 0x80; return slices.Insert(p, bidFlags+2, 0) }, "bad uvarint"},
	} {
		_, _, err := DecodeBookSnapshot(c.edit(slices.Clone(snap)))
		if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if got := mustDecode(t, snap); got.StateHash() != b.StateHash() {
		t.Fatal("the unedited snapshot differs")
	}
}

func FuzzDecodeBookSnapshot(f *testing.F) {
	f.Add(New().AppendSnapshot(nil))
	for seed, steps := range []int{20, 100, 400} {
		snap := snapBook(f, uint64(seed), steps).AppendSnapshot(nil)
		f.Add(snap)
		f.Add(append(slices.Clone(snap), 0, 1, 2))
	}
	f.Fuzz(checkDecoded)
}

// BenchmarkBookSnapshot encodes and decodes a book of 100 000 resting
// orders (1 000 levels a side, 12-byte client ids).
func BenchmarkBookSnapshot(b *testing.B) {
	const n = 100_000
	bk := New()
	var r Result
	for i := range n {
		side, price := Buy, Ticks(10_000-(i/2)%1000)
		if i%2 == 1 {
			side, price = Sell, Ticks(10_001+(i/2)%1000)
		}
		bk.Place(Order{ID: OrderID(i + 1), Account: AccountID(1 + i%500), ClientID: fmt.Sprintf("cl-%09d", i),
			Side: side, Price: price, Qty: Lots(1 + i%7)}, &r)
	}
	snap := bk.AppendSnapshot(nil)
	perOrder := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/order")
	}
	b.Run("encode", func(b *testing.B) {
		buf := make([]byte, 0, len(snap))
		b.SetBytes(int64(len(snap)))
		b.ReportAllocs()
		cpu := startCPU(b)
		for range b.N {
			buf = bk.AppendSnapshot(buf[:0])
		}
		cpu.stop()
		perOrder(b)
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(snap)))
		b.ReportAllocs()
		cpu := startCPU(b)
		for range b.N {
			if _, _, err := DecodeBookSnapshot(snap); err != nil {
				b.Fatal(err)
			}
		}
		cpu.stop()
		perOrder(b)
	})
}
