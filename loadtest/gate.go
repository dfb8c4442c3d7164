package loadtest

import (
	"sync"
	"sync/atomic"
)

// gate pauses the measured flow for an audit mid-run: the exchange's audit
// is meaningful only when it is quiet (API.md AUDIT). The senders park, the
// pause's length is added to shift, and the schedule runs on a clock that
// stops meanwhile (real time − shift), so no request falls due during a
// pause and none is measured late because of one.
type gate struct {
	stop  atomic.Bool
	shift atomic.Int64 // ns of pauses so far

	mu     sync.Mutex
	cond   *sync.Cond
	active int // senders still running
	parked int
}

func newGate(senders int) *gate {
	g := &gate{active: senders}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// park blocks a sender while the gate is closed.
func (g *gate) park() {
	g.mu.Lock()
	g.parked++
	g.cond.Broadcast()
	for g.stop.Load() {
		g.cond.Wait()
	}
	g.parked--
	g.mu.Unlock()
}

// done tells the gate a sender has finished.
func (g *gate) done() {
	g.mu.Lock()
	g.active--
	g.cond.Broadcast()
	g.mu.Unlock()
}

// close stops the senders and returns once every running one is parked.
func (g *gate) close() {
	g.mu.Lock()
	g.stop.Store(true)
	for g.parked < g.active {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

// open shifts the schedule by paused ns and lets the senders go on.
func (g *gate) open(paused int64) {
	g.mu.Lock()
	g.shift.Add(paused)
	g.stop.Store(false)
	g.cond.Broadcast()
	g.mu.Unlock()
}
