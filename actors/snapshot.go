package actors

// Snapshots of a durable exchange (DESIGN.md "Durability: the journal"):
// the state of every actor at journal sequence N, taken when nothing is in
// flight between actors, so recovery loads it and replays the records
// after N. The cores encode themselves (their AppendSnapshot); this file
// adds what the actors keep beside them and frames it all with a SHA-256.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/perpx/perpx/adl"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// snapMagic starts every exchange snapshot (version 1).
const snapMagic = "PERPXSNAP1\n"

// Errors of Snapshot and LoadSnapshot.
var (
	// ErrBusy: no quiescent point came within the wait (a liquidation in
	// flight, or a steady stream of messages): try again later.
	ErrBusy = errors.New("actors: the exchange is not quiescent")
	// ErrSnapshot: the snapshot is damaged, truncated or of another
	// configuration; the caller should try an older one.
	ErrSnapshot = errors.New("actors: bad snapshot")
)

// Snapshot encodes the whole exchange at a quiescent point and returns it
// with the journal sequence it is taken at. Requests from outside wait
// while it runs (at most wait for the actors to drain, then the encoding);
// the caller stores it once the journal is durable up to seq.
func (x *Exchange) Snapshot(wait time.Duration) (p []byte, seq uint64, err error) {
	r := x.rec
	if r == nil {
		return nil, 0, fmt.Errorf("%w: the exchange has no journal", ErrSnapshot)
	}
	r.gate.Lock()
	defer r.gate.Unlock()
	deadline := time.Now().Add(wait)
	for r.inflight.Load() != 0 {
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("%w: %d messages in flight", ErrBusy, r.inflight.Load())
		}
		time.Sleep(50 * time.Microsecond)
	}
	failed, err := x.snapshotFailed()
	if err != nil {
		return nil, 0, err
	}
	seq = r.w.Last()
	p, err = x.encodeSnapshot(seq)
	if err == nil {
		p = appendFailed(p, failed, x.rules)
	}
	return p, seq, err
}

// encodeSnapshot writes every actor's state; the actors are idle (the
// inflight counter's atomics order their writes before these reads).
func (x *Exchange) encodeSnapshot(seq uint64) ([]byte, error) {
	p := append([]byte(snapMagic), make([]byte, 8)...)
	binary.BigEndian.PutUint64(p[len(snapMagic):], seq)
	p = binary.AppendUvarint(p, uint64(len(x.symbols)))
	for _, h := range x.symbols {
		p = appendStr(p, h.sym.Name)
	}
	accts := x.accounts.all()
	p = binary.AppendUvarint(p, uint64(len(accts)))
	for _, e := range accts {
		p = appendStr(p, e.name)
	}
	r := x.rec
	for _, h := range x.symbols {
		t, _ := r.target(actorSymbol + uint32(h.idx))
		p = t.recv.(*symbolActor).appendSnapshot(p)
	}
	t, _ := r.target(actorFund)
	p = t.recv.(*fundActor).appendSnapshot(p)
	t, _ = r.target(actorADL)
	var err error
	if p, err = t.recv.(*adlActor).appendSnapshot(p); err != nil {
		return nil, err
	}
	for _, e := range accts {
		t, _ := r.target(actorAccount + uint32(e.id))
		if p, err = t.recv.(*accountActor).appendSnapshot(p); err != nil {
			return nil, err
		}
	}
	p = x.appendConditional(p, accts)
	t, _ = r.target(actorHistory)
	p = t.recv.(*historyActor).appendSnapshot(p)
	for _, e := range accts {
		t, _ := r.target(actorAccount + uint32(e.id))
		p = t.recv.(*accountActor).appendHistory(p)
	}
	t, _ = r.target(actorFund)
	for _, u := range t.recv.(*fundActor).uncovered[1:] {
		p = binary.AppendVarint(p, u)
	}
	for _, e := range accts {
		t, _ := r.target(actorAccount + uint32(e.id))
		for i := 1; i < len(x.assets); i++ {
			p = t.recv.(*accountActor).wallets[i].appendSnapshot(p)
		}
	}
	for _, e := range accts {
		t, _ := r.target(actorAccount + uint32(e.id))
		p = t.recv.(*accountActor).appendIncome(p)
	}
	p = binary.AppendUvarint(p, Behaviour) // whatever the journal holds after seq, this version wrote
	sum := sha256.Sum256(p)
	return append(p, sum[:]...), nil
}

// SnapshotSeq is the journal sequence a snapshot was taken at, after
// checking its hash.
func SnapshotSeq(p []byte) (uint64, error) {
	body, err := snapshotBody(p)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(body[len(snapMagic):]), nil
}

func snapshotBody(p []byte) ([]byte, error) {
	if len(p) < len(snapMagic)+8+sha256.Size || string(p[:len(snapMagic)]) != snapMagic {
		return nil, fmt.Errorf("%w: not a perpx snapshot", ErrSnapshot)
	}
	body := p[:len(p)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], p[len(body):]) {
		return nil, fmt.Errorf("%w: its hash does not match (damaged or truncated)", ErrSnapshot)
	}
	return body, nil
}

// LoadSnapshot restores the exchange from a snapshot, before Recover
// replays the records after it; it returns the snapshot's sequence. On an
// error the exchange is unusable: start a new one and try an older
// snapshot.
func (x *Exchange) LoadSnapshot(p []byte) (seq uint64, err error) {
	r := x.rec
	if r == nil {
		return 0, fmt.Errorf("%w: the exchange has no journal", ErrSnapshot)
	}
	body, err := snapshotBody(p)
	if err != nil {
		return 0, err
	}
	seq = binary.BigEndian.Uint64(body[len(snapMagic):])
	r.replaying.Store(true)
	r.pending = map[uint64]*pendingTimer{}
	defer r.replaying.Store(false)
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", ErrSnapshot, v)
		}
	}()
	d := &payload{p: body[len(snapMagic)+8:]}
	if n := d.uvarint(); n != uint64(len(x.symbols)) {
		return 0, fmt.Errorf("%w: %d symbols, the exchange runs %d", ErrSnapshot, n, len(x.symbols))
	}
	for _, h := range x.symbols {
		if name := d.str(); name != h.sym.Name {
			return 0, fmt.Errorf("%w: symbol %q where the exchange runs %q", ErrSnapshot, name, h.sym.Name)
		}
	}
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("account count")
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		if e := x.accounts.get(x, d.str()); uint64(e.id) != i+1 {
			return 0, fmt.Errorf("%w: account %s is %d here, %d in the snapshot", ErrSnapshot, e.name, e.id, i+1)
		}
	}
	for _, h := range x.symbols {
		t, _ := r.target(actorSymbol + uint32(h.idx))
		t.recv.(*symbolActor).loadSnapshot(d)
	}
	t, _ := r.target(actorFund)
	t.recv.(*fundActor).loadSnapshot(d)
	t, _ = r.target(actorADL)
	t.recv.(*adlActor).loadSnapshot(d)
	for _, e := range x.accounts.all() {
		t, _ := r.target(actorAccount + uint32(e.id))
		t.recv.(*accountActor).loadSnapshot(d)
	}
	if len(d.p) != 0 && d.err == nil { // absent from snapshots taken before conditional orders existed
		x.loadConditional(d)
	}
	if len(d.p) != 0 && d.err == nil { // and before the history actor
		t, _ := r.target(actorHistory)
		t.recv.(*historyActor).loadSnapshot(d)
	}
	if len(d.p) != 0 && d.err == nil { // and before accounts kept theirs
		for _, e := range x.accounts.all() {
			t, _ := r.target(actorAccount + uint32(e.id))
			t.recv.(*accountActor).loadHistory(d)
		}
	}
	if len(d.p) != 0 && d.err == nil { // and before wallets: the other assets'
		t, _ := r.target(actorFund)
		fa := t.recv.(*fundActor)
		for i := 1; i < len(x.assets); i++ {
			fa.uncovered[i] = d.varint()
		}
		for _, e := range x.accounts.all() {
			t, _ := r.target(actorAccount + uint32(e.id))
			for i := 1; i < len(x.assets); i++ {
				t.recv.(*accountActor).loadWallet(d, i)
			}
		}
	}
	if len(d.p) != 0 && d.err == nil { // and before the accounts' income
		for _, e := range x.accounts.all() {
			t, _ := r.target(actorAccount + uint32(e.id))
			t.recv.(*accountActor).loadIncome(d)
		}
	}
	r.wrote, r.rules = 0, 0 // the records after a snapshot of before versions: none recorded
	if len(d.p) != 0 && d.err == nil {
		r.wrote = d.uvarint()
	}
	if len(d.p) != 0 && d.err == nil { // absent from snapshots taken before a failed account was kept
		x.loadFailed(d)
	}
	if len(d.p) != 0 && d.err == nil { // absent from snapshots taken before the rules were kept
		r.rules = d.uvarint()
	}
	if d.err != nil {
		return 0, d.err
	}
	if len(d.p) != 0 {
		return 0, fmt.Errorf("%w: %d bytes after the behaviour version", ErrSnapshot, len(d.p))
	}
	r.loaded = true
	return seq, nil
}

// core decodes a core's snapshot at the start of d.
func core[T any](d *payload, decode func([]byte) (T, []byte, error)) T {
	var zero T
	if d.err != nil {
		return zero
	}
	v, rest, err := decode(d.p)
	if err != nil {
		d.err = fmt.Errorf("%w: %w", ErrSnapshot, err)
		d.p = nil
		return zero
	}
	d.p = rest
	return v
}

func (s *symbolActor) appendSnapshot(p []byte) []byte {
	p = s.book.AppendSnapshot(p)
	p = s.ms.AppendSnapshot(p)
	p = binary.AppendUvarint(p, s.seq)
	p = binary.AppendUvarint(p, s.tradeSeq)
	p = binary.AppendVarint(p, s.h.mark.Load())
	p = binary.AppendVarint(p, s.h.index.Load())
	p = binary.AppendUvarint(p, uint64(len(s.refs)))
	for _, r := range s.refs {
		if r == nil {
			p = append(p, 0)
			continue
		}
		p = append(p, 1+flags(r.sub, false))
		p = binary.AppendUvarint(p, r.fills)
	}
	return p
}

func (s *symbolActor) loadSnapshot(d *payload) {
	s.book = core(d, book.DecodeBookSnapshot)
	s.ms = core(d, func(p []byte) (*market.MarkState, []byte, error) { return market.DecodeMarkSnapshot(s.sym, p) })
	s.seq, s.tradeSeq = d.uvarint(), d.uvarint()
	s.h.trades.Store(s.tradeSeq)
	s.h.mark.Store(d.varint())
	s.h.index.Store(d.varint())
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("refs")
	}
	for id := range n {
		f := d.byte()
		if f == 0 || d.err != nil {
			continue
		}
		e := s.x.accounts.entry(book.AccountID(id))
		if e == nil {
			d.fail("ref to an unknown account")
			return
		}
		r := s.ref(e.id, e.pid)
		r.sub, _ = flagsOf(f - 1)
		r.fills = d.uvarint()
		if r.sub {
			s.subs[e.id] = r
		}
	}
}

func (a *fundActor) appendSnapshot(p []byte) []byte {
	p = a.f.AppendSnapshot(p)
	p = binary.AppendVarint(p, a.uncovered[0]) // the other assets' in the wallets section
	ids := slices.Sorted(maps.Keys(a.names))
	p = binary.AppendUvarint(p, uint64(len(ids)))
	for _, id := range ids {
		p = binary.AppendUvarint(p, id)
		p = appendStr(p, a.names[id])
	}
	return p
}

func (a *fundActor) loadSnapshot(d *payload) {
	a.f = core(d, fund.DecodeSnapshot)
	if a.f != nil {
		if err := a.f.Resize(a.x.fundConfig()); err != nil { // the retention may differ from the snapshot's
			d.fail("fund caps: " + err.Error())
		}
	}
	a.uncovered[0] = d.varint()
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("fund names")
	}
	if a.names == nil {
		a.names = map[uint64]string{}
	}
	for range n {
		id := d.uvarint()
		a.names[id] = d.str()
	}
}

func (a *adlActor) appendSnapshot(p []byte) ([]byte, error) {
	if len(a.pending) != 0 || a.flushing {
		return nil, fmt.Errorf("%w: ADL requests pending", ErrBusy)
	}
	for _, rk := range a.ranks {
		p = rk.AppendSnapshot(p)
	}
	ids := slices.Sorted(maps.Keys(a.refs))
	p = binary.AppendUvarint(p, uint64(len(ids)))
	for _, id := range ids {
		p = binary.AppendUvarint(p, uint64(id))
	}
	return p, nil
}

func (a *adlActor) loadSnapshot(d *payload) {
	for i := range a.ranks {
		a.ranks[i] = core(d, adl.DecodeSnapshot)
	}
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("ADL refs")
	}
	for range n {
		e := a.x.accounts.entry(book.AccountID(d.uvarint()))
		if e == nil {
			d.fail("ADL ref to an unknown account")
			return
		}
		a.refs[e.id] = &adlRef{pid: e.pid, name: e.name}
	}
}

func (a *accountActor) appendSnapshot(p []byte) ([]byte, error) {
	if (a.liq != nil && !a.e.failed.Load()) || a.partial != nil { // a failed one's: appendFailed
		return nil, fmt.Errorf("%w: account %s is being liquidated", ErrBusy, a.e.name)
	}
	p = a.wallets[0].appendSnapshot(p) // the other wallets' in the wallets section
	p = binary.AppendUvarint(p, a.seq)
	for _, st := range a.syms {
		p = binary.AppendUvarint(p, st.fills)
		p = append(p, flags(st.subscribed, st.funded != 0))
		p = binary.AppendVarint(p, int64(st.adl))
		if st.funded != 0 { // flagged, so snapshots written before it load
			p = binary.AppendVarint(p, st.funded)
		}
	}
	orders := a.orders.sorted()
	p = binary.AppendUvarint(p, uint64(len(orders)))
	for _, o := range orders {
		p = appendOrder(p, o)
	}
	dm := &a.deadman
	p = binary.AppendUvarint(p, dm.gen)
	if t := dm.timer; t != nil {
		p = append(p, 1)
		p = binary.AppendVarint(p, t.due)
		p = binary.AppendUvarint(p, t.id)
	} else {
		p = append(p, 0)
	}
	return p, nil
}

// appendOrder writes the terms and state of o (open or closed).
func appendOrder(p []byte, o *order) []byte {
	p = binary.AppendUvarint(p, uint64(o.id))
	p = binary.AppendUvarint(p, uint64(o.h.idx))
	p = appendStr(p, o.clientID)
	p = append(p, byte(o.side), byte(o.typ), byte(o.tif), flags(o.reduceOnly, o.postOnly)|byte(o.stp)<<2) // bits 2-3: STP (0 before it was kept)
	p = binary.AppendVarint(p, int64(o.price))
	p = binary.AppendVarint(p, int64(o.qty))
	p = binary.AppendVarint(p, int64(o.filled))
	p = binary.AppendVarint(p, int64(o.value))
	p = appendStr(p, string(o.status))
	p = binary.AppendVarint(p, o.createdMs)
	p = appendDec(p, o.wprice)
	return appendDec(p, o.wqty)
}

// decodeOrder reads what appendOrder wrote into o; false when d failed.
func (a *accountActor) decodeOrder(d *payload, o *order) bool {
	if d.err != nil {
		return false
	}
	o.id = book.OrderID(d.uvarint())
	o.h = d.sym(a.x, false)
	o.clientID = d.str()
	o.side, o.typ, o.tif = book.Side(d.byte()), book.OrderType(d.byte()), book.TIF(d.byte())
	f := d.byte()
	o.reduceOnly, o.postOnly = flagsOf(f)
	o.stp = book.STPMode(f >> 2 & 3)
	o.price, o.qty, o.filled = book.Ticks(d.varint()), book.Lots(d.varint()), book.Lots(d.varint())
	o.value = market.Money(d.varint())
	o.status = wire.Status(d.str())
	o.createdMs = d.varint()
	o.updatedMs = o.createdMs // the account-history section has the later ones
	o.wprice, o.wqty = d.dec(), d.dec()
	if len(o.clientID) > wire.MaxTokenLen {
		d.fail("client order id")
	}
	if d.err != nil {
		return false
	}
	o.wid = a.idString(o.id)
	return true
}

func (a *accountActor) loadSnapshot(d *payload) {
	a.loadWallet(d, 0)
	a.seq = d.uvarint()
	for i := range a.syms {
		st := &a.syms[i]
		st.fills = d.uvarint()
		var funded bool
		st.subscribed, funded = d.flags()
		st.adl = book.Lots(d.varint())
		if funded {
			st.funded = d.varint()
		}
	}
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("orders")
	}
	for range n {
		o := &order{}
		if !a.decodeOrder(d, o) {
			return
		}
		a.orders.add(o)
		if o.clientID != "" {
			a.byClient[o.clientID] = o.id
		}
	}
	dm := &a.deadman
	dm.gen = d.uvarint()
	if armed, _ := d.flags(); armed {
		due, id := d.varint(), d.uvarint()
		ref := &timerRef{id: id, due: due}
		dm.timer = ref
		a.x.rec.pending[id] = &pendingTimer{ref: ref, due: due, self: a.e.pid, m: &deadmanMsg{gen: dm.gen, timer: id}}
	}
}
