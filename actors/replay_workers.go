package actors

// Recovery on two cores. The journal orders every actor's records, and an
// actor's handler depends only on its own records and the messages they
// name (DESIGN.md, "Durability"): two actors' records may run at the same
// time, as they did live, as long as each actor runs its own in order and
// a record of a message runs after its sender's record sent it. So the
// reader (Recover's goroutine) reads and decodes the records and hands
// them in batches to two workers: one runs the shared actors (symbols,
// fund, ADL, history) and half the accounts, the other the other half.
// Messages between the workers go through one queue each way, in the
// order sent; a record waits for the message it names until the other
// worker has run every record it was given before this one, and then the
// message was never sent (a damaged journal). A message is mostly handled
// thousands of records after it was sent (4 096 requests in flight in
// BenchmarkReplay's journal), so the workers seldom wait for each other.

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

const (
	replayBatch = 512     // records handed to a worker at once
	replayLead  = 1 << 14 // records the reader may hand a worker before waiting for it
	replaySpin  = 100     // times a waiting worker looks again before it sleeps
	replaySplit = 2       // every replaySplit-th account runs with the shared actors
	// replayPublish: a worker hands over what it sent every so many
	// records (a lock each time), and whenever it waits.
	replayPublish = 64
)

// replayWorkers is how many workers run recovery's handlers: 2 with 2
// cores or more, else 1 (the reader itself, in journal order). Tests set
// it.
var replayWorkers = func() int { return min(2, runtime.GOMAXPROCS(0)) }

// job is one record for a worker: the actor that handles it, and either
// the message's sender or the decoded input.
type job struct {
	seq    uint64
	ms     int64
	kind   uint16
	t      *target
	from   *target // kinds recMsg, recMerged: the sender
	merged uint32  // the messages of from it takes (recMerged: position reports to merge)
	msg    any     // other kinds: the input
	before uint64  // the records the other worker was given before this one
}

// xmsg is a message captured on one worker for an actor of the other.
type xmsg struct {
	from uint32
	to   *target
	m    any
}

// replayer runs Recover's records on its workers: one on the reader's
// goroutine, or two on their own.
type replayer struct {
	r     *durability
	ws    []*worker
	fill  [2][]job  // the workers' next batches
	sent  [2]uint64 // records given to each worker
	free  chan []job
	wg    sync.WaitGroup
	abort atomic.Bool
	mu    sync.Mutex // err, errAt, held
	err   error
	errAt uint64
	held  []*replayFailure // panics met on accounts' records (failrecord.go)
}

// worker runs the records of the actors it owns, in journal order.
type worker struct {
	rp   *replayer
	i    int
	ctx  replayCtx
	ran  uint64        // records run (or passed over once aborted)
	done atomic.Uint64 // ran, published once what they sent the peer is handed over (publish)
	peer *worker       // nil with one worker
	out  []xmsg        // captured for the peer, not handed over yet
	pids map[*actor.PID]*target

	mu        sync.Mutex // in, queued
	in, spare []xmsg     // from the peer, not yet in inboxes
	queued    [][]job
	nin       atomic.Int64 // len(in), read without the lock
	nqueued   atomic.Int64 // len(queued)
	closed    atomic.Bool
	wake      chan struct{}
	// waiting: w awaits a message from its peer, which then publishes
	// after every record instead of every replayPublish, and nudges it.
	waiting atomic.Bool
	nudge   chan struct{}
}

func newReplayer(r *durability, n int) *replayer {
	rp := &replayer{r: r, free: make(chan []job, 2*replayLead/replayBatch)}
	for i := range max(1, min(n, 2)) {
		w := &worker{rp: rp, i: i, pids: map[*actor.PID]*target{}, wake: make(chan struct{}, 1), nudge: make(chan struct{}, 1)}
		w.ctx = replayCtx{r: r, w: w}
		rp.ws = append(rp.ws, w)
	}
	if len(rp.ws) == 2 {
		rp.ws[0].peer, rp.ws[1].peer = rp.ws[1], rp.ws[0]
		rp.wg.Add(2)
		go rp.ws[0].loop()
		go rp.ws[1].loop()
	}
	return rp
}

// owner is the worker that runs t's records: the shared actors and every
// replaySplit-th account are the first's, the other accounts the second's
// (measured: the accounts take ≈ 60 % of the handlers' time).
func (rp *replayer) owner(t *target) int {
	if len(rp.ws) == 1 || t.n < actorAccount || (t.n-actorAccount)%replaySplit == 0 {
		return 0
	}
	return 1
}

// dispatch runs jb or hands it to its worker. It returns the error of a
// record that failed (not necessarily jb's).
func (rp *replayer) dispatch(jb job) error {
	if len(rp.ws) == 1 {
		w := rp.ws[0]
		if err := w.exec(&jb); err != nil {
			rp.fail(jb.seq, err)
		}
		w.ran++
	} else {
		i := rp.owner(jb.t)
		jb.before = rp.sent[1-i]
		if rp.fill[i] == nil {
			select {
			case rp.fill[i] = <-rp.free:
			default:
				rp.fill[i] = make([]job, 0, replayBatch)
			}
		}
		rp.fill[i] = append(rp.fill[i], jb)
		rp.sent[i]++
		if len(rp.fill[i]) == replayBatch {
			rp.flush()
			rp.pace()
		}
	}
	if rp.abort.Load() {
		return rp.failure()
	}
	return nil
}

// flush hands the workers the records batched for them.
func (rp *replayer) flush() {
	for i, w := range rp.ws {
		if len(rp.fill[i]) == 0 {
			continue
		}
		w.mu.Lock()
		w.queued = append(w.queued, rp.fill[i])
		w.mu.Unlock()
		w.nqueued.Add(1)
		rp.fill[i] = nil
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// pace waits while a worker is more than replayLead records behind,
// until it is half as far: asleep, not spinning, so as not to take a core
// from the workers.
func (rp *replayer) pace() {
	for i, w := range rp.ws {
		if rp.sent[i]-w.done.Load() <= replayLead {
			continue
		}
		for rp.sent[i]-w.done.Load() > replayLead/2 && !rp.abort.Load() {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// barrier waits until every record handed out has run.
func (rp *replayer) barrier() {
	if len(rp.ws) == 1 {
		return
	}
	rp.flush()
	for i, w := range rp.ws {
		for w.done.Load() < rp.sent[i] && !rp.abort.Load() {
			runtime.Gosched()
		}
	}
}

// finish runs what is left, stops the async worker and moves the
// messages still between the workers into their receivers' inboxes (the
// messages in flight at the crash). It returns the first record's error.
func (rp *replayer) finish() error {
	if len(rp.ws) == 2 {
		rp.flush()
		for _, w := range rp.ws {
			w.closed.Store(true)
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
		rp.wg.Wait()
		for _, w := range rp.ws {
			w.drain()
		}
	}
	return rp.failure()
}

func (rp *replayer) fail(seq uint64, err error) {
	rp.mu.Lock()
	if rp.err == nil || seq < rp.errAt {
		rp.err, rp.errAt = err, seq
	}
	rp.mu.Unlock()
	rp.abort.Store(true)
	for _, w := range rp.ws {
		w.wakeWaiter() // it looks at abort
	}
}

func (rp *replayer) failure() error {
	if !rp.abort.Load() {
		return nil
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for _, f := range rp.held { // a panic no record confirms is the cause of what failed after it
		if !f.confirmed.Load() && f.seq < rp.errAt {
			return f.err
		}
	}
	return rp.err
}

// loop is the async worker's goroutine.
func (w *worker) loop() {
	defer w.rp.wg.Done()
	var got [][]job
	idle := 0
	for {
		if w.nqueued.Load() == 0 {
			w.publish()
			switch {
			case w.closed.Load():
				if w.nqueued.Load() == 0 {
					return
				}
			case idle < replaySpin: // the reader is usually about to hand more: parking and waking cost more
				idle++
				runtime.Gosched()
			default:
				<-w.wake
			}
			continue
		}
		idle = 0
		w.mu.Lock()
		got = append(got[:0], w.queued...)
		clear(w.queued)
		w.queued = w.queued[:0]
		w.mu.Unlock()
		w.nqueued.Add(-int64(len(got)))
		for _, b := range got {
			for i := range b {
				if !w.rp.abort.Load() {
					if err := w.exec(&b[i]); err != nil {
						w.rp.fail(b[i].seq, err)
					}
				}
				w.ran++
				if w.ran%replayPublish == 0 || w.peer.waiting.Load() {
					w.publish()
				}
				b[i] = job{}
			}
			select {
			case w.rp.free <- b[:0]:
			default:
			}
		}
		clear(got)
	}
}

// exec runs one record's handler.
func (w *worker) exec(jb *job) (err error) {
	t, ctx := jb.t, &w.ctx // one context for every record: handlers do not keep it
	if f := t.failure; f != nil && !f.confirmed.Load() && jb.kind != recFailed {
		w.rp.fail(f.seq, f.err) // live, the account went on: the panic is this code's
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: record %d: %w: %v", ErrRecover, jb.seq, ErrReplayPanic, p)
			if w.held(t, jb.seq, ctx.msg, p, err) {
				err = nil
			}
		}
	}()
	ctx.self, ctx.sender, ctx.t, ctx.msg = t.pid, nil, t, jb.msg
	switch jb.kind {
	case recFailed:
		return w.replayFailed(t, jb.seq, jb.msg.(*failureRec))
	case recRepost:
		if f := t.failure; f == nil || !f.confirmed.Load() || !f.repost {
			return fmt.Errorf("%w: record %d: actor %#x answers again a message it did not fail on", ErrRecover, jb.seq, t.n)
		}
		t.failure.repost = false
		ctx.msg = t.failure.msg
	case recFailedNotice:
		if f := t.failure; f != nil {
			f.notice = false
		}
	case recResume: // back in service: its next panic is a first failure again (held)
		t.failure = nil
	}
	if jb.kind == recMsg || jb.kind == recMerged {
		var merged *adlPositionMsg
		for k := range jb.merged {
			q := t.in.get(jb.from.n, t.n)
			if q.head == len(q.q) {
				q = w.await(jb)
			}
			if q == nil {
				if w.rp.abort.Load() {
					return nil // another record failed first
				}
				return fmt.Errorf("%w: record %d (kind %d, actor %#x): actor %#x handled a message from %#x that was never sent "+
					"(a damaged journal, or one written by another version of perpx: start that version on it once and stop it cleanly, so the journal ends at a snapshot)",
					ErrRecover, jb.seq, jb.kind, t.n, t.n, jb.from.n)
			}
			ctx.msg = q.q[q.head]
			q.q[q.head] = nil
			q.head++
			if jb.kind == recMerged {
				if merged, err = replayMerged(merged, ctx.msg, k, jb); err != nil {
					return err
				}
			}
		}
		ctx.sender = jb.from.pid
	} else if tm, ok := jb.msg.(timerMsg); ok {
		w.rp.r.fired(tm.timerID())
	}
	t.j.seq, t.j.ms, t.j.ids = jb.seq, jb.ms, 0
	if cid := replayPanic.Load(); cid != nil {
		panicForTest(*cid, ctx.msg)
	}
	if t.guard != nil && t.guard.failed.Load() {
		t.guard.Receive(ctx) // as it ran live: out of service (halt.go)
		return nil
	}
	t.recv.Receive(ctx)
	return nil
}

// replayMerged merges the k-th message m of a recMerged record into the
// reports merged so far (prev, the one handled in the end): the latest
// position, the acked quantities added, as adlReport.mergeDurable did
// live. Every message must be a position report of one symbol.
func replayMerged(prev *adlPositionMsg, m any, k uint32, jb *job) (*adlPositionMsg, error) {
	p, ok := m.(*adlPositionMsg)
	if !ok || prev != nil && p.sym != prev.sym {
		return nil, fmt.Errorf("%w: record %d merges %d reports from actor %#x, its message %d is a %T",
			ErrRecover, jb.seq, jb.merged, jb.from.n, k+1, m)
	}
	if prev != nil {
		p.acked += prev.acked
		prev.slot.free()
	}
	return p, nil
}

// await waits for the message from jb's sender its receiver's fifo lacks
// and returns the fifo: it comes from the other worker, or never (nil).
// (A drain may grow the receiver's inbox: the fifo is looked up again.)
func (w *worker) await(jb *job) *fifo {
	p := w.peer
	if p == nil || w.rp.owner(jb.from) == w.i {
		return nil
	}
	w.publish() // the peer may be waiting for this side's records too
	w.waiting.Store(true)
	defer w.waiting.Store(false)
	t := jb.t
	for spins := 0; ; spins++ {
		w.drain()
		if q := t.in.get(jb.from.n, t.n); q.head < len(q.q) {
			return q
		}
		if p.done.Load() >= jb.before { // the sender's records before jb have run
			w.drain()
			if q := t.in.get(jb.from.n, t.n); q.head < len(q.q) {
				return q
			}
			return nil
		}
		if w.rp.abort.Load() {
			return nil
		}
		if spins < replaySpin {
			runtime.Gosched()
		} else {
			// Blocked, not asleep: a sleep lasts ≈ 1 ms on a VM whatever
			// it asks for. The peer nudges once it published (publish):
			// it stored its count before it looked at waiting, and w
			// stored waiting before it looked at the count, so one of
			// them sees the other.
			<-w.nudge
		}
	}
}

// wakeWaiter wakes w if it waits for its peer.
func (w *worker) wakeWaiter() {
	select {
	case w.nudge <- struct{}{}:
	default:
	}
}

// drain moves the messages the peer sent into their receivers' inboxes.
func (w *worker) drain() {
	if w.nin.Load() == 0 {
		return
	}
	w.mu.Lock()
	in := w.in
	w.in = w.spare[:0]
	w.nin.Store(0)
	w.mu.Unlock()
	for i := range in {
		m := &in[i]
		m.to.in.get(m.from, m.to.n).push(m.m)
	}
	clear(in)
	w.spare = in[:0]
}

// publish hands the peer the messages captured for it, then says how
// many records ran: a peer that sees the count finds their messages.
func (w *worker) publish() {
	if n := len(w.out); n > 0 {
		p := w.peer
		p.mu.Lock()
		p.in = append(p.in, w.out...)
		p.nin.Add(int64(n))
		p.mu.Unlock()
		clear(w.out)
		w.out = w.out[:0]
	}
	w.done.Store(w.ran)
	if w.peer != nil && w.peer.waiting.Load() {
		w.peer.wakeWaiter()
	}
}

// target finds the actor of pid (registered before any record of it).
func (w *worker) target(pid *actor.PID) *target {
	t, ok := w.pids[pid]
	if !ok {
		r := w.rp.r
		r.mu.Lock()
		t = r.byPID[pid]
		r.mu.Unlock()
		if t != nil {
			w.pids[pid] = t
		}
	}
	return t
}

// capture queues m for its receiver; messages that are not journaled
// (reads) are dropped: no record will ask for them.
func (c *replayCtx) capture(to *actor.PID, m any) {
	if !journaled(m) {
		return
	}
	w := c.w
	t := w.target(to)
	if t == nil {
		panic(fmt.Sprintf("actors: %T sent in recovery to unregistered actor %s", m, to.Id))
	}
	if w.peer == nil || w.rp.owner(t) == w.i {
		t.in.get(c.t.n, t.n).push(m)
		return
	}
	w.out = append(w.out, xmsg{from: c.t.n, to: t, m: m})
}

// push queues m.
func (q *fifo) push(m any) {
	if q.head == len(q.q) {
		q.q, q.head = q.q[:0], 0
	}
	q.q = append(q.q, m)
}
