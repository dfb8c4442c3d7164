package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// TakerConfig configures RunNoiseTaker.
type TakerConfig struct {
	// Capital is what the account is topped up to through px.admin.deposit
	// when the bot starts, and again (a testnet faucet, counted
	// as a deposit like any) whenever it is flat with less than half of it
	// left, as after a liquidation. Must be positive.
	Capital decimal.Decimal
	Asset   string // of the deposits; "" means USDT
	// Leverage is set on every symbol when non-zero.
	Leverage decimal.Decimal
	// MinNotional and MaxNotional bound one market order's size in quote
	// currency (uniform between them); defaults 200 and 2000.
	MinNotional, MaxNotional float64
	// MaxPosition is the position notional beyond which the bot only
	// reduces; the nearer it gets, the likelier it reduces. Default
	// 10 × MaxNotional.
	MaxPosition float64
	// Interval is the mean time between orders (exponentially
	// distributed); default 2s.
	Interval time.Duration
	// HoldLeverage, when positive, makes the bot a holder instead of a
	// noise trader: when flat it builds a position of HoldLeverage × its
	// equity in a random direction and symbol (MaxNotional at a time),
	// then holds it until it is liquidated or, with probability ExitProb
	// at each step, closes it.
	HoldLeverage float64
	ExitProb     float64
	Seed         uint64        // of its choices
	Timeout      time.Duration // per request; default 2s
	Log          *slog.Logger  // nil discards
}

func (c TakerConfig) withDefaults() TakerConfig {
	if c.Asset == "" {
		c.Asset = wire.DefaultAsset
	}
	if c.MinNotional <= 0 {
		c.MinNotional = 200
	}
	if c.MaxNotional < c.MinNotional {
		c.MaxNotional = max(2000, c.MinNotional)
	}
	if c.MaxPosition <= 0 {
		c.MaxPosition = 10 * c.MaxNotional
	}
	if c.Interval <= 0 {
		c.Interval = 2 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// ErrTaker is wrapped by the errors RunNoiseTaker returns.
var ErrTaker = errors.New("loadtest: noise taker")

// RunNoiseTaker sends small market orders of random side and size for
// account acct at random times until ctx ends: the demo's flow, so trades,
// candles and now and then a liquidation happen with nobody at the
// keyboard. It leans towards reducing as its position grows and never
// opens beyond MaxPosition; with HoldLeverage it holds one large position
// at a time instead. nc must be allowed px.admin.deposit.
func RunNoiseTaker(ctx context.Context, nc *nats.Conn, subj wire.Subjects, acct string, symbols []SymbolInfo, cfg TakerConfig) error {
	cfg = cfg.withDefaults()
	if !wire.ValidToken(acct) || cfg.Capital.Sign() <= 0 {
		return fmt.Errorf("%w: account %q, capital %s", ErrTaker, acct, cfg.Capital)
	}
	syms, err := compileSymbols(symbols)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTaker, err)
	}
	t := &noiseTaker{nc: nc, subj: subj, acct: acct, cfg: cfg, syms: syms, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7a6b))}
	if err := t.setup(ctx); err != nil {
		return fmt.Errorf("%w %s: %w", ErrTaker, acct, err)
	}
	timer := time.NewTimer(t.pause())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			t.step(ctx)
			timer.Reset(t.pause())
		}
	}
}

type noiseTaker struct {
	nc   *nats.Conn
	subj wire.Subjects
	acct string
	cfg  TakerConfig
	syms []*symbol
	rng  *rand.Rand
	// A holder's position being built: its symbol, side and notional goal
	// (nil when holding or flat).
	build *holdGoal
}

type holdGoal struct {
	sym      *symbol
	side     wire.Side
	notional float64
}

func (t *noiseTaker) pause() time.Duration {
	return time.Duration(t.rng.ExpFloat64() * float64(t.cfg.Interval))
}

func (t *noiseTaker) setup(ctx context.Context) error {
	c, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	return openAccount(c, t.nc, t.subj, t.acct, t.cfg.Asset, t.cfg.Capital, t.cfg.Leverage, t.syms)
}

// step reads the account, tops it up when it is short of money (a holder
// only when flat), and sends at most one market order.
func (t *noiseTaker) step(ctx context.Context) {
	c, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	var r wire.AccountReply
	if err := call(c, t.nc, t.subj.State(t.acct), wire.State{}, &r); err != nil || r.Account == nil {
		t.cfg.Log.Warn("noise taker: state", "account", t.acct, "err", err)
		return
	}
	a := r.Account
	holder := t.cfg.HoldLeverage > 0
	if bal := a.Balances[t.cfg.Asset]; (len(a.Positions) == 0 || !holder) && bal.LessThan(t.cfg.Capital.Div(decimal.NewFromInt(2))) {
		t.build = nil
		if err := deposit(c, t.nc, t.subj, t.acct, t.cfg.Asset, t.cfg.Capital.Sub(bal)); err != nil {
			t.cfg.Log.Warn("noise taker: top-up", "account", t.acct, "err", err)
		}
		return
	}
	if holder {
		t.hold(c, a)
		return
	}
	s := t.syms[t.rng.IntN(len(t.syms))]
	pf, position := t.mark(c, a, s)
	if pf <= 0 {
		return
	}
	// P(buy) falls from 1/2 as a long grows, to 0 at MaxPosition.
	lean := math.Max(-1, math.Min(1, position/t.cfg.MaxPosition))
	side := wire.Sell
	if t.rng.Float64() < 0.5*(1-lean) {
		side = wire.Buy
	}
	_ = t.market(c, s, side, t.cfg.MinNotional+t.rng.Float64()*(t.cfg.MaxNotional-t.cfg.MinNotional), pf)
}

// hold is a holder's step: start or go on building its position, or hold
// it (closing it now and then).
func (t *noiseTaker) hold(ctx context.Context, a *wire.Account) {
	if len(a.Positions) == 0 && t.build == nil {
		eq, _ := a.Equity.Float64()
		side := wire.Buy
		if t.rng.IntN(2) == 0 {
			side = wire.Sell
		}
		t.build = &holdGoal{sym: t.syms[t.rng.IntN(len(t.syms))], side: side, notional: eq * t.cfg.HoldLeverage}
	}
	if g := t.build; g != nil {
		pf, position := t.mark(ctx, a, g.sym)
		// Built, or the margin ran out first (a market buy reserves at
		// the band's top): hold what there is.
		if left := g.notional - math.Abs(position); pf > 0 && left > t.cfg.MinNotional &&
			t.market(ctx, g.sym, g.side, math.Min(left, t.cfg.MaxNotional), pf) == nil {
			return
		}
		t.build = nil
		return
	}
	if t.rng.Float64() >= t.cfg.ExitProb {
		return
	}
	for _, p := range a.Positions {
		side := wire.Sell
		if p.Side == wire.Short {
			side = wire.Buy
		}
		err := call(ctx, t.nc, t.subj.OrderPlace(t.acct), wire.PlaceOrder{Symbol: p.Symbol, Side: side, Type: wire.Market, Qty: p.Qty, ReduceOnly: true}, nil)
		if err != nil {
			t.cfg.Log.Debug("noise taker: close", "account", t.acct, "symbol", p.Symbol, "err", err)
		}
	}
}

// mark is s's mark (from the position, else the book's mid, else the
// reference price) and the account's signed notional in s at it.
func (t *noiseTaker) mark(ctx context.Context, a *wire.Account, s *symbol) (price, position float64) {
	for _, p := range a.Positions {
		if p.Symbol == s.Name {
			price, _ = p.MarkPrice.Float64()
			position, _ = p.Qty.Mul(p.MarkPrice).Float64()
			if p.Side == wire.Short {
				position = -position
			}
			return price, position
		}
	}
	if mid, ok := depthMid(ctx, t.nc, t.subj, s.Name); ok {
		price, _ = mid.Float64()
		return price, 0
	}
	price, _ = s.Price.Float64()
	return price, 0
}

// market sends a market order of about notional at price.
func (t *noiseTaker) market(ctx context.Context, s *symbol, side wire.Side, notional, price float64) error {
	lots := s.lotsFor(notional, int64(price/s.tick.f))
	qty := decimal.RequireFromString(string(s.lot.appendUnits(nil, lots)))
	err := call(ctx, t.nc, t.subj.OrderPlace(t.acct), wire.PlaceOrder{Symbol: s.Name, Side: side, Type: wire.Market, Qty: qty}, nil)
	if err != nil {
		t.cfg.Log.Debug("noise taker: order", "account", t.acct, "symbol", s.Name, "err", err)
	}
	return err
}
