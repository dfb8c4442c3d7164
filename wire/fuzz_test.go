package wire

import (
	"bytes"
	"testing"
)

// decoders maps each request decoder to a uniform signature for the fuzzers.
var decoders = map[string]func([]byte) (any, *Error){
	"place":           func(b []byte) (any, *Error) { return DecodePlace(b) },
	"cancel":          func(b []byte) (any, *Error) { return DecodeCancel(b) },
	"amend":           func(b []byte) (any, *Error) { return DecodeAmend(b) },
	"cancel_all":      func(b []byte) (any, *Error) { return DecodeCancelAll(b) },
	"cancel_after":    func(b []byte) (any, *Error) { return DecodeCancelAllAfter(b) },
	"leverage":        func(b []byte) (any, *Error) { return DecodeLeverage(b) },
	"state":           func(b []byte) (any, *Error) { return DecodeState(b) },
	"deposit":         func(b []byte) (any, *Error) { return DecodeDeposit(b) },
	"index":           func(b []byte) (any, *Error) { return DecodeIndexSet(b) },
	"fund.deposit":    func(b []byte) (any, *Error) { return DecodeFundDeposit(b) },
	"depth":           func(b []byte) (any, *Error) { return DecodeDepth(b) },
	"fund.state":      func(b []byte) (any, *Error) { return DecodeFundState(b) },
	"adl.queue":       func(b []byte) (any, *Error) { return DecodeADLQueue(b) },
	"audit":           func(b []byte) (any, *Error) { return DecodeAudit(b) },
	"state_hash":      func(b []byte) (any, *Error) { return DecodeStateHash(b) },
	"resume":          func(b []byte) (any, *Error) { return DecodeResume(b) },
	"margin_mode":     func(b []byte) (any, *Error) { return DecodeMarginMode(b) },
	"margin":          func(b []byte) (any, *Error) { return DecodePositionMargin(b) },
	"withdraw":        func(b []byte) (any, *Error) { return DecodeWithdraw(b) },
	"klines":          func(b []byte) (any, *Error) { return DecodeKlines(b) },
	"recent_trades":   func(b []byte) (any, *Error) { return DecodeRecentTrades(b) },
	"orders":          func(b []byte) (any, *Error) { return DecodeOrders(b) },
	"fills":           func(b []byte) (any, *Error) { return DecodeFills(b) },
	"income":          func(b []byte) (any, *Error) { return DecodeIncome(b) },
	"funding_history": func(b []byte) (any, *Error) { return DecodeFundingHistory(b) },
	"fund.daily":      func(b []byte) (any, *Error) { return DecodeFundDaily(b) },
	"ticker":          func(b []byte) (any, *Error) { return DecodeTicker(b) },
	"open_interest":   func(b []byte) (any, *Error) { return DecodeOpenInterest(b) },
}

var seeds = []string{
	``, `{}`, `null`, `[]`, `{"a":1}`, `{"symbol":"BTC-PERP"`,
	`{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.010","tif":"GTC","reduce_only":false,"post_only":false,"client_order_id":"c1"}`,
	`{"symbol":"BTC-PERP","side":"sell","type":"market","qty":"1e9"}`,
	`{"symbol":"BTC-PERP","side":"sell","type":"trailing_stop_market","qty":"1","callback_rate":"1.5","activation_price":"31000","trigger_by":"last"}`,
	`{"symbol":"BTC-PERP","side":"buy","type":"stop_market","trigger_price":"29000","close_position":true}`,
	`{"interval":"5m","limit":10}`, `{"interval":"1d","start_ms":1700000000000,"source":"mark"}`, `{"limit":50}`,
	`{"symbol":"BTC-PERP","mode":"isolated"}`, `{"symbol":"BTC-PERP","delta":"-12.5"}`, `{"asset":"USDT","amount":"10"}`,
	`{"symbol":"BTC-PERP","order_id":"7"}`, `{"symbol":"BTC-PERP","client_order_id":"c1","order_id":null}`,
	`{"symbol":"BTC-PERP","leverage":"10"}`, `{"account":"alice","asset":"USDT","amount":"10000"}`,
	`{"price":"3300"}`, `{"asset":"USDT","amount":"0"}`, `{"levels":20}`, `{"side":"long"}`,
	`{"price":"-0.0000000000000000000000000001"}`, `{"levels":-1}`, "{\"symbol\":\"\xff\"}",
}

// checkDecode asserts the fuzz properties: no panic, every error carries a
// known code, and an accepted request survives encode→decode unchanged.
func checkDecode(t *testing.T, name string, decode func([]byte) (any, *Error), data []byte) {
	v, err := decode(data)
	if err != nil {
		if !err.Code.Known() || err.Message == "" {
			t.Fatalf("%s: error %+v has an unknown code or no message", name, err)
		}
		return
	}
	enc := Encode(v)
	v2, err := decode(enc)
	if err != nil {
		t.Fatalf("%s: accepted %q but rejects its re-encoding %s: %v", name, data, enc, err)
	}
	if enc2 := Encode(v2); !bytes.Equal(enc, enc2) {
		t.Fatalf("%s: %q decodes to %s, then to %s", name, data, enc, enc2)
	}
}

func FuzzDecodePlace(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, "place", decoders["place"], data) })
}

func FuzzDecodeCancel(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, "cancel", decoders["cancel"], data) })
}

// FuzzDecodeAll feeds the same input to every decoder.
func FuzzDecodeAll(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, decode := range decoders {
			checkDecode(t, name, decode, data)
		}
	})
}
