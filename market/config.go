package market

import "github.com/shopspring/decimal"

// SymbolConfig is one symbol as written in the config file (API.md): decimals
// as strings. Compile turns it into the integer Symbol the hot paths use.
type SymbolConfig struct {
	Symbol         string          `json:"symbol"`
	Quote          string          `json:"quote,omitempty"`
	Tick           decimal.Decimal `json:"tick"`
	Lot            decimal.Decimal `json:"lot"`
	MinNotional    decimal.Decimal `json:"min_notional"`
	MaxLeverage    decimal.Decimal `json:"max_leverage"`
	MMTiers        []TierConfig    `json:"mm_tiers"`
	MakerFee       decimal.Decimal `json:"maker_fee"`
	TakerFee       decimal.Decimal `json:"taker_fee"`
	LiquidationFee decimal.Decimal `json:"liquidation_fee"`
	PriceBand      decimal.Decimal `json:"price_band"`
	// LiquidationSlippage bounds a liquidation's order to this fraction
	// of its bankruptcy price beyond it; nil means the default
	// (DefaultLiquidationSlippage), and 0 is a value (no worse than it).
	LiquidationSlippage *decimal.Decimal `json:"liquidation_slippage,omitempty"`
	FundingIntervalS    int64            `json:"funding_interval_s"`
	Funding             *bool            `json:"funding,omitempty"`
	// ADLMode is "adl" (default) or "socialized".
	ADLMode string `json:"adl_mode,omitempty"`
	// Contract is "linear" (default) or "inverse" (Kind is its older name).
	// An inverse contract settles in Settle (the base coin: "BTC"), each
	// contract worth ContractSize of the quote (default 1): value in the
	// settlement coin = contracts × ContractSize / price.
	Contract     string          `json:"contract,omitempty"`
	Kind         string          `json:"kind,omitempty"`
	Settle       string          `json:"settle,omitempty"`
	ContractSize decimal.Decimal `json:"contract_size"`
	// MaxPrice and MaxQty bound order prices and position sizes; when omitted
	// Compile derives them from MaxNotionalCap (see doc.go).
	MaxPrice decimal.Decimal `json:"max_price"`
	MaxQty   decimal.Decimal `json:"max_qty"`
	// MaxOpenOrders caps one account's open orders in the symbol;
	// default DefaultMaxOpenOrders.
	MaxOpenOrders int `json:"max_open_orders,omitempty"`
	// PartialLiquidation: liquidate a position beyond the first tier by
	// first reducing it to the tier below (default false: full takeover).
	PartialLiquidation bool `json:"partial_liquidation,omitempty"`
	// MaxConditionalOrders caps one account's untriggered conditional
	// orders in the symbol; default DefaultMaxConditionalOrders.
	MaxConditionalOrders int `json:"max_conditional_orders,omitempty"`
}

// TierConfig is one maintenance-margin tier: positions with notional up to
// MaxNotional use rate MMR.
type TierConfig struct {
	MaxNotional decimal.Decimal `json:"max_notional"`
	MMR         decimal.Decimal `json:"mmr"`
	// MaxLeverage allowed in this tier; when omitted min(symbol max leverage,
	// floor(1/(2×MMR))).
	MaxLeverage decimal.Decimal `json:"max_leverage"`
}
