package book

// OrderSet maps open order ids to values (risk's reservation records, an
// account actor's orders). An account has few open orders at a time and its
// memory is cold whenever another core touched it last, so the ids sit in
// one slice searched linearly: a cache line or two, where probing a map
// missed several times per order. Past OrderSetLinear entries an id → index
// map is kept alongside, so an account with many resting orders stays
// O(1); it is dropped again at half that, so an account hovering at the
// limit does not rebuild it on every order. Entries are unordered (removal
// moves the last one into the hole): whoever shows ids sorts them.
type OrderSet[V any] struct {
	ids  []OrderID
	vals []V               // vals[i] belongs to ids[i]
	idx  map[OrderID]int32 // nil while len(ids) ≤ OrderSetLinear
}

// OrderSetLinear is the most entries an OrderSet searches linearly.
const OrderSetLinear = 16

// Len is the number of entries.
func (s *OrderSet[V]) Len() int { return len(s.ids) }

// Find returns the index of id's entry, -1 if it has none.
func (s *OrderSet[V]) Find(id OrderID) int {
	if s.idx != nil {
		if i, ok := s.idx[id]; ok {
			return int(i)
		}
		return -1
	}
	for i, x := range s.ids {
		if x == id {
			return i
		}
	}
	return -1
}

// At is entry i's value, to read or update in place; valid until the next
// Add or Remove.
func (s *OrderSet[V]) At(i int) *V { return &s.vals[i] }

// ID is entry i's order id.
func (s *OrderSet[V]) ID(i int) OrderID { return s.ids[i] }

// Values are the entries' values in the set's order; the caller must not
// keep or modify the slice across an Add or Remove.
func (s *OrderSet[V]) Values() []V { return s.vals }

// Add records v for id, which must have no entry.
func (s *OrderSet[V]) Add(id OrderID, v V) {
	s.ids, s.vals = append(s.ids, id), append(s.vals, v)
	switch {
	case s.idx != nil:
		s.idx[id] = int32(len(s.ids) - 1)
	case len(s.ids) > OrderSetLinear:
		s.idx = make(map[OrderID]int32, 2*len(s.ids))
		for i, x := range s.ids {
			s.idx[x] = int32(i)
		}
	}
}

// RemoveAt removes entry i; the last entry takes its index.
func (s *OrderSet[V]) RemoveAt(i int) {
	last := len(s.ids) - 1
	if s.idx != nil {
		delete(s.idx, s.ids[i])
		if i != last {
			s.idx[s.ids[last]] = int32(i)
		}
	}
	var zero V
	s.ids[i], s.vals[i] = s.ids[last], s.vals[last]
	s.vals[last] = zero // let a removed pointer go
	s.ids, s.vals = s.ids[:last], s.vals[:last]
	if s.idx != nil && last <= OrderSetLinear/2 {
		s.idx = nil
	}
}

// Remove removes id's entry if it has one.
func (s *OrderSet[V]) Remove(id OrderID) {
	if i := s.Find(id); i >= 0 {
		s.RemoveAt(i)
	}
}
