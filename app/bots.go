package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/perpx/perpx/loadtest"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// botCapital is each built-in market maker's deposit: its own paper money,
// through the same admin deposit and risk checks as anyone's.
var botCapital = decimal.NewFromInt(10_000_000)

// The noise takers: taker-1 trades near 45× its small capital, so the
// simulated index's moves liquidate it now and then (it tops itself up
// again like a testnet user), the others at 10× with room to spare.
var (
	degenTaker = loadtest.TakerConfig{Capital: decimal.NewFromInt(1_000), Leverage: decimal.NewFromInt(50),
		MinNotional: 500, MaxNotional: 5_000, MaxPosition: 45_000, Interval: 1500 * time.Millisecond}
	calmTaker = loadtest.TakerConfig{Capital: decimal.NewFromInt(100_000), Leverage: decimal.NewFromInt(10),
		MinNotional: 200, MaxNotional: 3_000, MaxPosition: 30_000, Interval: 2 * time.Second}
)

// startBots runs o.Bots market makers (the load test's logic) as accounts
// bot-1..bot-N and as many noise takers (taker-1..taker-N) over the
// exchange's own NATS connection: without takers nothing trades on the
// simulated index, and the page's tape and chart stay empty.
func (a *App) startBots(ctx context.Context, o Options) {
	if o.Bots <= 0 {
		return
	}
	subj, err := wire.NewSubjects(o.Prefix)
	if err != nil {
		a.log.Error("bots", "err", err)
		return
	}
	syms := make([]loadtest.SymbolInfo, len(a.symbols))
	for i, s := range a.symbols {
		start, ok := simStart[s.Name]
		if !ok {
			start = defaultSimStart
		}
		syms[i] = loadtest.SymbolInfo{Name: s.Name, Tick: s.TickSize, Lot: s.LotSize, Price: start}
	}
	for i := 1; i <= o.Bots; i++ {
		acct := fmt.Sprintf("bot-%d", i)
		cfg := loadtest.MMConfig{Capital: botCapital, Asset: a.symbols[0].Settle, Leverage: decimal.NewFromInt(10), SpreadBps: float64(3 + 2*i),
			Log: a.log.With("bot", acct)}
		a.go_(func() {
			if err := loadtest.RunMarketMaker(ctx, a.nc, subj, acct, syms, cfg); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("bot stopped", "bot", acct, "err", err)
			}
		})
	}
	for i := 1; i <= o.Bots; i++ {
		acct, cfg := fmt.Sprintf("taker-%d", i), calmTaker
		if i == 1 {
			cfg = degenTaker
		}
		cfg.Asset, cfg.Seed, cfg.Log = a.symbols[0].Settle, o.Seed+uint64(i), a.log.With("bot", acct)
		a.go_(func() {
			if err := loadtest.RunNoiseTaker(ctx, a.nc, subj, acct, syms, cfg); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("bot stopped", "bot", acct, "err", err)
			}
		})
	}
}
