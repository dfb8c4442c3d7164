package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// ErrInvalid is wrapped by every error Parse and Validate return.
var ErrInvalid = errors.New("config: invalid")

// The values of margin_mode, the margin mode of every account's positions
// (risk.Cross, risk.Isolated).
const (
	// MarginCross: the account's whole balance backs all its positions.
	MarginCross = "cross"
	// MarginIsolated: each position is backed by its own margin only.
	MarginIsolated = "isolated"
)

// DefaultRateLimit applies when the file has no rate_limit: generous enough
// for a market maker, low enough that one runaway client cannot starve a
// book.
var DefaultRateLimit = RateLimit{OrdersPerS: 1000, Burst: 1000}

// Config is the whole config file.
type Config struct {
	Symbols    []market.SymbolConfig `json:"symbols"`
	MarginMode string                `json:"margin_mode"`
	Users      []User                `json:"users,omitempty"`
	RateLimit  RateLimit             `json:"rate_limit"`
	History    History               `json:"history"`
	// Binance configures the Binance-compatible HTTP face (package binance).
	Binance Binance `json:"binance,omitzero"`
}

// Binance configures the Binance USDⓈ-M futures face: Symbols maps an
// exchange symbol to its Binance name ("BTC-PERP": "BTCUSDT"); a symbol
// left out gets BinanceSymbol's default.
type Binance struct {
	Symbols map[string]string `json:"symbols,omitempty"`
}

// BinanceSymbol is the Binance name of the exchange symbol name settled in
// settle: the configured one, else name without "-PERP" and its other
// non-alphanumerics, upper-cased, with settle appended unless it already
// ends so (BTC-PERP settled in USDT is BTCUSDT).
func (c *Config) BinanceSymbol(name, settle string) string {
	if b, ok := c.Binance.Symbols[name]; ok {
		return b
	}
	base := strings.ToUpper(strings.TrimSuffix(strings.ToUpper(name), "-PERP"))
	base = strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, base)
	if !strings.HasSuffix(base, settle) {
		base += settle
	}
	return base
}

// History is how much history the exchange keeps for its reads (candles,
// trades, funding, open interest, the insurance fund's events, accounts'
// closed orders and fills); a field left out (0) takes its default.
type History struct {
	CandleDays       int `json:"candle_days,omitempty"`        // 1-minute candles (30)
	RecentTrades     int `json:"recent_trades,omitempty"`      // trades per symbol (1000, at most 1000)
	FundingEvents    int `json:"funding_events,omitempty"`     // funding events per symbol (3285)
	OpenInterestDays int `json:"open_interest_days,omitempty"` // 5-minute samples (30)
	FundEvents       int `json:"fund_events,omitempty"`        // insurance-fund events (1000)
	FundDays         int `json:"fund_days,omitempty"`          // UTC days of fund.daily totals (400)
	AccountOrders    int `json:"account_orders,omitempty"`     // closed orders per account (1000)
	AccountFills     int `json:"account_fills,omitempty"`      // fills per account (1000)
	AccountIncome    int `json:"account_income,omitempty"`     // income rows per account (1000)
}

// User is one NATS login of the embedded server.
type User struct {
	User     string `json:"user"`
	Password string `json:"password,omitempty"`
	NKey     string `json:"nkey,omitempty"`
	Account  string `json:"account,omitempty"`
	Admin    bool   `json:"admin,omitempty"`
	// APIKey and APISecret let the account's bots sign Binance-style HTTP
	// requests (package binance): X-MBX-APIKEY names the key, the secret
	// keys the HMAC-SHA256 signature. Both or neither; traders only.
	APIKey    string `json:"api_key,omitempty"`
	APISecret string `json:"api_secret,omitempty"`
}

// MaxAPIKeyLen bounds api_key and api_secret (Binance's are 64 characters).
const MaxAPIKeyLen = 128

// MinAPIKeyLen and MinAPISecretLen are the shortest api_key and api_secret
// a user may have: a secret is an HMAC key that a captured signed request
// lets anyone guess offline, so it needs 32 random characters at least
// (Binance's are 64); a key names the user in every request.
const (
	MinAPIKeyLen    = 16
	MinAPISecretLen = 32
)

// ValidAPIKey reports whether s has an API key's form: 1-MaxAPIKeyLen
// characters of [A-Za-z0-9_-].
func ValidAPIKey(s string) bool {
	return len(s) > 0 && len(s) <= MaxAPIKeyLen && strings.Trim(s, keyChars) == ""
}

const keyChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

// RateLimit is a per-account token bucket for order requests.
type RateLimit struct {
	OrdersPerS float64 `json:"orders_per_s"`
	Burst      int     `json:"burst"`
}

// Enabled reports whether requests are limited at all.
func (r RateLimit) Enabled() bool { return r.OrdersPerS > 0 }

// BucketSize is Burst, or one second's worth of orders (at least 1) when
// Burst is 0.
func (r RateLimit) BucketSize() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return max(1, int(math.Ceil(r.OrdersPerS)))
}

// Demo returns the demo symbols BTC-PERP (tick 0.1, lot 0.001) and ETH-PERP
// (tick 0.01, lot 0.01); the values are market.DemoConfigs', documented there.
func Demo() []market.SymbolConfig { return market.DemoConfigs() }

// Default is the config used without a file: demo symbols, cross margin, no
// authorization, DefaultRateLimit.
func Default() *Config {
	return &Config{Symbols: Demo(), MarginMode: MarginCross, RateLimit: DefaultRateLimit}
}

// Load reads and parses the file at path; "" means Default.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// file mirrors Config with the parts whose absence matters left raw.
type file struct {
	Symbols    []json.RawMessage `json:"symbols"`
	MarginMode string            `json:"margin_mode"`
	Users      []json.RawMessage `json:"users"`
	RateLimit  *RateLimit        `json:"rate_limit"`
	History    json.RawMessage   `json:"history"`
	Binance    json.RawMessage   `json:"binance"`
}

// Parse decodes a config file, applies defaults and validates it.
func Parse(data []byte) (*Config, error) {
	var f file
	if err := strict(data, &f); err != nil {
		return nil, invalid("%v", err)
	}
	c := &Config{MarginMode: f.MarginMode, RateLimit: DefaultRateLimit}
	if c.MarginMode == "" {
		c.MarginMode = MarginCross
	}
	if f.RateLimit != nil {
		c.RateLimit = *f.RateLimit
	}
	if f.Symbols == nil {
		c.Symbols = Demo()
	}
	if f.History != nil {
		if err := strict(f.History, &c.History); err != nil {
			return nil, invalid("history: %v", err)
		}
	}
	for i, raw := range f.Symbols {
		var s market.SymbolConfig
		if err := strict(raw, &s); err != nil {
			return nil, invalid("symbols[%d]: %v", i, err)
		}
		c.Symbols = append(c.Symbols, s)
	}
	for i, raw := range f.Users {
		var u User
		if err := strict(raw, &u); err != nil {
			return nil, invalid("users[%d]: %v", i, err)
		}
		c.Users = append(c.Users, u)
	}
	if f.Binance != nil {
		if err := strict(f.Binance, &c.Binance); err != nil {
			return nil, invalid("binance: %v", err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// strict decodes one JSON value into v, refusing unknown fields (a typo must
// not silently become a default) and trailing data.
func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks c as Parse does; use it on a Config built in code.
func (c *Config) Validate() error {
	if c.MarginMode != MarginCross && c.MarginMode != MarginIsolated {
		return invalid("margin_mode %q: must be %q or %q", c.MarginMode, MarginCross, MarginIsolated)
	}
	if _, err := c.Compile(); err != nil {
		return err
	}
	if err := validateUsers(c.Users); err != nil {
		return err
	}
	if err := c.History.validate(); err != nil {
		return err
	}
	if err := c.validateBinance(); err != nil {
		return err
	}
	r := c.RateLimit
	if math.IsNaN(r.OrdersPerS) || math.IsInf(r.OrdersPerS, 0) || r.OrdersPerS < 0 || r.Burst < 0 {
		return invalid("rate_limit: orders_per_s and burst must be finite and not negative")
	}
	return nil
}

// Compile compiles every symbol, in file order.
func (c *Config) Compile() ([]*market.Symbol, error) {
	if len(c.Symbols) == 0 {
		return nil, invalid("symbols: at least one symbol is needed")
	}
	out := make([]*market.Symbol, len(c.Symbols))
	seen := map[string]int{}
	for i, sc := range c.Symbols {
		s, err := sc.Compile()
		if err != nil {
			return nil, invalid("symbols[%d]: %v", i, err)
		}
		// Case-insensitive: BTC-PERP and btc-perp side by side can only confuse.
		key := strings.ToUpper(s.Name)
		if j, dup := seen[key]; dup {
			return nil, invalid("symbols[%d]: %q duplicates symbols[%d]", i, s.Name, j)
		}
		seen[key] = i
		out[i] = s
	}
	return out, nil
}

func validateUsers(users []User) error {
	names := map[string]bool{}
	keys := map[string]bool{}
	apiKeys := map[string]bool{}
	for i, u := range users {
		at := fmt.Sprintf("users[%d] %q", i, u.User)
		switch {
		case !wire.ValidToken(u.User):
			return invalid("%s: user must be 1-%d characters of [A-Za-z0-9_-] (it names the user's reply inbox)", at, wire.MaxTokenLen)
		case names[u.User]:
			return invalid("%s: duplicate user", at)
		case (u.Password == "") == (u.NKey == ""):
			return invalid("%s: give exactly one of password and nkey", at)
		case u.NKey != "" && !nkeys.IsValidPublicUserKey(u.NKey):
			return invalid("%s: nkey is not a user public key (U...)", at)
		case keys[u.NKey] && u.NKey != "":
			return invalid("%s: nkey already used by another user", at)
		case u.Account == "" && !u.Admin:
			return invalid("%s: a trader needs an account", at)
		case u.Account != "" && !wire.ValidToken(u.Account):
			return invalid("%s: account must be 1-%d characters of [A-Za-z0-9_-]", at, wire.MaxTokenLen)
		case (u.APIKey == "") != (u.APISecret == ""):
			return invalid("%s: give both api_key and api_secret, or neither", at)
		case u.APIKey != "" && (!ValidAPIKey(u.APIKey) || !ValidAPIKey(u.APISecret)):
			return invalid("%s: api_key and api_secret must be 1-%d characters of [A-Za-z0-9_-]", at, MaxAPIKeyLen)
		case u.APIKey != "" && (len(u.APIKey) < MinAPIKeyLen || len(u.APISecret) < MinAPISecretLen):
			return invalid("%s: api_key must have at least %d characters and api_secret at least %d (random ones: the secret signs every order)",
				at, MinAPIKeyLen, MinAPISecretLen)
		case u.APIKey != "" && u.Account == "":
			return invalid("%s: an api_key trades for an account: give the user one", at)
		case apiKeys[u.APIKey] && u.APIKey != "":
			return invalid("%s: api_key already used by another user", at)
		}
		names[u.User] = true
		keys[u.NKey] = true
		apiKeys[u.APIKey] = true
	}
	return nil
}

// validateBinance checks the Binance symbol names: each maps a configured
// symbol, and no two symbols share a name.
func (c *Config) validateBinance() error {
	known := map[string]bool{}
	for _, s := range c.Symbols {
		known[s.Symbol] = true
	}
	for name, b := range c.Binance.Symbols {
		if !known[name] {
			return invalid("binance.symbols: %q is not a configured symbol", name)
		}
		if !ValidAPIKey(b) || strings.ContainsAny(b, "_-") {
			return invalid("binance.symbols: %q for %s must be letters and digits", b, name)
		}
	}
	syms, err := c.Compile()
	if err != nil {
		return err
	}
	seen := map[string]string{}
	for _, s := range syms {
		b := strings.ToUpper(c.BinanceSymbol(s.Name, s.Settle))
		if other, dup := seen[b]; dup {
			return invalid("binance.symbols: %s and %s would both be %s", other, s.Name, b)
		}
		seen[b] = s.Name
	}
	return nil
}

func (h History) validate() error {
	for _, f := range []struct {
		name   string
		v, max int
	}{{"candle_days", h.CandleDays, 3650}, {"recent_trades", h.RecentTrades, wire.MaxRecentTrades},
		{"funding_events", h.FundingEvents, 100_000}, {"open_interest_days", h.OpenInterestDays, 3650},
		{"fund_events", h.FundEvents, 1_000_000}, {"fund_days", h.FundDays, 36_500}, {"account_orders", h.AccountOrders, 100_000},
		{"account_fills", h.AccountFills, 100_000}, {"account_income", h.AccountIncome, 100_000}} {
		if f.v < 0 || f.v > f.max {
			return invalid("history.%s %d: must be 0 (the default) to %d", f.name, f.v, f.max)
		}
	}
	return nil
}
