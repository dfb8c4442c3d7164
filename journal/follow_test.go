package journal

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// collect is a follower's fn that keeps copies of the records.
type collect struct{ recs []Record }

func (c *collect) fn(seq uint64, kind uint16, actor uint32, p []byte) error {
	c.recs = append(c.recs, Record{Seq: seq, Kind: kind, Actor: actor, Payload: bytes.Clone(p)})
	return nil
}

// following is a Follower from record from on, closed with the test.
func following(t *testing.T, nc *nats.Conn, cfg Config, from uint64) *Follower {
	t.Helper()
	f, err := Follow(nc, cfg, from)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func follow(t *testing.T, f *Follower, c *collect, upTo uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for f.Applied() < upTo {
		if err := f.Next(ctx, c.fn); err != nil {
			t.Fatalf("follower at %d, want %d: %v", f.Applied(), upTo, err)
		}
	}
}

// A follower started before the stream exists sees every record as the
// writer appends it; Promote takes over at the end with a mark record,
// after which the old writer is fenced, and the records read back are the
// old writer's, the mark, then the new writer's.
func TestFollowerTailsAndPromoteFences(t *testing.T) {
	nc := fresh(t)
	cfg := config("FOLLOW")
	f := following(t, nc, cfg, 1)
	var c collect

	old := open(t, nc, cfg)
	appendTexts(old, nil, texts("old-", 30)...)
	mustSync(t, old)
	follow(t, f, &c, 20) // part of it: Promote reads the rest
	// More lands meanwhile: Promote catches up to the end it finds.
	appendTexts(old, nil, texts("late-", 5)...)
	mustSync(t, old)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	w, err := f.Promote(ctx, c.fn, 9, 0, []byte("mark"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Applied() != 35 || w.Last() != 36 || w.Durable() != 36 {
		t.Fatalf("applied %d, writer last %d durable %d; want 35, 36, 36", f.Applied(), w.Last(), w.Durable())
	}
	if got, want := strings.Join(payloads(c.recs), " "), strings.Join(append(texts("old-", 30), texts("late-", 5)...), " "); got != want {
		t.Fatalf("follower applied %q, want %q", got, want)
	}
	appendTexts(old, nil, "deposed")
	if err := old.Sync(ctx); !errors.Is(err, ErrFenced) {
		t.Fatalf("old writer after the mark: %v, want ErrFenced", err)
	}
	select {
	case <-old.Failed():
	default:
		t.Fatal("old writer's Failed not closed")
	}
	if !errors.Is(old.Err(), ErrFenced) {
		t.Fatalf("old writer's Err %v", old.Err())
	}
	appendTexts(w, nil, "new")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, _ := readAll(t, nc, cfg, 30)
	if got := strings.Join(payloads(recs), " "); got != "old-29 late-0 late-1 late-2 late-3 late-4 mark new" {
		t.Fatalf("journal tail %q", got)
	}
	_ = old.Close()
}

// A follower from a snapshot's sequence starts inside a batch; one asked
// past the journal's end or before its trimmed start is an ErrGap.
func TestFollowFromAndGaps(t *testing.T) {
	nc := fresh(t)
	cfg := config("FOLLOWFROM")
	w := open(t, nc, cfg)
	for range 3 {
		appendTexts(w, nil, texts("r", 10)...)
		mustSync(t, w)
	}
	f, err := Follow(nc, cfg, 15)
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	follow(t, f, &c, 30)
	f.Close()
	if len(c.recs) != 16 || c.recs[0].Seq != 15 {
		t.Fatalf("from 15: %d records from %d", len(c.recs), c.recs[0].Seq)
	}
	if _, err := Follow(nc, cfg, 32); !errors.Is(err, ErrGap) {
		t.Fatalf("past the end: %v", err)
	}
	if err := Trim(nc, cfg, 21); err != nil {
		t.Fatal(err)
	}
	if _, err := Follow(nc, cfg, 5); !errors.Is(err, ErrGap) {
		t.Fatalf("before the trimmed start: %v", err)
	}
	_ = w.Close()
}

// TestFollowerBehind: a follower catching up on a journal already stored
// is Behind after every batch but the last, whether its read-ahead got the
// next one yet or not; at the end it is not, until the writer appends.
func TestFollowerBehind(t *testing.T) {
	nc := fresh(t)
	cfg := config("BEHIND")
	w := open(t, nc, cfg)
	const batches = 40
	for range batches {
		appendTexts(w, nil, texts("r", 4)...)
		mustSync(t, w)
	}
	f := following(t, nc, cfg, 1)
	var c collect
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for i := 1; f.Applied() < 4*batches; i++ {
		if err := f.Next(ctx, c.fn); err != nil {
			t.Fatal(err)
		}
		if end := f.Applied() == 4*batches; f.Behind() == end {
			t.Fatalf("batch %d (record %d of %d): behind %v", i, f.Applied(), 4*batches, f.Behind())
		}
	}
	appendTexts(w, nil, "more")
	mustSync(t, w)
	follow(t, f, &c, 4*batches+1)
	if f.Behind() {
		t.Fatal("behind at the end")
	}
}

// An error of fn stops the follower for good: Next returns it again at
// once, and Promote (a standby that won the lease just then) returns it
// and appends nothing. Before, the failed batch was consumed: Promote's
// catch-up waited for the next one and failed on a gap or its context,
// the record's error lost.
func TestFollowerStopsOnFnError(t *testing.T) {
	nc, cfg := fresh(t), config("FNERR")
	f := following(t, nc, cfg, 1) // before the stream: Follow makes it
	w := open(t, nc, cfg)
	appendTexts(w, nil, texts("a-", 10)...)
	mustSync(t, w)
	refused := errors.New("refused")
	fn := func(seq uint64, _ uint16, _ uint32, _ []byte) error {
		if seq == 4 {
			return refused
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// Next takes one batch: the records before 4 may come in batches of
	// their own.
	err := f.Next(ctx, fn)
	for err == nil {
		err = f.Next(ctx, fn)
	}
	if !errors.Is(err, refused) {
		t.Fatalf("Next: %v, want the record's error", err)
	}
	if err := f.Next(ctx, fn); !errors.Is(err, refused) {
		t.Fatalf("Next after it: %v, want the record's error again", err)
	}
	if _, err := f.Promote(ctx, fn, 9, 0, []byte("mark")); !errors.Is(err, refused) {
		t.Fatalf("Promote: %v, want the record's error", err)
	}
	if _, last := readAll(t, nc, cfg, 1); last != 10 {
		t.Fatalf("the journal ends at %d after a refused Promote, want 10", last)
	}
}
