package adl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// A ranking snapshot (version 3) holds what the ranking needs to go on
// exactly as if it had never stopped; integers are little endian, counts
// and lengths minimal uvarints, so a ranking has one encoding:
//
//	magic     [4]byte "PXAD"
//	version   uint8   3 (2: the same without bounds, 1: also without gone;
//	          both still read)
//	config    symbol (uvarint length, bytes), Multiplier int64 (an inverse
//	          contract's InverseK), Mode and Kind uint8 (Mode | Kind<<4),
//	          IndicatorRefreshMs int64
//	mark      int64 (0: none yet)
//	aside     int64 long, int64 short (set aside for a bankrupt side)
//	positions uvarint count, then each by ascending account: account
//	          uint64, side uint8 (1 long, 2 short), bankrupt uint8 (0 or 1),
//	          qty int64, cost int64, margin int64, and for a bankrupt one
//	          its bound int64 (≥ 0)
//	promised  uvarint count, then each by ascending account: account
//	          uint64, qty int64 (> 0)
//	cuts      per side (long, short): valid uint8 (0 or 1); when 1, the
//	          refresh time int64 ms, the side's count then uvarint, and the
//	          cuts it implies (≤ 4): score float64 bits, account uint64
//	gone      per bankrupt side (long, short): uvarint count, then each
//	          by ascending account: account uint64, profit int64 (> 0);
//	          then what rounds charged positions (the same form: account,
//	          amount int64 > 0) and the accounts unable to pay (a uvarint
//	          count, then by ascending account: account uint64, kinds
//	          uint8 1–3)
//
// The config is part of the state (the caller gets it back with Config).
// The contract kind shares Mode's byte: a ranking of Kind 0 (linear, as
// every ranking before inverse contracts) encodes exactly as it did, so
// those snapshots decode unchanged; Kind market.Linear or market.Inverse
// sets the high nibble, and the multiplier's int64 carries InverseK for an
// inverse contract (whose Multiplier is 0).
// Derived on decode: each position's tree key, margin ratio and bucket, the
// trees, counts and open interest, the account index. The indicator cuts
// are kept as they were (a light lags the mark until the next refresh, so
// they change answers); the record layout, free list and scratch buffers
// are not state.
const (
	snapMagic    = "PXAD"
	snapVersion  = 3
	snapPosition = 8 + 1 + 1 + 3*8
	snapPromise  = 8 + 8
	snapGone     = 8 + 8
)

// Errors of DecodeSnapshot; the error's text says what is wrong.
var (
	// ErrSnapshot: the bytes are not a well-formed ranking snapshot, or the
	// ranking they describe breaks an invariant (Check).
	ErrSnapshot = errors.New("adl: bad snapshot")
	// ErrSnapshotVersion: a well-marked snapshot of a version this build
	// cannot read.
	ErrSnapshotVersion = errors.New("adl: unsupported snapshot version")
)

// AppendSnapshot appends the ranking's snapshot to dst (see
// DecodeSnapshot). It allocates nothing when every account id is below the
// dense index's limit and dst has room.
func (rk *Ranking) AppendSnapshot(dst []byte) []byte {
	le := binary.LittleEndian
	dst = append(dst, snapMagic...)
	dst = append(dst, snapVersion)
	dst = binary.AppendUvarint(dst, uint64(len(rk.cfg.Symbol)))
	dst = append(dst, rk.cfg.Symbol...)
	if rk.inverse {
		dst = le.AppendUint64(dst, uint64(rk.cfg.InverseK))
	} else {
		dst = le.AppendUint64(dst, uint64(rk.cfg.Multiplier))
	}
	dst = append(dst, byte(rk.cfg.Mode)|byte(rk.cfg.Kind)<<4)
	dst = le.AppendUint64(dst, uint64(rk.cfg.IndicatorRefreshMs))
	dst = le.AppendUint64(dst, uint64(rk.mark))
	dst = le.AppendUint64(dst, uint64(rk.aside[0]))
	dst = le.AppendUint64(dst, uint64(rk.aside[1]))

	dst = binary.AppendUvarint(dst, uint64(rk.index.len()))
	putPos := func(dst []byte, idx int32) []byte {
		p := &rk.pos[idx]
		dst = le.AppendUint64(dst, uint64(p.acct))
		dst = append(dst, byte(p.side), bit(p.bankrupt))
		dst = le.AppendUint64(dst, uint64(p.qty))
		dst = le.AppendUint64(dst, uint64(p.cost))
		dst = le.AppendUint64(dst, uint64(p.margin))
		if p.bankrupt {
			dst = le.AppendUint64(dst, uint64(p.bound))
		}
		return dst
	}
	for _, v := range rk.index.dense { // ascending accounts below denseLimit
		if v != 0 {
			dst = putPos(dst, v-1)
		}
	}
	if len(rk.index.sparse) > 0 { // the rest, all at or above denseLimit
		accts := rk.snapAccts[:0]
		for a := range rk.index.sparse {
			accts = append(accts, a)
		}
		slices.Sort(accts)
		for _, a := range accts {
			dst = putPos(dst, rk.index.sparse[a])
		}
		rk.snapAccts = accts[:0]
	}

	dst = appendSorted(rk, dst, rk.promised, func(dst []byte, q book.Lots) []byte { return le.AppendUint64(dst, uint64(q)) })

	for s := range rk.sides {
		c := &rk.sides[s].cuts
		dst = append(dst, bit(c.valid))
		if !c.valid {
			continue
		}
		dst = le.AppendUint64(dst, uint64(c.atMs))
		dst = binary.AppendUvarint(dst, uint64(c.n))
		for _, x := range c.cut[:c.ncut] {
			dst = le.AppendUint64(dst, math.Float64bits(x.v))
			dst = le.AppendUint64(dst, uint64(x.acct))
		}
	}
	for s := range rk.gone {
		dst = appendSorted(rk, dst, rk.gone[s], func(dst []byte, v market.Money) []byte { return le.AppendUint64(dst, uint64(v)) })
		dst = appendSorted(rk, dst, rk.charged[s], func(dst []byte, v market.Money) []byte { return le.AppendUint64(dst, uint64(v)) })
		dst = appendSorted(rk, dst, rk.unable[s], func(dst []byte, k uint8) []byte { return append(dst, k) })
	}
	return dst
}

// appendSorted appends m's size (uvarint) and its entries by ascending
// account: the account (uint64) and what put appends of its value.
func appendSorted[V any](rk *Ranking, dst []byte, m map[book.AccountID]V, put func([]byte, V) []byte) []byte {
	accts := rk.snapAccts[:0]
	for a := range m {
		accts = append(accts, a)
	}
	slices.Sort(accts)
	dst = binary.AppendUvarint(dst, uint64(len(accts)))
	for _, a := range accts {
		dst = put(binary.LittleEndian.AppendUint64(dst, uint64(a)), m[a])
	}
	rk.snapAccts = accts[:0]
	return dst
}

func bit(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// cutRank is the rank of cut j (0-based) of a side of n positions.
func cutRank(j, n int) int { return ((j+1)*n + 4) / 5 }

// ncuts is the number of quintile cuts of a side of n positions (refreshCuts).
func ncuts(n int) int {
	k := 0
	for j := range 4 {
		if cutRank(j, n) < n {
			k = j + 1
		}
	}
	return k
}

// snapReader reads a snapshot's fields; the first failure sticks.
type snapReader struct {
	p   []byte
	err error
}

func (r *snapReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrSnapshot}, args...)...)
	}
}

func (r *snapReader) u64(what string) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.p) < 8 {
		r.fail("truncated %s", what)
		return 0
	}
	v := binary.LittleEndian.Uint64(r.p)
	r.p = r.p[8:]
	return v
}

func (r *snapReader) byte(what string, max byte) byte {
	if r.err != nil {
		return 0
	}
	if len(r.p) < 1 {
		r.fail("truncated %s", what)
		return 0
	}
	v := r.p[0]
	r.p = r.p[1:]
	if v > max {
		r.fail("%s %d", what, v)
	}
	return v
}

// uvarint reads a minimal uvarint: a count of items of size bytes each that
// the rest of the input can hold, or with size 0 a number up to MaxInt32.
func (r *snapReader) uvarint(what string, size int) int {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.p)
	limit := uint64(math.MaxInt32)
	if size > 0 && k > 0 {
		limit = uint64((len(r.p) - k) / size)
	}
	switch {
	case k <= 0:
		r.fail("truncated or overlong %s", what)
	case k > 1 && r.p[k-1] == 0: // a longer form than needed would be a second encoding
		r.fail("non-minimal %s", what)
	case v > limit:
		r.fail("%s %d exceeds %d", what, v, limit)
	default:
		r.p = r.p[k:]
		return int(v)
	}
	return 0
}

// each reads a uvarint count of entries of size bytes, each an account
// (uint64, ascending) and what read reads of the rest.
func (r *snapReader) each(what string, size int, read func(book.AccountID)) {
	n := r.uvarint(what+" count", size)
	var prev book.AccountID
	for i := 0; i < n && r.err == nil; i++ {
		acct := book.AccountID(r.u64(what + " account"))
		if r.err == nil && i > 0 && acct <= prev {
			r.fail("%s account %d after %d", what, acct, prev)
		}
		if r.err == nil {
			read(acct)
		}
		prev = acct
	}
}

// addTo adds v to m[k] (saturating), making m if it is nil.
func addTo(m map[book.AccountID]market.Money, k book.AccountID, v market.Money) map[book.AccountID]market.Money {
	return setIn(m, k, min(market.Money(math.MaxInt64)-v, m[k])+v)
}

// setIn sets m[k] = v, making m if it is nil.
func setIn[V any](m map[book.AccountID]V, k book.AccountID, v V) map[book.AccountID]V {
	if m == nil {
		m = map[book.AccountID]V{}
	}
	m[k] = v
	return m
}

// DecodeSnapshot decodes a snapshot written by AppendSnapshot at the start
// of p and returns the ranking and the rest of p. It never panics, allocates
// in proportion to the input (plus the account index, which, as Update's,
// grows a dense table up to the largest account id below 1<<22: at most 16
// MiB), and refuses (ErrSnapshot) any state the ranking could not have
// been in: an invalid config, position or amount, accounts out of order,
// cuts out of rank order or without a mark. The ranking returned passes
// Check and goes on exactly as the one the snapshot was taken of.
func DecodeSnapshot(p []byte) (*Ranking, []byte, error) {
	if len(p) < len(snapMagic)+1 || string(p[:len(snapMagic)]) != snapMagic {
		return nil, nil, fmt.Errorf("%w: not a ranking snapshot", ErrSnapshot)
	}
	version := p[len(snapMagic)]
	if version < 1 || version > snapVersion {
		return nil, nil, fmt.Errorf("%w: version %d, want %d", ErrSnapshotVersion, version, snapVersion)
	}
	r := &snapReader{p: p[len(snapMagic)+1:]}
	n := r.uvarint("symbol length", 1)
	var cfg Config
	if r.err == nil {
		cfg.Symbol = string(r.p[:n])
		r.p = r.p[n:]
	}
	mult := market.Money(r.u64("multiplier"))
	mode := r.byte("mode and kind", byte(market.Inverse)<<4|byte(ModeSocialized))
	cfg.Mode, cfg.Kind = Mode(mode&0xf), market.ContractKind(mode>>4)
	if cfg.Kind == market.Inverse {
		cfg.InverseK = mult
	} else {
		cfg.Multiplier = mult
	}
	cfg.IndicatorRefreshMs = int64(r.u64("indicator refresh"))
	mark := book.Ticks(r.u64("mark"))
	aside := [2]market.Money{market.Money(r.u64("long set-aside")), market.Money(r.u64("short set-aside"))}
	if r.err != nil {
		return nil, nil, r.err
	}
	rk, err := New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	if mark < 0 || aside[0] < 0 || aside[1] < 0 || aside[0] > maxOwed || aside[1] > maxOwed {
		return nil, nil, fmt.Errorf("%w: mark %d, set aside %d/%d", ErrSnapshot, mark, aside[0], aside[1])
	}
	rk.mark, rk.aside = mark, aside

	np := r.uvarint("position count", snapPosition)
	if r.err == nil {
		rk.pos = make([]position, 0, np)
	}
	var prev book.AccountID
	for i := 0; i < np && r.err == nil; i++ {
		acct := book.AccountID(r.u64("account"))
		side := book.Side(r.byte("side", byte(Short)))
		bankrupt := r.byte("bankrupt flag", 1) == 1
		qty, cost, margin := book.Lots(r.u64("qty")), market.Money(r.u64("cost")), market.Money(r.u64("margin"))
		var bound book.Ticks
		if bankrupt && version >= 3 {
			bound = book.Ticks(r.u64("bound"))
		}
		switch {
		case r.err != nil:
		case i > 0 && acct <= prev:
			r.fail("account %d after %d", acct, prev)
		case !validSide(side) || qty <= 0 || cost <= 0 || margin <= 0 || bound < 0:
			r.fail("account %d: side %d, qty %d, cost %d, margin %d, bound %d", acct, side, qty, cost, margin, bound)
		default:
			idx := rk.alloc(acct)
			q := &rk.pos[idx]
			q.side, q.qty, q.cost, q.margin, q.bankrupt, q.bound = side, qty, cost, margin, bankrupt, bound
			rk.link(idx)
		}
		prev = acct
	}

	r.each("promise", snapPromise, func(acct book.AccountID) {
		if qty := book.Lots(r.u64("promised qty")); qty > 0 {
			rk.promised[acct] = qty
		} else if r.err == nil {
			r.fail("account %d promised %d", acct, qty)
		}
	})

	for s := range rk.sides {
		c := &rk.sides[s].cuts
		if r.byte("cuts flag", 1) == 0 {
			continue
		}
		c.valid = true
		c.atMs = int64(r.u64("refresh time"))
		c.n = r.uvarint("indicator count", 0)
		c.ncut = ncuts(c.n)
		for j := range c.cut[:c.ncut] {
			x := scored{math.Float64frombits(r.u64("cut score")), book.AccountID(r.u64("cut account"))}
			switch {
			case r.err != nil:
			case math.IsNaN(x.v):
				r.fail("side %d cut %d scores NaN", s, j)
			case j > 0 && cutRank(j, c.n) == cutRank(j-1, c.n) && x != c.cut[j-1],
				j > 0 && cutRank(j, c.n) != cutRank(j-1, c.n) && !better(c.cut[j-1], x):
				// Cuts at one rank are one position; at higher ranks, worse ones.
				r.fail("side %d cut %d out of rank order", s, j)
			}
			c.cut[j] = x
		}
		if r.err == nil && mark == 0 {
			r.fail("indicator cuts without a mark")
		}
	}
	for s := 0; s < 2 && version >= 2; s++ {
		r.each("gone", snapGone, func(acct book.AccountID) {
			if profit := market.Money(r.u64("gone profit")); profit > 0 {
				rk.gone[s] = setIn(rk.gone[s], acct, profit)
			} else if r.err == nil {
				r.fail("account %d took out %d", acct, profit)
			}
		})
		r.each("charged", 16, func(acct book.AccountID) {
			if v := market.Money(r.u64("charged")); v > 0 {
				rk.charged[s] = setIn(rk.charged[s], acct, v)
			} else if r.err == nil {
				r.fail("account %d charged %d", acct, v)
			}
		})
		r.each("unable", 9, func(acct book.AccountID) {
			if kinds := r.byte("unable kinds", unableLive|unableClosed); kinds != 0 {
				rk.unable[s] = setIn(rk.unable[s], acct, kinds)
			} else if r.err == nil {
				r.fail("account %d unable to pay nothing", acct)
			}
		})
	}
	for s := 0; s < 2 && r.err == nil; s++ {
		if !bounded(rk.gone[s]) || !bounded(rk.charged[s]) {
			r.fail("side %d's profit taken out or charged sums past %d", s, maxOwed)
		}
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	if err := rk.Check(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return rk, r.p, nil
}

// maxOwed bounds the profit set aside for a side, and the profit taken out
// and what rounds charged, each summed over a side: a quarter of int64
// leaves SocializeAt's total room for the live profits (live, amounts
// follow positions the risk limits bound; a decoded snapshot beyond it
// would make the ADL actor refuse).
const maxOwed = market.Money(math.MaxInt64 / 4)

// bounded reports whether the amounts of m sum to at most maxOwed.
func bounded(m map[book.AccountID]market.Money) bool {
	var sum market.Money
	for _, v := range m {
		if v > maxOwed-sum {
			return false
		}
		sum += v
	}
	return true
}
