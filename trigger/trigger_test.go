package trigger

import (
	"math"
	"math/big"
	"slices"
	"testing"

	"github.com/perpx/perpx/book"
)

func mustAdd(t *testing.T, s *Set, o Order, now book.Ticks) {
	t.Helper()
	if r := s.Add(o, now); r != OK {
		t.Fatalf("Add(%+v, %d) = %v", o, now, r)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func ids(os []Order) []book.OrderID {
	out := make([]book.OrderID, len(os))
	for i, o := range os {
		out[i] = o.ID
	}
	return out
}

func update(t *testing.T, s *Set, src Source, p book.Ticks) []book.OrderID {
	t.Helper()
	f := s.Update(src, p, nil)
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if s.Price(src) != p {
		t.Fatalf("Price(%v) = %d after Update %d", src, s.Price(src), p)
	}
	return ids(f)
}

func TestFireDir(t *testing.T) {
	for _, c := range []struct {
		side book.Side
		kind Kind
		tp   bool
		fire Dir
	}{
		{book.Buy, Stop, false, Rise},
		{book.Sell, Stop, false, Fall},
		{book.Buy, Stop, true, Fall},
		{book.Sell, Stop, true, Rise},
		{book.Buy, Trailing, false, Rise},
		{book.Sell, Trailing, false, Fall},
	} {
		o := Order{Side: c.side, Kind: c.kind, TakeProfit: c.tp}
		if o.FireDir() != c.fire || o.ActivationDir() == c.fire {
			t.Errorf("%+v: FireDir %v ActivationDir %v, want fire %v", o, o.FireDir(), o.ActivationDir(), c.fire)
		}
	}
}

// Every stop direction on every source fires at its trigger price, equality
// included, not a tick before, and only on its own source.
func TestStopsFireAtTrigger(t *testing.T) {
	for src := range NumSources {
		for _, side := range []book.Side{book.Buy, book.Sell} {
			for _, tp := range []bool{false, true} {
				o := Order{ID: 7, Side: side, TakeProfit: tp, Source: src, Price: 1000}
				rise := o.FireDir() == Rise
				step := book.Ticks(1)
				if !rise {
					step = -1
				}
				t.Run(src.String()+"/"+side.String()+map[bool]string{true: "/tp", false: ""}[tp], func(t *testing.T) {
					s := New()
					if !s.WouldTrigger(o, 1000) || !s.WouldTrigger(o, 1000+step) || s.WouldTrigger(o, 1000-step) || s.WouldTrigger(o, 0) {
						t.Fatal("WouldTrigger wrong around the trigger")
					}
					if r := s.Add(o, 1000); r != WouldTrigger || s.Len() != 0 {
						t.Fatalf("Add at the trigger = %v, Len %d", r, s.Len())
					}
					mustAdd(t, s, o, 1000-5*step)
					for other := range NumSources {
						if other != src {
							if f := update(t, s, other, 1000+5*step); len(f) != 0 {
								t.Fatalf("fired %v on %v", f, other)
							}
						}
					}
					if f := update(t, s, src, 1000-step); len(f) != 0 {
						t.Fatalf("fired %v a tick before the trigger", f)
					}
					if f := update(t, s, src, 1000); !slices.Equal(f, []book.OrderID{7}) {
						t.Fatalf("at the trigger fired %v", f)
					}
					if s.Len() != 0 {
						t.Fatal("fired order still armed")
					}
					if _, ok := s.Get(7); ok {
						t.Fatal("Get finds a fired order")
					}
				})
			}
		}
	}
}

func TestStopFiresBeyondTrigger(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Sell, Price: 900}, 1000)
	if f := update(t, s, Mark, 500); !slices.Equal(f, []book.OrderID{1}) {
		t.Fatalf("gap through the trigger fired %v", f)
	}
}

func TestRefusals(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Buy, Price: 1100}, 1000)
	for _, c := range []struct {
		o    Order
		now  book.Ticks
		want Refusal
	}{
		{Order{ID: 1, Side: book.Buy, Price: 1200}, 1000, Duplicate},
		{Order{ID: 1, Side: book.Buy, Price: 900}, 1000, Duplicate},
		{Order{ID: 0, Side: book.Buy, Price: 1200}, 1000, Invalid},
		{Order{ID: 2, Side: 0, Price: 1200}, 1000, Invalid},
		{Order{ID: 2, Side: 3, Price: 1200}, 1000, Invalid},
		{Order{ID: 2, Side: book.Buy, Source: NumSources, Price: 1200}, 1000, Invalid},
		{Order{ID: 2, Side: book.Buy, Kind: 2, Price: 1200}, 1000, Invalid},
		{Order{ID: 2, Side: book.Buy, Price: 0}, 1000, Invalid},
		{Order{ID: 2, Side: book.Buy, Price: -5}, 1000, Invalid},
		{Order{ID: 2, Side: book.Buy, Price: 1200, Callback: 1}, 1000, Invalid},
		{Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 0}, 1000, Invalid},
		{Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 101}, 1000, Invalid},
		{Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 10, Price: -1}, 1000, Invalid},
		{Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 10, TakeProfit: true}, 1000, Invalid},
		{Order{ID: 2, Side: book.Buy, Price: 1000}, 1000, WouldTrigger},
		{Order{ID: 2, Side: book.Sell, Price: 1001}, 1000, WouldTrigger},
		{Order{ID: 2, Side: book.Buy, TakeProfit: true, Price: 1000}, 1000, WouldTrigger},
		{Order{ID: 2, Side: book.Sell, TakeProfit: true, Price: 999}, 1000, WouldTrigger},
		{Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 10, Price: 1000}, 1000, WouldTrigger},
		{Order{ID: 2, Side: book.Buy, Kind: Trailing, Callback: 10, Price: 1000}, 1000, WouldTrigger},
		{Order{ID: 2, Side: book.Buy, Kind: Trailing, Callback: 10, Price: 1001}, 1000, WouldTrigger},
		// Without a price nothing would trigger.
		{Order{ID: 2, Side: book.Buy, Price: 1}, 0, OK},
		{Order{ID: 3, Side: book.Sell, Kind: Trailing, Callback: 100, Price: 1}, 0, OK},
		{Order{ID: 4, Side: book.Buy, Kind: Trailing, Callback: 1, Price: 999}, 1000, OK},
	} {
		before := s.StateHash()
		if got := s.Add(c.o, c.now); got != c.want {
			t.Errorf("Add(%+v, %d) = %v, want %v", c.o, c.now, got, c.want)
		}
		if c.want != OK && s.StateHash() != before {
			t.Errorf("refused Add(%+v) changed the set", c.o)
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
	}
	if o, ok := s.Get(1); !ok || o.Price != 1100 {
		t.Fatalf("Get(1) = %+v %v", o, ok)
	}
	if f := s.Update(Mark, 0, nil); len(f) != 0 || s.Price(Mark) != 0 {
		t.Fatal("Update with price 0 did something")
	}
	if f := s.Update(NumSources, 5000, nil); len(f) != 0 || s.Price(NumSources) != 0 {
		t.Fatal("Update of a bad source did something")
	}
}

func TestFireOrder(t *testing.T) {
	s := New()
	// Rise fixed stops at 1010, 1020 (two), then Fall ones at 1005 (two) and
	// 990, and trailing stops; ids chosen so id order differs from price order.
	for _, o := range []Order{
		{ID: 9, Side: book.Buy, Price: 1020},
		{ID: 3, Side: book.Buy, Price: 1020},
		{ID: 8, Side: book.Sell, TakeProfit: true, Price: 1010},
		{ID: 2, Side: book.Buy, Price: 1030}, // does not fire
	} {
		mustAdd(t, s, o, 1000)
	}
	for _, o := range []Order{
		{ID: 6, Side: book.Sell, Price: 990},
		{ID: 7, Side: book.Buy, TakeProfit: true, Price: 1025},
		{ID: 5, Side: book.Sell, Price: 1025},
		{ID: 4, Side: book.Sell, Price: 1021}, // does not fire
	} {
		mustAdd(t, s, o, 1030)
	}
	// Troughs at 1000: 1 %, 3 % and 5 % fire at 1022, 10 % does not.
	for _, o := range []Order{
		{ID: 20, Side: book.Buy, Kind: Trailing, Callback: 5},
		{ID: 10, Side: book.Buy, Kind: Trailing, Callback: 1},
		{ID: 15, Side: book.Buy, Kind: Trailing, Callback: 3},
		{ID: 11, Side: book.Buy, Kind: Trailing, Callback: 100},
	} {
		mustAdd(t, s, o, 1000)
	}
	// The fixed ones armed at 1000 rise-fire, the others at 1030 fall-fire:
	// a caller gave inconsistent prices, but the order rule still holds.
	got := update(t, s, Mark, 1022)
	want := []book.OrderID{8, 3, 9, 5, 7, 10, 15, 20}
	if !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
}

func TestTrailingSellCallbackBoundary(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Sell, Kind: Trailing, Callback: 10}, 10000)
	if s.Extreme(1) != 10000 {
		t.Fatalf("Extreme %d, want 10000", s.Extreme(1))
	}
	if f := update(t, s, Mark, 9901); len(f) != 0 {
		t.Fatalf("fired at 9901: %v", f)
	}
	if f := update(t, s, Mark, 9900); !slices.Equal(f, []book.OrderID{1}) {
		t.Fatalf("at 9900 fired %v", f)
	}
	if s.Extreme(1) != 0 {
		t.Fatal("Extreme of a fired stop")
	}
}

func TestTrailingBuyCallbackBoundary(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Buy, Kind: Trailing, Callback: 10}, 10000)
	if f := update(t, s, Mark, 10099); len(f) != 0 {
		t.Fatalf("fired at 10099: %v", f)
	}
	if f := update(t, s, Mark, 10100); !slices.Equal(f, []book.OrderID{1}) {
		t.Fatalf("at 10100 fired %v", f)
	}
}

func TestTrailingFollowsExtreme(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Sell, Kind: Trailing, Callback: 10}, 10000)
	mustAdd(t, s, Order{ID: 2, Side: book.Buy, Kind: Trailing, Callback: 10}, 10000)
	steps := []struct {
		p      book.Ticks
		peak   book.Ticks
		trough book.Ticks
		fired  []book.OrderID
	}{
		{10050, 10050, 10000, nil},
		{9950, 10050, 9950, nil},
		{10000, 10050, 9950, nil},
		{10049, 10050, 9950, nil}, // 9950·1.01 = 10049.5
		{10050, 10050, 0, []book.OrderID{2}},
	}
	for _, st := range steps {
		got := update(t, s, Mark, st.p)
		if !slices.Equal(got, st.fired) || s.Extreme(1) != st.peak || s.Extreme(2) != st.trough {
			t.Fatalf("at %d fired %v peak %d trough %d, want %v %d %d", st.p, got, s.Extreme(1), s.Extreme(2), st.fired, st.peak, st.trough)
		}
	}
	// 10050·0.99 = 9949.5: 9950 holds, 9949 fires.
	if f := update(t, s, Mark, 9950); len(f) != 0 {
		t.Fatalf("fired %v at 9950", f)
	}
	if f := update(t, s, Mark, 9949); !slices.Equal(f, []book.OrderID{1}) {
		t.Fatalf("at 9949 fired %v", f)
	}
}

func TestTrailingActivation(t *testing.T) {
	for _, c := range []struct {
		side   book.Side
		act    book.Ticks
		path   []book.Ticks // before activation, none activates
		at     book.Ticks   // activates
		moveTo book.Ticks   // new extreme
		hold   book.Ticks   // does not fire
		fire   book.Ticks
	}{
		// Sell 1 %: activates at ≥ 10500, peak 10600: 10600·0.99 = 10494.
		{book.Sell, 10500, []book.Ticks{10400, 10499, 9000}, 10500, 10600, 10495, 10494},
		// Buy 1 %: activates at ≤ 9500, trough 9400: 9400·1.01 = 9494.
		{book.Buy, 9500, []book.Ticks{9600, 9501, 11000}, 9500, 9400, 9493, 9494},
	} {
		s := New()
		mustAdd(t, s, Order{ID: 1, Side: c.side, Kind: Trailing, Callback: 10, Price: c.act}, 10000)
		for _, p := range c.path {
			if f := update(t, s, Mark, p); len(f) != 0 || s.Extreme(1) != 0 {
				t.Fatalf("%v: at %d fired %v, extreme %d", c.side, p, f, s.Extreme(1))
			}
		}
		if f := update(t, s, Mark, c.at); len(f) != 0 || s.Extreme(1) != c.at {
			t.Fatalf("%v: activation at %d fired %v, extreme %d", c.side, c.at, f, s.Extreme(1))
		}
		if f := update(t, s, Mark, c.moveTo); len(f) != 0 || s.Extreme(1) != c.moveTo {
			t.Fatalf("%v: at %d fired %v, extreme %d", c.side, c.moveTo, f, s.Extreme(1))
		}
		if f := update(t, s, Mark, c.hold); len(f) != 0 {
			t.Fatalf("%v: fired at %d", c.side, c.hold)
		}
		if f := update(t, s, Mark, c.fire); !slices.Equal(f, []book.OrderID{1}) {
			t.Fatalf("%v: at %d fired %v", c.side, c.fire, f)
		}
	}
}

// An activation price far away that a gap jumps past activates at the
// gap's price, and the stop does not fire on the price that activates it.
func TestTrailingActivatesOnGapWithoutFiring(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Sell, Kind: Trailing, Callback: 1, Price: 10100}, 10000)
	mustAdd(t, s, Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 1}, 10000)
	if f := update(t, s, Mark, 20000); len(f) != 0 || s.Extreme(1) != 20000 || s.Extreme(2) != 20000 {
		t.Fatalf("fired %v, extremes %d %d", f, s.Extreme(1), s.Extreme(2))
	}
	if f := update(t, s, Mark, 19980); !slices.Equal(f, []book.OrderID{1, 2}) {
		t.Fatalf("fired %v", f)
	}
}

func TestTrailingWithoutPriceActivatesAtFirstPrice(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Buy, Kind: Trailing, Callback: 50, Source: Index}, 0)
	mustAdd(t, s, Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 50, Source: Index}, 0)
	if s.Extreme(1) != 0 || s.Extreme(2) != 0 {
		t.Fatal("active before any price")
	}
	update(t, s, Mark, 5000)
	if s.Extreme(1) != 0 {
		t.Fatal("activated by another source")
	}
	update(t, s, Index, 1000)
	if s.Extreme(1) != 1000 || s.Extreme(2) != 1000 {
		t.Fatalf("extremes %d %d after the first price", s.Extreme(1), s.Extreme(2))
	}
	if f := update(t, s, Index, 1050); !slices.Equal(f, []book.OrderID{1}) {
		t.Fatalf("fired %v", f)
	}
	if f := update(t, s, Index, 997); !slices.Equal(f, []book.OrderID{2}) {
		t.Fatalf("fired %v", f)
	}
}

func TestRemoveBeforeFireNeverFires(t *testing.T) {
	s := New()
	var armed []Order
	for i := range 30 {
		id := book.OrderID(i + 1)
		var o Order
		switch i % 3 {
		case 0:
			o = Order{ID: id, Side: book.Sell, Price: 990}
		case 1:
			o = Order{ID: id, Side: book.Sell, Kind: Trailing, Callback: uint32(1 + i%2)}
		case 2:
			o = Order{ID: id, Side: book.Sell, Kind: Trailing, Callback: 1, Price: 1005}
		}
		mustAdd(t, s, o, 1000)
		armed = append(armed, o)
		update(t, s, Mark, 1000+book.Ticks(i)) // spreads extremes over groups
	}
	for i, o := range armed {
		if i%2 == 0 {
			if got, ok := s.Remove(o.ID); !ok || got != o {
				t.Fatalf("Remove(%d) = %+v %v", o.ID, got, ok)
			}
			if _, ok := s.Remove(o.ID); ok {
				t.Fatal("removed twice")
			}
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
		}
	}
	f := update(t, s, Mark, 1)
	for _, id := range f {
		if id%2 == 1 {
			t.Fatalf("removed order %d fired", id)
		}
	}
	if len(f) != 15 || s.Len() != 0 {
		t.Fatalf("fired %d of 15, %d left", len(f), s.Len())
	}
}

func TestExtremeOfOtherOrders(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Sell, Price: 900}, 1000)
	mustAdd(t, s, Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 5, Price: 1100}, 1000)
	if s.Extreme(1) != 0 || s.Extreme(2) != 0 || s.Extreme(3) != 0 {
		t.Fatal("Extreme of a stop, a pending trailing stop or an unknown id is not 0")
	}
}

// The callback comparison is exact for prices up to int64's range.
func TestTrailingHugePrices(t *testing.T) {
	ref := func(side book.Side, cb uint32, ext, p book.Ticks) bool {
		x := new(big.Int).Mul(big.NewInt(int64(p)), big.NewInt(1000))
		if side == book.Sell {
			y := new(big.Int).Mul(big.NewInt(int64(ext)), big.NewInt(int64(1000-cb)))
			return x.Cmp(y) <= 0
		}
		y := new(big.Int).Mul(big.NewInt(int64(ext)), big.NewInt(int64(1000+cb)))
		return x.Cmp(y) >= 0
	}
	const m = math.MaxInt64
	for _, ext := range []book.Ticks{1, 1000, 1 << 40, 1 << 53, m / 1000, m / 1001 * 1000, m - 1, m} {
		for _, cb := range []uint32{1, 10, 100} {
			for _, side := range []book.Side{book.Buy, book.Sell} {
				for _, p := range []book.Ticks{1, ext / 2, ext - ext/1000*book.Ticks(cb), ext - 1, ext, ext + 1, ext + ext/1000*book.Ticks(cb), m / 999, m} {
					if p <= 0 {
						continue
					}
					if got, want := trailFires(side, cb, ext, p), ref(side, cb, ext, p); got != want {
						t.Errorf("%v cb %d ext %d p %d: %v, want %v", side, cb, ext, p, got, want)
					}
				}
			}
		}
	}
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Sell, Kind: Trailing, Callback: 100}, m)
	thr := book.Ticks(new(big.Int).Div(new(big.Int).Mul(big.NewInt(m), big.NewInt(900)), big.NewInt(1000)).Int64())
	if f := update(t, s, Mark, thr+1); len(f) != 0 {
		t.Fatal("fired above 90 % of MaxInt64")
	}
	if f := update(t, s, Mark, thr); len(f) != 1 {
		t.Fatal("did not fire at 90 % of MaxInt64")
	}
}

// Adding a trailing stop with an extreme beyond the bucket's recent end
// (the caller's now differs from the last Update) keeps the deque ordered.
func TestTrailingJoinOutOfOrder(t *testing.T) {
	s := New()
	mustAdd(t, s, Order{ID: 1, Side: book.Sell, Kind: Trailing, Callback: 10}, 10000)
	update(t, s, Mark, 10100)
	mustAdd(t, s, Order{ID: 2, Side: book.Sell, Kind: Trailing, Callback: 10}, 10050)
	mustAdd(t, s, Order{ID: 3, Side: book.Sell, Kind: Trailing, Callback: 10}, 10200)
	mustAdd(t, s, Order{ID: 4, Side: book.Sell, Kind: Trailing, Callback: 10}, 10100)
	if s.Extreme(2) != 10050 || s.Extreme(3) != 10200 || s.Extreme(4) != 10100 || s.Extreme(1) != 10100 {
		t.Fatal("extremes wrong")
	}
	// 10200·0.99 = 10098, 10100·0.99 = 9999, 10050·0.99 = 9949.5.
	if f := update(t, s, Mark, 10098); !slices.Equal(f, []book.OrderID{3}) {
		t.Fatalf("fired %v", f)
	}
	if f := update(t, s, Mark, 9999); !slices.Equal(f, []book.OrderID{1, 4}) {
		t.Fatalf("fired %v", f)
	}
	if f := update(t, s, Mark, 9949); !slices.Equal(f, []book.OrderID{2}) {
		t.Fatalf("fired %v", f)
	}
}
