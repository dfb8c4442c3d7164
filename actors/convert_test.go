package actors

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
)

// TestErrorTablesCoverEveryCode: every risk.Code and book.RejectCode has its
// own entry in riskErrors and bookErrors, with a contract code and a
// message, and riskError/bookError send it; a core code named like a
// contract code is sent as that code.
func TestErrorTablesCoverEveryCode(t *testing.T) {
	check := func(what, name string, i int, table []wireError, got *wire.Error) {
		t.Helper()
		if i >= len(table) || table[i].code == "" {
			t.Errorf("%s %s (%d) has no entry", what, name, i)
			return
		}
		e := table[i]
		if !e.code.Known() || e.msg == "" {
			t.Errorf("%s %s: %+v", what, name, e)
		}
		if same := wire.Code(name); same.Known() && e.code != same {
			t.Errorf("%s %s is sent as %s", what, name, e.code)
		}
		if got.Code != e.code || got.Message != e.msg {
			t.Errorf("%s %s: sent %v, want %+v", what, name, got, e)
		}
	}
	for _, c := range risk.Codes() {
		check("risk code", c.String(), int(c), riskErrors[:], riskError(c))
	}
	for _, c := range book.RejectCodes() {
		check("book reject", c.String(), int(c), bookErrors[:], bookError(c))
	}
	if len(riskErrors) != len(risk.Codes()) || len(bookErrors) != len(book.RejectCodes()) {
		t.Errorf("%d risk entries for %d codes, %d book entries for %d codes", len(riskErrors), len(risk.Codes()), len(bookErrors), len(book.RejectCodes()))
	}
	if e := riskError(risk.Code(200)); e.Code != wire.CodeInternal {
		t.Errorf("an unknown risk code is sent as %v", e)
	}
	if e := bookError(book.RejectCode(200)); e.Code != wire.CodeInternal {
		t.Errorf("an unknown book reject is sent as %v", e)
	}
}
