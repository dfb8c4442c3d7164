package actors

import (
	"testing"

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
