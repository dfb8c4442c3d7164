package wire

import (
	"encoding/json"

	"github.com/shopspring/decimal"
)

// Klines limits, as Binance's.
const (
	DefaultKlines      = 500
	MaxKlines          = 1500
	DefaultRecentTrade = 500
	MaxRecentTrades    = 1000
	maxTimeMs          = 1 << 53
)

// KlineSource is the price a candle series follows.
type KlineSource string

const (
	SourceLast KlineSource = "last" // the trades
	SourceMark KlineSource = "mark"
)

// Klines is the body of <prefix>.md.<sym>.klines: candles of Interval
// (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d) whose open times lie in
// [StartMs, EndMs], at most Limit (default DefaultKlines); without StartMs
// the last Limit up to EndMs (default now).
type Klines struct {
	Interval string      `json:"interval"`
	StartMs  int64       `json:"start_ms,omitempty"`
	EndMs    int64       `json:"end_ms,omitempty"`
	Limit    int         `json:"limit,omitempty"`
	Source   KlineSource `json:"source,omitempty"`
}

var klineIntervals = []string{"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d"}

// DecodeKlines decodes a klines request and fills in its defaults.
func DecodeKlines(data []byte) (Klines, *Error) {
	k := Klines{Limit: DefaultKlines, Source: SourceLast}
	var start, end int
	err := decodeObject(data, []field{
		{"interval", true, enum(&k.Interval, klineIntervals...)},
		{"start_ms", false, integer(&start, 0, maxTimeMs)},
		{"end_ms", false, integer(&end, 0, maxTimeMs)},
		{"limit", false, integer(&k.Limit, 1, MaxKlines)},
		{"source", false, enum(&k.Source, SourceLast, SourceMark)},
	})
	k.StartMs, k.EndMs = int64(start), int64(end)
	if err == nil && k.EndMs != 0 && k.StartMs > k.EndMs {
		err = Errorf(CodeBadRequest, "start_ms %d is after end_ms %d", k.StartMs, k.EndMs)
	}
	if err != nil {
		return Klines{}, err
	}
	return k, nil
}

// Kline is one candle: its prices as decimals, Volume in the symbol's
// quantity, QuoteVolume in its settlement asset.
type Kline struct {
	OpenMs      int64           `json:"open_ms"`
	CloseMs     int64           `json:"close_ms"`
	Open        decimal.Decimal `json:"open"`
	High        decimal.Decimal `json:"high"`
	Low         decimal.Decimal `json:"low"`
	Close       decimal.Decimal `json:"close"`
	Volume      decimal.Decimal `json:"volume"`
	QuoteVolume decimal.Decimal `json:"quote_volume"`
	Trades      int64           `json:"trades"`
}

// KlinesReply answers klines, oldest candle first.
type KlinesReply struct {
	Reply
	Symbol   string      `json:"symbol,omitempty"`
	Interval string      `json:"interval,omitempty"`
	Source   KlineSource `json:"source,omitempty"`
	Klines   []Kline     `json:"klines"`
}

// RecentTrades is the body of <prefix>.md.<sym>.recent_trades.
type RecentTrades struct {
	Limit int `json:"limit,omitempty"`
}

// DecodeRecentTrades decodes a recent trades request (default limit
// DefaultRecentTrade).
func DecodeRecentTrades(data []byte) (RecentTrades, *Error) {
	r := RecentTrades{Limit: DefaultRecentTrade}
	if err := decodeObject(data, []field{{"limit", false, integer(&r.Limit, 1, MaxRecentTrades)}}); err != nil {
		return RecentTrades{}, err
	}
	return r, nil
}

// RecentTradesReply answers recent_trades: the newest trades, oldest first,
// as the trades stream published them.
type RecentTradesReply struct {
	Reply
	Trades []Trade `json:"trades"`
}

// FundingHistory is the body of <prefix>.md.<sym>.funding_history: the
// funding events whose times lie in [StartMs, EndMs] (EndMs 0: now), at
// most Limit (default DefaultFundingHistory), the newest ones when more
// match.
type FundingHistory struct {
	StartMs int64 `json:"start_ms,omitempty"`
	EndMs   int64 `json:"end_ms,omitempty"`
	Limit   int   `json:"limit,omitempty"`
}

// Funding history limits, as Binance's fundingRate.
const (
	DefaultFundingHistory = 100
	MaxFundingHistory     = 1000
)

// DecodeFundingHistory decodes a funding history request.
func DecodeFundingHistory(data []byte) (FundingHistory, *Error) {
	f := FundingHistory{Limit: DefaultFundingHistory}
	var start, end int
	err := decodeObject(data, []field{
		{"start_ms", false, integer(&start, 0, maxTimeMs)},
		{"end_ms", false, integer(&end, 0, maxTimeMs)},
		{"limit", false, integer(&f.Limit, 1, MaxFundingHistory)},
	})
	f.StartMs, f.EndMs = int64(start), int64(end)
	if err == nil && f.EndMs != 0 && f.StartMs > f.EndMs {
		err = Errorf(CodeBadRequest, "start_ms %d is after end_ms %d", f.StartMs, f.EndMs)
	}
	if err != nil {
		return FundingHistory{}, err
	}
	return f, nil
}

// FundingRecord is one funding event of a symbol: the rate paid at
// FundingMs (longs pay shorts when positive) at MarkPrice.
type FundingRecord struct {
	Symbol      string          `json:"symbol"`
	FundingRate decimal.Decimal `json:"funding_rate"`
	FundingMs   int64           `json:"funding_ms"`
	MarkPrice   decimal.Decimal `json:"mark_price"`
}

// FundingHistoryReply answers funding_history, oldest first.
type FundingHistoryReply struct {
	Reply
	History []FundingRecord `json:"history"`
}

// FundDaily is the body of <prefix>.fund.daily: the insurance fund's
// report per UTC day whose start lies in [StartMs, EndMs] (EndMs 0: now).
type FundDaily struct {
	StartMs int64 `json:"start_ms,omitempty"`
	EndMs   int64 `json:"end_ms,omitempty"`
}

// DecodeFundDaily decodes a fund daily report request.
func DecodeFundDaily(data []byte) (FundDaily, *Error) {
	var start, end int
	err := decodeObject(data, []field{
		{"start_ms", false, integer(&start, 0, maxTimeMs)},
		{"end_ms", false, integer(&end, 0, maxTimeMs)},
	})
	f := FundDaily{StartMs: int64(start), EndMs: int64(end)}
	if err == nil && f.EndMs != 0 && f.StartMs > f.EndMs {
		err = Errorf(CodeBadRequest, "start_ms %d is after end_ms %d", f.StartMs, f.EndMs)
	}
	if err != nil {
		return FundDaily{}, err
	}
	return f, nil
}

// FundDay is one asset's insurance fund day: its balance at the day's
// start and end, what came in (deposits, liquidation surpluses and fees),
// what went out (deficits paid), what it could not pay (uncovered, left to
// ADL), and the liquidations it settled.
type FundDay struct {
	Date              string          `json:"date"`
	DayMs             int64           `json:"day_ms"`
	Asset             string          `json:"asset"`
	OpeningBalance    decimal.Decimal `json:"opening_balance"`
	ClosingBalance    decimal.Decimal `json:"closing_balance"`
	Deposits          decimal.Decimal `json:"deposits"`
	Surplus           decimal.Decimal `json:"surplus"`
	Fees              decimal.Decimal `json:"fees"`
	Deficits          decimal.Decimal `json:"deficits"`
	Uncovered         decimal.Decimal `json:"uncovered"`
	Liquidations      int             `json:"liquidations"`
	LiquidationVolume decimal.Decimal `json:"liquidation_volume"`
	ADL               int             `json:"adl"` // counterparty positions closed by ADL
}

// FundDailyReply answers fund.daily, oldest day first (days without any
// movement are not listed).
type FundDailyReply struct {
	Reply
	Days []FundDay `json:"days"`
}

// Ticker is the (empty) body of <prefix>.md.<sym>.ticker.
type Ticker struct{}

// DecodeTicker accepts {} or an empty payload.
func DecodeTicker(data []byte) (Ticker, *Error) { return Ticker{}, decodeObject(data, nil) }

// TickerStats is a symbol's rolling 24 hours (at minute granularity) and
// its current mark, index and funding.
type TickerStats struct {
	Symbol        string          `json:"symbol"`
	Last          decimal.Decimal `json:"last"`
	Open          decimal.Decimal `json:"open"`
	Change        decimal.Decimal `json:"change"`
	ChangePct     decimal.Decimal `json:"change_pct"`
	High          decimal.Decimal `json:"high"`
	Low           decimal.Decimal `json:"low"`
	Volume        decimal.Decimal `json:"volume"`
	QuoteVolume   decimal.Decimal `json:"quote_volume"`
	Trades        int64           `json:"trades"`
	Mark          decimal.Decimal `json:"mark"`
	Index         decimal.Decimal `json:"index"`
	FundingRate   decimal.Decimal `json:"funding_rate"`
	NextFundingMs int64           `json:"next_funding_ms"`
	OpenInterest  decimal.Decimal `json:"open_interest"`
	TimeMs        int64           `json:"time_ms"`
}

// TickerReply answers ticker.
type TickerReply struct {
	Reply
	Ticker *TickerStats `json:"ticker,omitempty"`
}

// OpenInterestReq is the body of <prefix>.md.<sym>.open_interest: the open
// interest now and its 5-minute history in [StartMs, EndMs] (EndMs 0:
// now), the newest Limit samples (default DefaultOIHistory).
type OpenInterestReq struct {
	StartMs int64 `json:"start_ms,omitempty"`
	EndMs   int64 `json:"end_ms,omitempty"`
	Limit   int   `json:"limit,omitempty"`
}

// Open interest history limits, as Binance's openInterestHist.
const (
	DefaultOIHistory = 30
	MaxOIHistory     = 500
)

// DecodeOpenInterest decodes an open interest request.
func DecodeOpenInterest(data []byte) (OpenInterestReq, *Error) {
	o := OpenInterestReq{Limit: DefaultOIHistory}
	var start, end int
	err := decodeObject(data, []field{
		{"start_ms", false, integer(&start, 0, maxTimeMs)},
		{"end_ms", false, integer(&end, 0, maxTimeMs)},
		{"limit", false, integer(&o.Limit, 1, MaxOIHistory)},
	})
	o.StartMs, o.EndMs = int64(start), int64(end)
	if err == nil && o.EndMs != 0 && o.StartMs > o.EndMs {
		err = Errorf(CodeBadRequest, "start_ms %d is after end_ms %d", o.StartMs, o.EndMs)
	}
	if err != nil {
		return OpenInterestReq{}, err
	}
	return o, nil
}

// OISample is the open interest (the longs' total size) at the end of a
// 5-minute period.
type OISample struct {
	TimeMs       int64           `json:"time_ms"`
	OpenInterest decimal.Decimal `json:"open_interest"`
}

// OpenInterestReply answers open_interest.
type OpenInterestReply struct {
	Reply
	Symbol       string          `json:"symbol,omitempty"`
	OpenInterest decimal.Decimal `json:"open_interest"`
	TimeMs       int64           `json:"time_ms"`
	History      []OISample      `json:"history"`
}

// KlineUpdate is published on <prefix>.md.<sym>.kline.<interval>: the
// candle of the period in progress after each command that traded in it,
// and once more with Closed set when the first trade of a later period
// shows it ended.
type KlineUpdate struct {
	Symbol   string `json:"symbol"`
	Interval string `json:"interval"`
	Closed   bool   `json:"closed"`
	Kline
}

// AppendTickerStats appends t as JSON.
func AppendTickerStats(dst []byte, t *TickerStats) []byte {
	b, err := json.Marshal(t)
	if err != nil {
		return dst
	}
	return append(dst, b...)
}

// AppendKlineUpdate appends k as JSON.
func AppendKlineUpdate(dst []byte, k *KlineUpdate) []byte {
	b, err := json.Marshal(k)
	if err != nil {
		return dst
	}
	return append(dst, b...)
}
