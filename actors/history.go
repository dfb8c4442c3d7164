package actors

import (
	"encoding/binary"
	"math"
	"sort"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/history"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// historyActor keeps every symbol's market-data history (history package):
// the candles of the last trades and of the mark, and the recent trades.
// The symbol actors send it what they printed; it answers the history
// reads, so no candle arithmetic runs on a book's actor. Its state is
// journaled like any actor's (its inputs are the symbol actors' messages)
// and snapshotted.
type historyActor struct {
	x      *Exchange
	j      jstate
	last   []history.Series
	mark   []history.Series
	trades []*history.Trades
	// funding is each symbol's funding events, oldest first (at most
	// Retention.FundingEvents).
	funding [][]fundingRecord
	// marks is each symbol's latest mark update (the ticker's mark, index
	// and funding).
	marks []market.MarkUpdate
	// oi is each symbol's open interest at the end of each 5-minute
	// period, oldest first (Retention.OpenInterestDays).
	oi [][]oiSample
	// forming is each symbol's candle in progress per interval
	// (history.Intervals order), derived from the series: the stream's
	// state, rebuilt from the series when a period starts.
	forming [][]history.Candle
	// mb is the actor's mailbox; klineWant caches, per symbol and interval,
	// whether the candle stream has a subscriber, for its take of
	// messages being handled.
	mb        *mailbox
	klineWant [][]interest
	n         uint64
}

type oiSample struct {
	ms   int64 // the period's start
	long book.Lots
}

const oiPeriodMs = 5 * 60_000

type fundingRecord struct {
	ms   int64
	rate market.Rate
	mark book.Ticks
}

// oiKept is the open-interest samples kept per symbol.
func (a *historyActor) oiKept() int { return a.x.keep.OpenInterestDays * 24 * 12 }

// keepNewest drops the oldest of s beyond n.
func keepNewest[T any](s []T, n int) []T {
	if len(s) > n {
		s = append(s[:0], s[len(s)-n:]...)
	}
	return s
}

type (
	// histTradesMsg: trades a symbol actor printed.
	histTradesMsg struct {
		sym    int
		trades []history.Trade
		one    [1]history.Trade // room for the common single trade
	}
	// histFundingMsg: a funding event of a symbol (the rate for the
	// interval that ended at ms, paid at mark).
	histFundingMsg struct {
		sym  int
		ms   int64
		rate market.Rate
		mark book.Ticks
	}
	fundingHistoryMsg struct {
		h    *symbolHandle
		req  wire.FundingHistory
		done func(wire.FundingHistoryReply)
	}
	// histMarkMsg: a symbol's new mark, and with it its index and funding.
	histMarkMsg struct {
		sym  int
		ms   int64
		mark book.Ticks
		up   market.MarkUpdate
	}
	tickerMsg struct {
		h    *symbolHandle
		oi   book.Lots
		done func(wire.TickerReply)
	}
	// histOIMsg: a symbol's open interest (the longs' total) at ms.
	histOIMsg struct {
		sym  int
		ms   int64
		long book.Lots
	}
	// oiMsg asks the ADL actor for a symbol's open interest now.
	oiMsg struct {
		sym   int
		reply func(book.Lots)
	}
	openInterestMsg struct {
		h    *symbolHandle
		req  wire.OpenInterestReq
		now  book.Lots
		done func(wire.OpenInterestReply)
	}
	klinesMsg struct {
		h    *symbolHandle
		req  wire.Klines
		iv   history.Interval
		done func(wire.KlinesReply)
	}
	recentTradesMsg struct {
		h    *symbolHandle
		req  wire.RecentTrades
		done func(wire.RecentTradesReply)
	}
)

func newHistoryActor(x *Exchange) *historyActor {
	a := &historyActor{x: x}
	for range x.symbols {
		minutes := x.keep.CandleDays * 24 * 60
		a.last = append(a.last, history.Series{Retention: minutes})
		a.mark = append(a.mark, history.Series{Retention: minutes})
		a.trades = append(a.trades, history.NewTrades(x.keep.RecentTrades))
	}
	a.funding = make([][]fundingRecord, len(x.symbols))
	a.marks = make([]market.MarkUpdate, len(x.symbols))
	a.oi = make([][]oiSample, len(x.symbols))
	a.forming = make([][]history.Candle, len(x.symbols))
	a.klineWant = make([][]interest, len(x.symbols))
	for i := range a.forming {
		a.forming[i] = make([]history.Candle, len(klineIntervals))
		a.klineWant[i] = make([]interest, len(klineIntervals))
	}
	return a
}

// klineIntervals are the candle streams' intervals (history.Intervals),
// klineNames their names.
var (
	klineIntervals = history.Intervals()
	klineNames     = func() []string {
		out := make([]string, len(klineIntervals))
		for i, iv := range klineIntervals {
			out[i] = iv.String()
		}
		return out
	}()
)

func (a *historyActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *probeMsg:
		m.reply(a.n)
		return
	case *auditMsg:
		m.reply(nil)
		return
	case *hashMsg:
		m.reply(hashString(string(a.appendSnapshot(nil))))
		return
	case *klinesMsg:
		a.klines(m)
		return
	case *recentTradesMsg:
		a.recent(m)
		return
	case *fundingHistoryMsg:
		a.fundingHistory(m)
		return
	case *tickerMsg:
		a.ticker(m)
		return
	case *openInterestMsg:
		a.openInterest(m)
		return
	}
	a.x.begin(ctx, &a.j, actorHistory)
	switch m := ctx.Message().(type) {
	case *histTradesMsg:
		s := a.x.symbols[m.sym].sym
		for _, t := range m.trades {
			a.last[m.sym].Add(t.TimeMs, t.Price, t.Qty, s.Notional(t.Price, t.Qty))
			a.trades[m.sym].Add(t)
		}
		a.streamKlines(m.sym, m.trades[len(m.trades)-1].TimeMs, true)
	case *histMarkMsg:
		a.mark[m.sym].Add(m.ms, m.mark, 0, 0)
		a.marks[m.sym] = m.up
		a.streamKlines(m.sym, m.ms, false) // the clock: periods end without trades too
	case *histOIMsg:
		at := m.ms / oiPeriodMs * oiPeriodMs
		s := a.oi[m.sym]
		if n := len(s); n > 0 && s[n-1].ms == at {
			s[n-1].long = m.long // the period's latest
		} else if n == 0 || s[n-1].ms < at {
			a.oi[m.sym] = keepNewest(append(s, oiSample{ms: at, long: m.long}), a.oiKept())
		}
	case *histFundingMsg:
		a.funding[m.sym] = keepNewest(append(a.funding[m.sym], fundingRecord{ms: m.ms, rate: m.rate, mark: m.mark}), a.x.keep.FundingEvents)
	default:
		return
	}
	a.n++
}

func (a *historyActor) klines(m *klinesMsg) {
	h := m.h
	series := &a.last[h.idx]
	if m.req.Source == wire.SourceMark {
		series = &a.mark[h.idx]
	}
	end := m.req.EndMs
	if now := a.x.now(); end == 0 || end > now { // no candles of periods not begun
		end = now
	}
	cs := series.Candles(m.iv, m.req.StartMs, end, m.req.Limit, nil)
	out := make([]wire.Kline, len(cs))
	for i, c := range cs {
		out[i] = a.wireKline(h, m.iv, c)
	}
	m.done(wire.KlinesReply{Reply: wire.OK(), Symbol: h.sym.Name, Interval: m.req.Interval, Source: m.req.Source, Klines: out})
}

func (a *historyActor) recent(m *recentTradesMsg) {
	h := m.h
	ts := a.trades[h.idx].Recent(m.req.Limit, nil)
	out := make([]wire.Trade, len(ts))
	for i, t := range ts {
		out[i] = wire.Trade{Symbol: h.sym.Name, Price: h.price(t.Price), Qty: h.qty(t.Qty), TakerSide: wireSide(t.TakerSide), Seq: t.Seq, TimeMs: t.TimeMs}
	}
	m.done(wire.RecentTradesReply{Reply: wire.OK(), Trades: out})
}

// window is the part of s (ascending by at) whose times lie in [start,
// end] (end 0: no end): its first limit entries from start when start is
// given, as Binance pages and klines do, else its newest limit.
func window[T any](s []T, at func(T) int64, start, end int64, limit int) []T {
	if end == 0 {
		end = math.MaxInt64
	}
	lo := sort.Search(len(s), func(i int) bool { return at(s[i]) >= start })
	hi := max(lo, sort.Search(len(s), func(i int) bool { return at(s[i]) > end }))
	if start > 0 {
		return s[lo:min(hi, lo+limit)]
	}
	return s[max(lo, hi-limit):hi]
}

// fundingHistory answers the funding events in [start, end] (window),
// oldest first.
func (a *historyActor) fundingHistory(m *fundingHistoryMsg) {
	h := m.h
	f := window(a.funding[h.idx], func(r fundingRecord) int64 { return r.ms }, m.req.StartMs, m.req.EndMs, m.req.Limit)
	out := make([]wire.FundingRecord, 0, len(f))
	for _, r := range f {
		out = append(out, wire.FundingRecord{Symbol: h.sym.Name, FundingRate: r.rate.Decimal(), FundingMs: r.ms, MarkPrice: h.price(r.mark)})
	}
	m.done(wire.FundingHistoryReply{Reply: wire.OK(), History: out})
}

// streamKlines publishes, for each interval somebody follows, the candle
// in progress at ms after a trade (traded) or when ms starts a new period,
// and the one before it as closed when ms is past its period: a trade or a
// mark (the symbol's clock, ticking with the index) tells the period ended.
// The candles come from the series, so the stream keeps no state of its
// own but which period it announced last; after a restart or a first
// subscription that is taken as the newest trade's, so the period open at
// a crash is announced closed (perhaps once more).
func (a *historyActor) streamKlines(sym int, ms int64, traded bool) {
	ks, ok := a.x.sink.(KlineSink)
	if !ok || !a.x.events {
		return
	}
	h := a.x.symbols[sym]
	for k, iv := range klineIntervals {
		name := klineNames[k]
		c := &a.klineWant[sym][k]
		if !c.ask(a.mb, func() bool { return ks.WantsKline(h.sym.Name, name) }) {
			continue
		}
		open := iv.Open(ms)
		f := &a.forming[sym][k]
		if f.OpenMs == 0 {
			f.OpenMs = iv.Open(a.last[sym].LastOpenMs())
		}
		if f.OpenMs != 0 && f.OpenMs < open {
			if c := a.last[sym].Candles(iv, f.OpenMs, f.OpenMs, 1, nil); len(c) == 1 {
				ks.Kline(h.sym.Name, name, a.klineUpdate(h, iv, c[0], true))
			}
		}
		if !traded && f.OpenMs >= open {
			continue
		}
		if c := a.last[sym].Candles(iv, open, open, 1, nil); len(c) == 1 {
			*f = c[0]
			ks.Kline(h.sym.Name, name, a.klineUpdate(h, iv, *f, false))
		}
	}
}

func (a *historyActor) klineUpdate(h *symbolHandle, iv history.Interval, c history.Candle, closed bool) *wire.KlineUpdate {
	return &wire.KlineUpdate{Symbol: h.sym.Name, Interval: iv.String(), Closed: closed, Kline: a.wireKline(h, iv, c)}
}

func (a *historyActor) wireKline(h *symbolHandle, iv history.Interval, c history.Candle) wire.Kline {
	return wire.Kline{OpenMs: c.OpenMs, CloseMs: c.CloseMs(iv), Open: h.price(c.Open), High: h.price(c.High), Low: h.price(c.Low),
		Close: h.price(c.Close), Volume: h.qty(c.Volume), QuoteVolume: c.Quote.Decimal(), Trades: c.Trades}
}

// ticker answers a symbol's last 24 hours and its mark, index and funding.
func (a *historyActor) ticker(m *tickerMsg) {
	h := m.h
	now := a.x.now()
	w := a.last[h.idx].Window(now, history.Day)
	up := a.marks[h.idx]
	t := &wire.TickerStats{Symbol: h.sym.Name, Last: h.price(w.Last), Open: h.price(w.Open), Change: h.price(w.Last - w.Open),
		ChangePct: decimal.Zero, High: h.price(w.High), Low: h.price(w.Low), Volume: h.qty(w.Volume), QuoteVolume: w.Quote.Decimal(),
		Trades: w.Trades, Mark: h.price(up.Mark), Index: h.price(up.Index), FundingRate: up.FundingRate.Decimal(),
		NextFundingMs: up.NextFundingMs, OpenInterest: h.qty(m.oi), TimeMs: now}
	if w.Open > 0 {
		t.ChangePct = t.Change.Mul(decimal.NewFromInt(100)).DivRound(t.Open, 4)
	}
	m.done(wire.TickerReply{Reply: wire.OK(), Ticker: t})
}

// openInterest answers the open interest now and its 5-minute samples in
// the window, the newest limit of them.
func (a *historyActor) openInterest(m *openInterestMsg) {
	h := m.h
	s := window(a.oi[h.idx], func(x oiSample) int64 { return x.ms }, m.req.StartMs, m.req.EndMs, m.req.Limit)
	out := make([]wire.OISample, 0, len(s))
	for _, x := range s {
		out = append(out, wire.OISample{TimeMs: x.ms, OpenInterest: h.qty(x.long)})
	}
	m.done(wire.OpenInterestReply{Reply: wire.OK(), Symbol: h.sym.Name, OpenInterest: h.qty(m.now), TimeMs: a.x.now(), History: out})
}

// appendSnapshot writes every symbol's series, trades and funding events.
func (a *historyActor) appendSnapshot(p []byte) []byte {
	p = binary.AppendUvarint(p, uint64(len(a.last)))
	for i := range a.last {
		p = a.last[i].AppendSnapshot(p)
		p = a.mark[i].AppendSnapshot(p)
		p = a.trades[i].AppendSnapshot(p)
		p = binary.AppendUvarint(p, uint64(len(a.funding[i])))
		for _, r := range a.funding[i] {
			p = binary.AppendVarint(p, r.ms)
			p = binary.AppendVarint(p, int64(r.rate))
			p = binary.AppendVarint(p, int64(r.mark))
		}
		u := a.marks[i]
		for _, v := range [...]int64{int64(u.Index), int64(u.Mark), int64(u.FundingRate), u.NextFundingMs} {
			p = binary.AppendVarint(p, v)
		}
		p = binary.AppendUvarint(p, uint64(len(a.oi[i])))
		for _, x := range a.oi[i] {
			p = binary.AppendVarint(p, x.ms)
			p = binary.AppendVarint(p, int64(x.long))
		}
	}
	return p
}

func (a *historyActor) loadSnapshot(d *payload) {
	if n := d.uvarint(); n != uint64(len(a.last)) {
		d.fail("history symbols")
		return
	}
	for i := range a.last {
		for _, s := range []*history.Series{&a.last[i], &a.mark[i]} {
			rest, err := s.DecodeSnapshot(d.p)
			if err != nil {
				d.fail("history series")
				return
			}
			d.p = rest
		}
		t, rest, err := history.DecodeTradesSnapshot(d.p)
		if err != nil {
			d.fail("history trades")
			return
		}
		a.trades[i], d.p = t.Resized(a.x.keep.RecentTrades), rest
		n := d.uvarint()
		if n > uint64(len(d.p)/3) {
			d.fail("history funding")
			return
		}
		a.funding[i] = make([]fundingRecord, n)
		for k := range a.funding[i] {
			a.funding[i][k] = fundingRecord{ms: d.varint(), rate: market.Rate(d.varint()), mark: book.Ticks(d.varint())}
		}
		a.funding[i] = keepNewest(a.funding[i], a.x.keep.FundingEvents) // the retention may have shrunk since
		a.marks[i] = market.MarkUpdate{Index: book.Ticks(d.varint()), Mark: book.Ticks(d.varint()), FundingRate: market.Rate(d.varint()),
			NextFundingMs: d.varint()}
		k := d.uvarint()
		if k > uint64(len(d.p)/2) {
			d.fail("history open interest")
			return
		}
		a.oi[i] = make([]oiSample, k)
		for j := range a.oi[i] {
			a.oi[i][j] = oiSample{ms: d.varint(), long: book.Lots(d.varint())}
		}
		a.oi[i] = keepNewest(a.oi[i], a.oiKept())
	}
}

// ---- the exchange's requests ----

// Klines answers a symbol's candles.
func (x *Exchange) Klines(sym string, req wire.Klines, done func(wire.KlinesReply)) {
	h := x.symbol(sym)
	if h == nil {
		done(wire.KlinesReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym), Klines: []wire.Kline{}})
		return
	}
	iv, err := history.ParseInterval(req.Interval)
	if err != nil {
		done(wire.KlinesReply{Reply: fail(wire.CodeBadRequest, "%v", err), Klines: []wire.Kline{}})
		return
	}
	done = durably(x, done) // as Depth: only what is on disk
	m := &klinesMsg{h: h, req: req, iv: iv, done: done}
	x.send(x.history, m, func(e *wire.Error) { done(wire.KlinesReply{Reply: wire.Fail(e), Klines: []wire.Kline{}}) })
}

// RecentTrades answers a symbol's newest trades.
func (x *Exchange) RecentTrades(sym string, req wire.RecentTrades, done func(wire.RecentTradesReply)) {
	h := x.symbol(sym)
	if h == nil {
		done(wire.RecentTradesReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym), Trades: []wire.Trade{}})
		return
	}
	done = durably(x, done)
	x.send(x.history, &recentTradesMsg{h: h, req: req, done: done}, func(e *wire.Error) {
		done(wire.RecentTradesReply{Reply: wire.Fail(e), Trades: []wire.Trade{}})
	})
}

// FundingHistory answers a symbol's funding events.
func (x *Exchange) FundingHistory(sym string, req wire.FundingHistory, done func(wire.FundingHistoryReply)) {
	h := x.symbol(sym)
	if h == nil {
		done(wire.FundingHistoryReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym), History: []wire.FundingRecord{}})
		return
	}
	done = durably(x, done)
	x.send(x.history, &fundingHistoryMsg{h: h, req: req, done: done}, func(e *wire.Error) {
		done(wire.FundingHistoryReply{Reply: wire.Fail(e), History: []wire.FundingRecord{}})
	})
}

// Ticker answers a symbol's 24-hour ticker.
func (x *Exchange) Ticker(sym string, done func(wire.TickerReply)) {
	h := x.symbol(sym)
	if h == nil {
		done(wire.TickerReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym)})
		return
	}
	done = durably(x, done)
	x.send(x.adl, &oiMsg{sym: h.idx, reply: func(oi book.Lots) {
		x.relay(x.history, &tickerMsg{h: h, oi: oi, done: done})
	}}, func(e *wire.Error) { done(wire.TickerReply{Reply: wire.Fail(e)}) })
}

// OpenInterest answers a symbol's open interest now (as the ADL ranking
// holds the positions) and its 5-minute history.
func (x *Exchange) OpenInterest(sym string, req wire.OpenInterestReq, done func(wire.OpenInterestReply)) {
	h := x.symbol(sym)
	if h == nil {
		done(wire.OpenInterestReply{Reply: fail(wire.CodeUnknownSymbol, "unknown symbol %q", sym), History: []wire.OISample{}})
		return
	}
	done = durably(x, done)
	x.send(x.adl, &oiMsg{sym: h.idx, reply: func(oi book.Lots) {
		x.relay(x.history, &openInterestMsg{h: h, req: req, now: oi, done: done})
	}}, func(e *wire.Error) { done(wire.OpenInterestReply{Reply: wire.Fail(e), History: []wire.OISample{}}) })
}

// trade is a fill as the history keeps it.
func histTrade(f *book.Fill, seq uint64, ms int64) history.Trade {
	return history.Trade{TimeMs: ms, Price: f.Price, Qty: f.Qty, TakerSide: f.TakerSide, Seq: seq}
}
