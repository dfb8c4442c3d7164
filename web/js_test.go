package web_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/web"
)

// The page's pure modules (the order preview, the book, the decimals) under
// node's test runner, on symbols compiled by the exchange's own config code.
func TestPageModules(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node is not installed: the page's module tests skipped")
	}
	cfg, err := config.Parse([]byte(`{"symbols":[
		{"symbol":"SEED","tick":"1","lot":"1","min_notional":"0","max_leverage":"100","maker_fee":"0","taker_fee":"0",
		 "mm_tiers":[{"max_notional":"3000","mmr":"0.03"},{"max_notional":"1000000000","mmr":"0.10"}]},
		{"symbol":"ISO","tick":"0.01","lot":"1","min_notional":"0","max_leverage":"100","maker_fee":"0","taker_fee":"0",
		 "mm_tiers":[{"max_notional":"1000000000","mmr":"0.004"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	inverse, err := config.Parse([]byte(`{"symbols":[{"symbol":"XBTUSD","quote":"USD","contract":"inverse","settle":"BTC","tick":"0.5","lot":"1",
		"max_leverage":"100","mm_tiers":[{"max_notional":"10","mmr":"0.005"},{"max_notional":"1000","mmr":"0.01"}],
		"maker_fee":"0","taker_fee":"0","liquidation_fee":"0"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var syms []web.Symbol
	for _, c := range []*config.Config{cfg, inverse, config.Default()} {
		compiled, err := c.Compile()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range compiled {
			syms = append(syms, web.SymbolOf(s))
		}
	}
	fixtures, err := json.Marshal(syms)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--test", "jstest/")
	cmd.Env = append(os.Environ(), "PERPX_SYMBOLS="+string(fixtures))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# fail 0") {
		t.Fatalf("node --test:\n%s", out)
	}
	t.Logf("%s", out)
}
