package history

import (
	"sort"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Candle is one candle: prices in ticks, volume in lots, quote volume in
// Money (Σ price × qty as the symbol values it).
type Candle struct {
	OpenMs                 int64
	Open, High, Low, Close book.Ticks
	Volume                 book.Lots
	Quote                  market.Money
	Trades                 int64
}

// CloseMs is the candle's last millisecond for interval iv.
func (c Candle) CloseMs(iv Interval) int64 { return c.OpenMs + int64(iv) - 1 }

// Series is one price series' 1-minute candles with trades, oldest first.
type Series struct {
	// Retention is the most minutes kept (0: no limit).
	Retention int
	mins      []Candle
}

// Add records a trade (or, with qty 0, a price such as a mark: it moves
// the candle's prices, not its volume or trade count) at ms. A price older
// than the newest minute updates that older minute if it is still kept.
func (s *Series) Add(ms int64, price book.Ticks, qty book.Lots, quote market.Money) {
	if price <= 0 {
		return
	}
	open := Minute.Open(ms)
	n := len(s.mins)
	i := n
	if n > 0 && s.mins[n-1].OpenMs >= open {
		i = sort.Search(n, func(k int) bool { return s.mins[k].OpenMs >= open })
	}
	if i == n || s.mins[i].OpenMs != open {
		if i == 0 && n > 0 && s.Retention > 0 && n >= s.Retention {
			return // older than everything kept
		}
		s.mins = append(s.mins, Candle{})
		copy(s.mins[i+1:], s.mins[i:])
		s.mins[i] = Candle{OpenMs: open, Open: price, High: price, Low: price, Close: price}
		if s.Retention > 0 && len(s.mins) > s.Retention {
			drop := len(s.mins) - s.Retention
			s.mins = append(s.mins[:0], s.mins[drop:]...)
			i -= drop
		}
	}
	c := &s.mins[i]
	c.High, c.Low, c.Close = max(c.High, price), min(c.Low, price), price
	if qty > 0 {
		c.Volume += qty
		c.Quote += quote
		c.Trades++
	}
}

// LastOpenMs is the open time of the newest minute kept (0: none).
func (s *Series) LastOpenMs() int64 {
	if len(s.mins) == 0 {
		return 0
	}
	return s.mins[len(s.mins)-1].OpenMs
}

// Len is the number of minutes with trades kept.
func (s *Series) Len() int { return len(s.mins) }

// Candles appends to dst the candles of iv whose open times lie in
// [startMs, endMs], oldest first, at most limit of them: when startMs is 0,
// the last limit before endMs. Buckets without trades repeat the previous
// close; nothing is reported before the first kept minute.
func (s *Series) Candles(iv Interval, startMs, endMs int64, limit int, dst []Candle) []Candle {
	if len(s.mins) == 0 || limit <= 0 || iv < Minute || int64(iv)%int64(Minute) != 0 {
		return dst
	}
	first := iv.Open(s.mins[0].OpenMs)
	end := iv.Open(endMs)
	start := iv.Open(startMs)
	if start < startMs { // the first candle opening at or after startMs
		start += int64(iv)
	}
	if startMs == 0 {
		start = end - int64(limit-1)*int64(iv)
	}
	start = max(start, first)
	for b := start; b <= end && limit > 0; b += int64(iv) {
		dst = append(dst, s.bucket(iv, b))
		limit--
	}
	return dst
}

// bucket aggregates the minutes in [open, open+iv).
func (s *Series) bucket(iv Interval, open int64) Candle {
	i := sort.Search(len(s.mins), func(k int) bool { return s.mins[k].OpenMs >= open })
	c := Candle{OpenMs: open}
	for ; i < len(s.mins) && s.mins[i].OpenMs < open+int64(iv); i++ {
		m := &s.mins[i]
		if c.Open == 0 {
			c.Open, c.High, c.Low = m.Open, m.High, m.Low
		}
		c.High, c.Low, c.Close = max(c.High, m.High), min(c.Low, m.Low), m.Close
		c.Volume += m.Volume
		c.Quote += m.Quote
		c.Trades += m.Trades
	}
	if c.Open == 0 { // no trade: the previous close, flat
		p := s.closeBefore(open)
		c.Open, c.High, c.Low, c.Close = p, p, p, p
	}
	return c
}

// closeBefore is the close of the last minute before ms (0: none).
func (s *Series) closeBefore(ms int64) book.Ticks {
	i := sort.Search(len(s.mins), func(k int) bool { return s.mins[k].OpenMs >= ms })
	if i == 0 {
		return 0
	}
	return s.mins[i-1].Close
}

// Window is a rolling window's summary (a 24 h ticker's).
type Window struct {
	Open, High, Low, Last book.Ticks
	Volume                book.Lots
	Quote                 market.Money
	Trades                int64
}

// Window summarizes the minutes in (nowMs − d, nowMs] at minute
// granularity: Open is the close before the window (the price d ago; the
// first open in it when there is none), High, Low, volumes and trades over
// the window's minutes, Last the newest close. Without a trade in it, every
// price is the close before; zero without any trade at all.
func (s *Series) Window(nowMs int64, d Interval) Window {
	from := Minute.Open(nowMs - int64(d) + int64(Minute))
	i := sort.Search(len(s.mins), func(k int) bool { return s.mins[k].OpenMs >= from })
	var w Window
	var before book.Ticks
	if i > 0 {
		before = s.mins[i-1].Close
	}
	for ; i < len(s.mins) && s.mins[i].OpenMs <= nowMs; i++ {
		m := &s.mins[i]
		if w.High == 0 {
			w = Window{Open: m.Open, High: m.High, Low: m.Low}
		}
		w.High, w.Low, w.Last = max(w.High, m.High), min(w.Low, m.Low), m.Close
		w.Volume += m.Volume
		w.Quote += m.Quote
		w.Trades += m.Trades
	}
	switch {
	case w.High == 0:
		w = Window{Open: before, High: before, Low: before, Last: before}
	case before != 0:
		w.Open = before
	}
	return w
}
