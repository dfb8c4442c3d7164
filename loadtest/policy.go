package loadtest

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Policy is how a directional trader manages its account, as bots do: it
// takes profit, cuts losses, keeps its leverage in bounds and tops its
// account up within a budget. The trader reads its state every poll (a
// read outside the measured flow) and acts through its next orders.
type Policy struct {
	// TakeProfit and StopLoss close the whole position when its
	// unrealized PnL reaches +TakeProfit or −StopLoss times the capital.
	TakeProfit, StopLoss float64
	// MaxLeverage: a position worth more than MaxLeverage × equity is
	// reduced back to TargetLeverage × equity (a levered trader also
	// builds to TargetLeverage).
	MaxLeverage, TargetLeverage float64
	// Refill: when the equity falls below Refill × capital with no
	// position open (after a liquidation or a losing close), the account
	// is topped up to the capital, as long as all its deposits, the first
	// included, stay within Budget × capital (a trader at its budget goes
	// on with what it has left).
	Refill float64
	Budget float64
}

// The default policies. Takers trade small against their capital: they
// close at ±2 % of it and keep their position under 2× their equity.
// Levered traders build to 40× (their account allows 50×), take profit at
// +50 % of their capital, cut at −40 % (a 1 % move), deleverage beyond
// 60×; a jump of the index larger than about 2 % liquidates them before
// the stop can act. Both top up to their capital below half of it, within 20×
// it in all.
// Makers only keep their inventory within MMConfig.MaxPosition (by
// quoting the side that reduces it) and top up like the others.
var (
	makerPolicy          = Policy{Refill: 0.5, Budget: 20}
	defaultTakerPolicy   = Policy{TakeProfit: 0.02, StopLoss: 0.02, MaxLeverage: 2, TargetLeverage: 1, Refill: 0.5, Budget: 20}
	defaultLeveredPolicy = Policy{TakeProfit: 0.5, StopLoss: 0.4, MaxLeverage: 60, TargetLeverage: 40, Refill: 0.5, Budget: 20}
)

// DefaultPolicy returns a copy of the levered traders' default policy, or
// the takers'.
func DefaultPolicy(levered bool) *Policy {
	p := defaultTakerPolicy
	if levered {
		p = defaultLeveredPolicy
	}
	return &p
}

// accountView is what a poll of state tells the policy about one symbol.
type accountView struct {
	lots     int64   // signed position size in lots (long > 0)
	notional float64 // |position| at the mark
	pnl      float64 // unrealized
	equity   float64
}

// Reasons a decision gives, counted in the report.
const (
	reasonNone = iota
	reasonTakeProfit
	reasonStopLoss
	reasonDeleverage
	nReasons
)

// decision is what the policy does after a poll: reduce the position by
// reduceLots (sign: the position's; 0 none) and/or deposit.
type decision struct {
	reduceLots int64
	reason     int
	deposit    float64
	broke      bool // flat, short of money and at its budget
}

// decide applies p to v for a trader with capital that has deposited
// deposited so far.
func (p Policy) decide(v accountView, capital, deposited float64) decision {
	if v.lots != 0 {
		switch {
		case p.TakeProfit > 0 && v.pnl >= p.TakeProfit*capital:
			return decision{reduceLots: v.lots, reason: reasonTakeProfit}
		case p.StopLoss > 0 && v.pnl <= -p.StopLoss*capital:
			return decision{reduceLots: v.lots, reason: reasonStopLoss}
		case p.MaxLeverage > 0 && v.notional > p.MaxLeverage*math.Max(v.equity, 0):
			keep := 0.0
			if v.notional > 0 && v.equity > 0 {
				keep = p.TargetLeverage * v.equity / v.notional
			}
			cut := int64(math.Ceil(float64(abs(v.lots)) * (1 - keep)))
			if v.lots < 0 {
				cut = -cut
			}
			return decision{reduceLots: cut, reason: reasonDeleverage}
		}
		return decision{}
	}
	if v.equity >= p.Refill*capital {
		return decision{}
	}
	amount := math.Min(capital-v.equity, p.Budget*capital-deposited)
	if amount < 0.01*capital {
		return decision{broke: true}
	}
	return decision{deposit: amount}
}

// control is what a trader's manager (polling its state) tells the
// trader's sender (next). The sender never waits on it: the flow stays open
// loop, acting on the state as of the last poll.
type control struct {
	mu         sync.Mutex
	reduceLots int64 // to send as a reduce-only market order; sign: the position's
	lots       int64 // position as of the last poll (signed lots)
	notional   float64
	equity     float64
	polled     bool
	broke      bool
	seq        uint64 // polls so far
}

// flatSince reports whether a poll after the seq-th found no position.
func (c *control) flatSince(seq uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq > seq && c.lots == 0
}

// pollCount is the number of polls so far.
func (c *control) pollCount() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
}

// take returns the reduction to send, once.
func (c *control) take() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reduceLots
	c.reduceLots = 0
	return r
}

// position is the last polled signed position in lots, its notional and
// the equity; ok is false before the first poll.
func (c *control) position() (lots int64, notional, equity float64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lots, c.notional, c.equity, c.polled
}

func (c *control) isBroke() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broke
}

// managed is a trader run by a Policy.
type managed struct {
	name    string
	sym     *symbol
	capital float64
	policy  Policy
	ctl     *control
	// deposited is every deposit so far, the first included.
	deposited float64
}

// Management counts what the traders' policies did over a run.
type Management struct {
	TakeProfits int64   `json:"take_profits"`
	StopLosses  int64   `json:"stop_losses"`
	Deleverages int64   `json:"deleverages"`
	Refills     int64   `json:"refills"`
	Refilled    float64 `json:"refilled"` // total topped up, in the asset
	Broke       int     `json:"broke"`    // traders at their budget at the end
	Polls       int64   `json:"polls"`
	PollErrors  int64   `json:"poll_errors"`
}

// managers polls every managed trader's state and applies its policy.
type managers struct {
	r       *runner
	traders []*managed
	every   time.Duration
	reasons [nReasons]atomic.Int64
	refills atomic.Int64
	polls   atomic.Int64
	errs    atomic.Int64
	mu      sync.Mutex // refilled
	filled  float64
}

// run polls each trader every m.every (spread over the period) until done.
func (m *managers) run(ctx context.Context, done <-chan struct{}) {
	ctx, cancel := context.WithCancel(ctx) // a poll in flight ends with the run
	defer cancel()
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
		}
		cancel()
	}()
	var wg sync.WaitGroup
	for i, t := range m.traders {
		offset := m.every * time.Duration(i) / time.Duration(max(len(m.traders), 1))
		wg.Go(func() { repeat(ctx, done, offset, m.every, func() { m.poll(ctx, t) }) })
	}
	wg.Wait()
}

// poll reads t's state, applies its policy and tops it up if it says so.
func (m *managers) poll(ctx context.Context, t *managed) {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m.polls.Add(1)
	var rep wire.AccountReply
	if err := call(c, m.r.ctl, m.r.subj.State(t.name), wire.State{Symbol: t.sym.Name}, &rep); err != nil || rep.Account == nil {
		m.errs.Add(1)
		return
	}
	v := viewOf(rep.Account, t.sym)
	d := t.policy.decide(v, t.capital, t.deposited)
	t.ctl.mu.Lock()
	t.ctl.lots, t.ctl.notional, t.ctl.equity, t.ctl.polled = v.lots, v.notional, v.equity, true
	t.ctl.seq++
	t.ctl.reduceLots, t.ctl.broke = d.reduceLots, d.broke
	t.ctl.mu.Unlock()
	m.reasons[d.reason].Add(1)
	if d.deposit > 0 {
		amount := decimal.NewFromFloat(d.deposit).Round(2)
		if err := m.r.deposit(c, t.name, amount); err != nil {
			m.errs.Add(1)
			return
		}
		f, _ := amount.Float64()
		t.deposited += f
		m.refills.Add(1)
		m.mu.Lock()
		m.filled += f
		m.mu.Unlock()
	}
}

// viewOf reads a's position in sym and its equity.
func viewOf(a *wire.Account, sym *symbol) accountView {
	v := accountView{}
	v.equity, _ = a.Equity.Float64()
	for _, p := range a.Positions {
		if p.Symbol != sym.Name {
			continue
		}
		v.lots = sym.lot.units(p.Qty)
		if p.Side == wire.Short {
			v.lots = -v.lots
		}
		v.notional, _ = p.Qty.Mul(p.MarkPrice).Float64()
		v.pnl, _ = p.UnrealizedPnL.Float64()
	}
	return v
}

// report sums the managers' counters.
func (m *managers) report() Management {
	out := Management{
		TakeProfits: m.reasons[reasonTakeProfit].Load(), StopLosses: m.reasons[reasonStopLoss].Load(),
		Deleverages: m.reasons[reasonDeleverage].Load(), Refills: m.refills.Load(),
		Polls: m.polls.Load(), PollErrors: m.errs.Load(),
	}
	m.mu.Lock()
	out.Refilled = m.filled
	m.mu.Unlock()
	for _, t := range m.traders {
		if t.ctl.isBroke() {
			out.Broke++
		}
	}
	return out
}
