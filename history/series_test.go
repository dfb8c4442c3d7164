package history

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

func at(minutes, seconds, ms int) int64 {
	return t0 + int64(minutes)*60_000 + int64(seconds)*1000 + int64(ms)
}

func c(open int64, o, h, l, cl book.Ticks, vol book.Lots, trades int64) Candle {
	return Candle{OpenMs: open, Open: o, High: h, Low: l, Close: cl, Volume: vol, Quote: market.Money(0), Trades: trades}
}

// trade adds a trade whose quote volume is price × qty.
func trade(s *Series, ms int64, p book.Ticks, q book.Lots) {
	s.Add(ms, p, q, market.Money(int64(p)*int64(q)))
}

// TestCandlesByHand: a known trade sequence against hand-computed candles:
// the first trade exactly at a minute's open belongs to it, the last
// millisecond of a minute too, an empty minute repeats the close with zero
// volume, and the 3m/5m/1h/1d candles aggregate the minutes.
func TestCandlesByHand(t *testing.T) {
	var s Series
	trade(&s, at(0, 0, 0), 100, 1)    // 00:00:00.000 opens minute 0
	trade(&s, at(0, 30, 0), 105, 2)   //
	trade(&s, at(0, 59, 999), 98, 1)  // the minute's last millisecond
	trade(&s, at(2, 0, 0), 101, 3)    // minute 1 is empty
	trade(&s, at(2, 59, 999), 110, 1) //
	trade(&s, at(3, 0, 0), 107, 4)    // opens the second 3m bucket
	trade(&s, at(7, 15, 0), 95, 2)    // minutes 4-6 empty
	trade(&s, at(60, 0, 0), 120, 5)   // the second hour
	trade(&s, at(1440, 0, 0), 130, 1) // the second day
	s.Add(at(1440, 10, 0), 140, 0, 0) // a mark-style price: no volume, no trade
	q := func(cs []Candle) []Candle { // the tests compare quote as Σ p×q
		for i := range cs {
			cs[i].Quote = 0
		}
		return cs
	}
	check := func(iv Interval, start, end int64, limit int, want ...Candle) {
		t.Helper()
		got := q(s.Candles(iv, start, end, limit, nil))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s [%d, %d] limit %d:\n got %v\nwant %v", iv, start-t0, end-t0, limit, got, want)
		}
	}
	check(Minute, at(0, 0, 0), at(8, 0, 0), 100,
		c(at(0, 0, 0), 100, 105, 98, 98, 4, 3),
		c(at(1, 0, 0), 98, 98, 98, 98, 0, 0),
		c(at(2, 0, 0), 101, 110, 101, 110, 4, 2),
		c(at(3, 0, 0), 107, 107, 107, 107, 4, 1),
		c(at(4, 0, 0), 107, 107, 107, 107, 0, 0),
		c(at(5, 0, 0), 107, 107, 107, 107, 0, 0),
		c(at(6, 0, 0), 107, 107, 107, 107, 0, 0),
		c(at(7, 0, 0), 95, 95, 95, 95, 2, 1),
		c(at(8, 0, 0), 95, 95, 95, 95, 0, 0))
	check(3*Minute, at(0, 0, 0), at(8, 0, 0), 100,
		c(at(0, 0, 0), 100, 110, 98, 110, 8, 5),
		c(at(3, 0, 0), 107, 107, 107, 107, 4, 1),
		c(at(6, 0, 0), 95, 95, 95, 95, 2, 1))
	check(5*Minute, at(0, 0, 0), at(9, 59, 0), 100,
		c(at(0, 0, 0), 100, 110, 98, 107, 12, 6),
		c(at(5, 0, 0), 95, 95, 95, 95, 2, 1))
	check(Hour, at(0, 0, 0), at(120, 0, 0), 100,
		c(at(0, 0, 0), 100, 110, 95, 95, 14, 7),
		c(at(60, 0, 0), 120, 120, 120, 120, 5, 1),
		c(at(120, 0, 0), 120, 120, 120, 120, 0, 0))
	check(Day, at(0, 0, 0), at(1440, 30, 0), 100,
		c(at(0, 0, 0), 100, 120, 95, 120, 19, 8),
		c(at(1440, 0, 0), 130, 140, 130, 140, 1, 1))
	// The last 2 before an end, and nothing before the first trade.
	check(Minute, 0, at(8, 30, 0), 2, c(at(7, 0, 0), 95, 95, 95, 95, 2, 1), c(at(8, 0, 0), 95, 95, 95, 95, 0, 0))
	check(Hour, at(-120, 0, 0), at(0, 0, 0), 10, c(at(0, 0, 0), 100, 110, 95, 95, 14, 7))
	if got := s.Candles(Minute, at(0, 0, 0), at(5, 0, 0), 2, nil); len(got) != 2 || got[1].OpenMs != at(1, 0, 0) {
		t.Errorf("limit from a start: %v", got)
	}
	if got := s.Candles(Minute, at(0, 0, 0), at(0, 0, 0), 10, nil); len(got) != 1 || got[0].Quote != 100+210+98 {
		t.Errorf("quote volume of minute 0: %v", got)
	}
}

// TestCoarserAreAggregations: on random trades, every interval's candles
// are the aggregation of the 1m candles in them.
func TestCoarserAreAggregations(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var s Series
	ms := t0 + 17_345
	p := book.Ticks(10_000)
	for range 20_000 {
		ms += rng.Int64N(180_000) // up to 3 minutes apart: empty minutes happen
		p = max(1, p+book.Ticks(rng.Int64N(41)-20))
		trade(&s, ms, p, book.Lots(1+rng.Int64N(9)))
	}
	start, end := t0, ms
	mins := s.Candles(Minute, start, end, 1<<30, nil)
	for _, iv := range Intervals()[1:] {
		got := s.Candles(iv, start, end, 1<<30, nil)
		want := aggregate(mins, iv)
		if len(got) != len(want) {
			t.Fatalf("%s: %d candles, %d by aggregation", iv, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s candle %d: %+v, aggregated %+v", iv, i, got[i], want[i])
			}
		}
	}
}

// aggregate groups 1m candles by iv: a bucket's prices come from its
// minutes with trades; one without any repeats the previous close.
func aggregate(mins []Candle, iv Interval) []Candle {
	var out []Candle
	for _, m := range mins {
		o := iv.Open(m.OpenMs)
		if n := len(out); n == 0 || out[n-1].OpenMs != o {
			out = append(out, Candle{OpenMs: o, Open: m.Open, High: m.High, Low: m.Low, Close: m.Close})
		}
		a := &out[len(out)-1]
		if m.Trades == 0 {
			continue // a flat minute: the previous close, no news
		}
		if a.Trades == 0 { // the bucket's first traded minute opens it
			a.Open, a.High, a.Low = m.Open, m.High, m.Low
		}
		a.High, a.Low, a.Close = max(a.High, m.High), min(a.Low, m.Low), m.Close
		a.Volume += m.Volume
		a.Quote += m.Quote
		a.Trades += m.Trades
	}
	return out
}

func TestRetentionAndWindow(t *testing.T) {
	s := Series{Retention: 3}
	for i := range 5 {
		trade(&s, at(i, 0, 0), book.Ticks(100+i), 1)
	}
	if s.Len() != 3 {
		t.Fatalf("kept %d minutes", s.Len())
	}
	if got := s.Candles(Minute, at(0, 0, 0), at(4, 0, 0), 10, nil); len(got) != 3 || got[0].OpenMs != at(2, 0, 0) {
		t.Fatalf("after retention: %v", got)
	}
	trade(&s, at(0, 0, 0), 50, 1) // older than everything kept: dropped
	if s.Len() != 3 {
		t.Fatal("an old trade came back")
	}

	var w Series
	trade(&w, at(0, 0, 0), 100, 1)
	trade(&w, at(30, 0, 0), 120, 2)
	trade(&w, at(90, 0, 0), 90, 3)
	// The last hour at 01:30:30: opens at the close before it (120), high 120
	// low 90 over... only minute 90 is inside (00:31 … 01:30).
	if got := w.Window(at(90, 30, 0), Hour); got != (Window{Open: 120, High: 90, Low: 90, Last: 90, Volume: 3, Quote: 270, Trades: 1}) {
		t.Fatalf("window %+v", got)
	}
	if got := w.Window(at(200, 0, 0), Hour); got != (Window{Open: 90, High: 90, Low: 90, Last: 90}) {
		t.Fatalf("an hour without trades: %+v", got)
	}
	if got := w.Window(at(90, 0, 0), 2*Hour); got != (Window{Open: 100, High: 120, Low: 90, Last: 90, Volume: 6, Quote: 100 + 240 + 270, Trades: 3}) {
		t.Fatalf("two hours %+v", got)
	}
}

func TestIntervals(t *testing.T) {
	for _, iv := range Intervals() {
		got, err := ParseInterval(iv.String())
		if err != nil || got != iv {
			t.Fatalf("%s: %v %v", iv, got, err)
		}
		if iv.Open(t0+int64(iv)+5) != t0+int64(iv) || iv.Open(t0-1) != t0-int64(iv) {
			t.Fatalf("%s: open times", iv)
		}
	}
	if _, err := ParseInterval("2m"); err == nil {
		t.Fatal("2m accepted")
	}
}

func TestRecentTrades(t *testing.T) {
	r := NewTrades(3)
	for i := range 5 {
		r.Add(Trade{Seq: uint64(i + 1)})
	}
	if got := r.Recent(10, nil); len(got) != 3 || got[0].Seq != 3 || got[2].Seq != 5 {
		t.Fatalf("%+v", got)
	}
	if got := r.Recent(2, nil); len(got) != 2 || got[0].Seq != 4 {
		t.Fatalf("%+v", got)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	var s Series
	r := NewTrades(4)
	for i := range 50 {
		trade(&s, at(i*2, i, 0), book.Ticks(100+i%7), book.Lots(1+i%3))
		r.Add(Trade{TimeMs: at(i, 0, 0), Price: book.Ticks(100 + i), Qty: 1, TakerSide: book.Sell, Seq: uint64(i)})
	}
	p := r.AppendSnapshot(s.AppendSnapshot(nil))
	var s2 Series
	rest, err := s2.DecodeSnapshot(p)
	if err != nil {
		t.Fatal(err)
	}
	r2, rest, err := DecodeTradesSnapshot(rest)
	if err != nil || len(rest) != 0 {
		t.Fatal(err, len(rest))
	}
	if fmt.Sprint(s2.Candles(Hour, t0, at(200, 0, 0), 10, nil)) != fmt.Sprint(s.Candles(Hour, t0, at(200, 0, 0), 10, nil)) ||
		fmt.Sprint(r2.Recent(10, nil)) != fmt.Sprint(r.Recent(10, nil)) {
		t.Fatal("round trip differs")
	}
	for i := range p { // damage never panics
		q := append([]byte(nil), p...)
		q[i] ^= 0xff
		var s3 Series
		if rest, err := s3.DecodeSnapshot(q); err == nil {
			_, _, _ = DecodeTradesSnapshot(rest)
		}
		_, _, _ = DecodeTradesSnapshot(q[:i])
	}
}

func TestTradesResized(t *testing.T) {
	r := NewTrades(5)
	for i := range 5 {
		r.Add(Trade{Seq: uint64(i + 1)})
	}
	if r.Resized(5) != r {
		t.Fatal("same capacity: a copy")
	}
	small := r.Resized(2)
	if got := small.Recent(10, nil); len(got) != 2 || got[0].Seq != 4 || got[1].Seq != 5 {
		t.Fatalf("shrunk to 2: %+v", got)
	}
	big := r.Resized(10)
	big.Add(Trade{Seq: 6})
	if got := big.Recent(10, nil); len(got) != 6 || got[0].Seq != 1 || got[5].Seq != 6 {
		t.Fatalf("grown to 10: %+v", got)
	}
}
