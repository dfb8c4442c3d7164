package loadtest

import (
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
