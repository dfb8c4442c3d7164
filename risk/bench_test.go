package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// benchAccount: cross, 10 000 USDT, 1 BTC long and 10 ETH short, two
// resting orders.
func benchAccount(tb testing.TB) (*Account, *market.Symbol) {
	btc, eth := demo()
	a := funded("10000", Cross)
	trade(tb, a, btc, book.Buy, 300_000, 1000, 300_000, false)
	trade(tb, a, eth, book.Sell, 300_000, 1000, 300_000, false)
	for _, s := range []*market.Symbol{btc, eth} {
		c, _ := a.PreTrade(s, Order{ID: newID(), Side: book.Sell, Type: Limit, Price: 310_000, Qty: 500}, 300_000)
		mustOK(tb, c, "resting")
	}
	return a, btc
}

func TestPreTradeAllocs(t *testing.T) {
	a, btc := benchAccount(t)
	o := Order{ID: 1 << 40, Side: book.Buy, Type: Limit, Price: 299_000, Qty: 100}
	allocs := testing.AllocsPerRun(1000, func() {
		if c, _ := a.PreTrade(btc, o, 300_000); c != OK {
			t.Fatal(c)
		}
		a.OnOrderDone(o.ID)
		a.OnMark(btc, 300_000)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per PreTrade+OnOrderDone+OnMark", allocs)
	}
}

// BenchmarkPreTrade: accepted orders of 0.001 BTC on an account with two
// positions and resting orders; every 512 orders the timer stops and they
// are canceled, so up to 512 orders are open.
func BenchmarkPreTrade(b *testing.B) {
	a, btc := benchAccount(b)
	o := Order{ID: 1 << 40, Side: book.Buy, Type: Limit, Price: 299_000, Qty: 1}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		o.ID++
		if c, _ := a.PreTrade(btc, o, 300_000); c != OK {
			b.Fatal(c)
		}
		if i%512 == 511 {
			b.StopTimer()
			for id := o.ID - 511; id <= o.ID; id++ {
				a.OnOrderDone(id)
			}
			b.StartTimer()
		}
	}
}

// BenchmarkPreTradeCancel: one accepted order and its cancel.
func BenchmarkPreTradeCancel(b *testing.B) {
	a, btc := benchAccount(b)
	o := Order{ID: 1 << 40, Side: book.Buy, Type: Limit, Price: 299_000, Qty: 100}
	b.ReportAllocs()
	for b.Loop() {
		if c, _ := a.PreTrade(btc, o, 300_000); c != OK {
			b.Fatal(c)
		}
		a.OnOrderDone(o.ID)
	}
}

// BenchmarkPreTradeReject: an order rejected for margin (no state change).
func BenchmarkPreTradeReject(b *testing.B) {
	a, btc := benchAccount(b)
	o := Order{ID: 1 << 40, Side: book.Buy, Type: Limit, Price: 299_000, Qty: 5000}
	b.ReportAllocs()
	for b.Loop() {
		if c, _ := a.PreTrade(btc, o, 300_000); c != InsufficientMargin {
			b.Fatal(c)
		}
	}
}

// BenchmarkApplyFill: PreTrade plus the full fill of a maker order of
// 0.1 BTC, buy and sell alternately (the account's cash is topped up when the
// fees have eaten half of it).
func BenchmarkApplyFill(b *testing.B) {
	a, btc := benchAccount(b)
	side := book.Buy
	id := book.OrderID(1 << 41)
	low, topUp := usdt("5000"), usdt("5000")
	b.ReportAllocs()
	for b.Loop() {
		id++
		if c, _ := a.PreTrade(btc, Order{ID: id, Side: side, Type: Limit, Price: 300_000, Qty: 100}, 300_000); c != OK {
			b.Fatal(c)
		}
		if _, c := a.ApplyFill(btc, Fill{OrderID: id, Side: side, Price: 300_000, Qty: 100, Maker: true, FeeRate: btc.MakerFee}); c != OK {
			b.Fatal(c)
		}
		side = side.Opposite()
		if a.Cash() < low {
			a.Deposit(topUp)
		}
	}
}

// markTickAccounts: n accounts with one BTC position each; long and short,
// cross and isolated, none near liquidation.
func markTickAccounts(tb testing.TB, n int, twoCross bool) ([]*Account, *market.Symbol) {
	btc, eth := demo()
	accts := make([]*Account, n)
	for i := range accts {
		mode := Cross
		if i%2 == 1 && !twoCross {
			mode = Isolated
		}
		a := NewAccount(book.AccountID(i), mode)
		if c := a.Deposit(usdt("100000")); c != OK {
			tb.Fatal(c)
		}
		side := book.Buy
		if i%4 >= 2 {
			side = book.Sell
		}
		trade(tb, a, btc, side, 300_000, book.Lots(1+i%1000), 300_000, false)
		if twoCross {
			trade(tb, a, eth, side.Opposite(), 300_000, 100, 300_000, false)
		}
		accts[i] = a
	}
	return accts, btc
}

func benchMarkTick(b *testing.B, twoCross bool) {
	const n = 10_000
	accts, btc := markTickAccounts(b, n, twoCross)
	marks := [2]book.Ticks{300_000, 300_100}
	k := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m := marks[k&1]
		k++
		for _, a := range accts {
			if a.OnMark(btc, m) {
				b.Fatal("unexpected liquidation")
			}
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkMarkTick: one mark tick over 10 000 positions (one per account).
func BenchmarkMarkTick(b *testing.B) { benchMarkTick(b, false) }

// BenchmarkMarkTickTwoCross: the same with two cross positions per account,
// where a tick sums the account directly (O(k), k = 2).
func BenchmarkMarkTickTwoCross(b *testing.B) { benchMarkTick(b, true) }
