package app

import (
	"context"
	"encoding/json"
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

// The takers: taker-1 holds one position at a time at about 42× its small
// capital, so the simulated index's moves (under 2 % against it)
// liquidate it now and then, and it tops itself up again like a testnet
// user; the others trade noise at 10× with room to spare.
var (
	degenTaker = loadtest.TakerConfig{Capital: decimal.NewFromInt(1_000), Leverage: decimal.NewFromInt(50),
		MinNotional: 500, MaxNotional: 10_000, Interval: 1500 * time.Millisecond, HoldLeverage: 42, ExitProb: 1.0 / 400}
	calmTaker = loadtest.TakerConfig{Capital: decimal.NewFromInt(100_000), Leverage: decimal.NewFromInt(10),
		MinNotional: 200, MaxNotional: 3_000, MaxPosition: 30_000, Interval: 2 * time.Second}
)

// startBots runs o.Bots market makers (the load test's logic) as accounts
// bot-1..bot-N and as many noise takers (taker-1..taker-N) over the
// exchange's own NATS connection: without takers nothing trades on the
// simulated index, and the page's tape and chart stay empty. The makers
// first quote around the index in at (a recovered exchange's), else
// around the sim's configured start.
func (a *App) startBots(ctx context.Context, o Options, at map[string]decimal.Decimal) {
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
		start, ok := at[s.Name]
		if !ok {
			start, ok = simStart[s.Name]
		}
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
	a.seedFund(subj, a.symbols[0].Settle)
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

// fundSeed is what the demo's insurance fund is topped up to when the bots
// start (an admin top-up, as px.admin.fund.deposit, counted in the audit's
// fund_deposits): the bots' liquidations draw on it. Topped up, not added:
// every start of a durable exchange used to add another 100 000.
var fundSeed = decimal.NewFromInt(100_000)

func (a *App) seedFund(subj wire.Subjects, asset string) {
	deposit := func(amount decimal.Decimal) (decimal.Decimal, error) {
		body, err := json.Marshal(wire.FundDeposit{Asset: asset, Amount: amount})
		if err != nil {
			return decimal.Zero, err
		}
		m, err := a.nc.Request(subj.AdminFundDeposit(), body, 2*time.Second)
		if err != nil {
			return decimal.Zero, err
		}
		var r wire.BalanceReply
		if err = json.Unmarshal(m.Data, &r); err == nil && !r.OK {
			err = fmt.Errorf("refused: %v", r.Error)
		}
		return r.Balance, err
	}
	has, err := deposit(decimal.Zero) // 0 reports the balance
	added := decimal.Zero
	if err == nil && has.LessThan(fundSeed) {
		added = fundSeed.Sub(has)
		_, err = deposit(added)
	}
	if err != nil {
		a.log.Error("bots: insurance fund deposit", "err", err)
		return
	}
	a.log.Info("bots: insurance fund topped up", "to", fundSeed, "added", added)
}
