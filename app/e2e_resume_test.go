package app_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/wire"
)

// TestE2EResumeAfterAHalt: over NATS on a durable exchange, a book's panic
// halts trading (the audit names it); px.admin.resume refuses a malformed
// request and a part that is not a failed book, then brings the book back:
// M's bid still rests and trades, the audit holds. A clean stop then
// writes the snapshot a halted exchange could not, and a restart on the
// data comes back trading with the same state. Before, the halt lasted for
// good, across restarts too.
func TestE2EResumeAfterAHalt(t *testing.T) {
	dir := t.TempDir()
	opts := startOpts{data: dir}
	cfg := seedConfig(t, longTiers()...)
	e := start(t, cfg, opts)
	e.index("3000")
	tr := e.funded("1000000", "M", "N")
	m, n := tr[0], tr[1]
	m.leverage("5")
	n.leverage("5")
	m.limit(wire.Buy, "2990", "1")
	actors.FailOrderForTest("boom", actors.FailBook) // a replay of the journal panics there too
	t.Cleanup(func() { actors.FailOrderForTest("", 0) })
	r := n.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, TIF: wire.GTC, Price: dec("3100"), Qty: dec("1"), ClientOrderID: "boom"})
	if r.OK || r.Error.Code != wire.CodeInternal {
		t.Fatalf("the place that panics the book: %+v", r)
	}
	book := "symbol-" + tsym
	if a := e.audit(); a.InvariantsOK || len(a.Failures) != 1 || a.Failures[0].Actor != book {
		t.Fatalf("the audit of a halted exchange: %+v", a)
	}
	resume := func(body string) wire.ResumeReply {
		return request[wire.ResumeReply](t, e.nc, e.subj.AdminResume(), body)
	}
	for body, code := range map[string]wire.Code{
		`{}`:                  wire.CodeBadRequest,
		`{"actor":"fund"}`:    wire.CodeNotResumable,
		`{"actor":"M"}`:       wire.CodeNotResumable,
		`{"actor":1}`:         wire.CodeBadRequest,
		`{"actor":"a.b"}`:     wire.CodeBadRequest,
		`{"actor":"x","y":1}`: wire.CodeBadRequest,
	} {
		if got := resume(body); got.OK || got.Error.Code != code {
			t.Fatalf("resume %s: %+v, want %s", body, got, code)
		}
	}
	if got := resume(`{"actor":"` + book + `"}`); !got.OK || got.Actor != book || got.Halted {
		t.Fatalf("resume: %+v", got)
	}
	if got := resume(`{"actor":"` + book + `"}`); got.OK || !strings.Contains(got.Error.Message, "in service") {
		t.Fatalf("resume again: %+v", got)
	}
	if o := n.limit(wire.Sell, "2990", "1", wire.IOC); o.Status != wire.StatusFilled {
		t.Fatalf("N's sell after the resume: %+v", o)
	}
	e.settledAudit()
	h := e.hash()
	deps := e.deposits
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	if snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "snap-*.bin")); len(snaps) == 0 {
		t.Fatal("no snapshot at the clean stop after the resume")
	}
	e = start(t, cfg, opts)
	e.deposits = deps
	if got := e.hash(); got != h {
		t.Fatalf("restarted: state hash %x, want %x", got, h)
	}
	if a := e.settledAudit(); !a.InvariantsOK || len(a.Failures) != 0 {
		t.Fatalf("restarted: %+v", a)
	}
	e.trader("M").limit(wire.Buy, "2980", "1")
}
