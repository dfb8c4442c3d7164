package actors

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/shopspring/decimal"
)

// TestAppendDecEncodingUnchanged: appendDec skips the coefficient's copy
// for up to 18 digits; its bytes stay those of the copying encoding (a
// journal's records must not change with a speed-up) and decode back.
func TestAppendDecEncodingUnchanged(t *testing.T) {
	copying := func(v decimal.Decimal) []byte {
		if c := v.Coefficient(); c.IsInt64() {
			p := binary.AppendVarint([]byte{0}, c.Int64())
			return binary.AppendVarint(p, int64(v.Exponent()))
		}
		return appendStr([]byte{1}, v.String())
	}
	for _, s := range []string{"0", "1", "-1", "0.001", "65000.5", "-0.25", "1e10",
		"999999999999999999", "-999999999999999999", // 18 digits
		"1000000000000000000", "9223372036854775807", "-9223372036854775808", // 19, fitting
		"9223372036854775808", "-9999999999999999999", "12345678901234567890.5", // not fitting
	} {
		v := decimal.RequireFromString(s)
		got, want := appendDec(nil, v), copying(v)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: appendDec % x, want % x", s, got, want)
		}
		d := payload{p: got}
		if back := d.dec(); d.err != nil || !back.Equal(v) {
			t.Errorf("%s: decoded %s, %v", s, back, d.err)
		}
	}
}
