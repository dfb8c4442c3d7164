package fund

import "testing"

func TestDailyTotalsAreKeyedByUTCDay(t *testing.T) {
	const day2 = 86_400_000 // 1970-01-02T00:00:00Z
	f := mustNew(t, Config{DailyCap: 2})
	_, _ = f.Deposit(usdtAsset, usdt(100), day2-1)
	_, _ = f.Settle(NoReservation, Settlement{Asset: usdtAsset, PnL: usdt(-30), Volume: usdt(3000), TimeMs: day2 - 1})
	_, _ = f.Settle(NoReservation, Settlement{Asset: usdtAsset, PnL: usdt(5), Fee: usdt(1), Volume: usdt(2000), TimeMs: day2})
	_, _ = f.Settle(NoReservation, Settlement{Asset: usdtAsset, PnL: usdt(-200), Volume: usdt(1000), TimeMs: day2 + 5})

	d1, ok1 := f.Day(usdtAsset, 0)
	d2, ok2 := f.Day(usdtAsset, 1)
	if !ok1 || !ok2 || d1.Date() != "1970-01-01" || d2.Date() != "1970-01-02" {
		t.Fatalf("days %+v %+v", d1, d2)
	}
	if d1.Deposits != usdt(100) || d1.Deficits != usdt(30) || d1.Liquidations != 1 || d1.LiquidationVolume != usdt(3000) || d1.Net() != usdt(70) {
		t.Fatalf("day 1 %+v", d1)
	}
	// day 2: +5 surplus +1 fee, then a 200 deficit of which 76 is paid
	if d2.Inflow() != usdt(6) || d2.Outflow() != usdt(76) || d2.Uncovered != usdt(124) || d2.Liquidations != 2 || d2.LiquidationVolume != usdt(3000) {
		t.Fatalf("day 2 %+v", d2)
	}
	if life := f.Lifetime(usdtAsset); life.Net() != 0 || f.Balance(usdtAsset) != 0 {
		t.Fatalf("lifetime %+v, balance %v", life, f.Balance(usdtAsset))
	}
	// a third day evicts the first (cap 2); an event older than all kept days counts only in the lifetime totals
	_, _ = f.Deposit(usdtAsset, usdt(1), 2*day2)
	_, _ = f.Deposit(usdtAsset, usdt(1), 0)
	if days := f.Days(usdtAsset, nil); len(days) != 2 || days[0].Day != 1 || days[1].Day != 2 {
		t.Fatalf("kept days %+v", days)
	}
	if f.Lifetime(usdtAsset).Deposits != usdt(102) {
		t.Fatal("lifetime lost a deposit")
	}
	mustCheck(t, f)
	for ms, want := range map[int64]int64{0: 0, day2 - 1: 0, day2: 1, -1: -1, -day2: -1, -day2 - 1: -2} {
		if got := DayOf(ms); got != want {
			t.Errorf("DayOf(%d) = %d, want %d", ms, got, want)
		}
	}
}
