package journal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/perpx/perpx/natsrv"
)

// serverDirEnv makes the test binary a bare JetStream server on that
// directory (TestKillServer runs it as a child and kills it).
const serverDirEnv = "JOURNAL_TEST_SERVER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(serverDirEnv); dir != "" {
		s, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", JetStreamDir: dir})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(s.ClientURL())
		select {}
	}
	os.Exit(m.Run())
}

const wait = 10 * time.Second

func startServer(t testing.TB, dir string) *natsrv.Server {
	t.Helper()
	s, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", JetStreamDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func dial(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// fresh starts a server on a new store and connects to it over loopback.
func fresh(t testing.TB) *nats.Conn {
	return dial(t, startServer(t, t.TempDir()).ClientURL())
}

func jsOf(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// ignore is a replay callback for tests that look only at Read's result.
func ignore(uint64, uint16, uint32, []byte) error { return nil }

func config(name string) Config {
	return Config{Stream: name, Subject: "px.journal." + strings.ToLower(name), Timeout: wait}
}

func open(t testing.TB, nc *nats.Conn, cfg Config) *Writer {
	t.Helper()
	w, err := Open(nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func mustSync(t testing.TB, w *Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// readAll replays the journal from from; payloads are copied.
func readAll(t testing.TB, nc *nats.Conn, cfg Config, from uint64) ([]Record, uint64) {
	t.Helper()
	var out []Record
	last, err := Read(nc, cfg, from, func(seq uint64, kind uint16, actor uint32, p []byte) error {
		out = append(out, Record{Seq: seq, Kind: kind, Actor: actor, Payload: bytes.Clone(p)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, last
}

// appendTexts appends each text as a record and returns their sequences.
func appendTexts(w *Writer, cb func(uint64, error), texts ...string) []uint64 {
	seqs := make([]uint64, len(texts))
	for i, s := range texts {
		seqs[i] = w.Append(7, uint32(i), []byte(s), cb)
	}
	return seqs
}

func texts(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func payloads(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Payload)
	}
	return out
}

var errStop = errors.New("stop")

// stored reports whether record seq can be read back from the stream now.
func stored(nc *nats.Conn, cfg Config, seq uint64) bool {
	found := false
	_, err := Read(nc, cfg, seq, func(s uint64, _ uint16, _ uint32, _ []byte) error {
		found = s == seq
		return errStop
	})
	return found && errors.Is(err, errStop)
}

func TestConcurrentAppendsReadBackOnceInOrder(t *testing.T) {
	nc := fresh(t)
	cfg := config("CONC")
	cfg.MaxBatch = 64
	w := open(t, nc, cfg)
	const goroutines, each = 8, 1500
	var (
		resolved []uint64 // callbacks, in the order they ran (one goroutine)
		early    []uint64 // sampled records not readable when their callback ran
		errs     atomic.Int64
	)
	cb := func(seq uint64, err error) {
		if err != nil {
			errs.Add(1)
		}
		// The callback runs only once the batch is stored: sample it.
		if seq%701 == 0 && !stored(nc, cfg, seq) {
			early = append(early, seq)
		}
		resolved = append(resolved, seq)
	}
	seqs := make([][]uint64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				// Payload lengths vary so some length prefixes take two bytes.
				p := fmt.Sprintf("g%d.%d.%s", g, i, strings.Repeat("x", (g*each+i)%200))
				seqs[g] = append(seqs[g], w.Append(uint16(g), uint32(i), []byte(p), cb))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	const total = goroutines * each
	if errs.Load() != 0 || len(early) != 0 {
		t.Fatalf("%d callbacks failed; records not readable when reported durable: %v", errs.Load(), early)
	}
	if len(resolved) != total || w.Durable() != total {
		t.Fatalf("%d callbacks, durable %d; want %d", len(resolved), w.Durable(), total)
	}
	for i, s := range resolved {
		if s != uint64(i+1) {
			t.Fatalf("callback %d for record %d", i, s)
		}
	}
	recs, last := readAll(t, nc, cfg, 1)
	if len(recs) != total || last != total {
		t.Fatalf("read %d records up to %d, want %d", len(recs), last, total)
	}
	for g := range goroutines {
		prev := uint64(0)
		for i, s := range seqs[g] {
			r := recs[s-1]
			want := fmt.Sprintf("g%d.%d.", g, i)
			if r.Seq != s || r.Kind != uint16(g) || r.Actor != uint32(i) || !strings.HasPrefix(string(r.Payload), want) ||
				len(r.Payload) != len(want)+(g*each+i)%200 {
				t.Fatalf("record %d: %+v, want %s…", s, r, want)
			}
			if s <= prev {
				t.Fatalf("goroutine %d: sequence %d after %d", g, s, prev)
			}
			prev = s
		}
	}
}

func TestSyncWaitsForWhatWasAppended(t *testing.T) {
	nc := fresh(t)
	// Sync sends the open batch without waiting for MaxDelay.
	cfg := config("SYNC")
	cfg.MaxDelay = time.Hour
	w := open(t, nc, cfg)
	defer w.Close()
	mustSync(t, w) // nothing appended
	appendTexts(w, nil, "a")
	appendTexts(w, nil, "b", "c") // the first may be in flight: these wait
	mustSync(t, w)
	if w.Durable() != 3 {
		t.Fatalf("durable %d after Sync, want 3", w.Durable())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	appendTexts(w, nil, "d")
	if err := w.Sync(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func TestSecondWriterFencesTheFirst(t *testing.T) {
	nc := fresh(t)
	cfg := config("FENCE")
	a := open(t, nc, cfg)
	appendTexts(a, nil, texts("a-early-", 10)...)
	mustSync(t, a)

	b := open(t, nc, cfg)
	if b.Durable() != 10 {
		t.Fatalf("second writer starts after %d, want 10", b.Durable())
	}
	if s := appendTexts(b, nil, texts("b-", 5)...); s[0] != 11 {
		t.Fatalf("second writer's first record %d, want 11", s[0])
	}
	mustSync(t, b)

	var fenced atomic.Int64
	cb := func(_ uint64, err error) {
		if errors.Is(err, ErrFenced) {
			fenced.Add(1)
		}
	}
	appendTexts(a, cb, texts("a-late-", 20)...)
	if err := a.Sync(context.Background()); !errors.Is(err, ErrFenced) {
		t.Fatalf("first writer's Sync: %v, want ErrFenced", err)
	}
	appendTexts(a, cb, "a-after")
	if err := a.Close(); !errors.Is(err, ErrFenced) {
		t.Fatalf("Close: %v", err)
	}
	if fenced.Load() != 21 {
		t.Fatalf("%d of 21 callbacks got ErrFenced", fenced.Load())
	}
	// The winner is not disturbed by the loser's attempts.
	appendTexts(b, nil, texts("b-", 10)[5:]...)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	recs, _ := readAll(t, nc, cfg, 1)
	want := append(texts("a-early-", 10), texts("b-", 10)...)
	if got := payloads(recs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("journal %q, want %q", got, want)
	}
}

// Expected-last-sequence alone does not fence a pipelined writer: when a
// stranger's message takes the place of one batch, the next batch in
// flight expects exactly the stranger's sequence and lands behind it. The
// writer also expects its previous batch's message id, which no stranger
// has.
func TestFenceHoldsForBatchesInFlight(t *testing.T) {
	nc := fresh(t)
	js := jsOf(t, nc)
	ctx := context.Background()

	t.Run("sequence alone", func(t *testing.T) {
		cfg := config("SEQONLY")
		st := open(t, nc, cfg)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		pub := func(data string, last uint64) error {
			_, err := js.Publish(ctx, cfg.Subject, []byte(data), jetstream.WithExpectLastSequence(last))
			return err
		}
		// The writer pipelines x (expects 0) and y (expects 1, x's place);
		// the stranger's message gets in first.
		if err := pub("stranger", 0); err != nil {
			t.Fatal(err)
		}
		if err := pub("x", 0); err == nil {
			t.Fatal("x stored")
		}
		if err := pub("y", 1); err != nil {
			t.Fatalf("y refused (%v): the hole this writer closes is gone", err)
		}
	})

	t.Run("writer", func(t *testing.T) {
		cfg := config("INFLIGHT")
		cfg.MaxBatch, cfg.MaxInFlight, cfg.MaxDelay = 1, 16, -1
		w := open(t, nc, cfg)
		appendTexts(w, nil, "mine")
		mustSync(t, w)
		// A stranger's batch lands where the writer's next one would.
		stranger := EncodeBatch(nil, 2, []Record{{Payload: []byte("stranger")}})
		if _, err := js.Publish(ctx, cfg.Subject, stranger, jetstream.WithExpectLastSequence(1)); err != nil {
			t.Fatal(err)
		}
		appendTexts(w, nil, texts("late-", 16)...)
		if err := w.Close(); !errors.Is(err, ErrFenced) {
			t.Fatalf("Close: %v, want ErrFenced", err)
		}
		recs, _ := readAll(t, nc, cfg, 1)
		if got := payloads(recs); strings.Join(got, " ") != "mine stranger" {
			t.Fatalf("journal %q: a batch in flight landed behind the stranger", got)
		}
	})
}

// A batch the server refuses mid-pipeline (here: larger than the stream
// now allows) takes every batch behind it down: each expects the refused
// one's place and gets a wrong-last-sequence answer. The writer reports
// the first cause to all of them, ErrWrite, not a fence.
func TestRefusalMidPipelineIsNotAFence(t *testing.T) {
	nc := fresh(t)
	js := jsOf(t, nc)
	ctx := context.Background()
	cfg := config("REFUSED")
	cfg.MaxBatch, cfg.MaxInFlight, cfg.MaxDelay = 1, 16, -1
	w := open(t, nc, cfg)
	appendTexts(w, nil, "fits")
	mustSync(t, w)
	sc := cfg.streamConfig()
	sc.MaxMsgSize = 400
	if _, err := js.UpdateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}

	t.Run("raw", func(t *testing.T) {
		var futs []jetstream.PubAckFuture
		for i, size := range []int{500, 10, 10} {
			f, err := js.PublishAsync(cfg.Subject, make([]byte, size), jetstream.WithExpectLastSequence(uint64(1+i)))
			if err != nil {
				t.Fatal(err)
			}
			futs = append(futs, f)
		}
		for i, want := range []jetstream.ErrorCode{10054, codeWrongLastSeq, codeWrongLastSeq} {
			var api *jetstream.APIError
			select {
			case pa := <-futs[i].Ok():
				t.Fatalf("publish %d stored at %d", i, pa.Sequence)
			case err := <-futs[i].Err():
				if !errors.As(err, &api) || api.ErrorCode != want {
					t.Fatalf("publish %d: %v, want code %d", i, err, want)
				}
			}
		}
	})

	var errs []error
	cb := func(_ uint64, err error) { errs = append(errs, err) }
	w.Append(0, 0, make([]byte, 500), cb)
	appendTexts(w, cb, texts("small-", 8)...)
	err := w.Close()
	if !errors.Is(err, ErrWrite) || errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "err_code=10054") {
		t.Fatalf("Close: %v, want ErrWrite for the refused batch", err)
	}
	for i, e := range errs {
		if e != err {
			t.Fatalf("callback %d: %v, want the writer's error", i, e)
		}
	}
	if _, err := js.UpdateStream(ctx, cfg.streamConfig()); err != nil {
		t.Fatal(err)
	}
	if recs, _ := readAll(t, nc, cfg, 1); len(errs) != 9 || len(recs) != 1 {
		t.Fatalf("%d callbacks, %d records readable; want 9 and 1", len(errs), len(recs))
	}
}

// Two writers race from the start: whatever lands, the journal is dense
// and holds exactly the records whose callbacks said so.
func TestRacingWritersKeepTheJournalHonest(t *testing.T) {
	nc := fresh(t)
	cfg := config("RACE")
	cfg.MaxBatch = 8
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for wi := range 2 {
		wg.Go(func() {
			w, err := Open(nc, cfg)
			if err != nil {
				errs[wi] = err
				return
			}
			for i := range 400 {
				p := fmt.Sprintf("w%d.%d", wi, i)
				w.Append(0, 0, []byte(p), func(_ uint64, err error) {
					if err == nil {
						mu.Lock()
						acked[p] = true
						mu.Unlock()
					}
				})
			}
			errs[wi] = w.Close()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrFenced) {
			t.Fatal(err)
		}
	}
	recs, _ := readAll(t, nc, cfg, 1)
	for i, r := range recs {
		if !acked[string(r.Payload)] {
			t.Fatalf("record %d %q readable, its callback failed", r.Seq, r.Payload)
		}
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d at %d", r.Seq, i)
		}
	}
	if len(recs) != len(acked) {
		t.Fatalf("%d records readable, %d acknowledged", len(recs), len(acked))
	}
	t.Logf("errors %v; %d records", errs, len(recs))
}

func TestRestartContinuesTheSequence(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	nc := dial(t, s.ClientURL())
	cfg := config("RESTART")
	cfg.MaxBatch = 50
	w := open(t, nc, cfg)
	appendTexts(w, nil, texts("before-", 300)...)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()

	nc = dial(t, startServer(t, dir).ClientURL())
	w = open(t, nc, cfg)
	if w.Durable() != 300 {
		t.Fatalf("reopened at %d, want 300", w.Durable())
	}
	if s := appendTexts(w, nil, "after"); s[0] != 301 {
		t.Fatalf("next record %d, want 301", s[0])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, last := readAll(t, nc, cfg, 1)
	if want := append(texts("before-", 300), "after"); last != 301 || strings.Join(payloads(recs), " ") != strings.Join(want, " ") {
		t.Fatalf("after restart: last %d, %d records", last, len(recs))
	}
	for _, c := range []struct{ from, n, last uint64 }{{301, 1, 301}, {302, 0, 301}, {0, 301, 301}} {
		if recs, last := readAll(t, nc, cfg, c.from); uint64(len(recs)) != c.n || last != c.last {
			t.Errorf("Read from %d: %d records to %d, want %d to %d", c.from, len(recs), last, c.n, c.last)
		}
	}
	if _, err := Read(nc, cfg, 303, ignore); !errors.Is(err, ErrGap) {
		t.Fatalf("Read past the end: %v, want ErrGap", err)
	}
}

func TestReadRefusesCorruptionAndGaps(t *testing.T) {
	nc := fresh(t)
	js := jsOf(t, nc)
	for _, c := range []struct {
		name string
		bad  []byte
		want error
		says string
	}{
		{"GARBAGE", []byte("not a batch at all, just bytes"), ErrCorrupt, "bad magic"},
		{"FLIPPED", func() []byte {
			b := EncodeBatch(nil, 21, []Record{{Payload: []byte("fine")}})
			b[len(b)-6] ^= 0x20
			return b
		}(), ErrCorrupt, "checksum"},
		{"GAP", EncodeBatch(nil, 22, []Record{{Payload: []byte("skips 21")}}), ErrGap, "starts at record 22, want 21"},
		{"OVERLAP", EncodeBatch(nil, 20, []Record{{Payload: []byte("again")}}), ErrGap, "starts at record 20, want 21"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := config(c.name)
			cfg.MaxBatch = 5
			w := open(t, nc, cfg)
			appendTexts(w, nil, texts("r", 20)...)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			pa, err := js.Publish(context.Background(), cfg.Subject, c.bad)
			if err != nil {
				t.Fatal(err)
			}
			// Valid batches after the bad one do not paper over it.
			if _, err := js.Publish(context.Background(), cfg.Subject, EncodeBatch(nil, 22, []Record{{}})); err != nil {
				t.Fatal(err)
			}
			n := 0
			_, err = Read(nc, cfg, 1, func(uint64, uint16, uint32, []byte) error { n++; return nil })
			where := fmt.Sprintf("stream %s seq %d", c.name, pa.Sequence)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), where) {
				t.Fatalf("Read: %v; want %v saying %q at %q", err, c.want, c.says, where)
			}
			if n != 20 {
				t.Fatalf("%d records before the bad batch, want 20", n)
			}
			// From a point past the bad batch, a search must not step over it either.
			if _, err := Read(nc, cfg, 22, ignore); err == nil {
				t.Fatal("Read from 22 succeeded past a bad batch")
			}
		})
	}
}

// A writer does not start on a corrupt tail; once an operator has deleted
// it (`nats stream rmm`), the journal goes on after the last good batch.
func TestCorruptTail(t *testing.T) {
	nc := fresh(t)
	js := jsOf(t, nc)
	ctx := context.Background()
	cfg := config("TAIL")
	w := open(t, nc, cfg)
	appendTexts(w, nil, texts("good-", 5)...)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pa, err := js.Publish(ctx, cfg.Subject, []byte("torn"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(nc, cfg); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("seq %d", pa.Sequence)) {
		t.Fatalf("Open on a corrupt tail: %v", err)
	}
	st, err := js.Stream(ctx, cfg.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, pa.Sequence); err != nil {
		t.Fatal(err)
	}
	if recs, last := readAll(t, nc, cfg, 1); len(recs) != 5 || last != 5 {
		t.Fatalf("after the cut: %d records to %d", len(recs), last)
	}
	w = open(t, nc, cfg)
	appendTexts(w, nil, "next")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, _ := readAll(t, nc, cfg, 1)
	if want := append(texts("good-", 5), "next"); strings.Join(payloads(recs), " ") != strings.Join(want, " ") {
		t.Fatalf("journal %q, want %q", payloads(recs), want)
	}
}

func TestTrim(t *testing.T) {
	nc := fresh(t)
	cfg := config("TRIM")
	w := open(t, nc, cfg) // creates the stream
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The writer's batching depends on timing; these are published as they
	// are: batch i holds records 10i+1 … 10i+10.
	js := jsOf(t, nc)
	for i := range 10 {
		recs := make([]Record, 10)
		for j := range recs {
			recs[j].Payload = fmt.Appendf(nil, "b%d.%d", i, j)
		}
		if _, err := js.Publish(context.Background(), cfg.Subject, EncodeBatch(nil, uint64(10*i+1), recs)); err != nil {
			t.Fatal(err)
		}
	}
	if err := Trim(nc, cfg, 55); err != nil {
		t.Fatal(err)
	}
	if recs, _ := readAll(t, nc, cfg, 55); len(recs) != 46 || recs[0].Seq != 55 {
		t.Fatalf("after Trim(55), Read(55): %d records from %d", len(recs), recs[0].Seq)
	}
	if recs, _ := readAll(t, nc, cfg, 51); len(recs) != 50 {
		t.Fatalf("the batch holding 55 is kept whole: %d records from 51", len(recs))
	}
	if _, err := Read(nc, cfg, 50, ignore); !errors.Is(err, ErrGap) {
		t.Fatalf("Read before the trim point: %v, want ErrGap", err)
	}
	if err := Trim(nc, cfg, 20); err != nil {
		t.Fatalf("trimming less than is there: %v", err)
	}
	// Past the end, the last batch stays so the sequence goes on.
	if err := Trim(nc, cfg, 1000); err != nil {
		t.Fatal(err)
	}
	if recs, last := readAll(t, nc, cfg, 91); len(recs) != 10 || last != 100 {
		t.Fatalf("after Trim(1000): %d records to %d", len(recs), last)
	}
	w = open(t, nc, cfg)
	if s := appendTexts(w, nil, "next"); s[0] != 101 {
		t.Fatalf("after trimming, next record %d", s[0])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Trim(nc, config("NOSUCH"), 5); err != nil {
		t.Fatalf("trimming a missing stream: %v", err)
	}
	if last, err := Read(nc, config("NOSUCH"), 1, nil); err != nil || last != 0 {
		t.Fatalf("reading a missing stream: %d %v", last, err)
	}
}

func TestAppendRefusals(t *testing.T) {
	nc := fresh(t)
	cfg := config("REFUSE")
	cfg.MaxBatchBytes = 1000
	w := open(t, nc, cfg)
	var got []error
	cb := func(seq uint64, err error) {
		if seq != 0 {
			t.Errorf("refused record got sequence %d", seq)
		}
		got = append(got, err)
	}
	if s := w.Append(1, 1, make([]byte, 1000), cb); s != 0 || len(got) != 1 || !errors.Is(got[0], ErrTooLarge) {
		t.Fatalf("a record larger than a batch: seq %d, %v", s, got)
	}
	// The largest record that fits is accepted.
	fits := cfg.MaxBatchBytes - headerSize - trailerSize - recordSize(0) - 1
	if recordSize(fits) != cfg.MaxBatchBytes-headerSize-trailerSize {
		t.Fatalf("test arithmetic: %d", recordSize(fits))
	}
	if s := w.Append(1, 1, make([]byte, fits), nil); s != 1 {
		t.Fatalf("the largest record: seq %d", s)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s := w.Append(1, 1, nil, cb); s != 0 || len(got) != 2 || !errors.Is(got[1], ErrClosed) {
		t.Fatalf("after Close: seq %d, %v", s, got)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	js := jsOf(t, nc)
	mem := config("MEMORY")
	sc := mem.streamConfig()
	sc.Storage = jetstream.MemoryStorage
	if _, err := js.CreateStream(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"no stream name":        {Subject: "x"},
		"batch too large":       {Stream: "X", Subject: "x", MaxBatchBytes: 1 << 30},
		"pending below a batch": {Stream: "X", Subject: "x", MaxBatch: 10, MaxPending: 5},
		"memory stream":         mem,
		"another's subjects":    {Stream: "MEMORY", Subject: "other"},
	} {
		if _, err := Open(nc, c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

// Append blocks while MaxPending records wait; here the first callback
// holds the writer back.
func TestBackpressure(t *testing.T) {
	nc := fresh(t)
	cfg := config("PRESSURE")
	cfg.MaxBatch, cfg.MaxPending = 2, 4
	w := open(t, nc, cfg)
	release := make(chan struct{})
	w.Append(0, 0, nil, func(uint64, error) { <-release })
	appendTexts(w, nil, "2", "3", "4")
	returned := make(chan uint64)
	go func() { returned <- w.Append(0, 0, nil, nil) }()
	select {
	case s := <-returned:
		t.Fatalf("Append returned %d with the queue full", s)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if s := <-returned; s != 5 {
		t.Fatalf("blocked Append returned %d, want 5", s)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// The server process is killed (SIGKILL) while records stream in: every
// record whose callback reported success is there after a restart on the
// same store. (A killed process keeps what the kernel already has; power
// loss is what SyncAlways is for and cannot be staged here.)
func TestKillServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), serverDirEnv+"="+dir)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	url, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("server process: %v", err)
	}
	nc := dial(t, strings.TrimSpace(url))
	cfg := config("KILL")
	cfg.MaxBatch, cfg.Timeout = 32, 2*time.Second
	w := open(t, nc, cfg)

	var (
		mu       sync.Mutex
		acked    = map[uint64]string{}
		failed   int
		stopped  atomic.Bool
		appender sync.WaitGroup
	)
	for g := range 4 {
		appender.Go(func() {
			for i := 0; !stopped.Load(); i++ {
				p := fmt.Sprintf("g%d.%d", g, i)
				w.Append(0, 0, []byte(p), func(seq uint64, err error) {
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						failed++
						stopped.Store(true)
						return
					}
					acked[seq] = p
				})
			}
		})
	}
	for deadline := time.Now().Add(wait); w.Durable() < 3000; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d records durable", w.Durable())
		}
		time.Sleep(time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	appender.Wait()
	if err := w.Close(); !errors.Is(err, ErrWrite) {
		t.Fatalf("writer after the kill: %v, want ErrWrite", err)
	}
	nc.Close()

	nc = dial(t, startServer(t, dir).ClientURL())
	recs, last := readAll(t, nc, cfg, 1)
	for seq, p := range acked {
		if seq > last || string(recs[seq-1].Payload) != p {
			t.Fatalf("acknowledged record %d (%s) lost; journal ends at %d", seq, p, last)
		}
	}
	t.Logf("%d records acknowledged, %d failed, %d readable after the kill", len(acked), failed, len(recs))
	w = open(t, nc, cfg)
	if s := appendTexts(w, nil, "after"); s[0] != last+1 {
		t.Fatalf("after the kill the next record is %d, want %d", s[0], last+1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
