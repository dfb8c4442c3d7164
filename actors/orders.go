package actors

import (
	"cmp"
	"slices"

	"github.com/perpx/perpx/book"
)

// openOrders is an account actor's open orders by id: a book.OrderSet, as
// risk keeps its reservation records (few orders per account, cold memory,
// so a linear search beats a map).
type openOrders struct{ book.OrderSet[*order] }

// get returns open order id, nil if there is none.
func (s *openOrders) get(id book.OrderID) *order {
	if i := s.Find(id); i >= 0 {
		return *s.At(i)
	}
	return nil
}

// add records o, whose id is not open.
func (s *openOrders) add(o *order) { s.Add(o.id, o) }

// sorted returns the open orders by id.
func (s *openOrders) sorted() []*order {
	out := slices.Clone(s.Values())
	slices.SortFunc(out, func(x, y *order) int { return cmp.Compare(x.id, y.id) })
	return out
}
