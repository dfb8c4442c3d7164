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
	stop       chan struct{}
	once       sync.Once
}

var _ actor.Dispatcher = (*workerDispatcher)(nil)

func newWorkerDispatcher(throughput int) *workerDispatcher {
	d := &workerDispatcher{queue: make(chan func(), 1<<16), throughput: throughput, stop: make(chan struct{})}
	for range 2 * runtime.GOMAXPROCS(0) {
		go d.work()
	}
	return d
}

func (d *workerDispatcher) work() {
	for {
		select {
		case fn := <-d.queue:
			fn()
		case <-d.stop:
			return
		}
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

func (d *workerDispatcher) close() { d.once.Do(func() { close(d.stop) }) }
