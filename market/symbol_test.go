package market

import (
	"errors"
	"strings"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestDemoSymbols(t *testing.T) {
	syms := DemoSymbols()
	if len(syms) != 2 {
		t.Fatalf("got %d demo symbols", len(syms))
	}
	btc, eth := syms[0], syms[1]
	for _, c := range []struct {
		s         *Symbol
		name      string
		tick, lot string
		maxPrice  book.Ticks
		maxQty    book.Lots
	}{
		{btc, "BTC-PERP", "0.1", "0.001", 10_000_000, 1_000_000}, // 1M USDT, 1000 BTC
		{eth, "ETH-PERP", "0.01", "0.01", 10_000_000, 1_000_000}, // 100k USDT, 10000 ETH
	} {
		s := c.s
		if s.Name != c.name || !s.TickSize.Equal(d(c.tick)) || !s.LotSize.Equal(d(c.lot)) {
			t.Errorf("%s: got %s tick %s lot %s", c.name, s.Name, s.TickSize, s.LotSize)
		}
		if s.Multiplier != 10_000 { // 0.1×0.001 = 0.01×0.01 = 0.0001 USDT
			t.Errorf("%s multiplier %d", c.name, s.Multiplier)
		}
		if s.MaxPrice != c.maxPrice || s.MaxQty != c.maxQty {
			t.Errorf("%s max price %d qty %d", c.name, s.MaxPrice, s.MaxQty)
		}
		if s.MaxLeverage != 100 || s.Tiers[0].MaxLeverage != 100 || s.TakerFee != 50_000 || s.MakerFee != 20_000 ||
			s.LiquidationFee != 500_000 || s.PriceBand != 10_000_000 || s.FundingIntervalMs != 28_800_000 ||
			!s.Funding || s.ADL != ADLRanked || s.Quote != "USDT" || s.Kind != Linear {
			t.Errorf("%s defaults: %+v", c.name, s)
		}
		if s.InterestRate != 10_000 || s.PremiumClamp != 50_000 || s.FundingCap != 375_000 {
			t.Errorf("%s funding params %d %d %d", c.name, s.InterestRate, s.PremiumClamp, s.FundingCap)
		}
		if v := s.Value(s.MaxPrice, s.MaxQty); v > MaxNotionalCap {
			t.Errorf("%s max value %d", c.name, v)
		}
	}
	// BTC tiers: cum continuous, leverage 1/(2 mmr).
	want := []Tier{
		{5_000_000_000_000, 500_000, 0, 100},
		{25_000_000_000_000, 1_000_000, 25_000_000_000, 50},   // 50k × 0.005 = 250
		{100_000_000_000_000, 2_500_000, 400_000_000_000, 20}, // + 250k × 0.015 = 4000
		{1_000_000_000_000_000, 5_000_000, 2_900_000_000_000, 10},
		{10_000_000_000_000_000, 10_000_000, 52_900_000_000_000, 5},
		{100_000_000_000_000_000, 12_500_000, 302_900_000_000_000, 4},
	}
	for i, w := range want {
		if btc.Tiers[i] != w {
			t.Errorf("BTC tier %d = %+v, want %+v", i, btc.Tiers[i], w)
		}
	}
}

func TestMaintenanceMarginContinuous(t *testing.T) {
	s := DemoSymbols()[0]
	for i := 0; i+1 < len(s.Tiers); i++ {
		b := s.Tiers[i].MaxNotional
		lo, hi := s.MaintenanceMargin(b), s.MaintenanceMargin(b+1)
		if hi < lo || hi-lo > 1 {
			t.Errorf("tier %d boundary %d: MM %d then %d", i, b, lo, hi)
		}
	}
	// 100k USDT notional: tier 1 (0.01, cum 250) → 1000 − 250 = 750 USDT.
	if mm := s.MaintenanceMargin(100_000 * MoneyScale); mm != 750*MoneyScale {
		t.Errorf("MM(100k) = %s", mm)
	}
	if mm := s.MaintenanceMargin(0); mm != 0 {
		t.Errorf("MM(0) = %s", mm)
	}
}

func TestCompileDefaults(t *testing.T) {
	s, err := SymbolConfig{Symbol: "TEST-PERP"}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if !s.TickSize.Equal(decOne) || !s.LotSize.Equal(decOne) || s.Multiplier != MoneyScale ||
		s.MaxLeverage != 100 || len(s.Tiers) != 1 || s.Tiers[0].MMR != 1_000_000 || s.Tiers[0].MaxLeverage != 50 ||
		s.PriceBand != 50_000_000 || s.FundingIntervalMs != 28_800_000 || !s.Funding || s.MaxPrice != 100_000 || s.MaxQty != 10_000 ||
		s.MaxOpenOrders != DefaultMaxOpenOrders || s.LiquidationSlippage != 5_000_000 {
		t.Errorf("defaults: %+v", s)
	}
	off, zero := false, d("0")
	s, err = SymbolConfig{Symbol: "X", Funding: &off, MaxPrice: d("1000000"), FundingIntervalS: 3600, MaxOpenOrders: 5,
		LiquidationSlippage: &zero}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if s.Funding || s.MaxPrice != 1_000_000 || s.MaxQty != 1000 || s.InterestRate != 1250 || s.MaxOpenOrders != 5 || s.LiquidationSlippage != 0 {
		t.Errorf("explicit: funding %v max %d/%d interest %d open orders %d slippage %d", s.Funding, s.MaxPrice, s.MaxQty, s.InterestRate, s.MaxOpenOrders, s.LiquidationSlippage)
	}
}

func TestCompileErrors(t *testing.T) {
	ptr := func(v decimal.Decimal) *decimal.Decimal { return &v }
	tier := func(n, r string) []TierConfig { return []TierConfig{{MaxNotional: d(n), MMR: d(r)}} }
	cases := []struct {
		name  string
		c     SymbolConfig
		field string
	}{
		{"empty name", SymbolConfig{}, "symbol"},
		{"dot in name", SymbolConfig{Symbol: "BTC.PERP"}, "symbol"},
		{"long name", SymbolConfig{Symbol: strings.Repeat("A", 33)}, "symbol"},
		{"bad quote", SymbolConfig{Symbol: "A", Quote: "US DT"}, "quote"},
		{"inverse without its coin", SymbolConfig{Symbol: "A", Kind: "inverse"}, "settle"},
		{"inverse settling in its quote", SymbolConfig{Symbol: "A", Contract: "inverse", Settle: "USDT"}, "settle"},
		{"linear settling elsewhere", SymbolConfig{Symbol: "A", Settle: "BTC"}, "settle"},
		{"linear with a contract size", SymbolConfig{Symbol: "A", ContractSize: d("1")}, "contract_size"},
		{"inverse lot below a satoshi", SymbolConfig{Symbol: "A", Contract: "inverse", Settle: "BTC", Tick: d("1e12"), Lot: d("1")}, "lot×contract_size/tick"},
		{"unknown kind", SymbolConfig{Symbol: "A", Kind: "quanto"}, "kind"},
		{"negative tick", SymbolConfig{Symbol: "A", Tick: d("-0.1")}, "tick"},
		{"negative lot", SymbolConfig{Symbol: "A", Lot: d("-1")}, "lot"},
		{"tick with 19 decimals", SymbolConfig{Symbol: "A", Tick: d("1e-19"), Lot: d("1e12")}, "tick"},
		{"lot with 19 decimals", SymbolConfig{Symbol: "A", Lot: d("1e-19"), Tick: d("1e12")}, "lot"},
		{"tick×lot below 1e-8", SymbolConfig{Symbol: "A", Tick: d("0.00001"), Lot: d("0.0001")}, "tick×lot"},
		{"tick×lot huge", SymbolConfig{Symbol: "A", Tick: d("1e10"), Lot: d("1")}, "tick×lot"},
		{"max price not tick", SymbolConfig{Symbol: "A", Tick: d("0.5"), MaxPrice: d("100.2")}, "max_price"},
		{"max price too big", SymbolConfig{Symbol: "A", MaxPrice: d("1e18")}, "max_price"},
		{"max qty too big", SymbolConfig{Symbol: "A", MaxPrice: d("100000"), MaxQty: d("100000")}, "max_price×max_qty"},
		{"max qty not lot", SymbolConfig{Symbol: "A", Lot: d("0.1"), MaxQty: d("1.05")}, "max_qty"},
		{"negative min notional", SymbolConfig{Symbol: "A", MinNotional: d("-1")}, "min_notional"},
		{"min notional 9 decimals", SymbolConfig{Symbol: "A", MinNotional: d("0.000000001")}, "min_notional"},
		{"fractional leverage", SymbolConfig{Symbol: "A", MaxLeverage: d("2.5")}, "max_leverage"},
		{"leverage too high", SymbolConfig{Symbol: "A", MaxLeverage: d("1001")}, "max_leverage"},
		{"negative open orders cap", SymbolConfig{Symbol: "A", MaxOpenOrders: -1}, "max_open_orders"},
		{"open orders cap too high", SymbolConfig{Symbol: "A", MaxOpenOrders: MaxOpenOrdersCap + 1}, "max_open_orders"},
		{"zero mmr", SymbolConfig{Symbol: "A", MMTiers: tier("1000", "0")}, "mm_tiers[0].mmr"},
		{"mmr above half", SymbolConfig{Symbol: "A", MMTiers: tier("1000", "0.6")}, "mm_tiers[0].mmr"},
		{"tier notional zero", SymbolConfig{Symbol: "A", MMTiers: tier("0", "0.01")}, "mm_tiers[0].max_notional"},
		{"tiers not ascending", SymbolConfig{Symbol: "A", MMTiers: []TierConfig{
			{MaxNotional: d("1000"), MMR: d("0.01")}, {MaxNotional: d("1000"), MMR: d("0.02")}}}, "mm_tiers[1].max_notional"},
		{"mmr falling", SymbolConfig{Symbol: "A", MMTiers: []TierConfig{
			{MaxNotional: d("1000"), MMR: d("0.02")}, {MaxNotional: d("2000"), MMR: d("0.01")}}}, "mm_tiers[1].mmr"},
		{"inexact cum", SymbolConfig{Symbol: "A", MMTiers: []TierConfig{
			{MaxNotional: d("0.00000001"), MMR: d("0.01")}, {MaxNotional: d("2000"), MMR: d("0.02")}}}, "mm_tiers[1]"},
		{"tier leverage ≥ 1/mmr", SymbolConfig{Symbol: "A", MMTiers: []TierConfig{
			{MaxNotional: d("1000"), MMR: d("0.01"), MaxLeverage: d("100")}}}, "mm_tiers[0].max_leverage"},
		{"tier leverage rising", SymbolConfig{Symbol: "A", MMTiers: []TierConfig{
			{MaxNotional: d("1000"), MMR: d("0.01"), MaxLeverage: d("10")},
			{MaxNotional: d("2000"), MMR: d("0.01"), MaxLeverage: d("20")}}}, "mm_tiers[1].max_leverage"},
		{"taker fee", SymbolConfig{Symbol: "A", TakerFee: d("0.2")}, "taker_fee"},
		{"maker rebate above taker", SymbolConfig{Symbol: "A", TakerFee: d("0.0001"), MakerFee: d("-0.0002")}, "maker_fee"},
		{"liquidation fee", SymbolConfig{Symbol: "A", LiquidationFee: d("-0.01")}, "liquidation_fee"},
		{"band ≥ 1", SymbolConfig{Symbol: "A", PriceBand: d("1")}, "price_band"},
		{"band negative", SymbolConfig{Symbol: "A", PriceBand: d("-0.1")}, "price_band"},
		{"slippage 1", SymbolConfig{Symbol: "A", LiquidationSlippage: ptr(d("1"))}, "liquidation_slippage"},
		{"slippage negative", SymbolConfig{Symbol: "A", LiquidationSlippage: ptr(d("-0.01"))}, "liquidation_slippage"},
		{"slippage 9 decimals", SymbolConfig{Symbol: "A", LiquidationSlippage: ptr(d("0.000000001"))}, "liquidation_slippage"},
		{"funding interval short", SymbolConfig{Symbol: "A", FundingIntervalS: 59}, "funding_interval_s"},
		{"funding interval negative", SymbolConfig{Symbol: "A", FundingIntervalS: -1}, "funding_interval_s"},
		{"adl mode", SymbolConfig{Symbol: "A", ADLMode: "none"}, "adl_mode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.c.Compile()
			if err == nil || s != nil {
				t.Fatalf("no error: %+v", s)
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), ": "+c.field+": ") {
				t.Fatalf("error %q does not name field %q", err, c.field)
			}
		})
	}
}

func TestConversions(t *testing.T) {
	btc := DemoSymbols()[0]
	good := []struct {
		price string
		ticks book.Ticks
	}{{"30000.5", 300_005}, {"0.1", 1}, {"30000.50000", 300_005}, {"1000000", 10_000_000}}
	for _, g := range good {
		tk, err := btc.PriceToTicks(d(g.price))
		if err != nil || tk != g.ticks {
			t.Errorf("PriceToTicks(%s) = %d, %v", g.price, tk, err)
		}
		if !btc.Price(tk).Equal(d(g.price)) {
			t.Errorf("Price(%d) = %s", tk, btc.Price(tk))
		}
	}
	bad := []struct {
		price string
		err   error
	}{
		{"30000.55", ErrNotTickMultiple}, {"0.05", ErrNotTickMultiple}, {"0", ErrPriceRange},
		{"-0.1", ErrPriceRange}, {"1000000.1", ErrPriceRange}, {"1e30", ErrPriceRange},
		{"1e-9000", ErrNotTickMultiple},
	}
	for _, b := range bad {
		if _, err := btc.PriceToTicks(d(b.price)); !errors.Is(err, b.err) {
			t.Errorf("PriceToTicks(%s) error %v, want %v", b.price, err, b.err)
		}
	}
	if _, err := btc.PriceToTicks(decimal.New(3, -1_000_000)); !errors.Is(err, ErrNotTickMultiple) {
		t.Errorf("tiny exponent: %v", err)
	}
	if l, err := btc.QtyToLots(d("0.010")); err != nil || l != 10 {
		t.Errorf("QtyToLots(0.010) = %d, %v", l, err)
	}
	if _, err := btc.QtyToLots(d("0.0015")); !errors.Is(err, ErrNotLotMultiple) {
		t.Errorf("QtyToLots(0.0015) error %v", err)
	}
	if _, err := btc.QtyToLots(d("1000.001")); !errors.Is(err, ErrQtyRange) {
		t.Errorf("QtyToLots over max: %v", err)
	}
	if _, err := btc.QtyToLots(d("0")); !errors.Is(err, ErrQtyRange) {
		t.Errorf("QtyToLots(0): %v", err)
	}
	if q := btc.Qty(1234); !q.Equal(d("1.234")) {
		t.Errorf("Qty(1234) = %s", q)
	}
	// Entry price of 0.003 BTC worth 90001.5 USDT... 3 lots at avg 30000.5
	if p := btc.PriceOf(btc.Value(300_005, 3), 3); !p.Equal(d("30000.5")) {
		t.Errorf("PriceOf = %s", p)
	}
	if p := btc.PriceOf(btc.Value(300_005, 1)+btc.Value(300_006, 2), -3); !p.Equal(d("30000.566666667")) {
		t.Errorf("PriceOf avg = %s", p)
	}
}

func TestValueAndBand(t *testing.T) {
	eth := DemoSymbols()[1]
	// 2.5 ETH at 3000.25 = 7500.625 USDT
	if v := eth.Value(300_025, 250); v.Decimal().String() != "7500.625" {
		t.Errorf("Value = %s", v)
	}
	if v := eth.Value(300_025, -250); v != -eth.Notional(300_025, -250) {
		t.Errorf("signed value %s", v)
	}
	if pnl := eth.PnL(-250, eth.Value(300_000, -250), 290_000); pnl.Decimal().String() != "250" {
		t.Errorf("short PnL = %s", pnl)
	}
	lo, hi := eth.Band(300_000)
	if lo != 270_000 || hi != 330_000 {
		t.Errorf("band %d %d", lo, hi)
	}
	lo, hi = eth.Band(eth.MaxPrice)
	if hi != eth.MaxPrice || lo != eth.MaxPrice-eth.MaxPrice/10 {
		t.Errorf("band at max %d %d", lo, hi)
	}
	if lo, _ := eth.Band(1); lo != 1 {
		t.Errorf("band at 1: %d", lo)
	}
	if b, s := eth.MarketBound(book.Buy, 300_000), eth.MarketBound(book.Sell, 300_000); b != 330_000 || s != 270_000 {
		t.Errorf("market bounds %d %d", b, s)
	}
	if eth.MarketBound(book.Buy, 0) != 0 {
		t.Error("no mark, no bound")
	}
}
