package app_test

import (
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
