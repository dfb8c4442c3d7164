package risk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// An account snapshot (version 2) holds what the account needs to go on
// exactly as if it had never stopped; integers are little endian, counts
// and lengths minimal uvarints, so an account has one encoding:
//
//	magic    [4]byte "PXRA"
//	version  uint8   2 (1: orders without their open loss; still read)
//	id       uint64
//	mode     uint8   margin mode of new symbols (1 cross, 2 isolated)
//	flags    uint8   bit 0: in liquidation
//	cash     int64
//	slots    uvarint (≤ MaxSymbols), then each slot in slot order:
//	         symbol name (uvarint length, bytes), mode uint8, then int64s:
//	         leverage, qty, cost, margin, mark, realized
//	orders   uvarint, then each open order in the order set's order:
//	         id uint64, slot uint8, side uint8, reduce-only uint8 (0, 1),
//	         then int64s: margin price, remaining qty, open loss (≥ 0, 0
//	         but in cross)
//
// Everything else is derived, and rebuilt on decode by the code that keeps
// it up to date live: each symbol's open-order totals (Notional is linear,
// so the orders' sum is exact), order count and reservation
// (requiredOrderMargin), the account's order margin, the position counts,
// and the cached liquidation and bankruptcy ticks, recomputed where
// afterChange keeps them fresh (isolated positions, a lone cross one) and
// left stale with two or more cross positions, whose ticks live code
// recomputes on demand anyway. Check holds the live account to the same
// rules, so a decoded account equals the original but for stale caches.
//
// An account in liquidation is snapshotted as it is: the flag set, the
// positions taken over already zero, the orders still to cancel open. The
// Liquidation is not the account's; it is snapshotted with its liq.Machine.
const (
	snapMagic   = "PXRA"
	snapVersion = 2
	snapHeader  = 4 + 1 + 8 + 1 + 1 + 8
	snapSlot    = 1 + 6*8 // after the name
	snapOrder   = 8 + 3 + 3*8
	snapOrderV1 = 8 + 3 + 2*8
	snapInLiq   = 1 // flags bit
)

// Errors of DecodeAccountSnapshot; the error's text says what is wrong.
var (
	// ErrSnapshot: the bytes are not a well-formed account snapshot, or the
	// account they describe breaks an invariant (Check).
	ErrSnapshot = errors.New("risk: bad account snapshot")
	// ErrSnapshotVersion: a well-marked snapshot of a version this build
	// cannot read.
	ErrSnapshotVersion = errors.New("risk: unsupported account snapshot version")
	// ErrSnapshotSymbol: the snapshot names a symbol the config lacks.
	ErrSnapshotSymbol = errors.New("risk: account snapshot names an unknown symbol")
)

// AppendSnapshot appends the account's snapshot to dst.
func (a *Account) AppendSnapshot(dst []byte) []byte {
	n := snapHeader + 2*binary.MaxVarintLen64 + a.orders.Len()*snapOrder
	for i := range a.pos {
		n += binary.MaxVarintLen64 + len(a.pos[i].sym.Name) + snapSlot
	}
	dst = slices.Grow(dst, n)
	le := binary.LittleEndian
	var flags byte
	if a.inLiq {
		flags |= snapInLiq
	}
	dst = append(dst, snapMagic...)
	dst = append(dst, snapVersion)
	dst = le.AppendUint64(dst, uint64(a.id))
	dst = append(dst, byte(a.mode), flags)
	dst = le.AppendUint64(dst, uint64(a.cash))
	dst = binary.AppendUvarint(dst, uint64(len(a.pos)))
	for i := range a.pos {
		p := &a.pos[i]
		dst = binary.AppendUvarint(dst, uint64(len(p.sym.Name)))
		dst = append(dst, p.sym.Name...)
		dst = append(dst, byte(p.mode))
		for _, v := range [...]int64{p.lev, int64(p.qty), int64(p.cost), int64(p.margin), int64(p.mark), int64(p.realized)} {
			dst = le.AppendUint64(dst, uint64(v))
		}
	}
	dst = binary.AppendUvarint(dst, uint64(a.orders.Len()))
	for _, o := range a.orders.Values() {
		var ro byte
		if o.reduceOnly {
			ro = 1
		}
		dst = le.AppendUint64(dst, uint64(o.id))
		dst = append(dst, byte(o.slot), byte(o.side), ro)
		dst = le.AppendUint64(dst, uint64(o.price))
		dst = le.AppendUint64(dst, uint64(o.qty))
		dst = le.AppendUint64(dst, uint64(o.loss))
	}
	return dst
}

// DecodeAccountSnapshot decodes the account snapshot at the start of p and
// returns it with the bytes after it. symbols resolves a symbol's name
// (config, not state); an unknown one is ErrSnapshotSymbol. Anything
// malformed, out of range or inconsistent is ErrSnapshot: the account
// returned passes Check. It never panics, and allocates in proportion to
// the snapshot's length, never to a count it claims.
func DecodeAccountSnapshot(p []byte, symbols func(name string) *market.Symbol) (*Account, []byte, error) {
	a, rest, err := decodeAccount(p, symbols)
	if err != nil {
		return nil, nil, err
	}
	if err := a.Check(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return a, rest, nil
}

func decodeAccount(p []byte, symbols func(string) *market.Symbol) (*Account, []byte, error) {
	if len(p) < snapHeader {
		return nil, nil, fmt.Errorf("%w: %d bytes, the header alone has %d", ErrSnapshot, len(p), snapHeader)
	}
	if string(p[:4]) != snapMagic {
		return nil, nil, fmt.Errorf("%w: bad magic %q", ErrSnapshot, p[:4])
	}
	if p[4] != snapVersion && p[4] != 1 {
		return nil, nil, fmt.Errorf("%w: version %d, this build reads 1 and %d", ErrSnapshotVersion, p[4], snapVersion)
	}
	orderSize := snapOrder
	if p[4] == 1 {
		orderSize = snapOrderV1
	}
	le := binary.LittleEndian
	a := &Account{id: book.AccountID(le.Uint64(p[5:])), mode: MarginMode(p[13]), cash: market.Money(le.Uint64(p[15:])), crossSlot: -1}
	switch flags := p[14]; {
	case a.mode != Cross && a.mode != Isolated:
		return nil, nil, fmt.Errorf("%w: margin mode %d", ErrSnapshot, a.mode)
	case flags&^snapInLiq != 0:
		return nil, nil, fmt.Errorf("%w: unknown flags %#x", ErrSnapshot, flags)
	default:
		a.inLiq = flags&snapInLiq != 0
	}
	n, p, err := snapCount(p[snapHeader:], "symbols", 1+snapSlot)
	if err != nil {
		return nil, nil, err
	}
	if n > MaxSymbols {
		return nil, nil, fmt.Errorf("%w: %d symbols, at most %d", ErrSnapshot, n, MaxSymbols)
	}
	a.pos = make([]position, 0, n)
	for range n {
		if p, err = a.decodeSlot(p, symbols); err != nil {
			return nil, nil, err
		}
	}
	if n, p, err = snapCount(p, "orders", orderSize); err != nil {
		return nil, nil, err
	}
	var lim [MaxSymbols]book.Lots
	for i := range a.pos {
		lim[i] = lotsBound(a.pos[i].sym)
	}
	for range n {
		if err := a.decodeOrder(p[:orderSize], &lim); err != nil {
			return nil, nil, err
		}
		p = p[orderSize:]
	}
	for i := range a.pos {
		a.updateOrderMargin(i)
	}
	a.afterChange(-1) // counts, and a lone cross position's ticks
	for i := range a.pos {
		if a.pos[i].mode == Isolated && a.pos[i].qty != 0 {
			a.recompute(i)
		}
	}
	return a, p, nil
}

// snapCount reads a count of items of at least size bytes each, refusing
// one the rest of p cannot hold (so a count never sizes an allocation
// beyond the input).
func snapCount(p []byte, what string, size int) (int, []byte, error) {
	n, w := binary.Uvarint(p)
	switch {
	case w <= 0:
		return 0, nil, fmt.Errorf("%w: %s: bad count", ErrSnapshot, what)
	case w > 1 && p[w-1] == 0:
		return 0, nil, fmt.Errorf("%w: %s: count not minimally encoded", ErrSnapshot, what)
	case n > uint64((len(p)-w)/size):
		return 0, nil, fmt.Errorf("%w: %d %s cannot fit in %d bytes", ErrSnapshot, n, what, len(p)-w)
	}
	return int(n), p[w:], nil
}

// decodeSlot reads one slot and appends it, checking what the rebuild
// needs to stay within int64 and free of division by zero; Check does the
// rest.
func (a *Account) decodeSlot(p []byte, symbols func(string) *market.Symbol) ([]byte, error) {
	n, p, err := snapCount(p, "name bytes", 1)
	if err != nil {
		return nil, err
	}
	name := string(p[:n])
	p = p[n:]
	if len(p) < snapSlot {
		return nil, fmt.Errorf("%w: symbol %q: %d bytes left, a slot has %d", ErrSnapshot, name, len(p), snapSlot)
	}
	sym := symbols(name)
	if sym == nil {
		return nil, fmt.Errorf("%w: %q", ErrSnapshotSymbol, name)
	}
	if a.find(sym) >= 0 {
		return nil, fmt.Errorf("%w: symbol %q twice", ErrSnapshot, name)
	}
	le := binary.LittleEndian
	i64 := func(k int) int64 { return int64(le.Uint64(p[1+8*k:])) }
	s := position{sym: sym, mode: MarginMode(p[0]), lev: i64(0), qty: book.Lots(i64(1)), cost: market.Money(i64(2)),
		margin: market.Money(i64(3)), mark: book.Ticks(i64(4)), realized: market.Money(i64(5))}
	lim := lotsBound(sym)
	switch {
	case s.mode != Cross && s.mode != Isolated:
		return nil, fmt.Errorf("%w: %s margin mode %d", ErrSnapshot, name, s.mode)
	case s.lev < 1 || s.lev > sym.MaxLeverage:
		return nil, fmt.Errorf("%w: %s leverage %d outside [1, %d]", ErrSnapshot, name, s.lev, sym.MaxLeverage)
	case s.qty < -lim || s.qty > lim:
		return nil, fmt.Errorf("%w: %s position %d beyond %d lots", ErrSnapshot, name, s.qty, lim)
	}
	a.pos = append(a.pos, s)
	return p[snapSlot:], nil
}

// decodeOrder reads one open order (snapOrder bytes) into the order set
// and its symbol's totals, which stay within lim (each slot's lotsBound).
func (a *Account) decodeOrder(p []byte, lim *[MaxSymbols]book.Lots) error {
	le := binary.LittleEndian
	o := openOrder{id: book.OrderID(le.Uint64(p)), slot: int32(p[8]), side: book.Side(p[9]), reduceOnly: p[10] == 1,
		price: book.Ticks(le.Uint64(p[11:])), qty: book.Lots(le.Uint64(p[19:]))}
	if len(p) == snapOrder {
		o.loss = market.Money(le.Uint64(p[27:]))
	}
	if int(o.slot) >= len(a.pos) {
		return fmt.Errorf("%w: order %d in slot %d of %d", ErrSnapshot, o.id, o.slot, len(a.pos))
	}
	pos := &a.pos[o.slot]
	sym := pos.sym
	switch {
	case o.side != book.Buy && o.side != book.Sell:
		return fmt.Errorf("%w: order %d side %d", ErrSnapshot, o.id, o.side)
	case p[10] > 1:
		return fmt.Errorf("%w: order %d reduce-only byte %d", ErrSnapshot, o.id, p[10])
	case o.qty < 1 || o.qty > sym.MaxQty:
		return fmt.Errorf("%w: order %d qty %d outside [1, %d]", ErrSnapshot, o.id, o.qty, sym.MaxQty)
	case o.price < 1 || o.price > sym.MaxPrice:
		return fmt.Errorf("%w: order %d price %d outside [1, %d]", ErrSnapshot, o.id, o.price, sym.MaxPrice)
	case o.loss < 0 || o.loss > 0 && pos.mode != Cross || o.loss > maxLoss(sym, o.qty):
		return fmt.Errorf("%w: order %d open loss %d in a %v position", ErrSnapshot, o.id, o.loss, pos.mode)
	case a.orders.Find(o.id) >= 0:
		return fmt.Errorf("%w: order %d twice", ErrSnapshot, o.id)
	}
	so := &pos.side[sideIdx(o.side)]
	if so.qty > lim[o.slot]-o.qty { // keeps the notional sum within int64
		return fmt.Errorf("%w: %s %s orders above %d lots", ErrSnapshot, sym.Name, o.side, lim[o.slot])
	}
	so.qty += o.qty
	so.notional += sym.Notional(o.price, o.qty)
	so.loss += o.loss
	if o.reduceOnly {
		so.roQty += o.qty
	}
	pos.orders++
	a.orders.Add(o.id, o)
	return nil
}
