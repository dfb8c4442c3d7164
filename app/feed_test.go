package app_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
)

// marks returns the index prices published on the symbol's mark stream.
func (e *exchange) marks(sym string) []string {
	var out []string
	for _, m := range decoded[wire.MarkUpdate](e.rec, e.subj.Mark(sym)) {
		out = append(out, m.Index.String())
	}
	return out
}

func wantMarks(e *exchange, want ...string) {
	e.t.Helper()
	eventually(e.t, "index ticks", func() error {
		if got := e.marks(tsym); strings.Join(got, " ") != strings.Join(want, " ") {
			return fmt.Errorf("index %v, want %v", got, want)
		}
		return nil
	})
}

// --index replay:FILE replays a recorded market in order, sped up.
func TestReplayFeed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "prices.csv")
	// 3 s of market at 4× speed: 250 ms between ticks (at 10×, 100 ms, the
	// subscription of a loaded CI machine missed the second too). The first
	// tick goes out as the exchange starts, before the test's subscription
	// may exist.
	csv := "time_ms,symbol,price\n1000,TEST-PERP,3000\n2000,TEST-PERP,3010\n2500,OTHER,1\n3000,TEST-PERP,2990\n"
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &logBuf{}
	e := start(t, seedConfig(t, longTiers()...), startOpts{index: "replay:" + file, speed: 4, log: slog.New(slog.NewTextHandler(logs, nil))})
	// OTHER is not a symbol of the exchange: refused and skipped, the rest
	// still replays, in order.
	eventually(t, "the replay", func() error {
		got := strings.Join(e.marks(tsym), " ")
		if got != "3000 3010 2990" && got != "3010 2990" {
			return fmt.Errorf("index ticks %q, want 3000 3010 2990 (the first may precede the subscription)", got)
		}
		return nil
	})
	// Its end is logged, with the clock where the last tick left it (and
	// only a replay's: TestReadyLineSaysWhere's manual index logs none).
	eventually(t, "the replay's end in the log", func() error {
		if logs.count("index replay ended") != 1 || logs.count("time_ms=3000") != 1 {
			return fmt.Errorf("log:\n%s", logs)
		}
		return nil
	})
}

// --index nats:SUBJECT takes prices from an outside feeder; bad messages
// are skipped.
func TestNATSFeed(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{index: "nats:feed.prices"})
	for _, msg := range []string{`{"symbol":"TEST-PERP","price":"3000"}`, `not json`, `{"symbol":"TEST-PERP","price":"-5"}`, `{"symbol":"TEST-PERP","price":"3050"}`} {
		if err := e.nc.Publish("feed.prices", []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	wantMarks(e, "3000", "3050")
}

// --bots N: a lone trader finds both sides of the book quoted around the
// mark of the simulated index, and /metrics is served.
func TestBotsQuoteAndMetrics(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{index: "sim", bots: 2, http: "127.0.0.1:0"})
	eventually(t, "bots' quotes", func() error {
		d := e.depth()
		if len(d.Bids) == 0 || len(d.Asks) == 0 {
			return fmt.Errorf("depth %+v", d)
		}
		if !d.Bids[0].Price().LessThan(d.Asks[0].Price()) {
			return fmt.Errorf("crossed: %+v", d)
		}
		return nil
	})
	resp, err := http.Get("http://" + e.app.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"perpx_orders_total", `perpx_mailbox_depth{actor="symbol-TEST-PERP"}`, `perpx_mailbox_depth{actor="adl"}`, `perpx_trades_total{symbol="TEST-PERP"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%.2000s", want, body)
		}
	}
	// No pprof without --pprof: its cmdline would show a --nats-password
	// to whoever reaches the page's port.
	resp, err = http.Get("http://" + e.app.HTTPAddr() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK && !strings.Contains(string(body), "<html") {
		t.Errorf("/debug/pprof/cmdline served without --pprof: %.200s", body)
	}
}

// --bots N also runs noise takers: on the demo symbols and the simulated
// index trades happen with nobody at the keyboard (before them: none in
// 40 s), and the bots' money, deposited like anyone's, is conserved.
func TestBotsTradeOnTheSimulatedIndex(t *testing.T) {
	e := start(t, nil, startOpts{index: "sim", bots: 2})
	eventually(t, "trades by the bots", func() error {
		n := 0
		for _, s := range []string{"BTC-PERP", "ETH-PERP"} {
			n += len(decoded[wire.Trade](e.rec, e.subj.Trades(s)))
		}
		if n < 3 {
			return fmt.Errorf("%d trades", n)
		}
		return nil
	})
	e.conservedWithBots()
}

// conservedWithBots waits until the audit holds: the bots deposit their own
// capital (and top up the fund), so its sums, not the test's ledger, say
// what went in.
func (e *exchange) conservedWithBots() {
	e.t.Helper()
	eventually(e.t, "conservation", func() error {
		r := e.audit()
		held := r.Balances.Add(r.Unrealized).Add(r.Fund).Add(r.Fees)
		if !r.InvariantsOK || !held.Equal(r.Deposits.Add(r.FundDeposits)) || r.Deposits.Sign() <= 0 || r.FundDeposits.Sign() <= 0 {
			return fmt.Errorf("audit %+v", r)
		}
		return nil
	})
}

// taker-1 holds a position at high leverage: an index move against it
// liquidates it (the flow that makes the demo's liquidations), and once
// flat it tops itself up by a deposit, which the audit counts.
func TestBotsHolderIsLiquidatedAndTopsUp(t *testing.T) {
	e := start(t, nil, startOpts{index: "manual", bots: 2})
	prices := map[string]string{"BTC-PERP": "30000", "ETH-PERP": "2000"}
	for sym, p := range prices {
		mustOK(t, "index", request[wire.IndexReply](t, e.nc, e.subj.AdminIndex(sym), wire.IndexSet{Price: dec(p)}).Reply)
	}
	holder := e.trader("taker-1")
	var pos wire.Position
	eventually(t, "taker-1's position", func() error {
		a := holder.state()
		if len(a.Positions) == 0 {
			return errors.New("flat")
		}
		pos = a.Positions[0]
		return nil
	})
	// 15 % against it: far beyond its liquidation price at any size it holds.
	move := dec("0.85")
	if pos.Side == wire.Short {
		move = dec("1.15")
	}
	to := dec(prices[pos.Symbol]).Mul(move).Round(0)
	mustOK(t, "index", request[wire.IndexReply](t, e.nc, e.subj.AdminIndex(pos.Symbol), wire.IndexSet{Price: to}).Reply)
	eventually(t, "the liquidation", func() error {
		if len(e.events("taker-1", wire.EventLiquidation)) == 0 {
			return errors.New("none yet")
		}
		return nil
	})
	eventually(t, "the top-up", func() error {
		if b := holder.state().Balances["USDT"]; b.LessThan(dec("500")) {
			return fmt.Errorf("balance %s", b)
		}
		return nil
	})
	e.conservedWithBots()
}
