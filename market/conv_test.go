package market

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/shopspring/decimal"
)

// convSymbols are the demo symbols plus sizes with coefficients other than
// 1 and exponents on both sides of zero, for the fast-path equivalence
// tests.
func convSymbols(t testing.TB) []*Symbol {
	cfgs := DemoConfigs()
	for i, tl := range [][2]string{{"0.5", "0.25"}, {"25", "10"}, {"0.0001", "1"}, {"5", "0.00000125"}, {"0.10", "0.0010"}} {
		c := DemoConfigs()[0]
		c.Symbol = fmt.Sprintf("X%d-PERP", i)
		c.Tick, c.Lot = decimal.RequireFromString(tl[0]), decimal.RequireFromString(tl[1])
		c.MinNotional = decimal.Zero
		cfgs = append(cfgs, c)
	}
	var ss []*Symbol
	for _, c := range cfgs {
		s, err := c.Compile()
		if err != nil {
			t.Fatalf("%s: %v", c.Symbol, err)
		}
		ss = append(ss, s)
	}
	return ss
}

// sameDec requires the same value and the same representation (coefficient
// and exponent), so the JSON encoders write the same bytes.
func sameDec(t testing.TB, what string, got, want decimal.Decimal) {
	t.Helper()
	if !got.Equal(want) || got.Exponent() != want.Exponent() || got.String() != want.String() {
		t.Fatalf("%s: got %s (exp %d), want %s (exp %d)", what, got, got.Exponent(), want, want.Exponent())
	}
}

// sameConvInts checks Conv's Price, Qty and AvgPrice against the Symbol's
// at tk, lt and v, and the exponents TickExp and LotExp promise.
func sameConvInts(t testing.TB, c *Conv, s *Symbol, tk book.Ticks, lt book.Lots, v Money) {
	t.Helper()
	sameDec(t, s.Name+" price", c.Price(tk), s.Price(tk))
	sameDec(t, s.Name+" qty", c.Qty(lt), s.Qty(lt))
	sameDec(t, s.Name+" -qty", c.Qty(-lt), s.Qty(-lt))
	if e := c.Price(tk).Exponent(); e != c.TickExp() {
		t.Fatalf("%s: price %s at exponent %d, TickExp %d", s.Name, c.Price(tk), e, c.TickExp())
	}
	if e := c.Qty(lt).Exponent(); e != c.LotExp() {
		t.Fatalf("%s: qty %s at exponent %d, LotExp %d", s.Name, c.Qty(lt), e, c.LotExp())
	}
	sameDec(t, s.Name+" avg", c.AvgPrice(v, lt), s.PriceOf(v, lt))
	sameDec(t, s.Name+" avg (cached)", c.AvgPrice(v, lt), s.PriceOf(v, lt))
	sameDec(t, s.Name+" avg-", c.AvgPrice(-v, -lt), s.PriceOf(-v, -lt))
}

// sameConvDec checks Conv's Ticks and Lots against the Symbol's
// PriceToTicks and QtyToLots at d, errors and their text included.
func sameConvDec(t testing.TB, c *Conv, s *Symbol, d decimal.Decimal) {
	t.Helper()
	wt, werr := s.PriceToTicks(d)
	gt, gerr := c.Ticks(d)
	if wt != gt || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%s Ticks(%s) = %d, %v; Symbol %d, %v", s.Name, d, gt, gerr, wt, werr)
	}
	wl, werr := s.QtyToLots(d)
	gl, gerr := c.Lots(d)
	if wl != gl || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%s Lots(%s) = %d, %v; Symbol %d, %v", s.Name, d, gl, gerr, wl, werr)
	}
}

func TestConvMatchesSymbol(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range convSymbols(t) {
		c := NewConv(s)
		n := func(max int64) int64 {
			switch r.IntN(4) {
			case 0:
				return r.Int64N(100)
			case 1:
				return max - r.Int64N(3)
			default:
				return r.Int64N(max + 1)
			}
		}
		for range 20000 {
			tk := book.Ticks(n(int64(s.MaxPrice)))
			lt := book.Lots(n(int64(s.MaxQty)))
			v := Money(r.Int64N(1 << 62))
			if r.IntN(2) == 0 {
				v = s.Notional(tk, lt) + Money(r.Int64N(1000))
			}
			sameConvInts(t, &c, s, tk, lt, v)
		}
		// Decimals as clients write them: multiples and not, scaled by
		// trailing zeros or written with extra decimals, out of range.
		for range 20000 {
			var d decimal.Decimal
			switch r.IntN(5) {
			case 0:
				d = s.Price(book.Ticks(n(int64(s.MaxPrice)) + r.Int64N(3) - 1))
			case 1:
				d = s.Qty(book.Lots(n(int64(s.MaxQty)) + r.Int64N(3) - 1))
			case 2:
				d = decimal.New(r.Int64N(1_000_000_000)-10, -int32(r.IntN(12)))
			case 3:
				d = decimal.New(r.Int64N(1000), int32(r.IntN(6)))
			default:
				p := s.Price(book.Ticks(r.Int64N(int64(s.MaxPrice)) + 1))
				d = decimal.New(p.CoefficientInt64()*1000, p.Exponent()-3) // trailing zeros
			}
			sameConvDec(t, &c, s, d)
		}
	}
}

// FuzzConv: for any decimal and integers, Conv answers exactly what the
// Symbol's conversions answer (values, representations and errors), on
// every test symbol.
func FuzzConv(f *testing.F) {
	f.Add("30000.5", int64(300_005), int64(7), int64(2_100_035_000_000))
	f.Add("0.001", int64(1), int64(1), int64(1))
	f.Add("30000.50000", int64(10_000_000), int64(1_000_000), int64(-5))
	f.Add("1e-40", int64(-3), int64(1024), int64(math.MaxInt64))
	f.Add("12345678901234567890", int64(math.MinInt64), int64(math.MinInt64), int64(math.MinInt64))
	f.Add("-0.25", int64(0), int64(0), int64(0))
	f.Add("2.5e30", int64(math.MaxInt64), int64(math.MaxInt64), int64(1<<62))
	ss := convSymbols(f)
	cs := make([]Conv, len(ss))
	for i, s := range ss {
		cs[i] = NewConv(s)
	}
	f.Fuzz(func(t *testing.T, str string, tk, lt, v int64) {
		d, err := decimal.NewFromString(str)
		if err != nil || d.Exponent() < -1000 || d.NumDigits() > 100 {
			return // slow for decimal's arithmetic, not a conversion question
		}
		for i, s := range ss {
			sameConvDec(t, &cs[i], s, d)
			sameConvInts(t, &cs[i], s, book.Ticks(tk), book.Lots(lt), Money(v))
		}
	})
}

func TestConvAllocs(t *testing.T) {
	s := convSymbols(t)[0]
	c := NewConv(s)
	d := c.Price(300000)
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Ticks(d) }); n != 0 {
		t.Errorf("Ticks allocates %v times", n)
	}
	q := c.Qty(7)
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Lots(q) }); n != 0 {
		t.Errorf("Lots allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Price(300000), c.Qty(7) }); n != 0 {
		t.Errorf("a cached price or a small quantity allocates %v times", n)
	}
	v := s.Notional(300000, 7)
	if n := testing.AllocsPerRun(100, func() { _ = c.AvgPrice(v, 7) }); n != 0 {
		t.Errorf("a repeated average price allocates %v times", n)
	}
}

func TestNearestTick(t *testing.T) {
	btc := DemoSymbols()[0] // tick 0.1, MaxPrice 1e7 ticks
	for _, c := range []struct {
		price string
		ticks book.Ticks
		ok    bool
	}{
		{"30000.5", 300_005, true}, {"30000.54", 300_005, true}, {"30000.55", 300_006, true},
		{"0.01", 1, true}, {"1000000", 10_000_000, true}, {"1000000.04", 10_000_000, true},
		{"1000000.05", 0, false}, {"0", 0, false}, {"-1", 0, false},
	} {
		if tk, ok := btc.NearestTick(d(c.price)); tk != c.ticks || ok != c.ok {
			t.Errorf("NearestTick(%s) = %d, %v; want %d, %v", c.price, tk, ok, c.ticks, c.ok)
		}
	}
}
