package risk

import "github.com/perpx/perpx/book"

// orderSet holds an account's open orders' reservation records. An account
// has few open orders at a time, so the records sit in one slice searched
// linearly: a cache line or two, where probing a map of a cold account (one
// of thousands, handed between cores) missed several times per order, in
// PreTrade, ApplyFill and OnOrderDone. Past orderSetLinear records an
// id → index map is kept alongside, so an account with many resting orders
// stays O(1). Records are unordered (removal moves the last one into the
// hole): whoever shows ids sorts them.
type orderSet struct {
	recs []openOrder
	idx  map[book.OrderID]int32 // nil while len(recs) ≤ orderSetLinear
}

// orderSetLinear is the most records searched linearly; the map is dropped
// again below half of it, so an account hovering at the limit does not
// rebuild it on every order.
const orderSetLinear = 16

func (s *orderSet) len() int { return len(s.recs) }

// find returns the index of order id's record, -1 if it is not open.
func (s *orderSet) find(id book.OrderID) int {
	if s.idx != nil {
		if i, ok := s.idx[id]; ok {
			return int(i)
		}
		return -1
	}
	for i := range s.recs {
		if s.recs[i].id == id {
			return i
		}
	}
	return -1
}

// add records o, whose id is not open.
func (s *orderSet) add(o openOrder) {
	s.recs = append(s.recs, o)
	switch {
	case s.idx != nil:
		s.idx[o.id] = int32(len(s.recs) - 1)
	case len(s.recs) > orderSetLinear:
		s.idx = make(map[book.OrderID]int32, 2*len(s.recs))
		for i := range s.recs {
			s.idx[s.recs[i].id] = int32(i)
		}
	}
}

// remove forgets record i; the last record takes its index.
func (s *orderSet) remove(i int) {
	last := len(s.recs) - 1
	if s.idx != nil {
		delete(s.idx, s.recs[i].id)
		if i != last {
			s.idx[s.recs[last].id] = int32(i)
		}
	}
	s.recs[i] = s.recs[last]
	s.recs = s.recs[:last]
	if s.idx != nil && len(s.recs) <= orderSetLinear/2 {
		s.idx = nil
	}
}
