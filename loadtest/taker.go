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
	// Capital is deposited through px.admin.deposit when the bot starts,
	// and the account is topped up to it again (a testnet faucet, counted
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
	Seed     uint64        // of its choices
	Timeout  time.Duration // per request; default 2s
	Log      *slog.Logger  // nil discards
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
// opens beyond MaxPosition. nc must be allowed px.admin.deposit.
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
}

func (t *noiseTaker) pause() time.Duration {
	return time.Duration(t.rng.ExpFloat64() * float64(t.cfg.Interval))
}

func (t *noiseTaker) setup(ctx context.Context) error {
	c, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	return openAccount(c, t.nc, t.subj, t.acct, t.cfg.Asset, t.cfg.Capital, t.cfg.Leverage, t.syms)
}

// step reads the account, tops it up when it is flat and short of money,
// and sends one market order.
func (t *noiseTaker) step(ctx context.Context) {
	c, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	var r wire.AccountReply
	if err := call(c, t.nc, t.subj.State(t.acct), wire.State{}, &r); err != nil || r.Account == nil {
		t.cfg.Log.Warn("noise taker: state", "account", t.acct, "err", err)
		return
	}
	a := r.Account
	if bal := a.Balances[t.cfg.Asset]; len(a.Positions) == 0 && bal.LessThan(t.cfg.Capital.Div(decimal.NewFromInt(2))) {
		if err := deposit(c, t.nc, t.subj, t.acct, t.cfg.Asset, t.cfg.Capital.Sub(bal)); err != nil {
			t.cfg.Log.Warn("noise taker: top-up", "account", t.acct, "err", err)
		}
		return
	}
	s := t.syms[t.rng.IntN(len(t.syms))]
	price, position := s.Price, 0.0 // position: signed notional at the mark
	for _, p := range a.Positions {
		if p.Symbol == s.Name {
			price = p.MarkPrice
			position, _ = p.Qty.Mul(p.MarkPrice).Float64()
			if p.Side == wire.Short {
				position = -position
			}
		}
	}
	if len(a.Positions) == 0 || price.Equal(s.Price) {
		if mid, ok := depthMid(c, t.nc, t.subj, s.Name); ok {
			price = mid
		}
	}
	pf, _ := price.Float64()
	if pf <= 0 {
		return
	}
	// P(buy) falls from 1/2 as a long grows, to 0 at MaxPosition.
	lean := math.Max(-1, math.Min(1, position/t.cfg.MaxPosition))
	side := wire.Sell
	if t.rng.Float64() < 0.5*(1-lean) {
		side = wire.Buy
	}
	notional := t.cfg.MinNotional + t.rng.Float64()*(t.cfg.MaxNotional-t.cfg.MinNotional)
	lots := s.lotsFor(notional, int64(pf/s.tick.f))
	qty := decimal.RequireFromString(string(s.lot.appendUnits(nil, lots)))
	err := call(c, t.nc, t.subj.OrderPlace(t.acct), wire.PlaceOrder{Symbol: s.Name, Side: side, Type: wire.Market, Qty: qty}, nil)
	if err != nil {
		t.cfg.Log.Debug("noise taker: order", "account", t.acct, "symbol", s.Name, "err", err)
	}
}
