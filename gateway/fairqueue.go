package gateway

import (
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/perpx/perpx/wire"
)

// The gateway's intake, fairness between requesters (issue 14): every
// endpoint's subscription hands its requests to a queue per requester (the
// account of an account's subject, the subject for public ones) and
// workers serve the queues round-robin, one request at a time per queue,
// so each requester's requests keep their order and one requester's
// backlog waits behind its own requests only (a subscription serves its
// messages one by one: without this, 100 000 requests of one account held
// everyone's behind them for seconds). A requester also has a bound on
// requests in the exchange at once — what it may put in the shared actors'
// mailboxes — beyond which its queue waits (backpressure, no refusal); only
// a full queue refuses, at once, RATE_LIMITED. When nothing waits at all,
// the subscription serves its request itself (push): the queue only
// matters once someone does, and a hand-over to a worker per request was
// the open loop's commonest wake-up (issue 21).
const (
	// queueCap is the most requests a requester may have queued.
	queueCap = 1024
	// maxInflight: an account's requests in the exchange at once.
	maxInflight = 1024
	// maxStateInflight: an account's state reads (state, order.open) in
	// the exchange at once (each costs in proportion to what the account
	// holds).
	maxStateInflight = 64
	// maxPublicInflight: a public read subject's (a symbol's depth, its
	// ADL queue, the fund's state) requests in the exchange at once.
	maxPublicInflight = 32
	// readRate and readBurst are a requester's budget for reads, in reply
	// bytes: a read is refused (RATE_LIMITED) while the budget is spent.
	// Reads cost in proportion to what they return (a 1 000-order state,
	// a 1 000-level depth: tens of kB), so ten accounts reading flat out
	// took the CPU from everyone; a bot reading its state ten times a
	// second with 1 000 orders uses a quarter of it.
	readRate, readBurst = 4 << 20, 8 << 20
)

type intake struct {
	g          *Gateway
	acctPrefix string // "<prefix>.acct."
	mu         sync.Mutex
	// queues by requester; ready lists those with work, no worker and room
	// in the exchange, in arrival order (a served queue with more goes last).
	queues map[string]*reqQueue
	ready  []*reqQueue
	wake   *sync.Cond
	closed bool
	wg     sync.WaitGroup
}

type reqQueue struct {
	key     string
	public  bool
	items   []queued
	head    int
	queued  bool // in ready, or held by a worker
	parked  bool // waiting for a request in flight to finish
	flying  int  // requests in the exchange
	reading int  // state reads among them
	// budget is the reads' budget in bytes (readRate), as of budgetAt.
	budget   float64
	budgetAt time.Time
}

// queued is a request as its subscription delivered it: the micro.Request
// itself is not touched after the handler returns (micro reads it then).
type queued struct {
	e              *endpoint
	ep             wire.Endpoint // the request's (endpointOf): e may serve several
	subject, reply string
	data           []byte
	start          time.Time
}

// slot is a request's place in flight, given back by done; the zero slot
// (a request not from the intake) holds none. A value, not a pointer: one
// allocation less per request.
type slot struct {
	in    *intake
	q     *reqQueue
	state bool
	read  bool // charged to the read budget
}

func newIntake(g *Gateway) *intake {
	in := &intake{g: g, acctPrefix: g.subj.Prefix() + ".acct.", queues: map[string]*reqQueue{}}
	in.wake = sync.NewCond(&in.mu)
	for range 2 * runtime.GOMAXPROCS(0) {
		in.wg.Add(1)
		go in.work()
	}
	return in
}

// requester is the queue key of a request subject: the account for
// `<prefix>.acct.<account>.…`, else the subject.
func (in *intake) requester(subject string) (key string, public bool) {
	if rest, ok := strings.CutPrefix(subject, in.acctPrefix); ok {
		if i := strings.IndexByte(rest, '.'); i > 0 {
			return rest[:i], false
		}
	}
	return subject, true
}

// push queues a request, or refuses it when its requester's queue is full.
func (in *intake) push(e *endpoint, req micro.Request) {
	start := in.g.received()
	key, public := in.requester(req.Subject())
	in.mu.Lock()
	q := in.queues[key]
	if q == nil {
		q = &reqQueue{key: key, public: public, budget: readBurst, budgetAt: start}
		in.queues[key] = q
	}
	ep := endpointOf(e, req.Subject())
	if len(q.items)-q.head >= queueCap || in.closed {
		in.mu.Unlock()
		in.g.overflow(ep, req.Subject(), req.Reply())
		return
	}
	it := queued{e: e, ep: ep, subject: req.Subject(), reply: req.Reply(), data: req.Data(), start: start}
	if q.head == len(q.items) && !q.queued && len(in.ready) == 0 && !q.full(it) {
		// Nothing waits — no requester in line, none of this one's
		// requests queued or being served: serve it here, in the
		// subscription's goroutine, instead of waking a worker for it (a
		// goroutine hand-over per request is what an open loop pays most
		// for, issue 21). Fairness is unchanged: anyone waiting, or a
		// requester at its bound, sends it through the queue.
		q.queued = true
		in.serve(q, it)
		in.mu.Unlock()
		return
	}
	q.items = append(q.items, it)
	in.schedule(q)
	in.mu.Unlock()
}

// full says whether q is at a bound for it, its next request.
func (q *reqQueue) full(it queued) bool {
	state := isStateRead(it.ep)
	return q.flying >= maxInflight || (q.public && q.flying >= maxPublicInflight) || (state && q.reading >= maxStateInflight)
}

// schedule puts q in line if it has work, no worker and room. in.mu held.
func (in *intake) schedule(q *reqQueue) {
	if q.queued || q.head == len(q.items) {
		return
	}
	if q.full(q.items[q.head]) {
		q.parked = true
		return
	}
	q.parked, q.queued = false, true
	in.ready = append(in.ready, q)
	in.wake.Signal()
}

// work serves one request of the queue first in line, then puts the queue
// back in line if it has more and room.
func (in *intake) work() {
	defer in.wg.Done()
	in.mu.Lock()
	for {
		for len(in.ready) == 0 && !in.closed {
			in.wake.Wait()
		}
		if len(in.ready) == 0 {
			in.mu.Unlock()
			return
		}
		q := in.ready[0]
		in.ready = in.ready[1:]
		it := q.items[q.head]
		q.items[q.head] = queued{}
		q.head++
		in.serve(q, it)
	}
}

// serve serves it, a request of q (which it holds: q.queued), then puts q
// back in line if it has more and room. in.mu is held on entry and on
// return, not while the request is served.
func (in *intake) serve(q *reqQueue, it queued) {
	s := slot{in: in, q: q, state: isStateRead(it.ep), read: isRead(it.ep)}
	if s.read && !q.afford(it.start) {
		in.mu.Unlock()
		in.g.refuseQueued(it.ep, it.subject, it.reply, readLimitedBody)
	} else {
		q.flying++
		if s.state {
			q.reading++
		}
		in.mu.Unlock()
		in.g.serveNow(it.e, it.subject, it.reply, it.data, it.start, s)
	}
	in.mu.Lock()
	q.queued = false
	in.schedule(q)
	in.tidy(q)
}

// done gives a request's slot back and lets its queue go on if it waited.
func (s slot) done() { s.finish(0) }

// finish is done for a request answered with n bytes, charged to its
// requester's read budget if it is a read.
func (s slot) finish(n int) {
	if s.in == nil {
		return
	}
	in, q := s.in, s.q
	in.mu.Lock()
	if s.read {
		q.budget -= float64(n)
	}
	q.flying--
	if s.state {
		q.reading--
	}
	if q.parked {
		in.schedule(q)
	}
	in.tidy(q)
	in.mu.Unlock()
}

// tidy forgets an idle requester's queue once there are many: the map
// stays proportional to the active ones. in.mu held.
func (in *intake) tidy(q *reqQueue) {
	if q.queued || q.parked || q.flying > 0 || q.head < len(q.items) {
		return
	}
	q.items, q.head = q.items[:0], 0
	if len(in.queues) > 4*queueCap {
		delete(in.queues, q.key)
	}
}

// close lets the workers finish what is queued and stop.
func (in *intake) close() {
	in.mu.Lock()
	in.closed = true
	in.wake.Broadcast()
	in.mu.Unlock()
	in.wg.Wait()
}

// overflowBody is the reply to a request its requester's full queue has
// no room for: made once, since a flood sends many.
var overflowBody = wire.AppendError(nil, wire.Errorf(wire.CodeRateLimited,
	"%d requests of this requester are queued: wait for their replies", queueCap))

// overflow refuses a request its requester's full queue has no room for,
// on the subscription's goroutine, so as cheaply as it can.
func (g *Gateway) overflow(ep wire.Endpoint, subject, reply string) {
	g.refuseQueued(ep, subject, reply, overflowBody)
}

// refuseQueued answers a request the intake turns down with a ready-made
// RATE_LIMITED body: no parsing, no micro error headers.
func (g *Gateway) refuseQueued(ep wire.Endpoint, subject, reply string, body []byte) {
	g.m.reject(ep, wire.CodeRateLimited)
	if reply != "" && g.replies.refuse(ep, subject, reply) == "" {
		if err := g.nc.Publish(reply, body); err != nil {
			g.publishFailed(err)
		}
	}
	g.answered()
}

// isRead reports whether ep only reads: charged to the read budget.
func isRead(ep wire.Endpoint) bool {
	switch ep {
	case wire.EpState, wire.EpOrders, wire.EpOrderQuery, wire.EpOrderOpen, wire.EpFills, wire.EpIncome, wire.EpDepth, wire.EpFundState, wire.EpADLQueue, wire.EpKlines, wire.EpRecentTrades, wire.EpFundingHistory, wire.EpFundDaily, wire.EpTicker, wire.EpOpenInterest:
		return true
	}
	return false
}

// endpointOf is the endpoint a request to e on subject asks for: e's only
// op's, or on the shared order endpoint the op its subject's last tokens
// name (order.query and order.open are reads, charged as such; the first
// op's when none does: serveNow routes it there and refuses it). No parse:
// this runs for every request.
func endpointOf(e *endpoint, subject string) wire.Endpoint {
	if len(e.ops) > 1 {
		for _, o := range e.ops {
			tail := o.ep.String()
			if n := len(subject) - len(tail); n > 0 && subject[n-1] == '.' && subject[n:] == tail {
				return o.ep
			}
		}
	}
	return e.ops[0].ep
}

// isStateRead reports whether ep is a state read (maxStateInflight).
func isStateRead(ep wire.Endpoint) bool { return ep == wire.EpState || ep == wire.EpOrderOpen }

// afford refills the read budget to now and reports whether it is not
// spent. in.mu held.
func (q *reqQueue) afford(now time.Time) bool {
	if d := now.Sub(q.budgetAt); d > 0 {
		q.budget = min(readBurst, q.budget+d.Seconds()*readRate)
		q.budgetAt = now
	}
	return q.budget >= 0
}

// readLimitedBody is the reply to a read over its requester's budget.
var readLimitedBody = wire.AppendError(nil, wire.Errorf(wire.CodeRateLimited,
	"this requester's reads are over %d MiB/s of replies: read less often", readRate>>20))
