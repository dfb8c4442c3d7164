package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

func TestPreTradeRules(t *testing.T) {
	btc, _ := demo()
	const mark book.Ticks = 300_000 // 30000.0
	buy := func(price book.Ticks, qty book.Lots) Order {
		return Order{Side: book.Buy, Type: Limit, Price: price, Qty: qty}
	}
	lev := func(l int64) func(a *Account) { return func(a *Account) { mustOK(t, a.SetLeverage(btc, l), "lev") } }
	iso := func(a *Account) { mustOK(t, a.SetMarginMode(btc, Isolated), "isolated") }
	cases := []struct {
		name  string
		setup func(a *Account)
		sym   *market.Symbol
		o     Order
		mark  book.Ticks
		want  Code
	}{
		{"ok", nil, btc, buy(mark, 100), mark, OK},
		{"unknown symbol", nil, nil, buy(mark, 100), mark, UnknownSymbol},
		{"bad side", nil, btc, Order{Side: 3, Type: Limit, Price: mark, Qty: 1}, mark, BadRequest},
		{"bad type", nil, btc, Order{Side: book.Buy, Price: mark, Qty: 1}, mark, BadRequest},
		{"qty zero", nil, btc, buy(mark, 0), mark, InvalidQty},
		{"qty negative", nil, btc, buy(mark, -5), mark, InvalidQty},
		{"qty over max", nil, btc, buy(mark, btc.MaxQty+1), mark, InvalidQty},
		{"no mark", nil, btc, buy(mark, 1), 0, NoMarkPrice},
		{"price zero", nil, btc, buy(0, 100), mark, InvalidPrice},
		{"price negative", nil, btc, buy(-1, 100), mark, InvalidPrice},
		{"price over max", nil, btc, buy(btc.MaxPrice+1, 100), btc.MaxPrice, InvalidPrice},
		{"above band", nil, btc, buy(330_001, 100), mark, InvalidPrice},
		{"band top ok", lev(2), btc, buy(330_000, 100), mark, OK},
		// Isolated at 20x a long bought 10 % above the mark is bankrupt as it
		// fills: its margin alone backs it.
		{"band top at 20x isolated", iso, btc, buy(330_000, 100), mark, WouldLiquidate},
		// 0.1 BTC at 31404.5: IM 157.0225 − fee 1.570225 − loss 140.45 =
		// 15.002275 > MM 15 (0.5 % of 3000); at 31404.6: 14.99277.
		{"opening loss edge", iso, btc, buy(314_045, 100), mark, OK},
		{"opening loss past the edge", iso, btc, buy(314_046, 100), mark, WouldLiquidate},
		// Short 0.1 to long 0.1: the size does not grow, the long is opened.
		// (at 31450, inside the short's bankruptcy price 31500: only the
		// opening part is past its edge)
		{"flip past the opening edge", func(a *Account) { iso(a); trade(t, a, btc, book.Sell, mark, 100, mark, false) },
			btc, buy(314_500, 200), mark, WouldLiquidate},
		{"flip at the mark", func(a *Account) { iso(a); trade(t, a, btc, book.Sell, mark, 100, mark, false) },
			btc, buy(mark, 200), mark, OK},
		// Cross: the cash carries the loss, which the order reserves
		// (3000 for 1 BTC 3000 above the mark, TestReservations).
		{"band top at 20x cross", nil, btc, buy(330_000, 100), mark, OK},
		// 3 BTC: IM 4950 + fee 49.5 + open loss 9000 > 10000 (without the
		// loss 4999.5 would pass).
		{"cross open loss beyond available", nil, btc, buy(330_000, 3000), mark, OpenLossUncovered},
		// 7 BTC: the initial margin alone (11550) is beyond it.
		{"cross margin beyond available, loss too", nil, btc, buy(330_000, 7000), mark, InsufficientMargin},
		{"below band", nil, btc, Order{Side: book.Sell, Type: Limit, Price: 269_999, Qty: 100}, mark, InvalidPrice},
		{"band bottom ok", lev(2), btc, Order{Side: book.Sell, Type: Limit, Price: 270_000, Qty: 100}, mark, OK},
		{"band bottom at 20x isolated", iso, btc, Order{Side: book.Sell, Type: Limit, Price: 270_000, Qty: 100}, mark, WouldLiquidate},
		{"min notional", nil, btc, buy(40_000, 1), 40_000, MinNotional}, // 4 USDT < 5
		{"min notional exact", nil, btc, buy(50_000, 1), 50_000, OK},    // 5 USDT
		{"market min notional at mark", nil, btc, Order{Side: book.Buy, Type: Market, Qty: 1}, 40_000, MinNotional},
		{"market ok", nil, btc, Order{Side: book.Buy, Type: Market, Qty: 100}, mark, OK},
		{"insufficient margin", nil, btc, buy(mark, 7000), mark, InsufficientMargin}, // 210k/20 = 10.5k
		{"margin just enough", nil, btc, buy(mark, 6600), mark, OK},                  // 9900 + 99 fee
		{"margin one lot over", nil, btc, buy(mark, 6601), mark, InsufficientMargin},
		{"reduce-only flat", nil, btc, Order{Side: book.Sell, Type: Limit, Price: mark, Qty: 1, ReduceOnly: true}, mark, ReduceOnlyRejected},
		{"reduce-only same side", func(a *Account) { trade(t, a, btc, book.Buy, mark, 100, mark, false) },
			btc, Order{Side: book.Buy, Type: Limit, Price: mark, Qty: 1, ReduceOnly: true}, mark, ReduceOnlyRejected},
		{"reduce-only too big", func(a *Account) { trade(t, a, btc, book.Buy, mark, 100, mark, false) },
			btc, Order{Side: book.Sell, Type: Limit, Price: mark, Qty: 101, ReduceOnly: true}, mark, ReduceOnlyRejected},
		{"reduce-only exact", func(a *Account) { trade(t, a, btc, book.Buy, mark, 100, mark, false) },
			btc, Order{Side: book.Sell, Type: Limit, Price: mark, Qty: 100, ReduceOnly: true}, mark, OK},
		{"reduce-only below min notional", func(a *Account) { trade(t, a, btc, book.Buy, mark, 100, mark, false) },
			btc, Order{Side: book.Sell, Type: Market, Qty: 1, ReduceOnly: true}, 40_000, OK},
		{"reduce-only beyond open reduce-only", func(a *Account) {
			trade(t, a, btc, book.Buy, mark, 100, mark, false)
			c, _ := a.PreTrade(btc, Order{ID: 999, Side: book.Sell, Type: Limit, Price: mark, Qty: 60, ReduceOnly: true}, mark)
			mustOK(t, c, "first reduce-only")
		}, btc, Order{Side: book.Sell, Type: Limit, Price: mark, Qty: 41, ReduceOnly: true}, mark, ReduceOnlyRejected},
		{"leverage tier", func(a *Account) { mustOK(t, a.SetLeverage(btc, 100), "lev") },
			btc, buy(mark, 1667), mark, LeverageTooHigh}, // 50010 USDT > 50k tier at 100x
		{"leverage tier edge", func(a *Account) { mustOK(t, a.SetLeverage(btc, 100), "lev") },
			btc, buy(mark, 1666), mark, OK},
		{"in liquidation", func(a *Account) { a.inLiq = true }, btc, buy(mark, 100), mark, AccountInLiquidation},
		{"duplicate id", func(a *Account) {
			c, _ := a.PreTrade(btc, Order{ID: 4242, Side: book.Buy, Type: Limit, Price: mark, Qty: 1}, mark)
			mustOK(t, c, "first")
		}, btc, Order{ID: 4242, Side: book.Buy, Type: Limit, Price: mark, Qty: 1}, mark, BadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := funded("10000", Cross)
			if c.setup != nil {
				c.setup(a)
			}
			before := a.Available()
			o := c.o
			if o.ID == 0 {
				o.ID = newID()
			}
			got, reserved := a.PreTrade(c.sym, o, c.mark)
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
			if got != OK && (reserved != 0 || a.Available() != before) {
				t.Fatalf("rejected order changed state: reserved %s available %s → %s", reserved, before, a.Available())
			}
			if got == OK && a.Available() != before-reserved {
				t.Fatalf("available %s → %s with reserved %s", before, a.Available(), reserved)
			}
		})
	}
}

func TestPreTradePositionLimit(t *testing.T) {
	btc, _ := demo()
	a := funded("900000000", Cross)
	mustOK(t, a.SetLeverage(btc, 4), "lev")
	trade(t, a, btc, book.Buy, 100_000, btc.MaxQty, 100_000, false) // 1000 BTC at 10000
	id := newID()
	if c, _ := a.PreTrade(btc, Order{ID: id, Side: book.Buy, Type: Limit, Price: 100_000, Qty: 1}, 100_000); c != InvalidQty {
		t.Fatalf("over MaxQty: %s", c)
	}
	// Selling the whole position and as much again is within the limit.
	if c, _ := a.PreTrade(btc, Order{ID: id, Side: book.Sell, Type: Limit, Price: 100_000, Qty: btc.MaxQty}, 100_000); c != OK {
		t.Fatalf("closing order: %s", c)
	}
}

func TestReservations(t *testing.T) {
	btc, _ := demo()
	a := funded("10000", Cross)
	const mark book.Ticks = 300_000
	place := func(side book.Side, price book.Ticks, qty book.Lots) (book.OrderID, string) {
		id := newID()
		c, r := a.PreTrade(btc, Order{ID: id, Side: side, Type: Limit, Price: price, Qty: qty}, mark)
		mustOK(t, c, "place")
		return id, r.String()
	}
	// Buy 1 BTC at 30000, 20x: IM 1500 + taker fee 15.
	b1, r := place(book.Buy, 300_000, 1000)
	if r != "1515" || a.Available() != usdt("8485") {
		t.Fatalf("buy reserved %s available %s", r, a.Available())
	}
	// Sell 0.5 at 31000: side needs 775 + 7.75 < 1515: nothing more.
	s1, r := place(book.Sell, 310_000, 500)
	if r != "0" {
		t.Fatalf("smaller side reserved %s", r)
	}
	// Sell 2 more at 31000: sell side 2.5 BTC = 77500 → 3875 + 38.75.
	s2, r := place(book.Sell, 310_000, 2000)
	if r != "2398.75" || a.OrderMargin() != usdt("3913.75") {
		t.Fatalf("larger side reserved %s, order margin %s", r, a.OrderMargin())
	}
	// A sell below the mark reserves at the mark (it may fill higher),
	// and its open loss against it (1000: cross).
	s3, r := place(book.Sell, 290_000, 1000)
	if r != "2515" {
		t.Fatalf("sell below mark reserved %s", r)
	}
	for _, id := range []book.OrderID{s3, b1, s1} {
		if _, ok := a.OnCancel(id); !ok {
			t.Fatal("cancel")
		}
	}
	if a.OrderMargin() != usdt("3131") { // 2 BTC × 31000 / 20 + fee 31
		t.Fatalf("order margin %s", a.OrderMargin())
	}
	if _, ok := a.OnOrderDone(b1); ok {
		t.Fatal("second cancel accepted")
	}
	rel, _ := a.OnOrderDone(s2)
	if rel != usdt("3131") || a.Available() != usdt("10000") || a.OrderMargin() != 0 {
		t.Fatalf("released %s available %s", rel, a.Available())
	}
}

func TestReservationsWithPosition(t *testing.T) {
	btc, _ := demo()
	a := funded("10000", Cross)
	const mark book.Ticks = 300_000
	trade(t, a, btc, book.Buy, mark, 1000, mark, false) // long 1 BTC
	avail := a.Available()
	// Selling up to the position only closes: no margin.
	id := newID()
	c, r := a.PreTrade(btc, Order{ID: id, Side: book.Sell, Type: Limit, Price: mark, Qty: 1000}, mark)
	if c != OK || r != 0 || a.Available() != avail {
		t.Fatalf("closing sell: %s reserved %s", c, r)
	}
	// Another 1 BTC sell: the side's opening half (1 of 2 BTC) needs margin.
	c, r = a.PreTrade(btc, Order{ID: newID(), Side: book.Sell, Type: Limit, Price: mark, Qty: 1000}, mark)
	if c != OK || r != usdt("1515") {
		t.Fatalf("opening sell: %s reserved %s", c, r)
	}
	// Partial fill of the first sell (0.4 BTC): closes 0.4, the position
	// shrinks to 0.6, so 1.6 − 0.6 = 1.0 BTC of sells still opens.
	res, c := a.ApplyFill(btc, Fill{OrderID: id, Side: book.Sell, Price: mark, Qty: 400, FeeRate: btc.TakerFee})
	mustOK(t, c, "fill")
	if res.OrderDone || res.Released != 0 || res.Position != 600 {
		t.Fatalf("partial fill: %+v", res)
	}
	rel, _ := a.OnOrderDone(id) // the rest of the first sell: 0.6 BTC
	// sells left: 1 BTC vs position 0.6 → opening 0.4 BTC: 600 + 6.
	if rel != usdt("909") || a.OrderMargin() != usdt("606") {
		t.Fatalf("released %s order margin %s", rel, a.OrderMargin())
	}
}

func TestExcessReduceOnly(t *testing.T) {
	btc, _ := demo()
	a := funded("10000", Cross)
	const mark book.Ticks = 300_000
	trade(t, a, btc, book.Buy, mark, 1000, mark, false)
	ids := make([]book.OrderID, 3)
	for i := range ids {
		ids[i] = newID()
		c, _ := a.PreTrade(btc, Order{ID: ids[i], Side: book.Sell, Type: Limit, Price: 310_000, Qty: 300, ReduceOnly: true}, mark)
		mustOK(t, c, "ro")
	}
	// Another sell (not reduce-only) fills 0.5: position 0.5 < 0.9 reduce-only.
	r := trade(t, a, btc, book.Sell, mark, 500, mark, false)
	if !r.ReduceOnlyExcess {
		t.Fatal("excess not reported")
	}
	got := a.ExcessReduceOnly(btc)
	if len(got) != 2 || got[0] != ids[2] || got[1] != ids[1] {
		t.Fatalf("to cancel %v, ids %v", got, ids)
	}
	for _, id := range got {
		a.OnCancel(id)
	}
	if a.ExcessReduceOnly(btc) != nil {
		t.Fatal("still excess")
	}
}

// TestPreTradeMaxOpenOrders: an account holds at most the symbol's
// MaxOpenOrders open orders there, whatever they are; an order that leaves
// (filled or canceled) frees its place, and other symbols have their own.
func TestPreTradeMaxOpenOrders(t *testing.T) {
	s := seedSymbol(t, [2]string{"1000000", "0.01"})
	s.MaxOpenOrders = 3
	other := namedSymbol(t, "OTHER", [2]string{"1000000", "0.01"})
	other.MaxOpenOrders = 3
	a := NewAccount(1, Cross)
	if code := a.Deposit(market.Money(1_000_000 * market.MoneyScale)); code != OK {
		t.Fatal(code)
	}
	place := func(sym *market.Symbol, id book.OrderID, side book.Side, reduceOnly bool) Code {
		code, _ := a.PreTrade(sym, Order{ID: id, Side: side, Type: Limit, Price: 100, Qty: 1, ReduceOnly: reduceOnly}, 100)
		return code
	}
	for id := book.OrderID(1); id <= 3; id++ {
		if code := place(s, id, book.Buy, false); code != OK {
			t.Fatalf("order %d: %s", id, code)
		}
	}
	if code := place(s, 4, book.Sell, false); code != TooManyOrders {
		t.Fatalf("4th open order: %s, want TOO_MANY_ORDERS", code)
	}
	if code := place(other, 5, book.Buy, false); code != OK {
		t.Fatalf("another symbol: %s", code)
	}
	if _, ok := a.OnCancel(2); !ok {
		t.Fatal("cancel of order 2 refused")
	}
	if code := place(s, 6, book.Sell, false); code != OK {
		t.Fatalf("after a cancel: %s", code)
	}
	if _, code := a.ApplyFill(s, Fill{OrderID: 1, Side: book.Buy, Price: 100, Qty: 1}); code != OK {
		t.Fatalf("fill: %s", code)
	}
	if code := place(s, 7, book.Buy, false); code != OK {
		t.Fatalf("after a fill: %s", code)
	}
	if code := place(s, 8, book.Sell, true); code != TooManyOrders {
		t.Fatalf("a resting reduce-only order counts too: %s", code)
	}
	// Orders that cannot rest pass at the cap: a bot can still cut its
	// position with a market or IOC order.
	for id, o := range map[book.OrderID]Order{
		9:  {Side: book.Sell, Type: Market, Qty: 1, ReduceOnly: true},
		10: {Side: book.Sell, Type: Limit, Price: 100, Qty: 1, NeverRests: true},
	} {
		o.ID = id
		if code, _ := a.PreTrade(s, o, 100); code != OK {
			t.Fatalf("order %d (%v, never rests %v) at the cap: %s", id, o.Type, o.NeverRests, code)
		}
	}
}

// TestOpenBound: a market order's bound stops where a limit order's
// opening part would be refused WouldLiquidate (31404.5 for 0.1 BTC
// bought at 20x against a mark of 30000, TestPreTradeRules), on both sides;
// a close keeps its bound, a flip is bounded by its opening part, and at
// low leverage the band's edge stays.
func TestOpenBound(t *testing.T) {
	btc, _ := demo()
	const mark book.Ticks = 300_000
	lo, hi := btc.Band(mark)
	edge := map[book.Side]book.Ticks{book.Buy: hi, book.Sell: lo}
	check := func(a *Account, o Order) (Code, book.Ticks) { // as the account actor does: PreTrade, then OpenBound
		o.ID = newID()
		c, _ := a.PreTrade(btc, o, mark)
		b := a.OpenBound(btc, o.Side, o.Qty, mark, edge[o.Side])
		if c == OK {
			a.OnOrderDone(o.ID)
		}
		return c, b
	}
	isolated := func() *Account { // its margin alone backs an order (a cross one reserves its open loss)
		a := funded("10000", Cross)
		mustOK(t, a.SetMarginMode(btc, Isolated), "isolated")
		return a
	}
	market := func(a *Account, side book.Side, q book.Lots) book.Ticks {
		c, b := check(a, Order{Side: side, Type: Market, Qty: q})
		mustOK(t, c, "market order")
		return b
	}
	a := isolated()
	if b := market(a, book.Buy, 100); b != 314_045 {
		t.Fatalf("market buy bound %d, want 314045", b)
	}
	for _, side := range []book.Side{book.Buy, book.Sell} {
		b := market(a, side, 100)
		past := b + book.Ticks(side.Sign())
		at, _ := check(a, Order{Side: side, Type: Limit, Price: b, Qty: 100})
		beyond, _ := check(a, Order{Side: side, Type: Limit, Price: past, Qty: 100})
		if at != OK || beyond != WouldLiquidate {
			t.Fatalf("%s: bound %d, but a limit there is %s and one tick past %s", side, b, at, beyond)
		}
	}
	trade(t, a, btc, book.Buy, mark, 100, mark, false) // long 0.1
	if b := market(a, book.Sell, 100); b != lo {
		t.Fatalf("a close's bound moved: %d, want %d", b, lo)
	}
	if b, want := market(a, book.Sell, 300), market(isolated(), book.Sell, 200); b != want || b == lo {
		t.Fatalf("a flip's bound %d, want its opening part's %d", b, want)
	}
	a = isolated()
	mustOK(t, a.SetLeverage(btc, 2), "lev")
	if b := market(a, book.Buy, 100); b != hi {
		t.Fatalf("at 2x the bound is %d, want the band's top %d", b, hi)
	}
}

// TestOpenBoundInverse is TestOpenBound's agreement for an inverse
// contract with a taker fee (a buy above the mark and a sell below it lose
// against it; values shrink as the price grows), isolated, at several
// leverages and sizes, flat and flipping a position: a market order's
// bound is the last price a limit order of the same lots is not refused
// WouldLiquidate at, and one tick past it is.
func TestOpenBoundInverse(t *testing.T) {
	sym := inverseFeeSymbol(t, "0.00075")
	const mark book.Ticks = 20_000 // 10 000 USD
	lo, hi := sym.Band(mark)
	edge := map[book.Side]book.Ticks{book.Buy: hi, book.Sell: lo}
	tightened := 0
	for _, lev := range []int64{3, 10, 25, 100} {
		for _, pos := range []book.Lots{0, 20_000, -20_000} {
			for _, side := range []book.Side{book.Buy, book.Sell} {
				for _, q := range []book.Lots{1_000, 30_000, 90_000} {
					a := funded("10", Isolated)
					mustOK(t, a.SetLeverage(sym, lev), "lev")
					if pos != 0 {
						s := book.Buy
						if pos < 0 {
							s = book.Sell
						}
						trade(t, a, sym, s, mark, abs(pos), mark, false)
					}
					id := newID()
					c, _ := a.PreTrade(sym, Order{ID: id, Side: side, Type: Market, Qty: q}, mark)
					if c != OK {
						continue
					}
					b := a.OpenBound(sym, side, q, mark, edge[side])
					a.OnOrderDone(id)
					limit := func(price book.Ticks) Code {
						id := newID()
						c, _ := a.PreTrade(sym, Order{ID: id, Side: side, Type: Limit, Price: price, Qty: q}, mark)
						if c == OK {
							a.OnOrderDone(id)
						}
						return c
					}
					past := b + book.Ticks(side.Sign())
					at := limit(b)
					if at == BeyondBankruptcy { // a flip whose close is refused first
						continue
					}
					if at == WouldLiquidate || b == edge[side] && at != OK {
						t.Fatalf("lev %d pos %d %s %d: bound %d, a limit there %s", lev, pos, side, q, b, at)
					}
					if b != edge[side] {
						tightened++
						if c := limit(past); c != WouldLiquidate {
							t.Fatalf("lev %d pos %d %s %d: bound %d, a limit one tick past %s", lev, pos, side, q, b, c)
						}
					}
				}
			}
		}
	}
	if tightened < 10 {
		t.Fatalf("only %d bounds tightened", tightened)
	}
}
