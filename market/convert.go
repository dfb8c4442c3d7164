package market

import (
	"fmt"

	"github.com/perpx/perpx/book"
	"github.com/shopspring/decimal"
)

// minExponent guards the decimal arithmetic against absurd inputs such as
// "1e-100000": Compile allows ticks and lots of at most maxSizeDecimals
// decimals, so a value written with more than 36 decimals is rejected as not
// a multiple (a limitation only for inputs padded with trailing zeros).
const minExponent = -36

// units returns d/unit; ok is false unless that is a whole number fitting in
// int64.
func units(d, unit decimal.Decimal) (v int64, ok bool) {
	if d.Exponent() < minExponent {
		return 0, false
	}
	q, r := d.QuoRem(unit, 0)
	if !r.IsZero() {
		return 0, false
	}
	bi := q.BigInt()
	if !bi.IsInt64() {
		return 0, false
	}
	return bi.Int64(), true
}

// PriceToTicks converts a decimal price to ticks. Errors: ErrPriceRange when
// d ≤ 0 or d > MaxPrice, ErrNotTickMultiple when d is not a whole number of
// ticks.
func (s *Symbol) PriceToTicks(d decimal.Decimal) (book.Ticks, error) {
	if d.Sign() <= 0 || d.GreaterThan(s.maxPriceDec) {
		return 0, fmt.Errorf("%w: %s must be in (0, %s]", ErrPriceRange, d, s.maxPriceDec)
	}
	v, ok := units(d, s.TickSize)
	if !ok {
		return 0, fmt.Errorf("%w: %s, tick %s", ErrNotTickMultiple, d, s.TickSize)
	}
	return book.Ticks(v), nil
}

// QtyToLots converts a decimal quantity to lots. Errors: ErrQtyRange when
// d ≤ 0 or d > MaxQty, ErrNotLotMultiple when d is not a whole number of lots.
func (s *Symbol) QtyToLots(d decimal.Decimal) (book.Lots, error) {
	if d.Sign() <= 0 || d.GreaterThan(s.maxQtyDec) {
		return 0, fmt.Errorf("%w: %s must be in (0, %s]", ErrQtyRange, d, s.maxQtyDec)
	}
	v, ok := units(d, s.LotSize)
	if !ok {
		return 0, fmt.Errorf("%w: %s, lot %s", ErrNotLotMultiple, d, s.LotSize)
	}
	return book.Lots(v), nil
}

// Price converts ticks to a decimal price.
func (s *Symbol) Price(t book.Ticks) decimal.Decimal {
	return s.TickSize.Mul(decimal.NewFromInt(int64(t)))
}

// Qty converts lots to a decimal quantity.
func (s *Symbol) Qty(l book.Lots) decimal.Decimal {
	return s.LotSize.Mul(decimal.NewFromInt(int64(l)))
}

// PriceOf returns the decimal price at which q lots are worth v (an average
// entry price: |v| / (|q| × lot); inverse, |q| × K × tick / |v|, the
// harmonic mean), rounded half away from zero to 8 decimals beyond the
// tick's. Zero when q (or an inverse v) is zero.
func (s *Symbol) PriceOf(v Money, q book.Lots) decimal.Decimal {
	if q == 0 || s.Kind == Inverse && v == 0 {
		return decimal.Zero
	}
	if s.Kind == Inverse { // the harmonic mean: contracts × size / coins
		num := decimal.NewFromInt(int64(abs(q))).Mul(decimal.NewFromInt(int64(s.InverseK))).Mul(s.TickSize)
		return num.DivRound(decimal.NewFromInt(int64(absInt(v))), 8-s.TickSize.Exponent())
	}
	num := v.Decimal().Abs()
	den := s.Qty(q).Abs()
	return num.DivRound(den, 8-s.TickSize.Exponent())
}

// NearestTick converts a price that need not be a tick multiple (an index
// price) to the nearest tick, halves away from zero, and at least 1; ok is
// false when d ≤ 0 or the nearest tick is above MaxPrice.
func (s *Symbol) NearestTick(d decimal.Decimal) (t book.Ticks, ok bool) {
	if d.Sign() <= 0 {
		return 0, false
	}
	n := d.Div(s.TickSize).Round(0)
	if !n.IsInteger() || n.GreaterThan(decimal.NewFromInt(int64(s.MaxPrice))) {
		return 0, false
	}
	v := n.IntPart()
	if v < 1 {
		v = 1
	}
	return book.Ticks(v), true
}
