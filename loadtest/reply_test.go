package loadtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
)

func TestClassifyReplies(t *testing.T) {
	order := wire.AppendOrderReply(nil, &wire.Order{OrderID: "1", Status: wire.StatusPartiallyFilled})
	for _, c := range []struct {
		name string
		data string
		want outcome
	}{
		{"fast ok", string(order), outcome{ok: true, status: wire.StatusPartiallyFilled}},
		{"fast reject", string(wire.AppendError(nil, wire.Errorf(wire.CodeInsufficientMargin, `say "code":"X"`))), outcome{code: "INSUFFICIENT_MARGIN"}},
		{"ok without order", `{"ok":true,"balance":"1"}`, outcome{ok: true}},
		{"spaced ok", `{ "ok" : true, "order": {"status": "filled"} }`, outcome{ok: true, status: wire.StatusFilled}},
		{"spaced reject", `{"error": {"message":"m", "code": "UNKNOWN_ORDER"}, "ok": false}`, outcome{code: "UNKNOWN_ORDER"}},
		{"future code", `{"ok":false,"error":{"code":"NEW_CODE","message":""}}`, outcome{code: "NEW_CODE"}},
		{"garbage", `nope`, outcome{code: CodeBadReply}},
		{"no ok field", `{"order":{}}`, outcome{code: CodeBadReply}},
		{"not ok without error", `{"ok":false}`, outcome{code: CodeBadReply}},
	} {
		if got := classify([]byte(c.data)); got != c.want {
			t.Errorf("%s: classify(%s) = %+v, want %+v", c.name, c.data, got, c.want)
		}
	}
}

func TestClassifyFastPathDoesNotAllocate(t *testing.T) {
	ok := wire.AppendOrderReply(nil, &wire.Order{Status: wire.StatusNew})
	rej := wire.AppendError(nil, wire.Errorf(wire.CodeUnknownOrder, "gone"))
	if n := testing.AllocsPerRun(100, func() { classify(ok); classify(rej) }); n != 0 {
		t.Fatalf("%v allocations per reply", n)
	}
}

// TestAuditProblemsPerAsset: on an exchange with wallets each asset must
// balance on its own; the top-level sums are only the primary's.
func TestAuditProblemsPerAsset(t *testing.T) {
	body := `{"ok":true,"deposits":"100","fund_deposits":"0","balances":"100","unrealized":"0","fund":"0","fees":"0",
		"open_interest":{},"invariants_ok":true,"assets":{
		"USDT":{"deposits":"100","fund_deposits":"0","balances":"100","unrealized":"0","fund":"0","fees":"0"},
		"BTC":{"deposits":"1","fund_deposits":"0","balances":"0.9","unrealized":"0","fund":"0","fees":"0"}}}`
	var a AuditReply
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if p := a.Problems(); len(p) != 1 || !strings.HasPrefix(p[0], "BTC not conserved") {
		t.Fatalf("problems %q", p)
	}
}
