package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// btc is n satoshi-precision BTC as Money ("0.47619048").
func btc(s string) market.Money { return usdt(s) }

// TestInverseWorkedExamples: BitMEX's XBTUSD (1 USD contracts, tick 0.5,
// settled in BTC). A long of 100 000 contracts from 10 000 to 10 500 makes
// 100 000 × (1/10 000 − 1/10 500) = 0.47619048 BTC (BitMEX: 0.476190), the
// short side loses exactly as much; fees are in BTC.
func TestInverseWorkedExamples(t *testing.T) {
	sym := inverseSymbol(t, "XBTUSD")
	if v := sym.Value(20_000, 100_000); v != -btc("10") { // 10 000 USD = 20 000 ticks of 0.5
		t.Fatalf("100 000 contracts at 10 000 are worth %s BTC, want -10 (a long's value is negative)", v.Decimal())
	}
	long, short := funded("2", Cross), funded("2", Cross)
	mustOK(t, long.SetLeverage(sym, 10), "leverage")
	mustOK(t, short.SetLeverage(sym, 10), "leverage")
	trade(t, long, sym, book.Buy, 20_000, 100_000, 20_000, false)
	trade(t, short, sym, book.Sell, 20_000, 100_000, 20_000, true)
	r := trade(t, long, sym, book.Sell, 21_000, 100_000, 21_000, false)
	rs := trade(t, short, sym, book.Buy, 21_000, 100_000, 21_000, true)
	if r.Realized != btc("0.47619048") || rs.Realized != -r.Realized {
		t.Fatalf("long realized %s, short %s; want ±0.47619048", r.Realized.Decimal(), rs.Realized.Decimal())
	}
	if long.Cash() != btc("2.47619048") || short.Cash() != btc("1.52380952") {
		t.Fatalf("cash %s and %s", long.Cash().Decimal(), short.Cash().Decimal())
	}
}

// TestInverseLiquidationPrices: a long of 100 000 contracts at 10 000 (10
// BTC) backed by 1 BTC goes bankrupt where 11 − 100 000/P = 0, P = 9 090.91
// → the tick 9 091; with maintenance 0.5 % up to 10 BTC notional and 1 %
// above (cum 0.05) it is liquidated where 11 − N ≤ 0.01·N − 0.05 with N =
// 100 000/P, N ≥ 10.9406, P ≤ 9 140.27 → the tick 9 140. Each tick is
// exact: the next one up is not liquidatable, the next one down is bankrupt.
func TestInverseLiquidationPrices(t *testing.T) {
	sym := inverseSymbol(t, "XBTUSD")
	a := funded("1", Cross)
	mustOK(t, a.SetLeverage(sym, 10), "leverage")
	trade(t, a, sym, book.Buy, 20_000, 100_000, 20_000, false)
	liq, _ := a.LiquidationPrice(sym)
	bk, _ := a.BankruptcyPrice(sym)
	if liq != 18_280 || bk != 18_182 {
		t.Fatalf("liquidation tick %d (%s), bankruptcy %d (%s); want 9140 and 9091", liq, sym.Price(liq), bk, sym.Price(bk))
	}
	p := &a.pos[a.find(sym)]
	w, _ := a.backing(a.find(sym))
	if !p.liqAt(w, liq) || p.liqAt(w, liq+1) || p.equityAt(w, bk) < 0 || p.equityAt(w, bk-1) >= 0 {
		t.Fatalf("ticks not exact: liq %d, bk %d", liq, bk)
	}
	if a.OnMark(sym, 18_281) || !a.OnMark(sym, 18_280) {
		t.Fatal("the mark trigger disagrees with the liquidation tick")
	}
}

// TestInverseSettlement: the seed's rule in the settlement coin. A long
// bankrupt at 9 091 sold at 9 200 leaves the fund 100 000 × (1/9 091 −
// 1/9 200) = 0.13032479 BTC (each value rounded down to the satoshi); sold
// at 9 000 it draws 0.11122111. A short bankrupt at 9 200 bought back at
// 9 100 leaves 0.11944577, at 9 300 draws 0.11687704. Split executions
// differ only by each fill's own rounding (a satoshi per fill at most: the
// counterparties booked exactly those fills).
func TestInverseSettlement(t *testing.T) {
	sym := inverseSymbol(t, "XBTUSD")
	for _, c := range []struct {
		qty       book.Lots
		bk, price book.Ticks
		want      string
	}{
		{100_000, 18_182, 18_400, "0.13032479"},
		{100_000, 18_182, 18_000, "-0.11122111"},
		{-100_000, 18_400, 18_200, "0.11944577"},
		{-100_000, 18_400, 18_600, "-0.11687704"},
	} {
		got, code := SettlementSurplus(sym, c.qty, c.bk, []Exec{{Price: c.price, Qty: abs(c.qty)}})
		mustOK(t, code, "surplus")
		if got != btc(c.want) {
			t.Errorf("qty %d bk %s at %s: %s, want %s", c.qty, sym.Price(c.bk), sym.Price(c.price), got.Decimal(), c.want)
		}
		split, code := SettlementSurplus(sym, c.qty, c.bk, []Exec{{Price: c.price, Qty: 33_333}, {Price: c.price, Qty: 33_333}, {Price: c.price, Qty: 33_334}})
		mustOK(t, code, "split surplus")
		if d := split - got; d < -3 || d > 3 {
			t.Errorf("qty %d: split executions %s, whole %s", c.qty, split.Decimal(), got.Decimal())
		}
	}
}

// TestInverseEntryPrice: an inverse position's entry price is the harmonic
// mean of its fills (BitMEX): 100 000 contracts at 10 000 and 100 000 at
// 11 000 enter at 200 000 / (10 + 9.09090909) = 10 476.19...
func TestInverseEntryPrice(t *testing.T) {
	sym := inverseSymbol(t, "XBTUSD")
	a := funded("10", Cross)
	trade(t, a, sym, book.Buy, 20_000, 100_000, 20_000, false)
	trade(t, a, sym, book.Buy, 22_000, 100_000, 22_000, false)
	pos, _ := a.Position(sym)
	if got := sym.PriceOf(pos.Cost, pos.Qty).StringFixed(2); got != "10476.19" {
		t.Fatalf("entry price %s (cost %s)", got, pos.Cost.Decimal())
	}
}

// TestInverseRestateKeepsTheMarginPrice: restating an open inverse order as
// it is (what an amend's answer does) reserves exactly what PreTrade did.
func TestInverseRestateKeepsTheMarginPrice(t *testing.T) {
	sym := inverseSymbol(t, "XBTUSD")
	for _, o := range []Order{{ID: 1, Side: book.Buy, Type: Limit, Price: 20_100, Qty: 100_000}, {ID: 2, Side: book.Sell, Type: Limit, Price: 19_900, Qty: 100_000}} {
		a := funded("2", Cross)
		mustOK(t, a.SetLeverage(sym, 10), "leverage")
		c, _ := a.PreTrade(sym, o, 20_000)
		mustOK(t, c, "PreTrade")
		before := a.Available()
		if !a.Restate(o.ID, o.Price, o.Qty, 20_000) || a.Available() != before {
			t.Fatalf("%s: available %s after restating, %s before", o.Side, a.Available().Decimal(), before.Decimal())
		}
	}
}

// TestInverseOpenLossShrinks: an inverse order's open loss is its exact
// loss rounded up, so what a partial fill leaves of it, pro rata and
// rounded up, is never less than the rest would reserve afresh. Six lots
// sold at 35 837 with the mark at 35 838 lose 0.93 units: the difference of
// the two values rounded down is 0, four of the lots' is 1, so a loss of 0
// kept 0 for the 4 lots a fill of 2 left.
func TestInverseOpenLossShrinks(t *testing.T) {
	sym := inverseSymbol(t, "XBTUSD")
	a := funded("1", Cross)
	c, _ := a.PreTrade(sym, Order{ID: 1, Side: book.Sell, Type: Limit, Price: 35_837, Qty: 6}, 35_838)
	mustOK(t, c, "PreTrade")
	_, c = a.ApplyFill(sym, Fill{OrderID: 1, Side: book.Sell, Price: 35_837, Qty: 2})
	mustOK(t, c, "fill")
	p := &a.pos[a.find(sym)]
	if got, want := a.OrderLoss(1), p.openLoss(book.Sell, 35_837, 4, 35_838); got < want || want != 1 {
		t.Fatalf("4 lots left reserve open loss %d, a fresh order of them %d (want 1)", got, want)
	}
	// Every split of orders up to 40 lots a tick or a few off marks across
	// the range: openLoss is within a unit above the floors' difference,
	// and its pro-rata share covers the rest's.
	for mark := book.Ticks(3_000); mark < 2_000_000; mark += 7_919 {
		for _, side := range []book.Side{book.Buy, book.Sell} {
			for d := book.Ticks(1); d <= 3; d++ {
				price := mark + book.Ticks(side.Sign())*d*d // against the mark
				for q := book.Lots(1); q <= 40; q++ {
					loss, floors := p.openLoss(side, price, q, mark), p.lossAt(side, price, q, mark)
					if loss < floors || loss > floors+1 || loss == 0 {
						t.Fatalf("%s %d at %d, mark %d: open loss %d, the floors' difference %d", side, q, price, mark, loss, floors)
					}
					for left := book.Lots(1); left < q; left++ {
						kept := market.Money(market.MustMulDiv(int64(loss), int64(left), int64(q), true))
						if fresh := p.openLoss(side, price, left, mark); kept < fresh {
							t.Fatalf("%s %d at %d, mark %d: %d of open loss %d keep %d, afresh %d", side, q, price, mark, left, loss, kept, fresh)
						}
					}
				}
			}
		}
	}
}
