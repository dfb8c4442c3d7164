package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

func TestDefault(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	syms, err := c.Compile()
	if err != nil || len(syms) != 2 {
		t.Fatalf("compile: %v, %d symbols", err, len(syms))
	}
	want := map[string][2]string{"BTC-PERP": {"0.1", "0.001"}, "ETH-PERP": {"0.01", "0.01"}}
	for _, s := range syms {
		w := want[s.Name]
		if s.TickSize.String() != w[0] || s.LotSize.String() != w[1] || s.Quote != "USDT" || s.MaxLeverage != 100 {
			t.Errorf("%s: tick %s lot %s quote %s maxlev %d", s.Name, s.TickSize, s.LotSize, s.Quote, s.MaxLeverage)
		}
	}
	if c.MarginMode != "cross" || c.Users != nil || c.RateLimit != DefaultRateLimit {
		t.Fatalf("defaults: %+v", c)
	}
}

// apiExample is API.md's config example plus users.
const apiExample = `{"symbols":[{"symbol":"TEST-PERP","quote":"USDT","tick":"1","lot":"1","min_notional":"0",
  "max_leverage":"100","mm_tiers":[{"max_notional":"1000000000","mmr":"0.01"}],
  "maker_fee":"0","taker_fee":"0","liquidation_fee":"0","price_band":"0.5",
  "funding_interval_s":28800,"funding":false}],
 "margin_mode":"cross",
 "users":[{"user":"alice","password":"s3cret","account":"alice"},
          {"user":"ops","password":"root-pw","admin":true}],
 "rate_limit":{"orders_per_s":5}}`

func TestParseAPIExample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "perpx.json")
	if err := os.WriteFile(path, []byte(apiExample), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Symbols) != 1 || c.Symbols[0].Symbol != "TEST-PERP" || c.Symbols[0].Funding == nil || *c.Symbols[0].Funding {
		t.Fatalf("symbols: %+v", c.Symbols)
	}
	if len(c.Users) != 2 || c.Users[0] != (User{User: "alice", Password: "s3cret", Account: "alice"}) || !c.Users[1].Admin {
		t.Fatalf("users: %+v", c.Users)
	}
	if c.RateLimit.OrdersPerS != 5 || c.RateLimit.Burst != 0 || c.RateLimit.BucketSize() != 5 || !c.RateLimit.Enabled() {
		t.Fatalf("rate limit: %+v", c.RateLimit)
	}
	c2, err := Parse([]byte(`{"symbols":[{"symbol":"MIN"}],"rate_limit":{"orders_per_s":0}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c2.RateLimit.Enabled() || c2.MarginMode != "cross" || len(c2.Symbols) != 1 {
		t.Fatalf("minimal config: %+v", c2)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestParseMarginMode(t *testing.T) {
	for _, mode := range []string{MarginCross, MarginIsolated} {
		c, err := Parse([]byte(`{"margin_mode":"` + mode + `"}`))
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if c.MarginMode != mode {
			t.Fatalf("%s: parsed as %q", mode, c.MarginMode)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", mode, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	pub := func() string {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		p, _ := kp.PublicKey()
		return p
	}()
	acctKey, _ := nkeys.CreateAccount()
	acctPub, _ := acctKey.PublicKey()
	cases := []struct{ in, want string }{
		{`not json`, "invalid character"},
		{`{"symbols":[]}`, "at least one symbol"},
		{`{"symbols":[{"symbol":"A"}]} {}`, "trailing data"},
		{`{"symbol":[{"symbol":"A"}]}`, `unknown field "symbol"`},
		{`{"symbols":[{"symbol":"A","tik":"1"}]}`, `symbols[0]: unknown field "tik"`},
		{`{"symbols":[{"symbol":"A","mm_tiers":[{"max_notional":"1","mrr":"0.1"}]}]}`, `unknown field "mrr"`},
		{`{"symbols":[{"symbol":"A"},{"symbol":"B"},{"symbol":"A"}]}`, `symbols[2]: "A" duplicates symbols[0]`},
		{`{"symbols":[{"symbol":"btc"},{"symbol":"BTC"}]}`, "duplicates"},
		{`{"symbols":[{"symbol":"A.B"}]}`, "symbols[0]"},
		{`{"symbols":[{"symbol":"A","tick":"-1"}]}`, "tick"},
		{`{"symbols":[{"symbol":"A","tick":"abc"}]}`, "symbols[0]"},
		{`{"symbols":[{"symbol":"A","max_leverage":"5000"}]}`, "max_leverage"},
		{`{"symbols":[{"symbol":"A","liquidation_slippage":"1"}]}`, "A: liquidation_slippage: must be in [0, 1)"},
		{`{"symbols":[{"symbol":"A","liquidation_slippage":"-0.05"}]}`, "liquidation_slippage"},
		{`{"margin_mode":"portfolio"}`, "margin_mode"},
		{`{"margin_mode":"Isolated"}`, "margin_mode"},
		{`{"rate_limit":{"orders_per_s":-1}}`, "rate_limit"},
		{`{"rate_limit":{"orders_per_s":1,"burts":3}}`, `unknown field "burts"`},
		{`{"history":{"recent_trades":1001}}`, "history.recent_trades 1001"},
		{`{"history":{"account_orders":-1}}`, "history.account_orders -1"},
		{`{"history":{"candle_dayz":3}}`, `history: unknown field "candle_dayz"`},
		{`{"users":[{"user":"a","password":"p","account":"a","role":"x"}]}`, `users[0]: unknown field "role"`},
		{`{"users":[{"user":"a.b","password":"p","account":"a"}]}`, "user must be"},
		{`{"users":[{"user":"a","account":"a"}]}`, "exactly one of password and nkey"},
		{`{"users":[{"user":"a","password":"p","nkey":"` + pub + `","account":"a"}]}`, "exactly one"},
		{`{"users":[{"user":"a","nkey":"` + acctPub + `","account":"a"}]}`, "user public key"},
		{`{"users":[{"user":"a","nkey":"Uxyz","account":"a"}]}`, "user public key"},
		{`{"users":[{"user":"a","nkey":"` + pub + `","account":"a"},{"user":"b","nkey":"` + pub + `","account":"b"}]}`, "nkey already used"},
		{`{"users":[{"user":"a","password":"p"}]}`, "needs an account"},
		{`{"users":[{"user":"a","password":"p","account":"x y"}]}`, "account must be"},
		{`{"users":[{"user":"a","password":"p","account":"a"},{"user":"a","password":"q","account":"b"}]}`, "duplicate user"},
		{`{"users":[{"user":"a","password":"p","account":"a","api_key":"key0123456789abc","api_secret":"short"}]}`, "api_secret at least 32"},
		{`{"users":[{"user":"a","password":"p","account":"a","api_key":"k","api_secret":"` + strings.Repeat("s", 32) + `"}]}`, "api_key must have at least 16"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.in))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.70s: got %v, want ErrInvalid containing %q", c.in, err, c.want)
		}
	}
	if c, err := Parse([]byte(`{"history":{"candle_days":7,"account_fills":5000}}`)); err != nil ||
		c.History != (History{CandleDays: 7, AccountFills: 5000}) {
		t.Errorf("history: %+v, %v", c, err)
	}
	// An omitted slippage is the default; a given 0 stays 0 (liquidations
	// trade only at the bankruptcy price or better).
	if c, err := Parse([]byte(`{"symbols":[{"symbol":"A"},{"symbol":"B","liquidation_slippage":"0"},{"symbol":"C","liquidation_slippage":"0.2"}]}`)); err != nil {
		t.Errorf("liquidation_slippage: %v", err)
	} else if syms, err := c.Compile(); err != nil || syms[0].LiquidationSlippage.String() != "0.05" ||
		syms[1].LiquidationSlippage != 0 || syms[2].LiquidationSlippage.String() != "0.2" {
		t.Errorf("liquidation_slippage compiled %v: %+v", err, syms)
	}
	ok := `{"users":[{"user":"a","nkey":"` + pub + `","account":"a"},{"user":"ops","password":"p","admin":true}]}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("nkey user and admin without account rejected: %v", err)
	}
}
