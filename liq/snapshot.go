package liq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// A machine snapshot (version 1) holds what a liquidation needs to go on
// exactly as if it had never stopped; integers are little endian, counts
// and lengths minimal uvarints, so a machine has one encoding:
//
//	magic     [4]byte "PXLQ"
//	version   uint8   1
//	account   uint64
//	mode      uint8   (1 cross, 2 isolated)
//	int64s    escrow, base, deficit
//	res       uint64  the reservation's id
//	flags     uint8   bit 0 reserved, 1 settled, 2 abandoned
//	amount    int64   what the fund reserved
//	quotes    uvarint set-asides due
//	legs      uvarint count (≥ 1), then each in takeover order:
//	          symbol name (uvarint length, bytes); int64s qty, remaining,
//	          cost, bankruptcy, liquidation, mark, deficit, gain, executed;
//	          flags uint8 (bit 0 socialized, 1 asked, 2 planned, 3
//	          progress, 4 offered); int64s need, quote mark, share; order
//	          uint64; int64s pending, expect, idle; social flags uint8 (bit
//	          0 quoted, 1 asked, 2 planned); int64s capacity, pending,
//	          charged, unpaid, round paid, rounds; deferred closes uvarint
//	          count, then each: token uint64, asked int64, price int64
//
// The Config (retry, order ids) is the caller's, given back to
// DecodeSnapshot. The effects are not state: a snapshot is taken between
// Steps, once Ready has handed them out (SnapshotReady).
const (
	snapMagic    = "PXLQ"
	snapVersion  = 1
	snapHeader   = 4 + 1 + 8 + 1 + 3*8 + 8 + 1 + 8
	snapLeg      = 9*8 + 1 + 3*8 + 8 + 3*8 + 1 + 6*8 // after the name, before the deferred count
	snapDeferred = 3 * 8

	snapReserved  = 1 << 0
	snapSettled   = 1 << 1
	snapAbandoned = 1 << 2

	legSocialized = 1 << 0
	legAsked      = 1 << 1
	legPlanned    = 1 << 2
	legProgress   = 1 << 3
	legOffered    = 1 << 4

	socQuoted  = 1 << 0
	socAsked   = 1 << 1
	socPlanned = 1 << 2
)

// Errors of DecodeSnapshot and SnapshotReady; the error's text says what
// is wrong.
var (
	// ErrSnapshot: the bytes are not a well-formed machine snapshot, or
	// the machine they describe breaks an invariant.
	ErrSnapshot = errors.New("liq: bad snapshot")
	// ErrSnapshotVersion: a well-marked snapshot of a version this build
	// cannot read.
	ErrSnapshotVersion = errors.New("liq: unsupported snapshot version")
	// ErrSnapshotPending: the machine holds effects Ready has not handed
	// out; they are not state, so it cannot be snapshotted now.
	ErrSnapshotPending = errors.New("liq: snapshot with effects pending")
)

// SnapshotReady reports whether the machine can be snapshotted:
// ErrSnapshotPending while a Step's or Abandon's effects are not consumed
// (Ready).
func (m *Machine) SnapshotReady() error {
	if len(m.out) > 0 {
		return fmt.Errorf("%w: %d effects of liquidation %d", ErrSnapshotPending, len(m.out), m.Res)
	}
	return nil
}

// AppendSnapshot appends the machine's snapshot to dst (see the format
// above). It must be called between Steps with no effect pending
// (SnapshotReady), and panics otherwise: the pending effects would be lost.
func (m *Machine) AppendSnapshot(dst []byte) []byte {
	if err := m.SnapshotReady(); err != nil {
		panic(err)
	}
	le := binary.LittleEndian
	i64 := func(dst []byte, vs ...int64) []byte {
		for _, v := range vs {
			dst = le.AppendUint64(dst, uint64(v))
		}
		return dst
	}
	l := m.L
	dst = append(dst, snapMagic...)
	dst = append(dst, snapVersion)
	dst = le.AppendUint64(dst, uint64(l.Account))
	dst = append(dst, byte(l.Mode))
	dst = i64(dst, int64(l.Escrow), int64(l.Base), int64(l.Deficit))
	dst = le.AppendUint64(dst, uint64(m.Res))
	dst = append(dst, bits(m.reserved, m.settled, m.abandoned))
	dst = i64(dst, int64(m.amount))
	dst = binary.AppendUvarint(dst, uint64(m.quotes))
	dst = binary.AppendUvarint(dst, uint64(len(m.Legs)))
	for i := range m.Legs {
		g := &m.Legs[i]
		dst = binary.AppendUvarint(dst, uint64(len(g.Symbol.Name)))
		dst = append(dst, g.Symbol.Name...)
		dst = i64(dst, int64(g.Qty), int64(g.Remaining), int64(g.Cost), int64(g.Bankruptcy), int64(g.Liquidation),
			int64(g.Mark), int64(g.Deficit), int64(g.Gain), int64(g.Executed))
		dst = append(dst, bits(g.Socialized, g.asked, g.planned, g.progress, g.offered))
		dst = i64(dst, int64(g.quote.Need), int64(g.quote.Mark), int64(g.share))
		dst = le.AppendUint64(dst, uint64(g.order))
		dst = i64(dst, int64(g.pending), int64(g.expect), int64(g.idle))
		sc := &g.social
		dst = append(dst, bits(sc.quoted, sc.asked, sc.planned))
		dst = i64(dst, int64(sc.capacity), int64(sc.pending), int64(sc.charged), int64(sc.unpaid), int64(sc.roundPaid), int64(sc.rounds))
		dst = binary.AppendUvarint(dst, uint64(len(g.deferred)))
		for _, d := range g.deferred {
			dst = le.AppendUint64(dst, d.Token)
			dst = i64(dst, int64(d.Asked), int64(d.Price))
		}
	}
	return dst
}

// bits packs flags, the first in bit 0.
func bits(flags ...bool) byte {
	var b byte
	for i, f := range flags {
		if f {
			b |= 1 << i
		}
	}
	return b
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

func (r *snapReader) i64(what string) int64 { return int64(r.u64(what)) }

// flags reads a byte of flags, refusing bits beyond mask.
func (r *snapReader) flags(what string, mask byte) byte {
	if r.err != nil {
		return 0
	}
	if len(r.p) < 1 {
		r.fail("truncated %s", what)
		return 0
	}
	v := r.p[0]
	r.p = r.p[1:]
	if v&^mask != 0 {
		r.fail("%s %#x", what, v)
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

// DecodeSnapshot decodes a snapshot written by AppendSnapshot at the start
// of p and returns the machine, run with cfg, and the rest of p. symbols
// resolves a leg's symbol by name (config, not state); an unknown one is
// ErrSnapshot. It never panics, allocates in proportion to the input, and
// refuses (ErrSnapshot) any state the machine could not have been in (see
// check). The machine returned goes on exactly as the one the snapshot was
// taken of.
func DecodeSnapshot(p []byte, symbols func(string) *market.Symbol, cfg Config) (*Machine, []byte, error) {
	if len(p) < len(snapMagic)+1 || string(p[:len(snapMagic)]) != snapMagic {
		return nil, nil, fmt.Errorf("%w: not a liquidation snapshot", ErrSnapshot)
	}
	if v := p[len(snapMagic)]; v != snapVersion {
		return nil, nil, fmt.Errorf("%w: version %d, want %d", ErrSnapshotVersion, v, snapVersion)
	}
	r := &snapReader{p: p[len(snapMagic)+1:]}
	l := &risk.Liquidation{Account: book.AccountID(r.u64("account"))}
	l.Mode = risk.MarginMode(r.flags("margin mode", 3))
	l.Escrow, l.Base, l.Deficit = market.Money(r.i64("escrow")), market.Money(r.i64("base")), market.Money(r.i64("deficit"))
	m := &Machine{L: l, Res: fund.ReservationID(r.u64("reservation")), cfg: cfg}
	f := r.flags("flags", snapReserved|snapSettled|snapAbandoned)
	m.reserved, m.settled, m.abandoned = f&snapReserved != 0, f&snapSettled != 0, f&snapAbandoned != 0
	m.amount = market.Money(r.i64("amount"))
	m.quotes = r.uvarint("set-asides due", 0)
	n := r.uvarint("leg count", 1+snapLeg+1)
	if r.err != nil {
		return nil, nil, r.err
	}
	if n == 1 {
		l.Legs, m.Legs = make([]risk.LiquidationLeg, 1), m.legBuf[:1]
	} else {
		l.Legs, m.Legs = make([]risk.LiquidationLeg, n), make([]Leg, n)
	}
	m.out = m.outBuf[:0]
	for i := 0; i < n && r.err == nil; i++ {
		r.leg(m, i, symbols)
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	if err := m.check(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return m, r.p, nil
}

// leg reads leg i of m.
func (r *snapReader) leg(m *Machine, i int, symbols func(string) *market.Symbol) {
	k := r.uvarint("name length", 1)
	if r.err != nil {
		return
	}
	name := string(r.p[:k])
	r.p = r.p[k:]
	sym := symbols(name)
	if sym == nil {
		r.fail("unknown symbol %q", name)
		return
	}
	lg := &m.L.Legs[i]
	*lg = risk.LiquidationLeg{Symbol: sym, Qty: book.Lots(r.i64("qty")), Remaining: book.Lots(r.i64("remaining")),
		Cost: market.Money(r.i64("cost")), Bankruptcy: book.Ticks(r.i64("bankruptcy")), Liquidation: book.Ticks(r.i64("liquidation")),
		Mark: book.Ticks(r.i64("mark")), Deficit: market.Money(r.i64("leg deficit")), Gain: market.Money(r.i64("gain")),
		Executed: market.Money(r.i64("executed"))}
	g := &m.Legs[i]
	g.LiquidationLeg = lg
	f := r.flags("leg flags", legSocialized|legAsked|legPlanned|legProgress|legOffered)
	g.Socialized, g.asked, g.planned, g.progress, g.offered = f&legSocialized != 0, f&legAsked != 0, f&legPlanned != 0, f&legProgress != 0, f&legOffered != 0
	g.quote = Quote{Need: market.Money(r.i64("need")), Mark: book.Ticks(r.i64("quote mark"))}
	g.share = market.Money(r.i64("share"))
	g.order = book.OrderID(r.u64("order"))
	g.pending, g.expect, g.idle = int(r.i64("pending")), book.Lots(r.i64("expect")), int(r.i64("idle"))
	sc := &g.social
	f = r.flags("social flags", socQuoted|socAsked|socPlanned)
	sc.quoted, sc.asked, sc.planned = f&socQuoted != 0, f&socAsked != 0, f&socPlanned != 0
	sc.capacity, sc.pending, sc.charged = market.Money(r.i64("capacity")), int(r.i64("social pending")), market.Money(r.i64("charged"))
	sc.unpaid, sc.roundPaid, sc.rounds = market.Money(r.i64("unpaid")), market.Money(r.i64("round paid")), int(r.i64("rounds"))
	nd := r.uvarint("deferred count", snapDeferred)
	if r.err != nil || nd == 0 {
		return
	}
	g.deferred = make([]AnswerClose, nd)
	for j := range g.deferred {
		g.deferred[j] = AnswerClose{Leg: i, Token: r.u64("token"), Asked: book.Lots(r.i64("asked")), Price: book.Ticks(r.i64("price"))}
	}
}

// check reports what makes m a machine no run of Start and Step could
// leave, as far as the decoded snapshot can tell; what passes is safe to
// Step (no panic on its arithmetic).
func (m *Machine) check() error {
	l := m.L
	switch {
	case l.Mode != risk.Cross && l.Mode != risk.Isolated:
		return fmt.Errorf("margin mode %d", l.Mode)
	case l.Mode == risk.Isolated && len(l.Legs) != 1:
		return fmt.Errorf("isolated liquidation of %d legs", len(l.Legs))
	case l.Deficit != max(0, -l.Base):
		return fmt.Errorf("deficit %d of base %d", l.Deficit, l.Base)
	case m.amount < 0 || (!m.reserved && m.amount != 0):
		return fmt.Errorf("reserved %v amount %d", m.reserved, m.amount)
	case m.settled && m.abandoned:
		return errors.New("settled and abandoned")
	case m.settled && (!l.Done() || m.quotes > 0):
		return errors.New("settled with a leg open or a set-aside due")
	case m.quotes > 0 && !m.reserved:
		return fmt.Errorf("%d set-asides due before the reservation", m.quotes)
	}
	due := 0
	for i := range m.Legs {
		g := &m.Legs[i]
		sc := &g.social
		s := g.Symbol
		for j := range i {
			if m.Legs[j].Symbol == s {
				return fmt.Errorf("symbol %s twice", s.Name)
			}
		}
		if g.Socialized && !sc.quoted && g.Remaining != 0 {
			due++
		}
		switch {
		case g.Qty == 0 || g.Qty == math.MinInt64 || g.Cost == math.MinInt64:
			return fmt.Errorf("leg %s qty %d cost %d", s.Name, g.Qty, g.Cost)
		case (g.Remaining != 0 && (g.Remaining > 0) != (g.Qty > 0)) || abs(g.Remaining) > abs(g.Qty):
			return fmt.Errorf("leg %s took over %d, remaining %d", s.Name, g.Qty, g.Remaining)
		case g.Bankruptcy < 1 || g.Bankruptcy > s.MaxPrice || g.Mark < 0 || g.Mark > s.MaxPrice:
			return fmt.Errorf("leg %s bankruptcy %d mark %d", s.Name, g.Bankruptcy, g.Mark)
		case g.Deficit < 0 || g.Executed < 0:
			return fmt.Errorf("leg %s deficit %d executed %d", s.Name, g.Deficit, g.Executed)
		case g.quote.Need < 0 || g.quote.Mark < 0 || g.quote.Mark > s.MaxPrice || g.share < 0:
			return fmt.Errorf("leg %s need %d quote mark %d share %d", s.Name, g.quote.Need, g.quote.Mark, g.share)
		case !m.reserved && (g.quote != Quote{} || g.share != 0 || g.order != 0 || g.asked || g.planned || g.offered || sc.quoted):
			return fmt.Errorf("leg %s under way before the reservation", s.Name)
		case g.order != 0 && (g.asked || g.Remaining == 0):
			return fmt.Errorf("leg %s: order %d with ADL asked %v, remaining %d", s.Name, g.order, g.asked, g.Remaining)
		case g.asked && !g.offered:
			return fmt.Errorf("leg %s asked ADL without offering", s.Name)
		case g.idle < 0 || g.idle > math.MaxInt32:
			return fmt.Errorf("leg %s idle %d", s.Name, g.idle)
		case m.settled && (g.order != 0 || g.asked || len(g.deferred) > 0):
			return fmt.Errorf("leg %s settled with answers due", s.Name)
		case len(g.deferred) > 0 && (!g.asked || g.planned || m.abandoned):
			return fmt.Errorf("leg %s: %d closes deferred, asked %v planned %v", s.Name, len(g.deferred), g.asked, g.planned)
		case sc.quoted && !g.Socialized, sc.asked && !sc.quoted, sc.planned && !sc.asked:
			return fmt.Errorf("leg %s: socialized %v, round %+v", s.Name, g.Socialized, *sc)
		case sc.capacity < 0 || sc.charged < 0 || sc.unpaid < 0 || sc.roundPaid < 0:
			return fmt.Errorf("leg %s: round amounts %+v", s.Name, *sc)
		case sc.rounds < 0 || sc.rounds > MaxSocialRounds || sc.asked != (sc.rounds > 0):
			return fmt.Errorf("leg %s: %d socialized rounds (asked %v)", s.Name, sc.rounds, sc.asked)
		}
		for _, d := range g.deferred {
			if d.Asked <= 0 || d.Price < 1 || d.Price > s.MaxPrice {
				return fmt.Errorf("leg %s: deferred close of %d at %d", s.Name, d.Asked, d.Price)
			}
		}
	}
	if m.quotes > due {
		return fmt.Errorf("%d set-asides due of %d socialized legs unquoted", m.quotes, due)
	}
	return nil
}
