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
// power-of-two rings under one mutex.
type mailbox struct {
	mu   sync.Mutex
	user ring
	sys  ring

	// Sizes of user and sys, changed under mu with them and read without
	// it to decide whether to keep running: a count above zero means a
	// message is there to pop (this mailbox is the only consumer).
	userN, sysN atomic.Int32
	running     atomic.Bool
	suspended   atomic.Bool

	invoker    actor.MessageInvoker
	dispatcher actor.Dispatcher
	run        func() // m.process, bound once
}

var _ actor.Mailbox = (*mailbox)(nil)

// newMailbox is the actor.MailboxProducer of every actor of the exchange.
func newMailbox() actor.Mailbox {
	m := &mailbox{}
	m.run = m.process
	return m
}

// ring is a FIFO of messages in a power-of-two circular buffer.
type ring struct {
	buf        []any
	head, size int
}

func (r *ring) push(v any) {
	if r.size == len(r.buf) {
		n := make([]any, max(16, 2*len(r.buf)))
		for i := range r.size {
			n[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = n, 0
	}
	r.buf[(r.head+r.size)&(len(r.buf)-1)] = v
	r.size++
}

func (r *ring) pop() any {
	if r.size == 0 {
		return nil
	}
	v := r.buf[r.head]
	r.buf[r.head] = nil
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
	m.mu.Lock()
	m.user.push(message)
	m.userN.Add(1)
	m.mu.Unlock()
	m.schedule()
}

func (m *mailbox) PostSystemMessage(message any) {
	m.mu.Lock()
	m.sys.push(message)
	m.sysN.Add(1)
	m.mu.Unlock()
	m.schedule()
}

func (m *mailbox) RegisterHandlers(invoker actor.MessageInvoker, dispatcher actor.Dispatcher) {
	m.invoker, m.dispatcher = invoker, dispatcher
}

func (m *mailbox) Start() {}

func (m *mailbox) UserMessageCount() int { return int(m.userN.Load()) }

func (m *mailbox) schedule() {
	if m.running.CompareAndSwap(false, true) {
		m.dispatcher.Schedule(m.run)
	}
}

// process runs the queued messages, then goes idle unless more arrived
// meanwhile (protoactor's processMessages).
func (m *mailbox) process() {
	for {
		m.drain()
		m.running.Store(false)
		if m.sysN.Load() == 0 && (m.suspended.Load() || m.userN.Load() == 0) {
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
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, msg)
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
			if msg = m.sys.pop(); msg != nil {
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
		if m.suspended.Load() || m.userN.Load() == 0 {
			return
		}
		m.mu.Lock()
		if msg = m.user.pop(); msg != nil {
			m.userN.Add(-1)
		}
		m.mu.Unlock()
		if msg == nil {
			return
		}
		m.invoker.InvokeUserMessage(msg)
	}
}
