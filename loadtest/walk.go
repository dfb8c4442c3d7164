package loadtest

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
)

// WalkConfig is the index the load test drives itself when it sets the
// index (an exchange on --index manual): a random walk with fat-tailed
// jumps, so positions win and lose, stops fire and now and then a jump
// liquidates a levered trader and the thin book leaves the rest to ADL —
// with no --shock.
type WalkConfig struct {
	Off      bool          // keep the index still (only --shock moves it)
	Interval time.Duration // between index moves [200ms]
	Bps      float64       // stddev of a move, basis points [3]
	// JumpEvery is the mean time between jumps [8s]; a jump moves the
	// index up or down by an exponentially distributed size of mean
	// JumpPct percent [3], at most 4 × JumpPct.
	JumpEvery time.Duration
	JumpPct   float64
	// Revert pulls the walk back towards its start by this fraction of the
	// distance per move [0.002], so a long run stays near its prices.
	Revert float64
}

func (w WalkConfig) withDefaults() WalkConfig {
	if w.Interval <= 0 {
		w.Interval = 200 * time.Millisecond
	}
	if w.Bps <= 0 {
		w.Bps = 3
	}
	if w.JumpEvery <= 0 {
		w.JumpEvery = 8 * time.Second
	}
	if w.JumpPct <= 0 {
		w.JumpPct = 3
	}
	if w.Revert <= 0 {
		w.Revert = 0.002
	}
	return w
}

// walker is the walk's state: a log price per symbol.
type walker struct {
	mu    sync.Mutex // step and shift
	cfg   WalkConfig
	rng   *rand.Rand
	start []float64 // log of the first price, in ticks
	logP  []float64
	jumps atomic.Int64
}

func newWalker(cfg WalkConfig, seed uint64, ticks []int64) *walker {
	w := &walker{cfg: cfg, rng: rand.New(rand.NewPCG(seed, 0x3a1c))}
	for _, t := range ticks {
		l := math.Log(float64(max(t, 1)))
		w.start, w.logP = append(w.start, l), append(w.logP, l)
	}
	return w
}

// step moves every symbol once and returns the new prices in ticks.
func (w *walker) step(out []int64) []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out = out[:0]
	pJump := float64(w.cfg.Interval) / float64(w.cfg.JumpEvery)
	for i := range w.logP {
		r := w.cfg.Bps / 1e4 * w.rng.NormFloat64()
		if w.rng.Float64() < pJump {
			size := math.Min(w.rng.ExpFloat64(), 4) * w.cfg.JumpPct / 100
			if w.rng.IntN(2) == 0 {
				size = -size
			}
			r += size
			w.jumps.Add(1)
		}
		w.logP[i] += r - w.cfg.Revert*(w.logP[i]-w.start[i])
		out = append(out, max(int64(math.Round(math.Exp(w.logP[i]))), 1))
	}
	return out
}

// walk moves the index every Interval until done.
func (r *runner) walk(ctx context.Context, w *walker, done <-chan struct{}) {
	var prices []int64
	repeat(ctx, done, w.cfg.Interval, w.cfg.Interval, func() {
		prices = w.step(prices)
		r.quiet.RLock() // an audit waits for the move to land
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		for i, s := range r.syms {
			mark, err := setIndex(c, r.ctl, r.subj, s.Name, decimal.New(prices[i]*s.tick.mant, int32(-s.tick.scale)))
			if err == nil && mark.Sign() > 0 {
				r.marks.ticks[i].Store(s.tick.units(mark))
			}
		}
		cancel()
		r.quiet.RUnlock()
	})
}

// repeat calls fn after first, then every period after each call returns,
// until done closes or ctx ends.
func repeat(ctx context.Context, done <-chan struct{}, first, period time.Duration, fn func()) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
		t.Reset(period)
	}
}

// shift moves symbol i's walk, and the level it reverts to, to ticks (a
// --shock: the walk goes on from there).
func (w *walker) shift(i int, ticks int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := math.Log(float64(max(ticks, 1)))
	w.start[i] += l - w.logP[i]
	w.logP[i] = l
}
