package journal

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Follower reads the journal as it grows, record by record, for a hot
// standby: the same batches and checks as Read, through an ordered
// consumer that waits at the end for what the writer appends next, and
// that re-creates itself past a server or connection failure.
//
// Next and CatchUp run on one goroutine; Applied may be read from any.
type Follower struct {
	cfg Config
	nc  *nats.Conn
	st  jetstream.Stream
	it  jetstream.MessagesContext
	// next is pump's: the message read ahead, or the error that ended it;
	// err keeps that error for every later Next. done ends pump.
	next    chan nextMsg
	err     error
	done    chan struct{}
	cur     cursor
	stream  uint64        // the stream sequence of the last batch applied
	pending uint64        // the batches after it, as its delivery counted them
	applied atomic.Uint64 // the last record passed to fn
}

// Follow starts reading the journal at record fromSeq (1 for all of it,
// or one past a snapshot's sequence). The stream is created when it does
// not exist yet, so a standby may start before its leader. It is an ErrGap
// when the journal was trimmed past fromSeq or ends before fromSeq−1.
func Follow(nc *nats.Conn, cfg Config, fromSeq uint64) (*Follower, error) {
	cfg, err := cfg.withDefaults(nc)
	if err != nil {
		return nil, err
	}
	fromSeq = max(fromSeq, 1)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	st, t, err := cfg.streamTail(ctx, js)
	if err != nil {
		return nil, err
	}
	if t.last+1 < fromSeq {
		return nil, endsBefore(t.last, fromSeq)
	}
	start := t.stream + 1 // nothing stored: wait for the first batch
	if st.CachedInfo().State.Msgs > 0 {
		if start, err = startOf(ctx, st, fromSeq); err != nil {
			return nil, err
		}
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxBytes(max(8<<20, 2*cfg.MaxBatchBytes+2*headerRoom)))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	f := &Follower{cfg: cfg, nc: nc, st: st, it: it, cur: cursor{cfg: cfg, from: fromSeq},
		next: make(chan nextMsg, 1), done: make(chan struct{})}
	f.applied.Store(fromSeq - 1)
	go f.pump()
	return f, nil
}

type nextMsg struct {
	m   jetstream.Msg
	err error
}

// pump reads the consumer ahead of Next. The ordered consumer's Next does
// not return on its context while it re-creates itself (a server lost,
// the stream leaderless for an election): a standby that won the lease
// then waited on it for good. Next waits on the pump and its own context
// instead; a message read after Next gave up waits here for the next call.
func (f *Follower) pump() {
	for {
		m, err := f.it.Next()
		select {
		case f.next <- nextMsg{m, err}:
		case <-f.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Applied is the sequence of the last record passed on (fromSeq−1 before
// the first).
func (f *Follower) Applied() uint64 { return f.applied.Load() }

// Behind reports whether the journal holds batches after the last one
// Next passed on (as the consumer counted them then) or one read ahead
// waits: false when Next would wait for the writer (the follower has
// caught up, for now). For Next's goroutine.
func (f *Follower) Behind() bool { return f.pending > 0 || len(f.next) > 0 }

// Next waits for the next batch and passes its records to fn in order. It
// returns ctx's error when ctx ends first; a gap, a corrupt batch or an
// error of fn stops the follower for good (Close it).
func (f *Follower) Next(ctx context.Context, fn func(seq uint64, kind uint16, actor uint32, payload []byte) error) error {
	if f.err != nil {
		return f.err
	}
	var m jetstream.Msg
	select {
	case r := <-f.next:
		if r.err != nil {
			f.err = fmt.Errorf("journal: stream %s after record %d: %w", f.cfg.Stream, f.Applied(), r.err)
			return f.err
		}
		m = r.m
	case <-ctx.Done():
		return ctx.Err()
	}
	meta, err := m.Metadata()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := f.cur.batch(meta.Sequence.Stream, m.Data(), fn); err != nil {
		// For good: the batch is consumed, so a later Next (Promote's
		// catch-up) would wait for the next one and fail on the gap, the
		// record's error lost.
		f.err = err
		return err
	}
	f.stream = meta.Sequence.Stream
	f.pending = meta.NumPending
	f.applied.Store(f.cur.next - 1)
	return nil
}

// catchUp applies every batch up to stream sequence end.
func (f *Follower) catchUp(ctx context.Context, end uint64, fn func(uint64, uint16, uint32, []byte) error) error {
	for f.stream < end {
		if err := f.Next(ctx, fn); err != nil {
			return err
		}
	}
	return nil
}

// Promote makes the follower the journal's writer. It opens a Writer at
// the journal's end, applies every record up to there, and appends one
// record (kind, actor, payload: the new writer's mark) expecting that end:
// a writer elsewhere that appended meanwhile makes it catch up and try
// again, and every append of that writer after the mark is fenced
// (ErrFenced). When Promote returns, Applied is the record before the mark,
// the Writer's Last is the mark, and it is durable.
func (f *Follower) Promote(ctx context.Context, fn func(seq uint64, kind uint16, actor uint32, payload []byte) error,
	kind uint16, actor uint32, payload []byte) (*Writer, error) {
	for {
		w, err := Open(f.nc, f.cfg)
		if err != nil {
			return nil, err
		}
		if err = f.catchUp(ctx, w.opened.stream, fn); err == nil && f.Applied() != w.opened.last {
			err = fmt.Errorf("%w: the journal ends at record %d, the follower applied %d", ErrGap, w.opened.last, f.Applied())
		}
		if err == nil {
			w.Append(kind, actor, payload, nil)
			if err = w.Sync(ctx); err == nil {
				return w, nil
			}
		}
		_ = w.Close()
		if !errors.Is(err, ErrFenced) {
			return nil, err
		}
	}
}

// Close stops reading.
func (f *Follower) Close() {
	close(f.done)
	f.it.Stop()
}
