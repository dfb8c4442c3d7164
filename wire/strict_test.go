package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// strictBodies gives, per request endpoint, the decoder of fuzz_test.go's
// decoders table that reads its body and a body naming every field that
// decoder knows, each with a value it accepts on its own (the whole may
// still break a rule spanning fields, such as cancel's "exactly one id").
var strictBodies = map[Endpoint]struct{ decoder, full string }{
	EpOrderPlace: {"place", `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1","tif":"GTC",` +
		`"reduce_only":false,"post_only":false,"client_order_id":"c1","stp":"none","trigger_price":"1","trigger_by":"mark",` +
		`"callback_rate":"1","activation_price":"1","close_position":false}`},
	EpOrderAmend:          {"amend", `{"symbol":"BTC-PERP","order_id":"1","client_order_id":"c1","price":"1","qty":"2","trigger_price":"1"}`},
	EpOrderCancel:         {"cancel", `{"symbol":"BTC-PERP","order_id":"1","client_order_id":"c1"}`},
	EpOrderCancelAll:      {"cancel_all", `{"symbol":"BTC-PERP"}`},
	EpOrderCancelAllAfter: {"cancel_after", `{"timeout_ms":1000}`},
	EpLeverage:            {"leverage", `{"symbol":"BTC-PERP","leverage":"10"}`},
	EpMarginMode:          {"margin_mode", `{"symbol":"BTC-PERP","mode":"isolated"}`},
	EpPositionMargin:      {"margin", `{"symbol":"BTC-PERP","delta":"-1"}`},
	EpWithdraw:            {"withdraw", `{"asset":"USDT","amount":"1"}`},
	EpState:               {"state", `{"symbol":"BTC-PERP"}`},
	EpAdminDeposit:        {"deposit", `{"account":"alice","asset":"USDT","amount":"1"}`},
	EpAdminIndex:          {"index", `{"price":"3300"}`},
	EpAdminFundDeposit:    {"fund.deposit", `{"asset":"USDT","amount":"1"}`},
	EpAdminAudit:          {"audit", `{}`},
	EpAdminStateHash:      {"state_hash", `{}`},
	EpAdminResume:         {"resume", `{"actor":"symbol-BTC-PERP"}`},
	EpDepth:               {"md.depth", `{"levels":5}`},
	EpFundState:           {"fund.state", `{"before_seq":5,"limit":2}`},
	EpADLQueue:            {"adl.queue", `{"side":"long"}`},
	EpKlines:              {"klines", `{"interval":"1m","start_ms":1,"end_ms":2,"limit":5,"source":"mark"}`},
	EpRecentTrades:        {"recent_trades", `{"limit":5}`},
	EpFundingHistory:      {"funding_history", `{"start_ms":1,"end_ms":2,"limit":5}`},
	EpFundDaily:           {"fund.daily", `{"start_ms":1,"end_ms":2}`},
	EpTicker:              {"ticker", `{}`},
	EpOpenInterest:        {"open_interest", `{"start_ms":1,"end_ms":2,"limit":5}`},
	EpOrders:              {"orders", `{"symbol":"BTC-PERP","order_id":"1","limit":5}`},
	EpOrderQuery:          {"orders", `{"symbol":"BTC-PERP","order_id":"1","limit":5}`},
	EpOrderOpen:           {"state", `{"symbol":"BTC-PERP"}`},
	EpFills:               {"fills", `{"symbol":"BTC-PERP","start_ms":1,"end_ms":2,"limit":5}`},
	EpIncome:              {"income", `{"type":"funding","symbol":"BTC-PERP","start_ms":1,"end_ms":2,"limit":5}`},
	// EpOrderBatch has its own decoder: TestBatchIsStrict.
}

// strictDecoder maps the endpoint names of strictBodies that differ from
// the decoders table's keys.
func strictDecoder(name string) func([]byte) (any, *Error) {
	if name == "md.depth" {
		name = "depth"
	}
	return decoders[name]
}

// notEmpty are bodies that are not an empty payload and not an object:
// none of them may stand for {}.
var notEmpty = []string{" ", "\n", "\r\n", "\t", " \n\t\r ", "null", " null ", `""`, "0", "[]"}

// TestBodiesAreWhatTheyClaim: on every request endpoint only an empty
// payload means {}; a body of whitespace, a JSON null and a null member
// are BAD_REQUEST, never read as "not given".
func TestBodiesAreWhatTheyClaim(t *testing.T) {
	for ep := EpOrderPlace; ep.IsRequest(); ep++ {
		if ep == EpOrderBatch {
			continue
		}
		b, ok := strictBodies[ep]
		decode := strictDecoder(b.decoder)
		if !ok || decode == nil {
			t.Fatalf("%s: no entry in strictBodies or no decoder %q", ep, b.decoder)
		}
		// An empty payload is exactly {}.
		empty, emptyErr := decode(nil)
		obj, objErr := decode([]byte(`{}`))
		if !sameError(emptyErr, objErr) || emptyErr == nil && string(Encode(empty)) != string(Encode(obj)) {
			t.Errorf("%s: empty payload gives %s %v, {} gives %s %v", ep, Encode(empty), emptyErr, Encode(obj), objErr)
		}
		for _, body := range notEmpty {
			if v, err := decode([]byte(body)); err == nil || err.Code != CodeBadRequest {
				t.Errorf("%s: body %q: got %s %v, want BAD_REQUEST", ep, body, Encode(v), err)
			}
		}
		// Every field, given as null, is refused by name.
		var members map[string]json.RawMessage
		if err := json.Unmarshal([]byte(b.full), &members); err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		for key := range members {
			nulled := map[string]json.RawMessage{}
			for k, v := range members {
				nulled[k] = v
			}
			nulled[key] = json.RawMessage("null")
			body, _ := json.Marshal(nulled)
			v, err := decode(body)
			if err == nil || err.Code != CodeBadRequest || !strings.Contains(err.Message, `"`+key+`" is null`) {
				t.Errorf("%s: %s: got %s %v, want BAD_REQUEST naming %q", ep, body, Encode(v), err, key)
			}
			// Alone, too (the other fields absent).
			alone := []byte(`{"` + key + `":null}`)
			if v, err := decode(alone); err == nil || err.Code != CodeBadRequest {
				t.Errorf("%s: %s: got %s %v, want BAD_REQUEST", ep, alone, Encode(v), err)
			}
		}
	}
}

// TestCancelAllNeedsWhatItSays is the case of the issue: a client bug that
// sends a blank body or a null symbol must not cancel every open order.
func TestCancelAllNeedsWhatItSays(t *testing.T) {
	for _, body := range []string{" ", "\n", `{"symbol":null}`, ` {"symbol" : null} `} {
		if c, err := DecodeCancelAll([]byte(body)); err == nil || err.Code != CodeBadRequest {
			t.Errorf("cancel_all %q: got %+v %v, want BAD_REQUEST", body, c, err)
		}
	}
	for _, body := range []string{"", "{}", " {} ", "{}\n"} {
		if c, err := DecodeCancelAll(payload(body)); err != nil || c.Symbol != "" {
			t.Errorf("cancel_all %q: got %+v %v, want every symbol", body, c, err)
		}
	}
}

// TestBatchIsStrict holds order.batch to the same rules: the batch's own
// shape is BAD_REQUEST for the whole batch, an item's body per item.
func TestBatchIsStrict(t *testing.T) {
	whole := append(append([]string(nil), notEmpty...), "",
		`{"orders":null}`, batchOf(`null`), batchOf(`{"place":null}`),
		batchOf(`{"place":null,"cancel":`+batchCancel+`}`), batchOf(`{"cancel":`+batchCancel+`,"place":null}`))
	for _, body := range whole {
		if items, err := DecodeBatch(payload(body)); err == nil || err.Code != CodeBadRequest {
			t.Errorf("batch %q: got %+v %v, want BAD_REQUEST", body, items, err)
		}
	}
	for _, item := range []string{
		`{"place":{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"1","price":null}}`,
		`{"place":{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1","client_order_id":null}}`,
		`{"cancel":{"symbol":"BTC-PERP","order_id":"1","client_order_id":null}}`,
		`{"cancel":{"symbol":null,"order_id":"1"}}`,
	} {
		items, err := DecodeBatch([]byte(batchOf(item, `{"cancel":`+batchCancel+`}`)))
		if err != nil || len(items) != 2 || items[0].Err == nil || items[0].Err.Code != CodeBadRequest ||
			!strings.Contains(items[0].Err.Message, "is null") || items[1].Err != nil {
			t.Errorf("batch item %s: got %+v %v, want that item BAD_REQUEST and the other decoded", item, items, err)
		}
	}
}
