package loadtest

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// SymbolInfo is what a client must know to send valid orders on a symbol.
// The API has no symbol-listing endpoint, so the caller supplies it.
type SymbolInfo struct {
	Name string
	Tick decimal.Decimal
	Lot  decimal.Decimal
	// Price is the reference price: the index the load test sets with
	// --index manual, and the last-resort mark when the exchange publishes
	// none. Zero means unknown.
	Price decimal.Decimal
}

// ErrSymbol is wrapped by every symbol specification error.
var ErrSymbol = errors.New("loadtest: bad symbol")

// DemoSymbols returns the exchange's demo symbols (API.md) with the prices
// the load test starts them at.
func DemoSymbols() []SymbolInfo {
	return []SymbolInfo{
		{Name: "BTC-PERP", Tick: decimal.RequireFromString("0.1"), Lot: decimal.RequireFromString("0.001"), Price: decimal.NewFromInt(30000)},
		{Name: "ETH-PERP", Tick: decimal.RequireFromString("0.01"), Lot: decimal.RequireFromString("0.01"), Price: decimal.NewFromInt(2000)},
	}
}

// ParseSymbols parses a comma-separated list of NAME or NAME:TICK:LOT[:PRICE].
// A bare NAME must be a demo symbol.
func ParseSymbols(spec string) ([]SymbolInfo, error) {
	demo := map[string]SymbolInfo{}
	for _, s := range DemoSymbols() {
		demo[s.Name] = s
	}
	var out []SymbolInfo
	seen := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		parts := strings.Split(strings.TrimSpace(item), ":")
		var s SymbolInfo
		switch len(parts) {
		case 1:
			d, ok := demo[parts[0]]
			if !ok {
				return nil, fmt.Errorf("%w %q: not a demo symbol; give NAME:TICK:LOT[:PRICE]", ErrSymbol, parts[0])
			}
			s = d
		case 3, 4:
			s.Name = parts[0]
			nums := []*decimal.Decimal{&s.Tick, &s.Lot, &s.Price}
			for i, p := range parts[1:] {
				d, ok := wire.ParseDecimal(p)
				if !ok || d.Sign() <= 0 {
					return nil, fmt.Errorf("%w %q: %q is not a positive decimal", ErrSymbol, item, p)
				}
				*nums[i] = d
			}
		default:
			return nil, fmt.Errorf("%w %q: want NAME or NAME:TICK:LOT[:PRICE]", ErrSymbol, item)
		}
		if !wire.ValidToken(s.Name) || seen[s.Name] {
			return nil, fmt.Errorf("%w %q: name must be a unique [A-Za-z0-9_-] token", ErrSymbol, s.Name)
		}
		seen[s.Name] = true
		out = append(out, s)
	}
	return out, nil
}

// fixed is a positive step (tick or lot) as mantissa × 10^-scale, so that a
// count of steps formats as a decimal without decimal arithmetic per order.
type fixed struct {
	mant  int64
	scale int
	f     float64 // the step as a float, for sizing only
}

func newFixed(d decimal.Decimal) (fixed, error) {
	if d.Sign() <= 0 {
		return fixed{}, fmt.Errorf("%w: step %s must be positive", ErrSymbol, d)
	}
	c, exp := d.Coefficient(), d.Exponent()
	for exp > 0 {
		c.Mul(c, bigTen)
		exp--
	}
	if !c.IsInt64() || c.Int64() > math.MaxInt32 || -exp > 18 {
		return fixed{}, fmt.Errorf("%w: step %s out of range", ErrSymbol, d)
	}
	f, _ := d.Float64()
	return fixed{mant: c.Int64(), scale: int(-exp), f: f}, nil
}

// appendUnits appends n steps as a plain decimal with exactly scale
// fractional digits ("30000.5" with tick 0.1 and n 300005).
func (x fixed) appendUnits(dst []byte, n int64) []byte {
	v := n * x.mant
	if x.scale == 0 {
		return strconv.AppendInt(dst, v, 10)
	}
	p := pow10[x.scale]
	dst = strconv.AppendInt(dst, v/p, 10)
	dst = append(dst, '.')
	frac := v % p
	for d := p / 10; d > 0; d /= 10 { // zero-pad the fraction
		dst = append(dst, byte('0'+frac/d%10))
	}
	return dst
}

// units converts d to a whole number of steps, rounding to the nearest.
func (x fixed) units(d decimal.Decimal) int64 {
	step := decimal.New(x.mant, int32(-x.scale))
	return d.Div(step).Round(0).IntPart()
}

var bigTen = big.NewInt(10)

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// symbol is a SymbolInfo compiled for the hot path.
type symbol struct {
	SymbolInfo
	tick, lot fixed
}

func compileSymbols(in []SymbolInfo) ([]*symbol, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%w: no symbols", ErrSymbol)
	}
	out := make([]*symbol, len(in))
	for i, s := range in {
		if !wire.ValidToken(s.Name) {
			return nil, fmt.Errorf("%w %q: not a token", ErrSymbol, s.Name)
		}
		tick, err := newFixed(s.Tick)
		if err != nil {
			return nil, fmt.Errorf("%s tick: %w", s.Name, err)
		}
		lot, err := newFixed(s.Lot)
		if err != nil {
			return nil, fmt.Errorf("%s lot: %w", s.Name, err)
		}
		out[i] = &symbol{SymbolInfo: s, tick: tick, lot: lot}
	}
	return out, nil
}

// lotsFor sizes an order of about notional quote currency at priceTicks:
// at least one lot.
func (s *symbol) lotsFor(notional float64, priceTicks int64) int64 {
	n := int64(notional / (float64(priceTicks) * s.tick.f * s.lot.f))
	return max(n, 1)
}
