package loadtest

import (
	"context"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// TestRunBatchedAgainstFakeExchange runs the generator with Batch 8 against
// the fake: every item is answered exactly once (no timeouts, strays or
// missing replies), rejects and statuses are counted per item, a batch
// refused as a whole (RATE_LIMITED) counts once per item, batches really
// hold several items and never more than 8, and the audit passes.
func TestRunBatchedAgainstFakeExchange(t *testing.T) {
	url := startNATS(t)
	fake := newFakeExchange(t, url)
	cfg := Config{
		URL: url, SetIndex: true, Orders: 8000, Rate: 20000, Conns: 2, Batch: 8, Drain: 10 * time.Second,
		Makers: 2, Takers: 2, Levered: 3, Cancelers: 2, Seed: 7, RunID: "b8",
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()

	if rep.Sent != 8000 || rep.Sent != int64(fake.requests) || rep.Replies != rep.Sent || rep.Places+rep.Cancels != rep.Sent {
		t.Errorf("sent %d (%d places, %d cancels), replies %d; the fake got %d items", rep.Sent, rep.Places, rep.Cancels, rep.Replies, fake.requests)
	}
	if rep.Timeouts != 0 || rep.Strays != 0 || rep.PubErrs != 0 || rep.Unsent != 0 {
		t.Errorf("lost items: %d timeouts, %d strays, %d publish errors, %d unsent", rep.Timeouts, rep.Strays, rep.PubErrs, rep.Unsent)
	}
	if !maps.Equal(rep.Rejects, fake.rejects) || !maps.Equal(rep.Statuses, fake.statuses) {
		t.Errorf("rejects %v, statuses %v; the fake replied %v, %v", rep.Rejects, rep.Statuses, fake.rejects, fake.statuses)
	}
	for _, c := range []wire.Code{wire.CodeInsufficientMargin, wire.CodeUnknownOrder, wire.CodeRateLimited} {
		if rep.Rejects[string(c)] == 0 {
			t.Errorf("no %s among %v", c, rep.Rejects)
		}
	}
	items, multi := 0, 0
	for size, n := range fake.batches {
		if size < 1 || size > 8 {
			t.Errorf("%d batches of %d items", n, size)
		}
		items += size * n
		if size > 1 {
			multi += n
		}
	}
	if items != fake.requests || multi == 0 {
		t.Errorf("batch sizes %v: %d items, want %d, some batches of several", fake.batches, items, fake.requests)
	}
	if !rep.InvariantsOK || rep.Latency.P50 <= 0 || rep.SendLag.P99 > rep.Latency.P99 {
		t.Errorf("invariants %v, latency %+v, send lag %+v", rep.InvariantsOK, rep.Latency, rep.SendLag)
	}
	checkJSONShape(t, rep)
}

// TestBatchReplyMatchesItems: item j of a batch sent as requests n..n+k-1
// gets result j, measured from its own due time; a batch failure counts
// for every item; a missing result is a bad reply and an extra a stray.
func TestBatchReplyMatchesItems(t *testing.T) {
	const ms = int64(time.Millisecond)
	var now int64
	p := newPending(func() int64 { return now }, 64)
	reply := func(n uint64, body string) {
		var r replyOutcomes
		r.read([]byte(body))
		p.completeReply(n, now, &r)
	}
	items := []batchItem{{kindPlace, 0, roleMaker}, {kindCancel, 1 * ms, roleMaker}, {kindPlace, 2 * ms, roleTaker}}
	n := p.registerBatch(items)
	now = 10 * ms
	reply(n, `{"ok":true,"results":[{"ok":true,"order":{"client_order_id":"a\"}","status":"new"}},`+
		`{"ok":false,"error":{"code":"UNKNOWN_ORDER","message":"no {such} order"}},{"ok":true,"order":{"status":"filled"}}]}`)
	if p.t.replies[kindPlace] != 2 || p.t.replies[kindCancel] != 1 || p.t.statuses[wire.StatusNew] != 1 ||
		p.t.statuses[wire.StatusFilled] != 1 || p.t.rejects["UNKNOWN_ORDER"] != 1 || p.outstanding != 0 {
		t.Fatalf("tally %+v", p.t)
	}
	if p.t.rejectsBy[roleMaker]["UNKNOWN_ORDER"] != 1 || len(p.t.rejectsBy[roleTaker]) != 0 {
		t.Errorf("rejects by trader %v: the maker's cancel was refused", p.t.rejectsBy)
	}
	if got := summarize(p.t.hist); got.Max < 9_990 || got.Max > 10_010 || got.P50 < 8_990 || got.P50 > 9_010 {
		t.Errorf("latencies %+v: want 10, 9 and 8 ms from each item's due time", got)
	}

	n = p.registerBatch(items)
	reply(n, `{"ok":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}`)
	if p.t.rejects["RATE_LIMITED"] != 3 {
		t.Errorf("batch failure counted %d times, want once per item", p.t.rejects["RATE_LIMITED"])
	}

	n = p.registerBatch(items)
	reply(n, `{ "ok": true, "results": [ {"ok": true, "order": {"status": "new"}} ] }`) // spaced: encoding/json
	n2 := p.registerBatch(items[:1])
	reply(n2, `{"ok":true,"results":[{"ok":true,"order":{"status":"new"}},{"ok":true,"order":{"status":"new"}}]}`)
	if p.t.statuses[wire.StatusNew] != 3 || p.t.rejects[CodeBadReply] != 2 || p.t.strays != 1 || p.outstanding != 0 {
		t.Errorf("short and long results: tally %+v, outstanding %d", p.t, p.outstanding)
	}
}

// TestBatcherBody: the batcher's bodies are batches the exchange decodes,
// one per account, items in order.
func TestBatcherBody(t *testing.T) {
	syms, err := compileSymbols(DemoSymbols())
	if err != nil {
		t.Fatal(err)
	}
	m := newMarks(syms)
	m.ticks[0].Store(syms[0].tick.units(syms[0].Price))
	a := acct{name: "a", batch: "px.acct.a.order.batch", sym: syms[0], mark: &m.ticks[0], rng: rand.New(rand.NewPCG(1, 2))}
	c := &canceler{acct: a, notional: 500}
	table := []trader{c, c} // one account, weight 2
	b := newBatcher(table, 8)
	g := &b.groups[0]
	for i := range 3 {
		b.add(nil, table, i%2, int64(i)) // not full: nothing sent
		if len(b.groups) != 1 || len(g.items) != i+1 || g.items[i].due != int64(i) {
			t.Fatalf("after %d adds: %d groups, items %+v", i+1, len(b.groups), g.items)
		}
	}
	body := append(g.body, "]}"...)
	items, werr := wire.DecodeBatch(body)
	if werr != nil || len(items) != 3 || items[0].Endpoint != wire.EpOrderPlace || items[1].Endpoint != wire.EpOrderCancel ||
		items[1].Cancel.ClientOrderID != items[0].Place.ClientOrderID || items[2].Endpoint != wire.EpOrderPlace {
		t.Fatalf("%s: %+v, %v", body, items, werr)
	}
}
