package wire

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// The fast path (flat.go, parseDecimal) against its references: the
// decodeObject decoders and ParseDecimal as it was.

// parseDecimalRef is ParseDecimal before its int64 path: a syntax check, then
// decimal.NewFromString.
func parseDecimalRef(s string) (decimal.Decimal, bool) {
	if !plainDecimalRef(s) {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	return d, err == nil
}

// plainDecimalRef reports whether s matches ^-?[0-9]+(\.[0-9]+)?$ and has
// at most MaxDecimalLen characters.
func plainDecimalRef(s string) bool {
	if len(s) == 0 || len(s) > MaxDecimalLen {
		return false
	}
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	return allDigits(whole) && (!dot || allDigits(frac))
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// sameDecimal reports whether a and b have the same coefficient and
// exponent, which is more than Equal (1.0 ≠ 1.00 here).
func sameDecimal(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.Coefficient().Cmp(b.Coefficient()) == 0
}

func samePlace(a, b PlaceOrder) bool {
	if !sameDecimal(a.Price, b.Price) || !sameDecimal(a.Qty, b.Qty) {
		return false
	}
	a.Price, a.Qty, b.Price, b.Qty = decimal.Decimal{}, decimal.Decimal{}, decimal.Decimal{}, decimal.Decimal{}
	return a == b
}

func sameError(a, b *Error) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// checkSame fails t unless got, gotErr is exactly want, wantErr.
func checkSame[T any](t *testing.T, what string, data []byte, got T, gotErr *Error, want T, wantErr *Error, same func(a, b T) bool) {
	t.Helper()
	if !sameError(gotErr, wantErr) || wantErr == nil && !same(got, want) {
		t.Fatalf("%s %q:\n got  %s %v\n want %s %v", what, data, Encode(got), gotErr, Encode(want), wantErr)
	}
}

// fastInputs are inputs on the edge of the fast path: the slow path accepts
// the escaped ones, the fast one hands them over.
var fastInputs = []string{
	`{"symbol":"BTC\u002dPERP","side":"buy","type":"limit","price":"1","qty":"1"}`,
	`{"sym\u0062ol":"X","side":"buy","type":"limit","price":"1","qty":"1"}`,
	`{"symbol":"X","side":"buy","type":"limit","price":"1","qty":"1","tif":null,"reduce_only":null,"client_order_id":null}`,
	`{"symbol":"X","side":"sell","type":"market","qty":"123456789012345678","tif":"FOK","reduce_only":true}`,
	`{"symbol":"X","side":"sell","type":"market","qty":"-1234567890123456789.5"}`,
	`{"symbol":"X","side":"buy","type":"limit","price":"0.000000000000000000000000001","qty":"1"}`,
	`{"symbol":"X","side":"buy","type":"limit","price":{"v":"1"},"qty":"1"}`,
	`{"symbol":"X","side":"buy","type":"limit","price":"1","qty":"1","post_only":tru}`,
	`{"symbol":"X","side":"buy","type":"limit","price":"1","qty":"1"} x`,
	"\t{\r\n\"symbol\"\t:\"X\" ,\"order_id\" : \"7\"\n}\r\n",
	`{"symbol":"X","order_id":"7","order_id":null}`,
	`{"symbol":"X","order_id":"7","client_order_id":null}`,
	"{\"symbol\":\"X\x01\",\"order_id\":\"7\"}",
	`{"symbol":"X","order_id":"é"}`,
}

// testInputs are every request input of this package's tests.
func testInputs() []string {
	in := append(append([]string(nil), seeds...), fastInputs...)
	in = append(in, string(benchPlace), string(benchCancel))
	for _, c := range placeAccepts {
		in = append(in, c.in)
	}
	for _, c := range placeRejects {
		in = append(in, c.in)
	}
	for _, c := range othersAccept {
		in = append(in, c.in)
	}
	for _, c := range othersReject {
		in = append(in, c.in)
	}
	return in
}

// checkPlaceFast holds decodePlaceFast and DecodePlace to decodePlaceSlow.
func checkPlaceFast(t *testing.T, data []byte) {
	want, wantErr := decodePlaceSlow(data)
	if p, hasPrice, ok := decodePlaceFast(data); ok {
		got, err := checkPlace(p, hasPrice)
		checkSame(t, "fast place", data, got, err, want, wantErr, samePlace)
	}
	got, err := DecodePlace(data)
	checkSame(t, "DecodePlace", data, got, err, want, wantErr, samePlace)
}

// checkCancelFast holds decodeCancelFast and DecodeCancel to
// decodeCancelSlow.
func checkCancelFast(t *testing.T, data []byte) {
	same := func(a, b Cancel) bool { return a == b }
	want, wantErr := decodeCancelSlow(data)
	if c, ok := decodeCancelFast(data); ok {
		got, err := checkCancel(c)
		checkSame(t, "fast cancel", data, got, err, want, wantErr, same)
	}
	got, err := DecodeCancel(data)
	checkSame(t, "DecodeCancel", data, got, err, want, wantErr, same)
}

func TestDecodeFastMatchesSlow(t *testing.T) {
	for _, s := range testInputs() {
		checkPlaceFast(t, payload(s))
		checkCancelFast(t, payload(s))
	}
}

// TestDecodeFastTaken checks the fast path is not silently bypassed.
func TestDecodeFastTaken(t *testing.T) {
	for _, c := range placeAccepts {
		if _, _, ok := decodePlaceFast([]byte(c.in)); !ok {
			t.Errorf("place %q took the slow path", c.in)
		}
	}
	for _, s := range []string{fastInputs[3], fastInputs[4], fastInputs[5]} {
		if _, _, ok := decodePlaceFast([]byte(s)); !ok {
			t.Errorf("place %q took the slow path", s)
		}
	}
	for _, c := range othersAccept {
		if _, ok := decodeCancelFast([]byte(c.in)); c.decoder == "cancel" && !ok {
			t.Errorf("cancel %q took the slow path", c.in)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = DecodePlace(benchPlace) }); n > 6 {
		t.Errorf("DecodePlace: %v allocations, want at most 6 (2 strings, 2 decimals)", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = DecodeCancel(benchCancel) }); n > 2 {
		t.Errorf("DecodeCancel: %v allocations, want at most 2 strings", n)
	}
}

func FuzzDecodePlaceFast(f *testing.F) {
	for _, s := range testInputs() {
		f.Add([]byte(s))
	}
	f.Fuzz(checkPlaceFast)
}

// FuzzDecodePlaceFastFields builds orders from member values, so that most
// inputs reach the fast path's binders and checkPlace: members whose bit is
// clear in omit are left out, values are inserted verbatim between quotes
// (between none for the booleans), in the field order rotated by rotate.
func FuzzDecodePlaceFastFields(f *testing.F) {
	f.Add("BTC-PERP", "buy", "limit", "30000.5", "0.010", "GTC", "false", "true", "c1", uint16(0), uint16(0))
	f.Add("X", "sell", "market", "1", "2", "FOK", "null", "false", "null", uint16(1<<placePrice), uint16(7))
	f.Fuzz(func(t *testing.T, symbol, side, typ, price, qty, tif, reduceOnly, postOnly, coid string, omit, rotate uint16) {
		values := [placeFieldCount]string{symbol, side, typ, price, qty, tif, reduceOnly, postOnly, coid}
		var b strings.Builder
		b.WriteByte('{')
		for n := range placeFieldCount {
			i := (n + int(rotate)) % placeFieldCount
			if omit&(1<<i) != 0 {
				continue
			}
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			v := values[i]
			if i != placeReduceOnly && i != placePostOnly {
				v = `"` + v + `"`
			}
			b.WriteString(`"` + placeSchema.names[i] + `":` + v)
		}
		b.WriteByte('}')
		checkPlaceFast(t, []byte(b.String()))
	})
}

func FuzzDecodeCancelFast(f *testing.F) {
	for _, s := range testInputs() {
		f.Add([]byte(s))
	}
	f.Fuzz(checkCancelFast)
}

var decimalEdges = []string{
	"999999999999999999", "-999999999999999999", "9999999999999999999", "-9223372036854775808",
	"0.000000000000000001", "0.0000000000000000001", "-0.0", "00000000000000000000000000000", "1.000000000000000000",
}

func decimalCases() []string {
	return append(append(append([]string(nil), decimalAccepts...), decimalRejects...), decimalEdges...)
}

func TestParseDecimalMatchesRef(t *testing.T) {
	for _, s := range decimalCases() {
		checkParseDecimal(t, s)
	}
}

func checkParseDecimal(t *testing.T, s string) {
	got, ok := ParseDecimal(s)
	want, wantOK := parseDecimalRef(s)
	if ok != wantOK || ok && !sameDecimal(got, want) {
		t.Fatalf("ParseDecimal(%q) = %s %v (exp %d), want %s %v (exp %d)", s, got, ok, got.Exponent(), want, wantOK, want.Exponent())
	}
	if gotB, okB := parseDecimal([]byte(s)); okB != ok || ok && !sameDecimal(gotB, got) {
		t.Fatalf("parseDecimal([]byte(%q)) = %s %v, want %s %v", s, gotB, okB, got, ok)
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range decimalCases() {
		f.Add(s)
	}
	f.Fuzz(checkParseDecimal)
}

var (
	benchPlace  = []byte(`{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.010","tif":"GTC","reduce_only":false,"post_only":false,"client_order_id":"c1"}`)
	benchCancel = []byte(`{"symbol":"BTC-PERP","order_id":"1234567"}`)
)

func BenchmarkDecodePlace(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePlace(benchPlace); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCancel(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeCancel(benchCancel); err != nil {
			b.Fatal(err)
		}
	}
}
