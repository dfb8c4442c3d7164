package wire

import "github.com/shopspring/decimal"

// MaxDecimalLen bounds a decimal string: enough for any price or quantity the
// exchange can hold, short enough that parsing costs nothing.
const MaxDecimalLen = 30

// ParseDecimal parses s if it matches ^-?[0-9]+(\.[0-9]+)?$ and has at most
// MaxDecimalLen characters: no exponents, NaN, Inf, '+', spaces or bare dots.
func ParseDecimal(s string) (decimal.Decimal, bool) {
	if !plainDecimal(s) {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	return d, err == nil
}

func plainDecimal(s string) bool {
	if len(s) == 0 || len(s) > MaxDecimalLen {
		return false
	}
	i := 0
	if s[0] == '-' {
		i++
	}
	intDigits := digits(s[i:])
	if intDigits == 0 {
		return false
	}
	i += intDigits
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	frac := digits(s[i+1:])
	return frac > 0 && i+1+frac == len(s)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
