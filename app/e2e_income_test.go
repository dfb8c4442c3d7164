package app_test

import (
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

func (c *trader) income(req any) []wire.Income {
	c.t.Helper()
	r := request[wire.IncomeReply](c.t, c.nc, c.e.subj.Income(c.acct), req)
	mustOK(c.t, c.acct+" income", r.Reply)
	return r.Income
}

// TestE2EIncome: an account's income rows (its deposit, a funding payment,
// a close's realized PnL) add up to its balance, filter by type, page like
// fills, refuse a bad request, and survive a restart.
func TestE2EIncome(t *testing.T) {
	const iv = 60 * time.Second
	clk := &clock{}
	t0 := (time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC).UnixMilli()/iv.Milliseconds() + 1) * iv.Milliseconds()
	clk.ms.Store(t0)
	cfg := parseConfig(t, symbolJSON("10", int(iv.Seconds()), [2]string{"1000000000", "0.01"}), "")
	dir := t.TempDir()
	e := start(t, cfg, startOpts{now: clk.now, data: dir})
	e.index("1000")
	tr := e.funded("100000", "alice", "bob")
	alice, bob := tr[0], tr[1]
	alice.openPosition(bob, wire.Buy, "1000", "10", "5")
	e.index("1000")
	clk.advance(iv)
	e.index("1000") // a funding time: alice (long) pays bob
	pay := e.waitEvents("alice", wire.EventFunding, 1)[0].Funding.Payment
	clk.advance(time.Second)
	bob.limit(wire.Buy, "1010", "5")
	alice.limit(wire.Sell, "1010", "5", wire.IOC) // alice realizes +50, bob −50
	e.app.Exchange().Quiesce()

	type row struct {
		typ    wire.IncomeType
		amount decimal.Decimal
	}
	for _, c := range []struct {
		tr   *trader
		want []row
	}{
		{alice, []row{{wire.IncomeTransfer, dec("100000")}, {wire.IncomeFunding, pay}, {wire.IncomeRealizedPnL, dec("50")}}},
		{bob, []row{{wire.IncomeTransfer, dec("100000")}, {wire.IncomeFunding, pay.Neg()}, {wire.IncomeRealizedPnL, dec("-50")}}},
	} {
		rows := c.tr.income(wire.IncomeQuery{})
		sum := decimal.Zero
		for i, r := range rows {
			if i >= len(c.want) || r.Type != c.want[i].typ || !r.Amount.Equal(c.want[i].amount) || r.ID != uint64(i+1) || r.Asset != "USDT" {
				t.Fatalf("%s's income %+v, want %+v", c.tr.acct, rows, c.want)
			}
			sum = sum.Add(r.Amount)
		}
		if len(rows) != len(c.want) || !sum.Equal(c.tr.balance()) || pay.Sign() >= 0 {
			t.Fatalf("%s's income %+v adds up to %s, the balance is %s", c.tr.acct, rows, sum, c.tr.balance())
		}
		if f := c.tr.fills(wire.Fills{}); rows[2].TradeSeq != f[len(f)-1].TradeSeq || rows[2].TimeMs != f[len(f)-1].TimeMs || rows[2].Symbol != tsym {
			t.Fatalf("%s's realized row %+v, its fill %+v", c.tr.acct, rows[2], f[len(f)-1])
		}
	}

	// Type, window and paging as fills: from start_ms the first limit, else the newest.
	if r := alice.income(`{"type":"funding"}`); len(r) != 1 || r[0].ID != 2 || r[0].TimeMs != t0+iv.Milliseconds() {
		t.Fatalf("funding rows %+v", r)
	}
	if r := alice.income(`{"start_ms":1,"limit":2}`); len(r) != 2 || r[0].ID != 1 || r[1].ID != 2 {
		t.Fatalf("first page %+v", r)
	}
	if r := alice.income(`{"limit":1}`); len(r) != 1 || r[0].ID != 3 {
		t.Fatalf("newest %+v", r)
	}
	if r := alice.income(wire.IncomeQuery{Fills: wire.Fills{StartMs: t0 + iv.Milliseconds() + 1}}); len(r) != 1 || r[0].ID != 3 {
		t.Fatalf("from after the funding %+v", r)
	}
	for _, bad := range []string{`{"limit":0}`, `{"limit":1001}`, `{"type":"FUNDING_FEE"}`, `{"start_ms":5,"end_ms":4}`} {
		if r := request[wire.IncomeReply](t, e.nc, e.subj.Income("alice"), bad); r.OK || r.Error.Code != wire.CodeBadRequest {
			t.Fatalf("%s: %+v", bad, r)
		}
	}

	// A restart keeps them.
	before := alice.income(wire.IncomeQuery{})
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	deps := e.deposits
	e = start(t, cfg, startOpts{now: clk.now, data: dir})
	e.deposits = deps
	if after := e.trader("alice").income(wire.IncomeQuery{}); !sameJSON(t, before, after) {
		t.Fatalf("after the restart %+v, before %+v", after, before)
	}
	e.settledAudit()
}
