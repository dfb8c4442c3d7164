package actors

import (
	"testing"

	"github.com/perpx/perpx/wire"
)

// TestReadMakesNoAccount: reads of a name never used (state, order.open,
// orders, order.query, fills, income) answer as a new account does and
// leave no account behind: no actor, no journal record, the same state
// hash. Before, each made the account for good (a journaled record, an
// actor), so anybody could fill the registry by asking.
func TestReadMakesNoAccount(t *testing.T) {
	j := &memJournal{}
	e := pairEnvWith(t, j, "1000")
	e.x.quiesce()
	last, accts, h := j.Last(), len(e.x.accounts.all()), e.hash()
	ghost := e.state("ghost")
	if o := call(t, func(d func(wire.OrdersReply)) { e.x.OpenOrders("ghost", wire.State{}, d) }); !o.OK || len(o.Orders) != 0 {
		t.Fatalf("order.open: %+v", o)
	}
	if o := call(t, func(d func(wire.OrdersReply)) { e.x.AccountOrders("ghost", wire.Orders{Limit: 10}, d) }); !o.OK || len(o.Orders) != 0 {
		t.Fatalf("orders: %+v", o)
	}
	if o := call(t, func(d func(wire.OrdersReply)) {
		e.x.AccountOrders("ghost", wire.Orders{ClientOrderID: "c1", Limit: 10}, d)
	}); o.OK || o.Error.Code != wire.CodeUnknownOrder {
		t.Fatalf("order.query: %+v", o)
	}
	if f := call(t, func(d func(wire.FillsReply)) { e.x.Fills("ghost", wire.Fills{Limit: 10}, d) }); !f.OK || len(f.Fills) != 0 {
		t.Fatalf("fills: %+v", f)
	}
	if i := call(t, func(d func(wire.IncomeReply)) { e.x.Income("ghost", wire.IncomeQuery{Fills: wire.Fills{Limit: 10}}, d) }); !i.OK || len(i.Income) != 0 {
		t.Fatalf("income: %+v", i)
	}
	e.x.quiesce()
	if j.Last() != last || len(e.x.accounts.all()) != accts || e.hash() != h {
		t.Fatalf("the reads left a trace: journal %d → %d, accounts %d → %d", last, j.Last(), accts, len(e.x.accounts.all()))
	}
	e.deposit("fresh", "0") // a new account, made
	fresh := e.state("fresh")
	fresh.Account = "ghost"
	if got, want := jsonOf(t, ghost), jsonOf(t, fresh); got != want {
		t.Fatalf("a never-used account's state\n%s\na new one's\n%s", got, want)
	}
}
