package book

import (
	"errors"
	"math"
	"slices"
	"testing"
)

const (
	alice AccountID = 1
	bob   AccountID = 2
	carol AccountID = 3
)

func buy(id OrderID, acct AccountID, price Ticks, qty Lots) Order {
	return Order{ID: id, Account: acct, Side: Buy, Price: price, Qty: qty}
}

func sell(id OrderID, acct AccountID, price Ticks, qty Lots) Order {
	return Order{ID: id, Account: acct, Side: Sell, Price: price, Qty: qty}
}

func (o Order) with(f func(*Order)) Order { f(&o); return o }

func ioc(o *Order)    { o.TIF = IOC }
func fok(o *Order)    { o.TIF = FOK }
func market(o *Order) { o.Type, o.TIF = Market, IOC }
func post(o *Order)   { o.PostOnly = true }

// bookWith places the orders and fails the test on any rejection.
func bookWith(t *testing.T, orders ...Order) *Book {
	t.Helper()
	b := New()
	for _, o := range orders {
		if r := place(t, b, o); r.Code != OK {
			t.Fatalf("setup order %d rejected: %v", o.ID, r.Code)
		}
	}
	return b
}

// place runs Place, checks the invariants, and returns a fresh Result.
func place(t *testing.T, b *Book, o Order) Result {
	t.Helper()
	var r Result
	b.Place(o, &r)
	mustValid(t, b)
	return r
}

func mustValid(t *testing.T, b *Book) {
	t.Helper()
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
}

func depth(t *testing.T, b *Book) (bids, asks []Level) {
	t.Helper()
	return b.Depth(0, nil, nil)
}

func fill(maker, taker OrderID, makerAcct, takerAcct AccountID, price Ticks, qty Lots, side Side, left Lots) Fill {
	return Fill{MakerID: maker, TakerID: taker, MakerAccount: makerAcct, TakerAccount: takerAcct,
		Price: price, Qty: qty, TakerSide: side, MakerRemaining: left}
}

func TestPlaceOutcomes(t *testing.T) {
	// Asks: 100 x3 (alice #1), 101 x2 (alice #2), 103 x5 (bob #3). Bid: 98 x4 (bob #4).
	book := func(t *testing.T) *Book {
		return bookWith(t, sell(1, alice, 100, 3), sell(2, alice, 101, 2), sell(3, bob, 103, 5), buy(4, bob, 98, 4))
	}
	tests := []struct {
		name      string
		o         Order
		status    Status
		filled    Lots
		remaining Lots
		fills     []Fill
		depth     []DepthChange
	}{
		{"GTC rests without crossing", buy(10, carol, 99, 2), StatusNew, 0, 2, nil,
			[]DepthChange{{Buy, 99, 2}}},
		{"GTC joins an existing level", buy(10, carol, 98, 2), StatusNew, 0, 2, nil,
			[]DepthChange{{Buy, 98, 6}}},
		{"GTC partial fill of the maker", buy(10, carol, 100, 2), StatusFilled, 2, 0,
			[]Fill{fill(1, 10, alice, carol, 100, 2, Buy, 1)}, []DepthChange{{Sell, 100, 1}}},
		{"GTC takes a level then rests the rest", buy(10, carol, 100, 5), StatusPartiallyFilled, 3, 2,
			[]Fill{fill(1, 10, alice, carol, 100, 3, Buy, 0)}, []DepthChange{{Sell, 100, 0}, {Buy, 100, 2}}},
		{"sweep several levels at the makers' prices", buy(10, carol, 103, 7), StatusFilled, 7, 0,
			[]Fill{fill(1, 10, alice, carol, 100, 3, Buy, 0), fill(2, 10, alice, carol, 101, 2, Buy, 0),
				fill(3, 10, bob, carol, 103, 2, Buy, 3)},
			[]DepthChange{{Sell, 100, 0}, {Sell, 101, 0}, {Sell, 103, 3}}},
		{"sell sweeps the bid", sell(10, carol, 97, 6), StatusPartiallyFilled, 4, 2,
			[]Fill{fill(4, 10, bob, carol, 98, 4, Sell, 0)}, []DepthChange{{Buy, 98, 0}, {Sell, 97, 2}}},
		{"IOC partly filled is canceled", buy(10, carol, 100, 5).with(ioc), StatusCanceled, 3, 0,
			[]Fill{fill(1, 10, alice, carol, 100, 3, Buy, 0)}, []DepthChange{{Sell, 100, 0}}},
		{"IOC that cannot trade expires", buy(10, carol, 99, 5).with(ioc), StatusExpired, 0, 0, nil, nil},
		{"FOK fills completely across levels", buy(10, carol, 101, 5).with(fok), StatusFilled, 5, 0,
			[]Fill{fill(1, 10, alice, carol, 100, 3, Buy, 0), fill(2, 10, alice, carol, 101, 2, Buy, 0)},
			[]DepthChange{{Sell, 100, 0}, {Sell, 101, 0}}},
		{"market stops at its protection bound", buy(10, carol, 101, 9).with(market), StatusCanceled, 5, 0,
			[]Fill{fill(1, 10, alice, carol, 100, 3, Buy, 0), fill(2, 10, alice, carol, 101, 2, Buy, 0)},
			[]DepthChange{{Sell, 100, 0}, {Sell, 101, 0}}},
		{"market beyond the best is filled", sell(10, carol, 1, 4).with(market), StatusFilled, 4, 0,
			[]Fill{fill(4, 10, bob, carol, 98, 4, Sell, 0)}, []DepthChange{{Buy, 98, 0}}},
		{"market with a bound short of the book expires", buy(10, carol, 99, 1).with(market), StatusExpired, 0, 0, nil, nil},
		{"post-only that does not cross rests", buy(10, carol, 99, 1).with(post), StatusNew, 0, 1, nil,
			[]DepthChange{{Buy, 99, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := book(t)
			r := place(t, b, tc.o)
			if r.Code != OK || r.Status != tc.status || r.Filled != tc.filled || r.Remaining != tc.remaining {
				t.Fatalf("got %v/%v filled %d remaining %d, want OK/%v filled %d remaining %d",
					r.Code, r.Status, r.Filled, r.Remaining, tc.status, tc.filled, tc.remaining)
			}
			if !slices.Equal(r.Fills, tc.fills) {
				t.Errorf("fills\n got %+v\nwant %+v", r.Fills, tc.fills)
			}
			if !slices.Equal(r.Depth, tc.depth) {
				t.Errorf("depth changes %+v, want %+v", r.Depth, tc.depth)
			}
			if n := len(tc.fills); n > 0 && b.LastPrice() != tc.fills[n-1].Price {
				t.Errorf("last price %d, want %d", b.LastPrice(), tc.fills[n-1].Price)
			}
			o, ok := b.Order(tc.o.ID)
			if ok != (tc.remaining > 0) || o.Remaining != tc.remaining || (ok && o.Filled != tc.filled) {
				t.Errorf("Order(%d) = %+v, %v; want remaining %d", tc.o.ID, o, ok, tc.remaining)
			}
		})
	}
}

func TestFIFOWithinLevel(t *testing.T) {
	b := bookWith(t, sell(1, alice, 100, 2), sell(2, bob, 100, 2), sell(3, alice, 100, 2), sell(4, bob, 99, 1))
	r := place(t, b, buy(10, carol, 100, 4))
	want := []Fill{fill(4, 10, bob, carol, 99, 1, Buy, 0), fill(1, 10, alice, carol, 100, 2, Buy, 0),
		fill(2, 10, bob, carol, 100, 1, Buy, 1)}
	if !slices.Equal(r.Fills, want) {
		t.Fatalf("fills %+v, want better price first then time priority %+v", r.Fills, want)
	}
	_, asks := depth(t, b)
	if !slices.Equal(asks, []Level{{100, 3, 2}}) {
		t.Fatalf("asks %v", asks)
	}
}

func TestFOKAllOrNothing(t *testing.T) {
	b := bookWith(t, sell(1, alice, 100, 3), sell(2, bob, 101, 2))
	before := b.StateHash()
	for _, o := range []Order{
		buy(10, carol, 101, 6).with(fok),                // more than the book holds
		buy(10, carol, 100, 4).with(fok),                // enough only beyond the limit
		buy(10, alice, 101, 3).with(fok),                // alice's own 3 lots do not count
		sell(10, carol, 90, 1).with(fok),                // nothing on the bid side
		buy(10, carol, 101, 6).with(market).with(fok),   // market FOK is all or nothing too
		buy(10, alice, 101, 2).with(fok).with(stpTaker), // cancel-taker STP stops at alice's own order
	} {
		r := place(t, b, o)
		if r.Code != RejectFOKNotFilled || r.Status != StatusRejected || len(r.Fills)+len(r.Depth)+len(r.Canceled) != 0 {
			t.Errorf("%+v: got %v/%v %+v", o, r.Code, r.Status, r)
		}
		if b.StateHash() != before {
			t.Fatalf("%+v: a rejected FOK changed the book", o)
		}
	}
	// Without STP, bob's FOK counts his own order as liquidity.
	c := bookWith(t, sell(1, alice, 100, 2), sell(2, bob, 100, 2))
	if r := place(t, c, buy(12, bob, 100, 4).with(fok).with(func(o *Order) { o.STP = STPNone })); r.Status != StatusFilled ||
		len(r.Fills) != 2 || r.Fills[1].MakerAccount != bob {
		t.Fatalf("FOK with STP none: %+v", r)
	}
	// With cancel-maker STP, bob's FOK may cancel his own order and still fill from alice.
	r := place(t, b, buy(11, bob, 101, 3).with(fok))
	if r.Status != StatusFilled || len(r.Canceled) != 0 || r.Fills[0].MakerID != 1 {
		t.Fatalf("FOK within reach: %+v", r)
	}
}

func stpTaker(o *Order) { o.STP = STPCancelTaker }

func TestSelfTradePrevention(t *testing.T) {
	// Asks at 100: alice #1 x2, bob #2 x2 (alice's own order first in the queue), alice #3 x2 at 101.
	tests := []struct {
		mode      STPMode
		status    Status
		fills     []Fill
		canceled  []OrderID
		remaining Lots
		asks      []Level
	}{
		{STPCancelMaker, StatusFilled, []Fill{fill(2, 10, bob, alice, 100, 2, Buy, 0)}, []OrderID{1},
			0, []Level{{101, 2, 1}}},
		{STPCancelTaker, StatusCanceled, nil, nil, 0, []Level{{100, 4, 2}, {101, 2, 1}}},
		{STPCancelBoth, StatusCanceled, nil, []OrderID{1}, 0, []Level{{100, 2, 1}, {101, 2, 1}}},
		// None: alice trades with her own order like with anyone's.
		{STPNone, StatusFilled, []Fill{fill(1, 10, alice, alice, 100, 2, Buy, 0)}, nil, 0,
			[]Level{{100, 2, 1}, {101, 2, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			b := bookWith(t, sell(1, alice, 100, 2), sell(2, bob, 100, 2), sell(3, alice, 101, 2))
			r := place(t, b, buy(10, alice, 101, 2).with(func(o *Order) { o.STP = tc.mode }))
			var canceled []OrderID
			for _, c := range r.Canceled {
				canceled = append(canceled, c.ID)
			}
			_, asks := depth(t, b)
			killed := tc.mode == STPCancelTaker || tc.mode == STPCancelBoth
			if r.Status != tc.status || !slices.Equal(r.Fills, tc.fills) || !slices.Equal(canceled, tc.canceled) ||
				r.Remaining != tc.remaining || !slices.Equal(asks, tc.asks) || r.STPKilled != killed {
				t.Fatalf("status %v fills %+v canceled %v asks %v; want %v %+v %v %v",
					r.Status, r.Fills, canceled, asks, tc.status, tc.fills, tc.canceled, tc.asks)
			}
		})
	}
	t.Run("canceled maker is reported whole", func(t *testing.T) {
		b := bookWith(t, sell(1, alice, 100, 5), buy(2, bob, 100, 2))
		r := place(t, b, buy(3, alice, 100, 1))
		want := []CanceledOrder{{ID: 1, Account: alice, Side: Sell, Price: 100, Remaining: 3, Filled: 2}}
		if !slices.Equal(r.Canceled, want) || r.Status != StatusNew {
			t.Fatalf("canceled %+v status %v, want %+v and the taker resting", r.Canceled, r.Status, want)
		}
	})
}

func TestPostOnly(t *testing.T) {
	b := bookWith(t, sell(1, alice, 100, 1), buy(2, alice, 98, 1))
	before := b.StateHash()
	for _, o := range []Order{buy(10, bob, 100, 1).with(post), sell(10, bob, 98, 1).with(post)} {
		if r := place(t, b, o); r.Code != RejectPostOnlyWouldTake || r.Status != StatusRejected {
			t.Errorf("%+v: %v/%v", o, r.Code, r.Status)
		}
	}
	if b.StateHash() != before {
		t.Fatal("rejected post-only changed the book")
	}
}

func TestRejects(t *testing.T) {
	b := bookWith(t, sell(1, alice, 100, 1))
	before := b.StateHash()
	tests := []struct {
		name string
		o    Order
		code RejectCode
	}{
		{"zero id", buy(0, bob, 99, 1), RejectBadRequest},
		{"no side", buy(10, bob, 99, 1).with(func(o *Order) { o.Side = 0 }), RejectBadRequest},
		{"unknown type", buy(10, bob, 99, 1).with(func(o *Order) { o.Type = 2 }), RejectBadRequest},
		{"unknown tif", buy(10, bob, 99, 1).with(func(o *Order) { o.TIF = 3 }), RejectBadRequest},
		{"unknown stp", buy(10, bob, 99, 1).with(func(o *Order) { o.STP = STPNone + 1 }), RejectBadRequest},
		{"post-only IOC", buy(10, bob, 99, 1).with(post).with(ioc), RejectBadRequest},
		{"post-only market", buy(10, bob, 99, 1).with(market).with(post), RejectBadRequest},
		{"market without bound", buy(10, bob, 0, 1).with(market), RejectBadRequest},
		{"zero price", buy(10, bob, 0, 1), RejectInvalidPrice},
		{"negative price", sell(10, bob, -5, 1), RejectInvalidPrice},
		{"negative market bound", sell(10, bob, -5, 1).with(market), RejectInvalidPrice},
		{"zero qty", buy(10, bob, 99, 0), RejectInvalidQty},
		{"negative qty", buy(10, bob, 99, -1), RejectInvalidQty},
		{"level total would overflow", sell(10, bob, 100, math.MaxInt64), RejectInvalidQty},
		{"duplicate id", buy(1, bob, 99, 1), RejectDuplicateOrderID},
	}
	for _, tc := range tests {
		r := place(t, b, tc.o)
		if r.Code != tc.code || r.Status != StatusRejected {
			t.Errorf("%s: %v/%v, want %v", tc.name, r.Code, r.Status, tc.code)
		}
		if b.StateHash() != before {
			t.Fatalf("%s: a rejected order changed the book", tc.name)
		}
	}
	// MaxInt64 lots are fine on an empty level.
	if r := place(t, b, sell(10, bob, 105, math.MaxInt64)); r.Code != OK {
		t.Fatalf("max qty on an empty level: %v", r.Code)
	}
}

func TestAmend(t *testing.T) {
	// Bids at 100: alice #1 x5, bob #2 x5. Ask 103 x2 (carol #3).
	setup := func(t *testing.T) *Book {
		return bookWith(t, buy(1, alice, 100, 5), buy(2, bob, 100, 5), sell(3, carol, 103, 2))
	}
	firstAt100 := func(t *testing.T, b *Book) OrderID {
		r := place(t, b, sell(99, carol, 100, 1))
		return r.Fills[0].MakerID
	}
	t.Run("qty down keeps priority", func(t *testing.T) {
		b := setup(t)
		var r Result
		b.Amend(1, 100, 3, &r)
		mustValid(t, b)
		if r.Code != OK || r.Status != StatusNew || r.Remaining != 3 || !slices.Equal(r.Depth, []DepthChange{{Buy, 100, 8}}) {
			t.Fatalf("%+v", r)
		}
		if o, _ := b.Order(1); o.Qty != 3 || o.Remaining != 3 {
			t.Fatalf("order after amend %+v", o)
		}
		if id := firstAt100(t, b); id != 1 {
			t.Fatalf("order %d traded first, want 1", id)
		}
	})
	t.Run("qty up loses priority", func(t *testing.T) {
		b := setup(t)
		var r Result
		b.Amend(1, 100, 6, &r)
		mustValid(t, b)
		if r.Code != OK || r.Remaining != 6 || !slices.Equal(r.Depth, []DepthChange{{Buy, 100, 11}}) {
			t.Fatalf("%+v", r)
		}
		if id := firstAt100(t, b); id != 2 {
			t.Fatalf("order %d traded first, want 2", id)
		}
	})
	t.Run("price change re-queues", func(t *testing.T) {
		b := setup(t)
		var r Result
		b.Amend(2, 101, 5, &r)
		mustValid(t, b)
		if !slices.Equal(r.Depth, []DepthChange{{Buy, 100, 5}, {Buy, 101, 5}}) {
			t.Fatalf("depth %+v", r.Depth)
		}
		b.Amend(2, 100, 5, &r)
		if id := firstAt100(t, b); id != 1 {
			t.Fatalf("order %d traded first, want 1", id)
		}
	})
	t.Run("amend into the spread trades and keeps the fill count", func(t *testing.T) {
		b := setup(t)
		var r Result
		b.Place(sell(4, carol, 100, 2), &r) // alice #1 fills 2, 3 left
		b.Amend(1, 103, 4, &r)
		mustValid(t, b)
		want := []Fill{fill(3, 1, carol, alice, 103, 2, Buy, 0)}
		if r.Status != StatusPartiallyFilled || r.Filled != 2 || r.Remaining != 2 || !slices.Equal(r.Fills, want) {
			t.Fatalf("%+v", r)
		}
		if o, _ := b.Order(1); o.Qty != 6 || o.Filled != 4 || o.Remaining != 2 || o.Price != 103 {
			t.Fatalf("order %+v", o)
		}
	})
	t.Run("post-only amend that would take is rejected unchanged", func(t *testing.T) {
		b := bookWith(t, buy(1, alice, 100, 5).with(post), sell(3, carol, 103, 2))
		before := b.StateHash()
		var r Result
		b.Amend(1, 103, 5, &r)
		if r.Code != RejectPostOnlyWouldTake || b.StateHash() != before {
			t.Fatalf("%v", r.Code)
		}
	})
	t.Run("self-trade kills the amended order", func(t *testing.T) {
		b := bookWith(t, buy(1, carol, 100, 5).with(stpTaker), sell(3, carol, 103, 2))
		var r Result
		b.Amend(1, 103, 5, &r)
		mustValid(t, b)
		want := []CanceledOrder{{ID: 1, Account: carol, Side: Buy, Price: 103, Remaining: 5}}
		if r.Status != StatusCanceled || !slices.Equal(r.Canceled, want) || b.Len() != 1 {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("qty up to the limit counts the order once", func(t *testing.T) {
		b := bookWith(t, buy(1, alice, 100, math.MaxInt64-5))
		var r Result
		b.Amend(1, 100, math.MaxInt64, &r)
		mustValid(t, b)
		if r.Code != OK || r.Remaining != math.MaxInt64 {
			t.Fatalf("%v remaining %d", r.Code, r.Remaining)
		}
		b.Place(buy(2, bob, 100, 1), &r)
		if r.Code != RejectInvalidQty {
			t.Fatalf("level total overflow: %v", r.Code)
		}
	})
	t.Run("bad amends", func(t *testing.T) {
		b := setup(t)
		before := b.StateHash()
		for _, tc := range []struct {
			id    OrderID
			price Ticks
			qty   Lots
			code  RejectCode
		}{{77, 100, 1, RejectUnknownOrder}, {0, 100, 1, RejectUnknownOrder}, {1, 0, 1, RejectInvalidPrice},
			{1, 100, 0, RejectInvalidQty}, {1, 100, math.MaxInt64, RejectInvalidQty}} {
			var r Result
			b.Amend(tc.id, tc.price, tc.qty, &r)
			if r.Code != tc.code || r.Status != StatusRejected || b.StateHash() != before {
				t.Errorf("%+v: %v", tc, r.Code)
			}
		}
	})
}

func TestCancel(t *testing.T) {
	b := bookWith(t, buy(1, alice, 100, 5).with(func(o *Order) { o.ClientID = "a1" }), buy(2, bob, 100, 1))
	var r Result
	b.Cancel(1, &r)
	mustValid(t, b)
	want := []CanceledOrder{{ID: 1, Account: alice, ClientID: "a1", Side: Buy, Price: 100, Remaining: 5}}
	if r.Status != StatusCanceled || !slices.Equal(r.Canceled, want) || !slices.Equal(r.Depth, []DepthChange{{Buy, 100, 1}}) {
		t.Fatalf("%+v", r)
	}
	b.Cancel(1, &r)
	if r.Code != RejectUnknownOrder {
		t.Fatalf("second cancel: %v", r.Code)
	}
	b.Cancel(2, &r)
	if _, _, ok := b.BestBid(); ok || b.Len() != 0 || !slices.Equal(r.Depth, []DepthChange{{Buy, 100, 0}}) {
		t.Fatalf("book not empty after cancelling everything: %+v", r.Depth)
	}
}

func TestCancelAll(t *testing.T) {
	b := bookWith(t, buy(1, alice, 99, 1), buy(2, bob, 99, 1), buy(3, alice, 99, 2), buy(4, alice, 100, 1),
		sell(5, alice, 102, 1), sell(6, bob, 103, 1))
	var r Result
	b.CancelAll(alice, &r)
	mustValid(t, b)
	var ids []OrderID
	for _, c := range r.Canceled {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []OrderID{4, 1, 3, 5}) {
		t.Fatalf("canceled %v, want best level first, queue order", ids)
	}
	if !slices.Equal(r.Depth, []DepthChange{{Buy, 100, 0}, {Buy, 99, 1}, {Sell, 102, 0}}) {
		t.Fatalf("depth %+v", r.Depth)
	}
	if b.Len() != 2 {
		t.Fatalf("len %d", b.Len())
	}
}

func TestDepthAndBest(t *testing.T) {
	b := New()
	if _, _, ok := b.BestBid(); ok {
		t.Fatal("empty book has a bid")
	}
	b = bookWith(t, buy(1, alice, 98, 1), buy(2, alice, 99, 2), buy(3, bob, 99, 3), sell(4, bob, 101, 4), sell(5, bob, 105, 5))
	bids, asks := b.Depth(1, nil, nil)
	if !slices.Equal(bids, []Level{{99, 5, 2}}) || !slices.Equal(asks, []Level{{101, 4, 1}}) {
		t.Fatalf("top 1: %v %v", bids, asks)
	}
	bids, asks = b.Depth(10, bids, asks)
	if !slices.Equal(bids, []Level{{99, 5, 2}, {98, 1, 1}}) || !slices.Equal(asks, []Level{{101, 4, 1}, {105, 5, 1}}) {
		t.Fatalf("top 10: %v %v", bids, asks)
	}
	if p, q, ok := b.BestAsk(); p != 101 || q != 4 || !ok {
		t.Fatalf("best ask %d %d %v", p, q, ok)
	}
}

func TestImpactPrice(t *testing.T) {
	b := bookWith(t, sell(1, alice, 100, 1), sell(2, alice, 101, 2), buy(3, bob, 99, 2), buy(4, bob, 97, 1))
	tests := []struct {
		side Side
		qty  Lots
		want Ticks
		ok   bool
	}{
		{Buy, 1, 100, true},
		{Buy, 2, 101, true}, // 100.5 rounds up against the buyer
		{Buy, 3, 101, true}, // 100.67
		{Buy, 4, 0, false},
		{Sell, 3, 98, true}, // 98.33 rounds down against the seller
		{Sell, 2, 99, true},
		{Sell, 0, 0, false},
		{0, 1, 0, false},
	}
	for _, tc := range tests {
		if got, ok := b.ImpactPrice(tc.side, tc.qty); got != tc.want || ok != tc.ok {
			t.Errorf("ImpactPrice(%v, %d) = %d, %v; want %d, %v", tc.side, tc.qty, got, ok, tc.want, tc.ok)
		}
	}
	// Price*qty beyond 64 bits still averages exactly: MaxInt64-1 plus a
	// sliver, rounded up.
	big := bookWith(t, sell(1, alice, math.MaxInt64-1, math.MaxInt64/2), sell(2, alice, math.MaxInt64, 1))
	if got, ok := big.ImpactPrice(Buy, math.MaxInt64/2+1); got != math.MaxInt64 || !ok {
		t.Errorf("huge impact %d %v", got, ok)
	}
}

func TestSweepPrice(t *testing.T) {
	b := bookWith(t, sell(1, alice, 100, 1), sell(2, alice, 101, 2), buy(3, bob, 99, 2), buy(4, bob, 97, 1))
	for _, tc := range []struct {
		side Side
		qty  Lots
		want Ticks
		ok   bool
	}{
		{Buy, 1, 100, true},
		{Buy, 2, 101, true},
		{Buy, 3, 101, true},
		{Buy, 9, 101, true}, // more than the asks hold: their last level
		{Sell, 2, 99, true},
		{Sell, 3, 97, true},
		{Sell, 0, 0, false},
		{0, 1, 0, false},
	} {
		if got, ok := b.SweepPrice(tc.side, tc.qty); got != tc.want || ok != tc.ok {
			t.Errorf("SweepPrice(%v, %d) = %d, %v; want %d, %v", tc.side, tc.qty, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := New().SweepPrice(Sell, 1); ok {
		t.Error("an empty side has no sweep price")
	}
}

func TestStateHashAndReset(t *testing.T) {
	orders := []Order{buy(1, alice, 99, 2), sell(2, bob, 101, 3), buy(3, carol, 101, 1)}
	a, c := bookWith(t, orders...), bookWith(t, orders...)
	if a.StateHash() != c.StateHash() {
		t.Fatal("same commands, different hashes")
	}
	var r Result
	c.Amend(1, 99, 1, &r)
	if a.StateHash() == c.StateHash() {
		t.Fatal("hash ignores remaining quantity")
	}
	c.Reset()
	mustValid(t, c)
	if c.Len() != 0 || c.LastPrice() != 0 || c.StateHash() != New().StateHash() {
		t.Fatal("Reset left state behind")
	}
	for _, o := range orders {
		c.Place(o, &r)
	}
	mustValid(t, c)
	if a.StateHash() != c.StateHash() {
		t.Fatal("a reset book replays differently")
	}
}

func TestCheckDetectsCorruption(t *testing.T) {
	b := bookWith(t, buy(1, alice, 99, 2), buy(2, alice, 99, 2))
	b.levels[b.bids.best].total++
	if err := b.Check(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Check() = %v on a wrong level total", err)
	}
}

func TestStrings(t *testing.T) {
	for v, want := range map[interface{ String() string }]string{
		OK: "OK", RejectBadRequest: "BAD_REQUEST", RejectInvalidPrice: "INVALID_PRICE", RejectInvalidQty: "INVALID_QTY",
		RejectPostOnlyWouldTake: "POST_ONLY_WOULD_TAKE", RejectFOKNotFilled: "FOK_NOT_FILLED",
		RejectUnknownOrder: "UNKNOWN_ORDER", RejectDuplicateOrderID: "DUPLICATE_ORDER_ID", RejectCode(200): "INTERNAL",
		StatusNew: "new", StatusPartiallyFilled: "partially_filled", StatusFilled: "filled", StatusCanceled: "canceled",
		StatusRejected: "rejected", StatusExpired: "expired", Status(99): "invalid",
		Limit: "limit", Market: "market", GTC: "GTC", IOC: "IOC", FOK: "FOK", TIF(9): "invalid",
		STPCancelMaker: "cancel_maker", STPCancelTaker: "cancel_taker", STPCancelBoth: "cancel_both", STPNone: "none",
		STPMode(9): "invalid",
	} {
		if got := v.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", v, got, want)
		}
	}
}

func TestSteadyStateAllocatesNothing(t *testing.T) {
	b := New()
	var r Result
	// Warm up: grow slabs, indexes and result buffers.
	for i := range 2000 {
		b.Place(sell(OrderID(i+1), alice, Ticks(100+i%50), 1), &r)
	}
	for i := range 2000 {
		b.Cancel(OrderID(i+1), &r)
	}
	id := OrderID(10_000)
	allocs := testing.AllocsPerRun(1000, func() {
		id++
		b.Place(sell(id, alice, Ticks(100+id%50), 2), &r)
		b.Place(sell(id+1_000_000, alice, 200, 1), &r)
		b.Amend(id, Ticks(100+id%50), 1, &r)
		b.Place(buy(id+2_000_000, bob, 200, 1).with(ioc), &r) // fills the 1 lot at 100+id%50
		b.Cancel(id+1_000_000, &r)
	})
	mustValid(t, b)
	if allocs != 0 {
		t.Fatalf("%.1f allocs per cycle, want 0", allocs)
	}
}
