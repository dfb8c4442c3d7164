package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/perpx/perpx/loadtest"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// botCapital is each built-in market maker's deposit: its own paper money,
// through the same admin deposit and risk checks as anyone's.
var botCapital = decimal.NewFromInt(10_000_000)

// startBots runs o.Bots market makers (the load test's logic) as accounts
// bot-1..bot-N over the exchange's own NATS connection.
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
			if err := loadtest.RunMarketMaker(ctx, a.tnc, subj, acct, syms, cfg); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("bot stopped", "bot", acct, "err", err)
			}
		})
	}
}
