package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// TestDataKeepsItsUnits: a durable exchange's journal and snapshots hold
// prices in ticks and quantities in lots, so a restart whose config gives a
// symbol another tick (or lot, contract, symbol list, or another --prefix,
// whose journal is another stream) is refused, naming the difference; it
// used to start and show a bid placed at 29 000 at 290 000. The same config
// starts again and finds the bid where it was, and a directory written
// before units.json existed starts and gets one.
func TestDataKeepsItsUnits(t *testing.T) {
	dir := t.TempDir()
	cfg := func(btcTick string) *config.Config {
		c, err := config.Parse([]byte(`{"symbols":[{"symbol":"BTC-PERP","tick":"` + btcTick + `","lot":"0.001"},{"symbol":"ETH-PERP","tick":"0.01","lot":"0.01"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	start := func(c *config.Config, prefix string) (*app.App, error) {
		return app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", Index: "manual", Data: dir, Config: c, Prefix: prefix})
	}
	req := func(a *app.App, subj, body string) map[string]any {
		t.Helper()
		nc := connect(t, a.URL())
		defer nc.Close()
		m, err := nc.Request(subj, []byte(body), wait)
		if err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		if err := json.Unmarshal(m.Data, &r); err != nil || r["ok"] != true {
			t.Fatalf("%s: %s", subj, m.Data)
		}
		return r
	}
	subj := wire.DefaultSubjects()
	a, err := start(cfg("0.1"), "")
	if err != nil {
		t.Fatal(err)
	}
	req(a, subj.AdminIndex("BTC-PERP"), `{"price":"30000"}`)
	req(a, subj.AdminDeposit(), `{"account":"alice","asset":"USDT","amount":"10000"}`)
	req(a, "px.acct.alice.order.place", `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"29000","qty":"0.01"}`)
	a.Close(context.Background())

	for _, c := range []struct {
		cfg    *config.Config
		prefix string
		says   string
	}{
		{cfg("1"), "", `BTC-PERP's tick 0.1, now 1`},
		{config.Default(), "qq", `--prefix "px", now "qq"`},
	} {
		if a, err := start(c.cfg, c.prefix); err == nil {
			d := req(a, subj.Depth("BTC-PERP"), `{}`)
			a.Close(context.Background())
			t.Fatalf("started on the other units (prefix %q); BTC-PERP bids %v", c.prefix, d["bids"])
		} else if !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "units.json") {
			t.Errorf("the refusal does not say %s: %v", c.says, err)
		}
	}

	if err := os.Remove(filepath.Join(dir, "units.json")); err != nil { // as an older version left it
		t.Fatal(err)
	}
	for range 2 {
		a, err := start(cfg("0.1"), "")
		if err != nil {
			t.Fatal(err)
		}
		d := req(a, subj.Depth("BTC-PERP"), `{}`)
		a.Close(context.Background())
		if bids, _ := json.Marshal(d["bids"]); string(bids) != `[["29000","0.01"]]` {
			t.Fatalf("bids %s, want 29000", bids)
		}
		if _, err := os.Stat(filepath.Join(dir, "units.json")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChangedRulesNeedACleanStop: the journal's records after the newest
// snapshot were decided under the config's rules (fees, tiers, leverage,
// funding, history), and replay decides them again: after a crash
// (no snapshot after its records) a start whose config changed a fee is
// refused, saying why and what to do; the old config starts, its clean
// stop ends the journal at a snapshot, and then the new fee starts.
// Before, the records were replayed under the new fee without a word.
func TestChangedRulesNeedACleanStop(t *testing.T) {
	dir := t.TempDir()
	cfg := func(fee string) *config.Config {
		c, err := config.Parse([]byte(`{"symbols":[{"symbol":"BTC-PERP","tick":"0.1","lot":"0.001","taker_fee":"` + fee + `"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	start := func(c *config.Config) (*app.App, error) {
		return app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", Index: "manual", Data: dir, Config: c})
	}
	a, err := start(cfg("0.0005"))
	if err != nil {
		t.Fatal(err)
	}
	nc := connect(t, a.URL())
	for _, r := range [][2]string{{"px.admin.index.BTC-PERP", `{"price":"30000"}`}, {"px.admin.deposit", `{"account":"alice","asset":"USDT","amount":"10000"}`}} {
		if m, err := nc.Request(r[0], []byte(r[1]), wait); err != nil || !strings.Contains(string(m.Data), `"ok":true`) {
			t.Fatalf("%s: %v %v", r[0], m, err)
		}
	}
	nc.Close()
	snaps := func() []string {
		f, _ := filepath.Glob(filepath.Join(dir, "snapshots", "snap-*.bin"))
		return f
	}
	crash := func(a *app.App, before []string) {
		t.Helper()
		<-a.Kill()
		// A lone exchange's Kill still snapshots at its stop (its journal
		// is local); a crash leaves none after its records.
		for _, f := range snaps() {
			if !slices.Contains(before, f) {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	crash(a, nil)
	if a, err := start(cfg("0.001")); err == nil {
		a.Close(context.Background())
		t.Fatal("started on records decided under another taker fee")
	} else if !errors.Is(err, actors.ErrRules) || !strings.Contains(err.Error(), "stop it cleanly") {
		t.Fatalf("the refusal: %v", err)
	}
	if a, err = start(cfg("0.0005")); err != nil {
		t.Fatalf("the old rules: %v", err)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := snaps()
	if a, err = start(cfg("0.001")); err != nil {
		t.Fatalf("the new rules after a clean stop: %v", err)
	}
	crash(a, before) // records under the new rules and no snapshot after them: they start again
	if a, err = start(cfg("0.001")); err != nil {
		t.Fatalf("the new rules again: %v", err)
	}
	a.Close(context.Background())
}

// TestBotsTopTheFundUp: each start with bots tops the insurance fund up to
// 100 000, not adds 100 000: a durable exchange started twice (the fund
// untouched in between: a manual index moves nothing) has 100 000 of
// fund deposits, not 200 000.
func TestBotsTopTheFundUp(t *testing.T) {
	dir := t.TempDir()
	for run := range 2 {
		logs := &logBuf{}
		e := start(t, nil, startOpts{data: dir, bots: 1, log: slog.New(slog.NewTextHandler(logs, nil))})
		eventually(t, "the fund topped up", func() error {
			if !strings.Contains(logs.String(), "insurance fund topped up") {
				return fmt.Errorf("start %d: not yet", run+1)
			}
			return nil
		})
		if a := e.audit(); !a.FundDeposits.Equal(dec("100000")) || !a.Fund.Equal(dec("100000")) {
			t.Fatalf("start %d: fund deposits %s, fund %s", run+1, a.FundDeposits, a.Fund)
		}
		if err := e.close(); err != nil {
			t.Fatal(err)
		}
	}
}
