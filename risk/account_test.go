package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
)

func TestCodeNames(t *testing.T) {
	want := map[Code]string{
		OK: "OK", BadRequest: "BAD_REQUEST", UnknownSymbol: "UNKNOWN_SYMBOL", InvalidPrice: "INVALID_PRICE",
		InvalidQty: "INVALID_QTY", MinNotional: "MIN_NOTIONAL", InsufficientMargin: "INSUFFICIENT_MARGIN",
		ReduceOnlyRejected: "REDUCE_ONLY_REJECTED", LeverageTooHigh: "LEVERAGE_TOO_HIGH",
		AccountInLiquidation: "ACCOUNT_IN_LIQUIDATION", UnknownOrder: "UNKNOWN_ORDER", Internal: "INTERNAL",
		ChargeExceedsProfit: "CHARGE_EXCEEDS_PROFIT",
		Code(200):           "INTERNAL",
	}
	for c, s := range want {
		if c.String() != s {
			t.Errorf("%d: %q, want %q", c, c.String(), s)
		}
	}
}

func TestDepositWithdraw(t *testing.T) {
	btc, _ := demo()
	a := NewAccount(7, Cross)
	for _, c := range []struct {
		amount string
		dep    bool
		want   Code
		cash   string
	}{
		{"0", true, BadRequest, "0"},
		{"-1", true, BadRequest, "0"},
		{"10000", true, OK, "10000"},
		{"1000000000", true, BadRequest, "10000"}, // over MaxBalance
		{"0", false, BadRequest, "10000"},
		{"10000.00000001", false, InsufficientMargin, "10000"},
		{"2500", false, OK, "7500"},
	} {
		var got Code
		if c.dep {
			got = a.Deposit(usdt(c.amount))
		} else {
			got = a.Withdraw(usdt(c.amount))
		}
		if got != c.want || a.Cash() != usdt(c.cash) {
			t.Errorf("dep=%v %s: %s cash %s, want %s %s", c.dep, c.amount, got, a.Cash(), c.want, c.cash)
		}
	}
	// With 1 BTC long at 30000, leverage 20: IM 1500; fee 15 paid.
	trade(t, a, btc, book.Buy, 300_000, 1000, 300_000, false)
	if a.Cash() != usdt("7485") || a.Available() != usdt("5985") {
		t.Fatalf("cash %s available %s", a.Cash(), a.Available())
	}
	if c := a.Withdraw(usdt("5985.00000001")); c != InsufficientMargin {
		t.Errorf("withdraw over available: %s", c)
	}
	// Mark up 1000: uPnL +1000 raises available but not beyond cash.
	a.OnMark(btc, 310_000)
	if a.Available() != usdt("6935") || a.Equity() != usdt("8485") {
		t.Errorf("available %s equity %s", a.Available(), a.Equity())
	}
	mustOK(t, a.Withdraw(usdt("6935")), "withdraw all available")
	if a.Available() != 0 || a.Cash() != usdt("550") {
		t.Errorf("after: available %s cash %s", a.Available(), a.Cash())
	}
}
