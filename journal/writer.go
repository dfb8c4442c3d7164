package journal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors a writer's callbacks, Sync and Close report.
var (
	// ErrFenced: another writer appended to the stream; this one has
	// stopped for good.
	ErrFenced = errors.New("journal: fenced by another writer")
	// ErrWrite: a batch was refused or not acknowledged in time; the
	// writer has stopped for good. Its records may or may not be stored.
	ErrWrite = errors.New("journal: write failed")
	// ErrClosed: Append after Close.
	ErrClosed = errors.New("journal: writer closed")
	// ErrTooLarge: a record that cannot fit one batch.
	ErrTooLarge = errors.New("journal: record larger than a batch")
)

// The server's codes for a failed expectation: another writer got there
// first (10164 is what a replicated stream answers).
const (
	codeWrongLastSeq      = 10071
	codeWrongLastSeqR     = 10164
	codeWrongLastMsgID    = 10070
	headerExpectedLastSeq = "Nats-Expected-Last-Sequence"
	headerExpectedLastID  = "Nats-Expected-Last-Msg-Id"
)

// Writer appends records to the journal with group commit: records are
// packed into batches, one JetStream message each, published several at a
// time, and reported durable when the server has stored their batch.
//
// Each batch expects the stream's last sequence to be its predecessor's
// and, behind a batch of this writer, that batch's message id, so a batch
// lands only right behind its predecessor. The sequence alone does not
// fence: once another writer's message has taken the place of one batch,
// the next batch in flight expects exactly that sequence and would land
// behind the stranger.
type Writer struct {
	cfg   Config
	js    jetstream.JetStream
	nonce string // tells this writer's message ids from any other's

	mu      sync.Mutex
	space   sync.Cond // Append waits here for room in the queue
	next    uint64    // the next record's sequence
	open    *batch    // filling, nil when none
	sealed  []*batch  // ready to publish, in order
	free    []*batch  // recycled buffers
	queued  int       // records appended and not yet resolved
	flying  int       // batches published and not yet resolved
	err     error     // why the writer stopped; sticky
	closing bool
	now     bool          // Sync or Close wants the open batch out
	synced  chan struct{} // closed when durable advances or err is set; nil unless someone waits

	durable atomic.Uint64
	opened  tail          // the journal's end when Open read it
	failed  chan struct{} // closed when err is set

	kick     chan struct{} // wakes the flusher
	inflight chan *batch   // flusher → acker, in publish order
	tokens   chan struct{} // one per batch in flight
	done     chan struct{} // closed when the acker has resolved the last batch

	// Owned by the flusher: where the previous batch went. The first batch
	// expects only the stream's last sequence seen at Open: no batch of
	// this writer is ahead of it.
	lastStream uint64
	lastID     string
}

type batch struct {
	enc    encoder
	cbs    []func(uint64, error)
	first  uint64
	n      int
	opened time.Time
	stream uint64 // the stream sequence it must land at
	fut    jetstream.PubAckFuture
	err    error // the publish call's own error
}

// Open starts a writer on cfg's stream, creating the stream (file storage)
// when it does not exist. Its first record follows the last record stored.
// Only one writer may append to a stream: a second one fences the first.
func Open(nc *nats.Conn, cfg Config) (*Writer, error) {
	cfg, err := cfg.withDefaults(nc)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(cfg.Timeout),
		jetstream.WithPublishAsyncMaxPending(cfg.MaxInFlight))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	_, t, err := cfg.streamTail(ctx, js)
	if err != nil {
		return nil, err
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	w := &Writer{
		cfg: cfg, js: js, nonce: hex.EncodeToString(nonce[:]),
		next:       t.last + 1,
		kick:       make(chan struct{}, 1),
		inflight:   make(chan *batch, cfg.MaxInFlight),
		tokens:     make(chan struct{}, cfg.MaxInFlight),
		done:       make(chan struct{}),
		lastStream: t.stream,
		opened:     t,
		failed:     make(chan struct{}),
	}
	w.space.L = &w.mu
	w.durable.Store(t.last)
	go w.flush()
	go w.ack()
	return w, nil
}

// Append queues one record and returns its journal sequence at once; it
// blocks only while MaxPending records are waiting to become durable. The
// payload is copied. onDurable (may be nil) runs once, on the writer's
// goroutine in sequence order, after the record's batch is stored, or
// with the error that stopped the writer (the record may or may not be
// stored then). It must not block: an Append inside it would wait forever
// on a full queue that only its own goroutine empties.
// A record too large for a batch, or one appended after Close, gets
// sequence 0 and its callback at once, on the caller's goroutine.
func (w *Writer) Append(kind uint16, actor uint32, payload []byte, onDurable func(seq uint64, err error)) uint64 {
	size := recordSize(len(payload))
	if headerSize+size+trailerSize > w.cfg.MaxBatchBytes {
		refuse(onDurable, fmt.Errorf("%w: %d bytes, batches hold %d", ErrTooLarge, len(payload), w.cfg.MaxBatchBytes))
		return 0
	}
	w.mu.Lock()
	for w.queued >= w.cfg.MaxPending && w.err == nil && !w.closing {
		w.space.Wait()
	}
	if w.closing {
		w.mu.Unlock()
		refuse(onDurable, ErrClosed)
		return 0
	}
	kick := false
	if b := w.open; b != nil && b.enc.size()+size > w.cfg.MaxBatchBytes {
		w.seal()
	}
	b := w.open
	if b == nil {
		b = w.newBatch()
		kick = true
	}
	seq := w.next
	w.next++
	b.enc.add(kind, actor, payload)
	b.cbs = append(b.cbs, onDurable)
	b.n++
	w.queued++
	if b.n == w.cfg.MaxBatch {
		w.seal()
		kick = true
	}
	w.mu.Unlock()
	if kick {
		w.wake()
	}
	return seq
}

func refuse(cb func(uint64, error), err error) {
	if cb != nil {
		cb(0, err)
	}
}

// Last is the sequence of the latest record appended (0 for none).
func (w *Writer) Last() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next - 1
}

// Failed is closed when the writer stops on an error (Err says which):
// fenced by another writer, or a batch refused or not acknowledged.
func (w *Writer) Failed() <-chan struct{} { return w.failed }

// Err is the error that stopped the writer, nil while it runs.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Durable is the sequence up to which every record is stored and its
// callback has returned.
func (w *Writer) Durable() uint64 { return w.durable.Load() }

// Sync waits until every record appended before it is durable, and sends
// the open batch without waiting for MaxDelay. It returns the error that
// stopped the writer, if any did first.
func (w *Writer) Sync(ctx context.Context) error {
	w.mu.Lock()
	target := w.next - 1
	w.now = w.open != nil
	w.mu.Unlock()
	w.wake()
	for {
		w.mu.Lock()
		if w.durable.Load() >= target {
			w.mu.Unlock()
			return nil
		}
		if w.err != nil {
			err := w.err
			w.mu.Unlock()
			return err
		}
		if w.synced == nil {
			w.synced = make(chan struct{})
		}
		ch := w.synced
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close sends what is queued, waits for every callback, and returns the
// error that stopped the writer, if any. The connection stays open.
func (w *Writer) Close() error {
	w.mu.Lock()
	w.closing = true
	w.space.Broadcast()
	w.mu.Unlock()
	w.wake()
	<-w.done
	w.js.CleanupPublisher()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// newBatch opens a batch for the next record. w.mu is held.
func (w *Writer) newBatch() *batch {
	var b *batch
	if n := len(w.free); n > 0 {
		b, w.free = w.free[n-1], w.free[:n-1]
	} else {
		b = &batch{}
	}
	b.first, b.n, b.opened = w.next, 0, time.Now()
	b.enc.begin(w.next)
	w.open = b
	return b
}

// seal moves the open batch to the publish queue. w.mu is held.
func (w *Writer) seal() {
	w.sealed = append(w.sealed, w.open)
	w.open = nil
	w.now = false
}

// flush is the one goroutine that publishes: it seals the open batch when
// it is due and publishes sealed batches in order, MaxInFlight at most.
func (w *Writer) flush() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var todo []*batch
	for {
		w.mu.Lock()
		if b := w.open; b != nil {
			// Waiting only pays while earlier batches keep the server busy.
			idle := w.flying == 0 && len(w.sealed) == 0
			if w.now || w.closing || w.err != nil || idle || w.cfg.MaxDelay < 0 || time.Since(b.opened) >= w.cfg.MaxDelay {
				w.seal()
			}
		}
		todo, w.sealed = w.sealed, todo[:0]
		wait := time.Duration(-1)
		if w.open != nil {
			wait = w.cfg.MaxDelay - time.Since(w.open.opened)
		}
		last := w.closing && w.open == nil && len(todo) == 0
		w.mu.Unlock()
		if last {
			close(w.inflight)
			return
		}
		if len(todo) > 0 {
			for i, b := range todo {
				w.publish(b)
				todo[i] = nil
			}
			continue
		}
		if wait >= 0 {
			timer.Reset(wait)
		}
		select {
		case <-w.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// publish sends b behind the previous batch, or hands it straight to the
// acker to fail when the writer has stopped.
func (w *Writer) publish(b *batch) {
	w.tokens <- struct{}{}
	w.mu.Lock()
	stopped := w.err != nil
	w.flying++
	w.mu.Unlock()
	b.fut, b.err = nil, nil
	if !stopped {
		id := w.nonce + "." + strconv.FormatUint(b.first, 10)
		opts := []jetstream.PublishOpt{jetstream.WithMsgID(id), jetstream.WithExpectLastSequence(w.lastStream),
			// A retried batch could land behind its successor.
			jetstream.WithRetryAttempts(0)}
		if w.lastID != "" {
			opts = append(opts, jetstream.WithExpectLastMsgID(w.lastID))
		}
		b.stream = w.lastStream + 1
		b.fut, b.err = w.js.PublishMsgAsync(&nats.Msg{Subject: w.cfg.Subject, Data: b.enc.finish()}, opts...)
		w.lastStream, w.lastID = b.stream, id
	}
	w.inflight <- b
}

// ack is the one goroutine that resolves batches, in publish order: it
// waits for each one's acknowledgement and runs its callbacks.
func (w *Writer) ack() {
	for b := range w.inflight {
		err := w.outcome(b)
		w.mu.Lock()
		if w.err == nil && err != nil {
			w.err = err
			close(w.failed)
			w.space.Broadcast()
			w.notify()
			w.wake() // the open batch fails now, not after MaxDelay
		}
		err = w.err
		w.mu.Unlock()
		for i, cb := range b.cbs {
			if cb != nil {
				cb(b.first+uint64(i), err)
			}
		}
		w.mu.Lock()
		if err == nil {
			w.durable.Store(b.first + uint64(b.n) - 1)
			w.notify()
		}
		w.queued -= b.n
		w.flying--
		if w.flying == 0 && w.open != nil {
			w.wake()
		}
		clear(b.cbs)
		b.cbs = b.cbs[:0]
		w.free = append(w.free, b)
		w.space.Broadcast()
		w.mu.Unlock()
		<-w.tokens
	}
	close(w.done)
}

// notify wakes Sync's waiters. w.mu is held.
func (w *Writer) notify() {
	if w.synced != nil {
		close(w.synced)
		w.synced = nil
	}
}

// outcome waits for b's acknowledgement; nil means b is stored where it
// was expected.
func (w *Writer) outcome(b *batch) error {
	if b.fut == nil && b.err == nil {
		return nil // published after the writer stopped: fails with its error
	}
	err := b.err
	if err == nil {
		select {
		case pa := <-b.fut.Ok():
			if pa.Stream == w.cfg.Stream && pa.Sequence == b.stream && !pa.Duplicate {
				return nil
			}
			err = fmt.Errorf("acknowledged as %s seq %d (duplicate %v)", pa.Stream, pa.Sequence, pa.Duplicate)
		case err = <-b.fut.Err():
		}
	}
	var api *jetstream.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode {
		case codeWrongLastSeq, codeWrongLastSeqR, codeWrongLastMsgID:
			return fmt.Errorf("%w: batch of records %d-%d at stream seq %d: %v", ErrFenced, b.first, b.first+uint64(b.n)-1, b.stream, err)
		}
	}
	return fmt.Errorf("%w: batch of records %d-%d at stream seq %d: %w", ErrWrite, b.first, b.first+uint64(b.n)-1, b.stream, err)
}
