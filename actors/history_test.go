package actors

import (
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// TestFillTimeIsTradeTime: a fill's time_ms is its trade's (the book's
// clock when it matched), not the time its account handled it: a client
// pairing its fills with the public trades, or paging both by time
// (Binance's userTrades and aggTrades from one startTime), sees one time
// per trade. The clock moves at every reading here, so the two differ.
func TestFillTimeIsTradeTime(t *testing.T) {
	e := newEnv(t, market.DemoSymbols()...)
	e.index("BTC-PERP", "30000")
	e.deposit("alice", "100000")
	e.deposit("mm", "100000")
	e.clk.tick.Store(true)
	e.mustPlace("mm", "BTC-PERP", wire.Sell, "30010", "0.01")
	e.mustPlace("mm", "BTC-PERP", wire.Sell, "30020", "0.01")
	e.mustPlace("alice", "BTC-PERP", wire.Buy, "30020", "0.02")
	trades := call(t, func(d func(wire.RecentTradesReply)) { e.x.RecentTrades("BTC-PERP", wire.RecentTrades{Limit: 10}, d) })
	at := map[uint64]int64{}
	for _, tr := range trades.Trades {
		at[tr.Seq] = tr.TimeMs
	}
	if len(at) != 2 {
		t.Fatalf("trades: %+v", trades.Trades)
	}
	for _, who := range []string{"alice", "mm"} {
		r := call(t, func(d func(wire.FillsReply)) { e.x.Fills(who, wire.Fills{Limit: 10}, d) })
		if len(r.Fills) != 2 {
			t.Fatalf("%s's fills: %+v", who, r.Fills)
		}
		for _, f := range r.Fills {
			if ms, ok := at[f.TradeSeq]; !ok || f.TimeMs != ms {
				t.Errorf("%s's fill of trade %d at %d ms, the trade at %d ms", who, f.TradeSeq, f.TimeMs, ms)
			}
		}
	}
}

// TestIncomeTimesNeverDecrease: a deposit queued in the maker's mailbox
// ahead of its fill, both handled 2 s after the trade: the fill's rows
// take the deposit's time, not the earlier trade's, so the rows' times
// never decrease in id order and a client paging forward from its last
// row's time misses none (monotonic, acct_history.go).
func TestIncomeTimesNeverDecrease(t *testing.T) {
	e := newEnv(t, market.DemoSymbols()...)
	e.index("BTC-PERP", "30000")
	e.deposit("alice", "100000")
	e.deposit("mm", "100000")
	e.mustPlace("mm", "BTC-PERP", wire.Sell, "30010", "0.01")
	e.x.quiesce()
	pid := e.x.Account("mm").e.pid
	release := make(chan struct{})
	e.x.root.Send(pid, &pauseMsg{until: release}) // mm busy
	depDone := make(chan wire.BalanceReply, 1)
	e.x.Deposit(wire.Deposit{Account: "mm", Asset: "USDT", Amount: dec("5")}, func(r wire.BalanceReply) { depDone <- r })
	time.Sleep(20 * time.Millisecond)                                     // the deposit is queued behind the pause
	e.mustPlace("alice", "BTC-PERP", wire.Buy, "30010", "0.01", wire.IOC) // trades at T0; mm's fill queued after the deposit
	e.clk.advance(2 * time.Second)                                        // mm catches up 2 s later
	close(release)
	<-depDone
	e.x.quiesce()
	rows := e.income("mm", wire.IncomeQuery{})
	for i, r := range rows {
		t.Logf("row id=%d %s/%s %s at %d", r.ID, r.Type, r.Info, r.Amount, r.TimeMs)
		if i > 0 && r.TimeMs < rows[i-1].TimeMs {
			t.Errorf("row %d at %d ms is older than row %d at %d ms", r.ID, r.TimeMs, rows[i-1].ID, rows[i-1].TimeMs)
		}
	}
	// A client paging forward from its last row's time (inclusive, dedup by id).
	seen := map[uint64]bool{}
	start := int64(1)
	for range 10 {
		page := e.income("mm", wire.IncomeQuery{Fills: wire.Fills{StartMs: start, Limit: 2}})
		for _, r := range page {
			seen[r.ID] = true
			start = r.TimeMs
		}
	}
	if len(seen) != len(rows) {
		t.Errorf("forward paging by start_ms saw %d of %d rows", len(seen), len(rows))
	}
}
