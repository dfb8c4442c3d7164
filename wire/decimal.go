package wire

import "github.com/shopspring/decimal"

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
	return decimal.New(c, int32(-frac)), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
