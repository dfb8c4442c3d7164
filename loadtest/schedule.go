package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// Schedule is the open-loop send plan of one connection. The run as a whole
// sends at Rate requests per second; its global request g is due at
// floor(g×1e9/Rate) ns after the start, and a connection of Stride
// connections owns the global requests Offset, Offset+Stride, … Limit caps
// the run's global count (0: no cap). Times are nanoseconds since the start.
type Schedule struct {
	Rate   uint64 // requests per second, whole run; > 0
	Stride uint64 // connections sharing the run; > 0
	Offset uint64 // this connection's slot, < Stride
	Limit  uint64 // global requests in the run, 0 for unbounded
}

// At returns when this connection's i-th request is due.
func (s Schedule) At(i uint64) int64 {
	g := i*s.Stride + s.Offset
	return int64(mulDiv(g, uint64(time.Second), s.Rate))
}

// Due returns how many of this connection's requests are due at elapsed,
// that is the number of i with At(i) <= elapsed, capped by Limit.
func (s Schedule) Due(elapsed int64) uint64 {
	if elapsed < 0 {
		return 0
	}
	// floor(g×1e9/Rate) <= e  ⇔  g×1e9 < (e+1)×Rate  ⇔  g <= ((e+1)×Rate-1)/1e9
	hi, lo := bits.Mul64(uint64(elapsed)+1, s.Rate)
	lo, borrow := bits.Sub64(lo, 1, 0)
	hi -= borrow
	last := uint64(math.MaxUint64) // the last due global index
	if hi < uint64(time.Second) {
		last, _ = bits.Div64(hi, lo, uint64(time.Second))
	}
	if s.Limit > 0 && last >= s.Limit {
		if s.Limit <= s.Offset {
			return 0
		}
		last = s.Limit - 1
	}
	if last < s.Offset {
		return 0
	}
	return (last-s.Offset)/s.Stride + 1
}

// Total returns this connection's share of Limit; meaningless when Limit
// is 0 (unbounded).
func (s Schedule) Total() uint64 {
	if s.Limit <= s.Offset {
		return 0
	}
	return (s.Limit-1-s.Offset)/s.Stride + 1
}

// mulDiv returns floor(a×b/c) without intermediate overflow; the quotient
// must fit 64 bits, which holds for any run shorter than centuries.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, c)
	return q
}
