package index

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Sim defaults: a step a second with 5 bp of noise, and about one jump of
// ~2 % every 500 steps, lively enough to move marks and trigger a
// liquidation in a demo.
const (
	DefaultInterval  = time.Second
	DefaultSigma     = 0.0005
	DefaultJumpProb  = 0.002
	DefaultJumpSigma = 0.02
	// Band keeps a walk within [start/Band, start×Band].
	Band = 100.0
)

// SimSymbol is one walked symbol: its start price and the tick it rounds to
// (zero: 8 decimals).
type SimSymbol struct {
	Symbol string
	Start  decimal.Decimal
	Tick   decimal.Decimal
}

// SimConfig configures NewSim; zero numbers take the defaults above.
type SimConfig struct {
	Seed      uint64
	Interval  time.Duration
	Sigma     float64 // stddev of a step's log return
	JumpProb  float64 // probability of a jump per step
	JumpSigma float64 // stddev of a jump's log return
	Symbols   []SimSymbol
}

// Sim is a geometric random walk with rare jumps per symbol. Each symbol
// draws from its own generator seeded by (Seed, symbol), so a symbol's path
// does not change when others are added.
type Sim struct {
	cfg  SimConfig
	at   time.Time // due time of the current step
	i    int       // next symbol of the current step
	walk []walker
}

type walker struct {
	rng      *rand.Rand
	logP     float64
	lo, hi   float64 // log bounds
	tick     decimal.Decimal
	emitted0 bool // the start price is the first tick
}

// NewSim starts the walks at start: the first ticks, due at start, are the
// start prices; then one tick per symbol every Interval.
func NewSim(cfg SimConfig, start time.Time) (*Sim, error) {
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Sigma == 0 {
		cfg.Sigma = DefaultSigma
	}
	if cfg.JumpProb == 0 {
		cfg.JumpProb = DefaultJumpProb
	}
	if cfg.JumpSigma == 0 {
		cfg.JumpSigma = DefaultJumpSigma
	}
	switch {
	case cfg.Interval < 0:
		return nil, fmt.Errorf("%w: interval %v must be positive", ErrSim, cfg.Interval)
	case !(cfg.Sigma > 0 && cfg.Sigma <= 0.1):
		return nil, fmt.Errorf("%w: sigma %v must be in (0, 0.1]", ErrSim, cfg.Sigma)
	case !(cfg.JumpProb >= 0 && cfg.JumpProb <= 1):
		return nil, fmt.Errorf("%w: jump probability %v must be in [0, 1]", ErrSim, cfg.JumpProb)
	case !(cfg.JumpSigma > 0 && cfg.JumpSigma <= 0.5):
		return nil, fmt.Errorf("%w: jump sigma %v must be in (0, 0.5]", ErrSim, cfg.JumpSigma)
	case len(cfg.Symbols) == 0:
		return nil, fmt.Errorf("%w: no symbols", ErrSim)
	}
	s := &Sim{cfg: cfg, at: start}
	seen := map[string]bool{}
	for _, sym := range cfg.Symbols {
		if !wire.ValidToken(sym.Symbol) || seen[sym.Symbol] {
			return nil, fmt.Errorf("%w: symbol %q is malformed or repeated", ErrSim, sym.Symbol)
		}
		seen[sym.Symbol] = true
		if sym.Tick.Sign() < 0 {
			return nil, fmt.Errorf("%w: %s: tick %s is negative", ErrSim, sym.Symbol, sym.Tick)
		}
		w := walker{rng: rand.New(rand.NewPCG(cfg.Seed, hash(sym.Symbol))), tick: sym.Tick}
		if err := w.reset(sym.Start); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrSim, sym.Symbol, err)
		}
		s.walk = append(s.walk, w)
	}
	return s, nil
}

func hash(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// reset centres the walk and its band on p.
func (w *walker) reset(p decimal.Decimal) error {
	f, _ := p.Float64()
	if !(f > 0) || math.IsInf(f, 0) {
		return fmt.Errorf("price %s must be positive", p)
	}
	w.logP = math.Log(f)
	w.lo, w.hi = w.logP-math.Log(Band), w.logP+math.Log(Band)
	return nil
}

// Next returns the next tick; a sim never ends.
func (s *Sim) Next() (Tick, bool, error) {
	if s.i == len(s.walk) {
		s.i = 0
		s.at = s.at.Add(s.cfg.Interval)
	}
	w := &s.walk[s.i]
	sym := s.cfg.Symbols[s.i].Symbol
	s.i++
	if w.emitted0 {
		w.step(s.cfg)
	}
	w.emitted0 = true
	return Tick{Due: s.at, Symbol: sym, Price: w.price()}, true, nil
}

func (w *walker) step(cfg SimConfig) {
	r := cfg.Sigma * w.rng.NormFloat64()
	if w.rng.Float64() < cfg.JumpProb {
		r += cfg.JumpSigma * w.rng.NormFloat64()
	}
	w.logP = min(max(w.logP+r, w.lo), w.hi)
}

// price rounds the walk to the tick (at least one tick) or to 8 decimals.
func (w *walker) price() decimal.Decimal {
	p := decimal.NewFromFloat(math.Exp(w.logP))
	if w.tick.IsZero() {
		return decimal.Max(p.Round(8), decimal.New(1, -8))
	}
	return decimal.Max(p.Div(w.tick).Round(0).Mul(w.tick), w.tick)
}

// Set continues symbol's walk from p (an admin moved the index).
func (s *Sim) Set(symbol string, p decimal.Decimal) error {
	for i := range s.walk {
		if s.cfg.Symbols[i].Symbol == symbol {
			if err := s.walk[i].reset(p); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrSim, symbol, err)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: unknown symbol %q", ErrSim, symbol)
}
