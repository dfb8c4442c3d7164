package history

import "fmt"

// Interval is a candle length in milliseconds.
type Interval int64

const (
	Minute Interval = 60_000
	Hour            = 60 * Minute
	Day             = 24 * Hour
)

// intervals are the names Binance's klines accept, in order.
var intervals = []struct {
	name string
	iv   Interval
}{
	{"1m", Minute}, {"3m", 3 * Minute}, {"5m", 5 * Minute}, {"15m", 15 * Minute}, {"30m", 30 * Minute},
	{"1h", Hour}, {"2h", 2 * Hour}, {"4h", 4 * Hour}, {"6h", 6 * Hour}, {"8h", 8 * Hour}, {"12h", 12 * Hour},
	{"1d", Day},
}

// ParseInterval maps "1m" … "1d" to an Interval.
func ParseInterval(s string) (Interval, error) {
	for _, x := range intervals {
		if x.name == s {
			return x.iv, nil
		}
	}
	return 0, fmt.Errorf("history: unknown interval %q (one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d)", s)
}

// Intervals returns every interval, shortest first.
func Intervals() []Interval {
	out := make([]Interval, len(intervals))
	for i, x := range intervals {
		out[i] = x.iv
	}
	return out
}

func (iv Interval) String() string {
	for _, x := range intervals {
		if x.iv == iv {
			return x.name
		}
	}
	return fmt.Sprintf("%dms", int64(iv))
}

// Open is the open time of the candle of iv holding ms.
func (iv Interval) Open(ms int64) int64 {
	n := int64(iv)
	o := ms / n * n
	if ms < 0 && ms%n != 0 {
		o -= n
	}
	return o
}
