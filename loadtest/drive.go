package loadtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// maxPause keeps a sender responsive to the end of the window and to
// cancellation even at very low rates.
const maxPause = 50 * time.Millisecond

// drive sends this pipe's share of the schedule until the window ends at
// end (ns), the share is sent, or stop closes. Request i goes to
// table[i%len] and is stamped with its due time, not the time it leaves.
// With batch > 1 the requests due in one wake-up go out grouped by account
// in order.batch requests (see batcher), each item with its own due time.
func (p *pipe) drive(sched Schedule, end int64, table []trader, batch int, stop <-chan struct{}, g *gate) {
	defer g.done()
	buf := make([]byte, 0, 512)
	var b *batcher
	if batch > 1 {
		b = newBatcher(table, batch)
	}
	// The schedule's clock stands still while the gate is closed.
	clock := func() int64 { return p.clock() - g.shift.Load() }
	var i uint64
	giveUpAt := end + int64(maxPause)
	for {
		if g.stop.Load() {
			if b != nil {
				b.flush(p)
			}
			g.park()
		}
		now := clock()
		select {
		case <-stop:
			end = min(end, now+1)
		default:
		}
		// Everything due within the window goes out, late if need be (its
		// latency says so), unless the sender is hopelessly behind.
		for due := sched.Due(min(now, end-1)); i < due; i++ {
			if i%64 == 63 && (clock() >= giveUpAt || g.stop.Load()) {
				break
			}
			at := sched.At(i) + g.shift.Load()
			if b != nil {
				b.add(p, table, int(i%uint64(len(table))), at)
				continue
			}
			t := table[i%uint64(len(table))]
			k, subject, body := t.next(buf[:0])
			p.send(k, t.role(), subject, body, at)
			buf = body[:0] // keep the grown buffer
		}
		if b != nil {
			b.flush(p)
		}
		if now >= end || sched.Limit > 0 && i >= sched.Total() || clock() >= giveUpAt {
			break
		}
		if !g.stop.Load() {
			pause(min(time.Duration(min(sched.At(i), end)-clock()), maxPause))
		}
	}
	// Requests due within the window but never sent mean the generator
	// could not keep the rate; they are reported, not silently dropped.
	if due := sched.Due(end - 1); due > i {
		p.mu.Lock()
		p.t.unsent += int64(due - i)
		p.mu.Unlock()
	}
}

// driveClosed keeps window requests in flight until the window ends at end
// (ns) or stop closes: a closed loop, each request sent as soon as a reply
// frees a slot. There is no schedule to be late against, so a request's
// latency counts from when it left, and a slow exchange lowers the rate
// instead of growing the latency (the price of a closed loop; the open loop
// is what measures latency under a given load).
//
// A request unanswered after stale (a lost reply) is given up as a timeout,
// so its slot does not stay taken until the drain.
func (p *pipe) driveClosed(window int, end, stale int64, table []trader, stop <-chan struct{}, g *gate) {
	defer g.done()
	buf := make([]byte, 0, 512)
	// The timer only bounds a wait with nothing in flight to wake it (a
	// publish error, lost replies), so the end of the window is still seen.
	wait := time.NewTimer(maxPause)
	defer wait.Stop()
	sweep := p.clock() + stale
	for i := 0; p.clock()-g.shift.Load() < end; {
		if g.stop.Load() {
			g.park()
		}
		if now := p.clock(); now >= sweep {
			p.giveUpBefore(now - stale)
			sweep = now + stale/4
		}
		for free := window - p.inFlight(); free > 0 && !g.stop.Load(); free-- {
			t := table[i%len(table)]
			k, subject, body := t.next(buf[:0])
			p.send(k, t.role(), subject, body, p.clock())
			buf = body[:0]
			i++
		}
		wait.Reset(maxPause)
		select {
		case <-p.freed:
		case <-wait.C:
		case <-stop:
			return
		}
	}
}

// run performs the measured window and builds the report.
func (r *runner) run(ctx context.Context) (*Report, error) {
	cfg := r.cfg
	t0 := time.Now()
	clock := func() int64 { return int64(time.Since(t0)) }
	for _, nc := range r.conns {
		p, err := newPipe(nc, clock, cfg.Ring)
		if err != nil {
			return nil, err
		}
		r.pipes = append(r.pipes, p)
	}
	for _, nc := range r.conns {
		if err := nc.Flush(); err != nil { // reply subscriptions in place before the first request
			return nil, fmt.Errorf("loadtest: flush: %w", err)
		}
	}
	col := newCollector(r.pipes, r.events)
	cpu0, cpuOK := processCPU()
	end := int64(cfg.Duration)

	var senders sync.WaitGroup
	r.gate = newGate(len(r.pipes))
	for i, p := range r.pipes {
		if cfg.Window > 0 {
			p.mu.Lock()
			p.freed = make(chan struct{}, 1)
			p.mu.Unlock()
			senders.Go(func() { p.driveClosed(cfg.Window, end, int64(cfg.Drain), r.tables[i], ctx.Done(), r.gate) })
			continue
		}
		sched := Schedule{Rate: uint64(cfg.Rate), Stride: uint64(len(r.pipes)), Offset: uint64(i), Limit: cfg.Orders}
		senders.Go(func() { p.drive(sched, end, r.tables[i], cfg.Batch, ctx.Done(), r.gate) })
	}
	progressDone := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() { r.progress(col, clock, progressDone) })
	bg.Go(func() { r.mgr.run(ctx, progressDone) })
	if cfg.SetIndex && !cfg.Walk.Off {
		ticks := make([]int64, len(r.syms))
		for i := range ticks {
			ticks[i] = r.marks.ticks[i].Load()
		}
		r.walker = newWalker(cfg.Walk, cfg.Seed, ticks)
		bg.Go(func() { r.walk(ctx, r.walker, progressDone) })
	}
	if cfg.AuditEvery > 0 {
		bg.Go(func() { r.audits(ctx, clock, progressDone) })
	}
	var shock *ShockReport
	if cfg.Shock {
		bg.Go(func() { shock = r.shock(ctx, time.Duration(float64(end)*cfg.ShockAt), clock, progressDone) })
	}

	senders.Wait()
	window := min(clock()-r.gate.shift.Load(), end)
	r.drain(clock)
	cpu1, _ := processCPU()
	wall := clock()
	close(progressDone)
	bg.Wait()
	last := col.collect(clock())
	if cfg.Progress != nil {
		progressLine(cfg.Progress, last, col.last.rejects)
	}
	rep := r.report(col, window)
	rep.Shock = shock
	if cpuOK {
		rep.CPU = cpuReport(cpu1-cpu0, wall, rep.Replies, cfg.CPUScope)
	}
	rep.Management = r.mgr.report()
	if r.walker != nil {
		rep.IndexJumps = r.walker.jumps.Load()
	}
	r.audit(ctx, rep)
	return rep, nil
}

// drain waits up to Drain for the replies in flight, then gives up on the
// rest: they count as timeouts at their age.
func (r *runner) drain(clock func() int64) {
	deadline := clock() + int64(r.cfg.Drain)
	for clock() < deadline {
		n := 0
		for _, p := range r.pipes {
			n += p.inFlight()
		}
		if n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, p := range r.pipes {
		p.giveUpAll()
	}
}

func (r *runner) progress(col *collector, clock func() int64, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			pt := col.collect(clock())
			if r.cfg.Progress != nil {
				progressLine(r.cfg.Progress, pt, col.last.rejects)
			}
		}
	}
}

// shock moves every symbol's index by ShockPct at offset at into the run.
func (r *runner) shock(ctx context.Context, at time.Duration, clock func() int64, done <-chan struct{}) *ShockReport {
	select {
	case <-time.After(at - time.Duration(clock())):
	case <-done:
		return nil
	case <-ctx.Done():
		return nil
	}
	rep := &ShockReport{AtS: float64(clock()) / 1e9, Pct: r.cfg.ShockPct, Indexes: map[string]string{}}
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	factor := 1 - r.cfg.ShockPct/100
	for i, s := range r.syms {
		ticks := max(int64(float64(r.marks.ticks[i].Load())*factor), 1)
		price := decimal.New(ticks*s.tick.mant, int32(-s.tick.scale))
		mark, err := setIndex(c, r.ctl, r.subj, s.Name, price)
		if err != nil {
			rep.Error = err.Error()
			return rep
		}
		rep.Indexes[s.Name] = price.String()
		if mark.Sign() > 0 {
			r.marks.ticks[i].Store(s.tick.units(mark))
		}
		if r.walker != nil {
			r.walker.shift(i, ticks)
		}
	}
	return rep
}
