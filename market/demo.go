package market

import "github.com/shopspring/decimal"

// DemoConfigs returns the configs of the two demo symbols (API.md):
// BTC-PERP (tick 0.1, lot 0.001) and ETH-PERP (tick 0.01, lot 0.01), both
// USDT-settled with max leverage 100, maker 0.0002, taker 0.0005, liquidation
// fee 0.005, price band 0.1, funding every 8 h, and Binance-like tiers
// (tier max leverage = 1/(2×mmr)).
func DemoConfigs() []SymbolConfig {
	on := true
	common := func(name, tick, lot, minNotional string, tiers [][2]string) SymbolConfig {
		tc := make([]TierConfig, len(tiers))
		for i, t := range tiers {
			tc[i] = TierConfig{MaxNotional: decimal.RequireFromString(t[0]), MMR: decimal.RequireFromString(t[1])}
		}
		return SymbolConfig{
			Symbol: name, Quote: DefaultQuote,
			Tick: decimal.RequireFromString(tick), Lot: decimal.RequireFromString(lot),
			MinNotional:      decimal.RequireFromString(minNotional),
			MaxLeverage:      decimal.NewFromInt(100),
			MMTiers:          tc,
			MakerFee:         decimal.RequireFromString("0.0002"),
			TakerFee:         decimal.RequireFromString("0.0005"),
			LiquidationFee:   decimal.RequireFromString("0.005"),
			PriceBand:        decimal.RequireFromString("0.1"),
			FundingIntervalS: DefaultFundingIntervalS,
			Funding:          &on,
			ADLMode:          "adl",
		}
	}
	return []SymbolConfig{
		common("BTC-PERP", "0.1", "0.001", "5", [][2]string{
			{"50000", "0.005"}, {"250000", "0.01"}, {"1000000", "0.025"},
			{"10000000", "0.05"}, {"100000000", "0.1"}, {"1000000000", "0.125"},
		}),
		common("ETH-PERP", "0.01", "0.01", "5", [][2]string{
			{"25000", "0.005"}, {"100000", "0.01"}, {"500000", "0.025"},
			{"5000000", "0.05"}, {"50000000", "0.1"}, {"500000000", "0.125"},
		}),
	}
}

// DemoSymbols compiles DemoConfigs. The configs are constants checked by the
// tests, so a failure here is a programming error and panics.
func DemoSymbols() []*Symbol {
	cfgs := DemoConfigs()
	out := make([]*Symbol, len(cfgs))
	for i, c := range cfgs {
		s, err := c.Compile()
		if err != nil {
			panic(err)
		}
		out[i] = s
	}
	return out
}
