package loadtest

import (
	"errors"
	"testing"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

func mustSymbols(t *testing.T, in []SymbolInfo) []*symbol {
	t.Helper()
	s, err := compileSymbols(in)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFixedFormatsStepCounts(t *testing.T) {
	for _, c := range []struct {
		step string
		n    int64
		want string
	}{
		{"0.1", 300005, "30000.5"}, {"0.01", 7, "0.07"}, {"0.001", 1, "0.001"},
		{"0.5", 3, "1.5"}, {"1", 42, "42"}, {"25", 2, "50"}, {"1E1", 3, "30"}, {"0.10", 3, "0.30"},
	} {
		f, err := newFixed(decimal.RequireFromString(c.step))
		if err != nil {
			t.Fatal(err)
		}
		got := string(f.appendUnits(nil, c.n))
		if got != c.want {
			t.Errorf("%d × %s = %q, want %q", c.n, c.step, got, c.want)
		}
		if back := f.units(decimal.RequireFromString(got)); back != c.n {
			t.Errorf("units(%s) = %d, want %d", got, back, c.n)
		}
	}
	if _, err := newFixed(decimal.Zero); !errors.Is(err, ErrSymbol) {
		t.Errorf("a zero step: %v", err)
	}
}

// TestBodiesDecodeAsSent holds the hand-written encoders to the exchange's
// own strict decoder.
func TestBodiesDecodeAsSent(t *testing.T) {
	btc := mustSymbols(t, DemoSymbols())[0]
	limit := order{sym: btc, side: wire.Sell, priceTicks: 300005, lots: 12, tif: wire.GTC, postOnly: true, coid: 71}
	p, werr := wire.DecodePlace(appendPlace(nil, &limit))
	if werr != nil {
		t.Fatal(werr)
	}
	want := wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Sell, Type: wire.Limit, Price: decimal.RequireFromString("30000.5"),
		Qty: decimal.RequireFromString("0.012"), TIF: wire.GTC, PostOnly: true, ClientOrderID: "lt1z", STP: wire.DefaultSTP}
	if !p.Price.Equal(want.Price) || !p.Qty.Equal(want.Qty) {
		t.Fatalf("decoded %+v, want %+v", p, want)
	}
	p.Price, p.Qty, want.Price, want.Qty = decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
	if p != want {
		t.Fatalf("decoded %+v, want %+v", p, want)
	}

	market := order{sym: btc, side: wire.Buy, lots: 3, reduceOnly: true, coid: 1}
	p, werr = wire.DecodePlace(appendPlace(nil, &market))
	if werr != nil || p.Type != wire.Market || p.TIF != wire.IOC || !p.ReduceOnly || !p.Price.IsZero() {
		t.Fatalf("market order decoded as %+v, %v", p, werr)
	}
	stop := order{sym: btc, side: wire.Sell, stopTicks: 290005, coid: 2}
	p, werr = wire.DecodePlace(appendPlace(nil, &stop))
	if werr != nil || p.Type != wire.StopMarket || !p.ClosePosition || !p.ReduceOnly || p.TriggerBy != wire.TriggerMark ||
		!p.TriggerPrice.Equal(decimal.RequireFromString("29000.5")) || !p.Qty.IsZero() {
		t.Fatalf("stop decoded as %+v, %v", p, werr)
	}
	a, werr := wire.DecodeAmend(appendAmendPrice(nil, btc, 71, 300015))
	if werr != nil || a.Symbol != "BTC-PERP" || a.ClientOrderID != "lt1z" || !a.Price.Equal(decimal.RequireFromString("30001.5")) || !a.Qty.IsZero() {
		t.Fatalf("amend decoded as %+v, %v", a, werr)
	}

	c, werr := wire.DecodeCancel(appendCancel(nil, btc, 71))
	if werr != nil || c != (wire.Cancel{Symbol: "BTC-PERP", ClientOrderID: "lt1z"}) {
		t.Fatalf("cancel decoded as %+v, %v", c, werr)
	}
}

func TestParseSymbols(t *testing.T) {
	got, err := ParseSymbols("ETH-PERP, TEST-PERP:1:0.5:100")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "ETH-PERP" || !got[0].Tick.Equal(decimal.RequireFromString("0.01")) ||
		got[1].Name != "TEST-PERP" || !got[1].Lot.Equal(decimal.RequireFromString("0.5")) || !got[1].Price.Equal(decimal.NewFromInt(100)) {
		t.Fatalf("parsed %+v", got)
	}
	for _, bad := range []string{"NOPE-PERP", "X:1", "X:0:1", "X:1:-1", "a.b:1:1", "ETH-PERP,ETH-PERP", ""} {
		if _, err := ParseSymbols(bad); !errors.Is(err, ErrSymbol) {
			t.Errorf("ParseSymbols(%q) = %v, want ErrSymbol", bad, err)
		}
	}
}

func TestLotsForSizesByNotional(t *testing.T) {
	btc := mustSymbols(t, DemoSymbols())[0]
	if got := btc.lotsFor(1000, 300000); got != 33 { // 1000 USDT at 30000 = 0.0333 BTC
		t.Errorf("lotsFor = %d, want 33", got)
	}
	if got := btc.lotsFor(1, 300000); got != 1 {
		t.Errorf("a tiny notional still orders one lot, got %d", got)
	}
}

func TestQuoteLadderStraddlesTheMark(t *testing.T) {
	cfg := MMConfig{Levels: 3, SpreadBps: 5, StepBps: 10}.withDefaults()
	mark := int64(300000) // 30000.0 at tick 0.1
	want := map[wire.Side][]int64{wire.Buy: {299850, 299550, 299250}, wire.Sell: {300150, 300450, 300750}}
	for side, prices := range want {
		for level, p := range prices {
			if got := cfg.quoteTicks(mark, side, level); got != p {
				t.Errorf("%s level %d at %d, want %d", side, level, got, p)
			}
		}
	}
	// Coarse ticks: levels still differ and never cross the mark.
	if b0, b1 := cfg.quoteTicks(10, wire.Buy, 0), cfg.quoteTicks(10, wire.Buy, 1); b0 != 9 || b1 != 8 {
		t.Errorf("coarse bids %d, %d; want 9, 8", b0, b1)
	}
}
