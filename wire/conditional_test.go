package wire

import (
	"strings"
	"testing"
)

// The conditional order fields: defaults, and each rule of checkTrigger
// and checkPlace, through both decoders.
func TestDecodeConditional(t *testing.T) {
	const sym = `"symbol":"X","side":"sell",`
	ok := []struct {
		body string
		want PlaceOrder
	}{
		{`{` + sym + `"type":"stop_market","qty":"1","trigger_price":"90"}`,
			PlaceOrder{Symbol: "X", Side: Sell, Type: StopMarket, Qty: d("1"), TIF: IOC, TriggerPrice: d("90"), TriggerBy: TriggerMark}},
		{`{` + sym + `"type":"stop_limit","qty":"1","price":"89","trigger_price":"90","trigger_by":"last","post_only":true}`,
			PlaceOrder{Symbol: "X", Side: Sell, Type: StopLimit, Qty: d("1"), Price: d("89"), TIF: GTC, PostOnly: true, TriggerPrice: d("90"), TriggerBy: TriggerLast}},
		{`{` + sym + `"type":"take_profit_market","trigger_price":"110","close_position":true,"trigger_by":"index"}`,
			PlaceOrder{Symbol: "X", Side: Sell, Type: TakeProfitMarket, TIF: IOC, TriggerPrice: d("110"), TriggerBy: TriggerIndex, ClosePosition: true, ReduceOnly: true}},
		{`{` + sym + `"type":"take_profit_limit","qty":"1","price":"111","trigger_price":"110","tif":"IOC"}`,
			PlaceOrder{Symbol: "X", Side: Sell, Type: TakeProfitLimit, Qty: d("1"), Price: d("111"), TIF: IOC, TriggerPrice: d("110"), TriggerBy: TriggerMark}},
		{`{` + sym + `"type":"trailing_stop_market","qty":"1","callback_rate":"0.1","activation_price":"120"}`,
			PlaceOrder{Symbol: "X", Side: Sell, Type: TrailingStopMarket, Qty: d("1"), TIF: IOC, CallbackRate: d("0.1"), ActivationPrice: d("120"), TriggerBy: TriggerMark}},
		{`{` + sym + `"type":"trailing_stop_market","qty":"1","callback_rate":"10.0"}`,
			PlaceOrder{Symbol: "X", Side: Sell, Type: TrailingStopMarket, Qty: d("1"), TIF: IOC, CallbackRate: d("10.0"), TriggerBy: TriggerMark}},
	}
	for _, c := range ok {
		c.want.STP = DefaultSTP
		for name, decode := range map[string]func([]byte) (PlaceOrder, *Error){"fast": DecodePlace, "slow": decodePlaceSlow} {
			got, err := decode([]byte(c.body))
			if err != nil {
				t.Errorf("%s %s: %v", name, c.body, err)
				continue
			}
			if Encode(got) == nil || string(Encode(got)) != string(Encode(c.want)) {
				t.Errorf("%s %s:\n got %s\nwant %s", name, c.body, Encode(got), Encode(c.want))
			}
		}
	}
	bad := []struct{ body, code, says string }{
		{`{` + sym + `"type":"limit","qty":"1","price":"1","trigger_price":"2"}`, "BAD_REQUEST", "trigger_price is for conditional"},
		{`{` + sym + `"type":"market","qty":"1","trigger_by":"mark"}`, "BAD_REQUEST", "trigger_by is for conditional"},
		{`{` + sym + `"type":"market","qty":"1","close_position":false}`, "BAD_REQUEST", "close_position is for conditional"},
		{`{` + sym + `"type":"stop_market","qty":"1"}`, "BAD_REQUEST", `missing field "trigger_price"`},
		{`{` + sym + `"type":"stop_market","qty":"1","trigger_price":"0"}`, "INVALID_PRICE", "trigger_price 0"},
		{`{` + sym + `"type":"stop_market","qty":"1","trigger_price":"1","trigger_by":"bid"}`, "BAD_REQUEST", "trigger_by"},
		{`{` + sym + `"type":"stop_market","qty":"1","trigger_price":"1","price":"1"}`, "BAD_REQUEST", "takes no price"},
		{`{` + sym + `"type":"stop_limit","qty":"1","trigger_price":"1"}`, "BAD_REQUEST", `missing field "price"`},
		{`{` + sym + `"type":"stop_market","qty":"1","trigger_price":"1","tif":"GTC"}`, "BAD_REQUEST", "cannot rest"},
		{`{` + sym + `"type":"stop_market","trigger_price":"1"}`, "BAD_REQUEST", `missing field "qty"`},
		{`{` + sym + `"type":"stop_market","qty":"1","trigger_price":"1","close_position":true}`, "BAD_REQUEST", "takes no qty"},
		{`{` + sym + `"type":"stop_market","trigger_price":"1","close_position":true,"reduce_only":false}`, "BAD_REQUEST", "is reduce-only"},
		{`{` + sym + `"type":"stop_limit","price":"1","trigger_price":"1","close_position":true}`, "BAD_REQUEST", "stop_market and take_profit_market only"},
		{`{` + sym + `"type":"stop_market","qty":"1","trigger_price":"1","callback_rate":"1"}`, "BAD_REQUEST", "trailing_stop_market only"},
		{`{` + sym + `"type":"trailing_stop_market","qty":"1"}`, "BAD_REQUEST", `missing field "callback_rate"`},
		{`{` + sym + `"type":"trailing_stop_market","qty":"1","callback_rate":"1","trigger_price":"1"}`, "BAD_REQUEST", "takes no trigger_price"},
		{`{` + sym + `"type":"trailing_stop_market","qty":"1","callback_rate":"0.05"}`, "BAD_REQUEST", "callback_rate 0.05"},
		{`{` + sym + `"type":"trailing_stop_market","qty":"1","callback_rate":"10.1"}`, "BAD_REQUEST", "callback_rate 10.1"},
		{`{` + sym + `"type":"trailing_stop_market","qty":"1","callback_rate":"1.25"}`, "BAD_REQUEST", "steps of 0.1"},
		{`{` + sym + `"type":"trailing_stop_market","qty":"1","callback_rate":"1","activation_price":"-1"}`, "INVALID_PRICE", "activation_price"},
		{`{` + sym + `"type":"stop","qty":"1","trigger_price":"1"}`, "BAD_REQUEST", `"type"`},
	}
	for _, c := range bad {
		for name, decode := range map[string]func([]byte) (PlaceOrder, *Error){"fast": DecodePlace, "slow": decodePlaceSlow} {
			_, err := decode([]byte(c.body))
			if err == nil || string(err.Code) != c.code || !strings.Contains(err.Message, c.says) {
				t.Errorf("%s %s: %v, want %s saying %q", name, c.body, err, c.code, c.says)
			}
		}
	}
}
