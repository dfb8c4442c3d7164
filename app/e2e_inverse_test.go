package app_test

import (
	"fmt"
	"testing"

	"github.com/perpx/perpx/wire"
)

// inverseSymbol is XBTUSD as BitMEX lists it: contracts of 1 USD, tick
// 0.5, margin and PnL in BTC; maintenance 0.5 % up to 10 BTC of notional,
// 1 % above; no fees, no funding.
const inverseSymbol = `{"symbol":"XBTUSD","quote":"USD","contract":"inverse","settle":"BTC","tick":"0.5","lot":"1",
	"max_leverage":"100","mm_tiers":[{"max_notional":"10","mmr":"0.005"},{"max_notional":"1000","mmr":"0.01"}],
	"maker_fee":"0","taker_fee":"0","liquidation_fee":"0","price_band":"0.5","funding":false}`

// TestE2EInverse: an exchange of inverse contracts settled in BTC. BitMEX's
// example over NATS: 100 000 contracts long from 10 000 to 10 500 make
// 0.47619048 BTC, the short loses as much; balances are in BTC (USDT is
// refused). Then the seed's fund rule in the settlement coin: a long of
// 100 000 at 10 000 backed by 1 BTC (liquidation 9 140, bankruptcy 9 091)
// sold at 9 200 leaves the fund its whole equity there, 11 − 100 000/9 200
// = 0.13043479 BTC: 0.13032479 for selling above the bankruptcy tick and
// 0.00011001 that the tick's rounding (9 090.91 → 9 091) left. Money is
// conserved.
func TestE2EInverse(t *testing.T) {
	e := start(t, parseConfig(t, inverseSymbol, ""), startOpts{})
	if r := request[wire.BalanceReply](t, e.nc, e.subj.AdminDeposit(), wire.Deposit{Account: "alice", Asset: "USDT", Amount: dec("1")}); r.OK {
		t.Fatalf("a USDT deposit on a BTC-settled exchange: %+v", r)
	}
	index := func(price string) {
		t.Helper()
		mustOK(t, "index "+price, request[wire.IndexReply](t, e.nc, e.subj.AdminIndex("XBTUSD"), wire.IndexSet{Price: dec(price)}).Reply)
	}
	ts := e.funded("2", "alice", "bob")
	alice, bob := ts[0], ts[1]
	index("10000")
	place := func(c *trader, side wire.Side, price, qty string, tif wire.TIF) *wire.Order {
		t.Helper()
		r := c.place(wire.PlaceOrder{Symbol: "XBTUSD", Side: side, Type: wire.Limit, Price: dec(price), Qty: dec(qty), TIF: tif})
		mustOK(t, fmt.Sprintf("%s %s %s@%s", c.acct, side, qty, price), r.Reply)
		return r.Order
	}
	for _, c := range []*trader{alice, bob} {
		r := request[wire.LeverageReply](t, c.nc, e.subj.Leverage(c.acct), wire.Leverage{Symbol: "XBTUSD", Leverage: dec("10")})
		mustOK(t, "leverage", r.Reply)
	}
	place(bob, wire.Sell, "10000", "100000", wire.GTC)
	if o := place(alice, wire.Buy, "10000", "100000", wire.IOC); o.Status != wire.StatusFilled {
		t.Fatalf("alice's buy %+v", o)
	}
	bob.state() // bob's fill is booked
	index("10500")
	place(bob, wire.Buy, "10500", "100000", wire.GTC)
	if o := place(alice, wire.Sell, "10500", "100000", wire.IOC); o.Status != wire.StatusFilled {
		t.Fatalf("alice's sell %+v", o)
	}
	eventually(t, "both closed", func() error {
		a, b := alice.state(), bob.state()
		if len(a.Positions)+len(b.Positions) != 0 || !a.Balances["BTC"].Equal(dec("2.47619048")) || !b.Balances["BTC"].Equal(dec("1.52380952")) {
			return fmt.Errorf("alice %+v bob %+v", a, b)
		}
		return nil
	})
	e.settledAudit()

	// The seed's fund rule in BTC.
	e.fundDeposit("1")
	carol := e.funded("1", "carol")[0]
	erin := e.funded("10", "erin")[0]
	index("10000")
	for _, c := range []*trader{carol, erin} {
		mustOK(t, "leverage", request[wire.LeverageReply](t, c.nc, e.subj.Leverage(c.acct), wire.Leverage{Symbol: "XBTUSD", Leverage: dec("10")}).Reply)
	}
	place(erin, wire.Sell, "10000", "100000", wire.GTC)
	place(carol, wire.Buy, "10000", "100000", wire.IOC)
	var p *wire.Position
	eventually(t, "carol's long", func() error {
		if st := carol.state(); len(st.Positions) != 1 {
			return fmt.Errorf("%+v", st)
		} else {
			p = &st.Positions[0]
		}
		return nil
	})
	if !p.LiquidationPrice.Equal(dec("9140")) || !p.BankruptcyPrice.Equal(dec("9091")) {
		t.Fatalf("carol's long %+v", p)
	}
	place(erin, wire.Buy, "9200", "100000", wire.GTC) // the liquidation order's liquidity
	index("9140")
	e.waitEvents("carol", wire.EventLiquidation, 1)
	ev := e.settlementEvent()
	if ev.Asset != "BTC" || ev.Reason != wire.ReasonLiquidationSurplus || !ev.Delta.Equal(dec("0.13043479")) || !ev.Balance.Equal(dec("1.13043479")) {
		t.Fatalf("fund event %+v", ev)
	}
	if a := e.settledAudit(); !a.Fund.Equal(dec("1.13043479")) {
		t.Fatalf("audit fund %s", a.Fund)
	}
}

// TestE2EInverseADL: the seed's ADL example in BTC. A's 200 000-contract
// long (2 BTC at 10×) is bankrupt with an empty fund and no bids: B, short
// 230 000 and the top of the ranking, is closed by 200 000 at A's
// bankruptcy price and keeps 30 000; money is conserved in BTC.
func TestE2EInverseADL(t *testing.T) {
	e := start(t, parseConfig(t, inverseSymbol, ""), startOpts{})
	index := func(price string) {
		t.Helper()
		mustOK(t, "index "+price, request[wire.IndexReply](t, e.nc, e.subj.AdminIndex("XBTUSD"), wire.IndexSet{Price: dec(price)}).Reply)
	}
	e.deposit("A", "2")
	e.deposit("B", "10")
	e.deposit("D", "10")
	index("10000")
	place := func(acct string, side wire.Side, qty string, tif wire.TIF) {
		t.Helper()
		c := e.trader(acct)
		mustOK(t, "leverage", request[wire.LeverageReply](t, c.nc, e.subj.Leverage(acct), wire.Leverage{Symbol: "XBTUSD", Leverage: dec("10")}).Reply)
		r := c.place(wire.PlaceOrder{Symbol: "XBTUSD", Side: side, Type: wire.Limit, Price: dec("10000"), Qty: dec(qty), TIF: tif})
		mustOK(t, acct+" order", r.Reply)
	}
	place("B", wire.Sell, "230000", wire.GTC)
	place("A", wire.Buy, "200000", wire.IOC)
	place("D", wire.Buy, "30000", wire.IOC)
	var pa *wire.Position
	eventually(t, "A's long", func() error {
		if st := e.trader("A").state(); len(st.Positions) != 1 {
			return fmt.Errorf("%+v", st)
		} else {
			pa = &st.Positions[0]
		}
		return nil
	})
	if !pa.BankruptcyPrice.Equal(dec("9091")) {
		t.Fatalf("A's long %+v", pa)
	}
	e.settledAudit()
	index(pa.LiquidationPrice.String())
	e.waitEvents("A", wire.EventLiquidation, 1)
	eventually(t, "B's forced close", func() error {
		evs := e.events("B", wire.EventADL)
		if len(evs) != 1 {
			return fmt.Errorf("B's adl events %+v", evs)
		}
		if ev := evs[0].ADL; ev.BankruptAccount != "A" || !ev.Qty.Equal(dec("200000")) || !ev.Price.Equal(dec("9091")) {
			t.Fatalf("B's adl event %+v", ev)
		}
		return nil
	})
	eventually(t, "B keeps 30 000 short", func() error {
		if st := e.trader("B").state(); len(st.Positions) != 1 || st.Positions[0].Side != wire.Short || !st.Positions[0].Qty.Equal(dec("30000")) {
			return fmt.Errorf("%+v", st.Positions)
		}
		return nil
	})
	e.settledAudit()
}
