package journal

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrGap: the journal's records are not dense where they must be: a batch
// does not follow its predecessor, the journal was trimmed past the
// sequence asked for, or it ends before it.
var ErrGap = errors.New("journal: sequence gap")

// tail is where the journal ends.
type tail struct {
	last   uint64 // the last record's sequence, 0 when none was ever written
	stream uint64 // the stream's last sequence
}

// streamTail opens the journal's stream, creating it when absent, and
// reads where it ends.
func (c Config) streamTail(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, tail, error) {
	st, err := c.stream(ctx, js, true)
	if err != nil {
		return nil, tail{}, err
	}
	t, err := tailOf(ctx, st)
	return st, t, err
}

// tailOf reads the last batch of st. The stream's last sequence may be a
// message deleted since (an operator cutting off a damaged tail): the
// journal then goes on from the last batch still there.
func tailOf(ctx context.Context, st jetstream.Stream) (tail, error) {
	info, err := st.Info(ctx)
	if err != nil {
		return tail{}, fmt.Errorf("journal: %w", err)
	}
	s := info.State
	if s.Msgs == 0 {
		if s.LastSeq != 0 {
			// Trim keeps the last batch: someone else emptied the stream.
			return tail{}, fmt.Errorf("%w: stream %s is empty after seq %d: the next record's sequence is unknown", ErrGap, info.Config.Name, s.LastSeq)
		}
		return tail{}, nil
	}
	m, err := st.GetLastMsgForSubject(ctx, info.Config.Subjects[0])
	if err != nil {
		return tail{}, fmt.Errorf("journal: stream %s: last message: %w", info.Config.Name, err)
	}
	b, err := DecodeBatch(m.Data)
	if err != nil {
		return tail{}, at(err, info.Config.Name, m.Sequence)
	}
	return tail{last: b.Last(), stream: s.LastSeq}, nil
}

// batchAt fetches and decodes the first message at or after stream
// sequence seq.
func batchAt(ctx context.Context, st jetstream.Stream, seq uint64) (*jetstream.RawStreamMsg, Batch, error) {
	name := st.CachedInfo().Config.Name
	m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(st.CachedInfo().Config.Subjects[0]))
	if err != nil {
		return nil, Batch{}, fmt.Errorf("journal: stream %s seq %d: %w", name, seq, err)
	}
	b, err := DecodeBatch(m.Data)
	if err != nil {
		return nil, Batch{}, at(err, name, m.Sequence)
	}
	return m, b, nil
}

// at says where a batch that does not decode is.
func at(err error, stream string, seq uint64) error {
	return fmt.Errorf("%w (stream %s seq %d)", err, stream, seq)
}

// locate finds the stream sequence of the batch holding record rec: the
// last batch whose first record is rec or before. It is an ErrGap when the
// journal's first batch starts after rec. Batches are in stream order
// with rising sequences, so a binary search over the stream finds it.
func locate(ctx context.Context, st jetstream.Stream, rec uint64) (uint64, error) {
	s := st.CachedInfo().State
	m, b, err := batchAt(ctx, st, s.FirstSeq)
	if err != nil {
		return 0, err
	}
	if b.First > rec {
		return 0, fmt.Errorf("%w: the journal starts at record %d (stream seq %d), after %d", ErrGap, b.First, m.Sequence, rec)
	}
	lo, hi := m.Sequence, s.LastSeq
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		m, b, err := batchAt(ctx, st, mid)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			hi = mid - 1 // deleted up to the end
		case err != nil:
			return 0, err
		case m.Sequence > hi || b.First > rec:
			hi = mid - 1
		default:
			lo = m.Sequence
		}
	}
	return lo, nil
}

// Read replays the journal's records from fromSeq to its end, as it is
// when Read starts, calling fn for each in order; payload is valid only
// during the call. It returns the last record's sequence (fromSeq−1 when
// there was nothing after it). A corrupt batch or a gap is an error naming
// the stream sequence, never skipped; so is a journal that starts after
// fromSeq or ends before fromSeq−1. An error from fn stops the replay and
// is returned wrapped. A stream that does not exist is an empty journal.
func Read(nc *nats.Conn, cfg Config, fromSeq uint64, fn func(seq uint64, kind uint16, actor uint32, payload []byte) error) (last uint64, err error) {
	cfg, err = cfg.withDefaults(nc)
	if err != nil {
		return 0, err
	}
	fromSeq = max(fromSeq, 1)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	st, err := cfg.stream(ctx, js, false)
	if err != nil {
		return 0, err
	}
	if st == nil || st.CachedInfo().State.Msgs == 0 {
		t, err := tailOrNone(ctx, st)
		if err == nil && t.last+1 < fromSeq {
			err = endsBefore(t.last, fromSeq)
		}
		if err != nil {
			return 0, err
		}
		return fromSeq - 1, nil
	}
	start, err := startOf(ctx, st, fromSeq)
	if err != nil {
		return 0, err
	}
	next, err := replay(cfg, st, start, st.CachedInfo().State.LastSeq, fromSeq, fn)
	if err != nil {
		return 0, err
	}
	if next < fromSeq {
		return 0, endsBefore(next-1, fromSeq)
	}
	return next - 1, nil
}

// startOf is the stream sequence to read from for record fromSeq: the
// batch holding it, or the one before, so that the link into the batch
// found is checked (a search does not see what it steps over).
func startOf(ctx context.Context, st jetstream.Stream, fromSeq uint64) (uint64, error) {
	start, err := locate(ctx, st, fromSeq)
	if err != nil {
		return 0, err
	}
	if start > st.CachedInfo().State.FirstSeq {
		start--
	}
	return start, nil
}

func tailOrNone(ctx context.Context, st jetstream.Stream) (tail, error) {
	if st == nil {
		return tail{}, nil
	}
	return tailOf(ctx, st)
}

func endsBefore(last, from uint64) error {
	return fmt.Errorf("%w: the journal ends at record %d, replay asked from %d", ErrGap, last, from)
}

// replay streams the batches at stream sequences start..end through an
// ordered consumer, checks that their records are dense and passes those
// from fromSeq on to fn. It returns the sequence after the last record.
// It stops at end or at the last message there is, should end be deleted.
func replay(cfg Config, st jetstream.Stream, start, end, fromSeq uint64, fn func(uint64, uint16, uint32, []byte) error) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	// Room for a few of the largest batches, never fewer than one.
	it, err := cons.Messages(jetstream.PullMaxBytes(max(8<<20, 2*cfg.MaxBatchBytes+2*headerRoom)))
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	defer it.Stop()
	c := cursor{cfg: cfg, from: fromSeq}
	for {
		m, err := it.Next(jetstream.NextMaxWait(cfg.Timeout))
		if err != nil {
			return 0, fmt.Errorf("journal: stream %s after record %d: %w", cfg.Stream, c.next-1, err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return 0, fmt.Errorf("journal: %w", err)
		}
		seq := meta.Sequence.Stream
		if err := c.batch(seq, m.Data(), fn); err != nil {
			return 0, err
		}
		if seq >= end || meta.NumPending == 0 {
			return c.next, nil
		}
	}
}

// cursor walks batches in stream order: it checks that their records are
// dense and passes those from its from on to fn.
type cursor struct {
	cfg  Config
	from uint64
	next uint64 // the next record's sequence; 0 before the first batch
}

// batch checks and applies the batch stored at stream sequence seq.
func (c *cursor) batch(seq uint64, data []byte, fn func(uint64, uint16, uint32, []byte) error) error {
	b, err := DecodeBatch(data)
	if err != nil {
		return at(err, c.cfg.Stream, seq)
	}
	switch {
	case c.next == 0 && b.First > c.from:
		return fmt.Errorf("%w: stream %s seq %d starts at record %d, replay asked from %d", ErrGap, c.cfg.Stream, seq, b.First, c.from)
	case c.next != 0 && b.First != c.next:
		return fmt.Errorf("%w: stream %s seq %d starts at record %d, want %d", ErrGap, c.cfg.Stream, seq, b.First, c.next)
	}
	for r := range b.Records() {
		if r.Seq < c.from {
			continue
		}
		if err := fn(r.Seq, r.Kind, r.Actor, r.Payload); err != nil {
			return fmt.Errorf("journal: record %d: %w", r.Seq, err)
		}
	}
	c.next = b.Last() + 1
	return nil
}

// Trim purges the batches wholly before record beforeSeq, typically the
// first record a snapshot does not cover. The last batch always stays, so
// a writer opened later continues the sequence. Trimming less than is
// there, or an empty or missing stream, is no error.
func Trim(nc *nats.Conn, cfg Config, beforeSeq uint64) error {
	cfg, err := cfg.withDefaults(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	st, err := cfg.stream(ctx, js, false)
	if err != nil || st == nil || st.CachedInfo().State.Msgs == 0 {
		return err
	}
	keep, err := locate(ctx, st, beforeSeq)
	if errors.Is(err, ErrGap) {
		return nil // already trimmed past beforeSeq
	}
	if err != nil {
		return err
	}
	if keep <= st.CachedInfo().State.FirstSeq {
		return nil
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(keep)); err != nil {
		return fmt.Errorf("journal: trim stream %s before seq %d: %w", cfg.Stream, keep, err)
	}
	return nil
}
