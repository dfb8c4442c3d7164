package book

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type cmdKind uint8

const (
	cmdPlace cmdKind = iota
	cmdCancel
	cmdAmend
	cmdCancelAll
)

// cmd is one book call; which fields matter depends on kind.
type cmd struct {
	kind  cmdKind
	o     Order // place
	id    OrderID
	price Ticks
	qty   Lots
	acct  AccountID
}

func (c cmd) String() string {
	switch c.kind {
	case cmdPlace:
		return fmt.Sprintf("place %+v", c.o)
	case cmdCancel:
		return fmt.Sprintf("cancel %d", c.id)
	case cmdAmend:
		return fmt.Sprintf("amend %d price=%d qty=%d", c.id, c.price, c.qty)
	}
	return fmt.Sprintf("cancel-all %d", c.acct)
}

// harness runs every command on the optimized and the reference book and
// fails on the first difference. It also plays each Result's depth changes
// onto a market-data mirror, which must always equal the book's depth.
type harness struct {
	t        testing.TB
	b        *Book
	ref      refBook
	r, rr    Result
	mirror   map[DepthChange]Lots // key: side and price, Qty zeroed
	bids     []Level
	asks     []Level
	step     int
	fullScan int // compare every resting order every fullScan steps
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, b: New(), mirror: map[DepthChange]Lots{}, fullScan: 64}
}

// apply runs one command on b.
func apply(b *Book, c *cmd, r *Result) {
	switch c.kind {
	case cmdPlace:
		b.Place(c.o, r)
	case cmdCancel:
		b.Cancel(c.id, r)
	case cmdAmend:
		b.Amend(c.id, c.price, c.qty, r)
	case cmdCancelAll:
		b.CancelAll(c.acct, r)
	}
}

func (h *harness) do(c cmd) {
	h.t.Helper()
	h.step++
	apply(h.b, &c, &h.r)
	switch c.kind {
	case cmdPlace:
		h.ref.place(c.o, &h.rr)
	case cmdCancel:
		h.ref.cancel(c.id, &h.rr)
	case cmdAmend:
		h.ref.amend(c.id, c.price, c.qty, &h.rr)
	case cmdCancelAll:
		h.ref.cancelAll(c.acct, &h.rr)
	}
	if err := h.compare(); err != nil {
		h.t.Fatalf("step %d: %s: %v", h.step, c, err)
	}
}

func (h *harness) compare() error {
	r := &h.r
	if err := sameOutcome(r, &h.rr, "reference"); err != nil {
		return err
	}
	if r.Code != OK && len(r.Depth) > 0 {
		return fmt.Errorf("rejected call changed depth: %+v", r.Depth)
	}
	if err := h.b.Check(); err != nil {
		return err
	}
	seen := map[DepthChange]bool{}
	for _, d := range r.Depth {
		k := DepthChange{Side: d.Side, Price: d.Price}
		switch {
		case d.Qty < 0:
			return fmt.Errorf("negative depth change %+v", d)
		case seen[k]:
			return fmt.Errorf("level listed twice in %+v", r.Depth)
		case d.Qty == h.mirror[k]:
			return fmt.Errorf("depth change %+v changes nothing", d)
		}
		seen[k] = true
		switch {
		case d.Qty == 0:
			delete(h.mirror, k)
		default:
			h.mirror[k] = d.Qty
		}
	}
	h.bids, h.asks = h.b.Depth(0, h.bids, h.asks)
	for _, s := range []struct {
		side Side
		got  []Level
	}{{Buy, h.bids}, {Sell, h.asks}} {
		want := h.ref.depth(s.side)
		if !slices.Equal(s.got, want) {
			return fmt.Errorf("%v depth %v, reference %v", s.side, s.got, want)
		}
		for _, l := range want {
			if q := h.mirror[DepthChange{Side: s.side, Price: l.Price}]; q != l.Qty {
				return fmt.Errorf("depth changes give %v %d = %d, book has %d", s.side, l.Price, q, l.Qty)
			}
		}
	}
	if len(h.mirror) != len(h.bids)+len(h.asks) {
		return fmt.Errorf("depth changes left %d levels, book has %d", len(h.mirror), len(h.bids)+len(h.asks))
	}
	if h.b.Len() != h.ref.len() || h.b.LastPrice() != h.ref.last {
		return fmt.Errorf("len %d last %d, reference len %d last %d", h.b.Len(), h.b.LastPrice(), h.ref.len(), h.ref.last)
	}
	if h.step%h.fullScan == 0 {
		for _, side := range [][]refOrder{h.ref.bids, h.ref.asks} {
			for _, want := range side {
				got, ok := h.b.Order(want.ID)
				if !ok || got != (OpenOrder{Order: want.Order, Remaining: want.remaining, Filled: want.filled}) {
					return fmt.Errorf("order %d: %+v (%v), reference %+v", want.ID, got, ok, want)
				}
			}
		}
	}
	return nil
}

// sameOutcome compares two results but for their depth changes (the
// reference book makes none); other names the one r is compared with.
func sameOutcome(r, other *Result, name string) error {
	switch {
	case r.Code != other.Code || r.Status != other.Status || r.Filled != other.Filled || r.Remaining != other.Remaining ||
		r.STPKilled != other.STPKilled:
		return fmt.Errorf("result %v/%v filled %d remaining %d stp %v, %s %v/%v filled %d remaining %d stp %v",
			r.Code, r.Status, r.Filled, r.Remaining, r.STPKilled, name, other.Code, other.Status, other.Filled, other.Remaining, other.STPKilled)
	case !slices.Equal(r.Fills, other.Fills):
		return fmt.Errorf("fills %+v, %s %+v", r.Fills, name, other.Fills)
	case !slices.Equal(r.Canceled, other.Canceled):
		return fmt.Errorf("canceled %+v, %s %+v", r.Canceled, name, other.Canceled)
	}
	return nil
}

// gen draws random commands around a narrow price band so that crossing,
// self-trade prevention, FOK shortfalls and amends all happen often, with a
// sprinkling of invalid input.
type gen struct {
	rng    *rand.Rand
	nextID OrderID
	live   func() []OrderID // ids resting now, for cancel and amend targets
}

func (g *gen) pick(n int) int { return g.rng.IntN(n) }

func (g *gen) id() OrderID {
	ids := g.live()
	switch {
	case len(ids) > 0 && g.pick(10) > 0:
		return ids[g.pick(len(ids))]
	case g.pick(4) == 0:
		return 0
	}
	return g.nextID + OrderID(g.pick(5)) // not resting: unknown
}

// price leans buys below 100 and sells above, overlapping by a few ticks,
// so the book builds depth yet trades often.
func (g *gen) price(s Side) Ticks {
	switch g.pick(200) {
	case 0:
		return 0
	case 1:
		return -Ticks(g.pick(3))
	case 2:
		return math.MaxInt64
	}
	if s == Buy {
		return 80 + Ticks(g.pick(23))
	}
	return 98 + Ticks(g.pick(23))
}

func (g *gen) qty() Lots {
	switch g.pick(400) {
	case 0:
		return 0
	case 1:
		return -1
	case 2:
		return math.MaxInt64 - Lots(g.pick(2)) // exercises the level overflow rule
	}
	return 1 + Lots(g.pick(10))
}

func (g *gen) next() cmd {
	switch k := g.pick(100); {
	case k < 72:
		g.nextID++
		side := Side(1 + g.pick(2))
		o := Order{ID: g.nextID, Account: AccountID(1 + g.pick(4)), ClientID: fmt.Sprint("c", g.pick(3)),
			Side: side, Price: g.price(side), Qty: g.qty(), STP: STPMode(g.pick(4)),
			ReduceOnly: g.pick(5) == 0}
		switch g.pick(10) {
		case 0, 1:
			o.TIF = IOC
		case 2:
			o.TIF = FOK
		}
		if g.pick(8) == 0 {
			o.Type = Market
		}
		o.PostOnly = g.pick(6) == 0
		switch g.pick(150) {
		case 0:
			o.ID = g.id() // duplicate, zero or fresh
		case 1:
			o.Side = Side(3 * g.pick(2))
		case 2:
			o.Type, o.TIF, o.STP = OrderType(2+g.pick(2)), TIF(3+g.pick(2)), STPMode(4+g.pick(2))
		}
		return cmd{kind: cmdPlace, o: o}
	case k < 86:
		return cmd{kind: cmdCancel, id: g.id()}
	case k < 99 || g.pick(10) > 0:
		return cmd{kind: cmdAmend, id: g.id(), price: g.price(Side(1 + g.pick(2))), qty: g.qty()}
	default:
		return cmd{kind: cmdCancelAll, acct: AccountID(g.pick(5))}
	}
}

func (h *harness) liveIDs() []OrderID {
	var ids []OrderID
	for _, side := range [][]refOrder{h.ref.bids, h.ref.asks} {
		for _, o := range side {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// newGen returns a generator of commands for h's book.
func (h *harness) newGen(seed, stream uint64) *gen {
	return &gen{rng: rand.New(rand.NewPCG(seed, stream)), live: h.liveIDs}
}

// eachSeed runs fn in a subtest for each of four seeds with a fresh harness,
// its generator, and n commands to run (a tenth in short and race mode).
func eachSeed(t *testing.T, stream uint64, n int, fn func(t *testing.T, h *harness, g *gen, n int)) {
	if testing.Short() || raceEnabled {
		n /= 10
	}
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			h := newHarness(t)
			fn(t, h, h.newGen(seed, stream), n)
		})
	}
}

func TestDifferential(t *testing.T) {
	eachSeed(t, 0x5eed, 25_000, func(t *testing.T, h *harness, g *gen, n int) {
		fills, canceled, resting := 0, 0, 0
		for range n {
			h.do(g.next())
			fills += len(h.r.Fills)
			canceled += len(h.r.Canceled)
			resting += h.b.Len()
		}
		if fills < n/25 || canceled < n/25 || resting < n*20 {
			t.Fatalf("weak generator: %d fills, %d cancels, %d resting on average", fills, canceled, resting/n)
		}
		t.Logf("%d commands, %d fills, %d canceled, %d resting on average", n, fills, canceled, resting/n)
	})
}

// maxFuzzCmds bounds one fuzz input: the reference book is quadratic, and
// long inputs only slow the fuzzer down.
const maxFuzzCmds = 512

// decodeCmds turns fuzz bytes into commands, 6 bytes each, over the same
// narrow price band and handful of accounts as the random generator.
func decodeCmds(data []byte) []cmd {
	var cmds []cmd
	data = data[:min(len(data), 6*maxFuzzCmds)]
	nextID := OrderID(0)
	for ; len(data) >= 6; data = data[6:] {
		op, a, p, q, f, x := data[0], data[1], data[2], data[3], data[4], data[5]
		price := Ticks(p%24) + 90 - 2 // includes 88..89 and 0 below via p>=250
		if p >= 250 {
			price = Ticks(p) - 252 // -2..3
		}
		qty := Lots(q%16) - 1
		if q == 255 {
			qty = math.MaxInt64
		}
		id := OrderID(x % 32)
		switch op % 8 {
		case 0, 1, 2, 3:
			nextID++
			if f&0x80 == 0 {
				id = nextID + 1000 // fresh, never collides with the small ids below
			}
			cmds = append(cmds, cmd{kind: cmdPlace, o: Order{ID: id, Account: AccountID(a % 4), Side: Side(1 + a>>2&1),
				Type: OrderType(f & 1), TIF: TIF(f >> 1 & 3 % 3), STP: STPMode(f >> 3 & 3), PostOnly: f&0x20 != 0 && f&0x40 != 0,
				Price: price, Qty: qty}})
		case 4, 5:
			cmds = append(cmds, cmd{kind: cmdCancel, id: id + OrderID(a%2)*1000})
		case 6:
			cmds = append(cmds, cmd{kind: cmdAmend, id: id + OrderID(a%2)*1000, price: price, qty: qty})
		default:
			cmds = append(cmds, cmd{kind: cmdCancelAll, acct: AccountID(a % 4)})
		}
	}
	return cmds
}

func FuzzBook(f *testing.F) {
	// Each seed line is one command: op, account/side, price, qty, flags, small id (see decodeCmds).
	f.Add([]byte{})
	f.Add([]byte{ // a trade, a resting remainder, cancel-all
		0, 5, 12, 6, 0, 0, // acct 1 sells 5 @100
		0, 2, 13, 11, 0, 0, // acct 2 buys 10 @101: fills 5, rests 5
		7, 2, 0, 0, 0, 0, // cancel-all acct 2
	})
	f.Add([]byte{ // self-trade prevention in every mode, then amend and cancel
		0, 4, 12, 4, 0x80, 1, // #1 acct 0 sells 3 @100
		0, 5, 12, 4, 0x80, 2, // #2 acct 1 sells 3 @100
		0, 0, 12, 3, 0x88, 3, // #3 acct 0 buys 2, cancel-taker: killed by #1
		0, 0, 12, 3, 0x90, 4, // #4 acct 0 buys 2, cancel-both: #1 and #4 canceled
		0, 0, 12, 3, 0x80, 5, // #5 acct 0 buys 2, cancel-maker: fills from #2
		6, 0, 13, 8, 0, 2, // amend #2 to 7 @101
		4, 0, 0, 0, 0, 2, // cancel #2
	})
	f.Add([]byte{ // FOK, market bound, level overflow, bad price, post-only
		0, 5, 12, 3, 0, 0, // acct 1 sells 2 @100
		0, 6, 13, 4, 0, 0, // acct 2 sells 3 @101
		0, 3, 13, 7, 0x04, 0, // FOK buy 6 @101: rejected
		0, 3, 13, 6, 0x04, 0, // FOK buy 5 @101: filled
		0, 3, 12, 2, 0x01, 0, // market buy 1 bounded at 100: expired
		0, 1, 10, 255, 0, 0, // buy MaxInt64 @98
		0, 2, 10, 2, 0, 0, // buy 1 @98: level would overflow
		0, 1, 251, 3, 0, 0, // price -1
		0, 5, 10, 2, 0x60, 0, // post-only sell 1 @98: would take
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t)
		h.fullScan = 1
		for _, c := range decodeCmds(data) {
			h.do(c)
		}
	})
}
