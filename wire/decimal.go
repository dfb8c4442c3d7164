package wire

import (
	"bytes"
	"strconv"
	"sync/atomic"

	"github.com/shopspring/decimal"
)

// MaxDecimalLen bounds a decimal string: enough for any price or quantity the
// exchange can hold, short enough that parsing costs nothing.
const MaxDecimalLen = 30

// maxInt64Digits is the most digits a coefficient may have to be
// accumulated in an int64 without overflow.
const maxInt64Digits = 18

// ParseDecimal parses s if it matches ^-?[0-9]+(\.[0-9]+)?$ and has at most
// MaxDecimalLen characters: no exponents, NaN, Inf, '+', spaces or bare dots.
func ParseDecimal(s string) (decimal.Decimal, bool) { return parseDecimal(s) }

// parseDecimal is ParseDecimal for a string or its bytes. It checks the
// syntax and accumulates the coefficient in one pass; a coefficient of at
// most maxInt64Digits digits becomes decimal.New(coefficient, -fraction
// digits) directly, which is what decimal.NewFromString builds for it,
// without the string conversion; longer ones go through NewFromString.
func parseDecimal[T ~string | ~[]byte](s T) (decimal.Decimal, bool) {
	if len(s) == 0 || len(s) > MaxDecimalLen {
		return decimal.Decimal{}, false
	}
	i := 0
	neg := s[0] == '-'
	if neg {
		i++
	}
	var coef uint64 // wraps past maxInt64Digits digits, where it is not used
	start := i
	for ; i < len(s) && isDigit(s[i]); i++ {
		coef = coef*10 + uint64(s[i]-'0')
	}
	intDigits := i - start
	if intDigits == 0 {
		return decimal.Decimal{}, false
	}
	frac := 0
	if i < len(s) {
		if s[i] != '.' {
			return decimal.Decimal{}, false
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
			coef = coef*10 + uint64(s[i]-'0')
			frac++
		}
		if frac == 0 || i != len(s) {
			return decimal.Decimal{}, false
		}
	}
	if intDigits+frac > maxInt64Digits {
		d, err := decimal.NewFromString(string(s))
		return d, err == nil
	}
	c := int64(coef)
	if neg {
		c = -c
	}
	return newDecimal(c, int32(-frac)), true
}

// decCacheSize is the number of entries of decCache (a power of two).
const decCacheSize = 4096

// decCache holds recently parsed decimals, direct-mapped by coefficient
// and exponent: an order's price and quantity are mostly a few values near
// the market, and decimal.New allocates twice (a big.Int and its word). A
// decimal.Decimal is immutable, so every request that wrote the same
// digits shares one.
var decCache [decCacheSize]atomic.Pointer[cachedDec]

type cachedDec struct {
	coef int64
	exp  int32
	d    decimal.Decimal
}

// newDecimal is decimal.New(c, exp), from decCache when it is there.
func newDecimal(c int64, exp int32) decimal.Decimal {
	h := uint64(c)*0x9e3779b97f4a7c15 ^ uint64(uint32(exp))*0xbf58476d1ce4e5b9
	e := &decCache[(h>>32)&(decCacheSize-1)]
	if v := e.Load(); v != nil && v.coef == c && v.exp == exp {
		return v.d
	}
	d := decimal.New(c, exp)
	e.Store(&cachedDec{coef: c, exp: exp, d: d})
	return d
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// appendDecimalString appends d.String(). A coefficient that fits in an
// int64 is formatted here with strconv, following the steps of String
// (including decimal.TrimTrailingZeros and decimal.UseScientificNotation),
// without its math/big conversion and string concatenations; any other
// value goes through String.
func appendDecimalString(dst []byte, d decimal.Decimal) []byte {
	c, ok := coefficientInt64(d)
	exp := int(d.Exponent())
	if !ok || exp > 0 && decimal.UseScientificNotation {
		return append(dst, d.String()...)
	}
	u := uint64(c)
	if c < 0 {
		dst = append(dst, '-')
		u = -u
	}
	var buf [20]byte
	digits := strconv.AppendUint(buf[:0], u, 10)
	if exp >= 0 { // String rescales to exponent 0: the digits, then exp zeros
		dst = append(dst, digits...)
		if u != 0 {
			dst = appendZeros(dst, exp)
		}
		return dst
	}
	// exp < 0: the last -exp digits, left-padded with lead zeros, are the
	// fraction.
	frac, lead := digits, 0
	if n := len(digits) + exp; n > 0 {
		dst = append(dst, digits[:n]...)
		frac = digits[n:]
	} else {
		dst = append(dst, '0')
		lead = -n
	}
	if decimal.TrimTrailingZeros {
		frac = bytes.TrimRight(frac, "0")
		if len(frac) == 0 {
			lead = 0
		}
	}
	if lead+len(frac) == 0 {
		return dst
	}
	dst = append(dst, '.')
	dst = appendZeros(dst, lead)
	return append(dst, frac...)
}

// coefficientInt64 returns d's coefficient if it fits in an int64. Below
// 20 digits the coefficient is under 2^64, so CoefficientInt64 (its low 64
// bits, negated if negative) has the coefficient's sign exactly when it
// fits; NumDigits of such a coefficient does not allocate.
func coefficientInt64(d decimal.Decimal) (int64, bool) {
	if d.NumDigits() > 19 {
		return 0, false
	}
	c := d.CoefficientInt64()
	return c, (c < 0) == (d.Sign() < 0)
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

// appendZeros appends n zeros.
func appendZeros(dst []byte, n int) []byte {
	for ; n > len(zeros); n -= len(zeros) {
		dst = append(dst, zeros...)
	}
	return append(dst, zeros[:n]...)
}
