package actors

import (
	"time"

	"testing"

	"github.com/perpx/perpx/wire"
)

// Adversarial scenarios, third round: batches, cancel-all and the dead
// man's switch against liquidations, self-trade prevention and rebates,
// conditional orders of liquidated accounts, socialized loss.

// TestLiquidationFillRebate: a liquidation's IOC pays no taker fee, but
// its maker is paid the maker rebate from the fees ledger. Two accounts of
// one trader, hedged against each other (the opening trade's taker fee and
// rebate cancel with maker_fee = −taker_fee), let a mark move liquidate
// one into the other's bid at the bankruptcy price: the fund gets nothing,
// and the pair is paid the rebate nobody paid.
func TestLiquidationFillRebate(t *testing.T) {
	cfg := testConfig(tsym, longTiers()...)
	cfg.TakerFee, cfg.MakerFee = dec("0.0002"), dec("-0.0002")
	e := pairEnv(t, "750.75", compileSymbol(t, cfg)) // 750 of margin and the opening fee
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	p := e.position("alice", tsym)
	e.mustPlace("bob", tsym, wire.Buy, p.BankruptcyPrice.String(), "1") // closes bob's short there
	e.index(tsym, "3050")
	a := e.audit()
	if e.liquidations("alice") != 1 {
		t.Fatalf("alice not liquidated: %+v", e.position("alice", tsym))
	}
	if a.Fees < 0 {
		t.Fatalf("fees ledger %s after the liquidation into bob's bid at %s (fund %s): bob %s",
			a.Fees, p.BankruptcyPrice, e.fundBalance(), balance(t, e.state("bob")))
	}
}

// TestRequestsDuringTakeover: alice's liquidation waits for its
// reservation while her own requests arrive: a cancel-all, the dead man's
// switch running out, a cancel, a batch-like run of places and an amend, a
// withdrawal, a margin move. The takeover's cancels and hers cross at the
// book; nothing may trade for her, and the books and the ledgers agree.
func TestRequestsDuringTakeover(t *testing.T) {
	e := pairEnv(t, "1400") // cross: 750 for the long, 600 for the buy
	e.fundDeposit("1000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.mustPlace("alice", tsym, wire.Sell, "3800", "1")
	buy := e.mustPlace("alice", tsym, wire.Buy, "3000", "1")
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.StopMarket, TriggerPrice: dec("2500"),
		ClosePosition: true, ReduceOnly: true, ClientOrderID: "sl"}); !r.OK {
		t.Fatalf("stop: %+v", r.Reply)
	}
	until := make(chan struct{})
	e.x.root.Send(e.x.fund, &pauseMsg{until: until})
	e.index(tsym, "2400") // liquidates alice (bankruptcy 2350)
	r := call(t, func(d func(wire.CancelAllAfterReply)) {
		e.x.CancelAllAfter("alice", wire.CancelAllAfter{TimeoutMs: 1}, d)
	})
	if !r.OK {
		t.Fatalf("cancel_all_after: %+v", r.Reply)
	}
	ca := call(t, func(d func(wire.CancelAllReply)) { e.x.CancelAll("alice", wire.CancelAll{}, d) })
	c := call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: tsym, OrderID: buy.OrderID}, d)
	})
	am := call(t, func(d func(wire.OrderReply)) {
		e.x.AmendOrder("alice", wire.Amend{Symbol: tsym, OrderID: buy.OrderID, Price: dec("3001")}, d)
	})
	p := e.place("alice", tsym, wire.Buy, "2700", "1", wire.IOC)
	w := e.withdraw("alice", "1")
	time.Sleep(20 * time.Millisecond) // the switch runs out
	close(until)
	a := e.audit()
	if e.liquidations("alice") != 1 || p.OK || p.Error.Code != wire.CodeAccountInLiquidation || am.OK || w.OK {
		t.Fatalf("accepted during the takeover: place %+v, amend %+v, withdraw %+v", p.Reply, am.Reply, w.Reply)
	}
	st := e.state("alice")
	if len(st.Positions) != 0 || len(st.OpenOrders) != 0 {
		t.Fatalf("after the liquidation: %+v; cancel_all %+v, cancel %+v; audit %s", st, ca, c.Reply, a)
	}
	// The stop's client id is free again.
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("2600"), Qty: dec("1"),
		TIF: wire.GTC, ClientOrderID: "sl"}); r.OK {
		t.Logf("reused id: %+v", r.Order.Status)
	} else if r.Error.Code == wire.CodeDuplicateClientOrderID {
		t.Fatalf("client id still taken: %+v", r.Reply)
	}
	e.audit()
}

// TestSTPModesEarnNoRebate: with a maker rebate, an account crossing its
// own resting orders under each self-trade prevention mode (FOK and
// post-only included) trades nothing with itself, and a partly filled
// order cannot be amended to its filled quantity or below; its client id
// is free again once it filled.
func TestSTPModesEarnNoRebate(t *testing.T) {
	cfg := testConfig(tsym, longTiers()...)
	cfg.TakerFee, cfg.MakerFee = dec("0.0005"), dec("-0.0005")
	e := pairEnv(t, "100000", compileSymbol(t, cfg))
	for _, a := range []string{"alice", "bob"} {
		e.leverage(a, tsym, 5)
	}
	for _, stp := range []wire.STP{wire.STPCancelTaker, wire.STPCancelMaker, wire.STPCancelBoth} {
		e.mustPlace("alice", tsym, wire.Sell, "3750", "2")
		if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("3750"), Qty: dec("1"),
			TIF: wire.GTC, PostOnly: true, STP: stp}); r.OK {
			t.Fatalf("post-only %s crossing its own ask: %+v", stp, r.Order)
		}
		for _, tif := range []wire.TIF{wire.FOK, wire.IOC, wire.GTC} {
			r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Buy, Type: wire.Limit, Price: dec("3750"), Qty: dec("1"), TIF: tif, STP: stp})
			if r.OK && r.Order.FilledQty.Sign() != 0 {
				t.Fatalf("%s %s filled against itself: %+v", stp, tif, r.Order)
			}
		}
		call(t, func(d func(wire.CancelAllReply)) { e.x.CancelAll("alice", wire.CancelAll{}, d) })
	}
	if a := e.audit(); a.Fees != 0 || balance(t, e.state("alice")) != "100000" {
		t.Fatalf("fees %s, alice %s", a.Fees, balance(t, e.state("alice")))
	}
	o := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, Price: dec("3750"), Qty: dec("3"), TIF: wire.GTC, ClientOrderID: "q"})
	e.mustPlace("bob", tsym, wire.Buy, "3750", "2", wire.IOC)
	for _, q := range []string{"2", "1"} {
		if r := call(t, func(d func(wire.OrderReply)) {
			e.x.AmendOrder("alice", wire.Amend{Symbol: tsym, OrderID: o.Order.OrderID, Qty: dec(q)}, d)
		}); r.OK || r.Error.Code != wire.CodeInvalidQty {
			t.Fatalf("amend to %s with 2 filled: %+v", q, r.Reply)
		}
	}
	e.mustPlace("bob", tsym, wire.Buy, "3750", "1", wire.IOC)
	if r := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Limit, Price: dec("3800"), Qty: dec("1"), TIF: wire.GTC, ClientOrderID: "q"}); !r.OK {
		t.Fatalf("client id of a filled order: %+v", r.Reply)
	}
	e.audit()
}
