package loadtest

import (
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// kind is what a measured request does.
type kind uint8

const (
	kindPlace kind = iota
	kindCancel
	kindAmend
	nKinds
)

// CodeNoResponders counts requests the NATS server bounced because nothing
// subscribes to their subject (exchange down or wrong prefix).
const CodeNoResponders = "NO_RESPONDERS"

// Latency histogram range: 1 µs to 60 s at 3 significant digits.
const (
	histMaxMicros = 60_000_000
	histDigits    = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, histMaxMicros, histDigits) }

// role is the kind of trader that sent a request, so the report can say
// whose requests were refused.
type role uint8

const (
	roleNone role = iota // tests' bare requests
	roleMaker
	roleTaker
	roleLevered
	roleCanceler
	nRoles
)

var roleTags = [nRoles]string{"", KindMaker, KindTaker, KindLevered, KindCanceler}

// pending is a request awaiting its reply.
type pending struct {
	n    uint64 // request number, to tell a reused slot from its old owner
	due  int64  // scheduled send time: latency is measured from here
	kind kind
	role role
	live bool
	size uint8 // of the batch this request's reply answers, 0 for a single request
}

// tally is what a pipe has seen; counters are cumulative, hist holds the
// latencies since the collector last took it.
type tally struct {
	sent, replies [nKinds]int64
	rejects       map[string]int64
	rejectsBy     [nRoles]map[string]int64 // rejects by the sender's role
	statuses      map[wire.Status]int64
	timeouts      int64 // never answered: recorded at their age when given up
	strays        int64 // replies matching no pending request
	pubErrs       int64
	unsent        int64 // due before the end but not sent: the generator fell behind
	// lateCancels are the UNKNOWN_ORDER rejects of cancels and amends
	// (also in rejects): the order had filled, expired or was never placed.
	lateCancels int64
	lastReply   int64 // when the latest reply arrived (pipe clock)
	hist        *hdrhistogram.Histogram
	// lag holds, since the collector last took it, how late each request
	// left after its due time: the generator's own part of the latency.
	lag *hdrhistogram.Histogram
}

func newTally() tally {
	t := tally{rejects: map[string]int64{}, statuses: map[wire.Status]int64{}, hist: newHist(), lag: newHist()}
	for i := range t.rejectsBy {
		t.rejectsBy[i] = map[string]int64{}
	}
	return t
}

// addCounters adds o's counters (not its histogram) to t.
func (t *tally) addCounters(o *tally) {
	for k := range nKinds {
		t.sent[k] += o.sent[k]
		t.replies[k] += o.replies[k]
	}
	for c, n := range o.rejects {
		t.rejects[c] += n
	}
	for i, m := range o.rejectsBy {
		for c, n := range m {
			t.rejectsBy[i][c] += n
		}
	}
	for s, n := range o.statuses {
		t.statuses[s] += n
	}
	t.timeouts += o.timeouts
	t.strays += o.strays
	t.pubErrs += o.pubErrs
	t.unsent += o.unsent
	t.lateCancels += o.lateCancels
	t.lastReply = max(t.lastReply, o.lastReply)
}

func (t *tally) totalSent() (n int64) {
	for _, v := range t.sent {
		n += v
	}
	return n
}

func (t *tally) totalReplies() (n int64) {
	for _, v := range t.replies {
		n += v
	}
	return n
}

func (t *tally) totalRejects() (n int64) {
	for _, v := range t.rejects {
		n += v
	}
	return n
}

// recordLatency stores ns in microseconds, clamped into the histogram range.
func (t *tally) recordLatency(ns int64) { record(t.hist, ns) }

// record stores ns in h in microseconds, clamped into the histogram range.
func record(h *hdrhistogram.Histogram, ns int64) {
	_ = h.RecordValue(min(max(ns/1000, 0), histMaxMicros)) // clamped: cannot fail
}

// pipe is one connection that pipelines requests: it publishes with reply
// subjects <inbox>.<n> and a single subscription on <inbox>.* matches each
// reply to request n, so it never waits for a reply before sending.
type pipe struct {
	nc    *nats.Conn
	inbox string
	reply []byte // "<inbox>." with room for a number; sender goroutine only
	sub   *nats.Subscription
	clock func() int64

	mu          sync.Mutex
	ring        []pending // request n lives in ring[n&mask]
	mask        uint64
	next        uint64
	outstanding int
	t           tally
	// freed wakes a closed-loop sender when a reply (or a give-up) frees a
	// slot; it holds at most one wake-up, which is all a sender needs. nil
	// in an open loop: nobody waits for slots there.
	freed chan struct{}
}

// newPipe subscribes the reply inbox of nc. ring bounds the requests in
// flight: a request still unanswered when its slot comes round again is
// counted as a timeout.
func newPipe(nc *nats.Conn, clock func() int64, ring int) (*pipe, error) {
	p := newPending(clock, ring)
	p.nc, p.inbox = nc, nc.NewInbox()
	p.reply = append(make([]byte, 0, len(p.inbox)+21), p.inbox+"."...)
	sub, err := nc.Subscribe(p.inbox+".*", p.onReply)
	if err != nil {
		return nil, fmt.Errorf("loadtest: reply subscription: %w", err)
	}
	// Replies must not be dropped as a slow consumer: a dropped reply
	// would turn into a false timeout.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, err
	}
	p.sub = sub
	return p, nil
}

// newPending returns a pipe's bookkeeping without a connection.
func newPending(clock func() int64, ring int) *pipe {
	size := 1
	for size < ring {
		size <<= 1
	}
	return &pipe{clock: clock, ring: make([]pending, size), mask: uint64(size - 1), t: newTally()}
}

// send publishes one request due at due (ns on the pipe's clock). One
// goroutine per pipe sends; replies arrive on another.
func (p *pipe) send(k kind, r role, subject string, body []byte, due int64) {
	n := p.registerRole(k, r, due)
	if err := p.nc.PublishRequest(subject, string(strconv.AppendUint(p.reply, n, 10)), body); err != nil {
		p.mu.Lock()
		if s := &p.ring[n&p.mask]; s.live && s.n == n {
			s.live = false
			p.outstanding--
		}
		p.t.pubErrs++
		p.mu.Unlock()
	}
}

// register records request n as in flight before it is published, so its
// reply cannot overtake the record.
func (p *pipe) register(k kind, due int64) uint64 { return p.registerRole(k, roleNone, due) }

func (p *pipe) registerRole(k kind, r role, due int64) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.registerLocked(k, r, due, p.clock())
}

func (p *pipe) registerLocked(k kind, r role, due, now int64) uint64 {
	n := p.next
	p.next++
	s := &p.ring[n&p.mask]
	if s.live {
		p.giveUp(s, now)
	}
	*s = pending{n: n, due: due, kind: k, role: r, live: true}
	p.outstanding++
	p.t.sent[k]++
	record(p.t.lag, now-due)
	return n
}

func (p *pipe) onReply(m *nats.Msg) {
	now := p.clock()
	var r replyOutcomes
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		r.whole.code = CodeNoResponders
	} else {
		r.read(m.Data)
	}
	n, err := strconv.ParseUint(m.Subject[len(p.inbox)+1:], 10, 64)
	if err != nil {
		n = math.MaxUint64 // matches no request: a stray
	}
	p.completeReply(n, now, &r)
}

// complete records the reply to request n received at now: its latency is
// counted from the request's due time.
func (p *pipe) complete(n uint64, now int64, o outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.liveLocked(n); s != nil {
		p.completeLocked(s, now, o)
	}
}

// liveLocked is request n's record while it waits for its reply; nil (a
// stray reply, counted) when it was answered or given up already.
func (p *pipe) liveLocked(n uint64) *pending {
	s := &p.ring[n&p.mask]
	if !s.live || s.n != n {
		p.t.strays++
		return nil
	}
	return s
}

// completeLocked records the reply o to the live request s.
func (p *pipe) completeLocked(s *pending, now int64, o outcome) {
	p.retire(s)
	p.t.replies[s.kind]++
	p.t.lastReply = max(p.t.lastReply, now)
	p.t.recordLatency(now - s.due)
	if o.ok {
		if o.status != "" {
			p.t.statuses[o.status]++
		}
	} else {
		p.t.rejects[o.code]++
		p.t.rejectsBy[s.role][o.code]++
		if s.kind != kindPlace && o.code == string(wire.CodeUnknownOrder) {
			p.t.lateCancels++
		}
	}
}

// giveUp retires an unanswered request as a timeout. Its age still goes into
// the histogram: leaving it out would hide exactly the slowest requests.
func (p *pipe) giveUp(s *pending, now int64) {
	p.retire(s)
	p.t.timeouts++
	p.t.recordLatency(now - s.due)
}

// retire takes s out of flight and wakes a closed-loop sender.
func (p *pipe) retire(s *pending) {
	s.live = false
	p.outstanding--
	if p.freed != nil {
		select {
		case p.freed <- struct{}{}:
		default:
		}
	}
}

// inFlight returns the number of requests awaiting a reply.
func (p *pipe) inFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outstanding
}

// giveUpAll retires every request still in flight.
func (p *pipe) giveUpAll() { p.giveUpBefore(math.MaxInt64) }

// giveUpBefore retires the requests in flight that were due before cutoff.
func (p *pipe) giveUpBefore(cutoff int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	for i := range p.ring {
		if s := &p.ring[i]; s.live && s.due < cutoff {
			p.giveUp(s, now)
		}
	}
}

// take adds the pipe's counters to into and moves its latencies into hist
// and its send lags into lag.
func (p *pipe) take(into *tally, hist, lag *hdrhistogram.Histogram) {
	p.mu.Lock()
	defer p.mu.Unlock()
	into.addCounters(&p.t)
	hist.Merge(p.t.hist)
	p.t.hist.Reset()
	lag.Merge(p.t.lag)
	p.t.lag.Reset()
}

func (p *pipe) close() {
	_ = p.sub.Unsubscribe()
}
