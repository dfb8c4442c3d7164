package trigger

import (
	"cmp"
	"math"
	"math/bits"
	"slices"

	"github.com/google/btree"
	"github.com/perpx/perpx/book"
)

// Source is the price a conditional order watches.
type Source uint8

const (
	Mark Source = iota
	Last
	Index
	NumSources
)

func (s Source) String() string {
	switch s {
	case Mark:
		return "mark"
	case Last:
		return "last"
	case Index:
		return "index"
	}
	return "invalid"
}

// Kind is a fixed stop or a trailing stop.
type Kind uint8

const (
	Stop     Kind = iota // fires at a fixed trigger price
	Trailing             // fires a callback rate away from its extreme
)

func (k Kind) String() string {
	switch k {
	case Stop:
		return "stop"
	case Trailing:
		return "trailing"
	}
	return "invalid"
}

// Dir is which way the price must move for an order to fire.
type Dir uint8

const (
	Rise Dir = iota // fires when price >= trigger
	Fall            // fires when price <= trigger
)

func (d Dir) String() string {
	switch d {
	case Rise:
		return "rise"
	case Fall:
		return "fall"
	}
	return "invalid"
}

// MaxCallback is the largest trailing callback rate, in units of 0.1 % (10 %).
const MaxCallback = 100

// Order is an armed conditional order.
type Order struct {
	ID         book.OrderID
	Side       book.Side // the order's side when it fires
	Kind       Kind
	TakeProfit bool // Stop only: fires the other way (a profit target)
	Source     Source
	// Stop: the trigger price, > 0. Trailing: the activation price, 0 for
	// active at once.
	Price book.Ticks
	// Trailing only: the callback rate in units of 0.1 %, 1..MaxCallback.
	Callback uint32
	// Account owns the order; the set only carries it (for the caller to
	// tell whom a fired order belongs to).
	Account book.AccountID
}

// FireDir is the price move that fires o: a stop buy and a take-profit sell
// rise, a stop sell and a take-profit buy fall; a trailing sell fires on a
// fall from its peak, a trailing buy on a rise from its trough.
func (o Order) FireDir() Dir {
	if (o.Side == book.Buy) != (o.Kind == Stop && o.TakeProfit) {
		return Rise
	}
	return Fall
}

// ActivationDir is the price move that activates a trailing stop: the
// opposite of the way it fires.
func (o Order) ActivationDir() Dir { return 1 - o.FireDir() }

// valid is the shape Add accepts. Fields that do not apply to the kind
// must be zero, so every order has one snapshot encoding.
func (o Order) valid() bool {
	if o.ID == 0 || o.Side != book.Buy && o.Side != book.Sell || o.Source >= NumSources {
		return false
	}
	switch o.Kind {
	case Stop:
		return o.Price > 0 && o.Callback == 0
	case Trailing:
		return o.Price >= 0 && !o.TakeProfit && o.Callback >= 1 && o.Callback <= MaxCallback
	}
	return false
}

// Refusal is why Add did not arm an order; OK when it did.
type Refusal uint8

const (
	OK           Refusal = iota
	WouldTrigger         // it would fire (a trailing stop: activate) at the price given
	Duplicate            // its id is armed already
	Invalid              // zero id, bad side, source or kind, bad price or callback
)

func (r Refusal) String() string {
	switch r {
	case OK:
		return "ok"
	case WouldTrigger:
		return "would_trigger"
	case Duplicate:
		return "duplicate"
	case Invalid:
		return "invalid"
	}
	return "unknown"
}

// node states.
const (
	free    uint8 = iota
	fixed         // in stops[src][FireDir]
	pending       // trailing, in pending[src][ActivationDir]
	active        // trailing, in a group of its bucket
)

// node is a slab slot. Slot 0 is never used, so 0 is the nil link.
type node struct {
	o     Order
	state uint8
	grp   int32 // active: its group record, possibly merged away (see find)
	// active: neighbours in its group's member list; free: next free slot.
	prev, next int32
}

// item is a B-tree entry; trees order by (key, id) in fire order and
// ignore slot, which saves an index lookup when the entry fires.
type item struct {
	key  book.Ticks
	id   book.OrderID
	slot int32
}

func lessRise(a, b item) bool { return a.key < b.key || a.key == b.key && a.id < b.id }
func lessFall(a, b item) bool { return a.key > b.key || a.key == b.key && a.id < b.id }

const degree = 32

// Set is one symbol's armed conditional orders. Not safe for concurrent use.
type Set struct {
	nodes    []node
	freeNode int32
	ids      book.Index
	n        int
	last     [NumSources]book.Ticks

	// Each tree's Min is the next to fire (or activate).
	stops   [NumSources][2]*btree.BTreeG[item] // fixed stops by FireDir
	pending [NumSources][2]*btree.BTreeG[item] // trailing stops by ActivationDir (Rise: sells)

	groups    []group
	freeGroup int32
	buckets   [NumSources][numBuckets]bucket
	nonEmpty  [NumSources][bucketWords]uint64 // bit b set iff buckets[src][b] has a group
}

// New returns an empty set.
func New() *Set {
	s := &Set{nodes: make([]node, 1, 64), groups: make([]group, 1, 16)}
	s.ids.Init(64)
	fl := btree.NewFreeListG[item](256)
	for src := range NumSources {
		s.stops[src][Rise] = btree.NewWithFreeListG(degree, lessRise, fl)
		s.stops[src][Fall] = btree.NewWithFreeListG(degree, lessFall, fl)
		s.pending[src][Rise] = btree.NewWithFreeListG(degree, lessRise, fl)
		s.pending[src][Fall] = btree.NewWithFreeListG(degree, lessFall, fl)
	}
	return s
}

// Len is the number of armed orders.
func (s *Set) Len() int { return s.n }

// Price is the last price Update saw for src, 0 if none.
func (s *Set) Price(src Source) book.Ticks {
	if src >= NumSources {
		return 0
	}
	return s.last[src]
}

// WouldTrigger reports whether o would fire at price now (for a trailing
// stop: whether its activation price is already reached). A now ≤ 0 means
// no price yet, which triggers nothing.
func (s *Set) WouldTrigger(o Order, now book.Ticks) bool {
	if now <= 0 || o.Kind == Trailing && o.Price == 0 {
		return false
	}
	if o.Kind == Trailing {
		return reached(o.ActivationDir(), o.Price, now)
	}
	return reached(o.FireDir(), o.Price, now)
}

// Add arms o, given its source's current price now (≤ 0: none yet). A
// trailing stop without an activation price is active at once with now as
// its extreme; if now is none, it activates at the source's next price.
func (s *Set) Add(o Order, now book.Ticks) Refusal {
	if !o.valid() {
		return Invalid
	}
	if _, dup := s.ids.Get(uint64(o.ID)); dup {
		return Duplicate
	}
	if s.WouldTrigger(o, now) {
		return WouldTrigger
	}
	slot := s.alloc(o)
	switch {
	case o.Kind == Stop:
		s.nodes[slot].state = fixed
		s.stops[o.Source][o.FireDir()].ReplaceOrInsert(item{o.Price, o.ID, slot})
	case o.Price == 0 && now > 0:
		s.join(slot, now)
	default:
		s.nodes[slot].state = pending
		s.pending[o.Source][o.ActivationDir()].ReplaceOrInsert(item{activationKey(o), o.ID, slot})
	}
	return OK
}

// activationKey is where a pending trailing stop sits in its tree.
// Activation price 0 means "at any price": 0 for a sell (every price is ≥
// it), MaxInt64 for a buy (every price is ≤ it).
func activationKey(o Order) book.Ticks {
	if o.Price == 0 && o.Side == book.Buy {
		return math.MaxInt64
	}
	return o.Price
}

func (s *Set) alloc(o Order) int32 {
	slot := s.freeNode
	if slot != 0 {
		s.freeNode = s.nodes[slot].next
		s.nodes[slot] = node{o: o}
	} else {
		slot = int32(len(s.nodes))
		s.nodes = append(s.nodes, node{o: o})
	}
	s.ids.Put(uint64(o.ID), slot)
	s.n++
	return slot
}

// release frees slot and forgets its id; the caller has unlinked it.
func (s *Set) release(slot int32) {
	n := &s.nodes[slot]
	s.ids.Del(uint64(n.o.ID))
	*n = node{next: s.freeNode}
	s.freeNode = slot
	s.n--
}

// Get returns the armed order id.
func (s *Set) Get(id book.OrderID) (Order, bool) {
	slot, ok := s.ids.Get(uint64(id))
	if !ok {
		return Order{}, false
	}
	return s.nodes[slot].o, true
}

// Remove disarms id and returns it.
func (s *Set) Remove(id book.OrderID) (Order, bool) {
	slot, ok := s.ids.Get(uint64(id))
	if !ok {
		return Order{}, false
	}
	n := &s.nodes[slot]
	o := n.o
	switch n.state {
	case fixed:
		s.stops[o.Source][o.FireDir()].Delete(item{key: o.Price, id: o.ID})
	case pending:
		s.pending[o.Source][o.ActivationDir()].Delete(item{key: activationKey(o), id: o.ID})
	case active:
		s.leave(slot)
	}
	s.release(slot)
	return o, true
}

// Extreme is a trailing stop's peak (sell) or trough (buy) since it
// activated; 0 while it is not active, or for any other order.
func (s *Set) Extreme(id book.OrderID) book.Ticks {
	slot, ok := s.ids.Get(uint64(id))
	if !ok || s.nodes[slot].state != active {
		return 0
	}
	return s.groups[s.root(s.nodes[slot].grp)].ext
}

// Update records src's new price and appends to fired every order it
// fires, removing them from the set, in the order the package doc gives.
// It also activates trailing stops and moves their extremes. A price ≤ 0
// or an unknown source changes nothing.
func (s *Set) Update(src Source, price book.Ticks, fired []Order) []Order {
	if src >= NumSources || price <= 0 {
		return fired
	}
	s.last[src] = price
	if s.n == 0 { // every trade of a symbol without stops comes here
		return fired
	}
	fired = s.fireTree(s.stops[src][Rise], Rise, price, fired)
	fired = s.fireTree(s.stops[src][Fall], Fall, price, fired)

	from := len(fired)
	for w, word := range s.nonEmpty[src] {
		for ; word != 0; word &= word - 1 {
			b := w*64 + bits.TrailingZeros64(word)
			fired = s.trail(src, b, price, fired)
		}
	}
	// Groups fire in extreme order per bucket; one rule across buckets and
	// merge histories is ascending id.
	if len(fired)-from > 1 {
		slices.SortFunc(fired[from:], func(a, b Order) int { return cmp.Compare(a.ID, b.ID) })
	}

	// After the extremes moved, so each joins at its bucket's recent end.
	s.activate(s.pending[src][Rise], Rise, price)
	s.activate(s.pending[src][Fall], Fall, price)
	return fired
}

// reached reports whether price is at or beyond key in direction d.
func reached(d Dir, key, price book.Ticks) bool {
	if d == Rise {
		return price >= key
	}
	return price <= key
}

// fireTree pops t's entries while price reaches their key.
func (s *Set) fireTree(t *btree.BTreeG[item], d Dir, price book.Ticks, fired []Order) []Order {
	for {
		it, ok := t.Min()
		if !ok || !reached(d, it.key, price) {
			return fired
		}
		t.DeleteMin()
		fired = append(fired, s.nodes[it.slot].o)
		s.release(it.slot)
	}
}

// activate moves the pending trailing stops price reaches into their
// buckets, with price as their extreme.
func (s *Set) activate(t *btree.BTreeG[item], d Dir, price book.Ticks) {
	for {
		it, ok := t.Min()
		if !ok || !reached(d, it.key, price) {
			return
		}
		t.DeleteMin()
		s.join(it.slot, price)
	}
}

// mulLE reports a·b ≤ c·d without overflow.
func mulLE(a, b, c, d uint64) bool {
	h1, l1 := bits.Mul64(a, b)
	h2, l2 := bits.Mul64(c, d)
	return h1 < h2 || h1 == h2 && l1 <= l2
}

// trailFires reports whether price fires a trailing stop of side with
// callback cb whose extreme is ext (both > 0).
func trailFires(side book.Side, cb uint32, ext, price book.Ticks) bool {
	if side == book.Sell {
		return mulLE(uint64(price), 1000, uint64(ext), uint64(1000-cb))
	}
	return mulLE(uint64(ext), uint64(1000+cb), uint64(price), 1000)
}
