package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

func (e *exchange) klines(req wire.Klines) []wire.Kline {
	e.t.Helper()
	r := request[wire.KlinesReply](e.t, e.nc, e.subj.Klines(tsym), req)
	mustOK(e.t, "klines", r.Reply)
	return r.Klines
}

func (e *exchange) recentTrades(limit int) []wire.Trade {
	e.t.Helper()
	r := request[wire.RecentTradesReply](e.t, e.nc, e.subj.RecentTrades(tsym), wire.RecentTrades{Limit: limit})
	mustOK(e.t, "recent trades", r.Reply)
	return r.Trades
}

// kline is "open high low close volume trades" for comparing candles.
func kline(k wire.Kline) string {
	return fmt.Sprintf("%s %s %s %s %s %d", k.Open, k.High, k.Low, k.Close, k.Volume, k.Trades)
}

// TestE2EHistory: candles and recent trades over NATS, built from the
// trades the book printed at known times (a manual clock): a minute
// without trades repeats the close, the 5m candle aggregates its minutes,
// the mark series follows the index; and a durable exchange keeps them
// across a restart and goes on from where they were.
func TestE2EHistory(t *testing.T) {
	dir, clk, cfg := t.TempDir(), &clock{}, condConfig(t)
	t0 := clk.at(2026, 3, 1, 12, 0)
	e := start(t, cfg, startOpts{data: dir, now: clk.now})
	stream := newRecorder(t, e.nc, e.subj.Kline(tsym, "1m"), e.subj.Kline(tsym, "5m"))
	ts := e.funded("1000000", "alice", "bob")
	alice, bob := ts[0], ts[1]
	e.index("1000")
	tradeAt := func(price, qty string) {
		t.Helper()
		bob.limit(wire.Sell, price, qty)
		if o := alice.limit(wire.Buy, price, qty, wire.IOC); o.Status != wire.StatusFilled {
			t.Fatalf("trade %s@%s: %+v", qty, price, o)
		}
	}
	tradeAt("1000", "2") // 12:00:00
	clk.advance(20 * time.Second)
	tradeAt("1010", "1") // 12:00:20
	clk.advance(40 * time.Second)
	e.index("1005")          // 12:01:00: a mark, no trade
	clk.advance(time.Minute) // 12:02 has the next trade
	tradeAt("990", "3")
	clk.advance(5 * time.Minute) // 12:07
	e.app.Exchange().Quiesce()

	k1 := e.klines(wire.Klines{Interval: "1m", StartMs: t0, EndMs: clk.now()})
	got := []string{}
	for _, k := range k1 {
		got = append(got, kline(k))
	}
	want := []string{"1000 1010 1000 1010 3 2", "1010 1010 1010 1010 0 0", "990 990 990 990 3 1",
		"990 990 990 990 0 0", "990 990 990 990 0 0", "990 990 990 990 0 0", "990 990 990 990 0 0", "990 990 990 990 0 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) || k1[0].OpenMs != t0 || k1[0].CloseMs != t0+59_999 || !k1[0].QuoteVolume.Equal(dec("3010")) {
		t.Fatalf("1m klines %v %+v", got, k1[0])
	}
	k5 := e.klines(wire.Klines{Interval: "5m", StartMs: t0, EndMs: clk.now()})
	if len(k5) != 2 || kline(k5[0]) != "1000 1010 990 990 6 3" || kline(k5[1]) != "990 990 990 990 0 0" {
		t.Fatalf("5m klines %+v", k5)
	}
	if mk := e.klines(wire.Klines{Interval: "1h", Source: wire.SourceMark, StartMs: t0, EndMs: clk.now()}); len(mk) != 1 ||
		kline(mk[0]) != "1000 1005 1000 1005 0 0" {
		t.Fatalf("mark klines %+v", mk)
	}
	rt := e.recentTrades(2)
	if len(rt) != 2 || !rt[0].Price.Equal(dec("1010")) || !rt[1].Price.Equal(dec("990")) || rt[1].Seq != rt[0].Seq+1 || rt[1].TakerSide != wire.Buy {
		t.Fatalf("recent trades %+v", rt)
	}
	// The 1m stream: minute 0 forming after each trade, closed by the 12:01
	// mark, which starts minute 1 (no trade: the close repeated), closed by
	// the 12:02 trade; the 5m candle forming throughout.
	var m1, m5 []wire.KlineUpdate
	eventually(t, "kline streams", func() error {
		m1, m5 = decoded[wire.KlineUpdate](stream, e.subj.Kline(tsym, "1m")), decoded[wire.KlineUpdate](stream, e.subj.Kline(tsym, "5m"))
		if len(m1) != 6 || len(m5) != 3 {
			return fmt.Errorf("1m %d, 5m %d updates", len(m1), len(m5))
		}
		return nil
	})
	if kline(m1[1].Kline) != "1000 1010 1000 1010 3 2" || m1[1].Closed || !m1[2].Closed || kline(m1[2].Kline) != "1000 1010 1000 1010 3 2" ||
		m1[3].Closed || kline(m1[3].Kline) != "1010 1010 1010 1010 0 0" || m1[3].OpenMs != t0+60_000 ||
		!m1[4].Closed || m1[4].OpenMs != t0+60_000 || kline(m1[4].Kline) != "1010 1010 1010 1010 0 0" ||
		m1[5].Closed || kline(m1[5].Kline) != "990 990 990 990 3 1" || m1[5].OpenMs != t0+120_000 || m1[5].Interval != "1m" {
		t.Fatalf("1m stream %+v", m1)
	}
	if kline(m5[2].Kline) != "1000 1010 990 990 6 3" || m5[2].Closed || m5[2].Symbol != tsym {
		t.Fatalf("5m stream %+v", m5)
	}
	tk := request[wire.TickerReply](t, e.nc, e.subj.Ticker(tsym), "{}")
	mustOK(t, "ticker", tk.Reply)
	if x := tk.Ticker; !x.Last.Equal(dec("990")) || !x.Open.Equal(dec("1000")) || !x.High.Equal(dec("1010")) || !x.Low.Equal(dec("990")) ||
		!x.Volume.Equal(dec("6")) || x.Trades != 3 || !x.Change.Equal(dec("-10")) || !x.ChangePct.Equal(dec("-1")) ||
		!x.Mark.Equal(dec("1005")) || !x.Index.Equal(dec("1005")) || x.TimeMs != clk.now() {
		t.Fatalf("ticker %+v", x)
	}
	// Open interest: alice holds 6 long now; the 12:00 period's sample was
	// taken at the 12:01 mark (3 by then), the 12:05 one at the next mark.
	if !tk.Ticker.OpenInterest.Equal(dec("6")) {
		t.Fatalf("ticker open interest %s", tk.Ticker.OpenInterest)
	}
	e.index("1000") // 12:07
	e.app.Exchange().Quiesce()
	oi := request[wire.OpenInterestReply](t, e.nc, e.subj.OpenInterest(tsym), wire.OpenInterestReq{StartMs: t0})
	mustOK(t, "open interest", oi.Reply)
	if !oi.OpenInterest.Equal(dec("6")) || len(oi.History) != 2 || oi.History[0].TimeMs != t0 || !oi.History[0].OpenInterest.Equal(dec("3")) ||
		oi.History[1].TimeMs != t0+5*60_000 || !oi.History[1].OpenInterest.Equal(dec("6")) {
		t.Fatalf("open interest %+v", oi)
	}
	if r := request[wire.KlinesReply](t, e.nc, e.subj.Klines(tsym), `{"interval":"2m"}`); r.OK || r.Error.Code != wire.CodeBadRequest {
		t.Fatalf("a 2m interval: %+v", r)
	}

	// A restart keeps the history; new trades join it.
	before := e.klines(wire.Klines{Interval: "1m", StartMs: t0, EndMs: clk.now()})
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	deps := e.deposits
	e = start(t, cfg, startOpts{data: dir, now: clk.now})
	e.deposits = deps
	after := e.klines(wire.Klines{Interval: "1m", StartMs: t0, EndMs: clk.now()})
	if !sameJSON(t, before, after) {
		t.Fatalf("after the restart:\n%+v\nbefore:\n%+v", after, before)
	}
	alice, bob = e.trader("alice"), e.trader("bob")
	tradeAt("995", "1") // 12:07
	e.app.Exchange().Quiesce()
	last := e.klines(wire.Klines{Interval: "1m", Limit: 1, EndMs: clk.now()})
	if len(last) != 1 || kline(last[0]) != "995 995 995 995 1 1" {
		t.Fatalf("the minute after the restart: %+v", last)
	}
	if rt := e.recentTrades(10); len(rt) != 4 || !rt[3].Price.Equal(dec("995")) || rt[3].Seq != rt[2].Seq+1 {
		t.Fatalf("recent trades after the restart %+v", rt)
	}
	e.settledAudit()
}

// TestE2ETickerStream: a subscriber of px.md.<sym>.ticker.1s gets the
// ticker every second.
func TestE2ETickerStream(t *testing.T) {
	e := start(t, condConfig(t), startOpts{})
	ts := e.funded("1000000", "alice", "bob")
	e.index("1000")
	ts[1].limit(wire.Sell, "1001", "2")
	ts[0].limit(wire.Buy, "1001", "2", wire.IOC)
	stream := newRecorder(t, e.nc, e.subj.TickerStream(tsym))
	eventually(t, "a ticker", func() error {
		got := decoded[wire.TickerStats](stream, e.subj.TickerStream(tsym))
		if len(got) == 0 {
			return fmt.Errorf("none yet")
		}
		if x := got[0]; x.Symbol != tsym || !x.Last.Equal(dec("1001")) || !x.Volume.Equal(dec("2")) || !x.OpenInterest.Equal(dec("2")) {
			t.Fatalf("ticker %+v", x)
		}
		return nil
	})
}

// TestE2EReplayHistory: a recorded half hour replayed at 100 000× happens at
// its recorded times: afterwards the mark candles of that half hour read
// back minute by minute.
func TestE2EReplayHistory(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	var b strings.Builder
	b.WriteString("time_ms,symbol,price\n")
	for m := range 30 {
		fmt.Fprintf(&b, "%d,%s,%d\n", t0+int64(m)*60_000+5_000, tsym, 1000+m)
	}
	file := filepath.Join(t.TempDir(), "day.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, condConfig(t), startOpts{index: "replay:" + file, speed: 100_000})
	var ks []wire.Kline
	eventually(t, "the replayed candles", func() error {
		ks = e.klines(wire.Klines{Interval: "1m", Source: wire.SourceMark, StartMs: t0, EndMs: t0 + 29*60_000})
		if len(ks) != 30 || !ks[29].Close.Equal(dec("1029")) {
			return fmt.Errorf("%d candles", len(ks))
		}
		return nil
	})
	for m, k := range ks {
		if k.OpenMs != t0+int64(m)*60_000 || !k.Open.Equal(decimal.NewFromInt(int64(1000+m))) {
			t.Fatalf("minute %d: %+v", m, k)
		}
	}
	if h := e.klines(wire.Klines{Interval: "1h", Source: wire.SourceMark, StartMs: t0, EndMs: t0}); len(h) != 1 ||
		kline(h[0]) != "1000 1029 1000 1029 0 0" {
		t.Fatalf("the hour %+v", h)
	}
}

// TestE2EKlineClosedAfterRestart: the minute that was forming when the
// exchange stopped is announced closed after the restart, when the clock
// (a mark) passes its end, with the trades it had.
func TestE2EKlineClosedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli()
	clk.ms.Store(t0 + 10_000)
	cfg := condConfig(t)
	e := start(t, cfg, startOpts{data: dir, now: clk.now})
	ts := e.funded("1000000", "alice", "bob")
	e.index("1000")
	ts[1].limit(wire.Sell, "1002", "2")
	ts[0].limit(wire.Buy, "1002", "2", wire.IOC) // 12:00:10
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	deps := e.deposits
	e = start(t, cfg, startOpts{data: dir, now: clk.now})
	e.deposits = deps
	stream := newRecorder(t, e.nc, e.subj.Kline(tsym, "1m"))
	clk.advance(55 * time.Second) // 12:01:05
	eventually(t, "the subscription", func() error {
		e.index("1001") // a mark: minute 0 ended
		if got := decoded[wire.KlineUpdate](stream, e.subj.Kline(tsym, "1m")); len(got) < 2 {
			return fmt.Errorf("%d updates", len(got))
		}
		return nil
	})
	got := decoded[wire.KlineUpdate](stream, e.subj.Kline(tsym, "1m"))
	if !got[0].Closed || got[0].OpenMs != t0 || kline(got[0].Kline) != "1002 1002 1002 1002 2 1" ||
		got[1].Closed || got[1].OpenMs != t0+60_000 || kline(got[1].Kline) != "1002 1002 1002 1002 0 0" {
		t.Fatalf("1m updates after the restart %+v", got)
	}
	e.settledAudit()
}

// TestE2EKlineStreamFollowsANewSubscriber: the candle stream is built only
// while someone subscribes, and the history actor caches the server's
// answer for a take of its mailbox: a trade after a subscription (flushed)
// is streamed, although the trade before it was not.
func TestE2EKlineStreamFollowsANewSubscriber(t *testing.T) {
	clk := &clock{}
	clk.ms.Store(time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC).UnixMilli())
	e := start(t, condConfig(t), startOpts{now: clk.now})
	ts := e.funded("1000000", "alice", "bob")
	e.index("1000")
	trade := func(qty string) {
		t.Helper()
		ts[1].limit(wire.Sell, "1002", qty)
		if o := ts[0].limit(wire.Buy, "1002", qty, wire.IOC); o.Status != wire.StatusFilled {
			t.Fatalf("trade %s: %+v", qty, o)
		}
	}
	trade("1") // nobody follows the 1m candles
	e.app.Exchange().Quiesce()
	stream := newRecorder(t, e.nc, e.subj.Kline(tsym, "1m"))
	trade("2")
	eventually(t, "the 1m update", func() error {
		if got := decoded[wire.KlineUpdate](stream, e.subj.Kline(tsym, "1m")); len(got) != 1 {
			return fmt.Errorf("%d updates", len(got))
		}
		return nil
	})
	if got := decoded[wire.KlineUpdate](stream, e.subj.Kline(tsym, "1m"))[0]; got.Closed || kline(got.Kline) != "1002 1002 1002 1002 3 2" {
		t.Fatalf("1m update %+v", got)
	}
	e.settledAudit()
}
