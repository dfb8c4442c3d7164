package index

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func demoSim(t *testing.T, seed uint64, symbols ...SimSymbol) *Sim {
	t.Helper()
	if len(symbols) == 0 {
		symbols = []SimSymbol{{"BTC-PERP", d("30000"), d("0.1")}, {"ETH-PERP", d("3300"), d("0.01")}}
	}
	s, err := NewSim(SimConfig{Seed: seed, Symbols: symbols}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func take(t *testing.T, src Source, n int) []Tick {
	t.Helper()
	out := make([]Tick, 0, n)
	for range n {
		tk, ok, err := src.Next()
		if err != nil || !ok {
			t.Fatalf("after %d ticks: ok=%v err=%v", len(out), ok, err)
		}
		out = append(out, tk)
	}
	return out
}

func TestSimDeterministicAndPositive(t *testing.T) {
	a, b := take(t, demoSim(t, 7), 20000), take(t, demoSim(t, 7), 20000)
	other := take(t, demoSim(t, 8), 20000)
	differs := false
	for i := range a {
		if a[i].Symbol != b[i].Symbol || !a[i].Price.Equal(b[i].Price) || !a[i].Due.Equal(b[i].Due) {
			t.Fatalf("tick %d differs for the same seed: %+v vs %+v", i, a[i], b[i])
		}
		differs = differs || !a[i].Price.Equal(other[i].Price)
		if a[i].Price.Sign() <= 0 {
			t.Fatalf("tick %d: price %s", i, a[i].Price)
		}
		tick := d("0.1")
		if a[i].Symbol == "ETH-PERP" {
			tick = d("0.01")
		}
		if !a[i].Price.Mod(tick).IsZero() {
			t.Fatalf("tick %d: %s is not a multiple of %s", i, a[i].Price, tick)
		}
		// Two symbols per step, one step per second.
		if want := t0.Add(time.Duration(i/2) * time.Second); !a[i].Due.Equal(want) {
			t.Fatalf("tick %d due %v, want %v", i, a[i].Due, want)
		}
	}
	if !differs {
		t.Fatal("seeds 7 and 8 walk the same path")
	}
	if !a[0].Price.Equal(d("30000")) || !a[1].Price.Equal(d("3300")) {
		t.Fatalf("first ticks are not the start prices: %s %s", a[0].Price, a[1].Price)
	}
	// It moves: over 10000 steps the path is not flat.
	moved := 0
	for i := 2; i < len(a); i += 2 {
		if !a[i].Price.Equal(a[i-2].Price) {
			moved++
		}
	}
	if moved < 5000 {
		t.Fatalf("BTC moved in only %d of 10000 steps", moved)
	}
}

// A symbol's path does not depend on which other symbols are walked.
func TestSimSymbolsIndependent(t *testing.T) {
	both := take(t, demoSim(t, 3), 200)
	alone := take(t, demoSim(t, 3, SimSymbol{"ETH-PERP", d("3300"), d("0.01")}), 100)
	for i := range alone {
		if !alone[i].Price.Equal(both[2*i+1].Price) {
			t.Fatalf("step %d: ETH alone %s, with BTC %s", i, alone[i].Price, both[2*i+1].Price)
		}
	}
}

// Extreme volatility stays positive and inside the band, at least one tick.
func TestSimStaysInBand(t *testing.T) {
	s, err := NewSim(SimConfig{Seed: 1, Sigma: 0.1, JumpProb: 1, JumpSigma: 0.5, Interval: time.Millisecond,
		Symbols: []SimSymbol{{"LOW", d("0.05"), d("0.01")}, {"RAW", d("2"), decimal.Zero}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := d("0.01"), d("5") // LOW: max(tick, 0.05/100) .. 0.05×100
	for i, tk := range take(t, s, 20000) {
		if tk.Symbol == "RAW" {
			if tk.Price.LessThan(d("0.02")) || tk.Price.GreaterThan(d("200")) || tk.Price.Exponent() < -8 {
				t.Fatalf("tick %d: RAW %s outside [0.02, 200] or beyond 8 decimals", i, tk.Price)
			}
			continue
		}
		if tk.Price.LessThan(lo) || tk.Price.GreaterThan(hi) {
			t.Fatalf("tick %d: LOW %s outside [%s, %s]", i, tk.Price, lo, hi)
		}
	}
}

func TestSimSet(t *testing.T) {
	s := demoSim(t, 5)
	take(t, s, 4)
	if err := s.Set("BTC-PERP", d("10000")); err != nil {
		t.Fatal(err)
	}
	next := take(t, s, 1)[0]
	if next.Symbol != "BTC-PERP" || next.Price.Sub(d("10000")).Abs().GreaterThan(d("1000")) {
		t.Fatalf("after Set(10000) the walk is at %s", next.Price)
	}
	if err := s.Set("DOGE", d("1")); !errors.Is(err, ErrSim) {
		t.Fatalf("unknown symbol: %v", err)
	}
	if err := s.Set("BTC-PERP", d("0")); !errors.Is(err, ErrSim) {
		t.Fatalf("zero price: %v", err)
	}
}

func TestSimRejectsBadConfig(t *testing.T) {
	ok := []SimSymbol{{"BTC", d("1"), decimal.Zero}}
	for _, c := range []SimConfig{
		{},
		{Symbols: []SimSymbol{{"BTC", d("0"), decimal.Zero}}},
		{Symbols: []SimSymbol{{"BTC", d("-1"), decimal.Zero}}},
		{Symbols: []SimSymbol{{"BTC", d("1"), d("-0.1")}}},
		{Symbols: []SimSymbol{{"B.C", d("1"), decimal.Zero}}},
		{Symbols: append(ok, ok...)},
		{Symbols: ok, Interval: -time.Second},
		{Symbols: ok, Sigma: -1},
		{Symbols: ok, Sigma: 2},
		{Symbols: ok, JumpProb: 1.5},
		{Symbols: ok, JumpSigma: 3},
	} {
		if _, err := NewSim(c, t0); !errors.Is(err, ErrSim) {
			t.Errorf("%+v: got %v, want ErrSim", c, err)
		}
	}
}

func TestReplayOrderAndSpeed(t *testing.T) {
	csv := "time_ms,symbol,price\n# recorded 2025-01-01\n1000,BTC-PERP,30000.5\n\n1000, ETH-PERP, 3300\n1500,BTC-PERP,30001\n61000,BTC-PERP,29000.25\n"
	for _, speed := range []float64{1, 10, 0.5} {
		p, err := NewReplay(strings.NewReader(csv), t0, speed)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			offMs float64
			sym   string
			price string
		}{{0, "BTC-PERP", "30000.5"}, {0, "ETH-PERP", "3300"}, {500, "BTC-PERP", "30001"}, {60000, "BTC-PERP", "29000.25"}}
		for i, w := range want {
			tk, ok, err := p.Next()
			if err != nil || !ok {
				t.Fatalf("speed %v row %d: ok=%v err=%v", speed, i, ok, err)
			}
			due := t0.Add(time.Duration(w.offMs / speed * float64(time.Millisecond)))
			if !tk.Due.Equal(due) || tk.Symbol != w.sym || !tk.Price.Equal(d(w.price)) {
				t.Fatalf("speed %v row %d: got %+v, want due %v %s %s", speed, i, tk, due, w.sym, w.price)
			}
		}
		if _, ok, err := p.Next(); ok || err != nil {
			t.Fatalf("speed %v: after the end ok=%v err=%v", speed, ok, err)
		}
	}
	if _, err := NewReplay(strings.NewReader(csv), t0, 0); !errors.Is(err, ErrReplay) {
		t.Fatalf("speed 0: %v", err)
	}
}

func TestReplayBadRows(t *testing.T) {
	cases := []struct{ csv, want string }{
		{"1,A,1\n2,A\n", "line 2"},
		{"1,A,1\n2,A,1,4\n", "line 2"},
		{"x,A,1\n", "line 1: time_ms"},
		{"-5,A,1\n", "line 1: time_ms"},
		{"1.5,A,1\n", "line 1: time_ms"},
		{"1,A,1\n# c\n2,A.B,1\n", "line 3: symbol"},
		{"1,A,0\n", "line 1: price"},
		{"1,A,-2\n", "line 1: price"},
		{"1,A,1e3\n", "line 1: price"},
		{"1,A,NaN\n", "line 1: price"},
		{"5,A,1\n4,A,1\n", "line 2: time_ms 4 goes back"},
		{"1,A,\"1\n", "line 1"},
		{"time_ms,symbol,price\n0,A,1\n9223372036854775807,A,1\n", "line 3: time_ms"},
	}
	for _, c := range cases {
		p, err := NewReplay(strings.NewReader(c.csv), t0, 0.001)
		if err != nil {
			t.Fatal(err)
		}
		var last error
		for range 5 {
			_, ok, err := p.Next()
			if err != nil {
				last = err
				break
			}
			if !ok {
				break
			}
		}
		if !errors.Is(last, ErrReplay) || !strings.Contains(last.Error(), c.want) {
			t.Errorf("%q: got %v, want ErrReplay containing %q", c.csv, last, c.want)
			continue
		}
		// The replay stays stopped at its error.
		if _, ok, err := p.Next(); ok || err != last {
			t.Errorf("%q: after the error ok=%v err=%v", c.csv, ok, err)
		}
	}
}

func TestParseFeed(t *testing.T) {
	for in, want := range map[string]FeedPrice{
		`{"symbol":"BTC-PERP","price":"30000.5"}`:               {"BTC-PERP", d("30000.5")},
		`{"symbol":"ETH-PERP","price":3300.25,"time_ms":17e11}`: {"ETH-PERP", d("3300.25")},
	} {
		got, err := ParseFeed([]byte(in))
		if err != nil || got.Symbol != want.Symbol || !got.Price.Equal(want.Price) {
			t.Errorf("%s: got %+v %v", in, got, err)
		}
	}
	for _, in := range []string{
		``, `nope`, `[]`, `{}`, `{"symbol":"X"}`, `{"price":"1"}`, `{"symbol":1,"price":"1"}`,
		`{"symbol":"a.b","price":"1"}`, `{"symbol":"X","price":"0"}`, `{"symbol":"X","price":-1}`,
		`{"symbol":"X","price":1e5}`, `{"symbol":"X","price":"NaN"}`, `{"symbol":"X","price":true}`,
		`{"symbol":"X","price":null}`, `{"symbol":"X","price":"1","pad":"` + strings.Repeat("x", 5000) + `"}`,
	} {
		if _, err := ParseFeed([]byte(in)); !errors.Is(err, ErrFeed) {
			t.Errorf("%.60s: got %v, want ErrFeed", in, err)
		}
	}
}

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		"": {Kind: KindSim}, "sim": {Kind: KindSim}, "manual": {Kind: KindManual},
		"replay:data/btc.csv": {KindReplay, "data/btc.csv"}, "replay:C:/x.csv": {KindReplay, "C:/x.csv"},
		"nats:feed.index": {KindNATS, "feed.index"}, "nats:feed.*.px": {KindNATS, "feed.*.px"}, "nats:feed.>": {KindNATS, "feed.>"},
	} {
		got, err := ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("%q: got %+v %v", in, got, err)
		}
	}
	for _, in := range []string{"random", "sim:1", "manual:x", "replay", "replay:", "nats:", "nats:a..b", "nats:a.>.b", "nats:a b", "nats:a*", "nats:.a"} {
		if _, err := ParseSpec(in); !errors.Is(err, ErrSpec) {
			t.Errorf("%q: got %v, want ErrSpec", in, err)
		}
	}
	if _, ok, err := (Idle{}).Next(); ok || err != nil {
		t.Fatal("Idle produced a tick")
	}
	if KindNATS.String() != "nats" || Kind(9).String() != "invalid" {
		t.Fatal("Kind names")
	}
}
