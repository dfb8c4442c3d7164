package actors

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// recorder is a Sink that keeps everything.
type recorder struct {
	mu       sync.Mutex
	trades   map[string][]wire.Trade
	books    map[string][]wire.BookUpdate
	marks    map[string][]wire.MarkUpdate
	fund     []wire.FundEvent
	adl      map[string][]wire.ADLEvent
	accounts map[string][]wire.AccountEvent
}

func newRecorder() *recorder {
	return &recorder{trades: map[string][]wire.Trade{}, books: map[string][]wire.BookUpdate{},
		marks: map[string][]wire.MarkUpdate{}, adl: map[string][]wire.ADLEvent{}, accounts: map[string][]wire.AccountEvent{}}
}

func (r *recorder) Trade(s string, t *wire.Trade) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trades[s] = append(r.trades[s], *t)
}

func (r *recorder) BookUpdate(s string, u *wire.BookUpdate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.books[s] = append(r.books[s], *u)
}

func (r *recorder) Mark(s string, m *wire.MarkUpdate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marks[s] = append(r.marks[s], *m)
}

func (r *recorder) FundEvent(e *wire.FundEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fund = append(r.fund, *e)
}

func (r *recorder) ADLEvent(s string, e *wire.ADLEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.adl[s] = append(r.adl[s], *e)
}

func (r *recorder) AccountEvent(a string, e *wire.AccountEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accounts[a] = append(r.accounts[a], *e)
}

// events returns a copy of an account's events of one type.
func (r *recorder) events(acct string, typ wire.EventType) []wire.AccountEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []wire.AccountEvent
	for _, e := range r.accounts[acct] {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// clock is a manual unix-ms clock.
// clock is the tests' time; with tick set every reading moves it 1 ms on.
type clock struct {
	ms   atomic.Int64
	tick atomic.Bool
}

func (c *clock) now() int64 {
	if c.tick.Load() {
		return c.ms.Add(1)
	}
	return c.ms.Load()
}

func (c *clock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// env is an exchange under test with its sink and clock.
type env struct {
	t   testing.TB
	x   *Exchange
	rec *recorder
	clk *clock
}

func newEnv(t testing.TB, syms ...*market.Symbol) *env {
	t.Helper()
	return newEnvWith(t, nil, syms...)
}

// newEnvWith is newEnv with the exchange durable on j (nil: in memory),
// recovered from what j already holds.
func newEnvWith(t testing.TB, j *memJournal, syms ...*market.Symbol) *env {
	t.Helper()
	return newEnvFrom(t, j, nil, syms...)
}

// newEnvFrom is newEnvWith recovering from snapshot snap (nil: none) and
// the records after it.
func newEnvFrom(t testing.TB, j *memJournal, snap []byte, syms ...*market.Symbol) *env {
	t.Helper()
	return newEnvOpts(t, j, snap, nil, syms...)
}

// newEnvOpts is newEnvFrom with the exchange's options changed by opts
// (when not nil) before it starts.
func newEnvOpts(t testing.TB, j *memJournal, snap []byte, opts func(*Options), syms ...*market.Symbol) *env {
	t.Helper()
	e := &env{t: t, rec: newRecorder(), clk: &clock{}}
	e.clk.ms.Store(1_700_000_000_000)
	o := Options{Symbols: syms, Sink: e.rec, Now: e.clk.now, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	if opts != nil {
		opts(&o)
	}
	if j != nil {
		o.Journal = j
	}
	x, err := Start(o)
	var from uint64
	if err == nil && snap != nil {
		from, err = x.LoadSnapshot(snap)
	}
	if err == nil && j != nil {
		_, err = x.Recover(j.readFrom(from + 1))
	}
	if err != nil {
		t.Fatal(err)
	}
	e.x = x
	t.Cleanup(x.Stop)
	return e
}

// call runs an asynchronous request and waits for its reply, failing the
// test if done is not called within 10 s or is called twice.
func call[T any](t testing.TB, f func(done func(T))) T {
	t.Helper()
	ch := make(chan T, 2)
	f(func(v T) { ch <- v })
	select {
	case v := <-ch:
		select {
		case <-ch:
			t.Fatal("done called twice")
		case <-time.After(time.Millisecond):
		}
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no reply within 10 s")
	}
	var zero T
	return zero
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func (e *env) deposit(acct, amount string) { e.t.Helper(); e.depositIn(acct, "USDT", amount) }

// depositIn deposits amount into acct's wallet of asset.
func (e *env) depositIn(acct, asset, amount string) {
	e.t.Helper()
	r := call(e.t, func(d func(wire.BalanceReply)) {
		e.x.Deposit(wire.Deposit{Account: acct, Asset: asset, Amount: dec(amount)}, d)
	})
	if !r.OK {
		e.t.Fatalf("deposit %s %s: %v", acct, amount, r.Error)
	}
}

func (e *env) fundDeposit(amount string) { e.t.Helper(); e.fundDepositIn("USDT", amount) }

func (e *env) fundDepositIn(asset, amount string) {
	e.t.Helper()
	r := call(e.t, func(d func(wire.BalanceReply)) {
		e.x.FundDeposit(wire.FundDeposit{Asset: asset, Amount: dec(amount)}, d)
	})
	if !r.OK {
		e.t.Fatalf("fund deposit: %v", r.Error)
	}
}

func (e *env) index(sym, price string) wire.IndexReply {
	e.t.Helper()
	r := call(e.t, func(d func(wire.IndexReply)) { e.x.SetIndex(sym, wire.IndexSet{Price: dec(price)}, d) })
	if !r.OK {
		e.t.Fatalf("index %s %s: %v", sym, price, r.Error)
	}
	return r
}

func (e *env) leverage(acct, sym string, lev int64) {
	e.t.Helper()
	r := call(e.t, func(d func(wire.LeverageReply)) {
		e.x.SetLeverage(acct, wire.Leverage{Symbol: sym, Leverage: decimal.NewFromInt(lev)}, d)
	})
	if !r.OK {
		e.t.Fatalf("leverage %s %s %d: %v", acct, sym, lev, r.Error)
	}
}

// place sends a limit order ("buy"/"sell", GTC unless tif given).
func (e *env) place(acct, sym string, side wire.Side, price, qty string, tif ...wire.TIF) wire.OrderReply {
	e.t.Helper()
	req := wire.PlaceOrder{Symbol: sym, Side: side, Type: wire.Limit, Price: dec(price), Qty: dec(qty), TIF: wire.GTC}
	if len(tif) > 0 {
		req.TIF = tif[0]
	}
	return e.send(acct, req)
}

func (e *env) send(acct string, req wire.PlaceOrder) wire.OrderReply {
	e.t.Helper()
	return call(e.t, func(d func(wire.OrderReply)) { e.x.PlaceOrder(acct, req, d) })
}

// mustPlace places and fails on a reject, returning the order.
func (e *env) mustPlace(acct, sym string, side wire.Side, price, qty string, tif ...wire.TIF) *wire.Order {
	e.t.Helper()
	r := e.place(acct, sym, side, price, qty, tif...)
	if !r.OK {
		e.t.Fatalf("%s %s %s %s@%s: %v", acct, sym, side, qty, price, r.Error)
	}
	return r.Order
}

func (e *env) state(acct string) *wire.Account {
	e.t.Helper()
	r := call(e.t, func(d func(wire.AccountReply)) { e.x.AccountState(acct, wire.State{}, d) })
	if !r.OK {
		e.t.Fatalf("state %s: %v", acct, r.Error)
	}
	return r.Account
}

func (e *env) fundBalance() decimal.Decimal { e.t.Helper(); return e.fundState().Balances["USDT"] }

// fundHistory is the fund's newest history page.
func (e *env) fundHistory() []wire.FundEvent { e.t.Helper(); return e.fundState().History }

func (e *env) fundState() wire.FundStateReply {
	e.t.Helper()
	return call(e.t, func(d func(wire.FundStateReply)) { e.x.FundState(wire.FundState{Limit: wire.MaxFundHistoryPage}, d) })
}

func (e *env) hash() uint64 {
	e.t.Helper()
	e.x.quiesce()
	return call(e.t, func(d func(uint64)) { e.x.StateHash(d) })
}

// audit waits for quiescence and checks every invariant: conservation, open
// interest symmetry, no negative balance, fund ≥ 0, every order resting or
// terminal, no liquidation left in flight.
func (e *env) audit() AuditReport {
	e.t.Helper()
	e.x.quiesce()
	r := call(e.t, func(d func(AuditReport)) { e.x.audit(d) })
	if !r.OK || r.OpenOrders != r.Resting || r.Liquidating != 0 || len(r.Failed) != 0 {
		e.t.Fatalf("audit failed: %s", r.String())
	}
	e.checkIncome()
	return r
}

// checkIncome holds every account's income rows to its balances: per
// asset, Σ amount = the balance (every account starts at zero), while the
// account has kept all its rows.
func (e *env) checkIncome() {
	e.t.Helper()
	for _, ent := range e.x.accounts.all() {
		bad := call(e.t, func(d func(string)) {
			e.x.root.Send(ent.pid, &testHook{fn: func(a *accountActor) {
				if a.incomeID != uint64(a.income.Len()) {
					d("") // the oldest rows are gone
					return
				}
				sums := make([]market.Money, len(a.wallets))
				for i := range a.income.Len() {
					r := a.income.At(i)
					sums[r.asset] += r.amount
				}
				for i := range a.wallets {
					if b := a.wallets[i].acct.Balance(); b != sums[i] {
						d(fmt.Sprintf("%s: income rows add up to %s, the balance is %s", a.x.assets[i], sums[i], b))
						return
					}
				}
				d("")
			}})
		})
		if bad != "" {
			e.t.Fatalf("account %s's %s", ent.name, bad)
		}
	}
}

func (r AuditReport) String() string {
	return fmt.Sprintf("ok=%v conserved=%v (balances %s + unrealized %s + in-flight %s + fund %s + fees %s vs deposits %s + fund %s; diff %s) long=%v short=%v negative=%v open=%d resting=%d liquidating=%d failed=%v held=%s uncovered=%d reserved=%d earmarked=%d err=%v",
		r.OK, r.Conserved(), r.Balances, r.Unrealized, r.InFlight, r.Fund, r.Fees, r.Deposits, r.FundDeposits,
		r.Balances+r.Unrealized+r.InFlight+r.Fund+r.Fees-r.Deposits-r.FundDeposits,
		r.Long, r.Short, r.Negative, r.OpenOrders, r.Resting, r.Liquidating, r.Failed, r.Held, r.Uncovered, r.FundReserved, r.Earmarked, r.Err)
}

// position returns acct's position in sym (nil when flat).
func (e *env) position(acct, sym string) *wire.Position {
	e.t.Helper()
	for _, p := range e.state(acct).Positions {
		if p.Symbol == sym {
			return &p
		}
	}
	return nil
}

// testSymbol compiles a tick-1 lot-1 symbol without fees or funding, with
// the maintenance tiers of risk's worked examples.
func testSymbol(t testing.TB, name string, tiers ...[2]string) *market.Symbol {
	t.Helper()
	return compileSymbol(t, testConfig(name, tiers...))
}

// testConfig is testSymbol's config, for a test to change before
// compileSymbol.
func testConfig(name string, tiers ...[2]string) market.SymbolConfig {
	off := false
	cfg := market.SymbolConfig{Symbol: name, Tick: dec("1"), Lot: dec("1"), MaxLeverage: dec("100"),
		PriceBand: dec("0.5"), Funding: &off}
	for _, tr := range tiers {
		cfg.MMTiers = append(cfg.MMTiers, market.TierConfig{MaxNotional: dec(tr[0]), MMR: dec(tr[1])})
	}
	return cfg
}

func compileSymbol(t testing.TB, cfg market.SymbolConfig) *market.Symbol {
	t.Helper()
	s, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// longTiers make a 1-lot long at 3750 with margin 750 liquidate at 3100
// with bankruptcy price 3000 (risk's worked example).
func longTiers() [][2]string { return [][2]string{{"3000", "0.03"}, {"1000000000", "0.10"}} }

// shortTiers make a 1-lot short at 2500 with margin 500 liquidate at 2900
// with bankruptcy price 3000.
func shortTiers() [][2]string { return [][2]string{{"1500", "0.02"}, {"1000000000", "0.05"}} }

// Test hooks, run by testMiddleware inside the actor they are sent to.
type (
	// testHook runs fn inside an account actor (to inspect state, or to
	// inject a panic for the supervision tests).
	testHook struct{ fn func(a *accountActor) }
	// symbolHook runs fn inside a symbol actor.
	symbolHook struct{ fn func(s *symbolActor) }
	// pauseMsg holds any actor (the fund's, the ADL's) until the channel
	// closes: to freeze a liquidation at a chosen step.
	pauseMsg struct{ until <-chan struct{} }
	// syncMsg closes done once any actor reached it: what it was sent
	// before has been handled (synced).
	syncMsg struct{ done chan struct{} }
)

// withoutHooks runs start without the test hooks' middleware, which wraps
// every message in an envelope: benchmarks and allocation counts measure
// the exchange as production runs it.
// The hooks are posted uncounted (e.x.root.Send) and handled by the
// middleware below.
func (*testHook) uncounted()   {}
func (*symbolHook) uncounted() {}
func (*pauseMsg) uncounted()   {}
func (*syncMsg) uncounted()    {}

func withoutHooks(start func()) {
	hooks := testMiddleware
	testMiddleware = nil
	defer func() { testMiddleware = hooks }()
	start()
}

// inner is the exchange's actor that a spawned actor runs (durable mode's
// sending and a singleton's guard unwrapped).
func inner(a actor.Actor) actor.Actor {
	if s, ok := a.(*sending); ok {
		a = s.Actor
	}
	if g, ok := a.(*guard); ok {
		a = g.Actor
	}
	return a
}

func init() {
	testMiddleware = append(testMiddleware, func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			a := inner(c.Actor())
			switch m := env.Message.(type) {
			case *testHook:
				m.fn(a.(*accountActor))
			case *symbolHook:
				m.fn(a.(*symbolActor))
			case *pauseMsg:
				<-m.until
			case *syncMsg:
				close(m.done)
			default:
				next(c, env)
			}
		}
	})
}

// hashParts is each actor's state hash by process id, and for each account
// its history's apart from the rest: what a failed state-hash comparison
// reports, so the part that diverged is named.
func (e *env) hashParts() map[string]uint64 {
	e.t.Helper()
	e.x.quiesce()
	out := map[string]uint64{}
	parts := call(e.t, func(d func([]keyed)) {
		gather(e.x, e.x.actorPIDs(), func(p *actor.PID, r func(keyed)) any {
			return &hashMsg{reply: func(h uint64) { r(keyed{p.Id, h}) }}
		}, d)
	})
	for _, k := range parts {
		out[k.id] = k.v
	}
	for _, ent := range e.x.accounts.all() {
		h := call(e.t, func(d func(uint64)) {
			e.x.root.Send(ent.pid, &testHook{fn: func(a *accountActor) { d(a.historyHash()) }})
		})
		out[ent.pid.Id+" history"] = h
	}
	return out
}

// diffHashes names the parts whose hashes differ between got and want.
func diffHashes(got, want map[string]uint64) []string {
	var out []string
	for k, v := range want {
		if got[k] != v {
			out = append(out, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, k+" (extra)")
		}
	}
	slices.Sort(out)
	return out
}

// historyLines is an account's kept history as text, one line per open
// order's update time, closed order and fill: what a diverged history is
// compared by.
func (e *env) historyLines(name string) []string {
	e.t.Helper()
	ent := e.x.accounts.get(e.x, name)
	return call(e.t, func(d func([]string)) {
		e.x.root.Send(ent.pid, &testHook{fn: func(a *accountActor) {
			var out []string
			for _, o := range a.orders.sorted() {
				out = append(out, fmt.Sprintf("open %d %s updated %d", o.id, o.status, o.updatedMs))
			}
			for i := range a.closed.Len() {
				o := a.closed.At(i)
				out = append(out, fmt.Sprintf("closed %d %s filled %d updated %d", o.id, statuses[o.status], o.filled, o.updatedMs))
			}
			for i := range a.fills.Len() {
				f := a.fills.At(i)
				out = append(out, fmt.Sprintf("fill %d trade %d qty %d fee %d at %d", f.id, f.tradeSeq, f.qty, f.fee, f.ms))
			}
			d(out)
		}})
	})
}

// firstDiff is the first line where got and want differ ("" when equal).
func firstDiff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("line %d: got %q, want %q (%d lines, want %d)", i, g, w, len(got), len(want))
		}
	}
	return ""
}
