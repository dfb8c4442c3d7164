package market

import (
	"math"
	"math/bits"

	"github.com/shopspring/decimal"
)

// Money is an amount of the settlement asset (USDT) in units of 1e-8.
// Every balance, margin, fee and PnL on a hot path is Money; decimal is only
// used to parse and print it.
type Money int64

// Rate is a dimensionless fraction in units of 1e-8 (0.0002 = 20_000):
// margin rates, fee rates, funding rates.
type Rate int64

const (
	// MoneyScale is the number of Money units in one unit of the asset.
	MoneyScale = 100_000_000
	// MoneyDecimals is the number of decimals Money keeps.
	MoneyDecimals = 8
	// RateScale is the number of Rate units in 1.0.
	RateScale = 100_000_000
)

// MulDiv returns a*b/c rounded toward zero (up=false) or away from zero
// (up=true), using a 128-bit intermediate so a*b never overflows. ok is false
// when c is zero or the result does not fit in int64.
func MulDiv(a, b, c int64, up bool) (r int64, ok bool) {
	if c == 0 {
		return 0, false
	}
	neg := (a < 0) != (b < 0) != (c < 0)
	ua, ub, uc := abs64(a), abs64(b), abs64(c)
	hi, lo := bits.Mul64(ua, ub)
	if hi >= uc {
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, uc)
	if up && rem != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(q), true
	}
	return int64(q), true
}

// MustMulDiv is MulDiv for callers whose inputs are bounded by validated
// config; an overflow there is a broken invariant, so it panics.
func MustMulDiv(a, b, c int64, up bool) int64 {
	r, ok := MulDiv(a, b, c, up)
	if !ok {
		panic("market: MulDiv overflow")
	}
	return r
}

func abs64(x int64) uint64 {
	if x < 0 {
		return uint64(-x)
	}
	return uint64(x)
}

// MulRate returns m*r rounded toward zero or away from it.
func (m Money) MulRate(r Rate, up bool) Money {
	return Money(MustMulDiv(int64(m), int64(r), RateScale, up))
}

// Decimal converts Money to a decimal for JSON and reports.
func (m Money) Decimal() decimal.Decimal { return decimal.New(int64(m), -MoneyDecimals) }

func (m Money) String() string { return m.Decimal().String() }

// Decimal converts a Rate to a decimal.
func (r Rate) Decimal() decimal.Decimal { return decimal.New(int64(r), -MoneyDecimals) }

func (r Rate) String() string { return r.Decimal().String() }

// MoneyFromDecimal converts d to Money; ok is false if d has more than 8
// decimals or does not fit.
func MoneyFromDecimal(d decimal.Decimal) (Money, bool) {
	v, ok := scaledInt(d, MoneyDecimals)
	return Money(v), ok
}

// RateFromDecimal converts d to a Rate; ok is false if d has more than 8
// decimals or does not fit.
func RateFromDecimal(d decimal.Decimal) (Rate, bool) {
	v, ok := scaledInt(d, MoneyDecimals)
	return Rate(v), ok
}

// scaledInt returns d*10^places as an int64 when that is exact and fits.
func scaledInt(d decimal.Decimal, places int32) (int64, bool) {
	s := d.Shift(places)
	if !s.Equal(s.Truncate(0)) {
		return 0, false
	}
	bi := s.BigInt()
	if !bi.IsInt64() {
		return 0, false
	}
	return bi.Int64(), true
}
