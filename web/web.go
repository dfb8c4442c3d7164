package web

//go:generate npm ci --no-audit --no-fund --ignore-scripts
//go:generate node build.mjs

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/shopspring/decimal"
)

//go:embed static
var files embed.FS

// Config is what the page learns from /config.json.
type Config struct {
	// Prefix of the subjects (API.md).
	Prefix string `json:"prefix"`
	// Websocket is the NATS WebSocket URL (ws://host:port); "" when the
	// exchange has no WebSocket listener (the page then says so). A host of
	// 0.0.0.0 or [::] means the page's own host.
	Websocket string `json:"websocket"`
	// Auth: the server has users, so the page asks for a user and password;
	// otherwise (the open demo) only for an account name.
	Auth bool `json:"auth"`
	// MarginMode every account starts each symbol in (cross or isolated).
	MarginMode string   `json:"margin_mode"`
	Symbols    []Symbol `json:"symbols"`
}

// Symbol is a symbol's public config in the config file's terms (API.md),
// with what Compile derived: the tiers' Cum and max leverage, the leverage
// an account starts with, and the integer units the exchange computes in
// (multiplier: money units of 1e-8 per lot per tick; inverse_k: an inverse
// lot's money units × ticks), so the page's order preview matches the
// exchange to the unit.
type Symbol struct {
	Symbol              string          `json:"symbol"`
	Contract            string          `json:"contract"`
	Quote               string          `json:"quote"`
	Settle              string          `json:"settle"`
	Tick                decimal.Decimal `json:"tick"`
	Lot                 decimal.Decimal `json:"lot"`
	MinNotional         decimal.Decimal `json:"min_notional"`
	MaxPrice            decimal.Decimal `json:"max_price"`
	MaxQty              decimal.Decimal `json:"max_qty"`
	MaxLeverage         int64           `json:"max_leverage"`
	DefaultLeverage     int64           `json:"default_leverage"`
	MakerFee            decimal.Decimal `json:"maker_fee"`
	TakerFee            decimal.Decimal `json:"taker_fee"`
	LiquidationFee      decimal.Decimal `json:"liquidation_fee"`
	PriceBand           decimal.Decimal `json:"price_band"`
	LiquidationSlippage decimal.Decimal `json:"liquidation_slippage"`
	Funding             bool            `json:"funding"`
	FundingIntervalS    int64           `json:"funding_interval_s"`
	PartialLiquidation  bool            `json:"partial_liquidation"`
	Multiplier          string          `json:"multiplier"`
	InverseK            string          `json:"inverse_k"`
	MMTiers             []Tier          `json:"mm_tiers"`
}

// Tier is one maintenance-margin tier: MM(n) = ⌈n × mmr⌉ − cum for a
// notional n up to max_notional (market.Tier).
type Tier struct {
	MaxNotional decimal.Decimal `json:"max_notional"`
	MMR         decimal.Decimal `json:"mmr"`
	Cum         decimal.Decimal `json:"cum"`
	MaxLeverage int64           `json:"max_leverage"`
}

// SymbolOf describes a compiled symbol for the page.
func SymbolOf(s *market.Symbol) Symbol {
	out := Symbol{Symbol: s.Name, Contract: s.Kind.String(), Quote: s.Quote, Settle: s.Settle,
		Tick: s.TickSize, Lot: s.LotSize, MinNotional: s.MinNotional.Decimal(),
		MaxPrice: s.Price(s.MaxPrice), MaxQty: s.Qty(s.MaxQty),
		MaxLeverage: s.MaxLeverage, DefaultLeverage: risk.InitialLeverage(s),
		MakerFee: s.MakerFee.Decimal(), TakerFee: s.TakerFee.Decimal(), LiquidationFee: s.LiquidationFee.Decimal(),
		PriceBand: s.PriceBand.Decimal(), LiquidationSlippage: s.LiquidationSlippage.Decimal(), Funding: s.Funding, FundingIntervalS: s.FundingIntervalMs / 1000,
		PartialLiquidation: s.PartialLiquidation,
		Multiplier:         decimal.NewFromInt(int64(s.Multiplier)).String(),
		InverseK:           decimal.NewFromInt(int64(s.InverseK)).String()}
	for _, t := range s.Tiers {
		out.MMTiers = append(out.MMTiers, Tier{MaxNotional: t.MaxNotional.Decimal(), MMR: t.MMR.Decimal(),
			Cum: t.Cum.Decimal(), MaxLeverage: t.MaxLeverage})
	}
	return out
}

// Handler serves the page's files and /config.json (c). Files are served
// with no-cache so a restarted exchange's page is never stale.
func Handler(c Config) http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil { // the embed pattern names the directory: cannot happen
		panic(err)
	}
	body, err := json.Marshal(c)
	if err != nil { // plain fields only: cannot happen
		panic(err)
	}
	mux := http.NewServeMux()
	fileServer := http.FileServerFS(static)
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
	mux.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fileServer.ServeHTTP(w, r)
	}))
	return mux
}
