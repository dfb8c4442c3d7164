package actors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// memJournal is a Journal in memory: every record is durable at once.
type memJournal struct {
	mu   sync.Mutex
	recs []memRecord
	// hold: records are stored but not durable until release (their
	// callbacks wait in held).
	hold    bool
	held    []func()
	durable uint64
}

type memRecord struct {
	kind    uint16
	actor   uint32
	payload []byte
}

func (j *memJournal) Append(kind uint16, actor uint32, payload []byte, onDurable func(uint64, error)) uint64 {
	j.mu.Lock()
	j.recs = append(j.recs, memRecord{kind, actor, slices.Clone(payload)})
	seq := uint64(len(j.recs))
	if j.hold {
		if onDurable != nil {
			j.held = append(j.held, func() { onDurable(seq, nil) })
		}
		j.mu.Unlock()
		return seq
	}
	j.durable = seq
	j.mu.Unlock()
	if onDurable != nil {
		onDurable(seq, nil)
	}
	return seq
}

func (j *memJournal) Durable() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.durable
}

// holdDurability stores the records appended from now on without making
// them durable until release.
func (j *memJournal) holdDurability() {
	j.mu.Lock()
	j.hold = true
	j.mu.Unlock()
}

// release makes every record durable, in order, and stops holding.
func (j *memJournal) release() {
	j.mu.Lock()
	held := j.held
	j.hold, j.held, j.durable = false, nil, uint64(len(j.recs))
	j.mu.Unlock()
	for _, f := range held {
		f()
	}
}

func (j *memJournal) Last() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return uint64(len(j.recs))
}

// read is Recover's reader over every record.
func (j *memJournal) read(fn func(uint64, uint16, uint32, []byte) error) error {
	return j.readFrom(1)(fn)
}

// readFrom is Recover's reader over the records from seq on.
func (j *memJournal) readFrom(seq uint64) func(func(uint64, uint16, uint32, []byte) error) error {
	return func(fn func(uint64, uint16, uint32, []byte) error) error {
		j.mu.Lock()
		recs := j.recs[:len(j.recs):len(j.recs)] // appends never touch these
		j.mu.Unlock()
		for i := int(seq) - 1; i < len(recs); i++ {
			r := recs[i]
			if err := fn(uint64(i+1), r.kind, r.actor, r.payload); err != nil {
				return err
			}
		}
		return nil
	}
}

// clone is a journal holding the same records, for a second exchange.
func (j *memJournal) clone() *memJournal {
	j.mu.Lock()
	defer j.mu.Unlock()
	return &memJournal{recs: slices.Clone(j.recs), durable: uint64(len(j.recs))}
}

// snapshotOf is everything a client can read of the exchange, as JSON:
// each account's state, the fund, every book's depth. The ADL lights in
// the states come from cuts cached for a second and refreshed by reads,
// which the journal does not keep: the reads happen at clock (two seconds
// after the soak's end), so every exchange compared refreshes them.
func snapshotOf(t *testing.T, e *env, accts []string, clock int64) map[string]string {
	t.Helper()
	e.clk.ms.Store(clock)
	e.x.quiesce()
	out := map[string]string{}
	put := func(k string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	for _, a := range accts {
		put("state "+a, e.state(a))
	}
	put("fund", call(t, func(d func(wire.FundStateReply)) { e.x.FundState(wire.FundState{Limit: wire.MaxFundHistoryPage}, d) }))
	for _, h := range e.x.symbols {
		put("depth "+h.sym.Name, call(t, func(d func(wire.DepthReply)) { e.x.Depth(h.sym.Name, wire.Depth{Levels: 1000}, d) }))
	}
	return out
}

// TestReplaySoak runs the soak (random orders, cancels, index moves that
// liquidate, ADL) on a durable exchange, then recovers a second exchange
// from its journal: the state hash and everything a client can read are
// the same, and the recovered exchange trades on; with recovery in
// journal order on one goroutine and on two workers alike.
func TestReplaySoak(t *testing.T) {
	replaySoak(t, partialDemo(), "1000000", 7)
	// The socialized run's charges (winners' accounts on the other worker
	// than the symbols and the ADL actor) replayed on one and two workers;
	// whether a run charges anyone depends on timing: up to three seeds.
	t.Run("socialized", func(t *testing.T) {
		for base := uint64(3); base < 6; base++ {
			s := replaySoak(t, socializedDemo(t), "0", base)
			for _, a := range s.accts {
				for _, ev := range s.e.rec.events(a, wire.EventADL) {
					if ev.ADL.Qty.IsZero() {
						return // a socialized charge was replayed
					}
				}
			}
		}
		t.Fatal("no socialized charge in three runs")
	})
}

// replaySoak soaks syms durably, then replays the journal on one worker
// and twice on two: the same state each time.
func replaySoak(t *testing.T, syms []*market.Symbol, fund string, base uint64) *soak {
	j := &memJournal{}
	s := soakRun(t, j, syms, 4, fund, base)
	want := s.e.hash()
	readAt := s.e.clk.now() + 2000
	wantSnap := snapshotOf(t, s.e, s.accts, readAt)
	t.Logf("%d records", j.Last())

	defer func(f func() int) { replayWorkers = f }(replayWorkers)
	for try, workers := range []int{1, 2, 2} { // replaying the same journal again gives the same state
		replayWorkers = func() int { return workers }
		e := newEnvWith(t, j.clone(), syms...)
		if got := e.hash(); got != want {
			t.Fatalf("replay %d: state hash %x, want %x", try, got, want)
		}
		got := snapshotOf(t, e, s.accts, readAt)
		for k, v := range wantSnap {
			if got[k] != v {
				t.Fatalf("replay %d: %s differs:\n got %s\nwant %s", try, k, got[k], v)
			}
		}
		if a := e.audit(); a.Liquidating != 0 {
			t.Fatalf("replay %d: %v", try, a)
		}
	}
	return s
}

// TestSnapshotReplay takes snapshots while a soak trades (each waits for
// a quiescent point, holding requests from outside), then recovers from
// one taken midway plus the records after it, and from the last one:
// the same state as the live exchange and as a full replay.
func TestSnapshotReplay(t *testing.T) {
	j := &memJournal{}
	type snap struct {
		p   []byte
		seq uint64
	}
	var snaps []snap
	var busy int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var s *soak
	ready := make(chan *Exchange, 1)
	wg.Go(func() {
		x := <-ready
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			p, seq, err := x.Snapshot(20 * time.Millisecond)
			switch {
			case errors.Is(err, ErrBusy):
				busy++
			case err != nil:
				t.Error(err)
				return
			default:
				snaps = append(snaps, snap{p, seq})
			}
		}
	})
	syms := append(partialDemo(), xbtusd(t)) // and a BTC wallet per account
	s = soakRunHook(t, j, syms, 4, "1000000", 11, func(x *Exchange) { ready <- x })
	close(stop)
	wg.Wait()
	want, wantParts := s.e.hash(), s.e.hashParts()
	readAt := s.e.clk.now() + 2000
	wantSnap := snapshotOf(t, s.e, s.accts, readAt)
	t.Logf("%d records, %d snapshots, %d busy", j.Last(), len(snaps), busy)
	if len(snaps) < 2 {
		t.Fatalf("%d snapshots taken", len(snaps))
	}
	for _, sn := range []snap{snaps[len(snaps)/2], snaps[len(snaps)-1]} {
		if seq, err := SnapshotSeq(sn.p); err != nil || seq != sn.seq {
			t.Fatalf("SnapshotSeq %d, %v; want %d", seq, err, sn.seq)
		}
		e := newEnvFrom(t, j.clone(), sn.p, syms...)
		if got := e.hash(); got != want {
			diff := diffHashes(e.hashParts(), wantParts)
			for _, acct := range s.accts {
				if d := firstDiff(e.historyLines(acct), s.e.historyLines(acct)); d != "" {
					t.Errorf("%s's history: %s", acct, d)
				}
			}
			t.Fatalf("from the snapshot at %d: state hash %x, want %x; differing: %v", sn.seq, got, want, diff)
		}
		got := snapshotOf(t, e, s.accts, readAt)
		for k, v := range wantSnap {
			if got[k] != v {
				t.Fatalf("from the snapshot at %d: %s differs:\n got %s\nwant %s", sn.seq, k, got[k], v)
			}
		}
	}
	// A damaged snapshot is refused, never loaded.
	bad := slices.Clone(snaps[0].p)
	bad[len(bad)/2] ^= 1
	x, err := Start(Options{Symbols: syms, Journal: j.clone()})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Stop()
	if _, err := x.LoadSnapshot(bad); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("a damaged snapshot: %v", err)
	}
}

// TestGenesisClock: on a fresh journal the marks start at the genesis
// record's time, as replay starts them, even when the clock moves between
// Start and Recover (it used to start them at Start's reading).
func TestGenesisClock(t *testing.T) {
	var ms atomic.Int64
	ms.Store(1_700_000_000_000)
	tick := func() int64 { return ms.Add(7) } // every reading is later
	j := &memJournal{}
	run := func(j *memJournal) uint64 {
		x, err := Start(Options{Symbols: market.DemoSymbols(), Journal: j, Now: tick})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Stop()
		if _, err := x.Recover(j.read); err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, x: x}
		if j.Last() == 1 { // fresh: move the index once
			e.index("BTC-PERP", "30000")
		}
		return e.hash()
	}
	if live, replayed := run(j), run(j.clone()); live != replayed {
		t.Fatalf("state hash %x live, %x replayed", live, replayed)
	}
}

// partialDemo is the demo symbols with ETH-PERP liquidating partially, so
// the replay soaks replay partial liquidations too.
func partialDemo() []*market.Symbol {
	syms := market.DemoSymbols()
	syms[1].PartialLiquidation = true
	return syms
}

// TestReadsLeaveNothingInFlight: every read is counted in flight when
// posted and uncounted when handled, so afterwards a snapshot finds the
// exchange quiescent. (The history reads once skipped the count, the
// counter went below zero and no snapshot was ever taken again.)
func TestReadsLeaveNothingInFlight(t *testing.T) {
	j := &memJournal{}
	x, err := Start(Options{Symbols: market.DemoSymbols(), Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Stop()
	if _, err := x.Recover(j.read); err != nil {
		t.Fatal(err)
	}
	const sym = "BTC-PERP"
	call(t, func(d func(wire.AccountReply)) { x.AccountState("alice", wire.State{}, d) })
	call(t, func(d func(wire.OrdersReply)) { x.AccountOrders("alice", wire.Orders{Limit: 5}, d) })
	call(t, func(d func(wire.OrdersReply)) { x.OpenOrders("alice", wire.State{}, d) })
	call(t, func(d func(wire.FillsReply)) { x.Fills("alice", wire.Fills{Limit: 5}, d) })
	call(t, func(d func(wire.DepthReply)) { x.Depth(sym, wire.Depth{Levels: 5}, d) })
	call(t, func(d func(wire.FundStateReply)) { x.FundState(wire.FundState{Limit: 5}, d) })
	call(t, func(d func(wire.FundDailyReply)) { x.FundDaily(wire.FundDaily{}, d) })
	call(t, func(d func(wire.ADLQueueReply)) { x.ADLQueue(sym, wire.ADLQueue{Side: wire.Long}, d) })
	call(t, func(d func(wire.KlinesReply)) { x.Klines(sym, wire.Klines{Interval: "1m", Limit: 5}, d) })
	call(t, func(d func(wire.RecentTradesReply)) { x.RecentTrades(sym, wire.RecentTrades{Limit: 5}, d) })
	call(t, func(d func(wire.FundingHistoryReply)) { x.FundingHistory(sym, wire.FundingHistory{Limit: 5}, d) })
	call(t, func(d func(wire.TickerReply)) { x.Ticker(sym, d) })
	call(t, func(d func(wire.OpenInterestReply)) { x.OpenInterest(sym, wire.OpenInterestReq{Limit: 5}, d) })
	x.quiesce()
	// A read's reply comes from its handler, and its mailbox counts it out
	// of flight just after: wait for that, not for ever (a leak stays).
	for deadline := time.Now().Add(time.Second); x.rec.inflight.Load() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages in flight after the reads", x.rec.inflight.Load())
		}
	}
	if _, _, err := x.Snapshot(time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestReplayCaughtUpRunsTheBatch: a follower's Recover learns of a damaged
// record (a message its sender never sent) in the records it has read so
// far when it says it has caught up (ReplayCaughtUp), not only when more
// records fill the second worker's batch or it takes over.
func TestReplayCaughtUpRunsTheBatch(t *testing.T) {
	defer func(f func() int) { replayWorkers = f }(replayWorkers)
	replayWorkers = func() int { return 2 }
	j := &memJournal{}
	e := newEnvWith(t, j, market.DemoSymbols()...)
	for _, a := range []string{"a", "b", "c"} {
		e.deposit(a, "100000")
	}
	e.index("BTC-PERP", "30000")
	e.place("a", "BTC-PERP", wire.Sell, "30000", "0.01")
	e.place("b", "BTC-PERP", wire.Buy, "30000", "0.01")
	e.x.Stop()

	// An account the second worker runs handles a message from the
	// symbol that the symbol never sent.
	bad := j.clone()
	var acct uint32
	for _, r := range bad.recs {
		if r.kind == recAccount && (r.actor-actorAccount)%replaySplit != 0 {
			acct = r.actor
		}
	}
	if acct == 0 {
		t.Fatal("no account on the second worker")
	}
	p := binary.AppendUvarint(nil, 1_700_000_000_000)
	bad.Append(recMsg, acct, binary.AppendUvarint(p, uint64(actorSymbol)), nil)

	for _, caughtUp := range []bool{false, true} {
		x, err := Start(Options{Symbols: market.DemoSymbols(), Journal: bad.clone()})
		if err != nil {
			t.Fatal(err)
		}
		var early error
		_, err = x.Recover(func(fn func(uint64, uint16, uint32, []byte) error) error {
			if err := bad.read(fn); err != nil {
				return err
			}
			if caughtUp {
				early = x.ReplayCaughtUp()
			}
			return nil
		})
		x.Stop()
		if err == nil || !strings.Contains(err.Error(), "never sent") {
			t.Fatalf("caught up %v: Recover returned %v, want the message never sent", caughtUp, err)
		}
		if caughtUp != (early != nil) || early != nil && !errors.Is(err, early) && err.Error() != early.Error() {
			t.Fatalf("caught up %v: ReplayCaughtUp returned %v (Recover %v)", caughtUp, early, err)
		}
	}
}

// TestReadsWaitForDurability: a market-data read shows only what is on
// disk: while the journal holds a resting order's record, neither the
// order's reply nor a depth, recent-trades or fund read that would show it
// is answered (a crash then would take back what a client saw, and a book
// rebuilt from that depth's seq would miss the gap after the restart), nor
// an open-orders read (order.open) that would not show it.
func TestReadsWaitForDurability(t *testing.T) {
	j := &memJournal{}
	e := newEnvWith(t, j, market.DemoSymbols()...)
	e.index("BTC-PERP", "30000")
	e.deposit("alice", "100000")
	e.deposit("bob", "100000")
	e.mustPlace("bob", "BTC-PERP", wire.Sell, "30010", "0.5")
	j.holdDurability()
	placed := make(chan wire.OrderReply, 1)
	e.x.PlaceOrder("alice", wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, Price: dec("30010"), Qty: dec("0.1"), TIF: wire.GTC},
		func(r wire.OrderReply) { placed <- r })
	e.x.quiesce() // the trade is made and journaled, not durable
	depth := make(chan wire.DepthReply, 1)
	trades := make(chan wire.RecentTradesReply, 1)
	ticker := make(chan wire.TickerReply, 1)
	open := make(chan wire.OrdersReply, 1)
	e.x.Depth("BTC-PERP", wire.Depth{Levels: 5}, func(r wire.DepthReply) { depth <- r })
	e.x.RecentTrades("BTC-PERP", wire.RecentTrades{Limit: 10}, func(r wire.RecentTradesReply) { trades <- r })
	e.x.Ticker("BTC-PERP", func(r wire.TickerReply) { ticker <- r })
	e.x.OpenOrders("alice", wire.State{}, func(r wire.OrdersReply) { open <- r })
	select {
	case <-placed:
		t.Fatal("the order was answered before its records were durable")
	case r := <-depth:
		t.Fatalf("depth answered before the trade it shows was durable: seq %d", r.Seq)
	case r := <-trades:
		t.Fatalf("recent trades answered before durable: %+v", r.Trades)
	case r := <-ticker:
		t.Fatalf("ticker answered before durable: %+v", r.Ticker)
	case r := <-open:
		t.Fatalf("open orders answered before durable: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
	j.release()
	if r := <-placed; !r.OK || r.Order.Status != wire.StatusFilled {
		t.Fatalf("the order: %+v", r)
	}
	if d := <-depth; len(d.Asks) != 1 || !d.Asks[0].Qty().Equal(dec("0.4")) {
		t.Errorf("depth after the release: %+v", d)
	}
	if r := <-trades; len(r.Trades) != 1 {
		t.Errorf("recent trades after the release: %+v", r.Trades)
	}
	if r := <-ticker; r.Ticker == nil || !r.Ticker.Last.Equal(dec("30010")) {
		t.Errorf("ticker after the release: %+v", r.Ticker)
	}
	if r := <-open; !r.OK || len(r.Orders) != 0 {
		t.Errorf("open orders after the release: %+v", r)
	}
}

// TestReportSlotsReuseTheOldestOnceHandled: a durable position report is
// reused once the ADL actor handled it, oldest first; one still queued is
// never overwritten.
func TestReportSlotsReuseTheOldestOnceHandled(t *testing.T) {
	var r reportSlots
	a, b := r.next(), r.next()
	if a == b {
		t.Fatal("a queued report was reused")
	}
	b.free() // handled out of order: a still queued
	if c := r.next(); c == a || c == b {
		t.Fatal("reused while the oldest is queued")
	}
	a.free()
	if r.next() != a {
		t.Fatal("the oldest, handled, was not reused")
	}
	if r.next() != b {
		t.Fatal("the next oldest, handled, was not reused")
	}
	if len(r.q) != 3 {
		t.Fatalf("%d slots, want 3", len(r.q))
	}
}
