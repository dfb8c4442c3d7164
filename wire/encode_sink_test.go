package wire

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// Every Append encoder must write exactly what encoding/json writes for the
// same value.

// checkAppend fails t unless enc appends to a non-empty buffer what
// json.Marshal gives for v.
func checkAppend[T any](t *testing.T, v *T, enc func([]byte, *T) []byte) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got := enc([]byte("x"), v)
	if string(got) != "x"+string(want) {
		t.Fatalf("%T\n got %s\nwant x%s", v, got, want)
	}
}

// checkAllAppends holds every exported encoder to encoding/json over nil,
// the zero value and the value fill makes of it (the account event's
// details are reached through its pointers).
func checkAllAppends(t *testing.T, fill func(any)) {
	t.Helper()
	checkValues(t, fill, AppendAccountEvent)
	checkValues(t, fill, AppendTrade)
	checkValues(t, fill, AppendBookUpdate)
	checkValues(t, fill, AppendMarkUpdate)
	checkValues(t, fill, AppendFundEvent)
	checkValues(t, fill, AppendADLEvent)
	checkValues(t, fill, AppendLiquidationNotice)
	checkValues(t, fill, AppendOrder)
}

func checkValues[T any](t *testing.T, fill func(any), enc func([]byte, *T) []byte) {
	t.Helper()
	checkAppend(t, (*T)(nil), enc)
	v := new(T)
	checkAppend(t, v, enc) // zero value
	fill(v)
	checkAppend(t, v, enc)
}

func TestAppendSinkTable(t *testing.T) {
	fill, order := benchFillEvent(), sampleOrder("c1")
	adl := benchADLEvent()
	liq := &Liquidation{Symbol: "BTC-PERP", Side: Long, Qty: d("1"), MarkPrice: d("29500"),
		LiquidationPrice: d("29600.00"), BankruptcyPrice: d("-0.000000000000000000000000000000001")}
	funding := &Funding{Symbol: "ETH-PERP", Rate: d("-0.000125"), Payment: d("123456789012345678901234.5"),
		Side: Short, Qty: d("0"), MarkPrice: d("3300.10")}
	for _, e := range []*AccountEvent{fill, benchOrderEvent(),
		{Type: EventLiquidation, Seq: math.MaxUint64, TimeMs: math.MinInt64, Liquidation: liq},
		{Type: EventADL, ADL: adl}, {Type: EventFunding, Funding: funding},
		{Type: "weird\"<type>", Order: order, Fill: fill.Fill, Liquidation: liq, ADL: adl, Funding: funding},
	} {
		checkAppend(t, e, AppendAccountEvent)
	}
	for _, u := range []*BookUpdate{benchBookUpdate(), {}, {Bids: []Level{}, Asks: []Level{{}}},
		{Seq: 1, Bids: []Level{NewLevel(d("1e-40"), d("12345678901234567890"))}}} {
		checkAppend(t, u, AppendBookUpdate)
	}
	for _, e := range []*FundEvent{benchFundEvent(), {Asset: "USDT", Reason: ReasonDeposit},
		{Account: "a&b", Reason: ReasonLiquidationDeficit}, {Symbol: "\u2028"}} {
		checkAppend(t, e, AppendFundEvent)
	}
	checkAppend(t, benchTrade(), AppendTrade)
	checkAppend(t, benchMarkUpdate(), AppendMarkUpdate)
	checkAppend(t, adl, AppendADLEvent)
	rp, fee := d("-12.5"), d("0")
	checkAppend(t, &ADLEvent{Symbol: "BTC-PERP", Qty: d("1"), Side: Sell, RealizedPnL: &rp, Fee: &fee}, AppendADLEvent)
	checkAppend(t, liq, appendLiquidation)
	checkAppend(t, &LiquidationNotice{Liquidation: *liq, TimeMs: -1}, AppendLiquidationNotice)
	checkAppend(t, funding, appendFunding)
	checkAllAppends(t, func(any) {})
	for _, o := range []*Order{nil, order} {
		want, _ := json.Marshal(OrderReply{Reply: OK(), Order: o})
		if got := AppendOrderReply(nil, o); string(got) != string(want) {
			t.Errorf("order reply\n got %s\nwant %s", got, want)
		}
	}
}

func TestAppendSinkRandom(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for range 300 {
		checkAllAppends(t, func(v any) { randomize(r, reflect.ValueOf(v).Elem()) })
	}
}

var decimalType = reflect.TypeFor[decimal.Decimal]()

// randomize sets v, a payload or a part of one, to random contents: strings
// that need escaping or are empty, decimals of every shape, nil, empty and
// filled slices and pointers.
func randomize(r *rand.Rand, v reflect.Value) {
	if v.Type() == decimalType {
		v.Set(reflect.ValueOf(randDecimal(r)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt(randInt64(r))
	case reflect.Uint64:
		v.SetUint(uint64(randInt64(r)))
	case reflect.Pointer:
		if r.IntN(3) == 0 {
			v.SetZero()
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		randomize(r, v.Elem())
	case reflect.Slice:
		switch n := r.IntN(5) - 1; n {
		case -1:
			v.SetZero()
		default:
			v.Set(reflect.MakeSlice(v.Type(), n, n))
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			randomize(r, v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			randomize(r, v.Field(i))
		}
	default:
		panic("randomize: unhandled " + v.Type().String())
	}
}

func randInt64(r *rand.Rand) int64 {
	switch r.IntN(3) {
	case 0:
		return int64(r.Uint64())
	case 1:
		return r.Int64N(2000) - 1000
	}
	return 1718000000000 + r.Int64N(1e9)
}

var stringParts = []string{"", "a", "BTC-PERP", "alice", `"`, `\`, "<", ">", "&", "\x00", "\n", "\t", "\x1f", "\x7f",
	"é", "€", "\u2028", "\u2029", "\xff", "\xc3", "𝄞", "c-1042", "partially_filled"}

func randString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString(stringParts[r.IntN(len(stringParts))])
	}
	return b.String()
}

// randDecimal draws a coefficient of up to 40 digits, small, near the int64
// limits or random, and an exponent from -40 to 10.
func randDecimal(r *rand.Rand) decimal.Decimal {
	exp := int32(r.IntN(51) - 40)
	switch r.IntN(6) {
	case 0:
		return decimal.New(r.Int64N(2001)-1000, exp)
	case 1:
		return decimal.New(int64(r.Uint64()), exp)
	case 2: // around ±2^63 and ±2^64
		c := new(big.Int).Lsh(big.NewInt(1), uint(63+r.IntN(2)))
		c.Add(c, big.NewInt(r.Int64N(5)-2))
		if r.IntN(2) == 0 {
			c.Neg(c)
		}
		return decimal.NewFromBigInt(c, exp)
	case 3: // powers of ten times a digit, with trailing zeros
		c := new(big.Int).Exp(big.NewInt(10), big.NewInt(r.Int64N(25)), nil)
		c.Mul(c, big.NewInt(r.Int64N(19)-9))
		return decimal.NewFromBigInt(c, exp)
	case 4:
		c, _ := new(big.Int).SetString(strings.Repeat("9", 1+r.IntN(40)), 10)
		return decimal.NewFromBigInt(c, exp)
	}
	return decimal.Decimal{}
}

// decimalSamples covers the formatter's branches: zero with every exponent
// sign, the int64 limits and just past them, 18 to 20 digit coefficients,
// fractions shorter and longer than the exponent, arithmetic results.
func decimalSamples() []decimal.Decimal {
	out := []decimal.Decimal{{}, decimal.Zero, d("-0.0"), d("0.000"), d("1").Div(d("3")), d("-2").Div(d("3")),
		d("30000.5").Mul(d("0.0004")), d("30000.5").Sub(d("30000.5")), decimal.NewFromFloat(1e-7)}
	coefs := []string{"0", "1", "-1", "7", "10", "-120", "123456789", "1000000000000000000", "999999999999999999",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "-18446744073709551616", "9999999999999999999",
		"10000000000000000000", "-10000000000000000000", "123456789012345678901234567890"}
	for _, c := range coefs {
		v, _ := new(big.Int).SetString(c, 10)
		for _, e := range []int32{-41, -25, -20, -19, -18, -17, -9, -3, -1, 0, 1, 2, 7} {
			out = append(out, decimal.NewFromBigInt(v, e))
		}
	}
	return out
}

func checkDecimalString(t *testing.T, v decimal.Decimal) {
	t.Helper()
	if got, want := string(appendDecimalString([]byte("x"), v)), "x"+v.String(); got != want {
		t.Fatalf("appendDecimalString(%s×10^%d) = %s, want %s", v.Coefficient(), v.Exponent(), got, want)
	}
}

// TestAppendDecimalString checks the formatter under each setting of the
// decimal package's String options (and MarshalJSONWithoutQuotes for
// appendDecimal).
func TestAppendDecimalString(t *testing.T) {
	defer func(trim, sci, bare bool) {
		decimal.TrimTrailingZeros, decimal.UseScientificNotation, decimal.MarshalJSONWithoutQuotes = trim, sci, bare
	}(decimal.TrimTrailingZeros, decimal.UseScientificNotation, decimal.MarshalJSONWithoutQuotes)
	r := rand.New(rand.NewPCG(1, 2))
	for _, trim := range []bool{true, false} {
		for _, sci := range []bool{false, true} {
			decimal.TrimTrailingZeros, decimal.UseScientificNotation = trim, sci
			for _, v := range decimalSamples() {
				checkDecimalString(t, v)
			}
			for range 2000 {
				checkDecimalString(t, randDecimal(r))
			}
		}
	}
	decimal.TrimTrailingZeros, decimal.UseScientificNotation = true, false
	for _, bare := range []bool{false, true} {
		decimal.MarshalJSONWithoutQuotes = bare
		checkAppend(t, benchMarkUpdate(), AppendMarkUpdate)
		checkAppend(t, benchBookUpdate(), AppendBookUpdate)
	}
}

func FuzzAppendDecimalString(f *testing.F) {
	f.Add(int64(0), int16(0), uint8(0))
	f.Add(int64(-300005), int16(-1), uint8(0))
	f.Add(int64(math.MaxInt64), int16(-19), uint8(0))
	f.Add(int64(math.MinInt64), int16(-30), uint8(0))
	f.Add(int64(1), int16(5), uint8(0))
	f.Add(int64(3), int16(-4), uint8(63))
	f.Add(int64(-1), int16(2), uint8(64))
	// The coefficient is c shifted left by shift%80 bits, which crosses the
	// int64 range; the exponent stays within ±999 so String stays cheap.
	f.Fuzz(func(t *testing.T, c int64, exp int16, shift uint8) {
		v := new(big.Int).Lsh(big.NewInt(c), uint(shift%80))
		checkDecimalString(t, decimal.NewFromBigInt(v, int32(exp%1000)))
	})
}

// A reused buffer makes every encoder allocation-free for decimals whose
// coefficient fits in an int64.
func TestAppendSinkAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	for name, enc := range map[string]func(){
		"fill event":   func() { buf = AppendAccountEvent(buf[:0], benchFill) },
		"order event":  func() { buf = AppendAccountEvent(buf[:0], benchOrder) },
		"trade":        func() { buf = AppendTrade(buf[:0], benchTradeV) },
		"book update":  func() { buf = AppendBookUpdate(buf[:0], benchBook) },
		"mark update":  func() { buf = AppendMarkUpdate(buf[:0], benchMark) },
		"fund event":   func() { buf = AppendFundEvent(buf[:0], benchFund) },
		"adl event":    func() { buf = AppendADLEvent(buf[:0], benchADL) },
		"order reply":  func() { buf = AppendOrderReply(buf[:0], benchOrder.Order) },
		"error reply":  func() { buf = AppendError(buf[:0], &Error{Code: CodeInvalidQty, Message: "qty must be positive"}) },
		"decimal text": func() { buf = appendDecimalString(buf[:0], benchFill.Fill.Fee) },
	} {
		if n := testing.AllocsPerRun(100, enc); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

var (
	benchFill   = benchFillEvent()
	benchOrder  = benchOrderEvent()
	benchTradeV = benchTrade()
	benchBook   = benchBookUpdate()
	benchMark   = benchMarkUpdate()
	benchFund   = benchFundEvent()
	benchADL    = benchADLEvent()
)
