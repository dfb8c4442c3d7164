package actors

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// convSymbols are the demo symbols plus sizes with coefficients other than
// 1 and exponents on both sides of zero, for the fast-path equivalence
// tests.
func convSymbols(t testing.TB) []*symbolHandle {
	cfgs := market.DemoConfigs()
	for i, tl := range [][2]string{{"0.5", "0.25"}, {"25", "10"}, {"0.0001", "1"}, {"5", "0.00000125"}, {"0.10", "0.0010"}} {
		c := market.DemoConfigs()[0]
		c.Symbol = fmt.Sprintf("X%d-PERP", i)
		c.Tick, c.Lot = decimal.RequireFromString(tl[0]), decimal.RequireFromString(tl[1])
		c.MinNotional = decimal.Zero
		cfgs = append(cfgs, c)
	}
	var hs []*symbolHandle
	for _, c := range cfgs {
		s, err := c.Compile()
		if err != nil {
			t.Fatalf("%s: %v", c.Symbol, err)
		}
		hs = append(hs, &symbolHandle{sym: s, conv: newConv(s)})
	}
	return hs
}

// sameDec requires the same value and the same representation (coefficient
// and exponent), so the JSON encoders write the same bytes.
func sameDec(t *testing.T, what string, got, want decimal.Decimal) {
	t.Helper()
	if !got.Equal(want) || got.Exponent() != want.Exponent() || got.String() != want.String() {
		t.Fatalf("%s: got %s (exp %d), want %s (exp %d)", what, got, got.Exponent(), want, want.Exponent())
	}
}

func TestConvMatchesMarket(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, h := range convSymbols(t) {
		s := h.sym
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
			sameDec(t, s.Name+" price", h.price(tk), s.Price(tk))
			sameDec(t, s.Name+" qty", h.qty(lt), s.Qty(lt))
			sameDec(t, s.Name+" -qty", h.qty(-lt), s.Qty(-lt))
			if lt > 0 {
				v := market.Money(r.Int64N(1 << 62))
				if r.IntN(2) == 0 {
					v = s.Notional(tk, lt) + market.Money(r.Int64N(1000))
				}
				sameDec(t, s.Name+" avg", h.priceOf(v, lt), s.PriceOf(v, lt))
				sameDec(t, s.Name+" avg (cached)", h.priceOf(v, lt), s.PriceOf(v, lt))
				sameDec(t, s.Name+" avg-", h.priceOf(-v, -lt), s.PriceOf(-v, -lt))
			}
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
			wt, werr := s.PriceToTicks(d)
			gt, gerr := h.toTicks(d)
			if wt != gt || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("%s toTicks(%s) = %d, %v; market %d, %v", s.Name, d, gt, gerr, wt, werr)
			}
			wl, werr := s.QtyToLots(d)
			gl, gerr := h.toLots(d)
			if wl != gl || (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("%s toLots(%s) = %d, %v; market %d, %v", s.Name, d, gl, gerr, wl, werr)
			}
		}
	}
}

func TestConvAllocs(t *testing.T) {
	h := convSymbols(t)[0]
	d := h.price(300000)
	if n := testing.AllocsPerRun(100, func() { _, _ = h.toTicks(d) }); n != 0 {
		t.Errorf("toTicks allocates %v times", n)
	}
	v := h.sym.Notional(300000, 7)
	if n := testing.AllocsPerRun(100, func() { _ = h.priceOf(v, 7) }); n != 0 {
		t.Errorf("a repeated average price allocates %v times", n)
	}
}

// TestErrorTablesCoverEveryCode: every risk.Code and book.RejectCode has its
// own entry in riskErrors and bookErrors, with a contract code and a
// message, and riskError/bookError send it; a core code named like a
// contract code is sent as that code.
func TestErrorTablesCoverEveryCode(t *testing.T) {
	check := func(what, name string, i int, table []wireError, got *wire.Error) {
		t.Helper()
		if i >= len(table) || table[i].code == "" {
			t.Errorf("%s %s (%d) has no entry", what, name, i)
			return
		}
		e := table[i]
		if !e.code.Known() || e.msg == "" {
			t.Errorf("%s %s: %+v", what, name, e)
		}
		if same := wire.Code(name); same.Known() && e.code != same {
			t.Errorf("%s %s is sent as %s", what, name, e.code)
		}
		if got.Code != e.code || got.Message != e.msg {
			t.Errorf("%s %s: sent %v, want %+v", what, name, got, e)
		}
	}
	for _, c := range risk.Codes() {
		check("risk code", c.String(), int(c), riskErrors[:], riskError(c))
	}
	for _, c := range book.RejectCodes() {
		check("book reject", c.String(), int(c), bookErrors[:], bookError(c))
	}
	if len(riskErrors) != len(risk.Codes()) || len(bookErrors) != len(book.RejectCodes()) {
		t.Errorf("%d risk entries for %d codes, %d book entries for %d codes", len(riskErrors), len(risk.Codes()), len(bookErrors), len(book.RejectCodes()))
	}
	if e := riskError(risk.Code(200)); e.Code != wire.CodeInternal {
		t.Errorf("an unknown risk code is sent as %v", e)
	}
	if e := bookError(book.RejectCode(200)); e.Code != wire.CodeInternal {
		t.Errorf("an unknown book reject is sent as %v", e)
	}
}
