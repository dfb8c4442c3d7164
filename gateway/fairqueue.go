package gateway

import (
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/perpx/perpx/wire"
)

// The gateway's intake: every endpoint's subscription hands its requests
// to a queue per requester (the account of an account's subject, the
// subject for public ones), and workers serve the queues round-robin, one
// request at a time per queue, so each requester's requests keep their
// order while one requester's backlog waits behind its own requests only
// (a subscription serves its messages one by one: without this, 100 000
// requests of one account held everyone's behind them for a second and
// more). A queue holds at most queueCap requests; those beyond are
// refused at once, RATE_LIMITED, without parsing more than the subject.
const queueCap = 1024

type intake struct {
	g  *Gateway
	mu sync.Mutex
	// queues by requester; ready lists those with work and no worker, in
	// arrival order (round-robin: a served queue with more goes last).
	queues map[string]*reqQueue
	ready  []*reqQueue
	wake   *sync.Cond
	closed bool
	wg     sync.WaitGroup
}

type reqQueue struct {
	key     string
	items   []queued
	head    int
	serving bool // a worker holds it (or it is in ready)
}

type queued struct {
	e     *endpoint
	req   micro.Request
	start time.Time
}

func newIntake(g *Gateway) *intake {
	in := &intake{g: g, queues: map[string]*reqQueue{}}
	in.wake = sync.NewCond(&in.mu)
	for range 2 * runtime.GOMAXPROCS(0) {
		in.wg.Add(1)
		go in.work()
	}
	return in
}

// requester is the queue key of a request subject: the account for
// `<prefix>.acct.<account>.…`, else the subject.
func (in *intake) requester(subject string) string {
	p := in.g.subj.Prefix() + ".acct."
	if rest, ok := strings.CutPrefix(subject, p); ok {
		if i := strings.IndexByte(rest, '.'); i > 0 {
			return rest[:i]
		}
	}
	return subject
}

// push queues a request, or refuses it when its requester's queue is full.
func (in *intake) push(e *endpoint, req micro.Request) {
	start := in.g.received()
	key := in.requester(req.Subject())
	in.mu.Lock()
	q := in.queues[key]
	if q == nil {
		q = &reqQueue{key: key}
		in.queues[key] = q
	}
	if len(q.items)-q.head >= queueCap || in.closed {
		in.mu.Unlock()
		in.g.overflow(e, req, start)
		return
	}
	q.items = append(q.items, queued{e, req, start})
	if !q.serving {
		q.serving = true
		in.ready = append(in.ready, q)
		in.wake.Signal()
	}
	in.mu.Unlock()
}

// work serves one request of the queue first in line, then puts the queue
// back at the end of the line if it has more.
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
		in.mu.Unlock()
		in.g.serveNow(it.e, it.req, it.start)
		in.mu.Lock()
		switch {
		case q.head < len(q.items):
			in.ready = append(in.ready, q)
		case len(in.queues) > 4*queueCap:
			// Idle requesters' queues are dropped when there are many: the
			// map stays proportional to the active ones.
			delete(in.queues, q.key)
			q.serving = false
		default:
			q.items, q.head, q.serving = q.items[:0], 0, false
		}
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
// on the subscription's goroutine, so as cheaply as it can: no parsing, a
// ready-made reply without micro's error headers.
func (g *Gateway) overflow(e *endpoint, req micro.Request, start time.Time) {
	g.m.reject(e.ops[0].ep, wire.CodeRateLimited)
	if r := req.Reply(); r != "" && g.replies.refuse(e.ops[0].ep, req.Subject(), r) == "" {
		if err := g.nc.Publish(r, overflowBody); err != nil {
			g.publishFailed(err)
		}
	}
	g.answered()
}
