package actors

// The facade the NATS gateway (and in-process tests) drive the exchange
// through. Requests and replies are the wire schemas, so the gateway only
// decodes, calls and encodes. Every request method returns at once and calls
// done exactly once, from an actor goroutine (or, for a request refused
// before it reaches an actor, from the caller's); done must not block
// (publishing a NATS reply is fine).

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/liq"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Sink receives market data and private events as the actors produce them.
// The NATS gateway implements it by publishing; tests record. Calls come from
// actor goroutines concurrently (different symbols/accounts); an implementation
// must be safe for that and must not block.
type Sink interface {
	Trade(symbol string, t *wire.Trade)
	BookUpdate(symbol string, u *wire.BookUpdate)
	Mark(symbol string, m *wire.MarkUpdate)
	FundEvent(e *wire.FundEvent)
	ADLEvent(symbol string, e *wire.ADLEvent)
	AccountEvent(account string, e *wire.AccountEvent)
}

// KlineSink is implemented by a Sink that publishes the candle streams
// (the gateway's Publisher); WantsKline says whether a stream has a
// receiver, so the history actor builds only the candles somebody reads.
type KlineSink interface {
	Kline(symbol, interval string, k *wire.KlineUpdate)
	WantsKline(symbol, interval string) bool
}

// Interest is implemented by a Sink that can tell whether anyone receives
// a stream (the gateway's Publisher, on an embedded NATS server): the
// actors then skip building the trades, book updates and account events
// nobody would receive. Sequence numbers advance all the same. The methods
// are called once per event, so they must be cheap, and safe for
// concurrent use.
type Interest interface {
	WantsTrades(symbol string) bool
	WantsBook(symbol string) bool
	WantsAccountEvents(account string) bool
}

// Options configure Start.
type Options struct {
	Symbols    []*market.Symbol // at least one, all settled in the same asset
	MarginMode risk.MarginMode  // default for new accounts (zero: cross)
	Sink       Sink             // nil discards (and skips building events)
	Logger     *slog.Logger     // nil discards
	// Now returns unix milliseconds; nil uses the wall clock. Tests pass a
	// manual clock to drive funding.
	Now func() int64
	// Retention bounds the history the exchange keeps for its reads.
	Retention Retention
	// ImpactNotional is the notional (in the quote asset) of the impact
	// orders whose average prices feed the premium index; default 200 ×
	// the symbol's max leverage (Binance's impact margin notional).
	ImpactNotional market.Money
	// ADLRetry is the pause before a liquidation asks ADL again after a
	// round that closed nothing (the ranking was momentarily stale);
	// default 1 ms.
	ADLRetry time.Duration
	// Journal makes the exchange durable (durable.go): nil runs in memory.
	// Call Recover before serving.
	Journal Journal
	// Rules fingerprints the configuration the actors decide by (the
	// symbols' rules, the default margin mode, the history kept; the app
	// computes it): every start journals it with its Behaviour, and replay
	// refuses records written under another (ErrRules). 0: unchecked.
	Rules uint64
}

// Retention is how much history the exchange keeps; a zero field takes
// its default.
type Retention struct {
	CandleDays       int // 1-minute candles of the trades and of the mark (30)
	RecentTrades     int // trades per symbol (1000; at most wire.MaxRecentTrades)
	FundingEvents    int // funding events per symbol (3285: three years of 8-hour intervals)
	OpenInterestDays int // 5-minute open-interest samples (30)
	AccountOrders    int // closed orders per account (1000)
	AccountFills     int // fills per account (1000)
	AccountIncome    int // income rows per account (1000)
	FundEvents       int // insurance-fund events for fund.state (fund.DefaultHistoryCap)
	FundDays         int // UTC days of fund.daily totals per asset (400)
}

// DefaultRetention is the retention of a zero Retention.
var DefaultRetention = Retention{CandleDays: 30, RecentTrades: wire.MaxRecentTrades, FundingEvents: 3 * 365 * 3,
	OpenInterestDays: 30, AccountOrders: 1000, AccountFills: 1000, AccountIncome: 1000, FundEvents: fund.DefaultHistoryCap, FundDays: fund.DefaultDailyCap}

func (r Retention) withDefaults() Retention {
	d := DefaultRetention
	for _, f := range []struct{ v, def *int }{{&r.CandleDays, &d.CandleDays}, {&r.RecentTrades, &d.RecentTrades},
		{&r.FundingEvents, &d.FundingEvents}, {&r.OpenInterestDays, &d.OpenInterestDays},
		{&r.AccountOrders, &d.AccountOrders}, {&r.AccountFills, &d.AccountFills}, {&r.AccountIncome, &d.AccountIncome},
		{&r.FundEvents, &d.FundEvents}, {&r.FundDays, &d.FundDays}} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	r.RecentTrades = min(r.RecentTrades, wire.MaxRecentTrades)
	return r
}

// ErrOptions is wrapped by every error Start returns.
var ErrOptions = errors.New("actors: invalid options")

// Exchange is a running actor system: one symbol actor per symbol, one
// account actor per account (spawned on first use), the fund actor and the
// ADL actor. It implements gateway.Exchange.
type Exchange struct {
	sys  *actor.ActorSystem
	root *actor.RootContext
	log  *slog.Logger
	sink Sink
	// events is false when no Sink was given: event payloads are not built.
	events bool
	// interest is the Sink's, when it implements Interest.
	interest Interest
	now      func() int64
	rules    uint64 // Options.Rules
	mode     risk.MarginMode
	settle   string // the primary asset: the first symbol's (market.Symbol.Settle)
	// assets are the symbols' settlement assets, the primary first: an
	// account has one wallet (a risk.Account) per asset.
	assets []string
	retry  time.Duration
	// keep is Options.Retention with its defaults.
	keep Retention
	// liqConfig is every liquidation's liq.Config.
	liqConfig liq.Config

	symbols []*symbolHandle
	bySym   map[string]*symbolHandle
	fund    *actor.PID
	adl     *actor.PID
	history *actor.PID
	adlMB   *mailbox // adl's (deliver)

	accounts registry
	disp     *workerDispatcher
	orderIDs atomic.Uint64
	// timers counts ADL retries waiting on a timer, so quiescence can tell
	// that work is still pending although every mailbox is empty.
	timers atomic.Int64
	// liquidations counts liquidations settled (a metric and the
	// cascade benchmark's finish line).
	liquidations atomic.Int64
	stopped      atomic.Bool

	failed failures // parts out of service (halt.go)
	// rec journals and recovers in durable mode (durable.go); nil in memory.
	rec *durability
	// middleware is testMiddleware as it was at Start (every actor's).
	middleware []actor.ReceiverMiddleware

	// shared are the mailboxes of the symbol, fund and ADL actors, the
	// ones every order or liquidation crosses: their depth is the backlog
	// an operator watches (Mailboxes).
	shared []namedMailbox
}

type namedMailbox struct {
	name string
	mb   *mailbox
}

// Start validates opts and starts the actors.
func Start(opts Options) (*Exchange, error) {
	if len(opts.Symbols) == 0 {
		return nil, fmt.Errorf("%w: no symbols", ErrOptions)
	}
	x := &Exchange{
		log: opts.Logger, sink: opts.Sink, events: opts.Sink != nil, now: opts.Now, rules: opts.Rules,
		mode: opts.MarginMode, retry: opts.ADLRetry, bySym: map[string]*symbolHandle{},
	}
	if x.log == nil {
		x.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if x.sink == nil {
		x.sink = nopSink{}
	}
	if opts.Journal != nil {
		x.rec = newDurability(x, opts.Journal)
		x.sink = durableSink{x.sink, x.rec}
	}
	x.interest, _ = x.sink.(Interest)
	if x.now == nil {
		x.now = newWallClock().now
	}
	if x.mode != risk.Isolated {
		x.mode = risk.Cross
	}
	if x.retry <= 0 {
		x.retry = time.Millisecond
	}
	x.liqConfig = liq.Config{Retry: x.retry, NewID: x.newOrderID}
	x.keep = opts.Retention.withDefaults()
	x.settle = opts.Symbols[0].Settle
	x.middleware = testMiddleware
	// Each settlement asset is a wallet of every account (the first
	// symbol's, the primary, first).
	for _, s := range opts.Symbols {
		if s != nil && !slices.Contains(x.assets, s.Settle) {
			x.assets = append(x.assets, s.Settle)
		}
	}
	for i, s := range opts.Symbols {
		if s == nil {
			return nil, fmt.Errorf("%w: symbol %d is nil", ErrOptions, i)
		}
		if _, dup := x.bySym[s.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate symbol %s", ErrOptions, s.Name)
		}
		h := &symbolHandle{idx: i, sym: s, conv: market.NewConv(s), impact: opts.ImpactNotional, asset: slices.Index(x.assets, s.Settle)}
		if h.impact <= 0 {
			h.impact = market.Money(200*s.MaxLeverage) * market.MoneyScale
		}
		x.symbols = append(x.symbols, h)
		x.bySym[s.Name] = h
	}

	logger := x.log
	x.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }))
	x.root = x.sys.Root
	x.disp = newWorkerDispatcher(300)
	x.sys.EventStream.Subscribe(x.onDeadLetter)

	adlActor, err := newADLActor(x)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	x.adl, x.adlMB, _ = x.spawn(adlActor, "adl", actorADL, &adlActor.j)
	fa := newFundActor(x)
	x.fund, _, _ = x.spawn(fa, "fund", actorFund, &fa.j)
	ha := newHistoryActor(x)
	x.history, ha.mb, _ = x.spawn(ha, "history", actorHistory, &ha.j)
	for _, h := range x.symbols {
		sa := newSymbolActor(x, h)
		h.pid, h.mb, h.guard = x.spawn(sa, "symbol-"+h.sym.Name, actorSymbol+uint32(h.idx), &sa.j)
	}
	return x, nil
}

// testMiddleware wraps every actor's Receive; only this package's tests
// set it (to run a function inside an actor or to hold one), so no test
// hook lives in a production Receive but FailOrderForTest's, which must
// panic after the message is journaled, and in replay too.
var testMiddleware []actor.ReceiverMiddleware

// spawn starts one of the exchange's singleton actors, guarded: a panic
// (a broken invariant) takes it out of service and halts trading (halt.go).
func (x *Exchange) spawn(a actor.Actor, name string, n uint32, j *jstate) (*actor.PID, *mailbox, *guard) {
	mb := newMailbox().(*mailbox)
	x.shared = append(x.shared, namedMailbox{name, mb})
	produce := func() actor.Mailbox { return mb } // spawned once: never restarted with a new mailbox
	g := &guard{Actor: a, x: x, name: name}
	run := x.running(g, mb, j, n)
	pid, err := x.root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return run }, x.props(actor.WithMailbox(produce),
		actor.WithGuardian(&singletonSupervisor{x: x, g: g}))...), name)
	if err != nil {
		panic(fmt.Sprintf("actors: spawn %s: %v", name, err)) // names are unique per system
	}
	if x.rec != nil {
		x.rec.register(n, a, pid, j, mb)
		x.rec.targets[n].guard = g
	}
	return pid, mb, g
}

// running is what runs actor a (number n, on mailbox mb): a itself, or in
// durable mode a with a sendCtx and mb prepared (durability.mailbox).
func (x *Exchange) running(a actor.Actor, mb *mailbox, j *jstate, n uint32) actor.Actor {
	if x.rec == nil {
		return a
	}
	x.rec.mailbox(mb, j)
	return &sending{Actor: a, c: sendCtx{r: x.rec, n: n}}
}

// props are the options every actor of the exchange is spawned with.
func (x *Exchange) props(more ...actor.PropsOption) []actor.PropsOption {
	o := append([]actor.PropsOption{actor.WithDispatcher(x.disp), actor.WithReceiverMiddleware(x.middleware...)}, more...)
	if x.rec != nil {
		o = append(o, actor.WithSenderMiddleware(x.rec.withSender))
	}
	return o
}

// deliver sends m from inside an actor to one of the exchange's actors,
// straight into its mailbox when mb is known: protoactor's Send resolves
// the PID first (three dependent loads, cold when the symbol actor answers
// one of thousands of accounts), and the exchange's actors are never
// replaced (singletons restart on the same mailbox, accounts are never
// restarted), so the mailbox is the PID's for good. A message to an actor
// that has stopped (after Stop) is dropped either way; FIFO order per
// sender holds, since both paths post synchronously. In durable mode the
// post names the sender (sendCtx; recovery's context captures instead).
func (x *Exchange) deliver(ctx actor.Context, mb *mailbox, pid *actor.PID, m any) {
	if mb != nil {
		if x.rec == nil {
			mb.PostUserMessage(m)
			return
		}
		if c, ok := ctx.(*sendCtx); ok {
			c.post(mb, m)
			return
		}
	}
	ctx.Send(pid, m)
}

// Mailboxes returns, per shared actor ("symbol-BTC-PERP", "fund", "adl"),
// a reader of the number of user messages waiting in its mailbox: the
// backlog an operator watches. The readers are safe to call concurrently.
func (x *Exchange) Mailboxes() map[string]func() int {
	m := make(map[string]func() int, len(x.shared))
	for _, s := range x.shared {
		m[s.name] = func() int { return s.mb.UserMessageCount() }
	}
	return m
}

// Trades returns, per symbol, a reader of the number of trades it ever
// printed (its trade seq, which survives restarts), whoever receives
// them: an operator's counter. The readers are safe to call concurrently.
func (x *Exchange) Trades() map[string]func() uint64 {
	m := make(map[string]func() uint64, len(x.symbols))
	for _, h := range x.symbols {
		m[h.sym.Name] = h.trades.Load
	}
	return m
}

// Stop stops every actor. Requests after Stop are answered INTERNAL; a
// request racing Stop may go unanswered, so callers stop taking requests
// first (the gateway drains before the app stops the exchange).
func (x *Exchange) Stop() {
	if x.stopped.Swap(true) {
		return
	}
	x.sys.Shutdown()
	x.disp.close()
}

// nopSink discards everything.
type nopSink struct{}

func (nopSink) Trade(string, *wire.Trade)               {}
func (nopSink) BookUpdate(string, *wire.BookUpdate)     {}
func (nopSink) Mark(string, *wire.MarkUpdate)           {}
func (nopSink) FundEvent(*wire.FundEvent)               {}
func (nopSink) ADLEvent(string, *wire.ADLEvent)         {}
func (nopSink) AccountEvent(string, *wire.AccountEvent) {}

// symbolHandle is what every actor may read about a symbol: its config, its
// actor, and the latest index and mark (atomics written by the symbol
// actor, read by account actors for pre-trade checks before they hold a
// position and so receive marks).
type symbolHandle struct {
	idx    int
	asset  int // index of its settlement asset in Exchange.assets: the wallet it trades from
	sym    *market.Symbol
	conv   market.Conv // the integer fast paths of sym's conversions
	pid    *actor.PID
	mb     *mailbox // pid's (deliver)
	guard  *guard   // takes it out of service when it panics (halt.go)
	impact market.Money
	mark   atomic.Int64
	index  atomic.Int64
	trades atomic.Uint64 // the symbol actor's trade seq: trades ever printed
}

func (h *symbolHandle) lastMark() book.Ticks { return book.Ticks(h.mark.Load()) }

func (x *Exchange) symbol(name string) *symbolHandle { return x.bySym[name] }

// wantsAccountEvents, wantsTrades and wantsBook say whether to build an
// event: there is a Sink and, if it can tell, a receiver.
func (x *Exchange) wantsAccountEvents(name string) bool {
	return x.events && (x.interest == nil || x.interest.WantsAccountEvents(name))
}

func (x *Exchange) wantsTrades(sym string) bool {
	return x.events && (x.interest == nil || x.interest.WantsTrades(sym))
}

func (x *Exchange) wantsBook(sym string) bool {
	return x.events && (x.interest == nil || x.interest.WantsBook(sym))
}

// ---- request methods (gateway.Exchange) ----

// PlaceOrder validates and places an order for acct.
func (x *Exchange) PlaceOrder(acct string, req wire.PlaceOrder, done func(wire.OrderReply)) {
	done = durably(x, done)
	if h := x.orderSymbol(req.Symbol, done); h != nil { // an unknown symbol spawns no account
		x.toAccount(x.Account(acct).e, newPlaceReq(req, h, done))
	}
}

// CancelOrder cancels one of acct's open orders by order id or client id.
func (x *Exchange) CancelOrder(acct string, req wire.Cancel, done func(wire.OrderReply)) {
	done = durably(x, done)
	if x.orderSymbol(req.Symbol, done) != nil {
		x.toAccount(x.Account(acct).e, &cancelReq{req: req, done: done})
	}
}

// AmendOrder changes the price or total quantity of one of acct's open
// orders, by order id or client id.
func (x *Exchange) AmendOrder(acct string, req wire.Amend, done func(wire.OrderReply)) {
	done = durably(x, done)
	if h := x.orderSymbol(req.Symbol, done); h != nil {
		x.toAccount(x.Account(acct).e, &amendReq{req: req, h: h, done: done})
	}
}

// CancelAll cancels every open order of acct, or of acct in req.Symbol.
func (x *Exchange) CancelAll(acct string, req wire.CancelAll, done func(wire.CancelAllReply)) {
	done = durably(x, done)
	m := &cancelAllReq{done: done}
	if h, ok := x.symbolFilter(req.Symbol, m.refuse); ok {
		m.h = h
		x.toAccount(x.Account(acct).e, m)
	}
}

// symbolFilter resolves an optional symbol of a request: nil for "" (every
// symbol); an unknown one is refused UNKNOWN_SYMBOL (no account spawned).
func (x *Exchange) symbolFilter(sym string, refuse func(*wire.Error)) (*symbolHandle, bool) {
	if sym == "" {
		return nil, true
	}
	h := x.symbol(sym)
	if h == nil {
		refuse(wire.Errorf(wire.CodeUnknownSymbol, "unknown symbol %q", sym))
	}
	return h, h != nil
}

// CancelAllAfter arms, re-arms or (TimeoutMs 0) disarms acct's dead man's
// switch: unless the next call comes within TimeoutMs, all of acct's open
// orders are canceled.
func (x *Exchange) CancelAllAfter(acct string, req wire.CancelAllAfter, done func(wire.CancelAllAfterReply)) {
	done = durably(x, done)
	x.toAccount(x.Account(acct).e, &cancelAfterReq{req: req, done: done})
}

// orderSymbol returns sym's handle, or answers done UNKNOWN_SYMBOL.
func (x *Exchange) orderSymbol(sym string, done func(wire.OrderReply)) *symbolHandle {
	h := x.symbol(sym)
	if h == nil {
		done(wire.OrderReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym)})
	}
	return h
}

// AccountRef is an account resolved once (Exchange.Account): a caller that
// keeps it (a gateway session, a load driver) places and cancels orders
// without the lookup by name the name-based methods do on every call. It
// is a small value, safe for concurrent use; refs to one account are
// interchangeable, and a ref of a failed account answers INTERNAL like the
// name-based methods.
type AccountRef struct {
	x *Exchange
	e *accountEntry // nil when resolved on a stopped exchange
}

// Account resolves acct, spawning its actor on first use.
func (x *Exchange) Account(acct string) AccountRef {
	if x.stopped.Load() {
		return AccountRef{x: x} // no actor to spawn: every request is refused
	}
	return AccountRef{x: x, e: x.accounts.get(x, acct)}
}

// Name is the account's name ("" for a ref resolved after Stop).
func (r AccountRef) Name() string {
	if r.e == nil {
		return ""
	}
	return r.e.name
}

// PlaceOrder is Exchange.PlaceOrder for r's account.
func (r AccountRef) PlaceOrder(req wire.PlaceOrder, done func(wire.OrderReply)) {
	done = durably(r.x, done)
	if h := r.x.orderSymbol(req.Symbol, done); h != nil {
		r.x.toAccount(r.e, newPlaceReq(req, h, done))
	}
}

// CancelOrder is Exchange.CancelOrder for r's account.
func (r AccountRef) CancelOrder(req wire.Cancel, done func(wire.OrderReply)) {
	done = durably(r.x, done)
	if r.x.orderSymbol(req.Symbol, done) != nil {
		r.x.toAccount(r.e, &cancelReq{req: req, done: done})
	}
}

// AmendOrder is Exchange.AmendOrder for r's account.
func (r AccountRef) AmendOrder(req wire.Amend, done func(wire.OrderReply)) {
	done = durably(r.x, done)
	if h := r.x.orderSymbol(req.Symbol, done); h != nil {
		r.x.toAccount(r.e, &amendReq{req: req, h: h, done: done})
	}
}

// SetLeverage sets acct's leverage in a symbol.
func (x *Exchange) SetLeverage(acct string, req wire.Leverage, done func(wire.LeverageReply)) {
	done = durably(x, done)
	if x.symbol(req.Symbol) == nil {
		done(wire.LeverageReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", req.Symbol)})
		return
	}
	x.toAccount(x.Account(acct).e, &leverageReq{req: req, done: done})
}

// SetMarginMode sets the margin mode of acct's position in a symbol.
func (x *Exchange) SetMarginMode(acct string, req wire.MarginMode, done func(wire.MarginModeReply)) {
	done = durably(x, done)
	h := x.symbol(req.Symbol)
	if h == nil {
		done(wire.MarginModeReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", req.Symbol)})
		return
	}
	x.toAccount(x.Account(acct).e, &marginModeReq{h: h, isolated: req.Mode == wire.MarginIsolated, done: done})
}

// MovePositionMargin adds margin to acct's isolated position in a symbol
// or takes some back.
func (x *Exchange) MovePositionMargin(acct string, req wire.PositionMargin, done func(wire.PositionMarginReply)) {
	done = durably(x, done)
	h := x.symbol(req.Symbol)
	if h == nil {
		done(wire.PositionMarginReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", req.Symbol)})
		return
	}
	delta, ok := market.MoneyFromDecimal(req.Delta)
	if !ok {
		done(wire.PositionMarginReply{Reply: fail(wire.CodeBadRequest, "delta %s is not a valid %s amount", req.Delta, h.sym.Settle)})
		return
	}
	x.toAccount(x.Account(acct).e, &positionMarginReq{h: h, delta: delta, done: done})
}

// Withdraw takes money out of acct: at most its available balance.
func (x *Exchange) Withdraw(acct string, req wire.Withdraw, done func(wire.BalanceReply)) {
	done = durably(x, done)
	amount, asset, err := x.deposit(req.Asset, req.Amount)
	if err != nil {
		done(wire.BalanceReply{Reply: wire.Fail(err)})
		return
	}
	x.toAccount(x.Account(acct).e, &withdrawReq{amount: amount, asset: asset, done: done})
}

// AccountState reports acct's balances, positions and open orders; with
// req.Symbol only that symbol's position and orders (balances, equity and
// available stay the account's).
//
// In durable mode the reply, like those of the account's other reads
// (AccountOrders, Fills), waits until the journal is durable past what it
// reports: a client that decides whether to resend an order by reading it
// (API.md, the retry rule) must not see one a crash or a failover can
// take back.
func (x *Exchange) AccountState(acct string, req wire.State, done func(wire.AccountReply)) {
	m := &stateReq{done: durably(x, done)}
	if h, ok := x.symbolFilter(req.Symbol, m.refuse); ok {
		m.h = h
		x.read(acct, m)
	}
}

// read hands a read to acct's actor; a name never used is answered as a
// new account would answer (nothing held, nothing kept) by one that is
// neither registered nor journaled. Before, a read made the account for
// good: any name anybody asked for was journaled and had an actor.
func (x *Exchange) read(acct string, m refusable) {
	if e := x.accounts.lookup(acct); e != nil || x.stopped.Load() {
		x.toAccount(e, m)
		return
	}
	a := newAccountActor(x, &accountEntry{name: acct})
	switch m := m.(type) {
	case *stateReq:
		a.state(nil, m) // no position: no ranking to ask
	case *historyReq:
		a.history(m)
	default:
		panic(fmt.Sprintf("actors: %T is not a read", m))
	}
}

// Deposit credits an account (admin); amount 0 just reports the balance.
func (x *Exchange) Deposit(req wire.Deposit, done func(wire.BalanceReply)) {
	done = durably(x, done)
	amount, asset, err := x.deposit(req.Asset, req.Amount)
	if err != nil {
		done(wire.BalanceReply{Reply: wire.Fail(err)})
		return
	}
	x.toAccount(x.Account(req.Account).e, &depositReq{amount: amount, asset: asset, done: done})
}

// deposit checks an amount of one of the settlement assets and returns it
// with the asset's wallet index.
func (x *Exchange) deposit(asset string, d decimal.Decimal) (market.Money, int, *wire.Error) {
	amount, ok := market.MoneyFromDecimal(d)
	i := slices.Index(x.assets, asset)
	switch {
	case i < 0:
		return 0, 0, wire.Errorf(wire.CodeBadRequest, "unknown asset %q (the exchange settles in %s)", asset, strings.Join(x.assets, ", "))
	case !ok || amount < 0:
		return 0, 0, wire.Errorf(wire.CodeBadRequest, "amount %s is not a valid %s amount", d, asset)
	}
	return amount, i, nil
}

// SetIndex feeds an index price to a symbol (admin or the index source).
// The mark is kept in ticks, so an index that is not a whole number of the
// symbol's ticks is refused (INVALID_PRICE, naming the tick) rather than
// silently rounded: the caller rounds, knowing it does (app's index feeds
// round to the tick before they call).
func (x *Exchange) SetIndex(sym string, req wire.IndexSet, done func(wire.IndexReply)) {
	done = durably(x, done)
	h := x.symbol(sym)
	if h == nil {
		done(wire.IndexReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym)})
		return
	}
	idx, err := h.sym.PriceToTicks(req.Price)
	switch {
	case errors.Is(err, market.ErrNotTickMultiple):
		done(wire.IndexReply{Reply: fail(wire.CodeInvalidPrice, "index %s is not a multiple of %s's tick %s", req.Price, sym, h.sym.TickSize)})
		return
	case err != nil:
		done(wire.IndexReply{Reply: fail(wire.CodeInvalidPrice, "index %s is outside %s's price range (0, %s]", req.Price, sym, h.sym.Price(h.sym.MaxPrice))})
		return
	}
	x.send(h.pid, &indexMsg{index: idx, done: done}, func(e *wire.Error) { done(wire.IndexReply{Reply: wire.Fail(e)}) })
}

// FundDeposit tops up the insurance fund (admin); 0 reports the balance.
func (x *Exchange) FundDeposit(req wire.FundDeposit, done func(wire.BalanceReply)) {
	done = durably(x, done)
	amount, asset, err := x.deposit(req.Asset, req.Amount)
	if err != nil {
		done(wire.BalanceReply{Reply: wire.Fail(err)})
		return
	}
	x.send(x.fund, &fundDepositMsg{amount: amount, asset: asset, done: done}, func(e *wire.Error) { done(wire.BalanceReply{Reply: wire.Fail(e)}) })
}

// Depth replies with a depth snapshot and the book-update seq it includes.
func (x *Exchange) Depth(sym string, req wire.Depth, done func(wire.DepthReply)) {
	h := x.symbol(sym)
	if h == nil {
		done(wire.DepthReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym)})
		return
	}
	done = durably(x, done) // what it shows is on disk: a crash takes nothing a client saw back
	x.send(h.pid, &depthMsg{levels: req.Levels, done: done}, func(e *wire.Error) { done(wire.DepthReply{Reply: wire.Fail(e)}) })
}

// FundState replies with the fund's balance and recent history.
func (x *Exchange) FundState(req wire.FundState, done func(wire.FundStateReply)) {
	done = durably(x, done)
	x.send(x.fund, &fundStateMsg{req: req, done: done}, func(e *wire.Error) { done(wire.FundStateReply{Reply: wire.Fail(e)}) })
}

// FundDaily replies with the insurance fund's daily report.
func (x *Exchange) FundDaily(req wire.FundDaily, done func(wire.FundDailyReply)) {
	done = durably(x, done)
	x.send(x.fund, &fundDailyMsg{req: req, done: done}, func(e *wire.Error) { done(wire.FundDailyReply{Reply: wire.Fail(e)}) })
}

// ADLQueue replies with the first positions of a symbol's ADL queue side.
func (x *Exchange) ADLQueue(sym string, req wire.ADLQueue, done func(wire.ADLQueueReply)) {
	h := x.symbol(sym)
	if h == nil {
		done(wire.ADLQueueReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym)})
		return
	}
	done = durably(x, done)
	x.send(x.adl, &queueMsg{sym: h.idx, side: req.Side, done: done}, func(e *wire.Error) { done(wire.ADLQueueReply{Reply: wire.Fail(e)}) })
}

// Audit checks the exchange-wide invariants (meaningful when the exchange
// is quiet: every actor reports its state as of when it handles the probe).
func (x *Exchange) Audit(done func(wire.AuditReply)) {
	x.audit(func(a AuditReport) { done(a.Wire(x.symbols)) })
}

// LiquidationsSettled is how many liquidations have settled since Start (a
// metric, and the finish line of a liquidation-cascade benchmark).
func (x *Exchange) LiquidationsSettled() int64 { return x.liquidations.Load() }

// StateHash hashes every book, account, the fund and the ADL rankings.
func (x *Exchange) StateHash(done func(uint64)) {
	x.stateHash(done)
}

// ---- delivery ----

// toAccount delivers m to account e's actor (nil: resolved on a stopped
// exchange); a failed account (its actor panicked) or a stopped exchange
// answers INTERNAL through m.refuse. It posts straight to the mailbox, as
// deliver does: an account's actor is never replaced.
func (x *Exchange) toAccount(e *accountEntry, m refusable) {
	if e == nil || x.stopped.Load() {
		m.refuse(wire.Errorf(wire.CodeInternal, "the exchange is stopped"))
		return
	}
	if e.failed.Load() {
		m.refuse(wire.Errorf(wire.CodeInternal, "account %s is unavailable after an internal error", e.name))
		return
	}
	x.post(nil, e.mb, m)
}

// send delivers m to one of the singleton actors.
func (x *Exchange) send(pid *actor.PID, m any, refuse func(*wire.Error)) {
	if x.stopped.Load() {
		refuse(wire.Errorf(wire.CodeInternal, "the exchange is stopped"))
		return
	}
	x.post(pid, nil, m)
}

// refusable is a request message that can still be answered when its actor
// is gone (INTERNAL).
type refusable interface{ refuse(*wire.Error) }

// onDeadLetter answers requests that reached a stopped actor, so done is
// still called exactly once.
func (x *Exchange) onDeadLetter(ev any) {
	d, ok := ev.(*actor.DeadLetterEvent)
	if !ok {
		return
	}
	if r, ok := d.Message.(refusable); ok {
		r.refuse(wire.Errorf(wire.CodeInternal, "the actor for this request is gone"))
	}
}

func fail(code wire.Code, format string, args ...any) wire.Reply {
	return wire.Fail(wire.Errorf(code, format, args...))
}
