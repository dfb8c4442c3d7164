package loadtest

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPolicyDecides: a trader in loss cuts it, in profit takes it, beyond
// its leverage cuts back to its target, and when flat and short of money
// tops up to its capital but never past its budget.
func TestPolicyDecides(t *testing.T) {
	p := Policy{TakeProfit: 0.5, StopLoss: 0.4, MaxLeverage: 45, TargetLeverage: 30, Refill: 0.5, Budget: 3}
	const capital = 1000.0
	for _, c := range []struct {
		name      string
		v         accountView
		deposited float64
		want      decision
	}{
		{"loss cut, long", accountView{lots: 100, notional: 30000, pnl: -401, equity: 599}, capital, decision{reduceLots: 100, reason: reasonStopLoss}},
		{"loss cut, short", accountView{lots: -100, notional: 30000, pnl: -400, equity: 600}, capital, decision{reduceLots: -100, reason: reasonStopLoss}},
		{"profit taken", accountView{lots: -7, notional: 30000, pnl: 500, equity: 1500}, capital, decision{reduceLots: -7, reason: reasonTakeProfit}},
		{"held", accountView{lots: 7, notional: 30000, pnl: -399, equity: 1000}, capital, decision{}},
		// 46× on 650 of equity: back to 30×, i.e. keep 30/46 of 100 lots.
		{"deleveraged", accountView{lots: 100, notional: 29900, pnl: -350, equity: 650}, capital, decision{reduceLots: 35, reason: reasonDeleverage}},
		{"no equity: all cut", accountView{lots: -3, notional: 100, pnl: -399, equity: -5}, capital, decision{reduceLots: -3, reason: reasonDeleverage}},
		{"flat, enough money", accountView{equity: 500}, capital, decision{}},
		{"flat, refilled", accountView{equity: 100}, capital, decision{deposit: 900}},
		{"flat, refill capped by the budget", accountView{equity: 0}, 2500, decision{deposit: 500}},
		{"flat, budget spent", accountView{equity: 0}, 3000, decision{broke: true}},
	} {
		got := p.decide(c.v, capital, c.deposited)
		if got.reduceLots != c.want.reduceLots || got.reason != c.want.reason || math.Abs(got.deposit-c.want.deposit) > 1e-9 || got.broke != c.want.broke {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	// A trader refilled after every wipe-out never deposits past its budget.
	deposited := capital
	for range 10 {
		d := p.decide(accountView{}, capital, deposited)
		if d.broke {
			break
		}
		deposited += d.deposit
	}
	if deposited != p.Budget*capital {
		t.Errorf("deposited %v over the wipe-outs, budget %v", deposited, p.Budget*capital)
	}
}

// TestTraderActsOnItsControl: what the manager decided goes out as one
// reduce-only market order on the reducing side, then the trader goes on.
func TestTraderActsOnItsControl(t *testing.T) {
	syms, _ := compileSymbols(DemoSymbols())
	a := testAcct(syms[0])
	c := &control{reduceLots: -12}
	tk := &taker{acct: a, notional: 500, ctl: c, maxLev: 2}
	_, _, body := tk.next(nil)
	if want := `{"symbol":"BTC-PERP","side":"buy","type":"market","qty":"0.012","reduce_only":true,"client_order_id":"lt1"}`; string(body) != want {
		t.Fatalf("close %s, want %s", body, want)
	}
	if _, _, body = tk.next(nil); string(body) == "" || contains(body, "reduce_only") {
		t.Fatalf("after the close: %s", body)
	}
	// Long at twice its equity: every order sells.
	c.lots, c.notional, c.equity, c.polled = 50, 2000, 1000, true
	for range 20 {
		if _, _, body = tk.next(nil); !contains(body, `"side":"sell"`) {
			t.Fatalf("a taker at its leverage cap added: %s", body)
		}
	}
}

// TestLeveredRebuildsWhenFlat: a levered trader builds its round, holds,
// and only after a poll shows it flat builds again.
func TestLeveredRebuildsWhenFlat(t *testing.T) {
	syms, _ := compileSymbols(DemoSymbols())
	c := &control{}
	l := &levered{acct: testAcct(syms[0]), ctl: c, side: "buy", step: 1000, roundOrders: 3, buildOrders: 3, holdOffBps: 500}
	markets := func(n int) (m int) {
		for range n {
			if _, _, body := l.next(nil); contains(body, `"type":"market"`) {
				m++
			}
		}
		return m
	}
	if m := markets(10); m != 3 {
		t.Fatalf("%d building orders in the first round, want 3", m)
	}
	c.mu.Lock()
	c.seq, c.lots = c.seq+1, 40 // a poll: the position is there
	c.mu.Unlock()
	if m := markets(10); m != 0 {
		t.Fatalf("%d building orders while holding", m)
	}
	c.mu.Lock()
	c.seq, c.lots = c.seq+1, 0 // liquidated or closed
	c.mu.Unlock()
	if m := markets(10); m != 3 {
		t.Fatalf("%d building orders after going flat, want 3", m)
	}
	// Flat again after a loss: the round is sized on what is left (10× on
	// 200 is 2 orders of 1000), never more than a full round.
	l.target = 10
	c.mu.Lock()
	c.seq, c.lots, c.equity, c.polled = c.seq+1, 0, 200, true
	c.mu.Unlock()
	if m := markets(10); m != 2 {
		t.Fatalf("%d building orders on 200 of equity, want 2", m)
	}
	c.mu.Lock()
	c.seq, c.equity = c.seq+1, 1e6
	c.mu.Unlock()
	if m := markets(10); m != 3 {
		t.Fatalf("%d building orders on a large equity, want the round's 3", m)
	}
}

// TestWalkJumps: the walk moves every step, jumps about as often as
// configured, within 4 × JumpPct, and reverts towards its start.
func TestWalkJumps(t *testing.T) {
	cfg := WalkConfig{Interval: 100e6, Bps: 3, JumpEvery: 1e9, JumpPct: 3, Revert: 0.002}
	w := newWalker(cfg, 1, []int64{300000, 200000})
	var out []int64
	prev := []int64{300000, 200000}
	maxMove := 0.0
	for range 10000 {
		out = w.step(out)
		for i := range out {
			maxMove = math.Max(maxMove, math.Abs(math.Log(float64(out[i])/float64(prev[i]))))
			prev[i] = out[i]
		}
	}
	if j := w.jumps.Load(); j < 1600 || j > 2400 { // 2 symbols × 10000 × 0.1
		t.Errorf("%d jumps, want about 2000", j)
	}
	if maxMove > 0.12+0.01 || maxMove < 0.03 {
		t.Errorf("largest move %.4f: want fat tails up to 4 × 3 %%", maxMove)
	}
	if r := float64(out[0]) / 300000; r < 0.5 || r > 2 {
		t.Errorf("after 10000 moves the walk is at %.2f × its start: it should revert", r)
	}
}

// testAcct is an account on sym with its mark at 300000 ticks.
func testAcct(sym *symbol) acct {
	m := newMarks([]*symbol{sym})
	m.ticks[0].Store(300000)
	return acct{name: "a", place: "px.acct.a.order.place", cancel: "px.acct.a.order.cancel", sym: sym, mark: &m.ticks[0],
		rng: rand.New(rand.NewPCG(1, 2))}
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

// TestMakerSkipsFilledQuotes: a quote its account events reported filled
// is not canceled; the maker quotes again instead. The event parser reads
// only order events of filled orders.
func TestMakerSkipsFilledQuotes(t *testing.T) {
	syms, _ := compileSymbols(DemoSymbols())
	m := newMaker(testAcct(syms[0]), MMConfig{Levels: 1}.withDefaults())
	m.next(nil)
	m.next(nil) // the ladder (2 quotes) is full
	ev := []byte(`{"type":"order","seq":9,"order":{"order_id":"5","client_order_id":"lt1","status":"filled"}}`)
	coid, ok := filledQuote(ev)
	if !ok || coid != 1 {
		t.Fatalf("filled quote %d %v", coid, ok)
	}
	for _, other := range []string{`{"type":"fill","fill":{"client_order_id":"lt2","status":"filled"}}`,
		`{"type":"order","order":{"client_order_id":"lt2","status":"partially_filled"}}`} {
		if _, ok := filledQuote([]byte(other)); ok {
			t.Errorf("%s read as a filled quote", other)
		}
	}
	m.filled.add(coid)
	k, _, body := m.next(nil)
	if k != kindPlace || !contains(body, `"client_order_id":"lt3"`) {
		t.Fatalf("after lt1 filled: %s, want a new quote instead of its cancel", body)
	}
	if k, _, body = m.next(nil); k != kindCancel || !contains(body, `"client_order_id":"lt2"`) {
		t.Fatalf("then %s, want the cancel of lt2", body)
	}
	if m.filled.take(1) {
		t.Error("the filled id stays in the set")
	}
	for i := range uint64(3 * maxFilled) {
		m.filled.add(100 + i)
	}
	if n := len(m.filled.ids); n > maxFilled+1 {
		t.Errorf("%d ids kept, at most %d", n, maxFilled)
	}
}

// TestMakerKeepsItsInventory: beyond MaxPosition a maker quotes only the
// side that reduces its position.
func TestMakerKeepsItsInventory(t *testing.T) {
	syms, _ := compileSymbols(DemoSymbols())
	m := newMaker(testAcct(syms[0]), MMConfig{Levels: 5, MaxPosition: 10000}.withDefaults())
	m.ctl = &control{lots: -400, notional: 12000, polled: true}
	for range 5 {
		if _, _, body := m.next(nil); !contains(body, `"side":"buy"`) {
			t.Fatalf("a maker short beyond its limit quoted %s", body)
		}
	}
	m.ctl.notional = 9000
	sides := map[bool]int{}
	for range 4 {
		_, _, body := m.next(nil)
		sides[contains(body, `"side":"sell"`)]++
	}
	if sides[true] != 2 || sides[false] != 2 {
		t.Errorf("within its limit: %v sells/buys, want both sides", sides)
	}
}
