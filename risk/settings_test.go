package risk

import (
	"math"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

func TestSetLeverage(t *testing.T) {
	btc, _ := demo()
	cases := []struct {
		name  string
		setup func(t *testing.T, a *Account)
		sym   *market.Symbol
		lev   int64
		want  Code
	}{
		{"default ok", nil, btc, 20, OK},
		{"max", nil, btc, 100, OK},
		{"above symbol max", nil, btc, 101, LeverageTooHigh},
		{"zero", nil, btc, 0, BadRequest},
		{"negative", nil, btc, -5, BadRequest},
		{"unknown symbol", nil, nil, 10, UnknownSymbol},
		{"in liquidation", func(t *testing.T, a *Account) { a.inLiq = true }, btc, 10, AccountInLiquidation},
		// 2 BTC at 30000 = 60k notional: tier 2 allows 50x.
		{"tier of position", func(t *testing.T, a *Account) { trade(t, a, btc, book.Buy, 300_000, 2000, 300_000, false) }, btc, 51, LeverageTooHigh},
		{"tier of position ok", func(t *testing.T, a *Account) { trade(t, a, btc, book.Buy, 300_000, 2000, 300_000, false) }, btc, 50, OK},
		// Open orders count: 1 BTC long plus 1 BTC of buys → 60k.
		{"tier with orders", func(t *testing.T, a *Account) {
			trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false)
			c, _ := a.PreTrade(btc, Order{ID: newID(), Side: book.Buy, Type: Limit, Price: 300_000, Qty: 1000}, 300_000)
			mustOK(t, c, "order")
		}, btc, 51, LeverageTooHigh},
		// 1 BTC at 2x needs 15000 of IM: more than the 10000 deposited.
		{"lower needs margin", func(t *testing.T, a *Account) { trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false) }, btc, 2, InsufficientMargin},
		{"lower fits", func(t *testing.T, a *Account) { trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false) }, btc, 4, OK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := funded("10000", Cross)
			if c.setup != nil {
				c.setup(t, a)
			}
			before, hadPos := a.Position(btc)
			if got := a.SetLeverage(c.sym, c.lev); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
			after, _ := a.Position(btc)
			if c.want != OK && hadPos && after.Leverage != before.Leverage {
				t.Fatalf("rejected change applied: %d → %d", before.Leverage, after.Leverage)
			}
			if c.want == OK && after.Leverage != c.lev {
				t.Fatalf("leverage %d", after.Leverage)
			}
			if a.Available() < 0 && c.want == OK {
				t.Fatalf("available %s", a.Available())
			}
		})
	}
}

func TestMarginModeAndIsolatedMarginErrors(t *testing.T) {
	btc, eth := demo()
	a := funded("10000", Cross)
	if c := a.SetMarginMode(btc, 7); c != BadRequest {
		t.Errorf("bad mode: %s", c)
	}
	if c := a.SetMarginMode(nil, Isolated); c != UnknownSymbol {
		t.Errorf("nil symbol: %s", c)
	}
	mustOK(t, a.SetMarginMode(btc, Isolated), "isolated")
	if c := a.AddMargin(btc, usdt("1")); c != NoPosition {
		t.Errorf("add without position: %s", c)
	}
	id := newID()
	c, _ := a.PreTrade(eth, Order{ID: id, Side: book.Buy, Type: Limit, Price: 300_000, Qty: 10}, 300_000)
	mustOK(t, c, "order")
	if c := a.SetMarginMode(eth, Isolated); c != PositionOpen {
		t.Errorf("mode change with open order: %s", c)
	}
	a.OnCancel(id)
	trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false)
	for _, x := range []struct {
		add    bool
		amount market.Money
		want   Code
	}{
		{true, 0, BadRequest},
		{true, -1, BadRequest},
		{true, a.Available() + 1, InsufficientMargin},
		{false, 0, BadRequest},
		{false, math.MaxInt64, InsufficientMargin},
		{false, 1, InsufficientMargin}, // margin is exactly the initial margin
	} {
		var got Code
		if x.add {
			got = a.AddMargin(btc, x.amount)
		} else {
			got = a.RemoveMargin(btc, x.amount)
		}
		if got != x.want {
			t.Errorf("add=%v %d: %s, want %s", x.add, x.amount, got, x.want)
		}
	}
	if c := a.AddMargin(eth, 1); c != NoPosition {
		t.Errorf("cross symbol: %s", c)
	}
	// Adding margin moves the isolated liquidation price away.
	liq0, _ := a.LiquidationPrice(btc)
	mustOK(t, a.AddMargin(btc, usdt("1000")), "add")
	liq1, _ := a.LiquidationPrice(btc)
	if liq1 >= liq0 {
		t.Errorf("liq %d → %d", liq0, liq1)
	}
}

func TestReportAndRatios(t *testing.T) {
	btc, eth := demo()
	a := funded("10000", Cross)
	trade(t, a, btc, book.Buy, 300_005, 1000, 300_000, false) // 1 BTC at 30000.5, fee 15.00025
	mustOK(t, a.SetMarginMode(eth, Isolated), "iso")
	mustOK(t, a.SetLeverage(eth, 10), "lev")
	trade(t, a, eth, book.Sell, 300_000, 200, 300_000, false) // 2 ETH short at 3000, IM 600, fee 3
	a.OnMark(btc, 310_000)
	a.OnMark(eth, 290_000)
	r := a.Report()
	if !r.Balance.Equal(dec("9981.99975")) || !r.Cash.Equal(dec("9381.99975")) ||
		!r.Equity.Equal(dec("11181.49975")) || len(r.Positions) != 2 {
		t.Fatalf("report %+v", r)
	}
	// Available = cash + uPnL 999.5 − IM 31000/20 = 1550.
	if !r.Available.Equal(dec("8831.49975")) {
		t.Fatalf("available %s", r.Available)
	}
	p := r.Positions[0]
	if p.Symbol != "BTC-PERP" || p.Side != "long" || p.Mode != "cross" || !p.Qty.Equal(dec("1")) ||
		!p.EntryPrice.Equal(dec("30000.5")) || !p.MarkPrice.Equal(dec("31000")) || !p.UnrealizedPnL.Equal(dec("999.5")) ||
		!p.Margin.Equal(dec("1550")) || !p.Leverage.Equal(dec("20")) || !p.MaintenanceMargin.Equal(dec("155")) {
		t.Fatalf("btc %+v", p)
	}
	// Cross alone: 9381.99975 + (P − 30000.5) ≤ 0.005·P → P ≤ 20722.11 → 20722.1
	if !p.LiquidationPrice.Equal(dec("20722.1")) || !p.BankruptcyPrice.Equal(dec("20618.6")) {
		t.Fatalf("btc liq %s bk %s", p.LiquidationPrice, p.BankruptcyPrice)
	}
	e := r.Positions[1]
	if e.Side != "short" || e.Mode != "isolated" || !e.Qty.Equal(dec("2")) || !e.EntryPrice.Equal(dec("3000")) ||
		!e.UnrealizedPnL.Equal(dec("200")) || !e.Margin.Equal(dec("600")) {
		t.Fatalf("eth %+v", e)
	}
	// Isolated short: 600 + 6000 − 2P ≤ 0.005·2P → P ≤ 3283.58 → liq 3283.59, bk 3300.
	if !e.LiquidationPrice.Equal(dec("3283.59")) || !e.BankruptcyPrice.Equal(dec("3300")) {
		t.Fatalf("eth liq %s bk %s", e.LiquidationPrice, e.BankruptcyPrice)
	}
	// Margin ratio of the cross part: 155 / (9381.99975 + 999.5).
	if mr := a.MarginRatio(); mr != 1_493_041 {
		t.Fatalf("margin ratio %d", mr)
	}
	// ADL score of the profitable ETH short: PnL% (200/6000) × leverage (5800/800).
	if s := a.ADLScore(eth); s != 24_166_664 { // each factor truncated
		t.Fatalf("adl score %d", s)
	}
	if s := a.ADLScore(btc); s <= 0 {
		t.Fatalf("btc adl score %d", s)
	}
	if NewAccount(3, Cross).MarginRatio() != 0 {
		t.Fatal("empty account margin ratio")
	}
}

// TestCheckedRemovalsPutBack: a withdrawal, a margin removal or margin
// added that its caller vetoes (WithdrawChecked, RemoveMarginChecked,
// AddMarginChecked) leaves the account as it was, with BeyondBankruptcy;
// the veto sees the money moved. The removal's
// veto puts the margin back even with Available below zero (a cross
// position's loss), where AddMargin would refuse.
func TestCheckedRemovalsPutBack(t *testing.T) {
	btc, eth := demo()
	a := funded("10000", Isolated)
	mustOK(t, a.SetLeverage(btc, 20), "lev")
	trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false) // margin 1500
	mustOK(t, a.AddMargin(btc, usdt("1000")), "add")
	mustOK(t, a.SetMarginMode(eth, Cross), "cross")
	mustOK(t, a.SetLeverage(eth, 20), "lev")
	ethMark := book.Ticks(20_000)
	for a.Available() > 0 { // a cross long losing until nothing is available
		trade(t, a, eth, book.Buy, ethMark, 10_000, ethMark, false)
		a.OnMark(eth, ethMark*9/10)
	}
	type state struct {
		cash, avail, margin market.Money
		bk                  book.Ticks
	}
	now := func() state {
		p, _ := a.Position(btc)
		bk, _ := a.BankruptcyPrice(btc)
		return state{a.Cash(), a.Available(), p.Margin, bk}
	}
	before := now()
	if before.avail >= 0 {
		t.Fatalf("available %s, want it below zero", before.avail)
	}
	var seen state
	veto := func() bool { seen = now(); return false }
	if c := a.RemoveMarginChecked(btc, usdt("500"), veto); c != BeyondBankruptcy {
		t.Fatalf("vetoed removal: %s", c)
	}
	if seen.margin != before.margin-usdt("500") || seen.bk <= before.bk {
		t.Fatalf("the veto saw %+v, before %+v", seen, before)
	}
	if got := now(); got != before {
		t.Fatalf("after the vetoed removal %+v, before %+v", got, before)
	}
	mustOK(t, a.Deposit(usdt("100000")), "deposit")
	before = now()
	if c := a.WithdrawChecked(usdt("50000"), veto); c != BeyondBankruptcy || seen.cash != before.cash-usdt("50000") {
		t.Fatalf("vetoed withdrawal: %s, the veto saw %+v", c, seen)
	}
	if got := now(); got != before {
		t.Fatalf("after the vetoed withdrawal %+v, before %+v", got, before)
	}
	if c := a.AddMarginChecked(btc, usdt("700"), veto); c != BeyondBankruptcy ||
		seen.cash != before.cash-usdt("700") || seen.margin != before.margin+usdt("700") {
		t.Fatalf("vetoed margin added: %s, the veto saw %+v", c, seen)
	}
	if got := now(); got != before {
		t.Fatalf("after the vetoed margin added %+v, before %+v", got, before)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
}
