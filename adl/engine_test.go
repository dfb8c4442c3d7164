package adl

import (
	"errors"
	"testing"
)

func TestEngineHoldsOneRankingPerSymbol(t *testing.T) {
	e := NewEngine()
	btc, err := e.Add(Config{Symbol: "BTC-PERP", Multiplier: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Symbol("BTC-PERP"); err != nil || got != btc {
		t.Fatalf("lookup: %p %v", got, err)
	}
	for _, c := range []struct {
		cfg  Config
		want error
	}{
		{Config{Symbol: "BTC-PERP", Multiplier: 1}, ErrDuplicateSymbol},
		{Config{Multiplier: 1}, ErrInvalidConfig},
		{Config{Symbol: "ETH-PERP"}, ErrInvalidConfig},
	} {
		if _, err := e.Add(c.cfg); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.cfg, err, c.want)
		}
	}
	if _, err := e.Symbol("ETH-PERP"); !errors.Is(err, ErrUnknownSymbol) {
		t.Fatal(err)
	}
	for s, want := range map[string]Mode{"": ModeADL, "adl": ModeADL, "socialized": ModeSocialized} {
		if m, err := ParseMode(s); err != nil || m != want || (s != "" && m.String() != s) {
			t.Errorf("ParseMode(%q) = %v, %v", s, m, err)
		}
	}
}
