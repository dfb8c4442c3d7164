package actors

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

func TestRingFIFOAcrossGrowth(t *testing.T) {
	var r msgQueue
	next, want := 0, 0
	for round := range 50 {
		for range round % 7 * 5 {
			r.push(queued{next, uint32(next)})
			next++
		}
		for range round % 5 * 4 {
			v := r.pop()
			if want == next {
				if v != (queued{}) {
					t.Fatalf("pop from an empty ring = %v", v)
				}
				continue
			}
			if v.m != want || v.from != uint32(want) {
				t.Fatalf("pop = %v, want %d", v, want)
			}
			want++
		}
	}
	if r.size != next-want {
		t.Fatalf("size %d, want %d", r.size, next-want)
	}
}

// syncDispatcher runs a scheduled mailbox at once on the caller.
type syncDispatcher struct{}

func (syncDispatcher) Schedule(fn func()) { fn() }
func (syncDispatcher) Throughput() int    { return 3 }

// logInvoker records what the mailbox hands it; a "panic" message panics.
type logInvoker struct {
	log      []string
	failures []any
}

func (l *logInvoker) InvokeSystemMessage(m any) { l.log = append(l.log, fmt.Sprint("sys:", m)) }
func (l *logInvoker) InvokeUserMessage(m any) {
	if m == "panic" {
		panic("boom")
	}
	l.log = append(l.log, fmt.Sprint("user:", m))
}
func (l *logInvoker) EscalateFailure(_ any, m any) { l.failures = append(l.failures, m) }

// TestMailboxLikeProtoactors: the exchange's mailbox keeps protoactor's
// default semantics: system messages first, user messages held while
// suspended and resumed in order, a panic escalated with its message and
// the following messages still delivered.
func TestMailboxLikeProtoactors(t *testing.T) {
	inv := &logInvoker{}
	m := newMailbox().(*mailbox)
	m.RegisterHandlers(inv, syncDispatcher{})

	m.PostSystemMessage(&actor.SuspendMailbox{})
	for i := range 5 {
		m.PostUserMessage(i)
	}
	m.PostSystemMessage("stop-ish")
	if len(inv.log) != 1 || inv.log[0] != "sys:stop-ish" {
		t.Fatalf("while suspended: %v", inv.log)
	}
	if m.UserMessageCount() != 5 {
		t.Fatalf("%d user messages queued, want 5", m.UserMessageCount())
	}
	m.PostSystemMessage(&actor.ResumeMailbox{})
	want := []string{"sys:stop-ish", "user:0", "user:1", "user:2", "user:3", "user:4"}
	if !slices.Equal(inv.log, want) {
		t.Fatalf("after resume: %v, want %v", inv.log, want)
	}
	m.PostUserMessage("panic")
	m.PostUserMessage(5)
	if len(inv.failures) != 1 || inv.failures[0] != "panic" {
		t.Fatalf("failures %v", inv.failures)
	}
	if got := inv.log[len(inv.log)-1]; got != "user:5" {
		t.Fatalf("after a panic: last %q", got)
	}
	if m.UserMessageCount() != 0 || m.running.Load() {
		t.Fatalf("not idle: %d queued, running %v", m.UserMessageCount(), m.running.Load())
	}
}

// countInvoker checks that each producer's messages arrive in order.
type countInvoker struct {
	next []int // per producer: the next sequence number expected
	bad  int
	n    int
}

type seqMsg struct{ producer, seq int }

func (c *countInvoker) InvokeSystemMessage(any) {}
func (c *countInvoker) InvokeUserMessage(m any) {
	s := m.(seqMsg)
	if s.seq != c.next[s.producer] {
		c.bad++
	}
	c.next[s.producer] = s.seq + 1
	c.n++
}
func (c *countInvoker) EscalateFailure(any, any) {}

// TestMailboxConcurrentPosters: with posters on several goroutines and
// the consumer taking batches, every message is handled once, each
// poster's in order, and the mailbox ends idle.
func TestMailboxConcurrentPosters(t *testing.T) {
	const posters, each = 4, 20000
	d := newWorkerDispatcher(300)
	defer d.close()
	inv := &countInvoker{next: make([]int, posters)}
	m := newMailbox().(*mailbox)
	m.RegisterHandlers(inv, d)
	var wg sync.WaitGroup
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m.PostUserMessage(seqMsg{p, i})
			}
		}()
	}
	wg.Wait()
	done := make(chan struct{})
	m.PostUserMessage(seqMsg{0, each}) // the last one: handled after the rest of poster 0's
	go func() {
		for m.running.Load() || m.UserMessageCount() > 0 {
			runtime.Gosched()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("mailbox not idle: %d queued", m.UserMessageCount())
	}
	for !m.running.CompareAndSwap(false, true) { // own the consumer's state to read it
		runtime.Gosched()
	}
	if inv.n != posters*each+1 || inv.bad != 0 {
		t.Fatalf("handled %d of %d, %d out of order", inv.n, posters*each+1, inv.bad)
	}
}
