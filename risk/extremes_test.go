package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// TestExtremes trades the largest position a symbol allows at its highest
// price, swings the mark between 1 tick and MaxPrice, pays funding at ±100 %
// and liquidates through ADL: nothing overflows and money is conserved to
// the unit.
func TestExtremes(t *testing.T) {
	btc, _ := demo()
	tiny, err := market.SymbolConfig{Symbol: "TINY", Tick: dec("0.00000001"), Lot: dec("1")}.Compile() // m = 1
	if err != nil {
		t.Fatal(err)
	}
	fat, err := market.SymbolConfig{Symbol: "FAT", MaxPrice: dec("1000000000"), MMTiers: []market.TierConfig{
		{MaxNotional: dec("1000000000"), MMR: dec("0.1")}}}.Compile() // m = 1e8, MaxQty 1
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*market.Symbol{btc, tiny, fat} {
		t.Run(s.Name, func(t *testing.T) {
			long, short := NewAccount(1, Cross), NewAccount(2, Isolated)
			var fees, fund, deposits market.Money
			for _, a := range []*Account{long, short} {
				mustOK(t, a.Deposit(MaxBalance), "deposit")
				deposits += MaxBalance
				mustOK(t, a.SetLeverage(s, 2), "leverage")
			}
			if c := long.Deposit(1); c != BadRequest {
				t.Fatalf("deposit beyond MaxBalance: %s", c)
			}
			q := s.MaxQty
			fees += trade(t, long, s, book.Buy, s.MaxPrice, q, s.MaxPrice, false).Fee
			fees += trade(t, short, s, book.Sell, s.MaxPrice, q, s.MaxPrice, true).Fee
			check := func(what string, mark book.Ticks) {
				t.Helper()
				total := fees + fund
				for _, a := range []*Account{long, short} {
					ps, _ := a.Position(s)
					total += a.Balance() + s.PnL(ps.Qty, ps.Cost, mark)
					a.Report() // decimals of huge numbers
				}
				if total != deposits {
					t.Fatalf("%s: total %s != deposits %s", what, total, deposits)
				}
			}
			check("open", s.MaxPrice)
			for _, r := range []market.Rate{market.RateScale, -market.RateScale, 12_345_678} {
				var tally FundingTally
				for _, a := range []*Account{long, short} {
					tally.Add(a.ApplyFunding(s, r, s.MaxPrice).Delta)
				}
				fees += tally.Dust()
				check("funding", s.MaxPrice)
			}
			for _, m := range []book.Ticks{s.MaxPrice, 1, s.MaxPrice / 2, s.MaxPrice + 5, -3} {
				short.OnMark(s, m)
				long.OnMark(s, m)
				for _, a := range []*Account{long, short} {
					a.LiquidationPrice(s)
					a.BankruptcyPrice(s)
					a.Available()
					a.MarginRatio()
				}
			}
			if !long.OnMark(s, 1) {
				t.Fatal("long not liquidatable at 1 tick")
			}
			short.OnMark(s, 1)
			l, _, c := long.StartLiquidation(s)
			mustOK(t, c, "start")
			leg := l.Leg(s)
			r, c := short.ApplyADLClose(s, q, leg.Bankruptcy)
			mustOK(t, c, "adl")
			fund -= r.Deficit
			mustOK(t, l.ApplyFill(s, leg.Bankruptcy, q), "leg")
			st, c := l.Settle()
			mustOK(t, c, "settle")
			fund += st.Fund
			fees += st.Fee
			long.EndLiquidation()
			check("after liquidation", 1)
			if long.Balance() < 0 || short.Balance() < 0 {
				t.Fatalf("balances %s %s", long.Balance(), short.Balance())
			}
		})
	}
}

// TestNoRoundingDrift closes a position one lot at a time: the pro-rata cost
// removal rounds each step, but the total realized PnL is exact.
func TestNoRoundingDrift(t *testing.T) {
	btc, _ := demo()
	a := funded("1000000", Cross)
	mustOK(t, a.SetLeverage(btc, 1), "lev")
	// 0.997 BTC bought in three odd fills.
	var cost market.Money
	for _, f := range []struct {
		p book.Ticks
		q book.Lots
	}{{300_001, 331}, {300_007, 333}, {299_993, 333}} {
		trade(t, a, btc, book.Buy, f.p, f.q, 300_000, false)
		cost += btc.Value(f.p, f.q)
	}
	var realized, proceeds market.Money
	for i := 0; i < 997; i++ {
		p := book.Ticks(299_000 + i%17)
		realized += trade(t, a, btc, book.Sell, p, 1, 300_000, true).Realized
		proceeds += btc.Value(p, 1)
	}
	if realized != proceeds-cost {
		t.Fatalf("realized %s, exact %s", realized, proceeds-cost)
	}
	ps, _ := a.Position(btc)
	if ps.Qty != 0 || ps.Cost != 0 || ps.Realized != realized {
		t.Fatalf("%+v", ps)
	}
}
