package risk

import (
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// seedLong opens the seed's long: 1 unit at 3750 with 750 of margin
// (leverage 5), so bankruptcy = 3750 − 750 = 3000 and, with MM(P) = 0.1·P −
// 210, liquidation where 750 + P − 3750 = 0.1·P − 210: P = 3100.
func seedLong(t *testing.T, mode MarginMode) (*Account, *market.Symbol) {
	sym := longSeed(t)
	a := NewAccount(1, mode)
	deposit := "750"
	if mode == Isolated {
		deposit = "10000"
	}
	mustOK(t, a.Deposit(usdt(deposit)), "deposit")
	mustOK(t, a.SetLeverage(sym, 5), "leverage")
	trade(t, a, sym, book.Buy, 3750, 1, 3750, false)
	return a, sym
}

// seedShort: 1 unit short at 2500 with 500 of margin: bankruptcy 3000, and
// with MM(P) = 0.05·P − 45, liquidation where 3000 − P = 0.05·P − 45: 2900.
func seedShort(t *testing.T, mode MarginMode) (*Account, *market.Symbol) {
	sym := shortSeed(t)
	a := NewAccount(2, mode)
	deposit := "500"
	if mode == Isolated {
		deposit = "10000"
	}
	mustOK(t, a.Deposit(usdt(deposit)), "deposit")
	mustOK(t, a.SetLeverage(sym, 5), "leverage")
	trade(t, a, sym, book.Sell, 2500, 1, 2500, false)
	return a, sym
}

func TestSeedLiquidationPrices(t *testing.T) {
	for _, mode := range []MarginMode{Isolated, Cross} {
		for _, c := range []struct {
			name             string
			open             func(*testing.T, MarginMode) (*Account, *market.Symbol)
			liq, bk          book.Ticks
			safe, liquidates book.Ticks
		}{
			{"long", seedLong, 3100, 3000, 3101, 3100},
			{"short", seedShort, 2900, 3000, 2899, 2900},
		} {
			t.Run(c.name+"/"+mode.String(), func(t *testing.T) {
				a, sym := c.open(t, mode)
				liq, ok1 := a.LiquidationPrice(sym)
				bk, ok2 := a.BankruptcyPrice(sym)
				if !ok1 || !ok2 || liq != c.liq || bk != c.bk {
					t.Fatalf("liq %d bk %d", liq, bk)
				}
				if a.OnMark(sym, c.safe) {
					t.Fatalf("liquidated at %d", c.safe)
				}
				if !a.OnMark(sym, c.liquidates) {
					t.Fatalf("not liquidated at %d", c.liquidates)
				}
				// At the liquidation price equity equals maintenance margin.
				if a.Equity()-a.Balance()+balanceBacking(a, mode) != a.MaintenanceMargin() {
					t.Fatalf("equity %s mm %s", a.Equity(), a.MaintenanceMargin())
				}
				rep := a.Report()
				if len(rep.Positions) != 1 || !rep.Positions[0].LiquidationPrice.Equal(sym.Price(c.liq)) ||
					!rep.Positions[0].BankruptcyPrice.Equal(sym.Price(c.bk)) {
					t.Fatalf("report %+v", rep.Positions)
				}
			})
		}
	}
}

// balanceBacking is the money that backs the position: the isolated margin
// or the whole cross cash.
func balanceBacking(a *Account, mode MarginMode) market.Money {
	if mode == Isolated {
		return a.pos[0].margin
	}
	return a.cash
}

func TestSettlementSurplusSeeds(t *testing.T) {
	sym := longSeed(t)
	for _, c := range []struct {
		qty   book.Lots
		price book.Ticks
		want  string
	}{
		{1, 3060, "60"}, {1, 2960, "-40"}, {-1, 2960, "40"}, {-1, 3060, "-60"}, {1, 3000, "0"},
	} {
		got, code := SettlementSurplus(sym, c.qty, 3000, []Exec{{Price: c.price, Qty: 1}})
		if code != OK || got != usdt(c.want) {
			t.Errorf("qty %d at %d: %s %s, want %s", c.qty, c.price, got, code, c.want)
		}
	}
	if got, _ := SettlementSurplus(sym, 10, 3000, []Exec{{3060, 4}, {2990, 3}, {3000, 3}}); got != usdt("210") {
		t.Errorf("split: %s", got)
	}
	for _, bad := range [][]Exec{{{3000, 2}}, {{0, 1}}, {{3000, 0}}, {{3000, -1}}} {
		if _, code := SettlementSurplus(sym, 1, 3000, bad); code != BadRequest {
			t.Errorf("%v: %s", bad, code)
		}
	}
	if _, code := SettlementSurplus(sym, 0, 3000, nil); code != BadRequest {
		t.Errorf("qty 0: %s", code)
	}
}

func TestLiquidationTakeoverAndSettle(t *testing.T) {
	for _, mode := range []MarginMode{Isolated, Cross} {
		for _, c := range []struct {
			name  string
			open  func(*testing.T, MarginMode) (*Account, *market.Symbol)
			mark  book.Ticks
			price book.Ticks
			want  string
		}{
			{"long above bankruptcy", seedLong, 3100, 3060, "60"},
			{"long below bankruptcy", seedLong, 3100, 2960, "-40"},
			{"short below bankruptcy", seedShort, 2900, 2960, "40"},
			{"short above bankruptcy", seedShort, 2900, 3060, "-60"},
		} {
			t.Run(c.name+"/"+mode.String(), func(t *testing.T) {
				a, sym := c.open(t, mode)
				balance := a.Balance()
				if l, _, code := a.StartLiquidation(sym); l != nil || code != NotLiquidatable {
					t.Fatalf("liquidated above the trigger: %s", code)
				}
				if !a.OnMark(sym, c.mark) {
					t.Fatal("no trigger")
				}
				l, cancel, code := a.StartLiquidation(sym)
				mustOK(t, code, "start")
				if len(cancel) != 0 || l.Base != 0 || len(l.Legs) != 1 || l.Legs[0].Bankruptcy != 3000 {
					t.Fatalf("liquidation %+v cancel %v", l, cancel)
				}
				// The account keeps nothing of what backed the position.
				if a.Balance() != balance-l.Escrow || a.cash < 0 || !a.InLiquidation() {
					t.Fatalf("after takeover: balance %s escrow %s", a.Balance(), l.Escrow)
				}
				if code, _ := a.PreTrade(sym, Order{ID: newID(), Side: book.Buy, Type: Limit, Price: 2900, Qty: 1}, 2900); code != AccountInLiquidation {
					t.Fatalf("order during liquidation: %s", code)
				}
				if _, code := l.Settle(); code != Internal {
					t.Fatal("settled before done")
				}
				mustOK(t, l.ApplyFill(sym, c.price, 1), "liquidation fill")
				if code := l.ApplyFill(sym, c.price, 1); code != BadRequest {
					t.Fatal("overfill accepted")
				}
				s, code := l.Settle()
				mustOK(t, code, "settle")
				if s.Surplus != usdt(c.want) || s.Fee != 0 || s.Fund != s.Surplus {
					t.Fatalf("settlement %+v, want %s", s, c.want)
				}
				a.EndLiquidation()
				if a.InLiquidation() {
					t.Fatal("still in liquidation")
				}
			})
		}
	}
}

func TestLiquidationPartialThenADL(t *testing.T) {
	slip := dec("0.9") // the band, not the slippage bound, clamps the limit
	cfg := market.SymbolConfig{Symbol: "SEED", LiquidationFee: dec("0.005"), LiquidationSlippage: &slip, MMTiers: []market.TierConfig{
		{MaxNotional: dec("30000"), MMR: dec("0.03")}, {MaxNotional: dec("1000000"), MMR: dec("0.1")}}}
	sym, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	// 10 units long at 3750 isolated with 7500: bankruptcy 3000, liq 3100.
	a := funded("10000", Isolated)
	mustOK(t, a.SetLeverage(sym, 5), "lev")
	// A counterparty, short 10 at 3750.
	b := funded("100000", Cross)
	mustOK(t, b.SetLeverage(sym, 5), "lev b")
	ida, idb := newID(), newID()
	c, _ := a.PreTrade(sym, Order{ID: ida, Side: book.Buy, Type: Limit, Price: 3750, Qty: 10}, 3750)
	mustOK(t, c, "a")
	c, _ = b.PreTrade(sym, Order{ID: idb, Side: book.Sell, Type: Limit, Price: 3750, Qty: 10}, 3750)
	mustOK(t, c, "b")
	_, c = a.ApplyFill(sym, Fill{OrderID: ida, Side: book.Buy, Price: 3750, Qty: 10})
	mustOK(t, c, "fill a")
	_, c = b.ApplyFill(sym, Fill{OrderID: idb, Side: book.Sell, Price: 3750, Qty: 10})
	mustOK(t, c, "fill b")
	if liq, _ := a.LiquidationPrice(sym); liq != 3100 {
		t.Fatalf("liq %d", liq)
	}
	b.OnMark(sym, 3050)
	if !a.OnMark(sym, 3050) {
		t.Fatal("no trigger")
	}
	l, _, code := a.StartLiquidation(sym)
	mustOK(t, code, "start")
	// DESIGN.md's limit: bankruptcy − R/qty, clamped to the band.
	if lim := l.OrderLimit(sym, usdt("400"), 3050); lim != 2960 {
		t.Fatalf("limit %d", lim)
	}
	if lim := l.OrderLimit(sym, usdt("100000"), 3050); lim != 1525 { // band bottom
		t.Fatalf("clamped limit %d", lim)
	}
	mustOK(t, l.ApplyFill(sym, 3060, 4), "fill 4")
	mustOK(t, l.ApplyFill(sym, 2990, 3), "fill 3")
	// The book is exhausted: ADL the remaining 3 against b at bankruptcy.
	leg := l.Leg(sym)
	if leg.Remaining != 3 {
		t.Fatalf("remaining %d", leg.Remaining)
	}
	r, code := b.ApplyADLClose(sym, 3, leg.Bankruptcy)
	mustOK(t, code, "adl")
	if r.Realized != usdt("2250") || r.Fee != 0 || r.Position != -7 { // 3 × (3750 − 3000)
		t.Fatalf("adl close %+v", r)
	}
	mustOK(t, l.ApplyFill(sym, leg.Bankruptcy, 3), "adl leg")
	s, code := l.Settle()
	mustOK(t, code, "settle")
	// 4 × 60 − 3 × 10 = 210; fee min(210, 0.005 × (12240 + 8970 + 9000)) = 151.05.
	if s.Surplus != usdt("210") || s.Fee != usdt("151.05") || s.Fund != usdt("58.95") {
		t.Fatalf("settlement %+v", s)
	}
	if _, code := b.ApplyADLClose(sym, 8, 3000); code != InvalidQty {
		t.Fatalf("adl over position: %s", code)
	}
	// A stale ranking asks more than b holds (7 short): b closes its 7;
	// asked of the long side it holds nothing and closes 0.
	n, r, code := b.CloseForADL(sym, book.Sell, 9, 3000, 0)
	if code != OK || n != 7 || r.Position != 0 {
		t.Fatalf("CloseForADL over the position: %d %+v %s", n, r, code)
	}
	if n, _, code := b.CloseForADL(sym, book.Buy, 1, 3000, 0); code != OK || n != 0 {
		t.Fatalf("CloseForADL of the other side: %d %s", n, code)
	}
}

func TestCrossLiquidationCancelsAllOrders(t *testing.T) {
	btc, eth := demo()
	a := funded("1000", Cross)
	mustOK(t, a.SetLeverage(btc, 50), "lev")
	trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false) // 1 BTC, IM 600
	trade(t, a, eth, book.Sell, 300_000, 100, 300_000, false) // 1 ETH short at 3000, IM 150
	var ids []book.OrderID
	for _, sym := range []*market.Symbol{eth, btc} {
		id := newID()
		c, _ := a.PreTrade(sym, Order{ID: id, Side: book.Sell, Type: Limit, Price: 310_000, Qty: 10}, 300_000)
		mustOK(t, c, "order")
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// BTC falls: cross equity 1000 − fees + uPnL vs MM of both.
	// 983.5 + (P − 30000) ≤ 0.005·P + 15  ⇔  P ≤ 29177.38
	if a.OnMark(btc, 291_774) {
		t.Fatal("early trigger")
	}
	if liq, _ := a.LiquidationPrice(btc); liq != 291_773 {
		t.Fatalf("cross liq %d", liq)
	}
	if !a.OnMark(btc, 291_773) {
		eq, mm := a.crossEquityMM()
		t.Fatalf("no trigger: equity %s mm %s", eq, mm)
	}
	l, cancel, code := a.StartLiquidation(btc)
	mustOK(t, code, "start")
	if !slices.Equal(cancel, ids) || len(l.Legs) != 2 || a.Cash() != 0 || a.nCross != 0 {
		t.Fatalf("cancel %v (want %v), legs %d cash %s", cancel, ids, len(l.Legs), a.Cash())
	}
	for _, id := range cancel {
		a.OnCancel(id)
	}
	if a.OrderMargin() != 0 || a.Balance() != 0 || a.Equity() != 0 {
		t.Fatalf("order margin %s balance %s", a.OrderMargin(), a.Balance())
	}
	// The legs' bankruptcy ticks share the equity (the joint rule): closing
	// both there leaves the fund at most one tick of each leg, never less
	// than zero.
	var dust market.Money
	for _, g := range l.Legs {
		if g.Remaining != g.Qty || g.Bankruptcy <= 0 || g.Deficit != 0 {
			t.Fatalf("leg %+v", g)
		}
		dust += g.Symbol.Value(1, abs(g.Qty))
	}
	if l.Base < 0 || l.Base >= dust || l.Deficit != 0 {
		t.Fatalf("base %s (dust bound %s), deficit %s", l.Base, dust, l.Deficit)
	}
}

func TestIsolatedLiquidationCancelsOnlyItsSymbol(t *testing.T) {
	btc, eth := demo()
	a := funded("10000", Cross)
	mustOK(t, a.SetMarginMode(btc, Isolated), "iso")
	mustOK(t, a.SetLeverage(btc, 50), "lev")
	trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false) // margin 600
	idBTC, idETH := newID(), newID()
	c, _ := a.PreTrade(btc, Order{ID: idBTC, Side: book.Sell, Type: Limit, Price: 310_000, Qty: 10}, 300_000)
	mustOK(t, c, "btc order")
	c, _ = a.PreTrade(eth, Order{ID: idETH, Side: book.Buy, Type: Limit, Price: 300_000, Qty: 10}, 300_000)
	mustOK(t, c, "eth order")
	cash := a.Cash()
	// 600 + P − 30000 ≤ 0.005·P  →  P ≤ 29547.74
	if liq, _ := a.LiquidationPrice(btc); liq != 295_477 {
		t.Fatalf("liq %d", liq)
	}
	if !a.OnMark(btc, 295_000) {
		t.Fatal("no trigger")
	}
	l, cancel, code := a.StartLiquidation(btc)
	mustOK(t, code, "start")
	if len(cancel) != 1 || cancel[0] != idBTC || l.Escrow != usdt("600") || a.Cash() != cash || a.Balance() != cash {
		t.Fatalf("cancel %v escrow %s cash %s", cancel, l.Escrow, a.Cash())
	}
	if a.OnMark(btc, 1) || a.OnMark(eth, 1) {
		t.Fatal("trigger while in liquidation")
	}
	if _, _, code := a.StartLiquidation(btc); code != AccountInLiquidation {
		t.Fatalf("second start: %s", code)
	}
}

// TestCloseForADLOnlyWhatItCanAfford: a counterparty closed at a bankrupt
// leg's price closes nothing that would leave what backs it below zero —
// the isolated margin, or the cross equity at the marks — however stale
// the ranking's view of it was; a close no worse than the mark always goes.
func TestCloseForADLOnlyWhatItCanAfford(t *testing.T) {
	sym := seedSymbol(t)
	for _, c := range []struct {
		name  string
		mode  MarginMode
		price book.Ticks
		want  book.Lots
	}{
		{"isolated, a loss within the margin", Isolated, 1090, 10}, // −100 of 220
		{"isolated, a loss beyond the margin", Isolated, 1070, 0},  // −300 of 220
		{"cross, a loss within the equity", Cross, 1060, 10},       // −400 of 500
		{"cross, a loss beyond the equity", Cross, 1020, 0},        // −800 of 500
		{"cross, better than the mark", Cross, 1200, 10},           // a gain
		{"isolated, a gain on a thin margin", Isolated, 1100, 10},  // at the mark
	} {
		t.Run(c.name, func(t *testing.T) {
			deposit := "500"
			if c.mode == Isolated {
				deposit = "10000"
			}
			a := funded(deposit, c.mode)
			mustOK(t, a.SetLeverage(sym, 50), "leverage")
			trade(t, a, sym, book.Buy, 1100, 10, 1100, false) // long 10 at 1100: isolated margin 220
			n, r, code := a.CloseForADL(sym, book.Buy, 10, c.price, 0)
			mustOK(t, code, "CloseForADL")
			if n != c.want || r.Deficit != 0 {
				t.Fatalf("closed %d (deficit %d), want %d", n, r.Deficit, c.want)
			}
			if p, _ := a.Position(sym); p.Qty != 10-c.want {
				t.Fatalf("position %d", p.Qty)
			}
		})
	}
}

// TestExcessOverMaxAfterADL: short 10 (MaxQty 10) with two buys of 10
// resting (each only closes when placed); ADL closes the short, so both
// buys filling would make a long of 20: the newest buy is the excess.
func TestExcessOverMaxAfterADL(t *testing.T) {
	cfg := market.SymbolConfig{Symbol: "CAP", MaxQty: dec("10"), MMTiers: []market.TierConfig{{MaxNotional: dec("1000000000"), MMR: dec("0.01")}}}
	sym, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	a := funded("100000", Cross)
	trade(t, a, sym, book.Sell, 1000, 10, 1000, false)
	for _, id := range []book.OrderID{901, 902} {
		c, _ := a.PreTrade(sym, Order{ID: id, Side: book.Buy, Type: Limit, Price: 990, Qty: 10}, 1000)
		mustOK(t, c, "a closing buy")
	}
	if ids := a.ExcessOverMax(sym); len(ids) != 0 {
		t.Fatalf("excess %v while the short stands", ids)
	}
	if n, _, code := a.CloseForADL(sym, book.Sell, 10, 1000, 0); code != OK || n != 10 {
		t.Fatalf("ADL close %d %s", n, code)
	}
	if ids := a.ExcessOverMax(sym); !slices.Equal(ids, []book.OrderID{902}) {
		t.Fatalf("excess %v, want the newest buy", ids)
	}
}

// TestTakeFill: the seed's isolated long rests a sell of 2 at 3700 (a
// close and an open, 740 reserved) when it is taken over; the book fills
// it before the takeover's cancel. TakeFill gives the leg the lot that
// closes it (its value and fee, the order one lot shorter), and the other
// lot opens a short on the reservation it made, as ApplyFill books it.
// Outside a liquidation, or for more than the fill, it refuses.
func TestTakeFill(t *testing.T) {
	a, sym := seedLong(t, Isolated)
	id := newID()
	c, _ := a.PreTrade(sym, Order{ID: id, Side: book.Sell, Type: Limit, Price: 3700, Qty: 2}, 3750)
	mustOK(t, c, "PreTrade")
	f := Fill{OrderID: id, Side: book.Sell, Price: 3700, Qty: 2, FeeRate: market.RateScale / 2000}
	if _, _, code := a.TakeFill(sym, f, 1); code != BadRequest {
		t.Fatalf("outside a liquidation: %s", code)
	}
	a.OnMark(sym, 3100)
	l, cancel, code := a.StartLiquidation(sym)
	mustOK(t, code, "start")
	if !slices.Equal(cancel, []book.OrderID{id}) {
		t.Fatalf("cancel %v", cancel)
	}
	if _, _, code := a.TakeFill(sym, f, 3); code != BadRequest {
		t.Fatalf("3 of a fill of 2: %s", code)
	}
	cash := a.cash
	value, fee, code := a.TakeFill(sym, f, 1)
	mustOK(t, code, "take")
	if value != usdt("3700") || fee != usdt("1.85") || a.cash != cash {
		t.Fatalf("value %s fee %s; cash %s, was %s", value, fee, a.cash, cash)
	}
	loss, code := l.ApplyOrderFill(sym, 3700, 1, value)
	mustOK(t, code, "leg")
	if loss != 0 {
		t.Fatalf("loss %s beyond the tick", loss)
	}
	f.Qty = 1
	r, code := a.ApplyFill(sym, f)
	mustOK(t, code, "the rest")
	if !r.OrderDone || r.Position != -1 || a.pos[a.find(sym)].margin != usdt("740") || a.cash != cash-usdt("740")-fee {
		t.Fatalf("rest %+v: margin %s, cash %s", r, a.pos[a.find(sym)].margin, a.cash)
	}
	s, code := l.Settle()
	mustOK(t, code, "settle")
	if s.Surplus != usdt("700") {
		t.Fatalf("settlement %+v", s)
	}
}
