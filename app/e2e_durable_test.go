package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/natsrv"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// readable is everything clients can read of the exchange, as JSON.
func (e *exchange) readable(accts ...string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	put := func(k string, v any) {
		e.t.Helper()
		out[k] = string(payload(e.t, v))
	}
	for _, a := range accts {
		put("state "+a, e.trader(a).state())
	}
	put("fund", e.fundState())
	put("depth", e.depth())
	put("adl long", e.adlQueue(wire.Long))
	put("adl short", e.adlQueue(wire.Short))
	put("audit", e.settledAudit())
	return out
}

// TestE2ERestart: an exchange with --data is stopped and started again on
// the same directory; everything a client can read, and the state hash,
// are as they were: balances, positions and entry prices, resting orders
// in their priority, order and client order ids, the fund and its history
// after a liquidation with surplus and one with ADL, funding times, the
// book's update sequence. It then trades on: a dead man's switch armed
// before the stop fires after it, order ids keep growing.
func TestE2ERestart(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{}
	clk.ms.Store(time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC).UnixMilli())
	cfg := seedConfig(t, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"})
	e := start(t, cfg, startOpts{data: dir, now: clk.now})
	accts := []string{"A", "B", "C", "D", "L", "M", "N"}

	// A liquidation the fund profits from: L long 1 at 3750 (margin 750)
	// is liquidated below 3093 and fills at 3060 against N's bid.
	e.index("3750")
	e.deposit("L", "750")
	tr := e.funded("1000000", "M", "N")
	e.trader("L").openPosition(tr[0], wire.Buy, "3750", "1", "5")
	tr[1].leverage("5")
	tr[1].limit(wire.Buy, "3060", "1")
	e.index("3080")
	e.waitEvents("L", wire.EventLiquidation, 1)
	e.settledAudit()

	// One the fund cannot cover: A's 200 long is closed against B's 230
	// short by ADL at A's bankruptcy price (the fund holds 60, far too
	// little).
	e.index("3750")
	e.deposit("A", "150000")
	e.deposit("B", "200000")
	e.deposit("D", "1000000")
	a, b, d := e.trader("A"), e.trader("B"), e.trader("D")
	for _, c := range []*trader{a, b, d} {
		c.leverage("5")
	}
	b.limit(wire.Sell, "3750", "230")
	a.limit(wire.Buy, "3750", "200", wire.IOC)
	d.limit(wire.Buy, "3750", "30", wire.IOC)
	e.settledAudit()
	e.index("3100")
	e.waitEvents("A", wire.EventLiquidation, 1)
	e.waitEvents("B", wire.EventADL, 1)
	e.settledAudit()

	// Resting orders at one price, in time order, with client ids; C's
	// dead man's switch armed.
	e.index("3000")
	e.deposit("C", "100000")
	c := e.trader("C")
	for i := range 3 {
		r := c.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("2900"), Qty: dec("1"),
			TIF: wire.GTC, ClientOrderID: fmt.Sprint("c", i)})
		mustOK(t, "C's bid", r.Reply)
	}
	d.limit(wire.Buy, "2900", "2")
	arm := request[wire.CancelAllAfterReply](t, c.nc, e.subj.OrderCancelAllAfter("C"), wire.CancelAllAfter{TimeoutMs: 3000})
	mustOK(t, "dead man's switch", arm.Reply)
	lastID := c.state().OpenOrders[2].OrderID

	clk.advance(2 * time.Second) // the ADL lights' cached cuts are stale: each read below refreshes them
	want, h := e.readable(accts...), e.hash()
	sh := e.stateHash()
	if sh.Seq == 0 {
		t.Fatalf("state hash %+v: a durable exchange's seq is its journal position", sh)
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}

	deps, fundDeps := e.deposits, e.fundDeposits
	e = start(t, cfg, startOpts{data: dir, now: clk.now})
	e.deposits, e.fundDeposits = deps, fundDeps // what the audit checks against
	got := e.readable(accts...)
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("after restart %s:\n got %s\nwant %s", k, got[k], v)
		}
	}
	if h2 := e.hash(); h2 != h {
		t.Fatalf("state hash %x after restart, want %x", h2, h)
	}
	if sh2 := e.stateHash(); sh2.Hash != sh.Hash || sh2.Seq < sh.Seq {
		t.Fatalf("px.admin.state_hash %+v after restart, %+v before", sh2, sh)
	}
	// Trading goes on where it was: M's sell takes C's first bid (time
	// priority survived), the ids go on growing, and C's switch fires.
	m := e.trader("M")
	o := m.limit(wire.Sell, "2900", "1", wire.IOC)
	if o.Status != wire.StatusFilled || o.OrderID <= lastID && len(o.OrderID) <= len(lastID) {
		t.Fatalf("order after restart %+v (last id before %s)", o, lastID)
	}
	eventually(t, "C's first bid filled, the dead man's switch canceled the rest", func() error {
		st := e.trader("C").state()
		if len(st.OpenOrders) != 0 {
			return fmt.Errorf("C's orders %+v", st.OpenOrders)
		}
		if p := st.Positions; len(p) != 1 || !p[0].Qty.Equal(dec("1")) {
			return fmt.Errorf("C's positions %+v", p)
		}
		return nil
	})
	e.settledAudit()
}

// logBuf collects a logger's lines.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// count is the number of lines containing s.
func (l *logBuf) count(s string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// TestE2ESnapshots: snapshots are taken as records accumulate and at a
// clean stop, two are kept and the journal before the older one is
// trimmed; a damaged newest snapshot is passed over for the older one and
// a longer replay, with the same state; with no usable snapshot and the
// journal trimmed, the exchange refuses to start and says why.
func TestE2ESnapshots(t *testing.T) {
	dir := t.TempDir()
	cfg := seedConfig(t, [2]string{"1000000000", "0.01"})
	logs := &logBuf{}
	opts := startOpts{data: dir, snapEvery: 20, log: slog.New(slog.NewTextHandler(logs, nil))}
	e := start(t, cfg, opts)
	e.index("1000")
	traders := e.funded("10000000", "a", "b", "c")
	for _, c := range traders {
		c.leverage("10")
	}
	var open []*openOrder
	rng := rand.New(rand.NewPCG(5, 6))
	for range 3 {
		e.randomFlow(rng, traders, &open, 60)
		time.Sleep(1100 * time.Millisecond) // the snapshotter looks every second
	}
	want, h := e.readable("a", "b", "c"), e.hash()
	deps := e.deposits
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "snapshots", "snap-*.bin"))
	if err != nil || len(files) != 2 {
		t.Fatalf("snapshot files %v (%v), want the newest two", files, err)
	}
	if n := strings.Count(logs.String(), "msg=snapshot "); n < 3 {
		t.Fatalf("%d snapshots taken:\n%s", n, logs.String())
	}

	restart := func(what string) {
		t.Helper()
		e = start(t, cfg, opts)
		e.deposits = deps
		got := e.readable("a", "b", "c")
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s: %s:\n got %s\nwant %s", what, k, got[k], v)
			}
		}
		if h2 := e.hash(); h2 != h {
			t.Fatalf("%s: state hash %x, want %x", what, h2, h)
		}
		if err := e.close(); err != nil {
			t.Fatal(err)
		}
	}
	restart("from the newest snapshot")

	// Damage the newest: the older one and the journal after it give the
	// same state. (The clean stop above wrote no new snapshot: nothing
	// was journaled since.)
	files, _ = filepath.Glob(filepath.Join(dir, "snapshots", "snap-*.bin"))
	slices.Sort(files)
	newest := files[len(files)-1]
	p, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	p[len(p)/2] ^= 0x40
	if err := os.WriteFile(newest, p, 0o640); err != nil {
		t.Fatal(err)
	}
	restart("from the older snapshot")
	if !strings.Contains(logs.String(), "snapshot unusable") || !strings.Contains(logs.String(), filepath.Base(newest)) {
		t.Fatalf("the damaged snapshot was not reported:\n%s", logs.String())
	}

	// That start replayed the records after the older snapshot, so its
	// clean stop wrote a new one: the journal ends at a snapshot again.
	files, _ = filepath.Glob(filepath.Join(dir, "snapshots", "snap-*.bin"))
	slices.Sort(files)
	if files[len(files)-1] <= newest {
		t.Fatalf("the restart that replayed records left no new snapshot: %v", files)
	}

	// No usable snapshot, and the journal no longer starts at 1: refused.
	for _, f := range files {
		if err := os.WriteFile(f, []byte("garbage"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	a, err := app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", Config: cfg, Index: "manual", Data: dir})
	if err == nil {
		a.Close(context.Background())
		t.Fatal("started without a usable snapshot on a trimmed journal")
	}
	t.Logf("refused: %v", err)
	if after, _ := filepath.Glob(filepath.Join(dir, "snapshots", "snap-*.bin")); !slices.Equal(after, files) {
		t.Fatalf("a refused start wrote snapshots: %v, had %v", after, files)
	}
}

// TestE2ERestartKeepsFunding: funding times and the premium gathered over
// an interval survive a restart in the middle of it: the same script run
// without a restart, in memory, pays the same funding to the cent.
func TestE2ERestartKeepsFunding(t *testing.T) {
	const iv = 60 * time.Second
	t0 := (time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC).UnixMilli()/iv.Milliseconds() + 1) * iv.Milliseconds()
	cfg := parseConfig(t, symbolJSON("10", int(iv.Seconds()), [2]string{"1000000000", "0.01"}), "")
	run := func(data string) (pays []*wire.Funding, state map[string]string) {
		clk := &clock{}
		clk.ms.Store(t0)
		opts := startOpts{data: data, now: clk.now}
		e := start(t, cfg, opts)
		e.index("1000")
		tr := e.funded("100000", "alice", "bob", "carol")
		tr[0].openPosition(tr[1], wire.Buy, "1000", "10", "5")
		tr[2].leverage("5")
		bid := tr[2].limit(wire.Buy, "1004", "5") // a premium of 0.4 %, under the cap
		for range 3 {
			clk.advance(iv / 4)
			e.index("1000")
		}
		if data != "" { // restart three quarters into the interval
			deps := e.deposits
			if err := e.close(); err != nil {
				t.Fatal(err)
			}
			e = start(t, cfg, opts)
			e.deposits = deps
		}
		// Then a premium of 0.1 % for the rest of it.
		c := e.trader("carol")
		if r := c.cancel(wire.Cancel{Symbol: tsym, OrderID: bid.OrderID}); !r.OK {
			t.Fatalf("cancel: %+v", r.Error)
		}
		c.limit(wire.Buy, "1001", "5")
		for range 2 {
			clk.advance(iv / 4)
			e.index("1000")
		}
		for _, ev := range e.waitEvents("alice", wire.EventFunding, 1) {
			pays = append(pays, ev.Funding)
		}
		return pays, e.readable("alice", "bob", "carol")
	}
	wantPays, wantState := run("")
	gotPays, gotState := run(t.TempDir())
	if len(gotPays) != 1 || !gotPays[0].Rate.Equal(wantPays[0].Rate) || !gotPays[0].Payment.Equal(wantPays[0].Payment) {
		t.Fatalf("funding with a restart %+v, without %+v", gotPays[0], wantPays[0])
	}
	ids := regexp.MustCompile(`"order_id":"[0-9]+"`) // a counter in memory, journal sequences on disk
	for k, v := range wantState {
		if g := ids.ReplaceAllString(gotState[k], ""); g != ids.ReplaceAllString(v, "") {
			t.Fatalf("%s with a restart:\n got %s\nwant %s", k, gotState[k], v)
		}
	}
	t.Logf("rate %s, payment %s", gotPays[0].Rate, gotPays[0].Payment)
}

// TestE2EJournalOnOutsideServer: with --nats-url the journal lives in that
// server's JetStream (the data directory keeps only snapshots): an
// exchange started on the same server from an empty data directory (as on
// another machine) has everything back from the journal alone.
func TestE2EJournalOnOutsideServer(t *testing.T) {
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", JetStreamDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	cfg := seedConfig(t, longTiers()...)
	opts := app.Options{NATSURL: srv.ClientURL(), Config: cfg, Index: "manual", Data: t.TempDir(), JournalReplicas: 1}
	a, err := app.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &exchange{t: t, app: a, subj: wire.DefaultSubjects(), asset: "USDT", nc: connect(t, srv.ClientURL())}
	e.index("3750")
	tr := e.funded("100000", "alice", "bob")
	tr[0].openPosition(tr[1], wire.Buy, "3750", "2", "5")
	tr[0].limit(wire.Buy, "3000", "1")
	want := e.readable("alice", "bob")
	e.nc.Close()
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Started on another machine: its data directory has no snapshot, so
	// the journal on the server alone must carry the state.
	opts.Data = t.TempDir()
	b, err := app.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	e2 := &exchange{t: t, app: b, subj: wire.DefaultSubjects(), asset: "USDT", nc: connect(t, srv.ClientURL())}
	e2.deposits = e.deposits
	got := e2.readable("alice", "bob")
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s:\n got %s\nwant %s", k, got[k], v)
		}
	}
}

// TestE2EDataDirectoryIsExclusive: a second exchange on a running one's
// data directory is refused (two writers would share one store); once the
// first stops, it starts.
func TestE2EDataDirectoryIsExclusive(t *testing.T) {
	dir := t.TempDir()
	cfg := seedConfig(t, longTiers()...)
	o := app.Options{NATSListen: "127.0.0.1:-1", Config: cfg, Index: "manual", Data: dir}
	a, err := app.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := app.Start(context.Background(), o); err == nil || !strings.Contains(err.Error(), "in use") {
		if b != nil {
			b.Close(context.Background())
		}
		t.Fatalf("a second exchange on the same data directory: %v", err)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := app.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	b.Close(context.Background())
}

// TestE2EDurabilityMetrics: /metrics shows where the journal is and how old
// the latest snapshot is.
func TestE2EDurabilityMetrics(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{data: t.TempDir(), http: "127.0.0.1:0"})
	e.deposit("alice", "100")
	eventually(t, "the journal's position in /metrics", func() error {
		last, durable := metric(t, e, "perpx_journal_last_seq"), metric(t, e, "perpx_journal_durable_seq")
		if last < 2 || durable != last {
			return fmt.Errorf("last %v durable %v", last, durable)
		}
		return nil
	})
	if age := metric(t, e, "perpx_snapshot_age_seconds"); age <= 0 || age > 60 {
		t.Fatalf("snapshot age %v", age)
	}
}

// TestE2ESimIndexResumesAfterRestart: the simulated index starts again
// where the recovered exchange's index was, not at its configured start:
// a restart (or a takeover) of the durable demo must not jump the index,
// liquidating whoever traded away from the start.
func TestE2ESimIndexResumesAfterRestart(t *testing.T) {
	sym := strings.Replace(symbolJSON("10", 0, [2]string{"1000000000", "0.01"}), `"tick":"1"`, `"tick":"0.01"`, 1)
	cfg := parseConfig(t, sym, "")
	data := t.TempDir()
	e := start(t, cfg, startOpts{data: data})
	e.index("250") // far from the sim's start for this symbol (100)
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	e = start(t, cfg, startOpts{data: data, index: "sim"})
	first := ""
	eventually(t, "a simulated tick", func() error {
		r := request[wire.TickerReply](t, e.nc, e.subj.Ticker(tsym), "{}")
		if !r.OK || r.Ticker == nil {
			return fmt.Errorf("ticker %+v", r.Reply)
		}
		if first == "" {
			first = r.Ticker.Index.String()
		}
		if r.Ticker.Index.Equal(dec("250")) { // the recovered one, not a tick yet
			return fmt.Errorf("index still %s", r.Ticker.Index)
		}
		if r.Ticker.Index.LessThan(dec("200")) || r.Ticker.Index.GreaterThan(dec("300")) {
			t.Fatalf("the simulated index went from %s to %s after the restart: it started again at its configured start", first, r.Ticker.Index)
		}
		return nil
	})
}

// TestE2EBotsTopUpAcrossRestarts: the demo bots top their accounts up to
// their capital when they start, so restarting a durable exchange does not
// deposit their capital again and again.
func TestE2EBotsTopUpAcrossRestarts(t *testing.T) {
	cfg := parseConfig(t, symbolJSON("10", 0, [2]string{"1000000000", "0.01"}), "")
	data := t.TempDir()
	var deposits []decimal.Decimal
	for range 2 {
		e := start(t, cfg, startOpts{data: data, bots: 1})
		eventually(t, "the bots' accounts", func() error {
			for _, acct := range []string{"bot-1", "taker-1"} {
				if b := e.trader(acct).state().Balances["USDT"]; !b.IsPositive() {
					return fmt.Errorf("%s has %s", acct, b)
				}
			}
			return nil
		})
		deposits = append(deposits, e.audit().Deposits)
		if err := e.close(); err != nil {
			t.Fatal(err)
		}
	}
	// The taker may have traded its balance below its capital: topping it
	// up is a deposit too, but a small one.
	if grew := deposits[1].Sub(deposits[0]); grew.GreaterThan(deposits[0].Div(decimal.NewFromInt(10))) {
		t.Fatalf("deposits %s after the first start, %s after a restart: the bots were given their capital again", deposits[0], deposits[1])
	}
}

// TestE2EOrderQueryFollowsPlace: the retry rule's lookup (API.md,
// "Failover") sent right behind its place, as when both wait in a
// reconnecting client's buffer or in a stalled exchange's socket, sees the
// place: order.query shares the order requests' subscription. The orders
// subject, on a subscription of its own, answered UNKNOWN_ORDER to 295 of
// these 300 lookups (of two subscriptions' goroutines woken together the
// second typically runs first), after which the client sends the order
// again: a resting one is refused as a duplicate, but this IOC order,
// closed at once, would be placed a second time (client_order_id dedupes
// open orders only).
func TestE2EOrderQueryFollowsPlace(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{data: t.TempDir()})
	ask := func(cid string) any { return wire.Orders{ClientOrderID: cid} }
	found := func(_ string, data []byte) bool {
		var q wire.OrdersReply
		return json.Unmarshal(data, &q) == nil && q.OK
	}
	if missed := followPlace(t, e, 300, wire.IOC, e.subj.OrderQuery("u"), ask, found); missed > 0 {
		t.Fatalf("%d of 300 lookups sent right behind their place did not find it", missed)
	}
}

// TestE2EOpenOrdersFollowPlace: a list of the open orders read right
// behind a place (a bot's cancel-all after a place, the Binance face's
// openOrders and allOpenOrders) lists it: order.open shares the order
// requests' subscription. Of 300 such pairs the lists on subscriptions of
// their own missed nearly every place: state 294 to 299, orders (without
// an id) 299 to 300, in three runs. 150 pairs here: the lists (up to 150
// orders each, ≈ 4 MB in all) stay within the account's read budget
// (8 MiB at once), which charges order.open as it charges state.
func TestE2EOpenOrdersFollowPlace(t *testing.T) {
	// One tier: 300 resting bids stay within the default leverage.
	e := start(t, seedConfig(t, [2]string{"1000000000", "0.005"}), startOpts{data: t.TempDir()})
	listed := func(cid string, data []byte) bool {
		var q wire.OrdersReply
		return json.Unmarshal(data, &q) == nil && q.OK &&
			slices.ContainsFunc(q.Orders, func(o wire.Order) bool { return o.ClientOrderID == cid })
	}
	ask := func(string) any { return wire.State{} }
	if missed := followPlace(t, e, 150, wire.GTC, e.subj.OrderOpen("u"), ask, listed); missed > 0 {
		t.Fatalf("%d of 150 open-order lists sent right behind their place did not list it", missed)
	}
}

// followPlace has u place n bids at 2990 with time in force tif, each
// with a read on subject (ask its body) sent right behind it, before
// either is answered, and returns how many reads did not see their place
// (seen judges the read's reply).
func followPlace(t *testing.T, e *exchange, n int, tif wire.TIF, subject string, ask func(cid string) any, seen func(cid string, data []byte) bool) int {
	t.Helper()
	e.index("3000")
	e.deposit("u", "100000000")
	placed, read := e.nc.NewRespInbox(), e.nc.NewRespInbox()
	ps, err := e.nc.SubscribeSync(placed)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := e.nc.SubscribeSync(read)
	if err != nil {
		t.Fatal(err)
	}
	next := func(s *nats.Subscription) []byte {
		t.Helper()
		m, err := s.NextMsg(wait)
		if err != nil {
			t.Fatal(err)
		}
		return m.Data
	}
	missed := 0
	for k := range n {
		cid := fmt.Sprintf("c%d", k)
		// With nothing to take: an IOC expires at once, a GTC rests.
		place := payload(t, wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("2990"), Qty: dec("1"), TIF: tif, ClientOrderID: cid})
		if err := e.nc.PublishRequest(e.subj.OrderPlace("u"), placed, place); err != nil {
			t.Fatal(err)
		}
		if err := e.nc.PublishRequest(subject, read, payload(t, ask(cid))); err != nil {
			t.Fatal(err)
		}
		var p wire.OrderReply
		if err := json.Unmarshal(next(ps), &p); err != nil {
			t.Fatal(err)
		}
		mustOK(t, "place "+cid, p.Reply)
		if !seen(cid, next(rs)) {
			missed++
		}
	}
	return missed
}
