package actors

import (
	"cmp"
	"slices"

	"github.com/perpx/perpx/book"
)

// openOrders is an account actor's open orders by id. An account has few
// open orders at a time, and its actor's memory is cold whenever another
// core handled it last, so the ids sit in one slice searched linearly (a
// cache line or two, where a map probe missed several) — risk's order
// records do the same. Past openOrdersLinear orders an id → index map is
// kept alongside, dropped again below half of that. Order is arbitrary
// (removal moves the last order into the hole): sorted gives ids' order.
type openOrders struct {
	ids []book.OrderID
	os  []*order               // os[i].id == ids[i]
	idx map[book.OrderID]int32 // nil while len(ids) ≤ openOrdersLinear
}

const openOrdersLinear = 16

func (s *openOrders) len() int { return len(s.ids) }

func (s *openOrders) find(id book.OrderID) int {
	if s.idx != nil {
		if i, ok := s.idx[id]; ok {
			return int(i)
		}
		return -1
	}
	return slices.Index(s.ids, id)
}

// get returns open order id, nil if there is none.
func (s *openOrders) get(id book.OrderID) *order {
	if i := s.find(id); i >= 0 {
		return s.os[i]
	}
	return nil
}

// add records o, whose id is not open.
func (s *openOrders) add(o *order) {
	s.ids, s.os = append(s.ids, o.id), append(s.os, o)
	switch {
	case s.idx != nil:
		s.idx[o.id] = int32(len(s.ids) - 1)
	case len(s.ids) > openOrdersLinear:
		s.idx = make(map[book.OrderID]int32, 2*len(s.ids))
		for i, id := range s.ids {
			s.idx[id] = int32(i)
		}
	}
}

// remove forgets order id if it is open.
func (s *openOrders) remove(id book.OrderID) {
	i := s.find(id)
	if i < 0 {
		return
	}
	last := len(s.ids) - 1
	if s.idx != nil {
		delete(s.idx, id)
		if i != last {
			s.idx[s.ids[last]] = int32(i)
		}
	}
	s.ids[i], s.os[i] = s.ids[last], s.os[last]
	s.os[last] = nil // a finished order goes back to the free list, not kept here
	s.ids, s.os = s.ids[:last], s.os[:last]
	if s.idx != nil && last <= openOrdersLinear/2 {
		s.idx = nil
	}
}

// sorted returns the open orders by id.
func (s *openOrders) sorted() []*order {
	out := slices.Clone(s.os)
	slices.SortFunc(out, func(x, y *order) int { return cmp.Compare(x.id, y.id) })
	return out
}
