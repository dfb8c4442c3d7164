package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// MMConfig configures a market maker: RunMarketMaker's closed-loop bot and
// the load test's open-loop makers share the quoting fields.
type MMConfig struct {
	// Capital is what the account is topped up to through
	// px.admin.deposit when the bot starts; zero deposits nothing.
	Capital decimal.Decimal
	Asset   string // of the deposit; "" means USDT
	// Leverage is set on every symbol when non-zero.
	Leverage decimal.Decimal

	Levels    int     // quotes per side; default 5
	SpreadBps float64 // first level's distance from the mark; default 5
	StepBps   float64 // distance between levels; default 5
	Notional  float64 // size of one quote in quote currency; default 1000
	// MaxPosition caps the position's notional: beyond it only the side
	// that reduces it is quoted. Default 20 × Levels × Notional.
	MaxPosition float64

	Requote time.Duration // state poll and full requote period; default 1s
	// DeadMan is the dead man's switch countdown (order.cancel_all_after)
	// the bot re-arms at every state poll: should the bot die or lose its
	// connection, the exchange pulls its quotes this long after its last
	// poll. Default 10 × Requote, at least 5s; kept within 2 × Requote
	// (and 1s) and the API's hour; negative: not armed.
	DeadMan time.Duration
	Timeout time.Duration // per request; default 2s
	Log     *slog.Logger  // nil discards
}

func (c MMConfig) withDefaults() MMConfig {
	if c.Asset == "" {
		c.Asset = wire.DefaultAsset
	}
	if c.Levels <= 0 {
		c.Levels = 5
	}
	if c.SpreadBps <= 0 {
		c.SpreadBps = 5
	}
	if c.StepBps <= 0 {
		c.StepBps = 5
	}
	if c.Notional <= 0 {
		c.Notional = 1000
	}
	if c.MaxPosition <= 0 {
		c.MaxPosition = 20 * float64(c.Levels) * c.Notional
	}
	if c.Requote <= 0 {
		c.Requote = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	switch {
	case c.DeadMan == 0:
		c.DeadMan = max(10*c.Requote, 5*time.Second)
	case c.DeadMan > 0: // re-armed every Requote: shorter would fire between polls
		c.DeadMan = max(c.DeadMan, 2*c.Requote, time.Second)
	}
	c.DeadMan = min(c.DeadMan, wire.MaxCancelAfterMs*time.Millisecond)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// quoteTicks prices level (0 = best) of side around markTicks: bids below
// the mark, asks above, SpreadBps away and StepBps apart, and at least one
// tick per level away so coarse ticks still give distinct levels.
func (c MMConfig) quoteTicks(markTicks int64, side wire.Side, level int) int64 {
	off := int64(math.Ceil(float64(markTicks) * (c.SpreadBps + float64(level)*c.StepBps) / 1e4))
	off = max(off, int64(level)+1)
	if side == wire.Buy {
		return max(markTicks-off, 1)
	}
	return markTicks + off
}

// tolerance is how far (ticks) a resting quote may drift from its ideal
// price before the bot replaces it: half a level step, so a mark that
// wiggles by a tick does not cancel and replace the whole ladder.
func (c MMConfig) tolerance(markTicks int64) int64 {
	return max(int64(float64(markTicks)*c.StepBps/2e4), 1)
}

// ErrMarketMaker is wrapped by the errors RunMarketMaker returns.
var ErrMarketMaker = errors.New("loadtest: market maker")

// RunMarketMaker quotes Levels bids and asks around the mark of every symbol
// for account acct until ctx ends, then cancels its quotes and returns nil.
// It is a closed-loop bot (one request at a time) meant as built-in
// liquidity: the exchange binary runs it with --bots. nc must be allowed to
// use px.admin.deposit when cfg.Capital is set.
//
// The mark comes from px.md.<sym>.mark, else the depth's mid, else
// SymbolInfo.Price. Every Requote the bot reads its account state, forgets
// quotes that are no longer open (filled or canceled), and re-places missing
// or drifted ones; a mark update requotes its symbol at once.
func RunMarketMaker(ctx context.Context, nc *nats.Conn, subj wire.Subjects, acct string, symbols []SymbolInfo, cfg MMConfig) error {
	if !wire.ValidToken(acct) {
		return fmt.Errorf("%w: account %q is not a token", ErrMarketMaker, acct)
	}
	syms, err := compileSymbols(symbols)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMarketMaker, err)
	}
	mm := &marketMaker{nc: nc, subj: subj, acct: acct, cfg: cfg.withDefaults(), syms: syms,
		books: make([]mmBook, len(syms))}
	for i := range mm.books {
		mm.books[i].quotes = map[quoteKey]quote{}
	}
	if err := mm.setup(ctx); err != nil {
		return fmt.Errorf("%w %s: %w", ErrMarketMaker, acct, err)
	}
	marks := make(chan *nats.Msg, 256)
	for _, s := range syms {
		sub, err := nc.ChanSubscribe(subj.Mark(s.Name), marks)
		if err != nil {
			return fmt.Errorf("%w %s: %w", ErrMarketMaker, acct, err)
		}
		defer func() { _ = sub.Unsubscribe() }()
	}
	defer mm.cancelAll()

	tick := time.NewTicker(mm.cfg.Requote)
	defer tick.Stop()
	mm.refresh(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-marks:
			mm.onMark(ctx, m.Data)
		case <-tick.C:
			mm.refresh(ctx)
		}
	}
}

type quoteKey struct {
	side  wire.Side
	level int
}

type quote struct {
	coid  string
	ticks int64
}

// mmBook is the bot's view of one symbol.
type mmBook struct {
	markTicks int64 // 0: no mark yet
	position  float64
	quotes    map[quoteKey]quote
}

type marketMaker struct {
	nc    *nats.Conn
	subj  wire.Subjects
	acct  string
	cfg   MMConfig
	syms  []*symbol
	books []mmBook
	coid  uint64
}

func (mm *marketMaker) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, mm.cfg.Timeout)
}

func (mm *marketMaker) setup(ctx context.Context) error {
	c, cancel := mm.callCtx(ctx)
	defer cancel()
	return openAccount(c, mm.nc, mm.subj, mm.acct, mm.cfg.Asset, mm.cfg.Capital, mm.cfg.Leverage, mm.syms)
}

// openAccount deposits capital of asset to acct (none when zero) and sets
// its leverage on every symbol (not when zero): a bot's start.
func openAccount(ctx context.Context, nc *nats.Conn, subj wire.Subjects, acct, asset string, capital, leverage decimal.Decimal, syms []*symbol) error {
	if capital.Sign() > 0 {
		// Topped up to capital, not given it again: a durable exchange
		// keeps the account across the bot's restarts.
		var r wire.AccountReply
		if err := call(ctx, nc, subj.State(acct), wire.State{}, &r); err != nil {
			return err
		}
		if r.Account == nil {
			return fmt.Errorf("loadtest: the state of %s came without the account", acct)
		}
		held := asset
		if held == "" {
			held = "USDT"
		}
		if need := capital.Sub(r.Account.Balances[held]); need.Sign() > 0 {
			if err := deposit(ctx, nc, subj, acct, asset, need); err != nil {
				return err
			}
		}
	}
	if leverage.Sign() > 0 {
		for _, s := range syms {
			if err := setLeverage(ctx, nc, subj, acct, s.Name, leverage); err != nil {
				return err
			}
		}
	}
	return nil
}

func (mm *marketMaker) onMark(ctx context.Context, data []byte) {
	var u wire.MarkUpdate
	if json.Unmarshal(data, &u) != nil || u.Mark.Sign() <= 0 {
		return
	}
	for i, s := range mm.syms {
		if s.Name == u.Symbol {
			mm.books[i].markTicks = s.tick.units(u.Mark)
			mm.requote(ctx, i)
		}
	}
}

// refresh re-arms the dead man's switch, reconciles with the account
// state, fills in missing marks and requotes every symbol.
func (mm *marketMaker) refresh(ctx context.Context) {
	if mm.cfg.DeadMan > 0 {
		mm.armDeadMan(ctx, int(mm.cfg.DeadMan/time.Millisecond))
	}
	mm.sync(ctx)
	for i, s := range mm.syms {
		b := &mm.books[i]
		if b.markTicks == 0 {
			c, cancel := mm.callCtx(ctx)
			if mid, ok := depthMid(c, mm.nc, mm.subj, s.Name); ok {
				b.markTicks = s.tick.units(mid)
			} else if s.Price.Sign() > 0 {
				b.markTicks = s.tick.units(s.Price)
			}
			cancel()
		}
		mm.requote(ctx, i)
	}
}

// sync reads the account: positions, and which quotes are still open.
// The open quotes come from order.open, on the subscription of the
// places: state could be answered before a quote just placed on this
// connection, which the bot would then forget and leave resting.
func (mm *marketMaker) sync(ctx context.Context) {
	c, cancel := mm.callCtx(ctx)
	defer cancel()
	var r wire.AccountReply
	if err := call(c, mm.nc, mm.subj.State(mm.acct), wire.State{}, &r); err != nil || r.Account == nil {
		mm.cfg.Log.Warn("market maker: state", "account", mm.acct, "err", err)
		return
	}
	var oo wire.OrdersReply
	if err := call(c, mm.nc, mm.subj.OrderOpen(mm.acct), wire.State{}, &oo); err != nil {
		mm.cfg.Log.Warn("market maker: open orders", "account", mm.acct, "err", err)
		return
	}
	open := map[string]bool{}
	for _, o := range oo.Orders {
		open[o.ClientOrderID] = true
	}
	for i, s := range mm.syms {
		b := &mm.books[i]
		b.position = 0
		for _, p := range r.Account.Positions {
			if p.Symbol == s.Name {
				q, _ := p.Qty.Float64()
				if p.Side == wire.Short {
					q = -q
				}
				b.position = q
			}
		}
		for k, q := range b.quotes {
			if !open[q.coid] {
				delete(b.quotes, k)
			}
		}
	}
}

// requote keeps quotes close to their ideal price and replaces the rest.
func (mm *marketMaker) requote(ctx context.Context, i int) {
	s, b := mm.syms[i], &mm.books[i]
	if b.markTicks == 0 {
		return
	}
	notional := b.position * float64(b.markTicks) * s.tick.f
	tol := mm.cfg.tolerance(b.markTicks)
	for _, side := range []wire.Side{wire.Buy, wire.Sell} {
		// Over the cap, stop quoting the side that would grow the position.
		allowed := !(side == wire.Buy && notional >= mm.cfg.MaxPosition || side == wire.Sell && -notional >= mm.cfg.MaxPosition)
		for level := range mm.cfg.Levels {
			k := quoteKey{side, level}
			want := mm.cfg.quoteTicks(b.markTicks, side, level)
			cur, resting := b.quotes[k]
			if resting && allowed && abs(cur.ticks-want) <= tol {
				continue
			}
			if resting {
				mm.cancel(ctx, s, cur.coid)
				delete(b.quotes, k)
			}
			if allowed {
				if coid, ok := mm.place(ctx, s, side, want); ok {
					b.quotes[k] = quote{coid: coid, ticks: want}
				}
			}
		}
	}
}

// place sends a post-only GTC quote and reports whether it rests.
func (mm *marketMaker) place(ctx context.Context, s *symbol, side wire.Side, ticks int64) (string, bool) {
	mm.coid++
	o := order{sym: s, side: side, priceTicks: ticks, lots: s.lotsFor(mm.cfg.Notional, ticks),
		tif: wire.GTC, postOnly: true, coid: mm.coid}
	c, cancel := mm.callCtx(ctx)
	defer cancel()
	m, err := mm.nc.RequestWithContext(c, mm.subj.OrderPlace(mm.acct), appendPlace(nil, &o))
	if err != nil {
		mm.cfg.Log.Warn("market maker: place", "account", mm.acct, "symbol", s.Name, "err", err)
		return "", false
	}
	out := classify(m.Data)
	if !out.ok {
		mm.cfg.Log.Debug("market maker: quote rejected", "account", mm.acct, "symbol", s.Name, "code", out.code)
		return "", false
	}
	return string(appendCOID(nil, o.coid)), out.status == wire.StatusNew || out.status == wire.StatusPartiallyFilled
}

func (mm *marketMaker) cancel(ctx context.Context, s *symbol, coid string) {
	c, cancel := mm.callCtx(ctx)
	defer cancel()
	// UNKNOWN_ORDER (filled meanwhile) is fine: the quote is gone either way.
	_ = call(c, mm.nc, mm.subj.OrderCancel(mm.acct), wire.Cancel{Symbol: s.Name, ClientOrderID: coid}, nil)
}

// armDeadMan sets the account's dead man's switch to ms (0: off). A
// refused request only costs the safety net, so it is logged, not fatal.
func (mm *marketMaker) armDeadMan(ctx context.Context, ms int) {
	c, cancel := mm.callCtx(ctx)
	defer cancel()
	if err := call(c, mm.nc, mm.subj.OrderCancelAllAfter(mm.acct), wire.CancelAllAfter{TimeoutMs: ms}, nil); err != nil {
		mm.cfg.Log.Debug("market maker: dead man's switch", "account", mm.acct, "err", err)
	}
}

// cancelAll pulls every quote when the bot stops (ctx is over by then): it
// cancels every open order of its account, then disarms its switch, which
// stays armed to pull the quotes if the cancel failed (rate limit, timeout).
func (mm *marketMaker) cancelAll() {
	ctx, cancel := context.WithTimeout(context.Background(), mm.cfg.Timeout)
	defer cancel()
	if err := call(ctx, mm.nc, mm.subj.OrderCancelAll(mm.acct), wire.CancelAll{}, nil); err != nil {
		mm.cfg.Log.Debug("market maker: cancel all", "account", mm.acct, "err", err)
	} else if mm.cfg.DeadMan > 0 {
		mm.armDeadMan(ctx, 0)
	}
	for i := range mm.books {
		clear(mm.books[i].quotes)
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
