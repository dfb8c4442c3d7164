package actors

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

func (e *env) income(acct string, q wire.IncomeQuery) []wire.Income {
	e.t.Helper()
	if q.Limit == 0 {
		q.Limit = wire.MaxAccountHistory
	}
	r := call(e.t, func(d func(wire.IncomeReply)) { e.x.Income(acct, q, d) })
	if !r.OK {
		e.t.Fatalf("income %s: %v", acct, r.Error)
	}
	return r.Income
}

// TestIncomeAddsUpToTheBalance: over fills with fees, a withdrawal, a
// funding payment, a liquidation and the ADL close of its position, every
// account's income rows add up to its balance (env.audit checks that of
// every account), each movement is the row of its type, and the rows
// count up from 1.
func TestIncomeAddsUpToTheBalance(t *testing.T) {
	on := true
	cfg := market.SymbolConfig{Symbol: tsym, Tick: dec("1"), Lot: dec("1"), MaxLeverage: dec("100"), PriceBand: dec("0.5"),
		MakerFee: dec("0.0002"), TakerFee: dec("0.0005"), FundingIntervalS: 8 * 3600, Funding: &on,
		MMTiers: []market.TierConfig{{MaxNotional: dec("600000"), MMR: dec("0.03")}, {MaxNotional: dec("1000000000"), MMR: dec("0.10")}}}
	sym, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sym)
	e.index(tsym, "3750")
	for a, amount := range map[string]string{"A": "151000", "B": "300000", "D": "1000000"} {
		e.deposit(a, amount)
		e.leverage(a, tsym, 5)
	}
	e.mustPlace("B", tsym, wire.Sell, "3750", "230")
	e.mustPlace("A", tsym, wire.Buy, "3750", "200", wire.IOC) // taker fee 375
	e.mustPlace("D", tsym, wire.Buy, "3750", "30", wire.IOC)
	if r := call(t, func(d func(wire.BalanceReply)) {
		e.x.Withdraw("B", wire.Withdraw{Asset: "USDT", Amount: dec("1000")}, d)
	}); !r.OK {
		t.Fatalf("withdraw: %v", r.Error)
	}
	e.clk.advance(8 * time.Hour)
	e.index(tsym, "3750") // funding: the longs pay the short
	e.x.quiesce()
	e.index(tsym, "3000") // A bankrupt, no bids: B's short is closed by ADL
	e.x.quiesce()
	if e.liquidations("A") != 1 || len(e.rec.events("B", wire.EventADL)) != 1 {
		t.Fatalf("A liquidated %d times, B's adl events %+v", e.liquidations("A"), e.rec.events("B", wire.EventADL))
	}
	e.mustPlace("D", tsym, wire.Sell, "3000", "30") // B closes the rest against D: realized PnL both sides
	e.mustPlace("B", tsym, wire.Buy, "3000", "30", wire.IOC)
	e.audit() // and every account's Σ income = balance

	byType := func(acct string) map[string]decimal.Decimal {
		out := map[string]decimal.Decimal{}
		for i, r := range e.income(acct, wire.IncomeQuery{}) {
			if r.ID != uint64(i+1) || r.Asset != "USDT" || (r.Type != wire.IncomeTransfer) != (r.Symbol == tsym) {
				t.Fatalf("%s's row %d: %+v", acct, i, r)
			}
			if (r.TradeSeq != 0) != ((r.Type == wire.IncomeRealizedPnL || r.Type == wire.IncomeFee) && r.Info == "") {
				t.Fatalf("%s's row %+v: trade_seq on a fill's rows only", acct, r)
			}
			k := string(r.Type) + "/" + r.Info
			out[k] = out[k].Add(r.Amount)
		}
		return out
	}
	fund := e.rec.events("A", wire.EventFunding)[0].Funding.Payment
	a := byType("A")
	want := map[string]string{"transfer/deposit": "151000", "fee/": "-375", "funding/": fund.String()}
	for k, v := range want {
		if !a[k].Equal(dec(v)) {
			t.Fatalf("A's %s: %s, want %s (rows by type %v)", k, a[k], v, a)
		}
	}
	// The takeover took what was left: the deposit less the fee and funding.
	if l := a["liquidation/"]; !l.Equal(dec("-151000").Add(dec("375")).Sub(fund)) || len(a) != 4 {
		t.Fatalf("A's rows by type %v", a)
	}
	b := byType("B")
	adl := e.rec.events("B", wire.EventADL)[0].ADL
	if !b["realized_pnl/adl"].Equal(*adl.RealizedPnL) || !adl.RealizedPnL.Equal(dec("3750").Sub(adl.Price).Mul(dec("200"))) ||
		!b["transfer/withdrawal"].Equal(dec("-1000")) || !b["funding/"].Equal(fund.Add(e.rec.events("D", wire.EventFunding)[0].Funding.Payment).Neg()) ||
		!b["realized_pnl/"].Equal(dec("22500")) || !b["fee/"].Equal(dec("-172.5").Sub(dec("45"))) {
		// maker 0.02 % of 230 × 3750, taker 0.05 % of 30 × 3000
		t.Fatalf("B's rows by type %v, adl close %+v", b, adl)
	}

	// Filters: by type, and a window from start_ms pages forward.
	if rows := e.income("B", wire.IncomeQuery{Type: wire.IncomeFunding}); len(rows) != 1 || !rows[0].Amount.Equal(b["funding/"]) {
		t.Fatalf("B's funding rows %+v", rows)
	}
	all := e.income("B", wire.IncomeQuery{})
	first := e.income("B", wire.IncomeQuery{Fills: wire.Fills{StartMs: 1, Limit: 2}})
	newest := e.income("B", wire.IncomeQuery{Fills: wire.Fills{Limit: 2}})
	if len(first) != 2 || first[0].ID != 1 || first[1].ID != 2 || len(newest) != 2 || newest[1].ID != all[len(all)-1].ID {
		t.Fatalf("paging: first %+v, newest %+v of %d", first, newest, len(all))
	}
}

// TestSnapshotWithoutIncomeLoads: a snapshot taken before accounts kept
// income (no income section) loads: the accounts start with no rows, keep
// their fills, and count new rows from 1.
func TestSnapshotWithoutIncomeLoads(t *testing.T) {
	j := &memJournal{}
	e := newEnvWith(t, j, testSymbol(t, tsym, longTiers()...))
	e.index(tsym, "3750")
	e.deposit("alice", "10000")
	e.deposit("bob", "10000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.x.quiesce()
	p, _, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	section := 0
	for _, ent := range e.x.accounts.all() {
		section += call(t, func(d func(int)) {
			e.x.root.Send(ent.pid, &testHook{fn: func(a *accountActor) { d(len(a.appendIncome(nil))) }})
		})
	}
	body := p[:len(p)-sha256.Size-section-len(binary.AppendUvarint(nil, Behaviour))] // and before behaviour versions
	sum := sha256.Sum256(body)
	old := append(slices.Clip(body), sum[:]...)

	r := newEnvFrom(t, j.clone(), old, testSymbol(t, tsym, longTiers()...))
	if rows := r.income("alice", wire.IncomeQuery{}); len(rows) != 0 {
		t.Fatalf("income from a snapshot without it: %+v", rows)
	}
	fills := call(t, func(d func(wire.FillsReply)) { r.x.Fills("alice", wire.Fills{Limit: 10}, d) })
	if len(fills.Fills) != 1 {
		t.Fatalf("fills %+v", fills)
	}
	r.deposit("alice", "5")
	if rows := r.income("alice", wire.IncomeQuery{}); len(rows) != 1 || rows[0].ID != 1 || !rows[0].Amount.Equal(dec("5")) {
		t.Fatalf("income after the load: %+v", rows)
	}
	// The snapshot as taken keeps them.
	n := newEnvFrom(t, j.clone(), p, testSymbol(t, tsym, longTiers()...))
	if got, want := n.income("alice", wire.IncomeQuery{}), e.income("alice", wire.IncomeQuery{}); len(got) != 1 || len(want) != 1 || got[0].ID != 1 || !got[0].Amount.Equal(want[0].Amount) || got[0].TimeMs != want[0].TimeMs {
		t.Fatalf("income from the snapshot %+v, want %+v", got, want)
	}
}
