package actors

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
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

// TestReplayedCancelSharesTheSymbolName: a replayed cancel's symbol is the
// symbol's own name, not a copy of the record's bytes (one allocation less
// a cancel in recovery); a name that is no symbol still decodes.
func TestReplayedCancelSharesTheSymbolName(t *testing.T) {
	e := newEnvWith(t, &memJournal{}, market.DemoSymbols()...)
	for _, sym := range []string{"BTC-PERP", "NOPE-PERP"} {
		kind, p := e.x.encodeInput(nil, &cancelReq{req: wire.Cancel{Symbol: sym, OrderID: "42"}})
		m, err := e.x.decodeInput(kind, p)
		if err != nil {
			t.Fatal(err)
		}
		got := m.(*cancelReq).req
		if got.Symbol != sym || got.OrderID != "42" || got.ClientOrderID != "" {
			t.Fatalf("decoded %+v", got)
		}
		if h := e.x.symbol(sym); h != nil && unsafe.StringData(got.Symbol) != unsafe.StringData(h.sym.Name) {
			t.Errorf("%s: the decoded symbol is a copy", sym)
		}
	}
}
