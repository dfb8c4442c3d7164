package actors

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// mailbox is the actors' protoactor Mailbox: protoactor's default mailbox
// (same states, same order: system messages before user messages, user
// messages held while suspended, a panic escalated with the message that
// caused it) on cheaper parts, because every order crosses four or five
// mailboxes. The default allocates a closure each time an idle mailbox is
// scheduled and its queue takes a mutex and two 64-bit divisions per push
// and per pop; here the run function is bound once and the queues are
// power-of-two rings under one mutex. The consumer takes every queued user
// message in one critical section (swapping user and local), so under load
// the mutex is taken about once per message, by its poster, instead of
// twice with the consumer contending for it.
type mailbox struct {
	// Written by every poster. userN is the size of user, changed under
	// mu with it and read without it to decide whether to keep running.
	mu    sync.Mutex
	user  msgQueue
	userN atomic.Int32

	// Read for every message, rarely written: off the posters' line, so
	// the consumer's checks and the posters' pushes do not take the line
	// from each other.
	_          [64]byte
	sysN       atomic.Int32 // size of sys (under mu, like userN)
	running    atomic.Bool
	suspended  atomic.Bool
	sys        msgQueue
	invoker    actor.MessageInvoker
	dispatcher actor.Dispatcher
	run        func() // m.process, bound once

	// local holds the user messages taken from user and not handled yet;
	// only the running consumer touches it. localN is its size for
	// UserMessageCount, stored every 64 messages (an atomic store per
	// message would cost more than the rest of the pop).
	_      [64]byte
	local  msgQueue
	localN atomic.Int32
	// takes counts the takes of user messages from user into local: the
	// messages of one take were all posted before any of them is handled
	// (interest, below).
	takes uint64

	// Durable mode (durability.mailbox): j.from is set to the sender's
	// number of each user message while it is handled, and every counted
	// message is uncounted from inflight once handled, even by a panic
	// (where a receiver middleware would wrap each message in an
	// envelope).
	j        *jstate
	inflight *atomic.Int64
}

var _ actor.Mailbox = (*mailbox)(nil)

// newMailbox is the actor.MailboxProducer of every actor of the exchange.
func newMailbox() actor.Mailbox {
	m := &mailbox{}
	m.run = m.process
	return m
}

// msgQueue is a FIFO of messages in a power-of-two circular buffer.
type msgQueue struct {
	buf        []queued
	head, size int
}

// queued is a message and the number of the exchange actor that sent it
// (postFrom; 0: none, or named by an envelope).
type queued struct {
	m    any
	from uint32
}

func (r *msgQueue) push(v queued) {
	if r.size == len(r.buf) {
		n := make([]queued, max(16, 2*len(r.buf)))
		for i := range r.size {
			n[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = n, 0
	}
	r.buf[(r.head+r.size)&(len(r.buf)-1)] = v
	r.size++
}

func (r *msgQueue) pop() queued {
	if r.size == 0 {
		return queued{}
	}
	v := r.buf[r.head]
	r.buf[r.head] = queued{}
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.size--
	return v
}

func (m *mailbox) PostUserMessage(message any) {
	if batch, ok := message.(actor.MessageBatch); ok { // as protoactor's default mailbox
		for _, msg := range batch.GetMessages() {
			m.PostUserMessage(msg)
		}
	}
	if env, ok := message.(*actor.MessageEnvelope); ok {
		if batch, ok := env.Message.(actor.MessageBatch); ok {
			for _, msg := range batch.GetMessages() {
				m.PostUserMessage(msg)
			}
		}
	}
	m.postFrom(message, 0)
}

// postFrom queues a user message from exchange actor from (durable mode:
// the sender its record names).
func (m *mailbox) postFrom(message any, from uint32) {
	m.mu.Lock()
	m.user.push(queued{message, from})
	m.userN.Add(1)
	m.mu.Unlock()
	m.schedule()
}

func (m *mailbox) PostSystemMessage(message any) {
	m.mu.Lock()
	m.sys.push(queued{m: message})
	m.sysN.Add(1)
	m.mu.Unlock()
	m.schedule()
}

func (m *mailbox) RegisterHandlers(invoker actor.MessageInvoker, dispatcher actor.Dispatcher) {
	m.invoker, m.dispatcher = invoker, dispatcher
}

func (m *mailbox) Start() {}

func (m *mailbox) UserMessageCount() int { return int(m.userN.Load() + m.localN.Load()) }

// schedule runs the mailbox unless it is running. Reading running first
// spares a busy mailbox's posters a contended compare-and-swap; it is safe
// because the consumer, after it sets running false, looks at userN again
// (process), and userN was raised before running was read.
func (m *mailbox) schedule() {
	if !m.running.Load() && m.running.CompareAndSwap(false, true) {
		m.dispatcher.Schedule(m.run)
	}
}

// process runs the queued messages, then goes idle unless more arrived
// meanwhile (protoactor's processMessages).
func (m *mailbox) process() {
	for {
		m.drain()
		left := m.local.size > 0 // read while running: the next consumer owns local
		m.running.Store(false)
		if m.sysN.Load() == 0 && (m.suspended.Load() || !left && m.userN.Load() == 0) {
			return
		}
		if !m.running.CompareAndSwap(false, true) {
			return // a poster scheduled it again
		}
	}
}

// drain handles messages until both queues are empty (or the mailbox is
// suspended), system messages first; after every dispatcher throughput
// messages it yields, as protoactor's does.
func (m *mailbox) drain() {
	var msg any
	user := false // msg is a user message being handled
	defer func() {
		if r := recover(); r != nil {
			if user {
				m.j.from = 0
			}
			m.invoker.EscalateFailure(r, msg) // runs the supervisor here
			if user {
				// After the supervisor: a snapshot finds the message in
				// flight until what it journals and posts is (counted).
				m.handled(msg)
			}
		}
	}()
	t := m.dispatcher.Throughput()
	for i := 0; ; i++ {
		if i > t {
			i = 0
			runtime.Gosched()
		}
		if m.sysN.Load() > 0 {
			m.mu.Lock()
			if msg = m.sys.pop().m; msg != nil {
				m.sysN.Add(-1)
			}
			m.mu.Unlock()
			if msg != nil {
				switch msg.(type) {
				case *actor.SuspendMailbox:
					m.suspended.Store(true)
				case *actor.ResumeMailbox:
					m.suspended.Store(false)
				default:
					m.invoker.InvokeSystemMessage(msg)
				}
				continue
			}
		}
		if m.suspended.Load() {
			return
		}
		if m.local.size == 0 {
			if m.userN.Load() == 0 {
				return
			}
			m.mu.Lock()
			m.user, m.local = m.local, m.user // local is empty: user keeps a buffer
			m.takes++
			m.localN.Store(int32(m.local.size)) // before userN drops: the count never reads 0 meanwhile
			m.userN.Store(0)
			m.mu.Unlock()
		}
		q := m.local.pop()
		msg = q.m
		if m.local.size&63 == 0 {
			m.localN.Store(int32(m.local.size))
		}
		if m.j == nil {
			m.invoker.InvokeUserMessage(msg)
			continue
		}
		m.j.from, user = q.from, true
		m.invoker.InvokeUserMessage(msg)
		m.handled(msg)
		m.j.from, user = 0, false
	}
}

// handled uncounts a user message from inflight (durable mode) if it was
// counted when posted.
func (m *mailbox) handled(msg any) {
	if env, ok := msg.(*actor.MessageEnvelope); ok {
		msg = env.Message
	}
	if counted(msg) {
		m.inflight.Add(-1)
	}
}

// interest caches whether a stream has a subscriber for the take of
// messages being handled: asking the server costs a lock and a walk of its
// subscription tree (≈ 0.2 µs), and klines ask it for twelve streams per
// trade. It is as exact as asking for each message: every message of a
// take was posted before the take began, so a subscription made before
// the post that caused an event was made before the first question of the
// take. Recovery runs handlers outside the mailbox (no takes): what it
// caches stays until the first take after it, when nothing is published
// anyway.
type interest struct {
	at   uint64 // the take + 1 the answer is for; 0: none
	want bool
}

// ask returns the answer cached for mb's take, else f's, which it caches.
func (c *interest) ask(mb *mailbox, f func() bool) bool {
	if c.at != mb.takes+1 {
		c.at, c.want = mb.takes+1, f()
	}
	return c.want
}
