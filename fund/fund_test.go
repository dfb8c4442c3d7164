package fund

import (
	"errors"
	"testing"

	"github.com/perpx/perpx/market"
)

const usdtAsset = "USDT"

func usdt(v int64) market.Money { return market.Money(v * market.MoneyScale) }

func mustNew(t *testing.T, cfg Config) *Fund {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustCheck(t *testing.T, f *Fund) {
	t.Helper()
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
}

// execPnL is the stand-in for risk's settlement: a liquidation of qty
// (whole units) executed at exec, measured against the bankruptcy price —
// what is left of the margin, the fund's surplus (> 0) or deficit (< 0).
func execPnL(long bool, qty, exec, bankruptcy int64) market.Money {
	if long {
		return usdt(qty * (exec - bankruptcy))
	}
	return usdt(qty * (bankruptcy - exec))
}

// TestSeedLiquidationCases are the rulebook's four cases, each run through
// the reservation protocol of DESIGN.md: reserve, IOC bounded by B ∓ R/qty,
// settle, release.
func TestSeedLiquidationCases(t *testing.T) {
	for _, c := range []struct {
		name                  string
		long                  bool
		liq, bankruptcy, exec int64
		wantDelta             market.Money
		wantLimit             int64
	}{
		{"long liq 3100 filled 3060", true, 3100, 3000, 3060, usdt(60), 2900},
		{"long liq 3100 filled 2960", true, 3100, 3000, 2960, usdt(-40), 2900},
		{"short liq 2900 filled 2960", false, 2900, 3000, 2960, usdt(40), 3100},
		{"short liq 2900 filled 3060", false, 2900, 3000, 3060, usdt(-60), 3100},
	} {
		t.Run(c.name, func(t *testing.T) {
			if (c.long && c.liq <= c.bankruptcy) || (!c.long && c.liq >= c.bankruptcy) {
				t.Fatal("a long's liquidation price is above its bankruptcy price, a short's below")
			}
			f := mustNew(t, Config{})
			if _, err := f.Deposit(usdtAsset, usdt(1000), 0); err != nil {
				t.Fatal(err)
			}
			r, err := f.Reserve(1, usdtAsset, usdt(100)) // qty 1: the IOC may lose up to 100
			if err != nil || r != usdt(100) {
				t.Fatalf("reserved %v, %v", r, err)
			}
			limit := c.bankruptcy + 100 // short: B + R/qty
			if c.long {
				limit = c.bankruptcy - 100 // long: B − R/qty
			}
			if limit != c.wantLimit {
				t.Fatalf("limit %d", limit)
			}
			pnl := execPnL(c.long, 1, c.exec, c.bankruptcy)
			if pnl != c.wantDelta {
				t.Fatalf("execution PnL %v, want %v", pnl, c.wantDelta)
			}
			out, err := f.Settle(1, Settlement{Asset: usdtAsset, Account: 7, Symbol: "ETH-PERP", TimeMs: 1000, PnL: pnl, Volume: usdt(c.exec)})
			if err != nil || out.Uncovered != 0 || len(out.Events) != 1 || out.Events[0].Delta != c.wantDelta {
				t.Fatalf("settled %+v, %v", out, err)
			}
			if back, _ := f.Release(1); back != usdt(100)+min(c.wantDelta, 0) {
				t.Fatalf("released %v", back)
			}
			if f.Balance(usdtAsset) != usdt(1000)+c.wantDelta || f.Reserved(usdtAsset) != 0 {
				t.Fatalf("balance %v reserved %v", f.Balance(usdtAsset), f.Reserved(usdtAsset))
			}
			mustCheck(t, f)
		})
	}
}

func TestDeficitBeyondTheFundIsUncovered(t *testing.T) {
	f := mustNew(t, Config{})
	_, _ = f.Deposit(usdtAsset, usdt(30), 0)
	if r, _ := f.Reserve(1, usdtAsset, usdt(100)); r != usdt(30) {
		t.Fatalf("reserved %v, want all 30 available", r)
	}
	out, err := f.Settle(1, Settlement{Asset: usdtAsset, PnL: usdt(-40)})
	if err != nil || out.Covered != usdt(30) || out.Uncovered != usdt(10) {
		t.Fatalf("%+v %v", out, err)
	}
	if f.Balance(usdtAsset) != 0 {
		t.Fatalf("balance %v", f.Balance(usdtAsset))
	}
	if back, _ := f.Release(1); back != 0 {
		t.Fatalf("released %v", back)
	}
	mustCheck(t, f)
}

func TestReservationsNeverOverdraw(t *testing.T) {
	f := mustNew(t, Config{})
	_, _ = f.Deposit(usdtAsset, usdt(100), 0)
	a, _ := f.Reserve(1, usdtAsset, usdt(70))
	b, _ := f.Reserve(2, usdtAsset, usdt(70))
	c, _ := f.Reserve(3, usdtAsset, usdt(70))
	if a != usdt(70) || b != usdt(30) || c != 0 || f.Available(usdtAsset) != 0 {
		t.Fatalf("reserved %v %v %v, available %v", a, b, c, f.Available(usdtAsset))
	}
	// An unreserved deficit finds nothing: the reservations are protected.
	out, _ := f.Settle(NoReservation, Settlement{Asset: usdtAsset, PnL: usdt(-5)})
	if out.Covered != 0 || out.Uncovered != usdt(5) || len(out.Events) != 0 {
		t.Fatalf("%+v", out)
	}
	// Reservation 1 pays its own 70 in two fills.
	for _, pnl := range []int64{-50, -20} {
		if out, _ := f.Settle(1, Settlement{Asset: usdtAsset, PnL: usdt(pnl)}); out.Covered != usdt(-pnl) {
			t.Fatalf("fill %d: %+v", pnl, out)
		}
	}
	mustCheck(t, f)
	if f.Balance(usdtAsset) != usdt(30) || f.Reserved(usdtAsset) != usdt(30) {
		t.Fatalf("balance %v reserved %v", f.Balance(usdtAsset), f.Reserved(usdtAsset))
	}
}

func TestBadInputIsRejectedAndChangesNothing(t *testing.T) {
	f := mustNew(t, Config{})
	_, _ = f.Deposit(usdtAsset, usdt(10), 0)
	_, _ = f.Reserve(1, usdtAsset, usdt(5))
	for _, c := range []struct {
		name string
		do   func() error
		want error
	}{
		{"deposit negative", func() error { _, err := f.Deposit(usdtAsset, -1, 0); return err }, ErrInvalidAmount},
		{"deposit no asset", func() error { _, err := f.Deposit("", 1, 0); return err }, ErrInvalidAsset},
		{"deposit overflow", func() error { _, err := f.Deposit(usdtAsset, 1<<63-1, 0); return err }, ErrOverflow},
		{"reserve id 0", func() error { _, err := f.Reserve(0, usdtAsset, 1); return err }, ErrInvalidReservation},
		{"reserve twice", func() error { _, err := f.Reserve(1, usdtAsset, 1); return err }, ErrDuplicateReservation},
		{"reserve negative", func() error { _, err := f.Reserve(2, usdtAsset, -1); return err }, ErrInvalidAmount},
		{"release unknown", func() error { _, err := f.Release(9); return err }, ErrUnknownReservation},
		{"settle unknown", func() error { _, err := f.Settle(9, Settlement{Asset: usdtAsset}); return err }, ErrUnknownReservation},
		{"settle other asset", func() error { _, err := f.Settle(1, Settlement{Asset: "BTC"}); return err }, ErrAssetMismatch},
		{"settle negative fee", func() error { _, err := f.Settle(1, Settlement{Asset: usdtAsset, Fee: -1}); return err }, ErrInvalidAmount},
		{"settle overflow", func() error {
			_, err := f.Settle(1, Settlement{Asset: usdtAsset, PnL: 1<<63 - 1, Fee: 1})
			return err
		}, ErrOverflow},
	} {
		if err := c.do(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if f.Balance(usdtAsset) != usdt(10) || f.Reserved(usdtAsset) != usdt(5) || len(f.History(nil, 0)) != 1 {
		t.Fatal("a rejected call changed the fund")
	}
	if _, err := New(Config{HistoryCap: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatal(err)
	}
	if e, _ := f.Deposit(usdtAsset, 0, 5); e.Seq != 0 || e.Balance != usdt(10) {
		t.Fatalf("zero deposit %+v", e)
	}
}

func TestHistoryIsABoundedRing(t *testing.T) {
	f := mustNew(t, Config{HistoryCap: 3})
	for i := int64(1); i <= 5; i++ {
		_, _ = f.Deposit(usdtAsset, usdt(i), i)
	}
	h := f.History(nil, 0)
	if len(h) != 3 || h[0].Seq != 3 || h[2].Seq != 5 || h[2].Balance != usdt(15) || h[2].Reason != ReasonDeposit {
		t.Fatalf("history %+v", h)
	}
	if h := f.History(nil, 1); len(h) != 1 || h[0].Seq != 5 {
		t.Fatalf("last 1: %+v", h)
	}
	for _, c := range []struct {
		since uint64
		first uint64
		n     int
	}{{0, 3, 3}, {3, 4, 2}, {4, 5, 1}, {5, 0, 0}} {
		got := f.Since(c.since, nil)
		if len(got) != c.n || (c.n > 0 && got[0].Seq != c.first) {
			t.Fatalf("since %d: %+v", c.since, got)
		}
	}
}

func TestEventsCarryTheLiquidation(t *testing.T) {
	f := mustNew(t, Config{})
	out, _ := f.Settle(NoReservation, Settlement{Asset: usdtAsset, Account: 42, Symbol: "BTC-PERP", TimeMs: 77, PnL: usdt(3), Fee: usdt(1)})
	want := []Event{
		{Seq: 1, TimeMs: 77, Asset: usdtAsset, Delta: usdt(1), Balance: usdt(1), Reason: ReasonLiquidationFee, Account: 42, Symbol: "BTC-PERP"},
		{Seq: 2, TimeMs: 77, Asset: usdtAsset, Delta: usdt(3), Balance: usdt(4), Reason: ReasonLiquidationSurplus, Account: 42, Symbol: "BTC-PERP"},
	}
	if len(out.Events) != 2 || out.Events[0] != want[0] || out.Events[1] != want[1] {
		t.Fatalf("events %+v", out.Events)
	}
	for r, s := range map[Reason]string{ReasonDeposit: "deposit", ReasonLiquidationSurplus: "liquidation_surplus",
		ReasonLiquidationFee: "liquidation_fee", ReasonLiquidationDeficit: "liquidation_deficit", 0: "invalid"} {
		if r.String() != s {
			t.Errorf("%d is %q", r, r.String())
		}
	}
}
