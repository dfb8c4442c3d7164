package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/web"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// The exchange's --http listener serves the page, its config and the
// vendored libraries beside /metrics; the config says where the WebSocket
// is and that this exchange (with users) needs a login.
func TestHTTPServesPageAndConfig(t *testing.T) {
	cfg, err := config.Parse([]byte(`{"users":[{"user":"ops","password":"pw","admin":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := startExchange(t, cfg, nil, nats.UserInfo("ops", "pw"))
	resp, body := get(t, e.page+"config.json")
	var c web.Config
	if err := json.Unmarshal([]byte(body), &c); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("config.json: %d %v: %s", resp.StatusCode, err, body)
	}
	if !c.Auth || c.Prefix != "px" || c.Websocket == "" || c.Websocket != e.app.WebsocketURL() || len(c.Symbols) != 2 {
		t.Fatalf("config %+v (websocket %s)", c, e.app.WebsocketURL())
	}
	btc := c.Symbols[0]
	if btc.Symbol != "BTC-PERP" || btc.Tick.String() != "0.1" || btc.DefaultLeverage != 20 || btc.Multiplier != "10000" || btc.LiquidationSlippage.String() != "0.05" ||
		len(btc.MMTiers) != 6 || btc.MMTiers[1].Cum.String() != "250" || btc.MMTiers[1].MaxLeverage != 50 {
		t.Errorf("BTC-PERP for the page: %+v", btc)
	}
	for path, want := range map[string]string{
		"":                                     "<title>perpx",
		"js/app.js":                            "openConnection",
		"vendor/nats.js":                       "export { connect as connect }",
		"vendor/lightweight-charts.mjs":        "TradingView",
		"vendor/NOTICE.lightweight-charts.txt": "Copyright",
		"metrics":                              "perpx_mailbox_depth",
	} {
		resp, body := get(t, e.page+path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/%s: %d, %.80q lacks %q", path, resp.StatusCode, body, want)
		}
	}
}
