package market

import (
	"math"
	"math/bits"
	"sync/atomic"

	"github.com/perpx/perpx/book"
	"github.com/shopspring/decimal"
)

// Conv is a symbol's conversions between decimals and ticks, lots and
// money on integer fast paths: the same values as Symbol's Price, Qty,
// PriceToTicks, QtyToLots and PriceOf, without their math/big arithmetic
// (Mul, QuoRem, DivRound), which on the order path costs more than the risk
// check and the match together.
//
// A tick or lot size is a coefficient × 10^exp; the fast paths compute with
// int64 and fall back to the Symbol whenever an operand does not fit, so
// Symbol stays the one place that decides (and words) a refusal: a fast
// path only ever answers when the Symbol would answer the same value, in the
// same representation (coefficient and exponent), so the JSON encoders
// write the same bytes.
//
// A Conv also caches the decimals it builds (prices by tick, small
// quantities, average prices): a decimal.Decimal is immutable, so one value
// can be shared by every caller. It is safe for concurrent use (the caches
// are atomic pointers to immutable entries, and an entry only remembers a
// value any caller would compute). Build one per symbol with NewConv and
// share it; copies share the caches. The zero Conv is not usable.
type Conv struct {
	s         *Symbol
	tick, lot unit
	// lots[n] is n lots for the small quantities most orders have.
	lots []decimal.Decimal
	// ticks caches prices by tick, direct-mapped: trades, depth and fills
	// happen at a few prices near the mark.
	ticks *[convCacheSize]atomic.Pointer[tickDec]
	// avgs caches average prices by coefficient, direct-mapped: most
	// orders fill at one price, near the mark, so their averages repeat.
	avgs *[convCacheSize]atomic.Pointer[avgDec]
}

// convSmallLots is how many quantities Conv.lots holds.
const convSmallLots = 1024

// convCacheSize is the number of entries of Conv.ticks and Conv.avgs (a
// power of two).
const (
	convCacheBits = 12
	convCacheSize = 1 << convCacheBits
)

type tickDec struct {
	t book.Ticks
	d decimal.Decimal
}

type avgDec struct {
	coef int64
	d    decimal.Decimal
}

// NewConv returns s's converter.
func NewConv(s *Symbol) Conv {
	c := Conv{s: s, tick: newUnit(s.TickSize), lot: newUnit(s.LotSize),
		ticks: new([convCacheSize]atomic.Pointer[tickDec]), avgs: new([convCacheSize]atomic.Pointer[avgDec])}
	if c.lot.ok {
		c.lots = make([]decimal.Decimal, convSmallLots)
		for n := range c.lots {
			c.lots[n], _ = c.lot.dec(int64(n))
		}
	}
	return c
}

// TickExp is the exponent of every price Price returns (the tick size's):
// a decimal price written at this exponent has the very representation
// Price gives its ticks.
func (c *Conv) TickExp() int32 { return c.tick.exp }

// LotExp is the exponent of every quantity Qty returns (the lot size's),
// as TickExp is for prices.
func (c *Conv) LotExp() int32 { return c.lot.exp }

// Price is Symbol.Price(t).
func (c *Conv) Price(t book.Ticks) decimal.Decimal {
	e := &c.ticks[uint64(t)&(convCacheSize-1)]
	if h := e.Load(); h != nil && h.t == t {
		return h.d
	}
	d, ok := c.tick.dec(int64(t))
	if !ok {
		return c.s.Price(t)
	}
	e.Store(&tickDec{t: t, d: d})
	return d
}

// Qty is Symbol.Qty(l).
func (c *Conv) Qty(l book.Lots) decimal.Decimal {
	if l >= 0 && int64(l) < int64(len(c.lots)) {
		return c.lots[l]
	}
	if d, ok := c.lot.dec(int64(l)); ok {
		return d
	}
	return c.s.Qty(l)
}

// Ticks is Symbol.PriceToTicks(d), errors included.
func (c *Conv) Ticks(d decimal.Decimal) (book.Ticks, error) {
	if n, ok := c.tick.count(d, int64(c.s.MaxPrice)); ok {
		return book.Ticks(n), nil
	}
	return c.s.PriceToTicks(d)
}

// Lots is Symbol.QtyToLots(d), errors included.
func (c *Conv) Lots(d decimal.Decimal) (book.Lots, error) {
	if n, ok := c.lot.count(d, int64(c.s.MaxQty)); ok {
		return book.Lots(n), nil
	}
	return c.s.QtyToLots(d)
}

// AvgPrice is Symbol.PriceOf(v, q): |v| / (|q| × lot), rounded half away
// from zero to 8 decimals beyond the tick's. In integers, at exponent −P
// with P = 8 − tick.exp: round(|v|·10^(−tick.exp − lot.exp) / (|q|·lot.coef)),
// v being in units of 10^−8.
func (c *Conv) AvgPrice(v Money, q book.Lots) decimal.Decimal {
	if q == 0 {
		return decimal.Zero
	}
	n, ok := c.avgCoef(int64(absInt(v)), int64(absInt(q)))
	if !ok || c.s.Kind == Inverse {
		return c.s.PriceOf(v, q)
	}
	// Fibonacci hashing: the coefficients' low bits are mostly zeros.
	e := &c.avgs[(uint64(n)*0x9E3779B97F4A7C15)>>(64-convCacheBits)]
	if a := e.Load(); a != nil && a.coef == n {
		return a.d
	}
	d := decimal.New(n, c.tick.exp-MoneyDecimals)
	e.Store(&avgDec{coef: n, d: d})
	return d
}

// avgCoef is AvgPrice's coefficient, at exponent tick.exp − 8, for v ≥ 0
// and q > 0.
func (c *Conv) avgCoef(v, q int64) (int64, bool) {
	if !c.tick.ok || !c.lot.ok || v < 0 || q <= 0 {
		return 0, false
	}
	den, ok := mul64(q, c.lot.coef)
	if !ok {
		return 0, false
	}
	k := -int(c.tick.exp) - int(c.lot.exp)
	if k < 0 {
		if -k >= len(pow10) {
			return 0, false
		}
		if den, ok = mul64(den, pow10[-k]); !ok {
			return 0, false
		}
		k = 0
	}
	if k >= len(pow10) {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(v), uint64(pow10[k]))
	if hi >= uint64(den) {
		return 0, false
	}
	quo, rem := bits.Div64(hi, lo, uint64(den))
	if rem >= uint64(den)-rem { // 2·rem ≥ den: half away from zero
		quo++
	}
	if quo > math.MaxInt64 {
		return 0, false
	}
	return int64(quo), true
}

// unit is a tick or lot size as coefficient × 10^exp.
type unit struct {
	coef int64
	exp  int32
	ok   bool // the size is positive and its coefficient fits in an int64 (always, for compiled symbols)
}

func newUnit(d decimal.Decimal) unit {
	u := unit{exp: d.Exponent()}
	if d.NumDigits() <= 18 && d.Sign() > 0 {
		u.coef, u.ok = d.CoefficientInt64(), true
	}
	return u
}

// pow10 holds 10^0 … 10^18.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// mul64 returns a×b when it fits in an int64 (a, b ≥ 0).
func mul64(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

func absInt[T ~int64](v T) T {
	if v < 0 {
		return -v
	}
	return v
}

// dec returns n units as a decimal: coefficient n×coef at the unit's
// exponent, exactly what Symbol's Price/Qty (unit.Mul(n)) build.
func (u unit) dec(n int64) (decimal.Decimal, bool) {
	if !u.ok {
		return decimal.Decimal{}, false
	}
	c, ok := mul64(absInt(n), u.coef)
	if !ok {
		return decimal.Decimal{}, false
	}
	if n < 0 {
		c = -c
	}
	return decimal.New(c, u.exp), true
}

// count returns d / unit when d is a positive whole number of units of at
// most max; ok is false in every other case (not a multiple, out of range,
// or an operand too large for the fast path).
func (u unit) count(d decimal.Decimal, max int64) (int64, bool) {
	if !u.ok || d.Sign() <= 0 || d.NumDigits() > 18 {
		return 0, false
	}
	c, e := d.CoefficientInt64(), d.Exponent()
	if e < minExponent || e > -minExponent { // no absurd shifts
		return 0, false
	}
	var n int64
	if k := int(e) - int(u.exp); k >= 0 { // d = c×10^k units of 10^u.exp
		if k >= len(pow10) {
			return 0, false
		}
		v, ok := mul64(c, pow10[k])
		if !ok || v%u.coef != 0 {
			return 0, false
		}
		n = v / u.coef
	} else { // the unit is c' × 10^-k of d's digits
		if -k >= len(pow10) {
			return 0, false
		}
		div, ok := mul64(u.coef, pow10[-k])
		if !ok || c%div != 0 {
			return 0, false
		}
		n = c / div
	}
	if n < 1 || n > max {
		return 0, false
	}
	return n, true
}
