package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/index"
	"github.com/perpx/perpx/internal/ratelog"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// simStart is where the simulated index starts per demo symbol; other
// symbols start at defaultSimStart.
var simStart = map[string]decimal.Decimal{
	"BTC-PERP": decimal.NewFromInt(30000),
	"ETH-PERP": decimal.NewFromInt(2000),
}

var defaultSimStart = decimal.NewFromInt(100)

// feed drives index ticks from a pure index.Source into the exchange, or
// subscribes to an outside feeder's subject (nats:SUBJECT). The exchange
// refuses an index off the symbol's tick, so a feed rounds every price to
// the nearest tick first (a recorded or outside price has whatever
// precision its source had; the sim rounds already).
type feed struct {
	// refused and rejected log the feed's bad messages and refused ticks
	// at most once a second each: a feeder (nats:SUBJECT is anyone's on an
	// open server) can send them by the thousand.
	refused, rejected *ratelog.Limiter
	name              string
	src               index.Source
	subject           string             // nats:SUBJECT
	sub               *nats.Subscription // its subscription, once made
	closer            func() error
	syms              map[string]*market.Symbol
	// sim is the simulated index's config (nil for other sources), kept to
	// start it again where a recovered exchange's index was (resume).
	sim *index.SimConfig
	// clock is a replay's recorded time, the exchange's clock while it
	// replays (replayClock): each tick is applied at its own time.
	clock atomic.Int64
}

// resume starts the simulated index again from the prices in at (a
// recovered exchange's index; symbols absent start where they would): a
// restart or a takeover must not jump the index back to its configured
// start, liquidating whoever traded away from it. Other sources are left
// alone.
func (f *feed) resume(at map[string]decimal.Decimal) error {
	if f.sim == nil || len(at) == 0 {
		return nil
	}
	cfg := *f.sim
	cfg.Symbols = slices.Clone(cfg.Symbols)
	for i := range cfg.Symbols {
		if p, ok := at[cfg.Symbols[i].Symbol]; ok && p.IsPositive() {
			cfg.Symbols[i].Start = p
		}
	}
	src, err := index.NewSim(cfg, time.Now())
	if err != nil {
		return err
	}
	f.src = src
	return nil
}

// replayClock returns the exchange clock for a replay (nil for the other
// sources): the recorded time of the tick last applied, from the first
// row's time on, so that a replayed day happens at its recorded times.
func (f *feed) replayClock() func() int64 {
	r, ok := f.src.(*index.Replay)
	if !ok {
		return nil
	}
	first, ok := r.First()
	if !ok {
		return nil
	}
	f.clock.Store(first)
	return f.clock.Load
}

func newFeed(o Options, syms []*market.Symbol) (*feed, error) {
	spec, err := index.ParseSpec(o.Index)
	if o.Index == "" {
		spec, err = index.Spec{Kind: index.KindSim}, nil
	}
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &feed{name: spec.Kind.String(), src: index.Idle{}, syms: map[string]*market.Symbol{},
		refused:  ratelog.Slog(log, slog.LevelWarn, "index feed messages refused", time.Second),
		rejected: ratelog.Slog(log, slog.LevelWarn, "index ticks refused", time.Second)}
	for _, s := range syms {
		f.syms[s.Name] = s
	}
	switch spec.Kind {
	case index.KindSim:
		cfg := index.SimConfig{Seed: o.Seed}
		for _, s := range syms {
			start, ok := simStart[s.Name]
			if !ok {
				start = defaultSimStart
			}
			cfg.Symbols = append(cfg.Symbols, index.SimSymbol{Symbol: s.Name, Start: start, Tick: s.TickSize})
		}
		f.src, err = index.NewSim(cfg, time.Now())
		f.sim = &cfg
	case index.KindReplay:
		speed := o.Speed
		if speed == 0 {
			speed = 1
		}
		var file *os.File
		if file, err = os.Open(spec.Arg); err != nil {
			return nil, fmt.Errorf("app: index replay: %w", err)
		}
		f.closer = file.Close
		f.src, err = index.NewReplay(file, time.Now(), speed)
	case index.KindNATS:
		f.subject = spec.Arg
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// closeSource closes a replay's file when run never will.
func (f *feed) closeSource() {
	if f.closer != nil {
		_ = f.closer()
		f.closer = nil
	}
}

// run feeds ticks until ctx ends or the source is exhausted.
func (f *feed) run(ctx context.Context, a *App) {
	if f.closer != nil {
		defer f.closer()
	}
	if f.sub != nil {
		<-ctx.Done()
		_ = f.sub.Unsubscribe()
		return
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		t, ok, err := f.src.Next()
		if err != nil {
			a.log.Error("index feed stopped", "source", f.name, "err", err)
			return
		}
		if !ok {
			if _, replay := f.src.(*index.Replay); replay { // say so, or the operator sees a frozen index and clock
				a.log.Info("index replay ended: the index stays at its last tick", "time_ms", f.clock.Load())
			}
			return // manual's Idle has no ticks at all
		}
		if d := time.Until(t.Due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		if t.TimeMs == 0 {
			f.set(a, t.Symbol, f.round(t.Symbol, t.Price), nil)
			continue
		}
		// A replayed tick: the clock moves to its time, and the next waits
		// until the exchange applied it, so nothing is stamped out of order.
		f.clock.Store(max(f.clock.Load(), t.TimeMs))
		applied := make(chan struct{})
		f.set(a, t.Symbol, f.round(t.Symbol, t.Price), func() { close(applied) })
		select {
		case <-applied:
		case <-ctx.Done():
			return
		}
	}
}

// subscribe takes ticks from an outside feeder (nats:SUBJECT). It runs
// before the exchange reports ready, and waits until the server has the
// subscription, so a tick published right after start is not lost.
func (f *feed) subscribe(a *App) error {
	sub, err := a.tnc.Subscribe(f.subject, func(m *nats.Msg) {
		p, err := index.ParseFeed(m.Data)
		if err != nil {
			f.refused.Event("subject", m.Subject, "err", err)
			return
		}
		f.set(a, p.Symbol, f.round(p.Symbol, p.Price), nil)
	})
	if err == nil {
		err = a.tnc.Flush()
	}
	if err != nil {
		return fmt.Errorf("app: index feed %s: %w", f.subject, err)
	}
	f.sub = sub
	return nil
}

// round returns price at the nearest tick of sym (halves away from zero, at
// least one tick); an unknown symbol's price, or one beyond the symbol's
// range, is returned as is for the exchange to refuse with its reason.
func (f *feed) round(sym string, price decimal.Decimal) decimal.Decimal {
	s := f.syms[sym]
	if s == nil {
		return price
	}
	t, ok := s.NearestTick(price)
	if !ok {
		return price
	}
	return s.Price(t)
}

func (f *feed) set(a *App, sym string, price decimal.Decimal, applied func()) {
	a.x.SetIndex(sym, wire.IndexSet{Price: price}, func(r wire.IndexReply) {
		if !r.OK {
			f.rejected.Event("symbol", sym, "price", price, "err", r.Error)
		}
		if applied != nil {
			applied()
		}
	})
}
