package binance_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/perpx/perpx/wire"
)

// TestAlgoOrderNotPlain: an untriggered conditional order is Binance's algo
// order, which the plain order endpoints do not reach: GET v1/order says
// -2013, DELETE v1/order and DELETE batchOrders -2011 (by id or client id),
// and it stays open; DELETE v1/algoOrder cancels it.
func TestAlgoOrderNotPlain(t *testing.T) {
	e, alice := batchEnv(t, "")
	var algo struct {
		AlgoID       json.Number `json:"algoId"`
		ClientAlgoID string      `json:"clientAlgoId"`
	}
	alice.ok(http.MethodPost, "/fapi/v1/algoOrder", vals("algoType", "CONDITIONAL", "symbol", "BTCUSDT", "side", "SELL",
		"type", "STOP_MARKET", "triggerPrice", "25000", "quantity", "0.01", "clientAlgoId", "sl-1"), &algo)
	id := algo.AlgoID.String()

	status, body := alice.signed(http.MethodGet, "/fapi/v1/order", vals("symbol", "BTCUSDT", "orderId", id))
	fails(t, "GET v1/order of an algo order", status, body, 400, -2013)
	status, body = alice.signed(http.MethodDelete, "/fapi/v1/order", vals("symbol", "BTCUSDT", "orderId", id))
	fails(t, "DELETE v1/order of an algo order by id", status, body, 400, -2011)
	status, body = alice.signed(http.MethodDelete, "/fapi/v1/order", vals("symbol", "BTCUSDT", "origClientOrderId", "sl-1"))
	fails(t, "DELETE v1/order of an algo order by client id", status, body, 400, -2011)
	batch(t, alice, http.MethodDelete, map[string]string{"symbol": "BTCUSDT", "orderIdList": "[" + id + "]"}, -2011)
	batch(t, alice, http.MethodDelete, map[string]string{"symbol": "BTCUSDT", "origClientOrderIdList": `["sl-1"]`}, -2011)
	if os := e.state("alice").OpenOrders; len(os) != 1 || os[0].OrderID != id || os[0].Status != wire.StatusUntriggered {
		t.Fatalf("open orders after the plain cancels: %+v, want the untriggered %s", os, id)
	}

	var canceled map[string]any
	alice.ok(http.MethodDelete, "/fapi/v1/algoOrder", vals("algoId", id), &canceled)
	if canceled["clientAlgoId"] != "sl-1" {
		t.Errorf("DELETE v1/algoOrder: %v", canceled)
	}
	if os := e.state("alice").OpenOrders; len(os) != 0 {
		t.Errorf("open orders after DELETE v1/algoOrder: %+v", os)
	}
}
