package actors

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/wire"
)

// An actor that sees a broken invariant panics (never logs and carries
// on): its supervisor takes it out of service with the reason. A failed
// account only stops itself (registry.go). A failed singleton — the fund,
// the ADL actor or a symbol's book — holds a ledger everyone shares, so
// the exchange halts: new orders are refused INTERNAL with the reason,
// cancels still go through, and the audit lists the failure and fails,
// until an operator resumes a failed book (resume.go).

// failures is the exchange's record of the parts taken out of service.
type failures struct {
	mu   sync.Mutex
	list []wire.Failure
	at   []uint64 // the journal sequence of each one's record (0: none), the list's order
	// halts: whether each one halts trading (a shared part).
	halts []bool
	// halted is the first singleton failure's reason, nil while trading.
	halted atomic.Pointer[string]
	// marks are the journaled halts and lifts (a shared part's failure
	// record, a book's resume record) in journal order: an account's
	// order is halted when a halt's record comes before its own, live as
	// in replay (haltAt). pending counts those being journaled and not
	// marked yet; unrecorded is a halt with no record (the journal itself
	// failed, or refused the failure's record): live only.
	marks      atomic.Pointer[haltMarks]
	pending    atomic.Int32
	unrecorded atomic.Pointer[string]
}

// haltMarks are the marks in journal order, and the halt after the last
// (why, out): what every record after it sees, without a walk.
type haltMarks struct {
	ms  []haltMark
	why string
	out bool
}

// haltMark is a halt (on) or a lift of who at journal record seq.
type haltMark struct {
	seq      uint64
	who, why string
	on       bool
}

// add lists a failure; at is its record's journal sequence (0: none). The
// list keeps the journal's order, whichever supervisor adds first, so a
// replay lists the same.
func (f *failures) add(who, reason string, halt bool, at uint64) {
	f.mu.Lock()
	i := len(f.at)
	for i > 0 && f.at[i-1] > at {
		i--
	}
	f.list = slices.Insert(f.list, i, wire.Failure{Actor: who, Reason: reason})
	f.at = slices.Insert(f.at, i, at)
	f.halts = slices.Insert(f.halts, i, halt)
	if halt {
		f.halted.CompareAndSwap(nil, &reason)
		if at == 0 {
			f.unrecorded.CompareAndSwap(nil, &reason)
		}
	}
	f.mu.Unlock()
}

// mark notes a halt (on) or a lift of who at record seq, once.
func (f *failures) mark(seq uint64, who, why string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ms []haltMark
	if p := f.marks.Load(); p != nil {
		ms = p.ms
	}
	i, found := slices.BinarySearchFunc(ms, seq, func(m haltMark, s uint64) int { return cmp.Compare(m.seq, s) })
	if found {
		return
	}
	ms = slices.Insert(slices.Clone(ms), i, haltMark{seq: seq, who: who, why: why, on: on})
	why, out := haltedBefore(ms, math.MaxUint64)
	f.marks.Store(&haltMarks{ms: ms, why: why, out: out})
}

// haltedBefore says whether a part is out at a record seq follows in ms
// (its latest mark before seq is a halt), and the first such one's reason.
func haltedBefore(ms []haltMark, seq uint64) (why string, out bool) {
	var halts []haltMark
	for _, m := range ms {
		if m.seq >= seq {
			break
		}
		halts = slices.DeleteFunc(halts, func(o haltMark) bool { return o.who == m.who })
		if m.on {
			halts = append(halts, m)
		}
	}
	if len(halts) == 0 {
		return "", false
	}
	return halts[0].why, true
}

// journaling runs appendRecord, which appends a halt's or a lift's
// record and returns its sequence (0: refused), and marks it: an account
// that reads the marks meanwhile waits (haltAt), for its own record may
// come after this one.
func (f *failures) journaling(who, why string, on bool, appendRecord func() uint64) uint64 {
	f.pending.Add(1)
	defer f.pending.Add(-1)
	seq := appendRecord()
	if h := haltRecorded.Load(); h != nil {
		(*h)()
	}
	if seq != 0 {
		f.mark(seq, who, why, on)
	}
	return seq
}

// haltAt is the refusal of an order handled at record j (nil: trading):
// halted when a shared part's failure record comes before j's and no
// resume of it does. A flag set after the record is appended would let an
// order whose record falls in between be decided one way live and the
// other in replay (whose sends then differ: the recovery stopped). In
// memory, or with no record, the flag (haltError).
func (x *Exchange) haltAt(j *jstate) *wire.Error {
	f := &x.failed
	if x.rec == nil || j.seq == 0 {
		return x.haltError()
	}
	if r := f.unrecorded.Load(); r != nil {
		return haltErr(*r)
	}
	for f.pending.Load() != 0 { // microseconds: the record is appended, its mark next
		runtime.Gosched()
	}
	p := f.marks.Load()
	if p == nil {
		return nil
	}
	why, out := p.why, p.out
	if j.seq <= p.ms[len(p.ms)-1].seq { // a record older than the last mark (replay, or the race above)
		why, out = haltedBefore(p.ms, j.seq)
	}
	if !out {
		return nil
	}
	return haltErr(why)
}

func haltErr(why string) *wire.Error {
	return wire.Errorf(wire.CodeInternal, "trading is halted after an internal error: %s", why)
}

func (f *failures) all() []wire.Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wire.Failure{}, f.list...)
}

// haltError is the refusal of a halted exchange, nil while trading.
func (x *Exchange) haltError() *wire.Error {
	if r := x.failed.halted.Load(); r != nil {
		return haltErr(*r)
	}
	return nil
}

// guard runs a singleton actor until it fails, then answers its requests
// INTERNAL and drops the rest (a book holds it: refuseFailed); audits and
// probes still read its frozen state. What it handles failed is journaled
// like any decision (failrecord.go).
type guard struct {
	actor.Actor
	x      *Exchange
	name   string
	failed atomic.Bool
}

func (g *guard) Receive(ctx actor.Context) {
	if !g.failed.Load() {
		g.Actor.Receive(ctx)
		return
	}
	m := failedMessage(ctx)
	if r, ok := m.(*resumeMsg); ok { // the lift is marked with its record (haltAt)
		g.x.failed.journaling(g.name, "", false, func() uint64 { return g.x.beginFailed(ctx) })
		g.resume(ctx, r)
		return
	}
	g.x.beginFailed(ctx)
	if c, ok := m.(*resumeCheckMsg); ok {
		c.reply(g.Actor.(*symbolActor).resumable(c.views))
		return
	}
	if f, ok := g.Actor.(interface{ refuseFailed(actor.Context, any) bool }); ok && f.refuseFailed(ctx, m) {
		return
	}
	switch m := m.(type) {
	case *probeMsg, *auditMsg, *hashMsg:
		g.Actor.Receive(ctx)
	case refusable:
		m.refuse(wire.Errorf(wire.CodeInternal, "%s is out of service after an internal error", g.name))
	}
}

// singletonSupervisor takes a failed singleton out of service (guard) and
// halts the exchange.
type singletonSupervisor struct {
	x *Exchange
	g *guard
}

func (s *singletonSupervisor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, message any) {
	why := fmt.Sprint(reason)
	message = unwrapEnvelope(message) // one in flight at a restart is redelivered in an envelope
	var at uint64
	if !s.g.failed.Load() { // before it handles anything else
		at = s.x.failed.journaling(s.g.name, why, true, func() uint64 { return s.x.journalFailure(child, message, why) })
	}
	if s.x.sharedFailed(s.g, message, why, at) && answeredByFailedBook(message) {
		// relay: the panicking message is still in flight, so a snapshot
		// holding the gate would wait for this post.
		s.x.relay(child, &repostMsg{m: message})
	}
	sup.ResumeChildren(child)
}

// answeredByFailedBook reports whether a failed book answers m, or holds
// it until it resumes (refuseFailed): what its senders wait for. The one it
// panicked on too: dropped, an arm's account or a liquidation waiting on
// its quote waited for ever, resumed or not.
func answeredByFailedBook(m any) bool {
	switch m.(type) {
	case *placeMsg, *amendMsg, *cancelMsg, *cancelIDsMsg, *armMsg, *reserveMsg, *unsubscribeMsg:
		return true
	}
	return false
}

// sharedFailed takes singleton g out of service after its actor panicked
// on message (live, from its supervisor; in replay, at the failure's
// record, at: its sequence) and halts trading. It reports whether this was
// its first failure.
func (x *Exchange) sharedFailed(g *guard, message any, reason string, at uint64) bool {
	first := !g.failed.Swap(true)
	x.log.Error("actors: a shared actor failed; trading is halted", "actor", g.name, "reason", reason)
	if first {
		x.failed.add(g.name, reason, true, at)
	}
	if r, ok := message.(refusable); ok {
		r.refuse(wire.Errorf(wire.CodeInternal, "internal error in %s", g.name))
	}
	return first
}
