package trigger

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
)

// refSet is the naive model: a slice of orders, scanned on every update,
// with the package's rules written out directly.
type refSet struct {
	orders []refOrder
	last   [NumSources]book.Ticks
}

type refOrder struct {
	o      Order
	active bool
	ext    book.Ticks
}

func (r *refSet) find(id book.OrderID) int {
	return slices.IndexFunc(r.orders, func(x refOrder) bool { return x.o.ID == id })
}

func (r *refSet) add(o Order, now book.Ticks) Refusal {
	okShape := o.ID != 0 && (o.Side == book.Buy || o.Side == book.Sell) && o.Source < NumSources &&
		(o.Kind == Stop && o.Price > 0 && o.Callback == 0 ||
			o.Kind == Trailing && o.Price >= 0 && !o.TakeProfit && o.Callback >= 1 && o.Callback <= 100)
	if !okShape {
		return Invalid
	}
	if r.find(o.ID) >= 0 {
		return Duplicate
	}
	if now > 0 {
		var fires bool
		switch {
		case o.Kind == Stop && (o.Side == book.Buy) != o.TakeProfit: // rise
			fires = now >= o.Price
		case o.Kind == Stop:
			fires = now <= o.Price
		case o.Price == 0:
		case o.Side == book.Sell:
			fires = now >= o.Price
		default:
			fires = now <= o.Price
		}
		if fires {
			return WouldTrigger
		}
	}
	x := refOrder{o: o}
	if o.Kind == Trailing && o.Price == 0 && now > 0 {
		x.active, x.ext = true, now
	}
	r.orders = append(r.orders, x)
	return OK
}

func (r *refSet) remove(id book.OrderID) (Order, bool) {
	i := r.find(id)
	if i < 0 {
		return Order{}, false
	}
	o := r.orders[i].o
	r.orders = slices.Delete(r.orders, i, i+1)
	return o, true
}

func (r *refSet) extreme(id book.OrderID) book.Ticks {
	if i := r.find(id); i >= 0 && r.orders[i].active {
		return r.orders[i].ext
	}
	return 0
}

func (r *refSet) update(src Source, p book.Ticks) []Order {
	if src >= NumSources || p <= 0 {
		return nil
	}
	r.last[src] = p
	var rise, fall, trail []Order
	keep := r.orders[:0]
	var activate []int
	for _, x := range r.orders {
		o := x.o
		fired := false
		switch {
		case o.Source != src:
		case o.Kind == Stop && (o.Side == book.Buy) != o.TakeProfit:
			if p >= o.Price {
				rise, fired = append(rise, o), true
			}
		case o.Kind == Stop:
			if p <= o.Price {
				fall, fired = append(fall, o), true
			}
		case x.active && o.Side == book.Sell:
			x.ext = max(x.ext, p)
			if p*1000 <= x.ext*book.Ticks(1000-o.Callback) {
				trail, fired = append(trail, o), true
			}
		case x.active:
			x.ext = min(x.ext, p)
			if p*1000 >= x.ext*book.Ticks(1000+o.Callback) {
				trail, fired = append(trail, o), true
			}
		case o.Price == 0 || o.Side == book.Sell && p >= o.Price || o.Side == book.Buy && p <= o.Price:
			activate = append(activate, len(keep))
		}
		if !fired {
			keep = append(keep, x)
		}
	}
	r.orders = keep
	for _, i := range activate {
		r.orders[i].active, r.orders[i].ext = true, p
	}
	slices.SortFunc(rise, func(a, b Order) int { return cmp.Or(cmp.Compare(a.Price, b.Price), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(fall, func(a, b Order) int { return cmp.Or(cmp.Compare(b.Price, a.Price), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(trail, func(a, b Order) int { return cmp.Compare(a.ID, b.ID) })
	return append(append(rise, fall...), trail...)
}

// TestAgainstReference drives the set, the model and (from half way) a
// set decoded from a snapshot with the same random operations and demands
// the same answers, fires and fire order.
func TestAgainstReference(t *testing.T) {
	for _, p := range []profile{
		// Near triggers and small callbacks: orders fire soon after arming.
		{"tight", 300, []uint32{1, 2, 5, 10}, 40, 15},
		// Far triggers and wide callbacks: thousands accumulate, groups merge
		// and get cancelled from deep union-find trees.
		{"wide", 4000, []uint32{20, 50, 100}, 50, 12},
	} {
		for seed := range uint64(3) {
			t.Run(p.name, func(t *testing.T) { runReference(t, p, seed, 25_000) })
		}
	}
}

type profile struct {
	name      string
	spread    int      // how far from the price triggers and activations are
	callbacks []uint32 // the common callback rates
	addPct    int
	removePct int
}

func runReference(t *testing.T, p profile, seed uint64, ops int) {
	rng := rand.New(rand.NewPCG(seed, 0x7416))
	ref := &refSet{}
	sets := []*Set{New()}
	walk := [NumSources]book.Ticks{10000, 10000, 10000}
	var nextID book.OrderID
	var fired []Order
	fires, activations, maxHops := 0, 0, 0
	randID := func() book.OrderID {
		if len(ref.orders) > 0 && rng.IntN(4) != 0 {
			return ref.orders[rng.IntN(len(ref.orders))].o.ID
		}
		return book.OrderID(rng.Uint64N(uint64(nextID) + 2))
	}
	callback := func() uint32 {
		switch rng.IntN(50) {
		case 0:
			return uint32(rng.IntN(2) * 101) // invalid
		case 1, 2, 3, 4, 5:
			return 1 + rng.Uint32N(100)
		}
		return p.callbacks[rng.IntN(len(p.callbacks))]
	}
	for op := range ops {
		if op == ops/2 {
			snap := sets[0].AppendSnapshot(nil)
			d, rest, err := DecodeSnapshot(append(snap, 0xAB))
			if err != nil || !bytes.Equal(rest, []byte{0xAB}) {
				t.Fatalf("decode: %v, rest %x", err, rest)
			}
			if err := d.Check(); err != nil {
				t.Fatal(err)
			}
			if d.StateHash() != sets[0].StateHash() || !bytes.Equal(d.AppendSnapshot(nil), snap) {
				t.Fatal("decoded snapshot differs")
			}
			sets = append(sets, d)
		}
		switch k := rng.IntN(100); {
		case k < p.addPct: // add
			src := Source(rng.IntN(int(NumSources)))
			now := ref.last[src]
			switch rng.IntN(10) {
			case 0:
				now = 0
			case 1:
				now += book.Ticks(rng.IntN(201) - 100)
			}
			base := max(now, 100)
			o := Order{Side: book.Side(1 + rng.IntN(2)), Source: src}
			if rng.IntN(100) == 0 {
				o.Side = book.Side(rng.IntN(4))
			}
			if rng.IntN(2) == 0 {
				o.Kind, o.Callback = Trailing, callback()
				if rng.IntN(2) == 0 {
					o.Price = max(0, base+book.Ticks(rng.IntN(2*p.spread/3+1)-p.spread/3))
				}
			} else {
				o.TakeProfit = rng.IntN(2) == 0
				o.Price = max(1, base+book.Ticks(rng.IntN(2*p.spread+1)-p.spread))
			}
			switch rng.IntN(40) {
			case 0:
				o.ID = randID() // mostly a duplicate
			case 1:
				o.ID = 0
			default:
				nextID += book.OrderID(1 + rng.IntN(3))
				o.ID = nextID
			}
			want := ref.add(o, now)
			for _, s := range sets {
				if got := s.Add(o, now); got != want {
					t.Fatalf("seed %d op %d: Add(%+v, %d) = %v, want %v", seed, op, o, now, got, want)
				}
			}
		case k < p.addPct+p.removePct: // remove
			id := randID()
			wo, wok := ref.remove(id)
			for _, s := range sets {
				if o, ok := s.Remove(id); o != wo || ok != wok {
					t.Fatalf("seed %d op %d: Remove(%d) = %+v %v, want %+v %v", seed, op, id, o, ok, wo, wok)
				}
			}
		default: // update
			src := Source(rng.IntN(int(NumSources)))
			switch rng.IntN(50) {
			case 0:
				walk[src] += book.Ticks(rng.IntN(1001) - 500)
			case 1:
				walk[src] = book.Ticks(rng.IntN(3)) - 1 // ≤ 0 is ignored
			default:
				walk[src] += book.Ticks(rng.IntN(41) - 20)
			}
			if walk[src] < 1 && rng.IntN(2) == 0 {
				walk[src] = 10000
			}
			before := 0
			for _, x := range ref.orders {
				if !x.active {
					before++
				}
			}
			want := ref.update(src, walk[src])
			for _, x := range ref.orders {
				if !x.active {
					before--
				}
			}
			activations += before
			fires += len(want)
			for i, s := range sets {
				fired = s.Update(src, walk[src], fired[:0])
				if !slices.Equal(fired, want) {
					t.Fatalf("seed %d op %d set %d: Update(%v, %d) fired\n%v\nwant\n%v", seed, op, i, src, walk[src], fired, want)
				}
			}
		}
		for _, s := range sets {
			id := randID()
			if s.Len() != len(ref.orders) || s.Extreme(id) != ref.extreme(id) {
				t.Fatalf("seed %d op %d: Len %d Extreme(%d) %d, want %d %d", seed, op, s.Len(), id, s.Extreme(id), len(ref.orders), ref.extreme(id))
			}
			o, ok := s.Get(id)
			if i := ref.find(id); ok != (i >= 0) || ok && o != ref.orders[i].o {
				t.Fatalf("seed %d op %d: Get(%d) = %+v %v", seed, op, id, o, ok)
			}
			for src := range NumSources {
				if s.Price(src) != ref.last[src] {
					t.Fatalf("seed %d op %d: Price(%v) = %d, want %d", seed, op, src, s.Price(src), ref.last[src])
				}
			}
		}
		if op%200 == 0 {
			for i := 1; i < len(sets[0].nodes); i++ {
				if n := &sets[0].nodes[i]; n.state == active {
					hops := 0
					for g := n.grp; sets[0].groups[g].parent != g; g = sets[0].groups[g].parent {
						hops++
					}
					maxHops = max(maxHops, hops)
				}
			}
			for _, s := range sets {
				if err := s.Check(); err != nil {
					t.Fatalf("seed %d op %d: %v", seed, op, err)
				}
			}
			if len(sets) == 2 && sets[0].StateHash() != sets[1].StateHash() {
				t.Fatalf("seed %d op %d: hashes differ", seed, op)
			}
		}
	}
	for _, s := range sets {
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(sets[0].AppendSnapshot(nil), sets[1].AppendSnapshot(nil)) {
		t.Fatal("snapshots differ at the end")
	}
	t.Logf("%s seed %d: %d fired, %d activations, %d armed at the end, %d group records, union-find depth up to %d", p.name, seed, fires, activations, len(ref.orders), len(sets[0].groups)-1, maxHops)
}
