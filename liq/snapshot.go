package liq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// A machine snapshot (version 3) holds what a liquidation needs to go on
// exactly as if it had never stopped; integers are little endian, counts
// and lengths minimal uvarints, so a machine has one encoding:
//
//	magic     [4]byte "PXLQ"
//	version   uint8   3
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
//	          0 quoted, 1 asked, 2 planned, 3 released, 4 escrowed); int64s
//	          capacity, pending, charged, unpaid, round paid, rounds, want,
//	          base; int64s funding, kept; deferred closes uvarint count, then each: token uint64,
//	          asked int64, price int64; closers uvarint count, then each:
//	          account uint64, qty int64; adjusting uvarint
//	collecting uvarint escrows being collected
//	flags     uint8   bit 0 the settlement's socialization started
//	pay       int64   what the winners' payments give the fund
//	payers    uvarint count, then each: int64s leg, account, paid, qty;
//	          uint8 closed
//
// Versions 1 (before the escrow) and 2 (before the closers) are not read,
// nor 4 (a retry timer's flag, which nothing needs since an abandoned
// machine ignores its timer): no stored snapshot held a machine before
// (actors snapshot only a failed account's abandoned machine, once Quiet).
// The Config (retry, order ids) is the caller's, given back to
// DecodeSnapshot. The effects are not state: a snapshot is taken between
// Steps, once Ready has handed them out (SnapshotReady).
const (
	snapMagic    = "PXLQ"
	snapVersion  = 3
	snapHeader   = 4 + 1 + 8 + 1 + 3*8 + 8 + 1 + 8
	snapLeg      = 9*8 + 1 + 3*8 + 8 + 3*8 + 1 + 8*8 + 2*8 // after the name, before the deferred count
	snapDeferred = 3 * 8
	snapCloser   = 2 * 8
	snapPayer    = 4*8 + 1

	snapReserved  = 1 << 0
	snapSettled   = 1 << 1
	snapAbandoned = 1 << 2

	legSocialized = 1 << 0
	legAsked      = 1 << 1
	legPlanned    = 1 << 2
	legProgress   = 1 << 3
	legOffered    = 1 << 4

	socQuoted   = 1 << 0
	socAsked    = 1 << 1
	socPlanned  = 1 << 2
	socReleased = 1 << 3
	socEscrowed = 1 << 4
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
	l := m.L
	dst = append(append(dst, snapMagic...), snapVersion)
	dst = append(appendI64s(dst, int64(l.Account)), byte(l.Mode))
	dst = appendI64s(dst, int64(l.Escrow), int64(l.Base), int64(l.Deficit), int64(m.Res))
	dst = appendI64s(append(dst, flagByte(m.reserved, m.settled, m.abandoned)), int64(m.amount))
	dst = binary.AppendUvarint(binary.AppendUvarint(dst, uint64(m.quotes)), uint64(len(m.Legs)))
	for i := range m.Legs {
		dst = m.Legs[i].appendSnapshot(dst)
	}
	dst = append(binary.AppendUvarint(dst, uint64(m.collecting)), flagByte(m.socialEnd))
	dst = binary.AppendUvarint(appendI64s(dst, int64(m.pay)), uint64(len(m.payers)))
	for _, p := range m.payers {
		dst = append(appendI64s(dst, int64(p.Leg), int64(p.Account), int64(p.Paid), int64(p.Qty)), flagByte(p.Closed))
	}
	return dst
}

// appendSnapshot appends the leg's part of the machine's snapshot.
func (g *Leg) appendSnapshot(dst []byte) []byte {
	dst = append(binary.AppendUvarint(dst, uint64(len(g.Symbol.Name))), g.Symbol.Name...)
	dst = appendI64s(dst, int64(g.Qty), int64(g.Remaining), int64(g.Cost), int64(g.Bankruptcy), int64(g.Liquidation),
		int64(g.Mark), int64(g.Deficit), int64(g.Gain), int64(g.Executed))
	dst = append(dst, flagByte(g.Socialized, g.asked, g.planned, g.progress, g.offered))
	dst = appendI64s(dst, int64(g.quote.Need), int64(g.quote.Mark), int64(g.share), int64(g.order),
		int64(g.pending), int64(g.expect), int64(g.idle))
	sc := &g.social
	dst = append(dst, flagByte(sc.quoted, sc.asked, sc.planned, sc.released, sc.escrowed))
	dst = appendI64s(dst, int64(sc.capacity), int64(sc.pending), int64(sc.charged), int64(sc.unpaid), int64(sc.roundPaid), int64(sc.rounds),
		int64(sc.want), int64(sc.base))
	dst = appendI64s(dst, int64(g.funding), int64(g.kept))
	dst = binary.AppendUvarint(dst, uint64(len(g.deferred)))
	for _, d := range g.deferred {
		dst = appendI64s(dst, int64(d.Token), int64(d.Asked), int64(d.Price))
	}
	dst = binary.AppendUvarint(dst, uint64(len(g.closers)))
	for _, c := range g.closers {
		dst = appendI64s(dst, int64(c.Account), int64(c.Qty))
	}
	return binary.AppendUvarint(dst, uint64(g.adjusting))
}

// appendI64s appends vs, 8 bytes each, little endian.
func appendI64s(dst []byte, vs ...int64) []byte {
	for _, v := range vs {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
	}
	return dst
}

// flagByte packs flags, the first in bit 0.
func flagByte(flags ...bool) byte {
	var b byte
	for i, f := range flags {
		if f {
			b |= 1 << i
		}
	}
	return b
}

// block is a run of fixed-width fields whose length the decoder checked
// (take); each read consumes its field.
type block []byte

func (b *block) u64() uint64 {
	v := binary.LittleEndian.Uint64(*b)
	*b = (*b)[8:]
	return v
}

func (b *block) i64() int64 { return int64(b.u64()) }

func (b *block) flags() byte {
	v := (*b)[0]
	*b = (*b)[1:]
	return v
}

// take cuts the next n bytes off *p as a block, false when fewer are left.
func take(p *[]byte, n int) (block, bool) {
	if len(*p) < n {
		return nil, false
	}
	b := block((*p)[:n])
	*p = (*p)[n:]
	return b, true
}

// count cuts a minimal uvarint off *p: a number of items of size bytes
// each that the rest of *p can hold, so it never sizes an allocation
// beyond the input (size 0: a number that sizes nothing, at most
// MaxInt32); false otherwise.
func count(p *[]byte, size int) (int, bool) {
	v, k := binary.Uvarint(*p)
	if k <= 0 || k != (bits.Len64(v|1)+6)/7 || v > math.MaxInt32 || size > 0 && v > uint64((len(*p)-k)/size) {
		return 0, false // truncated, overlong, longer than needed (a second encoding), or beyond the input
	}
	*p = (*p)[k:]
	return int(v), true
}

// decodeList reads a count, then that many items of size bytes each
// (dec reads one); nil for none.
func decodeList[T any](p *[]byte, size int, what string, dec func(block) T) ([]T, error) {
	n, ok := count(p, size)
	if !ok {
		return nil, fmt.Errorf("%s: bad count", what)
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]T, n)
	for j := range out {
		b, _ := take(p, size) // count saw them in the input
		out[j] = dec(b)
	}
	return out, nil
}

// DecodeSnapshot decodes a snapshot written by AppendSnapshot at the start
// of p and returns the machine, run with cfg, and the rest of p. symbols
// resolves a leg's symbol by name (config, not state); an unknown one is
// ErrSnapshot. It never panics, allocates in proportion to the input, and
// refuses (ErrSnapshot) any state the machine could not have been in (see
// check). The machine returned goes on exactly as the one the snapshot was
// taken of.
func DecodeSnapshot(p []byte, symbols func(string) *market.Symbol, cfg Config) (*Machine, []byte, error) {
	m := new(Machine)
	rest, err := DecodeSnapshotInto(m, p, symbols, cfg)
	if err != nil {
		return nil, nil, err
	}
	return m, rest, nil
}

// DecodeSnapshotInto is DecodeSnapshot into a Machine the caller holds (as
// StartInto): it overwrites the whole of *m, which must not be copied
// after, and leaves it unusable on an error.
func DecodeSnapshotInto(m *Machine, p []byte, symbols func(string) *market.Symbol, cfg Config) ([]byte, error) {
	if len(p) < len(snapMagic)+1 || string(p[:len(snapMagic)]) != snapMagic {
		return nil, fmt.Errorf("%w: not a liquidation snapshot", ErrSnapshot)
	}
	if v := p[len(snapMagic)]; v != snapVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrSnapshotVersion, v, snapVersion)
	}
	err := decodeMachine(m, &p, symbols, cfg)
	if err == nil {
		err = m.check()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return p, nil
}

var errTruncated = errors.New("truncated")

// decodeMachine reads the snapshot at *p (its magic and version checked)
// into m and leaves the rest in *p.
func decodeMachine(m *Machine, p *[]byte, symbols func(string) *market.Symbol, cfg Config) error {
	h, ok := take(p, snapHeader)
	if !ok {
		return errTruncated
	}
	h = h[len(snapMagic)+1:]
	l := &risk.Liquidation{Account: book.AccountID(h.u64()), Mode: risk.MarginMode(h.flags())}
	l.Escrow, l.Base, l.Deficit = market.Money(h.i64()), market.Money(h.i64()), market.Money(h.i64())
	*m = Machine{L: l, Res: fund.ReservationID(h.u64()), cfg: cfg}
	f := h.flags()
	if f&^(snapReserved|snapSettled|snapAbandoned) != 0 {
		return fmt.Errorf("flags %#x", f)
	}
	m.reserved, m.settled, m.abandoned = f&snapReserved != 0, f&snapSettled != 0, f&snapAbandoned != 0
	m.amount = market.Money(h.i64())
	var n int
	if m.quotes, ok = count(p, 1); !ok {
		return errors.New("set-asides due: bad count")
	}
	if n, ok = count(p, 1+snapLeg+1); !ok {
		return errors.New("legs: bad count")
	}
	l.Legs = make([]risk.LiquidationLeg, n)
	m.Legs, m.out = m.legBuf[:0], m.outBuf[:0]
	if n > len(m.legBuf) {
		m.Legs = make([]Leg, 0, n)
	}
	for i := range n {
		if err := m.decodeLeg(p, i, symbols); err != nil {
			return fmt.Errorf("leg %d: %w", i, err)
		}
	}
	if m.collecting, ok = count(p, 1); !ok {
		return errors.New("escrows collecting: bad count")
	}
	b, ok := take(p, 1+8)
	if !ok {
		return errTruncated
	}
	if f = b.flags(); f&^1 != 0 {
		return fmt.Errorf("socialization flags %#x", f)
	}
	m.socialEnd, m.pay = f != 0, market.Money(b.i64())
	if n, ok = count(p, snapPayer); !ok {
		return errors.New("payers: bad count")
	}
	if n > 0 {
		m.payers = make([]Payer, n)
	}
	for k := range m.payers {
		b, _ := take(p, snapPayer) // count saw them in the input
		m.payers[k] = Payer{Leg: int(b.i64()), Account: book.AccountID(b.u64()), Paid: market.Money(b.i64()), Qty: book.Lots(b.i64())}
		if f = b.flags(); f&^1 != 0 {
			return fmt.Errorf("payer %d flags %#x", k, f)
		}
		m.payers[k].Closed = f != 0
	}
	return nil
}

// decodeLeg reads leg i and appends it.
func (m *Machine) decodeLeg(p *[]byte, i int, symbols func(string) *market.Symbol) error {
	k, ok := count(p, 1)
	if !ok {
		return errors.New("bad name length")
	}
	name := string((*p)[:k])
	*p = (*p)[k:]
	b, ok := take(p, snapLeg)
	if !ok {
		return errTruncated
	}
	sym := symbols(name)
	if sym == nil {
		return fmt.Errorf("unknown symbol %q", name)
	}
	lg := &m.L.Legs[i]
	*lg = risk.LiquidationLeg{Symbol: sym, Qty: book.Lots(b.i64()), Remaining: book.Lots(b.i64()), Cost: market.Money(b.i64()),
		Bankruptcy: book.Ticks(b.i64()), Liquidation: book.Ticks(b.i64()), Mark: book.Ticks(b.i64()),
		Deficit: market.Money(b.i64()), Gain: market.Money(b.i64()), Executed: market.Money(b.i64())}
	m.Legs = append(m.Legs, Leg{LiquidationLeg: lg})
	g := &m.Legs[i]
	f := b.flags()
	if f&^(legSocialized|legAsked|legPlanned|legProgress|legOffered) != 0 {
		return fmt.Errorf("flags %#x", f)
	}
	g.Socialized, g.asked, g.planned, g.progress, g.offered = f&legSocialized != 0, f&legAsked != 0, f&legPlanned != 0, f&legProgress != 0, f&legOffered != 0
	if g.Socialized {
		g.socialEffects() // as Start does
	}
	g.quote = Quote{Need: market.Money(b.i64()), Mark: book.Ticks(b.i64())}
	g.share, g.order = market.Money(b.i64()), book.OrderID(b.u64())
	g.pending, g.expect, g.idle = int(b.i64()), book.Lots(b.i64()), int(b.i64())
	sc := &g.social
	if f = b.flags(); f&^(socQuoted|socAsked|socPlanned|socReleased|socEscrowed) != 0 {
		return fmt.Errorf("socialized-round flags %#x", f)
	}
	sc.quoted, sc.asked, sc.planned = f&socQuoted != 0, f&socAsked != 0, f&socPlanned != 0
	sc.released, sc.escrowed = f&socReleased != 0, f&socEscrowed != 0
	sc.capacity, sc.pending, sc.charged = market.Money(b.i64()), int(b.i64()), market.Money(b.i64())
	sc.unpaid, sc.roundPaid, sc.rounds = market.Money(b.i64()), market.Money(b.i64()), int(b.i64())
	sc.want, sc.base = market.Money(b.i64()), market.Money(b.i64())
	g.funding, g.kept = market.Money(b.i64()), market.Money(b.i64())
	var err error
	if g.deferred, err = decodeList(p, snapDeferred, "deferred closes", func(d block) AnswerClose {
		return AnswerClose{Leg: i, Token: d.u64(), Asked: book.Lots(d.i64()), Price: book.Ticks(d.i64())}
	}); err != nil {
		return err
	}
	if g.closers, err = decodeList(p, snapCloser, "closers", func(c block) closer {
		return closer{Account: book.AccountID(c.u64()), Qty: book.Lots(c.i64())}
	}); err != nil {
		return err
	}
	if g.adjusting, ok = count(p, 0); !ok {
		return errors.New("adjustments due: bad count")
	}
	return nil
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
	due, collecting := 0, 0
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
		if sc.quoted && !sc.escrowed {
			collecting++
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
		case g.quote.Need < 0 || g.quote.Mark < 0 || g.share < 0:
			return fmt.Errorf("leg %s need %d quote mark %d share %d", s.Name, g.quote.Need, g.quote.Mark, g.share)
		case !m.reserved && (g.quote != Quote{} || g.share != 0 || g.order != 0 || g.asked || g.planned || g.offered || sc.quoted):
			return fmt.Errorf("leg %s under way before the reservation", s.Name)
		case g.funding != 0 && g.order == 0 && !g.asked:
			return fmt.Errorf("leg %s: funding %d waits for no order or round", s.Name, g.funding)
		case g.order != 0 && (g.asked || g.Remaining == 0):
			return fmt.Errorf("leg %s: order %d with ADL asked %v, remaining %d", s.Name, g.order, g.asked, g.Remaining)
		case g.asked && !g.offered:
			return fmt.Errorf("leg %s asked ADL without offering", s.Name)
		case g.idle < 0 || g.idle > math.MaxInt32:
			return fmt.Errorf("leg %s idle %d", s.Name, g.idle)
		case m.settled && (g.order != 0 || g.asked || len(g.deferred) > 0 || g.adjusting > 0):
			return fmt.Errorf("leg %s settled with answers due", s.Name)
		case len(g.deferred) > 0 && (!g.asked || g.planned || m.abandoned):
			return fmt.Errorf("leg %s: %d closes deferred, asked %v planned %v", s.Name, len(g.deferred), g.asked, g.planned)
		case sc.quoted && !g.Socialized, sc.asked && !sc.quoted, sc.planned && !sc.asked:
			return fmt.Errorf("leg %s: socialized %v, round %+v", s.Name, g.Socialized, *sc)
		case sc.capacity < 0 || sc.charged < 0 || sc.unpaid < 0 || sc.roundPaid < 0 || sc.want < 0 || sc.base < 0 || sc.base > sc.want:
			return fmt.Errorf("leg %s: round amounts %+v", s.Name, *sc)
		case sc.rounds < 0 || sc.rounds > MaxSocialRounds || sc.asked != (sc.rounds > 0):
			return fmt.Errorf("leg %s: %d socialized rounds (asked %v)", s.Name, sc.rounds, sc.asked)
		case sc.escrowed && !sc.quoted, sc.released && !sc.quoted, sc.quoted && !sc.escrowed && !sc.asked:
			return fmt.Errorf("leg %s: escrow %+v", s.Name, *sc)
		}
		if len(g.closers) > 0 && (g.funding == 0 || !g.asked) || g.adjusting > 0 && (g.Remaining != 0 || g.asked || g.funding != 0) {
			return fmt.Errorf("leg %s: closers %v, adjusting %d, funding %d", s.Name, g.closers, g.adjusting, g.funding)
		}
		for _, c := range g.closers {
			if c.Qty <= 0 || c.Qty > abs(g.Qty) {
				return fmt.Errorf("leg %s: closer %+v", s.Name, c)
			}
		}
		for _, d := range g.deferred {
			if d.Asked <= 0 || d.Price < 1 || d.Price > 2*s.MaxPrice { // ApplyFill's range
				return fmt.Errorf("leg %s: deferred close of %d at %d", s.Name, d.Asked, d.Price)
			}
		}
	}
	if m.quotes > due {
		return fmt.Errorf("%d set-asides due of %d socialized legs unquoted", m.quotes, due)
	}
	if m.collecting != collecting || m.pay < 0 || (m.pay > 0 && !m.socialEnd) || (m.socialEnd && !l.Done()) {
		return fmt.Errorf("collecting %d of %d escrows, socialization started %v paying %d", m.collecting, collecting, m.socialEnd, m.pay)
	}
	paid := make([]market.Money, len(m.Legs))
	for _, p := range m.payers {
		if p.Leg < 0 || p.Leg >= len(m.Legs) || p.Paid <= 0 || !m.Legs[p.Leg].Socialized {
			return fmt.Errorf("payer %+v", p)
		}
		paid[p.Leg] += p.Paid
	}
	// The payers are what refunds give back: each leg's, what it charged.
	for i := range m.Legs {
		if paid[i] != m.Legs[i].social.charged {
			return fmt.Errorf("leg %s: payers paid %d, charged %d", m.Legs[i].Symbol.Name, paid[i], m.Legs[i].social.charged)
		}
	}
	if m.pay > m.Charged() {
		return fmt.Errorf("paying the fund %d of %d charged", m.pay, m.Charged())
	}
	return nil
}
