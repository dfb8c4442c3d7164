package app_test

import (
	"fmt"
	"testing"

	"github.com/perpx/perpx/wire"
)

// TestE2EWallets: an exchange settling TEST-PERP in USDT and XBTUSD in BTC
// gives each account a wallet per coin. Alice's USDT long is liquidated at
// its own wallet's liquidation price although her BTC wallet holds far
// more than the loss: the fund takes the seed's +60 in USDT, her BTC wallet
// and XBTUSD position are untouched; withdrawals name their wallet; every
// asset balances on its own in the audit, and a restart keeps it all.
func TestE2EWallets(t *testing.T) {
	dir := t.TempDir()
	cfg := parseConfig(t, symbolJSON("100", 0, longTiers()...)+","+inverseSymbol, "")
	e := start(t, cfg, startOpts{data: dir})
	for acct, amounts := range map[string][2]string{"alice": {"750", "1"}, "bob": {"100000", "10"}, "erin": {"100000", "10"}} {
		e.depositIn(acct, "USDT", amounts[0])
		e.depositIn(acct, "BTC", amounts[1])
	}
	if r := request[wire.BalanceReply](t, e.nc, e.subj.AdminDeposit(), wire.Deposit{Account: "alice", Asset: "ETH", Amount: dec("1")}); r.OK || r.Error.Code != wire.CodeBadRequest {
		t.Fatalf("an ETH deposit: %+v", r)
	}
	alice, bob, erin := e.trader("alice"), e.trader("bob"), e.trader("erin")
	xbt := func(c *trader, side wire.Side, price, qty string, tif wire.TIF) *wire.Order {
		t.Helper()
		r := c.place(wire.PlaceOrder{Symbol: "XBTUSD", Side: side, Type: wire.Limit, Price: dec(price), Qty: dec(qty), TIF: tif})
		mustOK(t, fmt.Sprintf("%s XBTUSD %s %s@%s", c.acct, side, qty, price), r.Reply)
		return r.Order
	}
	mustOK(t, "XBTUSD index", request[wire.IndexReply](t, e.nc, e.subj.AdminIndex("XBTUSD"), wire.IndexSet{Price: dec("10000")}).Reply)
	for _, c := range []*trader{alice, bob} {
		mustOK(t, "leverage", request[wire.LeverageReply](t, c.nc, e.subj.Leverage(c.acct), wire.Leverage{Symbol: "XBTUSD", Leverage: dec("10")}).Reply)
	}
	xbt(bob, wire.Sell, "10000", "10000", wire.GTC)
	xbt(alice, wire.Buy, "10000", "10000", wire.IOC) // 1 BTC of notional at 10×: 0.1 BTC of margin
	e.index("3750")
	alice.openPosition(bob, wire.Buy, "3750", "1", "5") // all her 750 USDT: liquidation 3100, bankruptcy 3000

	st := alice.state()
	w := st.Wallets
	if len(st.Positions) != 2 || !st.Balances["USDT"].Equal(dec("750")) || !st.Balances["BTC"].Equal(dec("1")) ||
		!w["BTC"].Balance.Equal(dec("1")) || !w["USDT"].Available.IsZero() || !st.Available.Equal(w["USDT"].Available) {
		t.Fatalf("alice's state %+v", st)
	}
	for _, p := range st.Positions {
		if p.Symbol == tsym && (!p.LiquidationPrice.Equal(dec("3100")) || !p.BankruptcyPrice.Equal(dec("3000"))) {
			t.Fatalf("the USDT long %+v: its wallet alone backs it", p)
		}
	}
	// Withdrawals come out of the named wallet only.
	if r := request[wire.BalanceReply](t, e.nc, e.subj.Withdraw("alice"), wire.Withdraw{Asset: "USDT", Amount: dec("1")}); r.OK || r.Error.Code != wire.CodeInsufficientMargin {
		t.Fatalf("a USDT withdrawal from a wallet with nothing available: %+v", r)
	}
	if r := request[wire.BalanceReply](t, e.nc, e.subj.Withdraw("alice"), wire.Withdraw{Asset: "BTC", Amount: dec("0.5")}); !r.OK || !r.Balance.Equal(dec("0.5")) {
		t.Fatalf("a BTC withdrawal: %+v", r)
	}
	e.mu.Lock()
	e.ledger("BTC").deposits = e.ledger("BTC").deposits.Sub(dec("0.5"))
	e.mu.Unlock()
	e.settledAudit()

	// The USDT long goes at 3100 and settles at 3060: +60 to the USDT fund.
	erin.leverage("5")
	erin.limit(wire.Buy, "3060", "1")
	e.index("3100")
	e.waitEvents("alice", wire.EventLiquidation, 1)
	ev := e.settlementEvent()
	if ev.Asset != "USDT" || !ev.Delta.Equal(dec("60")) {
		t.Fatalf("fund event %+v", ev)
	}
	var after *wire.Account
	eventually(t, "alice after the liquidation", func() error {
		after = alice.state()
		if len(after.Positions) != 1 || after.Positions[0].Symbol != "XBTUSD" || !after.Balances["USDT"].IsZero() || !after.Balances["BTC"].Equal(dec("0.5")) {
			return fmt.Errorf("%+v", after)
		}
		return nil
	})
	fs := e.fundState()
	if !fs.Balances["USDT"].Equal(dec("60")) || !fs.Balances["BTC"].IsZero() {
		t.Fatalf("fund balances %+v", fs.Balances)
	}
	fd := request[wire.FundDailyReply](t, e.nc, e.subj.FundDaily(), wire.FundDaily{})
	if len(fd.Days) != 1 || fd.Days[0].Asset != "USDT" || fd.Days[0].Liquidations != 1 {
		t.Fatalf("fund daily %+v", fd.Days)
	}
	a := e.settledAudit()
	if len(a.Assets) != 2 || !a.Assets["USDT"].Fund.Equal(dec("60")) || !a.Assets["BTC"].Deposits.Equal(dec("20.5")) || !a.Fund.Equal(dec("60")) {
		t.Fatalf("audit %+v", a)
	}

	// A restart (snapshot at the clean stop) keeps both wallets.
	h0 := e.hash()
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	deps, byAsset := e.deposits, e.byAsset
	e = start(t, cfg, startOpts{data: dir})
	e.deposits, e.byAsset = deps, byAsset
	if h := e.hash(); h != h0 {
		t.Fatalf("state hash %x after the restart, %x before", h, h0)
	}
	if st := e.trader("alice").state(); !sameJSON(t, st.Wallets, after.Wallets) || !sameJSON(t, st.Positions, after.Positions) {
		t.Fatalf("alice after the restart %+v, before %+v", st, after)
	}
	e.settledAudit()
}
