package fund

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// fundWalk drives a fund through seeded random operations. Each operation
// is drawn from the original fund's state and returned as a function, so
// the very same call can be applied to the original and to its decoded
// copy; the function returns everything the call returned.
type fundWalk struct {
	rng    *rand.Rand
	assets []string
	now    int64
	next   ReservationID
}

func newFundWalk(seed uint64) *fundWalk {
	return &fundWalk{rng: rand.New(rand.NewPCG(seed, 5)), assets: []string{"USDT", "USDC", "BTC"}, now: 1_700_000_000_000, next: 1}
}

// open returns a random open reservation of f, or NoReservation.
func (w *fundWalk) open(f *Fund) ReservationID {
	ids := slices.Sorted(func(yield func(ReservationID) bool) {
		for id := range f.res {
			if !yield(id) {
				return
			}
		}
	})
	if len(ids) == 0 {
		return NoReservation
	}
	return ids[w.rng.IntN(len(ids))]
}

func (w *fundWalk) op(f *Fund) (string, func(*Fund) []any) {
	r := w.rng
	// Mostly forward by up to a day, sometimes back by up to three days.
	w.now += r.Int64N(msPerDay) - msPerDay/20
	if r.IntN(40) == 0 {
		w.now -= 3 * msPerDay
	}
	now, asset := w.now, w.assets[r.IntN(len(w.assets))]
	amount := market.Money(r.Int64N(int64(usdt(500))))
	switch n := r.IntN(100); {
	case n < 15:
		if r.IntN(20) == 0 {
			amount = -amount
		}
		return "deposit", func(x *Fund) []any {
			e, err := x.Deposit(asset, amount, now)
			return []any{e, err}
		}
	case n < 40:
		id := w.next
		w.next++
		if r.IntN(20) == 0 {
			id = w.open(f) // a duplicate (or 0)
		}
		return "reserve", func(x *Fund) []any {
			got, err := x.Reserve(id, asset, amount)
			return []any{got, err}
		}
	case n < 80:
		id := w.open(f)
		s := Settlement{Asset: asset, Account: book.AccountID(1 + r.Uint64N(5)), Symbol: []string{"BTC-PERP", "ETH-PERP", ""}[r.IntN(3)], TimeMs: now,
			PnL: amount - usdt(350), Fee: market.Money(r.Int64N(int64(usdt(3)))), Volume: usdt(1000)}
		if id != NoReservation && r.IntN(10) != 0 {
			s.Asset = f.res[id].asset
		}
		if r.IntN(15) == 0 {
			id = w.next + 1000 // unknown
		}
		return "settle", func(x *Fund) []any {
			out, err := x.Settle(id, s)
			return []any{out, err}
		}
	default:
		id := w.open(f)
		if r.IntN(10) == 0 {
			id = w.next + 1000
		}
		return "release", func(x *Fund) []any {
			back, err := x.Release(id)
			return []any{back, err}
		}
	}
}

// observe is everything the fund shows but the whole history and the days
// (compared apart, faster); back picks the catch-up point.
func (w *fundWalk) observe(x *Fund, back uint64) []any {
	out := []any{x.Assets(), x.History(nil, 3), x.Since(x.seq-min(back, x.seq), nil), x.Check()}
	for _, a := range w.assets {
		d, ok := x.Day(a, DayOf(w.now))
		out = append(out, x.Balance(a), x.Reserved(a), x.Available(a), x.Lifetime(a), d, ok)
	}
	return out
}

func sameAnswers(t *testing.T, step int, what string, x, y []any) {
	t.Helper()
	a, b := fmt.Sprintf("%+v", x), fmt.Sprintf("%+v", y)
	if a != b {
		i := 0
		for i < min(len(a), len(b)) && a[i] == b[i] {
			i++
		}
		t.Fatalf("step %d %s: the copy differs at byte %d\noriginal …%.300s\ncopy     …%.300s", step, what, i, a[max(i-100, 0):], b[max(i-100, 0):])
	}
}

// fundRoundTrip decodes f's snapshot followed by other bytes, and checks
// the copy encodes to the same snapshot.
func fundRoundTrip(t *testing.T, f *Fund) *Fund {
	t.Helper()
	enc := f.AppendSnapshot([]byte("prefix"))[len("prefix"):]
	c, rest, err := DecodeSnapshot(append(enc, "next"...))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if string(rest) != "next" {
		t.Fatalf("rest %q", rest)
	}
	if again := c.AppendSnapshot(nil); !bytes.Equal(again, enc) {
		t.Fatal("the copy encodes differently")
	}
	return c
}

// TestSnapshotContinuesExactly: after a random history, a fund and its
// decoded copy answer the same random operations identically at every step
// (every return value, balances, reservations, history, daily and lifetime
// totals), and encode to the same bytes; the copy is re-snapshotted from
// time to time (with reservations in flight, a wrapped history ring,
// dropped days).
func TestSnapshotContinuesExactly(t *testing.T) {
	var wrapped, inflight, snaps int
	for seed := uint64(1); seed <= 8; seed++ {
		w := newFundWalk(seed)
		cfg, steps := Config{HistoryCap: 1 + w.rng.IntN(60), DailyCap: 1 + w.rng.IntN(6)}, 3000
		if seed == 1 { // the defaults: a long history to compare every step
			cfg, steps = Config{}, 600
		}
		f := mustNew(t, cfg)
		for range 200 {
			_, op := w.op(f)
			op(f)
		}
		c := fundRoundTrip(t, f)
		for step := range steps {
			what, op := w.op(f)
			sameAnswers(t, step, what, op(f), op(c))
			if back := w.rng.Uint64N(16); back < 8 {
				sameAnswers(t, step, what+" then observe", w.observe(f, back), w.observe(c, back))
			}
			mustCheck(t, f)
			mustCheck(t, c)
			if !slices.Equal(f.History(nil, 0), c.History(nil, 0)) || !slices.Equal(f.Since(0, nil), c.Since(0, nil)) {
				t.Fatalf("seed %d step %d %s: histories differ", seed, step, what)
			}
			for _, a := range w.assets {
				if !slices.Equal(f.Days(a, nil), c.Days(a, nil)) {
					t.Fatalf("seed %d step %d %s: %s days differ", seed, step, what, a)
				}
			}
			if !bytes.Equal(f.AppendSnapshot(nil), c.AppendSnapshot(nil)) {
				t.Fatalf("seed %d step %d %s: snapshots differ", seed, step, what)
			}
			if w.rng.IntN(25) == 0 {
				c = fundRoundTrip(t, c)
				snaps++
				if f.seq > uint64(f.hist.Len()) {
					wrapped++
				}
				if len(f.res) > 0 {
					inflight++
				}
			}
		}
	}
	t.Logf("%d snapshots: %d of a wrapped ring, %d with reservations in flight", snaps, wrapped, inflight)
	if wrapped == 0 || inflight == 0 {
		t.Error("the walk is too tame")
	}
}

// fundSeeds are real snapshots: new, and along a walk with small caps.
func fundSeeds(tb testing.TB) [][]byte {
	f, _ := New(Config{HistoryCap: 8, DailyCap: 3})
	out := [][]byte{f.AppendSnapshot(nil)}
	w := newFundWalk(77)
	for i := range 120 {
		_, op := w.op(f)
		op(f)
		if i%20 == 5 {
			out = append(out, f.AppendSnapshot(nil))
		}
	}
	return out
}

// TestSnapshotDamage: every truncation is refused; every single bit flip
// is refused or decodes to a fund that passes Check and encodes back to
// the flipped bytes (the encoding is canonical).
func TestSnapshotDamage(t *testing.T) {
	for _, enc := range fundSeeds(t) {
		for n := range len(enc) {
			if _, _, err := DecodeSnapshot(enc[:n]); !errors.Is(err, ErrSnapshot) {
				t.Fatalf("%d of %d bytes: %v", n, len(enc), err)
			}
		}
		for i := range len(enc) * 8 {
			p := bytes.Clone(enc)
			p[i/8] ^= 1 << (i % 8)
			checkDecodedFund(t, p)
		}
	}
	enc := fundSeeds(t)[1]
	enc[4]++
	if _, _, err := DecodeSnapshot(enc); !errors.Is(err, ErrSnapshotVersion) {
		t.Fatalf("version 2: %v", err)
	}
}

// checkDecodedFund decodes p: an error must be one of the package's; a fund
// must pass Check, encode back to the bytes it came from and survive being
// used.
func checkDecodedFund(t *testing.T, p []byte) {
	f, rest, err := DecodeSnapshot(p)
	if err != nil {
		if !errors.Is(err, ErrSnapshot) && !errors.Is(err, ErrSnapshotVersion) {
			t.Fatalf("foreign error %v", err)
		}
		return
	}
	mustCheck(t, f)
	enc := f.AppendSnapshot(nil)
	if p[4] == 1 {
		// Version 1 re-encodes as version 2: that must decode to a fund
		// that encodes the same again.
		g, rest2, err := DecodeSnapshot(enc)
		if err != nil || len(rest2) != 0 || !bytes.Equal(g.AppendSnapshot(nil), enc) {
			t.Fatalf("version 1 re-encoded as 2 does not round-trip: %v", err)
		}
	} else if !bytes.Equal(enc, p[:len(p)-len(rest)]) {
		t.Fatalf("decoded fund encodes differently")
	}
	f.History(nil, 0)
	f.Since(f.seq/2, nil)
	for i, a := range f.Assets() {
		id := ReservationID(1<<63 + uint64(i))
		f.Deposit(a, 1, 0)
		f.Reserve(id, a, 10)
		f.Settle(id, Settlement{Asset: a, PnL: -20, TimeMs: -msPerDay})
		f.Release(id)
	}
	mustCheck(t, f)
}

func FuzzDecodeFundSnapshot(f *testing.F) {
	for _, s := range fundSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkDecodedFund)
}

// TestResize: new caps keep the newest events and days; a fund whose cap
// grew past what it kept still round-trips, and goes on recording.
func TestResize(t *testing.T) {
	f, _ := New(Config{HistoryCap: 4, DailyCap: 3})
	for d := range int64(6) {
		if _, err := f.Deposit("USDT", market.Money(d+1), d*msPerDay); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Resize(Config{HistoryCap: 2, DailyCap: 2}); err != nil {
		t.Fatal(err)
	}
	h := f.History(nil, 0)
	if len(h) != 2 || h[0].Seq != 5 || h[1].Seq != 6 || h[1].Balance != 21 {
		t.Fatalf("history after shrinking %+v", h)
	}
	if days := f.Days("USDT", nil); len(days) != 2 || days[0].Day != 4 || days[1].Day != 5 {
		t.Fatalf("days after shrinking %+v", days)
	}
	if err := f.Resize(Config{HistoryCap: 10}); err != nil {
		t.Fatal(err)
	}
	c := fundRoundTrip(t, f)
	if _, err := c.Deposit("USDT", 7, 6*msPerDay); err != nil {
		t.Fatal(err)
	}
	h = c.History(nil, 0)
	if len(h) != 3 || h[0].Seq != 5 || h[2].Seq != 7 || h[2].Balance != 28 || len(c.Days("USDT", nil)) != 3 {
		t.Fatalf("after growing, a round trip and a deposit: %+v", h)
	}
	if err := f.Resize(Config{HistoryCap: -1}); err == nil {
		t.Fatal("a negative cap was taken")
	}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotVersion1: a snapshot written before the totals had the ADL
// count (version 1) still loads, with ADL 0, and is written back as
// version 2.
func TestSnapshotVersion1(t *testing.T) {
	// A fund with a 1000 deposit on day 2 and a liquidation paying 60 + 5 on
	// day 3, encoded by the version-1 build.
	v1, _ := hex.DecodeString("50584655010a000000000000000500000000000000030000000000000001045553445429040000000000000100000000000000f40b000000000000e8030000000000003c0000000000000005000000000000000000000000000000000000000000000002020000000000000000000000000000000000000000000000e803000000000000000000000000000000000000000000000000000000000000000000000000000003000000000000000100000000000000f40b00000000000000000000000000003c00000000000000050000000000000000000000000000000000000000000000000300b84c0a0000000000e803000000000000010000000000000000000014730f00000000000500000000000000030700000000000000084254432d504552500014730f00000000003c00000000000000020700000000000000084254432d50455250")
	f, rest, err := DecodeSnapshot(v1)
	if err != nil || len(rest) != 0 {
		t.Fatalf("version 1: %v, %d bytes left", err, len(rest))
	}
	days := f.Days("USDT", nil)
	if f.Balance("USDT") != 1065 || len(days) != 2 || days[1].Surplus != 60 || days[1].Fees != 5 || days[1].Liquidations != 1 || days[1].ADL != 0 {
		t.Fatalf("balance %d, days %+v", f.Balance("USDT"), days)
	}
	f.RecordADL("USDT", 3*msPerDay)
	c := fundRoundTrip(t, f)
	if d, _ := c.Day("USDT", 3); d.ADL != 1 || c.Lifetime("USDT").ADL != 1 || c.AppendSnapshot(nil)[4] != snapVersion {
		t.Fatalf("after an ADL and a round trip: %+v", d)
	}
	v1[4] = snapVersion + 1
	if _, _, err := DecodeSnapshot(v1); !errors.Is(err, ErrSnapshotVersion) {
		t.Fatalf("a later version: %v", err)
	}
}
