package binance

import (
	"math"
	"slices"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// The public REST endpoints: each is one or a few of API.md's public reads.

func (c *call) exchangeInfo() (any, *apiError) {
	syms := make([]map[string]any, len(c.s.syms.list))
	for i, s := range c.s.syms.list {
		syms[i] = s.info()
	}
	as := []map[string]any{}
	for _, a := range c.s.assets() {
		as = append(as, map[string]any{"asset": a, "marginAvailable": true, "autoAssetExchange": "0"})
	}
	return map[string]any{
		"timezone": "UTC", "serverTime": nowMs(), "futuresType": "U_MARGINED",
		"rateLimits":      c.s.rateLimits(),
		"exchangeFilters": []any{}, "assets": as, "symbols": syms,
	}, nil
}

// rateLimits are exchangeInfo's: the request weight per IP per minute
// (none when off), and the order bucket's rate in whole orders per the
// shortest interval where it is at least one (none when it is off).
func (s *Server) rateLimits() []map[string]any {
	out := []map[string]any{}
	if s.meter.limit > 0 {
		out = append(out, map[string]any{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": s.meter.limit})
	}
	rl := s.cfg.RateLimit
	if !rl.Enabled() {
		return out
	}
	for _, iv := range []struct {
		name string
		secs float64
	}{{"SECOND", 1}, {"MINUTE", 60}, {"DAY", 86400}} {
		if n := math.Floor(rl.OrdersPerS * iv.secs); n >= 1 || iv.name == "DAY" {
			return append(out, map[string]any{"rateLimitType": "ORDERS", "interval": iv.name, "intervalNum": 1, "limit": max(int64(n), 1)})
		}
	}
	return out
}

// depthLimits are the limits Binance's depth accepts.
var depthLimits = []int64{5, 10, 20, 50, 100, 500, 1000}

func (c *call) depth() (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	limit, ok, e := c.integer("limit", 1, wire.MaxDepthLevels)
	if e != nil || (ok && !slices.Contains(depthLimits, limit)) {
		return nil, errf(400, codeBadDepthLimit, "Invalid depth limit.")
	}
	if !ok {
		limit = 500
	}
	d, e := c.s.depthOf(c, sym, int(limit))
	if e != nil {
		return nil, e
	}
	now := nowMs()
	return map[string]any{"lastUpdateId": d.Seq, "E": now, "T": now, "bids": levels(d.Bids), "asks": levels(d.Asks)}, nil
}

func (s *Server) depthOf(c *call, sym *symbol, levels int) (*wire.DepthReply, *apiError) {
	var rep wire.DepthReply
	if e := s.request(c.ctx, s.subj.Depth(sym.name), map[string]int{"levels": levels}, &rep, ctxOther); e != nil {
		return nil, e
	}
	return &rep, nil
}

// levels is a book side as Binance's [["price","qty"],...].
func levels(ls []wire.Level) [][2]string {
	out := make([][2]string, len(ls))
	for i, l := range ls {
		out[i] = [2]string{l.Price().String(), l.Qty().String()}
	}
	return out
}

// recent is the symbol's newest trades (at most 1000, oldest first).
func (c *call) recent(sym *symbol) ([]wire.Trade, *apiError) {
	var rep wire.RecentTradesReply
	if e := c.s.request(c.ctx, c.s.subj.RecentTrades(sym.name), map[string]int{"limit": wire.MaxRecentTrades}, &rep, ctxOther); e != nil {
		return nil, e
	}
	return rep.Trades, nil
}

// newest keeps the last n of ts.
func newest[T any](ts []T, n int) []T {
	if len(ts) > n {
		return ts[len(ts)-n:]
	}
	return ts
}

func (c *call) trades() (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	limit, e := c.limit(500, 1000)
	if e != nil {
		return nil, e
	}
	ts, e := c.recent(sym)
	if e != nil {
		return nil, e
	}
	out := []map[string]any{}
	for _, t := range newest(ts, limit) {
		out = append(out, tradeView(t))
	}
	return out, nil
}

func tradeView(t wire.Trade) map[string]any {
	return map[string]any{"id": t.Seq, "price": t.Price.String(), "qty": t.Qty.String(),
		"quoteQty": t.Price.Mul(t.Qty).String(), "time": t.TimeMs, "isBuyerMaker": t.TakerSide == wire.Sell}
}

// historicalTrades is v1/trades from fromId on (a trade's id is its seq),
// among the kept 1 000.
func (c *call) historicalTrades() (any, *apiError) { return c.pagedTrades(tradeView) }

// aggTrades: every perpx trade is its own aggregate (a = f = l = its seq);
// fromId, startTime and endTime select among the kept 1 000.
func (c *call) aggTrades() (any, *apiError) {
	return c.pagedTrades(func(t wire.Trade) map[string]any {
		return map[string]any{"a": t.Seq, "p": t.Price.String(), "q": t.Qty.String(), "f": t.Seq, "l": t.Seq,
			"T": t.TimeMs, "m": t.TakerSide == wire.Sell}
	})
}

// pagedTrades is the kept trades a page (fromId, startTime, endTime)
// selects, each as view shows it.
func (c *call) pagedTrades(view func(wire.Trade) map[string]any) (any, *apiError) {
	p, e := c.page(true, 500, "fromId")
	if e != nil {
		return nil, e
	}
	ts, e := c.recent(p.sym)
	if e != nil {
		return nil, e
	}
	out := []map[string]any{}
	for _, t := range ts {
		if p.in(t.Seq, t.TimeMs) {
			out = append(out, view(t))
		}
	}
	return cut(&p, out), nil
}

// klineIntervals are the intervals perpx keeps (Binance's but 3d, 1w, 1M).
var klineIntervals = []string{"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d"}

func (c *call) klines(src wire.KlineSource) (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	iv, e := c.need("interval")
	if e != nil {
		return nil, e
	}
	if !slices.Contains(klineIntervals, iv) {
		return nil, errf(400, codeBadInterval, "Invalid interval.")
	}
	limit, e := c.limit(500, wire.MaxKlines)
	if e != nil {
		return nil, e
	}
	req := wire.Klines{Interval: iv, Limit: limit, Source: src}
	if req.StartMs, _, e = c.integer("startTime", 0, 1<<53); e != nil {
		return nil, e
	}
	if req.EndMs, _, e = c.integer("endTime", 0, 1<<53); e != nil {
		return nil, e
	}
	var rep wire.KlinesReply
	if e := c.s.request(c.ctx, c.s.subj.Klines(sym.name), req, &rep, ctxOther); e != nil {
		return nil, e
	}
	out := make([][]any, len(rep.Klines))
	for i, k := range rep.Klines {
		out[i] = []any{k.OpenMs, k.Open.String(), k.High.String(), k.Low.String(), k.Close.String(), k.Volume.String(),
			k.CloseMs, k.QuoteVolume.String(), k.Trades, "0", "0", "0"}
	}
	return out, nil
}

// tickers is the ticker of each symbol of list.
func (c *call) tickers(list []*symbol) ([]*wire.TickerStats, *apiError) {
	out := make([]*wire.TickerStats, 0, len(list))
	for _, s := range list {
		var rep wire.TickerReply
		if e := c.s.request(c.ctx, c.s.subj.Ticker(s.name), nil, &rep, ctxOther); e != nil {
			return nil, e
		}
		if rep.Ticker == nil {
			return nil, errf(500, codeUnknown, "The exchange's ticker reply has no ticker.")
		}
		out = append(out, rep.Ticker)
	}
	return out, nil
}

// perSymbol answers with one object when the request names a symbol, else
// with the array of all, as Binance's tickers do. Each ticker goes with
// the symbol it was asked for, whatever name its reply carries.
func (c *call) perSymbol(f func(s *symbol, t *wire.TickerStats) any) (any, *apiError) {
	list, one, e := c.symbols()
	if e != nil {
		return nil, e
	}
	ts, e := c.tickers(list)
	if e != nil {
		return nil, e
	}
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = f(list[i], t)
	}
	if one {
		return out[0], nil
	}
	return out, nil
}

func (c *call) premiumIndex() (any, *apiError) {
	return c.perSymbol(func(s *symbol, t *wire.TickerStats) any {
		return map[string]any{"symbol": s.bn, "markPrice": t.Mark.String(), "indexPrice": t.Index.String(),
			"estimatedSettlePrice": t.Mark.String(), "lastFundingRate": t.FundingRate.String(),
			"interestRate": s.sym.InterestRate.Decimal().String(), "nextFundingTime": t.NextFundingMs, "time": t.TimeMs}
	})
}

// weightedAvg is the 24 hours' volume-weighted average price.
func weightedAvg(t *wire.TickerStats) decimal.Decimal {
	if t.Volume.IsZero() {
		return decimal.Zero
	}
	return t.QuoteVolume.DivRound(t.Volume, 8)
}

func (c *call) ticker24h() (any, *apiError) {
	return c.perSymbol(func(s *symbol, t *wire.TickerStats) any {
		return map[string]any{"symbol": s.bn, "priceChange": t.Change.String(), "priceChangePercent": t.ChangePct.String(),
			"weightedAvgPrice": weightedAvg(t).String(), "lastPrice": t.Last.String(), "lastQty": "0", "openPrice": t.Open.String(),
			"highPrice": t.High.String(), "lowPrice": t.Low.String(), "volume": t.Volume.String(),
			"quoteVolume": t.QuoteVolume.String(), "openTime": t.TimeMs - 24*3600*1000, "closeTime": t.TimeMs,
			"firstId": -1, "lastId": -1, "count": t.Trades}
	})
}

func (c *call) tickerPrice() (any, *apiError) {
	return c.perSymbol(func(s *symbol, t *wire.TickerStats) any {
		return map[string]any{"symbol": s.bn, "price": t.Last.String(), "time": t.TimeMs}
	})
}

func (c *call) openInterest() (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	var rep wire.OpenInterestReply
	if e := c.s.request(c.ctx, c.s.subj.OpenInterest(sym.name), map[string]int{"limit": 1}, &rep, ctxOther); e != nil {
		return nil, e
	}
	return map[string]any{"openInterest": rep.OpenInterest.String(), "symbol": sym.bn, "time": rep.TimeMs}, nil
}

func (c *call) fundingRate() (any, *apiError) {
	list, _, e := c.symbols()
	if e != nil {
		return nil, e
	}
	limit, e := c.limit(100, wire.MaxFundingHistory)
	if e != nil {
		return nil, e
	}
	req := wire.FundingHistory{Limit: limit}
	if req.StartMs, _, e = c.integer("startTime", 0, 1<<53); e != nil {
		return nil, e
	}
	if req.EndMs, _, e = c.integer("endTime", 0, 1<<53); e != nil {
		return nil, e
	}
	out := []map[string]any{}
	for _, s := range list {
		var rep wire.FundingHistoryReply
		if e := c.s.request(c.ctx, c.s.subj.FundingHistory(s.name), req, &rep, ctxOther); e != nil {
			return nil, e
		}
		for _, f := range rep.History {
			out = append(out, map[string]any{"symbol": s.bn, "fundingRate": f.FundingRate.String(),
				"fundingTime": f.FundingMs, "markPrice": f.MarkPrice.String()})
		}
	}
	return out, nil
}

func (c *call) bookTicker() (any, *apiError) {
	list, one, e := c.symbols()
	if e != nil {
		return nil, e
	}
	out := make([]any, 0, len(list))
	for _, s := range list {
		d, e := c.s.depthOf(c, s, 1)
		if e != nil {
			return nil, e
		}
		bp, bq, ap, aq := "0", "0", "0", "0"
		if len(d.Bids) > 0 {
			bp, bq = d.Bids[0].Price().String(), d.Bids[0].Qty().String()
		}
		if len(d.Asks) > 0 {
			ap, aq = d.Asks[0].Price().String(), d.Asks[0].Qty().String()
		}
		out = append(out, map[string]any{"symbol": s.bn, "bidPrice": bp, "bidQty": bq, "askPrice": ap, "askQty": aq,
			"time": nowMs(), "lastUpdateId": d.Seq})
	}
	if one {
		return out[0], nil
	}
	return out, nil
}
