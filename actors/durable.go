package actors

// Durable mode (Options.Journal; DESIGN.md "Durability: the journal"):
// every actor appends a record of each state-changing message before it
// handles it, replies and events wait until that record is durable, and
// Recover rebuilds the state by running the same handlers over the
// journal. What a handler reads besides its message comes from its record:
// the time (the record's), order and timer ids (the record's sequence) and,
// for an order, the symbol's mark.

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// Journal is where a durable exchange appends its records; journal.Writer
// implements it. onDurable runs once per record, in sequence order, when
// the record is stored (err nil) or can no longer be.
type Journal interface {
	Append(kind uint16, actor uint32, payload []byte, onDurable func(seq uint64, err error)) uint64
	// Last is the sequence of the latest record appended.
	Last() uint64
	// Durable is the sequence up to which every record is stored.
	Durable() uint64
}

// Record kinds. A record's payload starts with the time (unix ms, uvarint)
// its actor handles it at.
const (
	recGenesis uint16 = 1 + iota // the exchange's first start
	recAccount                   // an account's first use: its name
	recMsg                       // a message from another actor: the sender's number
	recPlace                     // the external inputs (codec.go)
	recCancel
	recCancelAll
	recCancelAfter
	recDeadman
	recLeverage
	recDeposit
	recIndex
	recFundDeposit
	recADLRetry
	recAmend
	recMarginMode
	recPositionMargin
	recWithdraw
	recLeader  // a writer took over the journal (LeaderRecord); changes nothing
	recVersion // the Behaviour of the exchange appending the records after it
	// recMerged: the ADL actor took n ≥ 2 position reports an account had
	// merged while queued (adlReport): the sender's number, then n.
	recMerged
	// recFailed: the account's actor panicked (accountSupervisor) on the
	// record of the sequence it names (0: on a message not journaled), and
	// the reason; written before the account handles anything else.
	recFailed
	// recRepost: the failed account answers the message it panicked on
	// (repostMsg).
	recRepost
	// recFailedNotice: the failed account gives up what it held for others
	// (failedMsg): the reason.
	recFailedNotice
	// recResume: a failed book back in service (admin.resume; resume.go).
	recResume
)

// Behaviour is the version of the decisions the actors make on the same
// records. Replay runs the records through this binary's actors, so a
// journal's records must be replayed by the Behaviour that wrote them:
// recovery refuses records of another one (DESIGN.md, "Durability").
// Bump it with any change that makes the actors, or the cores they run,
// handle the same messages differently; TestBehaviourVersion replays a
// journal kept in testdata and fails when its state changes while this
// number did not.
const Behaviour = 23

// Actor numbers in the journal.
const (
	actorFund    uint32 = 1
	actorADL     uint32 = 2
	actorHistory uint32 = 3
	actorSymbol  uint32 = 0x100   // + symbol index
	actorAccount uint32 = 0x10000 // + account id
)

// LeaderRecord is the record a new leader appends to take over the
// journal (journal.Follower.Promote's mark): the time and its name. Replay
// passes over it; it is in the journal only to fence the writer before.
func LeaderRecord(ms int64, name string) (kind uint16, actor uint32, payload []byte) {
	return recLeader, 0, append(binary.AppendUvarint(nil, uint64(ms)), name...)
}

// VersionRecord is the record every start appends (Recover): the time,
// the Behaviour v of the exchange appending the records after it and the
// fingerprint of its rules (Options.Rules; 0: not written). Replay refuses
// those records unless v is its own (ErrBehaviour) and the rules are its
// own or either is unknown (ErrRules).
func VersionRecord(ms int64, v, rules uint64) (kind uint16, actor uint32, payload []byte) {
	p := binary.AppendUvarint(binary.AppendUvarint(nil, uint64(ms)), v)
	if rules != 0 {
		p = binary.AppendUvarint(p, rules)
	}
	return recVersion, 0, p
}

// maxIDsPerRecord bounds the ids one record issues: ids are seq<<8 | k.
const maxIDsPerRecord = 256

// jstate is an actor's view of the record it is handling in durable mode.
type jstate struct {
	seq uint64
	ms  int64
	ids uint64
	buf []byte // payload scratch (Append copies it)
	// from is the number of the exchange actor that sent the message
	// being handled when it was posted straight to the mailbox (sendCtx);
	// 0 otherwise (an input, or a sender named by an envelope).
	from uint32
	// merged is how many of the sender's position reports the message
	// being handled merged (adlReport.take), when more than one.
	merged uint32
}

// clock is the time for the handler of j's record: the record's in durable
// mode, the exchange clock otherwise.
func (x *Exchange) clock(j *jstate) int64 {
	if x.rec == nil {
		return x.now()
	}
	return j.ms
}

// newID issues an order, reservation or timer id: the journal sequence of
// the record being handled (shifted, plus its index within the record) in
// durable mode, so replay issues the same ids; a counter otherwise.
func (x *Exchange) newID(j *jstate) uint64 {
	if x.rec == nil {
		return x.orderIDs.Add(1)
	}
	if j.ids == maxIDsPerRecord {
		panic(fmt.Sprintf("actors: record %d issued more than %d ids", j.seq, maxIDsPerRecord))
	}
	j.ids++
	return j.seq<<8 | (j.ids - 1)
}

// timerID names a timer in durable mode (0 otherwise).
func (x *Exchange) timerID(j *jstate) uint64 {
	if x.rec == nil {
		return 0
	}
	return x.newID(j)
}

func (m *deadmanMsg) timerID() uint64  { return m.timer }
func (m *adlRetryMsg) timerID() uint64 { return m.timer }

// markOf is the mark a check outside a mark message uses: the symbol's
// latest, or in durable mode the one the account was last sent (it holds a
// position, so it gets every mark), which replay sees too.
func (a *accountActor) markOf(h *symbolHandle, p risk.PositionState) book.Ticks {
	if a.x.rec != nil {
		return p.Mark
	}
	return h.lastMark()
}

// target is an actor as recovery drives it.
type target struct {
	recv actor.Actor // the actor itself, not its guard
	pid  *actor.PID
	j    *jstate
	n    uint32
	in   inbox // recovery: the messages sent to it, by sender (replay.go)
	// failure is the panic recovery met on this actor's record, for its
	// worker only (failrecord.go).
	failure *replayFailure
	guard   *guard // a singleton's, nil for an account
}

// durability is the exchange's side of the journal.
type durability struct {
	x         *Exchange
	w         Journal
	durableFn func(uint64, error) // onDurable

	ids     sync.Map // *actor.PID -> *peer
	mu      sync.Mutex
	targets map[uint32]*target
	// For recovery's goroutine, which alone registers actors meanwhile
	// (no lock, no sync.Map): the targets by PID, and by number in
	// slices (replayTarget).
	byPID          map[*actor.PID]*target
	fixed          [actorSymbol]*target
	symbols, accts []*target

	// Replies and events held until the journal is durable past seq.
	wmu     sync.Mutex
	durable uint64
	failed  error
	waiting []waiter

	// gate holds posts from outside while a snapshot is taken; inflight
	// counts the messages posted or sent and not handled yet.
	gate     sync.RWMutex
	inflight atomic.Int64

	// Recovery's state (replay.go); replaying is only true inside Recover,
	// before any request is served.
	replaying atomic.Bool // read by actors that handle lifecycle messages meanwhile
	rp        *replayer   // the running Recover's (ReplayCaughtUp), for its goroutine only
	loaded    bool        // a snapshot was loaded: the journal is not new
	begun     bool        // a record other than a leader's mark was replayed
	// wrote is the Behaviour that wrote the records being replayed: the
	// snapshot's, then each version record's (0: none recorded); rules the
	// version record's rules fingerprint (0: none recorded).
	wrote, rules uint64
	pmu          sync.Mutex // pending, in recovery (its workers arm and stop timers)
	pending      map[uint64]*pendingTimer
	decs         decCache
}

// peer is a registered actor as its senders see it.
type peer struct {
	n  uint32
	mb *mailbox
}

type waiter struct {
	seq uint64
	fn  func()
}

func newDurability(x *Exchange, w Journal) *durability {
	// What the journal held when opened is durable: a reply after a
	// restart waits for nothing older.
	r := &durability{x: x, w: w, targets: map[uint32]*target{}, byPID: map[*actor.PID]*target{}, durable: w.Durable()}
	r.durableFn = r.onDurable // a method value allocates: once, not per record
	return r
}

// mailbox prepares an actor's mailbox, before it is spawned: it names
// each message's sender in j and counts handled messages out of flight.
func (r *durability) mailbox(mb *mailbox, j *jstate) {
	mb.j, mb.inflight = j, &r.inflight
}

// register makes an actor known by its number: to name senders in live
// records and to receive records in recovery.
func (r *durability) register(n uint32, recv actor.Actor, pid *actor.PID, j *jstate, mb *mailbox) {
	r.ids.Store(pid, &peer{n, mb})
	r.mu.Lock()
	t := &target{recv: recv, pid: pid, j: j, n: n}
	r.targets[n] = t
	r.byPID[pid] = t
	switch {
	case n < actorSymbol:
		r.fixed[n] = t
	case n < actorAccount:
		r.symbols = setAt(r.symbols, int(n-actorSymbol), t)
	default:
		r.accts = setAt(r.accts, int(n-actorAccount), t)
	}
	r.mu.Unlock()
}

// setAt is s with s[i] = v, grown as needed.
func setAt[T any](s []T, i int, v T) []T {
	if i >= len(s) {
		s = append(s, make([]T, i+1-len(s))...)
	}
	s[i] = v
	return s
}

// replayTarget is target for recovery's goroutine, the only one that
// registers actors meanwhile: no lock, no map.
func (r *durability) replayTarget(n uint32) *target {
	var t *target
	switch {
	case n < actorSymbol:
		t = r.fixed[n]
	case n < actorAccount:
		if i := int(n - actorSymbol); i < len(r.symbols) {
			t = r.symbols[i]
		}
	default:
		if i := int(n - actorAccount); i < len(r.accts) {
			t = r.accts[i]
		}
	}
	return t
}

// newAccount journals an account's first use (unless recovery is creating
// it) and registers its actor.
func (r *durability) newAccount(e *accountEntry, a *accountActor) {
	n := actorAccount + uint32(e.id)
	if !r.replaying.Load() {
		p := binary.AppendUvarint(nil, uint64(r.x.now()))
		if r.w.Append(recAccount, n, append(p, e.name...), r.durableFn) == 0 {
			panic(fmt.Sprintf("actors: the journal refused account %s", e.name))
		}
	}
	r.register(n, a, e.pid, &a.j, e.mb)
}

func (r *durability) target(n uint32) (target, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.targets[n]
	if !ok {
		return target{}, false
	}
	return *t, true
}

// withSender is the sender middleware of durable mode, for a send
// sendCtx cannot post itself: the message names its sender, so the
// receiver's record can, and is counted in flight until handled (the
// receiver's mailbox uncounts it).
func (r *durability) withSender(next actor.SenderFunc) actor.SenderFunc {
	return func(ctx actor.SenderContext, to *actor.PID, env *actor.MessageEnvelope) {
		env.Sender = ctx.Self()
		r.inflight.Add(1)
		next(ctx, to, env)
	}
}

// sending runs an actor in durable mode with a sendCtx.
type sending struct {
	actor.Actor
	c sendCtx
}

func (s *sending) Receive(ctx actor.Context) {
	s.c.Context = ctx
	s.Actor.Receive(&s.c)
}

// sendCtx is an actor's context in durable mode. Its Send posts straight
// into a registered receiver's mailbox with the sender's number (jstate.
// from), counted in flight: protoactor's sender middleware would wrap
// every message in an envelope (an allocation) and the receiver look the
// sender's PID up to name it in its record.
type sendCtx struct {
	actor.Context
	r *durability
	n uint32 // this actor's number
	// adlPosts counts the messages posted to the ADL actor: an account
	// merges a position report into one still queued there only when it
	// posted nothing to it since (reportPosition), so replay finds the
	// merged reports next to each other in its inbox (recMerged).
	adlPosts uint64
}

func (c *sendCtx) Send(pid *actor.PID, m any) {
	if p, ok := c.r.ids.Load(pid); ok {
		c.post(p.(*peer).mb, m)
		return
	}
	c.Context.Send(pid, m)
}

func (c *sendCtx) post(mb *mailbox, m any) {
	c.r.inflight.Add(1)
	if mb == c.r.x.adlMB {
		c.adlPosts++
	}
	mb.postFrom(m, c.n)
}

// counted reports whether m was counted when posted: all but protoactor's
// own messages and the tests' hooks.
func counted(m any) bool {
	switch m.(type) {
	case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting,
		*actor.ReceiveTimeout, actor.SystemMessage, actor.AutoReceiveMessage, uncounted:
		return false
	}
	return true
}

// uncounted is a message posted from outside without being counted in
// flight: the tests' hooks, which their receiver middleware handles.
type uncounted interface{ uncounted() }

// post sends m to an actor from outside the actors (a request, a timer, a
// redelivery): straight to mb when known. In durable mode it waits while a
// snapshot is being taken, and counts m in flight.
func (x *Exchange) post(pid *actor.PID, mb *mailbox, m any) {
	r := x.rec
	if r == nil {
		x.postNow(pid, mb, m)
		return
	}
	r.gate.RLock()
	r.inflight.Add(1)
	x.postNow(pid, mb, m)
	r.gate.RUnlock()
}

// relay sends m on from inside an actor's handler without its context (a
// reply callback): counted in flight as withSender counts a send, and
// never held by the snapshot gate, which waits for that handler to end.
func (x *Exchange) relay(pid *actor.PID, m any) {
	if r := x.rec; r != nil {
		r.inflight.Add(1)
	}
	x.postNow(pid, nil, m)
}

func (x *Exchange) postNow(pid *actor.PID, mb *mailbox, m any) {
	if mb != nil {
		mb.PostUserMessage(m)
		return
	}
	x.root.Send(pid, m)
}

// begin journals the message ctx holds before actor n handles it, and
// points j at its record. Messages that change nothing (reads, probes,
// lifecycle) are not journaled.
func (x *Exchange) begin(ctx actor.Context, j *jstate, n uint32) {
	r := x.rec
	if r == nil || r.replaying.Load() {
		return
	}
	m := ctx.Message()
	if !journaled(m) {
		return
	}
	ms := x.now()
	p := binary.AppendUvarint(j.buf[:0], uint64(ms))
	var kind uint16
	if j.from != 0 {
		kind, p = recMsg, binary.AppendUvarint(p, uint64(j.from))
		if j.merged > 1 {
			kind, p = recMerged, binary.AppendUvarint(p, uint64(j.merged))
		}
	} else if from := ctx.Sender(); from != nil {
		v, ok := r.ids.Load(from)
		if !ok {
			panic(fmt.Sprintf("actors: %T from unregistered actor %s", m, from.Id))
		}
		kind, p = recMsg, binary.AppendUvarint(p, uint64(v.(*peer).n))
	} else {
		kind, p = x.encodeInput(p, m)
	}
	seq := r.w.Append(kind, n, p, r.durableFn)
	if seq == 0 {
		panic(fmt.Sprintf("actors: the journal refused the record of %T", m))
	}
	j.buf, j.seq, j.ms, j.ids, j.merged = p, seq, ms, 0, 0
}

// onDurable releases the replies and events waiting for seq. A journal
// that failed stops the exchange: what was decided since may be lost, so
// nothing more is acknowledged and trading halts.
func (r *durability) onDurable(seq uint64, err error) {
	r.wmu.Lock()
	if err != nil {
		first := r.failed == nil
		if first {
			r.failed = err
		}
		r.waiting = nil
		r.wmu.Unlock()
		if first {
			r.x.log.Error("actors: the journal failed; trading halted", "seq", seq, "err", err)
			r.x.failed.add("journal", err.Error(), true, 0)
		}
		return
	}
	r.durable = max(r.durable, seq)
	seq = r.durable
	n := 0
	for n < len(r.waiting) && r.waiting[n].seq <= seq {
		n++
	}
	ready := r.waiting[:n]
	r.waiting = r.waiting[n:]
	r.wmu.Unlock()
	for _, w := range ready {
		w.fn()
	}
}

// after runs fn once everything journaled so far is durable (at once when
// it is); never when the journal failed.
func (r *durability) after(fn func()) {
	r.wmu.Lock()
	if r.failed != nil {
		r.wmu.Unlock()
		return
	}
	seq := r.w.Last()
	if seq <= r.durable || r.replaying.Load() {
		r.wmu.Unlock()
		fn()
		return
	}
	r.waiting = append(r.waiting, waiter{seq, fn})
	r.wmu.Unlock()
}

// durably wraps a request's done so that, in durable mode, the reply waits
// until what it reports is on disk.
func durably[T any](x *Exchange, done func(T)) func(T) {
	if x.rec == nil {
		return done
	}
	return func(v T) { x.rec.after(func() { done(v) }) }
}

// reportSlot is a position report in durable mode, where each report is
// a message of its own (reportPosition): reused once the ADL actor has
// handled it, instead of a copy allocated per report.
type reportSlot struct {
	m       adlPositionMsg
	handled atomic.Bool
}

// free lets s's account reuse it (a no-op for nil: a report not sent
// from a slot).
func (s *reportSlot) free() {
	if s != nil {
		s.handled.Store(true)
	}
}

// reportSlots is an account's report slots of one symbol in the order
// sent, oldest at head. The ADL actor handles one sender's messages in
// that order, so the oldest is the first free; when it is not, a new slot
// joins as the newest.
type reportSlots struct {
	q    []*reportSlot
	head int
}

// next is the slot for the next report, taken out of the free ones.
func (r *reportSlots) next() *reportSlot {
	if len(r.q) > 0 {
		if s := r.q[r.head]; s.handled.Load() {
			s.handled.Store(false)
			r.head = (r.head + 1) % len(r.q)
			return s
		}
	}
	s := new(reportSlot)
	r.q = slices.Insert(r.q, r.head, s) // the newest: just before the oldest
	r.head = (r.head + 1) % len(r.q)
	return s
}

// timerRef is a timer an actor armed; id names it in the journal.
type timerRef struct {
	t   *time.Timer
	id  uint64
	due int64 // on the exchange clock (snapshots)
}

// timerMsg is a message a timer posts to its actor.
type timerMsg interface{ timerID() uint64 }

// pendingTimer is a timer armed during recovery, to be armed for real
// when recovery ends unless the journal shows it fired.
type pendingTimer struct {
	ref  *timerRef
	due  int64
	self *actor.PID
	m    timerMsg
}

// after arms a timer that posts m to self after d; stopped, it posts
// nothing. During recovery it is only noted (replay.go).
func (x *Exchange) after(j *jstate, d time.Duration, self *actor.PID, m timerMsg) *timerRef {
	ref := &timerRef{id: m.timerID(), due: x.clock(j) + d.Milliseconds()}
	if r := x.rec; r != nil && r.replaying.Load() {
		r.pmu.Lock()
		r.pending[ref.id] = &pendingTimer{ref: ref, due: ref.due, self: self, m: m}
		r.pmu.Unlock()
		return ref
	}
	x.arm(ref, d, self, m)
	return ref
}

func (x *Exchange) arm(ref *timerRef, d time.Duration, self *actor.PID, m timerMsg) {
	ref.t = time.AfterFunc(d, func() {
		if !x.stopped.Load() {
			x.post(self, nil, m)
		}
	})
}

// stop stops the timer (a no-op for nil).
func (x *Exchange) stopTimer(ref *timerRef) {
	if ref == nil {
		return
	}
	if ref.t != nil {
		ref.t.Stop()
	}
	if r := x.rec; r != nil && r.replaying.Load() {
		r.fired(ref.id)
	}
}

// fired forgets a timer armed in recovery: it fired or was stopped.
func (r *durability) fired(id uint64) {
	r.pmu.Lock()
	delete(r.pending, id)
	r.pmu.Unlock()
}

// durableSink holds every event until the journal is durable past the
// decision that made it: a client never sees a trade a crash takes back.
type durableSink struct {
	s Sink
	r *durability
}

func (d durableSink) Trade(sym string, t *wire.Trade) { d.r.after(func() { d.s.Trade(sym, t) }) }
func (d durableSink) BookUpdate(sym string, u *wire.BookUpdate) {
	d.r.after(func() { d.s.BookUpdate(sym, u) })
}
func (d durableSink) Mark(sym string, m *wire.MarkUpdate) { d.r.after(func() { d.s.Mark(sym, m) }) }
func (d durableSink) FundEvent(e *wire.FundEvent)         { d.r.after(func() { d.s.FundEvent(e) }) }
func (d durableSink) ADLEvent(sym string, e *wire.ADLEvent) {
	d.r.after(func() { d.s.ADLEvent(sym, e) })
}
func (d durableSink) AccountEvent(acct string, e *wire.AccountEvent) {
	d.r.after(func() { d.s.AccountEvent(acct, e) })
}

func (d durableSink) Kline(sym, iv string, k *wire.KlineUpdate) {
	if ks, ok := d.s.(KlineSink); ok {
		d.r.after(func() { ks.Kline(sym, iv, k) })
	}
}

func (d durableSink) WantsKline(sym, iv string) bool {
	ks, ok := d.s.(KlineSink)
	return ok && ks.WantsKline(sym, iv)
}

func (d durableSink) WantsTrades(sym string) bool {
	i, ok := d.s.(Interest)
	return !ok || i.WantsTrades(sym)
}

func (d durableSink) WantsBook(sym string) bool {
	i, ok := d.s.(Interest)
	return !ok || i.WantsBook(sym)
}

func (d durableSink) WantsAccountEvents(acct string) bool {
	i, ok := d.s.(Interest)
	return !ok || i.WantsAccountEvents(acct)
}
