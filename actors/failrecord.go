package actors

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/liq"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// A failed actor survives a restart: an account out of service, or a
// shared one (a book, the fund, ADL, history) with trading halted. Its
// failure is journaled like any decision (DESIGN.md, "Durability"): the
// supervisor appends recFailed before the actor handles anything else,
// and from then on every message the failed actor handles is journaled as
// before (its answers are decisions other actors' records depend on), the
// re-posted message it panicked on as recRepost and an account's notice
// (failedMsg) as recFailedNotice. Replay meets the same panic on the same
// record (the handlers are deterministic: that is what replay rests on),
// holds it until the record of the failure confirms it, and then takes the
// actor out of service as the supervisor did live; a panic the journal
// does not record (a journal written by other code) still stops the
// recovery, unless it is on the actor's last record (adoptFailures).

// repostMsg is the message a failed actor panicked on, sent to it again by
// its supervisor so that it answers it (reposted).
type repostMsg struct{ m any }

// failureRec is a recFailed record's payload in replay.
type failureRec struct {
	seq    uint64 // the record the actor panicked on; 0: a message not journaled
	reason string
}

// replayFailure is a panic replay met on an actor's record, held until
// the journal's recFailed for it (confirmed) or stopping the recovery.
type replayFailure struct {
	t         *target
	seq       uint64
	msg       any   // what the actor handled then: recRepost hands it again
	err       error // the panic, as Recover reports it when unconfirmed
	confirmed atomic.Bool
	// What the supervisor posted the actor live (the re-post, an account's
	// notice) and no record shows it handled yet: the journal of a crash
	// right after recFailed ends without them, and resume posts them.
	repost, notice bool
	reason         string
}

// failedMessage is the message a failed actor answers: a re-posted one
// unwrapped.
func failedMessage(ctx actor.Context) any {
	if r, ok := ctx.Message().(*repostMsg); ok {
		return r.m
	}
	return ctx.Message()
}

// journalFailure appends the record of the failure of the actor of pid in
// durable mode, before its actor is resumed (so before any record of what
// it does next), and returns its sequence (0: none). message is what it
// panicked on: the record names its sequence when it was journaled, so
// that replay expects the same panic there.
func (x *Exchange) journalFailure(pid *actor.PID, message any, reason string) (at uint64) {
	r := x.rec
	if r == nil || r.replaying.Load() {
		return 0
	}
	v, ok := r.ids.Load(pid)
	if !ok {
		return 0
	}
	p := v.(*peer)
	var seq uint64
	if journaled(unwrapEnvelope(message)) {
		seq = p.mb.j.seq // begin set it before the handler ran
	}
	at = x.appendFailure(p.n, seq, reason)
	if at == 0 {
		x.log.Error("actors: the journal refused the record of a failed actor: a restart will not rebuild it", "actor", pid.Id)
	}
	return at
}

// appendFailure appends a recFailed record: actor n failed on record seq
// (0: a message not journaled) for reason. It returns its sequence, 0 if
// the journal refused it.
func (x *Exchange) appendFailure(n uint32, seq uint64, reason string) uint64 {
	p := binary.AppendUvarint(nil, uint64(x.now()))
	p = binary.AppendUvarint(p, seq)
	return x.rec.w.Append(recFailed, n, appendStr(p, reason), x.rec.durableFn)
}

// beginFailed journals the message a failed actor handles, as begin does
// for one that runs: its answers are decisions other records take. It
// returns the record's sequence (0: none).
func (x *Exchange) beginFailed(ctx actor.Context) uint64 {
	r := x.rec
	if r == nil || r.replaying.Load() || !journaled(ctx.Message()) {
		return 0
	}
	if v, ok := r.ids.Load(ctx.Self()); ok {
		p := v.(*peer)
		x.begin(ctx, p.mb.j, p.n)
		return p.mb.j.seq
	}
	return 0
}

func unwrapEnvelope(m any) any {
	if env, ok := m.(*actor.MessageEnvelope); ok {
		return env.Message
	}
	return m
}

// accountFailed takes account e out of service after its actor panicked on
// message (live, from its supervisor; in replay, at the failure's record,
// at: its sequence). It reports whether this was its first failure.
func (x *Exchange) accountFailed(e *accountEntry, message any, reason string, at uint64) bool {
	first := !e.failed.Swap(true)
	x.log.Error("actors: account actor panicked; stopped it, the account answers INTERNAL from now on (no command brings it back yet)",
		"account", e.name, "reason", reason)
	if r, ok := message.(refusable); ok && !(first && repostedToAccount(message)) {
		r.refuse(wire.Errorf(wire.CodeInternal, "internal error in account %s", e.name))
	}
	if first { // a later panic (an audit of the broken state) must not give back twice
		x.failed.add("account "+e.name, reason, false, at)
	}
	return first
}

// replayFailed runs a recFailed record for t: the failure replay met on
// the record it names (or, for a message not journaled, none) becomes the
// actor's, as its supervisor made it live.
func (w *worker) replayFailed(t *target, seq uint64, f *failureRec) error {
	held := t.failure
	if held != nil && !held.confirmed.Load() && held.seq != f.seq {
		return held.err // live, the actor did not panic there: the panic is this code's
	}
	if f.seq != 0 && (held == nil || held.confirmed.Load()) {
		return fmt.Errorf("%w: the journal says actor %#x failed on record %d (%s); replaying it did not: "+
			"a journal written by another version of perpx", ErrRecover, t.n, f.seq, f.reason)
	}
	if held == nil { // failed on a message not journaled
		held = &replayFailure{}
		t.failure = held
	}
	w.rp.r.x.replayedFailure(t, held, f.reason, seq)
	return nil
}

// replayedFailure takes t out of service for the failure held (confirmed),
// at the record at, as its supervisor did live, and notes what the
// supervisor then posted it.
func (x *Exchange) replayedFailure(t *target, held *replayFailure, reason string, at uint64) {
	held.confirmed.Store(true)
	if x.targetFailed(t, held.msg, reason, at) {
		held.repost = reposted(t, held.msg)
		held.notice, held.reason = t.guard == nil, reason
	}
}

// adoptFailures ends a recovery whose journal ends with actors' panics it
// does not record: the live exchange stopped between the record an actor
// panicked on (its last: a later one would have stopped the recovery) and
// the record of its failure, which it then takes as its supervisor would
// have, journaling the failure now. The handlers are deterministic, and
// the journal's Behaviour is this binary's, so the live actor panicked
// there too.
func (x *Exchange) adoptFailures(rp *replayer) error {
	for _, f := range rp.held {
		if f.confirmed.Load() {
			continue
		}
		at := x.appendFailure(f.t.n, f.seq, f.reason)
		if at == 0 {
			return f.err
		}
		if f.t.guard != nil {
			x.failed.mark(at, f.t.guard.name, f.reason, true)
		}
		x.log.Error("actors: the journal ends with a panic it does not record: the actor failed there", "actor", f.t.n, "record", f.seq)
		x.replayedFailure(f.t, f, f.reason, at)
	}
	return nil
}

// reposted says whether t's supervisor posts m, which t failed on, to t
// again to be answered (not refused).
func reposted(t *target, m any) bool {
	if t.guard == nil {
		return repostedToAccount(m)
	}
	return answeredByFailedBook(m)
}

// repostedToAccount reports whether a failed account's supervisor posts m,
// which it panicked on, to it again: a protocol message another actor
// waits on (answeredWhenFailed), or a book's cancel answer, whose orders
// the failed account forgets as it answers it (refuseAll); other requests
// are refused in place.
func repostedToAccount(m any) bool {
	if _, ok := m.(*canceledMsg); ok {
		return true
	}
	_, refused := m.(refusable)
	return !refused && answeredWhenFailed(m)
}

// targetFailed takes t out of service as its supervisor did live (at: the
// failure's record, 0 for a later panic) and reports whether this was its
// first failure.
func (x *Exchange) targetFailed(t *target, msg any, reason string, at uint64) bool {
	if t.guard != nil {
		return x.sharedFailed(t.guard, msg, reason, at)
	}
	return x.accountFailed(t.recv.(*accountActor).e, msg, reason, at)
}

// postFailures posts what the supervisors of actors that failed posted
// them live and the journal does not show handled (resume).
func (x *Exchange) postFailures() {
	for _, t := range x.rec.targets {
		if f := t.failure; f != nil {
			if f.repost {
				x.post(t.pid, nil, &repostMsg{m: f.msg})
			}
			if f.notice {
				x.post(t.pid, nil, &failedMsg{reason: f.reason})
			}
			t.failure = nil
		}
	}
}

// outOfService says whether t has failed.
func (t *target) outOfService() bool {
	if t.guard != nil {
		return t.guard.failed.Load()
	}
	return t.recv.(*accountActor).e.failed.Load()
}

// held takes a panic on t's record seq: an actor's first is held until the
// journal's record of its failure (replayFailed), a failed actor's later
// one is handled as its supervisor did live. It reports whether the panic
// was taken; otherwise it stops the recovery.
func (w *worker) held(t *target, seq uint64, msg, p any, err error) bool {
	switch {
	case t.failure != nil && !t.failure.confirmed.Load():
		return false
	case t.failure != nil || t.outOfService():
		w.rp.r.x.targetFailed(t, msg, fmt.Sprint(p), 0)
		return true
	}
	t.failure = &replayFailure{t: t, seq: seq, msg: msg, err: err, reason: fmt.Sprint(p)}
	w.rp.mu.Lock()
	w.rp.held = append(w.rp.held, t.failure)
	w.rp.mu.Unlock()
	return true
}

// snapshotFailed returns the failed accounts a snapshot keeps (their
// state frozen as it is, out of service again when loaded: appendFailed),
// or why it cannot be taken: a shared actor failed (trading is halted), an
// account failed in a partial liquidation whose result has not come (which
// a snapshot cannot hold) or with a state that breaks risk's invariants (a
// snapshot refuses it),
// or an account's abandoned liquidation still waits for an answer
// (ErrBusy: liq.Machine.Quiet, try later).
func (x *Exchange) snapshotFailed() ([]failedAccount, error) {
	var as []failedAccount
	for _, f := range x.failed.all() {
		name, ok := strings.CutPrefix(f.Actor, "account ")
		if !ok {
			return nil, fmt.Errorf("%w: %s failed: a snapshot would keep its broken state", ErrSnapshot, f.Actor)
		}
		t, _ := x.rec.target(actorAccount + uint32(x.accounts.get(x, name).id))
		a := t.recv.(*accountActor)
		if a.partial != nil {
			return nil, fmt.Errorf("%w: account %s failed in its partial liquidation, which a snapshot cannot keep", ErrSnapshot, name)
		}
		if err := a.abandonedSnapshotable(); err != nil {
			return nil, err
		}
		for i := range a.wallets {
			if err := a.wallets[i].acct.Check(); err != nil {
				return nil, fmt.Errorf("%w: account %s failed with a broken state: %v", ErrSnapshot, name, err)
			}
		}
		as = append(as, failedAccount{a, f.Reason})
	}
	return as, nil
}

// abandonedSnapshotable says why a snapshot cannot keep the failed
// account's abandoned liquidation yet (nil: none, or one it keeps). It
// keeps one only once nothing can reach it (liq.Machine.Quiet): every
// answer it was due is then booked on its frozen legs, and none comes
// after the snapshot for the restarted exchange to miss. Before, it never
// did, and from the first account that failed while liquidating no
// snapshot was ever taken again. A machine its checks refuse (the panic
// broke it) would make the snapshot unloadable: refused.
func (a *accountActor) abandonedSnapshotable() error {
	lq := a.liq
	if lq == nil {
		return nil
	}
	if !lq.Quiet() || lq.SnapshotReady() != nil {
		return fmt.Errorf("%w: account %s failed in its liquidation, which still waits for answers", ErrBusy, a.e.name)
	}
	if _, _, err := liq.DecodeSnapshot(lq.AppendSnapshot(nil), a.x.symbolOf, liq.Config{}); err != nil {
		return fmt.Errorf("%w: account %s failed in its liquidation, leaving it broken: %v", ErrSnapshot, a.e.name, err)
	}
	return nil
}

// symbolOf is the compiled symbol named name, nil when none is.
func (x *Exchange) symbolOf(name string) *market.Symbol {
	if h := x.symbol(name); h != nil {
		return h.sym
	}
	return nil
}

// failedAccount is a failed account a snapshot keeps.
type failedAccount struct {
	a      *accountActor
	reason string
}

// appendFailed ends snapshot p (after its behaviour version, so that
// snapshots without failed accounts read as before) with the failed
// accounts, the reasons, the money and the fills held for them, then (only
// when there are any, so that snapshots without read as before) their
// abandoned liquidations, then the rules fingerprint the records after it
// are decided under (Options.Rules; 0: none, and both sections before it
// then only when there is something in them), and rehashes it.
func appendFailed(p []byte, as []failedAccount, rules uint64) []byte {
	if len(as) == 0 && rules == 0 {
		return p
	}
	p = p[:len(p)-sha256.Size]
	p = binary.AppendUvarint(p, uint64(len(as)))
	for _, f := range as {
		p = appendStr(p, f.a.e.name)
		p = appendStr(p, f.reason)
		for i := range f.a.wallets {
			p = binary.AppendVarint(p, int64(f.a.wallets[i].held))
		}
		p = binary.AppendUvarint(p, uint64(len(f.a.held))) // 0 or every symbol
		for _, g := range f.a.held {
			p = binary.AppendUvarint(p, uint64(g.Fills))
			for _, v := range []int64{int64(g.Buy), int64(g.Sell), int64(g.Cost), int64(g.Fee)} {
				p = binary.AppendVarint(p, v)
			}
		}
	}
	p = appendAbandoned(p, as, rules != 0)
	if rules != 0 {
		p = binary.AppendUvarint(p, rules)
	}
	sum := sha256.Sum256(p)
	return append(p, sum[:]...)
}

// loadFailed reads what appendFailed wrote: the accounts are out of
// service again, for the reasons the failures list kept.
func (x *Exchange) loadFailed(d *payload) {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("failed accounts")
		return
	}
	var failed []*accountActor
	for range n {
		e, ok := x.accounts.byName.Load(d.str())
		if !ok || d.err != nil {
			d.fail("failed account")
			return
		}
		a := e.(*accountEntry)
		reason := d.str()
		t, _ := x.rec.target(actorAccount + uint32(a.id))
		acct := t.recv.(*accountActor)
		for i := range acct.wallets {
			acct.wallets[i].held = market.Money(d.varint())
		}
		switch n := d.uvarint(); n {
		case 0:
		case uint64(len(x.symbols)):
			acct.held = make([]HeldFill, n)
			for i := range acct.held {
				g := &acct.held[i]
				g.Fills = int(d.uvarint())
				g.Buy, g.Sell = book.Lots(d.varint()), book.Lots(d.varint())
				g.Cost, g.Fee = market.Money(d.varint()), market.Money(d.varint())
			}
		default:
			d.fail("held fills")
			return
		}
		a.failed.Store(true)
		x.failed.add("account "+a.name, reason, false, 0) // before any failure the records after it add
		failed = append(failed, acct)
	}
	if len(d.p) != 0 && d.err == nil { // absent without an abandoned liquidation
		loadAbandoned(d, failed)
	}
}

// appendAbandoned appends the abandoned liquidations of the failed
// accounts as (Quiet, snapshotFailed checked it): their count, then each
// one's index in as and its liq snapshot. None: nothing, unless always
// (a section follows).
func appendAbandoned(p []byte, as []failedAccount, always bool) []byte {
	n := 0
	for _, f := range as {
		if f.a.liq != nil {
			n++
		}
	}
	if n == 0 && !always {
		return p
	}
	p = binary.AppendUvarint(p, uint64(n))
	for i, f := range as {
		if f.a.liq != nil {
			p = binary.AppendUvarint(p, uint64(i))
			p = f.a.liq.AppendSnapshot(p)
		}
	}
	return p
}

// loadAbandoned reads what appendAbandoned wrote: each failed account
// holds its abandoned liquidation again, quiet as it was.
func loadAbandoned(d *payload, failed []*accountActor) {
	n := d.uvarint()
	if n > uint64(len(failed)) {
		d.fail("abandoned liquidations")
		return
	}
	for range n {
		i := d.uvarint()
		if d.err != nil || i >= uint64(len(failed)) || failed[i].liq != nil {
			d.fail("abandoned liquidation")
			return
		}
		a := failed[i]
		lq := new(liquidation)
		if d.p, d.err = liq.DecodeSnapshotInto(&lq.Machine, d.p, a.x.symbolOf, a.liqConfig()); d.err != nil {
			d.err = fmt.Errorf("%w: %w", ErrSnapshot, d.err)
			return
		}
		if lq.L.Account != a.e.id || !lq.Quiet() || len(lq.Legs) == 0 || !a.risk(a.x.symbol(lq.Legs[0].Symbol.Name)).InLiquidation() {
			d.fail("abandoned liquidation of another account, not quiet or not taken over")
			return
		}
		lq.hs = lq.hsBuf[:0]
		for i := range lq.Legs {
			lq.hs = append(lq.hs, a.x.symbol(lq.Legs[i].Symbol.Name))
		}
		a.liq = lq
	}
}
