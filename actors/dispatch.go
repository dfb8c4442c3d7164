package actors

import (
	"runtime"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// workerDispatcher runs mailboxes on a fixed set of long-lived goroutines
// instead of protoactor's goroutine per mailbox activation. A fresh
// goroutine starts with a small stack that the actors' call depth (risk,
// decimal conversions) grows on almost every activation; profiling the
// order benchmark showed a fifth of the CPU in stack growth. Workers keep
// their grown stacks. Schedule never blocks: when every worker is busy and
// the queue is full it falls back to a goroutine, so a sending actor can
// never deadlock on it.
type workerDispatcher struct {
	queue      chan func()
	throughput int
	workers    int
	once       sync.Once
}

var _ actor.Dispatcher = (*workerDispatcher)(nil)

func newWorkerDispatcher(throughput int) *workerDispatcher {
	d := &workerDispatcher{queue: make(chan func(), 1<<16), throughput: throughput, workers: 2 * runtime.GOMAXPROCS(0)}
	for range d.workers {
		go d.work()
	}
	return d
}

// work runs scheduled mailboxes until it takes a nil (close). A plain
// receive, not a select with a stop channel: the select locked both
// channels on every mailbox run, and all workers shared the stop
// channel's lock.
func (d *workerDispatcher) work() {
	for fn := range d.queue {
		if fn == nil {
			return
		}
		fn()
	}
}

func (d *workerDispatcher) Schedule(fn func()) {
	select {
	case d.queue <- fn:
	default:
		go fn()
	}
}

func (d *workerDispatcher) Throughput() int { return d.throughput }

// close stops every worker once the mailboxes scheduled before it have
// run; the channel stays open, since actors may still schedule (Schedule
// then falls back to a goroutine when the queue is full).
func (d *workerDispatcher) close() {
	d.once.Do(func() {
		go func() { // the queue may be full: do not block Stop
			for range d.workers {
				d.queue <- nil
			}
		}()
	})
}
