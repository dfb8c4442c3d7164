package binance

import (
	"net/url"
	"strings"
	"testing"
)

// TestBatchItemErrorNamesFirstKey: an item with several list- or
// object-valued keys is refused naming the first in key order, every time
// (a map's order named any of them).
func TestBatchItemErrorNamesFirstKey(t *testing.T) {
	for range 20 {
		c := &call{params: url.Values{"batchOrders": {`[{"z":[1],"b":{},"a":[2],"symbol":"BTCUSDT"}]`}}}
		_, out, e := c.batchParams()
		if e != nil || len(out) != 1 {
			t.Fatalf("batch refused whole: %v", e)
		}
		if err, ok := out[0].(*apiError); !ok || !strings.Contains(err.Msg, "'a'") {
			t.Fatalf("item error %+v, want one naming 'a'", out[0])
		}
	}
}
