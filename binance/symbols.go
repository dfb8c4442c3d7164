package binance

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/market"
	"github.com/shopspring/decimal"
)

// symbol is one exchange symbol as Binance names and describes it.
type symbol struct {
	name   string // the exchange's: BTC-PERP
	bn     string // Binance's: BTCUSDT
	lower  string // btcusdt, as stream names spell it
	base   string
	quote  string
	settle string
	sym    *market.Symbol
}

// symbols maps both ways. Only linear symbols are served: USDⓈ-M futures
// are margined in the quote asset.
type symbols struct {
	list   []*symbol
	byBN   map[string]*symbol
	byName map[string]*symbol
}

func newSymbols(cfg *config.Config) (*symbols, error) {
	compiled, err := cfg.Compile()
	if err != nil {
		return nil, err
	}
	t := &symbols{byBN: map[string]*symbol{}, byName: map[string]*symbol{}}
	for _, s := range compiled {
		if s.Kind == market.Inverse {
			continue
		}
		bn := strings.ToUpper(cfg.BinanceSymbol(s.Name, s.Settle))
		if _, dup := t.byBN[bn]; dup {
			return nil, fmt.Errorf("binance: two symbols are named %s", bn)
		}
		base := strings.TrimSuffix(bn, s.Quote)
		if base == "" {
			base = bn
		}
		x := &symbol{name: s.Name, bn: bn, lower: strings.ToLower(bn), base: base, quote: s.Quote, settle: s.Settle, sym: s}
		t.list = append(t.list, x)
		t.byBN[bn] = x
		t.byName[s.Name] = x
	}
	return t, nil
}

// lookup finds a symbol by its Binance name, in either case of ASCII: a
// name of other letters is none, though strings.ToUpper makes ſ an S.
func (t *symbols) lookup(bn string) (*symbol, bool) {
	for i := 0; i < len(bn); i++ {
		if bn[i] >= utf8.RuneSelf {
			return nil, false
		}
	}
	s, ok := t.byBN[strings.ToUpper(bn)]
	return s, ok
}

// decimals is the number of digits after the point of a step (0.001 → 3).
func decimals(d decimal.Decimal) int {
	if e := d.Exponent(); e < 0 {
		return int(-e)
	}
	return 0
}

// bnFilter is one entry of a symbol's filters in exchangeInfo.
type bnFilter map[string]any

// info is the symbol's exchangeInfo entry. Its filters come from the
// symbol's config: PRICE_FILTER (tick, up to the maximum price),
// LOT_SIZE and MARKET_LOT_SIZE (lot, up to the maximum quantity),
// MIN_NOTIONAL, PERCENT_PRICE (the price band around the mark), the open
// and conditional order caps.
func (s *symbol) info() map[string]any {
	m := s.sym
	maxPrice := m.Price(m.MaxPrice)
	maxQty := m.Qty(m.MaxQty)
	band := m.PriceBand.Decimal()
	one := decimal.NewFromInt(1)
	filters := []bnFilter{
		{"filterType": "PRICE_FILTER", "minPrice": m.TickSize.String(), "maxPrice": maxPrice.String(), "tickSize": m.TickSize.String()},
		{"filterType": "LOT_SIZE", "minQty": m.LotSize.String(), "maxQty": maxQty.String(), "stepSize": m.LotSize.String()},
		{"filterType": "MARKET_LOT_SIZE", "minQty": m.LotSize.String(), "maxQty": maxQty.String(), "stepSize": m.LotSize.String()},
		{"filterType": "MAX_NUM_ORDERS", "limit": m.MaxOpenOrders},
		{"filterType": "MAX_NUM_ALGO_ORDERS", "limit": m.MaxConditionalOrders},
		{"filterType": "MIN_NOTIONAL", "notional": m.MinNotional.Decimal().String()},
		{"filterType": "PERCENT_PRICE", "multiplierUp": one.Add(band).String(), "multiplierDown": one.Sub(band).String(), "multiplierDecimal": "4"},
	}
	first := m.Tiers[0]
	return map[string]any{
		"symbol": s.bn, "pair": s.bn, "contractType": "PERPETUAL",
		// Binance's date for "never" on a perpetual.
		"deliveryDate": int64(4133404800000), "onboardDate": int64(0), "status": "TRADING",
		"maintMarginPercent":    first.MMR.Decimal().Mul(decimal.NewFromInt(100)).String(),
		"requiredMarginPercent": decimal.NewFromInt(100).Div(decimal.NewFromInt(first.MaxLeverage)).String(),
		"baseAsset":             s.base, "quoteAsset": s.quote, "marginAsset": s.settle,
		"pricePrecision": decimals(m.TickSize), "quantityPrecision": decimals(m.LotSize),
		"baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": []string{},
		"settlePlan": 0, "triggerProtect": "0", "liquidationFee": m.LiquidationFee.Decimal().String(),
		"marketTakeBound": band.String(), "maxMoveOrderLimit": 10000,
		"filters":     filters,
		"orderTypes":  []string{"LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"},
		"timeInForce": []string{"GTC", "IOC", "FOK", "GTX"},
	}
}

// brackets is the symbol's leverageBracket entry: its maintenance tiers.
func (s *symbol) brackets() map[string]any {
	m := s.sym
	out := make([]map[string]any, len(m.Tiers))
	floor := decimal.Zero
	for i, t := range m.Tiers {
		cap := t.MaxNotional.Decimal()
		out[i] = map[string]any{
			"bracket": i + 1, "initialLeverage": t.MaxLeverage,
			"notionalCap": cap.InexactFloat64(), "notionalFloor": floor.InexactFloat64(),
			"maintMarginRatio": t.MMR.Decimal().InexactFloat64(), "cum": t.Cum.Decimal().InexactFloat64(),
		}
		floor = cap
	}
	return map[string]any{"symbol": s.bn, "notionalCoef": 1.0, "brackets": out}
}

// maxNotional is the largest position notional allowed at leverage lev:
// the cap of the last tier whose maximum leverage is at least lev.
func (s *symbol) maxNotional(lev int64) decimal.Decimal {
	best := decimal.Zero
	for _, t := range s.sym.Tiers {
		if t.MaxLeverage >= lev {
			best = t.MaxNotional.Decimal()
		}
	}
	return best
}
