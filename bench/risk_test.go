package bench

import (
	"testing"

	"github.com/perpx/perpx/adl"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// riskFlow is the flow's accounts in risk alone, with the bookkeeping the
// account actors do around it: order ids by client id, and the touch buy
// waiting for the sell that fills it.
type riskFlow struct {
	sym    *market.Symbol
	accts  []*risk.Account
	ids    map[string]book.OrderID
	next   book.OrderID
	buyID  book.OrderID // the touch buy the next touch sell fills
	filled func(acct int, pos risk.PositionState)
}

func newRiskFlow(b *testing.B) *riskFlow {
	b.Helper()
	f := &riskFlow{sym: market.DemoSymbols()[0], ids: map[string]book.OrderID{}}
	for i := range flowAccounts {
		a := risk.NewAccount(book.AccountID(i+1), risk.Cross)
		// 1x: positions grow by a lot per cycle, and no margin tier
		// refuses 1x however far a long run takes them.
		if code := a.Deposit(1_000_000_000 * market.MoneyScale); code != risk.OK {
			b.Fatal(code)
		}
		if code := a.SetLeverage(f.sym, 1); code != risk.OK {
			b.Fatal(code)
		}
		f.accts = append(f.accts, a)
	}
	return f
}

// do runs one op of the flow: the pre-trade check of a place (the far buy
// rests with its reservation), both sides' fills of the touch trade, the
// release of a cancel. It reports a rejection.
func (f *riskFlow) do(o *op) risk.Code {
	a := f.accts[o.acct]
	if o.cancel {
		if id, ok := f.ids[o.coid]; ok {
			delete(f.ids, o.coid)
			a.OnCancel(id)
		}
		return risk.OK
	}
	f.next++
	id := f.next
	if code, _ := a.PreTrade(f.sym, risk.Order{ID: id, Side: o.side, Type: risk.Limit, Price: o.price, Qty: flowQty}, flowPrice); code != risk.OK {
		return code
	}
	switch {
	case o.coid != "":
		f.ids[o.coid] = id
	case o.side == book.Buy:
		f.buyID = id
	default: // the touch sell fills the touch buy: taker and maker settle
		buyer := f.accts[o.acct-1]
		if _, code := a.ApplyFill(f.sym, risk.Fill{OrderID: id, Side: book.Sell, Price: flowPrice, Qty: flowQty, FeeRate: f.sym.FeeRate(false)}); code != risk.OK {
			return code
		}
		if _, code := buyer.ApplyFill(f.sym, risk.Fill{OrderID: f.buyID, Side: book.Buy, Price: flowPrice, Qty: flowQty, Maker: true, FeeRate: f.sym.FeeRate(true)}); code != risk.OK {
			return code
		}
		if f.filled != nil {
			sp, _ := a.Position(f.sym)
			bp, _ := buyer.Position(f.sym)
			f.filled(o.acct, sp)
			f.filled(o.acct-1, bp)
		}
	}
	return risk.OK
}

// BenchmarkFlowRisk runs the flow through risk alone: what the account
// actors check and settle per order, without actors, book or events.
func BenchmarkFlowRisk(b *testing.B) {
	f := newRiskFlow(b)
	ops := flowOps()
	b.ReportAllocs()
	b.ResetTimer()
	start := startClock()
	for i := range b.N {
		if code := f.do(&ops[i%len(ops)]); code != risk.OK {
			b.Fatalf("op %d: %s", i, code)
		}
	}
	report(b, start)
}

// BenchmarkFlowADL is BenchmarkFlowRisk with the ADL ranking kept current:
// both sides' positions re-ranked after every trade, as the ADL actor does
// from the accounts' reports (and the mark moved once per pass of the flow;
// SetMark is O(1)).
func BenchmarkFlowADL(b *testing.B) {
	f := newRiskFlow(b)
	rk, err := adl.New(adl.Config{Symbol: f.sym.Name, Multiplier: f.sym.Multiplier, IndicatorRefreshMs: 1000})
	if err != nil {
		b.Fatal(err)
	}
	if err := rk.SetMark(flowPrice); err != nil {
		b.Fatal(err)
	}
	f.filled = func(acct int, p risk.PositionState) {
		side, qty, cost := adl.Long, p.Qty, p.Cost
		if qty < 0 {
			side, qty, cost = adl.Short, -qty, -cost
		}
		if err := rk.Update(book.AccountID(acct+1), side, qty, cost, 1_000_000_000*market.MoneyScale); err != nil {
			b.Fatal(err)
		}
	}
	ops := flowOps()
	b.ReportAllocs()
	b.ResetTimer()
	start := startClock()
	for i := range b.N {
		o := &ops[i%len(ops)]
		if code := f.do(o); code != risk.OK {
			b.Fatalf("op %d: %s", i, code)
		}
		if i%len(ops) == 0 {
			_ = rk.SetMark(flowPrice + book.Ticks(i/len(ops)%2)) // a tick up and back
		}
	}
	report(b, start)
}
