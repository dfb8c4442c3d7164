package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/perpx/perpx/wire"
)

func (c *trader) marginMode(mode wire.MarginModeName) wire.MarginModeReply {
	c.t.Helper()
	return request[wire.MarginModeReply](c.t, c.nc, c.e.subj.MarginMode(c.acct), wire.MarginMode{Symbol: tsym, Mode: mode})
}

func (c *trader) positionMargin(delta string) wire.PositionMarginReply {
	c.t.Helper()
	return request[wire.PositionMarginReply](c.t, c.nc, c.e.subj.PositionMargin(c.acct), wire.PositionMargin{Symbol: tsym, Delta: dec(delta)})
}

// withdraw withdraws and, when it succeeds, takes it off the test's
// deposit ledger (the audit's deposits are net of withdrawals).
func (c *trader) withdraw(body string) wire.BalanceReply {
	c.t.Helper()
	r := request[wire.BalanceReply](c.t, c.nc, c.e.subj.Withdraw(c.acct), body)
	return r
}

func refused(t *testing.T, what string, r wire.Reply, code wire.Code) {
	t.Helper()
	if r.OK || r.Error == nil || r.Error.Code != code {
		t.Fatalf("%s: %+v, want %s", what, r, code)
	}
}

// TestE2EMarginRequests: a margin mode per account and symbol, isolated
// margin moved in and out, withdrawals; the worked example (an isolated
// long 1 at 10 000 with 1 000 margin and 0.4 % maintenance is liquidated
// at 9 036.14, as Binance's formula gives); every bad request is coded and
// changes nothing; money is conserved, deposits net of withdrawals.
func TestE2EMarginRequests(t *testing.T) {
	sym := strings.Replace(symbolJSON("100", 0, [2]string{"1000000000", "0.004"}), `"tick":"1"`, `"tick":"0.01"`, 1)
	e := start(t, parseConfig(t, sym, ""), startOpts{})
	ts := e.funded("5000", "alice")
	alice := ts[0]
	mm := e.funded("1000000", "mm")[0]
	e.index("10000")

	if r := alice.marginMode(wire.MarginIsolated); !r.OK || r.Mode != wire.MarginIsolated || r.Symbol != tsym {
		t.Fatalf("margin mode: %+v", r)
	}
	alice.openPosition(mm, wire.Buy, "10000", "1", "10")
	p := alice.position()
	if p == nil || !p.Margin.Equal(dec("1000")) || !p.LiquidationPrice.Equal(dec("9036.14")) {
		t.Fatalf("isolated long: %+v", p)
	}
	before, h := e.settledAudit(), e.hash()
	refused(t, "mode change with a position", alice.marginMode(wire.MarginCross).Reply, wire.CodePositionOpen)
	refused(t, "margin below initial", alice.positionMargin("-600").Reply, wire.CodeInsufficientMargin)
	refused(t, "more margin than available", alice.positionMargin("4000.01").Reply, wire.CodeInsufficientMargin)
	refused(t, "withdraw above available", alice.withdraw(`{"asset":"USDT","amount":"4000.01"}`).Reply, wire.CodeInsufficientMargin)
	refused(t, "withdraw nothing", alice.withdraw(`{"asset":"USDT","amount":"0"}`).Reply, wire.CodeBadRequest)
	refused(t, "withdraw negative", alice.withdraw(`{"asset":"USDT","amount":"-5"}`).Reply, wire.CodeBadRequest)
	refused(t, "withdraw another asset", alice.withdraw(`{"asset":"BTC","amount":"1"}`).Reply, wire.CodeBadRequest)
	refused(t, "withdraw dust", alice.withdraw(`{"asset":"USDT","amount":"0.000000001"}`).Reply, wire.CodeBadRequest)
	refused(t, "margin of a cross symbol", mm.positionMargin("10").Reply, wire.CodeNoIsolatedPosition)
	e.unchanged(before, h)

	r := alice.positionMargin("500")
	mustOK(t, "add margin", r.Reply)
	if !r.Margin.Equal(dec("1500")) || !r.Available.Equal(dec("3500")) {
		t.Fatalf("after adding 500: %+v", r)
	}
	if p := alice.position(); !p.LiquidationPrice.Equal(dec("8534.13")) {
		t.Fatalf("liquidation price with 1 500 margin: %+v", p)
	}
	r = alice.positionMargin("-500")
	mustOK(t, "remove margin", r.Reply)
	if !r.Margin.Equal(dec("1000")) || !alice.position().LiquidationPrice.Equal(dec("9036.14")) {
		t.Fatalf("after removing 500: %+v", r)
	}

	w := alice.withdraw(`{"asset":"USDT","amount":"1000"}`)
	mustOK(t, "withdraw", w.Reply)
	if !w.Balance.Equal(dec("4000")) { // 3 000 cash + 1 000 isolated
		t.Fatalf("balance after withdrawing 1 000: %+v", w)
	}
	e.mu.Lock()
	e.deposits = e.deposits.Sub(dec("1000"))
	e.mu.Unlock()
	if a := e.settledAudit(); !a.Deposits.Equal(dec("1004000")) {
		t.Fatalf("deposits net of the withdrawal: %s", a.Deposits)
	}

	// Orders, conditional ones too, hold the mode where they are.
	bob := e.funded("1000", "bob")[0]
	o := bob.limit(wire.Buy, "9000", "1")
	refused(t, "mode change with an open order", bob.marginMode(wire.MarginIsolated).Reply, wire.CodeOpenOrders)
	mustOK(t, "cancel", bob.cancel(wire.Cancel{Symbol: tsym, OrderID: o.OrderID}).Reply)
	mustOK(t, "stop", bob.place(wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.StopMarket, Qty: dec("1"), TriggerPrice: dec("8000")}).Reply)
	refused(t, "mode change with a stop", bob.marginMode(wire.MarginIsolated).Reply, wire.CodeOpenOrders)

	// The isolated long is liquidated at its own liquidation price, its
	// margin only: the rest of alice's balance stays hers.
	mm.limit(wire.Buy, "9000", "1")
	e.index("9036.14")
	e.waitEvents("alice", wire.EventLiquidation, 1)
	e.settledAudit()
	if st := alice.state(); len(st.Positions) != 0 || !st.Balances["USDT"].Equal(dec("3000")) {
		t.Fatalf("after the isolated liquidation: %+v", st)
	}
}

// TestE2EPartialLiquidation: with partial_liquidation a long 20 at 1 000
// (2 000 cash, in the 5 % tier above 10 000 notional) liquidated at 926 is
// first reduced by 10 (back under the first tier's 10 000 at the mark) at
// no worse than its bankruptcy price 900; it fills at 920 and the long 10
// stays open, safe. A second such long finds no bid: the reduction does
// nothing, and the full takeover follows. Events and the public stream say
// which kind each was; money is conserved throughout.
func TestE2EPartialLiquidation(t *testing.T) {
	sym := strings.Replace(symbolJSON("100", 0, [2]string{"10000", "0.01"}, [2]string{"1000000", "0.05"}),
		`{"symbol":`, `{"partial_liquidation":true,"symbol":`, 1)
	e := start(t, parseConfig(t, sym, ""), startOpts{})
	e.fundDeposit("100000")
	alice := e.funded("2000", "alice")[0]
	mm := e.funded("1000000", "mm")[0]
	e.index("1000")
	alice.openPosition(mm, wire.Buy, "1000", "20", "10")
	mm.limit(wire.Buy, "920", "10")
	e.index("926")
	ev := e.waitEvents("alice", wire.EventLiquidation, 1)[0].Liquidation
	if ev.Kind != wire.LiquidationPartial || !ev.Qty.Equal(dec("10")) || !ev.BankruptcyPrice.Equal(dec("900")) || ev.Side != wire.Long {
		t.Fatalf("partial liquidation event %+v", ev)
	}
	eventually(t, "the reduction", func() error {
		if p := alice.position(); p == nil || !p.Qty.Equal(dec("10")) {
			return fmt.Errorf("position %+v", p)
		}
		return nil
	})
	if st := alice.state(); !st.Balances["USDT"].Equal(dec("1200")) {
		t.Fatalf("after the partial: %+v", st)
	}
	e.settledAudit()
	e.index("927")
	e.index("926") // safe in the first tier now: no second liquidation
	alice.state()
	if n := len(e.events("alice", wire.EventLiquidation)); n != 1 {
		t.Fatalf("%d liquidations of alice", n)
	}

	bob := e.funded("2000", "bob")[0]
	e.index("1000")
	bob.openPosition(mm, wire.Buy, "1000", "20", "10")
	e.index("926")
	evs := e.waitEvents("bob", wire.EventLiquidation, 2)
	if evs[0].Liquidation.Kind != wire.LiquidationPartial || evs[1].Liquidation.Kind != wire.LiquidationFull || !evs[1].Liquidation.Qty.Equal(dec("20")) {
		t.Fatalf("bob's liquidations %+v %+v", evs[0].Liquidation, evs[1].Liquidation)
	}
	eventually(t, "the public liquidations", func() error {
		if n := e.liquidationNotices(); len(n) != 3 || n[0].Kind != wire.LiquidationPartial || n[1].Kind != wire.LiquidationPartial || n[2].Kind != wire.LiquidationFull {
			return fmt.Errorf("%+v", n)
		}
		return nil
	})
	mm.limit(wire.Buy, "850", "20") // the takeover's liquidity
	eventually(t, "bob's takeover", func() error {
		if p := bob.position(); p != nil {
			return fmt.Errorf("position %+v", p)
		}
		return nil
	})
	e.settledAudit()
}

// TestE2ESettingsOfAFlatSymbol: state reports a symbol's margin mode and
// leverage without a position, as set (a bot reads back what it chose),
// and they survive opening and closing a position.
func TestE2ESettingsOfAFlatSymbol(t *testing.T) {
	e := start(t, parseConfig(t, symbolJSON("100", 0, [2]string{"1000000000", "0.004"}), ""), startOpts{})
	bob := e.funded("5000", "bob")[0]
	mm := e.funded("1000000", "mm")[0]
	e.index("1000")
	setting := func() wire.SymbolSetting {
		t.Helper()
		s := bob.state().Settings
		if len(s) != 1 || s[0].Symbol != tsym {
			t.Fatalf("settings %+v, want one for %s", s, tsym)
		}
		return s[0]
	}
	if s := setting(); s.MarginMode != wire.MarginCross || !s.Leverage.Equal(dec("20")) {
		t.Fatalf("a new account's settings %+v, want cross at the default 20", s)
	}
	bob.leverage("7")
	mustOK(t, "isolated", bob.marginMode(wire.MarginIsolated).Reply)
	if s := setting(); s.MarginMode != wire.MarginIsolated || !s.Leverage.Equal(dec("7")) {
		t.Fatalf("settings after setting them %+v, want isolated at 7", s)
	}
	if len(bob.state().Positions) != 0 {
		t.Fatal("setting a flat symbol made a position")
	}
	bob.openPosition(mm, wire.Buy, "1000", "1", "7")
	bob.openPosition(mm, wire.Sell, "1000", "1", "7") // closed again
	if s := setting(); s.MarginMode != wire.MarginIsolated || !s.Leverage.Equal(dec("7")) || len(bob.state().Positions) != 0 {
		t.Fatalf("settings after a round trip %+v", s)
	}
	e.settledAudit()
}
