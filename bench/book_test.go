package bench

import (
	"testing"

	"github.com/perpx/perpx/book"
)

// BenchmarkFlowBook runs the flow through the bare book: the floor the
// other layers are compared with.
func BenchmarkFlowBook(b *testing.B) {
	ops := flowOps()
	bk := book.New()
	var res book.Result
	ids := map[string]book.OrderID{}
	var next book.OrderID
	b.ReportAllocs()
	b.ResetTimer()
	start := startClock()
	for i := 0; i < b.N; i++ {
		o := &ops[i%len(ops)]
		if o.cancel {
			bk.Cancel(ids[o.coid], &res)
			continue
		}
		next++
		if o.coid != "" {
			ids[o.coid] = next
		}
		bk.Place(book.Order{ID: next, Account: book.AccountID(o.acct), Side: o.side, Type: book.Limit, TIF: book.GTC, Price: o.price, Qty: flowQty}, &res)
	}
	report(b, start)
}
