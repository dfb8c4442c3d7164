package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
