package wire

import (
	"slices"
	"strings"
	"testing"
)

func sameItems(a, b []BatchItem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Endpoint != b[i].Endpoint || !sameError(a[i].Err, b[i].Err) || a[i].Cancel != b[i].Cancel || !samePlace(a[i].Place, b[i].Place) {
			return false
		}
	}
	return true
}

// checkBatchFast holds decodeBatchFast and DecodeBatch to decodeBatchSlow.
func checkBatchFast(t *testing.T, data []byte) {
	want, wantErr := decodeBatchSlow(data)
	if got, ok := decodeBatchFast(data); ok {
		checkSame(t, "fast batch", data, got, nil, want, wantErr, sameItems)
	}
	got, err := DecodeBatch(data)
	checkSame(t, "DecodeBatch", data, got, err, want, wantErr, sameItems)
}

const (
	batchPlace  = `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1","client_order_id":"c1"}`
	batchCancel = `{"symbol":"BTC-PERP","client_order_id":"c1"}`
)

func batchOf(items ...string) string { return `{"orders":[` + strings.Join(items, ",") + `]}` }

// batchInputs are batches on the edges of both decoders.
func batchInputs() []string {
	in := []string{
		"", "{}", "null", "[]", `{"orders":null}`, `{"orders":[]}`, `{"orders":{}}`, `{"orders":"x"}`,
		batchOf(`{"place":`+batchPlace+`}`, `{"cancel":`+batchCancel+`}`),
		" \n{ \"orders\" :\t[ {\"place\" : " + batchPlace + " } ,{ \"cancel\":" + batchCancel + "}\r] } ",
		batchOf(`{"place":` + batchPlace + `,"cancel":` + batchCancel + `}`),
		batchOf(`{"place":` + batchPlace + `,"place":` + batchPlace + `}`),
		batchOf(`{"place":null}`), batchOf(`{}`), batchOf(`{"place":[]}`), batchOf(`{"Place":{}}`),
		batchOf(`{"pl\u0061ce":` + batchPlace + `}`),
		`{"ord\u0065rs":[{"cancel":` + batchCancel + `}]}`,
		batchOf(`{"cancel":`+batchCancel+`}`) + " x",
		`{"orders":[{"cancel":` + batchCancel + `}],"orders":[{"cancel":` + batchCancel + `}]}`,
		`{"orders":[{"cancel":` + batchCancel + `}],"x":1}`,
		batchOf(`{"place":{"symbol":"X","side":"buy","type":"limit","price":"1","qty":"1","y":{"z":["}]",{}]}}}`),
		batchOf(`{"place":{"symbol":"X\"}]}","side":"buy","type":"limit","price":"1","qty":"1"}}`),
		batchOf(`{"cancel":{"symbol":"X","order_id":"1"` + strings.Repeat(" ", MaxPayload) + `}}`),
		`{"orders":[{"cancel":` + batchCancel + `}]`,
	}
	for _, n := range []int{1, MaxBatchItems, MaxBatchItems + 1} {
		in = append(in, batchOf(slices.Repeat([]string{`{"cancel":` + batchCancel + `}`}, n)...))
	}
	for _, s := range testInputs() {
		in = append(in, batchOf(`{"place":`+s+`}`), batchOf(`{"cancel":`+s+`}`))
	}
	return in
}

func TestDecodeBatchFastMatchesSlow(t *testing.T) {
	for _, s := range batchInputs() {
		checkBatchFast(t, []byte(s))
	}
}

func FuzzDecodeBatchFast(f *testing.F) {
	for _, s := range batchInputs() {
		f.Add([]byte(s))
	}
	f.Fuzz(checkBatchFast)
}

func TestDecodeBatch(t *testing.T) {
	data := batchOf(`{"place":`+batchPlace+`}`, `{"cancel":`+batchCancel+`}`,
		`{"place":{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"-1","qty":"1"}}`,
		`{"cancel":{"symbol":"BTC-PERP"}}`)
	if _, ok := decodeBatchFast([]byte(data)); !ok {
		t.Error("a plain batch missed the fast path")
	}
	items, err := DecodeBatch([]byte(data))
	if err != nil || len(items) != 4 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	wantEp := []Endpoint{EpOrderPlace, EpOrderCancel, EpOrderPlace, EpOrderCancel}
	wantCode := []Code{"", "", CodeInvalidPrice, CodeBadRequest}
	for i, it := range items {
		code := Code("")
		if it.Err != nil {
			code = it.Err.Code
		}
		if it.Endpoint != wantEp[i] || code != wantCode[i] {
			t.Errorf("item %d: %s %v, want %s %s", i, it.Endpoint, it.Err, wantEp[i], wantCode[i])
		}
	}
	if items[0].Place.ClientOrderID != "c1" || items[0].Place.TIF != GTC || items[1].Cancel.ClientOrderID != "c1" {
		t.Errorf("items decoded as %+v", items[:2])
	}
	for _, bad := range []string{"", `{"orders":[]}`, batchOf(`{"amend":{}}`), batchOf(`{"place":"x"}`),
		batchOf(slices.Repeat([]string{`{"cancel":` + batchCancel + `}`}, MaxBatchItems+1)...)} {
		if _, err := DecodeBatch([]byte(bad)); err == nil || err.Code != CodeBadRequest {
			t.Errorf("%.60q: %v, want BAD_REQUEST", bad, err)
		}
	}
}
