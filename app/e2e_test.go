package app_test

// End-to-end tests: the real wiring (app.Start: embedded NATS on a random
// port, actors, gateway, publisher) driven only through NATS requests on the
// API.md subjects. Helpers are in e2e_helpers_test.go.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// TestE2EDualPrice: a last trade far below the liquidation price does not
// liquidate while the mark stays above it; the mark reaching it does.
func TestE2EDualPrice(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{})
	e.index("3750")
	e.deposit("alice", "750")
	alice := e.trader("alice")
	tr := e.funded("100000", "bob", "carol", "dave")
	bob, carol, dave := tr[0], tr[1], tr[2]
	alice.openPosition(bob, wire.Buy, "3750", "1", "5")
	if p := alice.position(); p == nil || !p.LiquidationPrice.Equal(dec("3100")) || !p.BankruptcyPrice.Equal(dec("3000")) {
		t.Fatalf("alice's position %+v; want liquidation 3100, bankruptcy 3000", p)
	}

	carol.leverage("1") // a short opened 1750 under the mark
	dave.leverage("5")
	carol.limit(wire.Sell, "2000", "1")
	if o := dave.limit(wire.Buy, "2000", "1", wire.IOC); o.Status != wire.StatusFilled || !o.AvgPrice.Equal(dec("2000")) {
		t.Fatalf("trade at 2000: %+v", o)
	}
	eventually(t, "the trade at 2000 on the trades stream", func() error {
		tr := decoded[wire.Trade](e.rec, e.subj.Trades(tsym))
		if len(tr) != 2 || !tr[1].Price.Equal(dec("2000")) || tr[1].TakerSide != wire.Buy {
			return fmt.Errorf("trades %+v", tr)
		}
		return nil
	})
	if r := e.index("3101"); !r.Mark.Equal(dec("3101")) {
		t.Fatalf("mark %s, want 3101 (funding off: mark = index)", r.Mark)
	}
	// The state request queues behind the mark in alice's mailbox: the
	// position has seen mark 3101 and is still hers.
	if p := alice.position(); p == nil || !p.MarkPrice.Equal(dec("3101")) {
		t.Fatalf("after last trade 2000 and mark 3101: position %+v", p)
	}
	if evs := e.events("alice", wire.EventLiquidation); len(evs) != 0 {
		t.Fatalf("liquidated by the last trade price: %+v", evs)
	}

	e.index("3100")
	liq := e.waitEvents("alice", wire.EventLiquidation, 1)[0].Liquidation
	if liq.Symbol != tsym || liq.Side != wire.Long || !liq.Qty.Equal(dec("1")) || !liq.MarkPrice.Equal(dec("3100")) ||
		!liq.LiquidationPrice.Equal(dec("3100")) || !liq.BankruptcyPrice.Equal(dec("3000")) {
		t.Fatalf("liquidation event %+v", liq)
	}
	// No bids and an empty fund: the profitable short (bob) is deleveraged
	// at alice's bankruptcy price; carol's losing short is not.
	eventually(t, "ADL of bob", func() error {
		if a := e.adlEvents(); len(a) != 1 || a[0].BankruptAccount != "alice" || a[0].Counterparty != "bob" ||
			!a[0].Qty.Equal(dec("1")) || !a[0].Price.Equal(dec("3000")) {
			return fmt.Errorf("adl events %+v", a)
		}
		return nil
	})
	e.settledAudit()
	if p := alice.position(); p != nil {
		t.Fatalf("alice still holds %+v", p)
	}
	if p := carol.position(); p == nil || p.Side != wire.Short || !p.Qty.Equal(dec("1")) {
		t.Fatalf("carol's short %+v", p)
	}
}

// TestE2ELiquidationSettlesWithFund: the seed examples per unit, no fees —
// a long (liquidation 3100, bankruptcy 3000) sold at 3060 pays the fund
// +60, at 2960 draws 40; a short (2900 / 3000) bought at 2960 pays +40, at
// 3060 draws 60 — in cross margin, and in isolated margin (the account
// switched by margin_mode) with 1 000 more that the liquidation leaves alone.
func TestE2ELiquidationSettlesWithFund(t *testing.T) {
	cases := []seedCase{
		{"long surplus", longTiers(), wire.Buy, "3750", "750", "3100", "3060", "0", "60", wire.ReasonLiquidationSurplus, "60"},
		{"long deficit", longTiers(), wire.Buy, "3750", "750", "3100", "2960", "100", "60", wire.ReasonLiquidationDeficit, "-40"},
		{"short surplus", shortTiers(), wire.Sell, "2500", "500", "2900", "2960", "0", "40", wire.ReasonLiquidationSurplus, "40"},
		{"short deficit", shortTiers(), wire.Sell, "2500", "500", "2900", "3060", "100", "40", wire.ReasonLiquidationDeficit, "-60"},
	}
	for _, mode := range []wire.MarginModeName{wire.MarginCross, wire.MarginIsolated} {
		for _, c := range cases {
			t.Run(string(mode)+" "+c.name, func(t *testing.T) { seedLiquidation(t, mode, c) })
		}
	}
}

// seedCase is one of the seed's liquidation examples.
type seedCase struct {
	name       string
	tiers      [][2]string
	side       wire.Side
	entry      string
	margin     string
	mark       string
	exec       string
	fund       string
	wantFund   string
	wantReason wire.FundReason
	wantDelta  string
}

func seedLiquidation(t *testing.T, mode wire.MarginModeName, c seedCase) {
	e := start(t, seedConfig(t, c.tiers...), startOpts{})
	e.index(c.entry)
	e.deposit("alice", c.margin)
	alice := e.trader("alice")
	left := "0" // what alice keeps
	if mode == wire.MarginIsolated {
		left = "1000"
		e.deposit("alice", left)
		if r := alice.marginMode(mode); !r.OK {
			t.Fatalf("margin mode: %+v", r)
		}
	}
	tr := e.funded("100000", "bob", "erin")
	bob, erin := tr[0], tr[1]
	if c.fund != "0" {
		e.fundDeposit(c.fund)
	}
	alice.openPosition(bob, c.side, c.entry, "1", "5")
	erin.leverage("5")
	erin.limit(c.side, c.exec, "1") // the liquidity the liquidation order takes
	e.index(c.mark)

	liqEv := e.waitEvents("alice", wire.EventLiquidation, 1)[0]
	liq := liqEv.Liquidation
	if !liq.BankruptcyPrice.Equal(dec("3000")) || !liq.LiquidationPrice.Equal(dec(c.mark)) {
		t.Fatalf("liquidation event %+v", liq)
	}
	// Everyone sees it on the symbol's public stream, without the account.
	eventually(t, "the public liquidation notice", func() error {
		ns := e.liquidationNotices()
		if len(ns) != 1 {
			return fmt.Errorf("notices %+v", ns)
		}
		if n := ns[0]; n.Symbol != liq.Symbol || n.Side != liq.Side || !n.Qty.Equal(liq.Qty) || !n.MarkPrice.Equal(liq.MarkPrice) ||
			!n.LiquidationPrice.Equal(liq.LiquidationPrice) || !n.BankruptcyPrice.Equal(liq.BankruptcyPrice) || n.TimeMs != liqEv.TimeMs {
			t.Fatalf("notice %+v, want the event %+v", n, liqEv)
		}
		return nil
	})
	ev := e.settlementEvent()
	if ev.Reason != c.wantReason || !ev.Delta.Equal(dec(c.wantDelta)) || !ev.Balance.Equal(dec(c.wantFund)) ||
		ev.Account != "alice" || ev.Symbol != tsym || ev.Asset != "USDT" {
		t.Fatalf("fund event %+v, want %s %s -> %s", ev, c.wantReason, c.wantDelta, c.wantFund)
	}
	fs := e.fundState()
	if !fs.Balances["USDT"].Equal(dec(c.wantFund)) || len(fs.History) == 0 || !sameFundEvent(fs.History[len(fs.History)-1], ev) {
		t.Fatalf("fund state %+v, want balance %s and last event %+v", fs, c.wantFund, ev)
	}
	if st := alice.state(); len(st.Positions) != 0 || len(st.OpenOrders) != 0 || !st.Balances["USDT"].Equal(dec(left)) {
		t.Fatalf("alice after liquidation: %+v", st)
	}
	eventually(t, "erin's position from the liquidation order", func() error {
		if p := erin.position(); p == nil || !p.EntryPrice.Equal(dec(c.exec)) || !p.Qty.Equal(dec("1")) {
			return fmt.Errorf("erin %+v", p)
		}
		return nil
	})
	if a := e.settledAudit(); !a.Fund.Equal(dec(c.wantFund)) {
		t.Fatalf("audit fund %s, want %s", a.Fund, c.wantFund)
	}
	// The fund's daily report: the day opens at 0, takes the deposit and
	// the surplus or pays the deficit, and closes at the balance.
	fd := request[wire.FundDailyReply](t, e.nc, e.subj.FundDaily(), wire.FundDaily{})
	mustOK(t, "fund daily", fd.Reply)
	d := fd.Days
	if len(d) != 1 || !d[0].OpeningBalance.IsZero() || !d[0].ClosingBalance.Equal(dec(c.wantFund)) || d[0].Liquidations != 1 || d[0].ADL != 0 ||
		!d[0].Deposits.Equal(dec(c.fund)) || d[0].Asset != "USDT" ||
		!d[0].Surplus.Sub(d[0].Deficits).Equal(dec(c.wantFund).Sub(dec(c.fund))) {
		t.Fatalf("fund daily %+v", d)
	}
}

// TestE2EIsolatedMarginMode: with "margin_mode":"isolated" in the config a
// position is backed by its own margin only. Alice holds 1000 besides the
// 750 her 5x long at 3750 takes: the long is still liquidated at 3100, as if
// she had nothing else (cross, the 1750 would carry it down to 2061), and
// the liquidation takes its margin only, leaving her the 1000.
func TestE2EIsolatedMarginMode(t *testing.T) {
	e := start(t, parseConfig(t, symbolJSON("100", 0, longTiers()...), `"margin_mode":"isolated"`), startOpts{})
	e.index("3750")
	alice := e.funded("1750", "alice")[0]
	tr := e.funded("100000", "bob", "erin")
	bob, erin := tr[0], tr[1]
	alice.openPosition(bob, wire.Buy, "3750", "1", "5")
	st := alice.state()
	if p := st.Positions; len(p) != 1 || !p[0].Margin.Equal(dec("750")) || !p[0].LiquidationPrice.Equal(dec("3100")) ||
		!p[0].BankruptcyPrice.Equal(dec("3000")) || !st.Balances["USDT"].Equal(dec("1750")) || !st.Available.Equal(dec("1000")) {
		t.Fatalf("alice's isolated long: %+v", st)
	}
	erin.leverage("5")
	erin.limit(wire.Buy, "3060", "1") // the liquidity the liquidation order takes
	e.index("3100")

	e.waitEvents("alice", wire.EventLiquidation, 1)
	// Alice's account is final at the takeover, before the liquidation
	// order trades; the audit holds while it is in flight too (the leg is
	// counted in unrealized), so only the fund's event says it settled.
	ev := e.settlementEvent()
	if ev.Reason != wire.ReasonLiquidationSurplus || !ev.Delta.Equal(dec("60")) || !ev.Balance.Equal(dec("60")) || ev.Account != "alice" {
		t.Fatalf("fund event %+v, want the 60 surplus of selling at erin's 3060", ev)
	}
	if st := alice.state(); len(st.Positions) != 0 || len(st.OpenOrders) != 0 || !st.Balances["USDT"].Equal(dec("1000")) {
		t.Fatalf("alice after the liquidation: %+v", st)
	}
	eventually(t, "erin's position from the liquidation order", func() error {
		if p := erin.position(); p == nil || !p.EntryPrice.Equal(dec("3060")) || !p.Qty.Equal(dec("1")) {
			return fmt.Errorf("erin %+v", p)
		}
		return nil
	})
	if adl := e.adlEvents(); len(adl) != 0 {
		t.Fatalf("ADL events %+v: the liquidation order had erin's bid", adl)
	}
	if a := e.settledAudit(); !a.Fund.Equal(dec("60")) {
		t.Fatalf("audit fund %s, want the 60 surplus", a.Fund)
	}
}

// TestE2EADLWithEmptyFund: A's 200-lot long is bankrupt at 3000, the fund
// is empty and the book has no bids: the top-ranked short is closed at
// 3000; if it holds fewer, the next one takes the rest. Deleveraged traders
// are notified and trade again at once.
func TestE2EADLWithEmptyFund(t *testing.T) {
	cases := []struct {
		name   string
		shorts [][2]string // account, qty (placed in this order)
		deps   map[string]string
		closed [][2]string       // account, qty closed by ADL
		keeps  map[string]string // account -> short qty left
	}{
		{"B 230 takes 200", [][2]string{{"B", "230"}}, map[string]string{"B": "200000"},
			[][2]string{{"B", "200"}}, map[string]string{"B": "30"}},
		{"B 150 then C 50", [][2]string{{"B", "150"}, {"C", "80"}}, map[string]string{"B": "120000", "C": "1000000"},
			[][2]string{{"B", "150"}, {"C", "50"}}, map[string]string{"C": "30"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := start(t, seedConfig(t, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"}), startOpts{})
			e.index("3750")
			e.deposit("A", "150000")
			e.deposit("D", "1000000")
			a, d := e.trader("A"), e.trader("D")
			a.leverage("5")
			d.leverage("5")
			for _, s := range c.shorts {
				e.deposit(s[0], c.deps[s[0]])
				e.trader(s[0]).leverage("5")
				e.trader(s[0]).limit(wire.Sell, "3750", s[1])
			}
			a.limit(wire.Buy, "3750", "200", wire.IOC)
			d.limit(wire.Buy, "3750", "30", wire.IOC)
			if p := a.position(); p == nil || !p.BankruptcyPrice.Equal(dec("3000")) || !p.LiquidationPrice.Equal(dec("3100")) {
				t.Fatalf("A: %+v", p)
			}
			e.settledAudit()

			e.index("3100")
			e.waitEvents("A", wire.EventLiquidation, 1)
			eventually(t, "ADL events", func() error {
				got := e.adlEvents()
				if len(got) != len(c.closed) {
					return fmt.Errorf("adl events %+v", got)
				}
				// The closes run in parallel: events come in any order.
				byAcct := map[string]wire.ADLEvent{}
				for _, g := range got {
					byAcct[g.Counterparty] = g
				}
				for _, w := range c.closed {
					if g, ok := byAcct[w[0]]; !ok || g.Symbol != tsym || g.BankruptAccount != "A" ||
						!g.Qty.Equal(dec(w[1])) || !g.Price.Equal(dec("3000")) {
						t.Fatalf("adl events %+v, want %s closes %s at 3000", got, w[0], w[1])
					}
				}
				return nil
			})
			if evs := e.waitEvents("A", wire.EventADL, len(c.closed)); evs[0].ADL.BankruptAccount != "A" {
				t.Fatalf("A's adl events %+v", evs)
			}
			for _, w := range c.closed {
				ev := e.waitEvents(w[0], wire.EventADL, 1)[0].ADL
				if ev.Counterparty != w[0] || ev.BankruptAccount != "A" || !ev.Qty.Equal(dec(w[1])) || !ev.Price.Equal(dec("3000")) {
					t.Fatalf("%s's adl event %+v", w[0], ev)
				}
				cp := e.trader(w[0])
				keep, kept := c.keeps[w[0]]
				if p := cp.position(); kept != (p != nil) || (kept && (p.Side != wire.Short || !p.Qty.Equal(dec(keep)))) {
					t.Fatalf("%s keeps %+v, want %q", w[0], p, keep)
				}
				// Free to trade at once.
				if o := cp.limit(wire.Buy, "3000", "1"); o.Status != wire.StatusNew {
					t.Fatalf("%s's order after ADL: %+v", w[0], o)
				}
			}
			if p := a.position(); p != nil {
				t.Fatalf("A still holds %+v", p)
			}
			fs := e.fundState()
			if !fs.Balances["USDT"].IsZero() {
				t.Fatalf("fund %+v", fs)
			}
			for _, h := range fs.History {
				if !h.Delta.IsZero() || !h.Balance.IsZero() {
					t.Fatalf("the empty fund moved: %+v", fs.History)
				}
			}
			// The fund's day counts the counterparties closed.
			eventually(t, "the ADL count in fund.daily", func() error {
				fd := request[wire.FundDailyReply](t, e.nc, e.subj.FundDaily(), wire.FundDaily{})
				if len(fd.Days) != 1 || fd.Days[0].ADL != len(c.closed) || fd.Days[0].Liquidations != 1 {
					return fmt.Errorf("fund daily %+v, want %d ADL", fd.Days, len(c.closed))
				}
				return nil
			})
			q := e.adlQueue(wire.Short)
			for acct := range c.keeps {
				if len(q) != 1 || q[0].Account != acct {
					t.Fatalf("short ADL queue %+v, want only %s", q, acct)
				}
			}
			e.settledAudit()
		})
	}
}

// TestE2EDepthReconstruction: a subscriber to px.md.<sym>.book that takes
// a depth snapshot and applies the diffs with a higher seq rebuilds the
// book exactly, after random orders, trades and cancels; so does one that
// applies every diff from the first.
func TestE2EDepthReconstruction(t *testing.T) {
	e := start(t, seedConfig(t, [2]string{"1000000000", "0.01"}), startOpts{})
	e.index("1000")
	traders := e.funded("10000000", "m1", "m2", "m3", "m4")
	for _, c := range traders {
		c.leverage("10")
	}
	diffs := newRecorder(t, e.nc, e.subj.Book(tsym))
	rng := rand.New(rand.NewPCG(6, 42))
	var open []*openOrder
	n1 := e.randomFlow(rng, traders, &open, 60)
	snap := e.depth()
	n2 := e.randomFlow(rng, traders, &open, 120)
	final := e.depth()
	if len(final.Bids) == 0 || len(final.Asks) == 0 || snap.Seq == 0 || final.Seq <= snap.Seq ||
		n1.fills+n2.fills == 0 || n1.cancels+n2.cancels == 0 {
		t.Fatalf("a thin run: snapshot seq %d, final seq %d with %d bids %d asks; %+v %+v",
			snap.Seq, final.Seq, len(final.Bids), len(final.Asks), n1, n2)
	}
	var ups []wire.BookUpdate
	eventually(t, "book diffs up to the final snapshot", func() error {
		ups = decoded[wire.BookUpdate](diffs, e.subj.Book(tsym))
		if len(ups) == 0 || ups[len(ups)-1].Seq < final.Seq {
			return fmt.Errorf("%d diffs, want up to seq %d", len(ups), final.Seq)
		}
		return nil
	})
	for i, u := range ups {
		if u.Seq != uint64(i+1) {
			t.Fatalf("diff %d has seq %d: a gap or a reordering", i, u.Seq)
		}
	}
	fromSnap := newBookOf(snap)
	fromStart := newBookOf(wire.DepthReply{})
	for _, u := range ups {
		fromStart.apply(u)
		if u.Seq > snap.Seq {
			fromSnap.apply(u)
		}
	}
	want := newBookOf(final)
	for name, b := range map[string]*rebuilt{"snapshot + diffs": fromSnap, "diffs from the start": fromStart} {
		if err := b.equal(want); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !sortedDepth(final) {
		t.Fatalf("final snapshot not sorted or crossed: bids %v asks %v", final.Bids, final.Asks)
	}
	e.settledAudit()
}

// TestE2EFundingPayments: with a 60 s funding interval (market's minimum)
// and a manual clock, a premium of the book over the index makes longs pay
// shorts at the capped rate, a discount makes shorts pay longs; accounts
// without a position pay nothing; money is conserved.
func TestE2EFundingPayments(t *testing.T) {
	const iv = 60 * time.Second
	clk := &clock{}
	t0 := (time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC).UnixMilli()/iv.Milliseconds() + 1) * iv.Milliseconds()
	clk.ms.Store(t0) // a funding time: the first payment is due at t0 + 60 s
	// max leverage 10: impact notional 2000, 2 lots at 1000; mmr 0.01: the
	// funding cap is 0.75 %.
	cfg := parseConfig(t, symbolJSON("10", int(iv.Seconds()), [2]string{"1000000000", "0.01"}), "")
	dir := t.TempDir()
	e := start(t, cfg, startOpts{now: clk.now, data: dir})
	e.index("1000")
	tr := e.funded("100000", "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := tr[0], tr[1], tr[2], tr[3]
	alice.openPosition(bob, wire.Buy, "1000", "10", "5")
	carol.leverage("5")
	dave.leverage("5")

	round := func(n int, sign int64) {
		t.Helper()
		before := map[string]decimal.Decimal{"alice": alice.balance(), "bob": bob.balance(), "carol": carol.balance()}
		e.index("1000") // the premium from the book in place now holds for the whole interval
		clk.advance(iv)
		e.index("1000") // crosses the funding time: payment due
		pay := e.waitEvents("alice", wire.EventFunding, n)[n-1].Funding
		get := e.waitEvents("bob", wire.EventFunding, n)[n-1].Funding
		rate := dec("0.0075").Mul(decimal.NewFromInt(sign))
		// The mark carries the funding basis: index × (1 + rate) at the
		// start of an interval, toward zero to the tick.
		mark := dec("1000").Add(dec("1000").Mul(rate).Truncate(0))
		want := dec("10").Mul(mark).Mul(rate)
		if !pay.Rate.Equal(rate) || !get.Rate.Equal(rate) || pay.Side != wire.Long || get.Side != wire.Short ||
			!pay.Qty.Equal(dec("10")) || !pay.MarkPrice.Equal(mark) || !get.MarkPrice.Equal(mark) || pay.Symbol != tsym ||
			!pay.Payment.Equal(want.Neg()) || !get.Payment.Equal(want) {
			t.Fatalf("round %d: long %+v short %+v, want rate %s payment %s", n, pay, get, rate, want)
		}
		if !alice.balance().Equal(before["alice"].Add(pay.Payment)) || !bob.balance().Equal(before["bob"].Add(get.Payment)) ||
			!carol.balance().Equal(before["carol"]) {
			t.Fatalf("round %d: balances did not move by the payments", n)
		}
		if evs := e.events("carol", wire.EventFunding); len(evs) != 0 {
			t.Fatalf("carol has no position but got %+v", evs)
		}
		marks := decoded[wire.MarkUpdate](e.rec, e.subj.Mark(tsym))
		if m := marks[len(marks)-1]; m.NextFundingMs != t0+int64(n+1)*iv.Milliseconds() || m.TimeMs != clk.now() {
			t.Fatalf("round %d: mark update %+v", n, m)
		}
		e.settledAudit()
	}
	// Bids above the index: premium +1 %, rate capped at +0.75 %.
	bid := carol.limit(wire.Buy, "1010", "5")
	round(1, +1)
	// Bid gone, asks below the index: premium −1 %, rate −0.75 %.
	if r := carol.cancel(wire.Cancel{Symbol: tsym, OrderID: bid.OrderID}); !r.OK || r.Order.Status != wire.StatusCanceled {
		t.Fatalf("cancel: %+v", r)
	}
	dave.limit(wire.Sell, "990", "5")
	round(2, -1)

	// Both events are in the symbol's funding history, at their funding
	// times, with the rates and marks the accounts were paid at.
	e.app.Exchange().Quiesce()
	fh := request[wire.FundingHistoryReply](t, e.nc, e.subj.FundingHistory(tsym), wire.FundingHistory{})
	mustOK(t, "funding history", fh.Reply)
	pays := e.events("alice", wire.EventFunding)
	if len(fh.History) != 2 || fh.History[0].FundingMs != t0+iv.Milliseconds() || fh.History[1].FundingMs != t0+2*iv.Milliseconds() ||
		!fh.History[0].FundingRate.Equal(dec("0.0075")) || !fh.History[1].FundingRate.Equal(dec("-0.0075")) ||
		!fh.History[1].MarkPrice.Equal(pays[1].Funding.MarkPrice) || fh.History[0].Symbol != tsym {
		t.Fatalf("funding history %+v", fh.History)
	}
	last := request[wire.FundingHistoryReply](t, e.nc, e.subj.FundingHistory(tsym), wire.FundingHistory{Limit: 1})
	if len(last.History) != 1 || last.History[0].FundingMs != fh.History[1].FundingMs {
		t.Fatalf("the newest funding event %+v", last.History)
	}
	none := request[wire.FundingHistoryReply](t, e.nc, e.subj.FundingHistory(tsym), wire.FundingHistory{StartMs: t0, EndMs: t0 + 1})
	if !none.OK || len(none.History) != 0 {
		t.Fatalf("a window without funding %+v", none)
	}

	// A restart keeps the funding history and the ticker; the next funding
	// joins the history once, at its time.
	tk := request[wire.TickerReply](t, e.nc, e.subj.Ticker(tsym), "{}")
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	deps := e.deposits
	e = start(t, cfg, startOpts{now: clk.now, data: dir})
	e.deposits = deps
	fh2 := request[wire.FundingHistoryReply](t, e.nc, e.subj.FundingHistory(tsym), wire.FundingHistory{})
	tk2 := request[wire.TickerReply](t, e.nc, e.subj.Ticker(tsym), "{}")
	if !sameJSON(t, fh, fh2) || !sameJSON(t, tk, tk2) {
		t.Fatalf("after the restart:\n%+v %+v\nbefore:\n%+v %+v", fh2, tk2.Ticker, fh, tk.Ticker)
	}
	clk.advance(iv)
	e.index("1000")
	eventually(t, "the third funding", func() error {
		fh3 := request[wire.FundingHistoryReply](t, e.nc, e.subj.FundingHistory(tsym), wire.FundingHistory{})
		if len(fh3.History) != 3 || fh3.History[2].FundingMs != t0+3*iv.Milliseconds() || !sameJSON(t, fh3.History[:2], fh.History) {
			return fmt.Errorf("funding history %+v", fh3.History)
		}
		return nil
	})
	e.settledAudit()
}

// TestE2ESecurity: with config users, alice cannot place, cancel, change
// leverage or read state for bob, cannot read bob's events or replies,
// cannot move the index, deposit, top up the fund or audit; the server
// refuses each as a permission violation and the exchange is unchanged.
// She can trade her own account.
func TestE2ESecurity(t *testing.T) {
	e, alice, bob, av, bv := startSecurity(t)
	bid := bob.limit(wire.Buy, "990", "2")
	e.settledAudit()

	bobAsAdmin := e.trader("bob")
	before, bobBefore, h0 := e.audit(), bobAsAdmin.state(), e.hash()

	// Every attempt is a request with alice's own reply inbox: nothing
	// may come back, and the server reports each one.
	replies, err := alice.nc.SubscribeSync(wire.InboxPrefix("alice") + ".attempts")
	if err != nil {
		t.Fatal(err)
	}
	order := `{"symbol":"TEST-PERP","side":"sell","type":"limit","price":"990","qty":"1"}`
	attempts := []struct{ subject, body string }{
		{e.subj.OrderPlace("bob"), order},
		{e.subj.OrderCancel("bob"), fmt.Sprintf(`{"symbol":"TEST-PERP","order_id":%q}`, bid.OrderID)},
		{e.subj.Leverage("bob"), `{"symbol":"TEST-PERP","leverage":"50"}`},
		{e.subj.State("bob"), `{}`},
		{e.subj.AdminIndex(tsym), `{"price":"500"}`},
		{e.subj.AdminDeposit(), `{"account":"alice","amount":"1000000"}`},
		{e.subj.AdminFundDeposit(), `{"amount":"1000000"}`},
		{e.subj.AdminAudit(), `{}`},
		{e.subj.AdminStateHash(), `{}`},
		{e.subj.Events("alice"), `{"type":"fill"}`}, // only the exchange speaks there
	}
	for _, a := range attempts {
		if err := alice.nc.PublishRequest(a.subject, replies.Subject, []byte(a.body)); err != nil {
			t.Fatal(err)
		}
	}
	denied := []string{e.subj.Events("bob"), wire.InboxPrefix("bob") + ".>", e.subj.OrderPlace(wire.Any), e.subj.FundState()}
	for _, s := range denied {
		if _, err := alice.nc.Subscribe(s, func(*nats.Msg) { t.Errorf("alice received a message on %s", s) }); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range attempts {
		av.expect(t, "Publish", a.subject)
	}
	for _, s := range denied {
		av.expect(t, "Subscription", s)
	}
	if m, err := replies.NextMsg(50 * time.Millisecond); err == nil {
		t.Fatalf("a refused request was answered: %s", m.Data)
	}

	if after := e.audit(); !sameJSON(t, after, before) {
		t.Fatalf("audit changed:\n%+v\n%+v", before, after)
	}
	if st := bobAsAdmin.state(); !sameJSON(t, st, bobBefore) || len(st.OpenOrders) != 1 || st.OpenOrders[0].OrderID != bid.OrderID {
		t.Fatalf("bob's state changed:\n%+v\n%+v", bobBefore, st)
	}
	if h := e.hash(); h != h0 {
		t.Fatalf("state hash %x, was %x", h, h0)
	}
	if len(bv.seen) != 0 {
		t.Fatalf("bob saw violations: %v", bv.seen)
	}

	// With the default _INBOX prefix a trader gets no reply.
	dv := &violations{}
	plain := connect(t, e.app.URL(), nats.UserInfo("alice", "s3cret"), nats.ErrorHandler(dv.handler))
	if _, err := plain.Request(e.subj.State("alice"), []byte("{}"), 300*time.Millisecond); err == nil {
		t.Fatal("alice got a reply on the default inbox prefix")
	}
	dv.expect(t, "Subscription", "_INBOX.")

	// Her own account, market data and the public reads work.
	if a := alice.state(); !a.Balances["USDT"].Equal(dec("10000")) {
		t.Fatalf("alice's state %+v", a)
	}
	alice.leverage("10")
	if o := alice.limit(wire.Sell, "990", "2", wire.IOC); o.Status != wire.StatusFilled || !o.AvgPrice.Equal(dec("990")) {
		t.Fatalf("alice's sell: %+v", o)
	}
	if p := alice.position(); p == nil || p.Side != wire.Short || !p.Qty.Equal(dec("2")) {
		t.Fatalf("alice's position %+v", p)
	}
	for _, subj := range []string{e.subj.AccountDepth("alice", tsym), e.subj.AccountFundState("alice"), e.subj.AccountADLQueue("alice", tsym)} {
		body := `{}`
		if subj == e.subj.AccountADLQueue("alice", tsym) {
			body = `{"side":"long"}`
		}
		mustOK(t, subj, request[wire.Reply](t, alice.nc, subj, body))
	}
	e.waitEvents("bob", wire.EventFill, 1)
	e.settledAudit()
}

// TestE2EBadInput: malformed and invalid requests against the real
// exchange get a coded error and change nothing: the audit, alice's state
// and the exchange's state hash are the same before and after.
func TestE2EBadInput(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{})
	e.index("1000")
	tr := e.funded("10000", "alice", "bob")
	alice, bob := tr[0], tr[1]
	alice.leverage("5")
	bob.leverage("5")
	bob.limit(wire.Sell, "1010", "2")
	alice.openPosition(bob, wire.Buy, "1000", "1", "5")
	resting := alice.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("990"), Qty: dec("1"), ClientOrderID: "c1"})
	mustOK(t, "resting c1", resting.Reply)
	e.settledAudit()
	before, aliceBefore, h0 := e.audit(), alice.state(), e.hash()

	place := e.subj.OrderPlace("alice")
	order := func(fields string) string {
		return `{"symbol":"TEST-PERP","side":"buy","type":"limit","tif":"GTC"` + fields + `}`
	}
	long := strings.Repeat("x", wire.MaxPayload)
	cases := []struct {
		name, subject, body string
		code                wire.Code
	}{
		{"unparsable", place, `{"symbol":`, wire.CodeBadRequest},
		{"not json", place, `buy 1 BTC please`, wire.CodeBadRequest},
		{"array", place, `[]`, wire.CodeBadRequest},
		{"trailing data", place, order(`,"price":"990","qty":"1"`) + `{}`, wire.CodeBadRequest},
		{"unknown field", place, order(`,"price":"990","qty":"1","account":"bob"`), wire.CodeBadRequest},
		{"duplicate field", place, order(`,"price":"990","qty":"1","qty":"2"`), wire.CodeBadRequest},
		{"number not string", place, order(`,"price":990,"qty":"1"`), wire.CodeBadRequest},
		{"symbol as number", place, `{"symbol":7,"side":"buy","type":"limit","price":"990","qty":"1"}`, wire.CodeBadRequest},
		{"bool as string", place, order(`,"price":"990","qty":"1","reduce_only":"yes"`), wire.CodeBadRequest},
		{"bad side", place, `{"symbol":"TEST-PERP","side":"up","type":"limit","price":"990","qty":"1"}`, wire.CodeBadRequest},
		{"missing qty", place, order(`,"price":"990"`), wire.CodeBadRequest},
		{"null qty", place, order(`,"price":"990","qty":null`), wire.CodeBadRequest},
		{"limit without price", place, order(`,"qty":"1"`), wire.CodeBadRequest},
		{"market with price", place, `{"symbol":"TEST-PERP","side":"buy","type":"market","price":"990","qty":"1"}`, wire.CodeBadRequest},
		{"negative qty", place, order(`,"price":"990","qty":"-1"`), wire.CodeInvalidQty},
		{"zero qty", place, order(`,"price":"990","qty":"0"`), wire.CodeInvalidQty},
		{"zero price", place, order(`,"price":"0","qty":"1"`), wire.CodeInvalidPrice},
		{"negative price", place, order(`,"price":"-990","qty":"1"`), wire.CodeInvalidPrice},
		{"NaN price", place, order(`,"price":"NaN","qty":"1"`), wire.CodeBadRequest},
		{"Inf qty", place, order(`,"price":"990","qty":"Infinity"`), wire.CodeBadRequest},
		{"exponent", place, order(`,"price":"9.9e2","qty":"1"`), wire.CodeBadRequest},
		{"huge qty", place, order(`,"price":"990","qty":"99999999999999999999"`), wire.CodeInvalidQty},
		{"huge price", place, order(`,"price":"99999999999999999999","qty":"1"`), wire.CodeInvalidPrice},
		{"overlong number", place, order(`,"price":"990","qty":"1` + strings.Repeat("0", 40) + `"`), wire.CodeBadRequest},
		{"price decimals", place, order(`,"price":"990.5","qty":"1"`), wire.CodeInvalidPrice},
		{"qty decimals", place, order(`,"price":"990","qty":"1.000000001"`), wire.CodeInvalidQty},
		{"outside the band", place, order(`,"price":"1600","qty":"1"`), wire.CodeInvalidPrice},
		{"unknown symbol", place, `{"symbol":"DOGE-PERP","side":"buy","type":"limit","price":"990","qty":"1"}`, wire.CodeUnknownSymbol},
		{"bad symbol token", place, `{"symbol":"TEST.PERP","side":"buy","type":"limit","price":"990","qty":"1"}`, wire.CodeBadRequest},
		{"duplicate client id", place, order(`,"price":"980","qty":"1","client_order_id":"c1"`), wire.CodeDuplicateClientOrderID},
		{"margin", place, order(`,"price":"990","qty":"1000"`), wire.CodeInsufficientMargin},
		{"post only takes", place, `{"symbol":"TEST-PERP","side":"buy","type":"limit","price":"1010","qty":"1","post_only":true}`, wire.CodePostOnlyWouldTake},
		{"FOK unfilled", place, `{"symbol":"TEST-PERP","side":"buy","type":"limit","price":"1010","qty":"5","tif":"FOK"}`, wire.CodeFOKNotFilled},
		{"reduce only grows", place, order(`,"price":"980","qty":"1","reduce_only":true`), wire.CodeReduceOnlyRejected},
		{"oversize", place, order(`,"price":"990","qty":"1","client_order_id":"` + long + `"`), wire.CodeBadRequest},
		{"bad account token", "px.acct.al$ce.order.place", order(`,"price":"990","qty":"1"`), wire.CodeBadRequest},
		{"cancel unknown id", e.subj.OrderCancel("alice"), `{"symbol":"TEST-PERP","order_id":"999999"}`, wire.CodeUnknownOrder},
		{"cancel unknown client id", e.subj.OrderCancel("alice"), `{"symbol":"TEST-PERP","client_order_id":"nope"}`, wire.CodeUnknownOrder},
		{"cancel another's order", e.subj.OrderCancel("bob"), `{"symbol":"TEST-PERP","client_order_id":"c1"}`, wire.CodeUnknownOrder},
		{"cancel with both ids", e.subj.OrderCancel("alice"), `{"symbol":"TEST-PERP","order_id":"1","client_order_id":"c1"}`, wire.CodeBadRequest},
		{"cancel unknown symbol", e.subj.OrderCancel("alice"), `{"symbol":"DOGE-PERP","client_order_id":"c1"}`, wire.CodeUnknownSymbol},
		{"leverage zero", e.subj.Leverage("alice"), `{"symbol":"TEST-PERP","leverage":"0"}`, wire.CodeBadRequest},
		{"leverage too high", e.subj.Leverage("alice"), `{"symbol":"TEST-PERP","leverage":"1000"}`, wire.CodeLeverageTooHigh},
		{"leverage word", e.subj.Leverage("alice"), `{"symbol":"TEST-PERP","leverage":"high"}`, wire.CodeBadRequest},
		{"state with fields", e.subj.State("alice"), `{"account":"bob"}`, wire.CodeBadRequest},
		{"deposit negative", e.subj.AdminDeposit(), `{"account":"alice","asset":"USDT","amount":"-5"}`, wire.CodeBadRequest},
		{"deposit too precise", e.subj.AdminDeposit(), `{"account":"alice","asset":"USDT","amount":"0.000000001"}`, wire.CodeBadRequest},
		{"deposit unknown asset", e.subj.AdminDeposit(), `{"account":"alice","asset":"DOGE","amount":"5"}`, wire.CodeBadRequest},
		{"deposit missing account", e.subj.AdminDeposit(), `{"asset":"USDT","amount":"5"}`, wire.CodeBadRequest},
		{"index zero", e.subj.AdminIndex(tsym), `{"price":"0"}`, wire.CodeInvalidPrice},
		{"index huge", e.subj.AdminIndex(tsym), `{"price":"99999999999999999999"}`, wire.CodeInvalidPrice},
		{"index unknown symbol", e.subj.AdminIndex("DOGE-PERP"), `{"price":"5"}`, wire.CodeUnknownSymbol},
		{"fund deposit negative", e.subj.AdminFundDeposit(), `{"asset":"USDT","amount":"-1"}`, wire.CodeBadRequest},
		{"depth levels zero", e.subj.Depth(tsym), `{"levels":0}`, wire.CodeBadRequest},
		{"depth levels huge", e.subj.Depth(tsym), `{"levels":100000}`, wire.CodeBadRequest},
		{"depth levels string", e.subj.Depth(tsym), `{"levels":"5"}`, wire.CodeBadRequest},
		{"depth unknown symbol", e.subj.Depth("DOGE-PERP"), `{}`, wire.CodeUnknownSymbol},
		{"adl queue bad side", e.subj.ADLQueue(tsym), `{"side":"up"}`, wire.CodeBadRequest},
		{"audit with fields", e.subj.AdminAudit(), `{"x":1}`, wire.CodeBadRequest},
	}
	for _, c := range cases {
		m, err := e.nc.Request(c.subject, []byte(c.body), wait)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var r wire.Reply
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("%s: reply %q: %v", c.name, m.Data, err)
		}
		if r.OK || r.Error == nil || r.Error.Code != c.code || r.Error.Message == "" {
			t.Errorf("%s: got %s, want %s", c.name, m.Data, c.code)
			continue
		}
		// Refused at the gateway: the micro error headers carry the code.
		if h := m.Header.Get("Nats-Service-Error-Code"); h != "" && h != string(c.code) {
			t.Errorf("%s: header code %q, body %s", c.name, h, c.code)
		}
	}
	if st := alice.state(); !sameJSON(t, st, aliceBefore) {
		t.Fatalf("alice's state changed:\n%+v\n%+v", aliceBefore, st)
	}
	e.unchanged(before, h0)
	e.settledAudit()
}

// TestE2ENatsCLI: the stock nats CLI places an order with `nats req`; the
// reply is the ok order and carol's state lists it.
func TestE2ENatsCLI(t *testing.T) {
	cli := natsCLI(t)
	e := start(t, seedConfig(t, longTiers()...), startOpts{})
	e.index("1000")
	e.deposit("carol", "10000")
	body := `{"symbol":"TEST-PERP","side":"buy","type":"limit","price":"990","qty":"2","tif":"GTC","client_order_id":"cli-1"}`
	cmd := exec.Command(cli, "--no-context", "-s", e.app.URL(), "--timeout", "5s",
		"req", "--raw", e.subj.OrderPlace("carol"), body)
	home := t.TempDir() // no saved contexts of the machine's user
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nats req: %v\n%s", err, out)
	}
	var r wire.OrderReply
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		t.Fatalf("nats req printed %q: %v", out, err)
	}
	mustOK(t, "nats req", r.Reply)
	if o := r.Order; o == nil || o.Account != "carol" || o.ClientOrderID != "cli-1" || o.Status != wire.StatusNew ||
		!o.Price.Equal(dec("990")) || !o.Qty.Equal(dec("2")) || o.Side != wire.Buy {
		t.Fatalf("order %+v", r.Order)
	}
	st := e.trader("carol").state()
	if len(st.OpenOrders) != 1 || st.OpenOrders[0].OrderID != r.Order.OrderID || st.OpenOrders[0].ClientOrderID != "cli-1" {
		t.Fatalf("carol's open orders %+v", st.OpenOrders)
	}
	if d := e.depth(); len(d.Bids) != 1 || !d.Bids[0].Price().Equal(dec("990")) || !d.Bids[0].Qty().Equal(dec("2")) {
		t.Fatalf("depth %+v", d)
	}
	e.settledAudit()
}

// TestE2ECloseAnswersInFlight: requests already sent when Close starts are
// all answered (orders that trade with each other, and reads) before the
// exchange goes away; none is lost and none answered twice.
func TestE2ECloseAnswersInFlight(t *testing.T) {
	e := start(t, seedConfig(t, [2]string{"1000000000", "0.01"}), startOpts{})
	e.index("1000")
	tr := e.funded("1000000", "m1", "m2", "m3", "m4")
	for _, c := range tr {
		c.leverage("10")
	}
	client := connect(t, e.app.URL())
	const n = 400
	var mu sync.Mutex
	got := map[string][]byte{}
	dup := 0
	sub, err := client.Subscribe("_INBOX.close.>", func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if _, seen := got[m.Subject]; seen {
			dup++
		}
		got[m.Subject] = m.Data
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c := tr[i%len(tr)]
		subject, body := e.subj.State(c.acct), "{}"
		if i%4 != 3 {
			side := []string{"buy", "sell"}[i%2]
			subject = e.subj.OrderPlace(c.acct)
			body = fmt.Sprintf(`{"symbol":"TEST-PERP","side":%q,"type":"limit","price":"%d","qty":"1"}`, side, 995+i%10)
		}
		if err := client.PublishRequest(subject, fmt.Sprintf("_INBOX.close.%d", i), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Flush(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	early := len(got)
	mu.Unlock()
	if err := e.close(); err != nil {
		t.Fatalf("close with requests in flight: %v", err)
	}
	t.Logf("%d of %d replies were out when Close began", early, n)
	eventually(t, "every reply", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(got) != n {
			return fmt.Errorf("%d of %d replies", len(got), n)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if dup != 0 {
		t.Fatalf("%d duplicate replies", dup)
	}
	for subject, data := range got {
		var r wire.Reply
		if err := json.Unmarshal(data, &r); err != nil || !r.OK {
			t.Fatalf("%s: %s", subject, data)
		}
	}
}

// TestE2EReplySubjectIsNotARelay: a trader's request names its reply
// subject, and the exchange publishes the reply there with its own
// unrestricted login. Pointing it at another account's subjects must not
// let alice write into bob's private event stream or a public market-data
// stream, nor spend bob's rate-limit tokens with her (unlimited) reads.
//
// The gateway drops requests whose reply subject lies inside the exchange's
// namespace (gateway/replies.go).
func TestE2EReplySubjectIsNotARelay(t *testing.T) {
	e := start(t, parseConfig(t, symbolJSON("100", 0, longTiers()...), secUsers+`,"rate_limit":{"orders_per_s":1,"burst":2}`),
		startOpts{admin: []nats.Option{nats.UserInfo("ops", "root-pw")}})
	e.index("1000")
	e.deposit("alice", "10000")
	e.deposit("bob", "10000")
	av := &violations{}
	alice := login(t, e, "alice", "s3cret", av)
	bob := &trader{t: t, e: e, nc: login(t, e, "bob", "b0b-pw", &violations{}), acct: "bob"}
	for _, target := range []string{e.subj.Events("bob"), e.subj.Trades(tsym), e.subj.OrderPlace("bob"), e.subj.OrderPlace("bob")} {
		if err := alice.PublishRequest(e.subj.State("alice"), target, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.Flush(); err != nil {
		t.Fatal(err)
	}
	// Served in order after alice's earlier requests; then let the
	// recorder catch up.
	request[wire.AccountReply](t, alice, e.subj.State("alice"), "{}")
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if r := bob.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("990"), Qty: dec("1")}); !r.OK {
		t.Errorf("bob's first order of the second: %+v (alice spent his tokens)", r.Error)
	}
	for _, ev := range decoded[json.RawMessage](e.rec, e.subj.Events("bob")) {
		var a wire.AccountEvent
		if json.Unmarshal(ev, &a) != nil || a.Type == "" {
			t.Errorf("bob's event stream carries %s", ev)
		}
	}
	if tr := decoded[json.RawMessage](e.rec, e.subj.Trades(tsym)); len(tr) != 0 {
		t.Errorf("the trades stream carries %s", tr)
	}
}

// TestE2EFundStatePaging: px.fund.state's history pages back by
// before_seq, newest entries first in each page's window, oldest first in
// the list.
func TestE2EFundStatePaging(t *testing.T) {
	e := start(t, seedConfig(t, longTiers()...), startOpts{})
	for i := 1; i <= 5; i++ {
		e.fundDeposit(fmt.Sprint(i))
	}
	all := e.fundState().History
	if len(all) != 5 {
		t.Fatalf("history %+v", all)
	}
	page := request[wire.FundStateReply](t, e.nc, e.subj.FundState(), wire.FundState{Limit: 2})
	if len(page.History) != 2 || page.History[1].Seq != all[4].Seq || page.History[0].Seq != all[3].Seq {
		t.Fatalf("newest page %+v", page.History)
	}
	back := request[wire.FundStateReply](t, e.nc, e.subj.FundState(), wire.FundState{BeforeSeq: page.History[0].Seq, Limit: 2})
	if len(back.History) != 2 || back.History[1].Seq != all[2].Seq || back.History[0].Seq != all[1].Seq || !back.History[0].Delta.Equal(dec("2")) {
		t.Fatalf("the page before %+v", back.History)
	}
	first := request[wire.FundStateReply](t, e.nc, e.subj.FundState(), wire.FundState{BeforeSeq: back.History[0].Seq, Limit: 2})
	if len(first.History) != 1 || first.History[0].Seq != all[0].Seq {
		t.Fatalf("the first page %+v", first.History)
	}
}

// TestE2EOthersUnnamed: with users, the ADL queue a trader reads under its
// account names only itself (who holds the other side, at what leverage, is
// the other traders' business); an admin's read of the public queue names
// everyone.
func TestE2EOthersUnnamed(t *testing.T) {
	e, alice, bob, _, _ := startSecurity(t)
	bob.limit(wire.Sell, "1000", "2")
	alice.limit(wire.Buy, "1000", "2", wire.IOC)
	e.settledAudit()
	names := func(nc *nats.Conn, subject, side string) []string {
		r := request[wire.ADLQueueReply](t, nc, subject, map[string]string{"side": side})
		if !r.OK {
			t.Fatalf("%s: %v", subject, r.Error)
		}
		var out []string
		for _, q := range r.Queue {
			out = append(out, q.Account)
		}
		return out
	}
	for _, c := range []struct {
		who     string
		nc      *nats.Conn
		subject string
		long    string
		short   string
	}{
		{"alice", alice.nc, e.subj.AccountADLQueue("alice", tsym), "alice", ""},
		{"bob", bob.nc, e.subj.AccountADLQueue("bob", tsym), "", "bob"},
		{"the admin", e.nc, e.subj.ADLQueue(tsym), "alice", "bob"},
	} {
		if l, s := names(c.nc, c.subject, "long"), names(c.nc, c.subject, "short"); !slices.Equal(l, []string{c.long}) || !slices.Equal(s, []string{c.short}) {
			t.Errorf("%s reads the long queue %q and the short %q, want [%q] and [%q]", c.who, l, s, c.long, c.short)
		}
	}
}
