package fund

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/internal/ring"
	"github.com/perpx/perpx/market"
)

// A fund snapshot (version 1) holds what the fund needs to go on exactly as
// if it had never stopped; integers are little endian, counts and lengths
// minimal uvarints, so a fund has one encoding:
//
//	magic     [4]byte "PXFU"
//	version   uint8   2 (1: totals without the ADL count)
//	config    uint64 HistoryCap, uint64 DailyCap
//	seq       uint64  the last event's sequence number
//	assets    uvarint, then each asset in name order: name (uvarint length,
//	          bytes), balance int64, lifetime totals, then the kept days:
//	          uvarint count, each (oldest first) day int64 and its totals
//	reserved  uvarint, then each open reservation by ascending id: id
//	          uint64, asset uvarint (its index in the asset list), amount int64
//	history   uvarint (≤ min(seq, HistoryCap): fewer when a Resize grew the
//	          cap), then each kept event, oldest
//	          first: time int64, asset uvarint (index), delta int64, reason
//	          uint8, account uint64, symbol (uvarint length, bytes)
//
// where totals are 8 int64s: liquidations, liquidation volume, deposits,
// surplus, fees, deficits, uncovered, ADL count (7, without it, in version 1). Derived on decode: each asset's
// reserved sum, and each kept event's Seq (the kept events are the last
// ones recorded: dense, ending at seq) and Balance (every balance change is
// an event, so walking back from the asset's balance by the deltas gives
// it); the ring restarts at its oldest event, which it cannot tell apart.
const (
	snapMagic = "PXFU"
	// Version 2 added the ADL count to the totals; version 1 is read too.
	snapVersion = 2
	snapTotals  = 7 * 8 // at least: version 2's are 8 * 8
	// The fewest bytes an asset, a day, a reservation and an event take.
	snapAsset       = 1 + 1 + 8 + snapTotals + 1
	snapDay         = 8 + snapTotals
	snapReservation = 8 + 1 + 8
	snapEvent       = 8 + 1 + 8 + 1 + 8 + 1
)

// Errors of DecodeSnapshot; the error's text says what is wrong.
var (
	// ErrSnapshot: the bytes are not a well-formed fund snapshot, or the
	// fund they describe breaks an invariant (Check).
	ErrSnapshot = errors.New("fund: bad snapshot")
	// ErrSnapshotVersion: a well-marked snapshot of a version this build
	// cannot read.
	ErrSnapshotVersion = errors.New("fund: unsupported snapshot version")
)

// AppendSnapshot appends the fund's snapshot to dst.
func (f *Fund) AppendSnapshot(dst []byte) []byte {
	le := binary.LittleEndian
	str := func(dst []byte, s string) []byte { return append(binary.AppendUvarint(dst, uint64(len(s))), s...) }
	totals := func(dst []byte, t Totals) []byte {
		for _, v := range [...]market.Money{market.Money(t.Liquidations), t.LiquidationVolume, t.Deposits, t.Surplus, t.Fees, t.Deficits, t.Uncovered, market.Money(t.ADL)} {
			dst = le.AppendUint64(dst, uint64(v))
		}
		return dst
	}
	names := f.Assets()
	index := func(name string) uint64 { i, _ := slices.BinarySearch(names, name); return uint64(i) }

	dst = append(dst, snapMagic...)
	dst = append(dst, snapVersion)
	dst = le.AppendUint64(dst, uint64(f.cfg.HistoryCap))
	dst = le.AppendUint64(dst, uint64(f.cfg.DailyCap))
	dst = le.AppendUint64(dst, f.seq)
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, name := range names {
		a := f.assets[name]
		dst = str(dst, name)
		dst = le.AppendUint64(dst, uint64(a.balance))
		dst = totals(dst, a.life)
		dst = binary.AppendUvarint(dst, uint64(len(a.days)))
		for _, d := range a.days {
			dst = totals(le.AppendUint64(dst, uint64(d.Day)), d.Totals)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(f.res)))
	for _, id := range slices.Sorted(maps.Keys(f.res)) {
		r := f.res[id]
		dst = le.AppendUint64(dst, uint64(id))
		dst = binary.AppendUvarint(dst, index(r.asset))
		dst = le.AppendUint64(dst, uint64(r.amount))
	}
	dst = binary.AppendUvarint(dst, uint64(f.hist.Len()))
	for i := range f.hist.Len() {
		e := f.hist.At(i)
		dst = le.AppendUint64(dst, uint64(e.TimeMs))
		dst = binary.AppendUvarint(dst, index(e.Asset))
		dst = le.AppendUint64(dst, uint64(e.Delta))
		dst = append(dst, byte(e.Reason))
		dst = le.AppendUint64(dst, uint64(e.Account))
		dst = str(dst, e.Symbol)
	}
	return dst
}

// cursor reads a snapshot front to back; the first problem sticks in err
// and every later read returns zero values.
type cursor struct {
	p       []byte
	err     error
	version byte
}

func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: %s", ErrSnapshot, fmt.Sprintf(format, args...))
	}
}

func (c *cursor) next(n int) []byte {
	if c.err == nil && len(c.p) < n {
		c.fail("%d bytes left, need %d", len(c.p), n)
	}
	if c.err != nil {
		return make([]byte, n) // zeros: nothing more is decoded anyway
	}
	b := c.p[:n]
	c.p = c.p[n:]
	return b
}

func (c *cursor) u64() uint64         { return binary.LittleEndian.Uint64(c.next(8)) }
func (c *cursor) money() market.Money { return market.Money(c.u64()) }

// count reads a uvarint count of items of at least size bytes each: a
// count the rest cannot hold is refused before it sizes an allocation.
func (c *cursor) count(what string, size int) int {
	if c.err != nil {
		return 0
	}
	n, w := binary.Uvarint(c.p)
	switch {
	case w <= 0:
		c.fail("%s: bad uvarint", what)
	case w > 1 && c.p[w-1] == 0:
		c.fail("%s: uvarint not minimally encoded", what)
	case n > uint64((len(c.p)-w)/size):
		c.fail("%s: %d cannot fit in %d bytes", what, n, len(c.p)-w)
	default:
		c.p = c.p[w:]
		return int(n)
	}
	return 0
}

// index reads an index into the n assets.
func (c *cursor) index(n int) int {
	i := c.count("asset index", 1)
	if i >= n && c.err == nil {
		c.fail("asset index %d of %d", i, n)
	}
	if c.err != nil {
		return -1
	}
	return i
}

func (c *cursor) bytes(what string) []byte { return c.next(c.count(what, 1)) }

func (c *cursor) totals(t *Totals) {
	t.Liquidations = int(c.u64())
	for _, m := range [...]*market.Money{&t.LiquidationVolume, &t.Deposits, &t.Surplus, &t.Fees, &t.Deficits, &t.Uncovered} {
		*m = c.money()
	}
	if c.version >= 2 {
		t.ADL = int(c.u64())
	}
	if t.Liquidations < 0 || t.ADL < 0 {
		c.fail("%d liquidations, %d ADL", t.Liquidations, t.ADL)
	}
}

// DecodeSnapshot decodes the fund snapshot at the start of p and returns it
// with the bytes after it. Anything malformed, out of range or inconsistent
// (an asset's reservations above its balance, a kept event the balance
// cannot have gone through, Check) is ErrSnapshot. It never panics, and
// allocates in proportion to the snapshot's length, never to a count or
// capacity it claims.
func DecodeSnapshot(p []byte) (*Fund, []byte, error) {
	c := &cursor{p: p}
	hdr := c.next(5)
	switch {
	case c.err != nil:
		return nil, nil, c.err
	case string(hdr[:4]) != snapMagic:
		return nil, nil, fmt.Errorf("%w: bad magic %q", ErrSnapshot, hdr[:4])
	case hdr[4] < 1 || hdr[4] > snapVersion:
		return nil, nil, fmt.Errorf("%w: version %d, this build reads 1 to %d", ErrSnapshotVersion, hdr[4], snapVersion)
	}
	c.version = hdr[4]
	hc, dc, seq := c.u64(), c.u64(), c.u64()
	if c.err == nil && (hc < 1 || hc > math.MaxInt || dc < 1 || dc > math.MaxInt) {
		c.fail("history cap %d, daily cap %d", hc, dc)
	}
	if c.err != nil {
		return nil, nil, c.err
	}
	f, _ := New(Config{HistoryCap: int(hc), DailyCap: int(dc)})
	f.seq = seq
	names := c.assets(f)
	c.reservations(f, names)
	c.history(f, names)
	if c.err != nil {
		return nil, nil, c.err
	}
	if err := f.Check(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return f, c.p, nil
}

// assets reads the assets into f and returns their names, ascending.
func (c *cursor) assets(f *Fund) []string {
	n := c.count("assets", snapAsset)
	names := make([]string, 0, n)
	for c.err == nil && len(names) < n {
		name, prev := string(c.bytes("asset name")), ""
		if len(names) > 0 {
			prev = names[len(names)-1]
		}
		if c.err == nil && (name == "" || name <= prev) {
			c.fail("asset %q after %q: names must ascend", name, prev)
		}
		a := &assetState{balance: c.money()}
		c.totals(&a.life)
		a.days = make([]Daily, c.count("days", snapDay))
		if len(a.days) > f.cfg.DailyCap {
			c.fail("%s: %d days kept, cap %d", name, len(a.days), f.cfg.DailyCap)
		}
		for i := range a.days {
			d := &a.days[i]
			d.Asset, d.Day = name, int64(c.u64())
			c.totals(&d.Totals)
			if i > 0 && d.Day <= a.days[i-1].Day {
				c.fail("%s: day %d after day %d", name, d.Day, a.days[i-1].Day)
			}
		}
		names = append(names, name)
		f.assets[name] = a
	}
	return names
}

// reservations reads the open reservations into f and sums them up per
// asset.
func (c *cursor) reservations(f *Fund, names []string) {
	n := c.count("reservations", snapReservation)
	var last ReservationID
	for i := 0; i < n && c.err == nil; i++ {
		id, ai, amount := ReservationID(c.u64()), c.index(len(names)), c.money()
		if c.err != nil {
			return
		}
		a := f.assets[names[ai]]
		switch {
		case id <= last:
			c.fail("reservation %d after %d: ids must ascend from 1", id, last)
		case amount < 0 || amount > a.balance-a.reserved:
			c.fail("reservation %d of %v %s: %v of the balance %v is free", id, amount, names[ai], a.balance-a.reserved, a.balance)
		}
		a.reserved += amount
		f.res[id] = &reservation{asset: names[ai], amount: amount}
		last = id
	}
}

// history reads the kept events into f's ring and derives their Seq and
// Balance.
func (c *cursor) history(f *Fund, names []string) {
	n := c.count("events", snapEvent)
	// Fewer than the ring holds when a Resize grew it since.
	if c.err == nil && uint64(n) > min(f.seq, uint64(f.cfg.HistoryCap)) {
		c.fail("%d events kept, the ring holds %d", n, min(f.seq, uint64(f.cfg.HistoryCap)))
	}
	symbols := map[string]string{} // one string per symbol, as live
	f.hist = ring.New[Event](f.cfg.HistoryCap)
	for i := 0; i < n && c.err == nil; i++ {
		e := Event{Seq: f.seq - uint64(n-1-i), TimeMs: int64(c.u64())}
		ai := c.index(len(names))
		e.Delta, e.Reason, e.Account = c.money(), Reason(c.next(1)[0]), book.AccountID(c.u64())
		sym := c.bytes("symbol")
		if e.Symbol = symbols[string(sym)]; e.Symbol == "" && len(sym) > 0 {
			e.Symbol = string(sym)
			symbols[e.Symbol] = e.Symbol
		}
		if c.err != nil {
			return
		}
		e.Asset = names[ai]
		switch e.Reason {
		case ReasonDeposit, ReasonLiquidationSurplus, ReasonLiquidationFee:
			if e.Delta <= 0 || e.Reason == ReasonDeposit && (e.Account != 0 || e.Symbol != "") {
				c.fail("event %d: %s of %v by account %d in %q", e.Seq, e.Reason, e.Delta, e.Account, e.Symbol)
			}
		case ReasonLiquidationDeficit:
			if e.Delta >= 0 || e.Delta == math.MinInt64 {
				c.fail("event %d: deficit of %v", e.Seq, e.Delta)
			}
		case ReasonFunding:
			if e.Delta == 0 || e.Delta == math.MinInt64 {
				c.fail("event %d: funding of %v", e.Seq, e.Delta)
			}
		default:
			c.fail("event %d: reason %d", e.Seq, e.Reason)
		}
		f.hist.Push(e)
	}
	// Back from each asset's balance: an event's Balance is the balance
	// after it, and no balance is ever below zero.
	bal := make(map[string]market.Money, len(names))
	for _, name := range names {
		bal[name] = f.assets[name].balance
	}
	for i := f.hist.Len() - 1; i >= 0 && c.err == nil; i-- {
		e := f.hist.At(i)
		b := bal[e.Asset]
		if b < 0 || e.Delta > b || e.Delta < 0 && -e.Delta > math.MaxInt64-b {
			c.fail("event %d: %s balance %v cannot have moved by %v", e.Seq, e.Asset, b, e.Delta)
		}
		e.Balance = b
		bal[e.Asset] = b - e.Delta
	}
	if f.seq > uint64(f.hist.Len()) {
		return // the ring dropped the first events
	}
	for _, name := range names {
		if bal[name] != 0 && c.err == nil {
			c.fail("%s: balance %v, its whole history adds up to %v", name, f.assets[name].balance, f.assets[name].balance-bal[name])
		}
	}
}
