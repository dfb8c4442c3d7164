package actors

// Recovery: the journal's records, in order, each run by its actor's own
// handler with the actor's sends captured. A record of a message from
// another actor takes the sender's next captured message to it (each
// sender's messages to one receiver arrive in the order sent); what is
// left captured at the end was in flight at the crash and is delivered.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/market"
)

// ErrRecover is wrapped by every error Recover returns: the journal does
// not rebuild a state (damaged, from another configuration, or not
// deterministic); the exchange must not start on it.
var ErrRecover = errors.New("actors: recovery failed")

// ErrBehaviour is wrapped by Recover's error when a record was written by
// another Behaviour than this one: no retry helps, only the version that
// wrote it (a clustered standby stops on it).
var ErrBehaviour = errors.New("a record of another behaviour")

// ErrRules is wrapped by Recover's error when a record was written under
// another configuration's rules (Options.Rules): as for ErrBehaviour, only
// that configuration replays it.
var ErrRules = errors.New("a record of other rules")

// ErrReplayPanic is wrapped by Recover's error when a record's handler
// panicked: the record panics wherever it is replayed (the actors are
// deterministic in the journal), so no retry helps (a clustered instance
// stops on it). Recover's error names the record's sequence and the panic.
var ErrReplayPanic = errors.New("an actor panicked replaying it")

// fifo is one sender's captured messages to one receiver.
type fifo struct {
	q    []any
	head int
	from uint32
}

// fixedActors bounds the numbers of the actors that are neither symbols
// nor accounts (fund, ADL, history).
const fixedActors = actorHistory + 1

// inbox is an actor's captured messages in recovery, one fifo per sender:
// kept in slices by the sender's number, not in a map keyed by the pair
// (two lookups a message, and the dearest part of replaying one).
type inbox struct {
	fixed []fifo // from the fund, the ADL actor, the history, the symbols: by slot
	accts []fifo // from accounts, to an actor that is not one: by account id
	peers []fifo // from accounts, to an account (rare: a liquidation's counterparties)
}

// get is the fifo from sender n; to is the receiver.
func (b *inbox) get(n uint32, to uint32) *fifo {
	var s *[]fifo
	var i int
	switch {
	case n < fixedActors:
		s, i = &b.fixed, int(n)
	case n >= actorSymbol && n < actorAccount:
		s, i = &b.fixed, int(fixedActors+n-actorSymbol) // after the fixed numbers
	case n >= actorAccount && to < actorAccount:
		s, i = &b.accts, int(n-actorAccount)
	default:
		for k := range b.peers {
			if b.peers[k].from == n {
				return &b.peers[k]
			}
		}
		b.peers = append(b.peers, fifo{from: n})
		return &b.peers[len(b.peers)-1]
	}
	for len(*s) <= i {
		*s = append(*s, fifo{})
	}
	q := &(*s)[i]
	q.from = n
	return q
}

// each calls f with every fifo of b that holds messages.
func (b *inbox) each(f func(*fifo)) {
	for _, s := range [][]fifo{b.fixed, b.accts, b.peers} {
		for k := range s {
			if q := &s[k]; q.head < len(q.q) {
				f(q)
			}
		}
	}
}

// Recover rebuilds the exchange from its journal: read calls its argument
// with every record from the first, in order. It runs before the exchange
// serves anything, once; a fresh journal gets its genesis record. It
// returns how many records it replayed.
func (x *Exchange) Recover(read func(func(seq uint64, kind uint16, actor uint32, payload []byte) error) error) (n uint64, err error) {
	r := x.rec
	if r == nil {
		return 0, fmt.Errorf("%w: the exchange has no journal", ErrRecover)
	}
	gcDone := relaxGC()
	defer gcDone()
	// A follower's Recover replays until it takes over, idle or not.
	defer time.AfterFunc(recoveryGCFor, gcDone).Stop()
	r.replaying.Store(true)
	for _, t := range r.targets {
		t.in = inbox{} // a second Recover (tests) starts empty
		t.failure = nil
	}
	if r.pending == nil { // LoadSnapshot may have armed some
		r.pending = map[uint64]*pendingTimer{}
	}
	sink, interest := x.sink, x.interest
	x.sink, x.interest = nopSink{}, nil // nothing is published twice
	restore := func() { x.sink, x.interest = sink, interest }
	defer func() {
		if err != nil {
			restore()
		}
	}()
	var at uint64
	rp := newReplayer(r, replayWorkers())
	r.rp = rp
	defer func() { r.rp = nil }()
	defer func() {
		if p := recover(); p != nil {
			rp.fail(0, nil) // the async worker stops
			rp.finish()
			err = fmt.Errorf("%w: record %d: %v", ErrRecover, at, p)
		}
	}()
	err = read(func(seq uint64, kind uint16, id uint32, p []byte) error {
		at = seq
		n++
		if err := x.replay(rp, seq, kind, id, p); err != nil {
			return fmt.Errorf("%w: record %d (kind %d, actor %#x): %w", ErrRecover, seq, kind, id, err)
		}
		return rp.failure() // a record failed: the read stops
	})
	if ferr := rp.finish(); ferr != nil && (err == nil || !errors.Is(err, ferr)) {
		err = ferr // the record that failed first, read stopping on it or not
	}
	if err == nil {
		err = x.adoptFailures(rp)
	}
	if err != nil {
		return n, err
	}
	if !r.begun && !r.loaded {
		ms := x.now()
		p := binary.AppendUvarint(nil, uint64(ms))
		if r.w.Append(recGenesis, 0, p, r.durableFn) == 0 { // its durability releases the first reads
			return 0, fmt.Errorf("%w: the journal refused its genesis record", ErrRecover)
		}
		x.genesis(ms) // as replay will: the marks start at the genesis record's time
	}
	// Every start says which Behaviour appends from here on.
	kind, _, v := VersionRecord(x.now(), Behaviour, x.rules)
	if r.w.Append(kind, 0, v, r.durableFn) == 0 {
		return 0, fmt.Errorf("%w: the journal refused its version record", ErrRecover)
	}
	r.wrote, r.rules = Behaviour, x.rules
	// A writer opened after the exchange (a standby's, at its takeover)
	// holds everything up to its Durable: replies wait for nothing older.
	r.wmu.Lock()
	r.durable = max(r.durable, r.w.Durable())
	r.wmu.Unlock()
	restore() // before resume: the actors run again from there
	x.resume()
	return n, nil
}

// ReplayCaughtUp tells a Recover in progress that its read function has
// passed it every record it has for now (a follower between its leader's
// batches), waits until they have run and returns the error of one that
// failed. Without it, the records batched for the second worker would
// wait for more to fill the batch: a damaged one would fail the recovery
// only then, or at the takeover. Call it only from Recover's read
// function (on Recover's goroutine), between records; with no Recover
// running it does nothing.
func (x *Exchange) ReplayCaughtUp() error {
	r := x.rec
	if r == nil || r.rp == nil {
		return nil
	}
	r.rp.barrier()
	return r.rp.failure()
}

// recoveryGC is the GC percentage while a recovery runs. Replay allocates
// ≈ 250 bytes a record, most of it short-lived (messages, replies nobody
// reads), while the heap it builds only grows: at the default 100 the
// collector marks the whole state again every time it doubles, a quarter
// of recovery's CPU. At 400 a recovery runs a cycle or two; the heap may
// reach 5× what is live meanwhile, and the default returns after, or
// after recoveryGCFor: a follower's Recover runs until it takes over,
// most of it following its leader, not catching up.
const (
	recoveryGC    = 400
	recoveryGCFor = 10 * time.Second
)

// gcRelax counts the recoveries running (tests run several exchanges):
// the first raises the GC percentage, the last puts back what it found.
var gcRelax struct {
	sync.Mutex
	n, old int
}

// relaxGC raises the GC percentage to recoveryGC (never lowers it, nor
// turns a disabled GC on) and returns the function that restores it
// (once, however often it is called).
func relaxGC() func() {
	gcRelax.Lock()
	defer gcRelax.Unlock()
	if gcRelax.n == 0 {
		gcRelax.old = debug.SetGCPercent(recoveryGC)
		if gcRelax.old < 0 || gcRelax.old > recoveryGC {
			debug.SetGCPercent(gcRelax.old)
		}
	}
	gcRelax.n++
	restored := false
	return func() {
		gcRelax.Lock()
		defer gcRelax.Unlock()
		if restored {
			return
		}
		restored = true
		if gcRelax.n--; gcRelax.n == 0 {
			debug.SetGCPercent(gcRelax.old)
		}
	}
}

// replay reads one record and runs it (rp.dispatch).
func (x *Exchange) replay(rp *replayer, seq uint64, kind uint16, id uint32, p []byte) error {
	ms, w := binary.Uvarint(p)
	if w <= 0 {
		return fmt.Errorf("%w: no time", errPayload)
	}
	p = p[w:]
	r := x.rec
	switch kind {
	case recLeader:
		return nil
	case recVersion:
		v, w := binary.Uvarint(p)
		if w <= 0 {
			return fmt.Errorf("%w: version", errPayload)
		}
		r.wrote, r.rules, p = v, 0, p[w:]
		if len(p) > 0 { // journaled since the rules were
			if r.rules, w = binary.Uvarint(p); w != len(p) {
				return fmt.Errorf("%w: version's rules", errPayload)
			}
		}
		return nil
	}
	if r.wrote != Behaviour && kind != recGenesis {
		return behaviourError(r.wrote)
	}
	if r.rules != 0 && x.rules != 0 && r.rules != x.rules && kind != recGenesis {
		return fmt.Errorf("%w: written under rules %016x, this exchange's are %016x (a symbol's fees, tiers, leverage, funding or bands, "+
			"the default margin mode or the history kept changed): replaying them under these would rebuild a state nobody acknowledged; "+
			"start with the configuration that wrote them, stop it cleanly (it takes a snapshot, after which nothing is replayed), then change it",
			ErrRules, r.rules, x.rules)
	}
	begun := r.begun
	r.begun = true
	switch kind {
	case recGenesis:
		if begun || r.loaded {
			return fmt.Errorf("genesis at record %d", seq)
		}
		rp.barrier()
		x.genesis(int64(ms))
		return nil
	case recAccount:
		e := x.accounts.get(x, string(p))
		if actorAccount+uint32(e.id) != id {
			return fmt.Errorf("account %q is %d here, %d in the journal", p, e.id, id-actorAccount)
		}
		return nil
	}
	t := r.replayTarget(id)
	if t == nil {
		return fmt.Errorf("no actor %#x", id)
	}
	jb := job{seq: seq, ms: int64(ms), kind: kind, t: t}
	if kind == recMsg || kind == recMerged {
		from, w := binary.Uvarint(p)
		if w <= 0 || from > 1<<32-1 {
			return fmt.Errorf("%w: sender", errPayload)
		}
		jb.merged, p = 1, p[w:]
		if kind == recMerged {
			n, w := binary.Uvarint(p)
			if w <= 0 || n < 2 || n > 1<<32-1 || id != actorADL {
				return fmt.Errorf("%w: merged reports", errPayload)
			}
			jb.merged, p = uint32(n), p[w:]
		}
		if len(p) != 0 {
			return fmt.Errorf("%w: sender", errPayload)
		}
		if jb.from = r.replayTarget(uint32(from)); jb.from == nil {
			return fmt.Errorf("actor %#x handled a message from %#x, which does not exist", id, from)
		}
	} else {
		m, err := x.decodeInput(kind, p)
		if err != nil {
			return err
		}
		jb.msg = m
	}
	// A book's failure or resume sets or lifts the halt every account reads
	// (haltAt, by the mark; the guard's own state by the barriers): the
	// records before it run before, those after it after, as live,
	// whichever worker runs them.
	halt := kind == recResume || kind == recFailed && t.guard != nil
	if halt {
		why := ""
		if f, ok := jb.msg.(*failureRec); ok {
			why = f.reason
		}
		x.failed.mark(seq, t.guard.name, why, kind == recFailed) // before any later record runs (haltAt)
		rp.barrier()
	}
	rp.dispatch(jb) // its failure, if any, stops the read (Recover)
	if halt {
		rp.barrier()
	}
	return nil
}

// behaviourError refuses a record the Behaviour wrote written by another.
func behaviourError(wrote uint64) error {
	by := fmt.Sprintf("behaviour version %d", wrote)
	if wrote == 0 {
		by = "a version of perpx that did not record its behaviour version"
	}
	return fmt.Errorf("%w: written by %s, this exchange is version %d: start the version that wrote the journal on it, "+
		"stop it cleanly (it takes a snapshot, after which nothing is replayed), then start this one", ErrBehaviour, by, Behaviour)
}

// genesis starts every symbol's mark state at the exchange's first start.
func (x *Exchange) genesis(ms int64) {
	for _, t := range x.rec.targets {
		if s, ok := t.recv.(*symbolActor); ok {
			s.ms = market.NewMarkState(s.sym, ms)
		}
	}
}

// resume ends recovery: the messages in flight at the crash are delivered,
// the timers still running are armed with the time they have left (or
// fire now), and records are journaled again.
func (x *Exchange) resume() {
	r := x.rec
	type left struct {
		from, to *target
		q        *fifo
	}
	var flight []left
	for _, to := range r.targets {
		to.in.each(func(q *fifo) {
			flight = append(flight, left{r.replayTarget(q.from), to, q})
		})
	}
	slices.SortFunc(flight, func(a, b left) int {
		if a.from.n != b.from.n {
			return cmp.Compare(a.from.n, b.from.n)
		}
		return cmp.Compare(a.to.n, b.to.n)
	})
	r.replaying.Store(false)
	// Every mailbox holds its messages until all in flight are posted: an
	// actor handling one first could send the same receiver a new message
	// ahead of its own older one still in flight, which the journal then
	// records in an order replay does not give it (each sender's messages
	// to one receiver are taken in the order sent): the restarted exchange
	// and a replay of its journal parted (TestReplayCrashMidRun).
	sys := x.root.ActorSystem()
	hold := func(m any) {
		for _, t := range r.targets {
			if p, ok := sys.ProcessRegistry.Get(t.pid); ok {
				p.SendSystemMessage(t.pid, m)
			}
		}
	}
	hold(&actor.SuspendMailbox{})
	for _, f := range flight {
		for _, m := range f.q.q[f.q.head:] {
			x.post(f.to.pid, nil, &actor.MessageEnvelope{Message: m, Sender: f.from.pid})
		}
	}
	x.postFailures()
	hold(&actor.ResumeMailbox{})
	for _, t := range r.targets {
		t.in = inbox{}
	}
	now := x.now()
	for _, id := range slices.Sorted(maps.Keys(r.pending)) {
		t := r.pending[id]
		x.arm(t.ref, time.Duration(max(0, t.due-now))*time.Millisecond, t.self, t.m)
	}
	r.pending = nil
}

// replayCtx is the actor.Context a handler runs with in recovery: its
// message, its sender, and sends captured for their receivers' records.
// Anything else a handler asked of it would panic (nil Context), which
// recovery reports.
type replayCtx struct {
	actor.Context
	r            *durability
	w            *worker
	self, sender *actor.PID
	t            *target // the actor handling the record
	msg          any
}

func (c *replayCtx) Message() any                 { return c.msg }
func (c *replayCtx) Self() *actor.PID             { return c.self }
func (c *replayCtx) Sender() *actor.PID           { return c.sender }
func (c *replayCtx) Send(to *actor.PID, m any)    { c.capture(to, m) }
func (c *replayCtx) Request(to *actor.PID, m any) { c.capture(to, m) }
