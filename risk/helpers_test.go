package risk

import (
	"testing"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// usdt converts a decimal string to Money.
func usdt(s string) market.Money {
	m, ok := market.MoneyFromDecimal(dec(s))
	if !ok {
		panic(s)
	}
	return m
}

func demo() (btc, eth *market.Symbol) {
	s := market.DemoSymbols()
	return s[0], s[1]
}

// seedSymbol is tick 1, lot 1, no fees: one unit at price P is worth P USDT.
func seedSymbol(t testing.TB, tiers ...[2]string) *market.Symbol {
	t.Helper()
	return namedSymbol(t, "SEED", tiers...)
}

// namedSymbol is seedSymbol under another name (distinct symbols of one
// account).
func namedSymbol(t testing.TB, name string, tiers ...[2]string) *market.Symbol {
	t.Helper()
	tc := make([]market.TierConfig, len(tiers))
	for i, x := range tiers {
		tc[i] = market.TierConfig{MaxNotional: dec(x[0]), MMR: dec(x[1])}
	}
	s, err := market.SymbolConfig{Symbol: name, MMTiers: tc}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// longSeed: MM(P) = 0.1·P − 210 above 3000 (so MM(3100) = 100).
func longSeed(t testing.TB) *market.Symbol {
	return seedSymbol(t, [2]string{"3000", "0.03"}, [2]string{"100000", "0.1"})
}

// shortSeed: MM(P) = 0.05·P − 45 above 1500 (so MM(2900) = 100).
func shortSeed(t testing.TB) *market.Symbol {
	return seedSymbol(t, [2]string{"1500", "0.02"}, [2]string{"100000", "0.05"})
}

var nextID book.OrderID

func newID() book.OrderID { nextID++; return nextID }

// mustOK fails the test unless c is OK.
func mustOK(t testing.TB, c Code, what string) {
	t.Helper()
	if c != OK {
		t.Fatalf("%s: %s", what, c)
	}
}

// trade places a limit order of a at price and fills it completely as taker
// (maker when maker is set) at the same price.
func trade(t testing.TB, a *Account, sym *market.Symbol, side book.Side, price book.Ticks, qty book.Lots, mark book.Ticks, maker bool) FillResult {
	t.Helper()
	id := newID()
	c, _ := a.PreTrade(sym, Order{ID: id, Side: side, Type: Limit, Price: price, Qty: qty}, mark)
	mustOK(t, c, "PreTrade")
	r, c := a.ApplyFill(sym, Fill{OrderID: id, Side: side, Price: price, Qty: qty, Maker: maker, FeeRate: sym.FeeRate(maker)})
	mustOK(t, c, "ApplyFill")
	if !r.OrderDone {
		t.Fatal("order not done after full fill")
	}
	return r
}

// restingFill places a limit order of a at price, runs moved (which moves
// the position's bankruptcy price past price: a funding payment, another
// position's mark), then fills it completely at price: how a fill beyond
// the margin still happens once PreTrade refuses such a price up front.
func restingFill(t testing.TB, a *Account, sym *market.Symbol, side book.Side, price book.Ticks, qty book.Lots, mark book.Ticks, maker bool, moved func()) FillResult {
	t.Helper()
	id := newID()
	c, _ := a.PreTrade(sym, Order{ID: id, Side: side, Type: Limit, Price: price, Qty: qty}, mark)
	mustOK(t, c, "PreTrade")
	moved()
	if c, _ := a.PreTrade(sym, Order{ID: newID(), Side: side, Type: Limit, Price: price, Qty: qty}, mark); c != BeyondBankruptcy {
		t.Fatalf("the bankruptcy price did not move past %d: a new order there is %s", price, c)
	}
	r, c := a.ApplyFill(sym, Fill{OrderID: id, Side: side, Price: price, Qty: qty, Maker: maker, FeeRate: sym.FeeRate(maker)})
	mustOK(t, c, "ApplyFill")
	return r
}

func funded(amount string, mode MarginMode) *Account {
	a := NewAccount(1, mode)
	if c := a.Deposit(usdt(amount)); c != OK {
		panic(c)
	}
	return a
}

// inverseSymbol is an XBTUSD-like inverse perpetual: contracts of 1 USD,
// tick 0.5, settled in BTC, tiers 0.5 % up to 10 BTC, 1 % up to 1 000.
func inverseSymbol(t testing.TB, name string) *market.Symbol {
	t.Helper()
	s, err := market.SymbolConfig{Symbol: name, Quote: "USD", Contract: "inverse", Settle: "BTC", Tick: dec("0.5"), Lot: dec("1"),
		MMTiers: []market.TierConfig{{MaxNotional: dec("10"), MMR: dec("0.005")}, {MaxNotional: dec("1000"), MMR: dec("0.01")}}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inverseFeeSymbol is inverseSymbol with a taker fee, a maker fee of 0.02 %
// and a price band of 50 %.
func inverseFeeSymbol(t testing.TB, taker string) *market.Symbol {
	t.Helper()
	s, err := market.SymbolConfig{Symbol: "XBTFEE", Quote: "USD", Contract: "inverse", Settle: "BTC", Tick: dec("0.5"), Lot: dec("1"),
		TakerFee: dec(taker), MakerFee: dec("0.0002"), PriceBand: dec("0.5"),
		MMTiers: []market.TierConfig{{MaxNotional: dec("10"), MMR: dec("0.005")}, {MaxNotional: dec("1000"), MMR: dec("0.01")}}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
