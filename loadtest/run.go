package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Config configures Run. Zero fields take the defaults in brackets.
type Config struct {
	URL     string        // NATS server [nats.DefaultURL]
	Options []nats.Option // for every connection: credentials, inbox prefix
	Prefix  string        // subject prefix [px]

	Symbols []SymbolInfo // [DemoSymbols]
	// SetIndex sets each symbol's index to its Price before the run, for an
	// exchange started with --index manual; otherwise the run waits for the
	// marks the exchange publishes.
	SetIndex bool

	Duration time.Duration // sending window [10s]
	Orders   uint64        // also stop after this many requests (0: no cap)
	Rate     int           // requests per second, open loop [10000]
	Conns    int           // connections [4]
	// Batch > 1 groups each sender's requests due in one wake-up by
	// account into order.batch requests of up to Batch items (at most
	// MaxBatch); each item keeps its own due time and latency. [1: none]
	Batch int
	// Window > 0 runs a closed loop instead: each connection keeps Window
	// requests in flight and sends the next as soon as a reply comes back;
	// Rate is then ignored, Orders must be 0, latency counts from the send,
	// and a request unanswered after Drain is given up as a timeout.
	// It measures the most the exchange answers at a bounded concurrency
	// (Little's law: latency ≈ Window × Conns ÷ throughput). [0: open loop]
	Window int

	Makers, Takers, Levered, Cancelers int // accounts per kind

	Seed  uint64 // seeds every trader's choices
	RunID string // account-name prefix, unique per run [from the clock]

	// Walk is the index the run drives when it sets the index (SetIndex):
	// a random walk with jumps, unless Walk.Off.
	Walk WalkConfig
	// Poll is how often each maker, taker and levered trader reads its state to
	// apply its policy [250ms]; TakerPolicy and LeveredPolicy override
	// the defaults [DefaultPolicy].
	Poll          time.Duration
	TakerPolicy   *Policy
	LeveredPolicy *Policy
	// AuditEvery runs px.admin.audit at this interval during the run
	// (each in a pause of the flow, see pausedAudit), besides the final
	// one; negative: only the final one. The pause stops this run's flow
	// only: against an exchange others trade on (its --bots included) an
	// audit may not find it quiet. [5s]
	AuditEvery time.Duration
	// ExclusiveExchange says the run's accounts are the exchange's only
	// ones (an --embedded exchange): every audit's deposits must then
	// equal what the run deposited.
	ExclusiveExchange bool

	Shock    bool    // move the index mid-run to force liquidations
	ShockPct float64 // percent the index falls (negative: rises) [8]
	ShockAt  float64 // when, as a fraction of Duration [0.5]

	MM             MMConfig        // makers' ladder (Levels, SpreadBps, StepBps, Notional)
	MakerCapital   decimal.Decimal // [1000000]
	TraderCapital  decimal.Decimal // takers and cancelers [100000]
	LeveredCapital decimal.Decimal // [1000]
	Leverage       decimal.Decimal // of the levered traders [50]
	TakerNotional  float64         // [500]

	// SkipAccountEvents does not subscribe px.acct.*.events, as if no bot
	// listened to its fills: the exchange then neither builds nor sends
	// them (about two per order). Liquidations are counted either way.
	SkipAccountEvents bool

	// CPUScope says what runs in this process besides the generator, for
	// the report's CPU per request (e.g. "the embedded exchange and its
	// NATS server"); "" means the generator alone.
	CPUScope string

	Drain    time.Duration // wait for the last replies [3s]
	MarkWait time.Duration // wait for published marks [5s]
	Ring     int           // requests in flight per connection [65536]
	Progress io.Writer     // the live line each second; nil: none
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = nats.DefaultURL
	}
	if c.Symbols == nil {
		c.Symbols = DemoSymbols()
	}
	if c.Duration <= 0 && c.Orders == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Duration <= 0 {
		c.Duration = 365 * 24 * time.Hour // bounded by Orders
	}
	if c.Rate <= 0 {
		c.Rate = 10000
	}
	if c.Conns <= 0 {
		c.Conns = 4
	}
	if c.Batch <= 0 {
		c.Batch = 1
	}
	if c.RunID == "" {
		c.RunID = "lt" + strconv.FormatInt(time.Now().UnixMilli(), 36)
	}
	if c.ShockPct == 0 {
		c.ShockPct = 8
	}
	if c.ShockAt <= 0 || c.ShockAt >= 1 {
		c.ShockAt = 0.5
	}
	c.MM = c.MM.withDefaults()
	c.Walk = c.Walk.withDefaults()
	if c.Poll <= 0 {
		c.Poll = 250 * time.Millisecond
	}
	if c.TakerPolicy == nil {
		p := defaultTakerPolicy
		c.TakerPolicy = &p
	}
	if c.LeveredPolicy == nil {
		p := defaultLeveredPolicy
		c.LeveredPolicy = &p
	}
	if c.AuditEvery == 0 {
		c.AuditEvery = 5 * time.Second
	}
	dflt := func(d *decimal.Decimal, v int64) {
		if d.Sign() <= 0 {
			*d = decimal.NewFromInt(v)
		}
	}
	dflt(&c.MakerCapital, 1_000_000)
	dflt(&c.TraderCapital, 100_000)
	dflt(&c.LeveredCapital, 1000)
	dflt(&c.Leverage, 50)
	if c.TakerNotional <= 0 {
		c.TakerNotional = 500
	}
	if c.Drain <= 0 {
		c.Drain = 3 * time.Second
	}
	if c.MarkWait <= 0 {
		c.MarkWait = 5 * time.Second
	}
	if c.Ring <= 0 {
		c.Ring = 1 << 16
	}
	c.Ring = max(c.Ring, c.Batch, c.Window) // a batch's items are in flight together
	return c
}

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("loadtest: bad config")

// Run sets up the accounts, runs the open-loop flow for the window, waits
// for the last replies, audits the exchange and returns the report. An
// error means the run could not take place; broken invariants are reported
// in Report.InvariantsOK and Problems. Cancelling ctx ends the window early
// (the run still drains, audits and reports).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	subj, err := wire.NewSubjects(cfg.Prefix)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	syms, err := compileSymbols(cfg.Symbols)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Batch > MaxBatch {
		return nil, fmt.Errorf("%w: batch %d: at most %d items", ErrConfig, cfg.Batch, MaxBatch)
	}
	if cfg.Window > 0 && cfg.Batch > 1 {
		return nil, fmt.Errorf("%w: a closed-loop window and batches do not mix", ErrConfig)
	}
	if cfg.Window < 0 {
		return nil, fmt.Errorf("%w: window %d", ErrConfig, cfg.Window)
	}
	if cfg.Window > 0 && cfg.Orders > 0 {
		return nil, fmt.Errorf("%w: a closed-loop window runs for the duration; an order cap is for the open loop", ErrConfig)
	}
	if cfg.Makers+cfg.Takers+cfg.Levered+cfg.Cancelers <= 0 {
		return nil, fmt.Errorf("%w: no traders", ErrConfig)
	}
	r := &runner{cfg: cfg, subj: subj, syms: syms, marks: newMarks(syms), events: &eventCounter{makers: map[string]*filledSet{}}}
	defer r.close()
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// runner holds one run's connections and state.
type runner struct {
	cfg    Config
	subj   wire.Subjects
	syms   []*symbol
	marks  *marks
	events *eventCounter

	ctl     *nats.Conn // setup, marks, events, shock, audit
	conns   []*nats.Conn
	pipes   []*pipe
	tables  [][]trader // per pipe, weighted
	traders map[string]int

	mgr    *managers
	walker *walker
	gate   *gate
	checks []AuditCheck // the audits during the run
	// quiet is held for writing by an audit, for reading by everything
	// outside the measured flow that moves money or prices (deposits,
	// index moves), so an audit sees none of them half done.
	quiet     sync.RWMutex
	depMu     sync.Mutex
	deposited decimal.Decimal // by this run, through px.admin.deposit
}

// deposit credits amount to acct and counts it in the run's deposits.
func (r *runner) deposit(ctx context.Context, acct string, amount decimal.Decimal) error {
	r.quiet.RLock()
	defer r.quiet.RUnlock()
	if err := deposit(ctx, r.ctl, r.subj, acct, r.cfg.MM.Asset, amount); err != nil {
		return err
	}
	r.depMu.Lock()
	r.deposited = r.deposited.Add(amount)
	r.depMu.Unlock()
	return nil
}

func (r *runner) connect(name string) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.Name(name)}, r.cfg.Options...)
	nc, err := nats.Connect(r.cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("loadtest: connect %s: %w", r.cfg.URL, err)
	}
	return nc, nil
}

func (r *runner) close() {
	for _, p := range r.pipes {
		p.close()
	}
	for _, nc := range append(r.conns, r.ctl) {
		if nc != nil {
			nc.Close()
		}
	}
}

// prepare connects, learns the marks and creates the funded traders.
func (r *runner) prepare(ctx context.Context) error {
	var err error
	if r.ctl, err = r.connect("perpx-loadtest-ctl"); err != nil {
		return err
	}
	// The subscriptions end with the connection.
	if err := r.marks.watch(r.ctl, r.subj); err != nil {
		return err
	}
	if err := r.initialMarks(ctx); err != nil {
		return err
	}
	if err := r.makeTraders(ctx); err != nil {
		return err
	}
	// After makeTraders: the subscription reads the makers' fill sets.
	if err := r.events.watch(r.ctl, r.subj, !r.cfg.SkipAccountEvents); err != nil {
		return err
	}
	for i := range r.tables {
		nc, err := r.connect(fmt.Sprintf("perpx-loadtest-%d", i))
		if err != nil {
			return err
		}
		r.conns = append(r.conns, nc)
	}
	return nil
}

// initialMarks sets the index (SetIndex) or waits for published marks,
// falling back to the depth's mid and then to the configured price.
func (r *runner) initialMarks(ctx context.Context) error {
	c, cancel := context.WithTimeout(ctx, r.cfg.MarkWait)
	defer cancel()
	if r.cfg.SetIndex {
		for i, s := range r.syms {
			if s.Price.Sign() <= 0 {
				return fmt.Errorf("%w: %s needs a price to set the index", ErrConfig, s.Name)
			}
			mark, err := setIndex(c, r.ctl, r.subj, s.Name, s.Price)
			if err != nil {
				return fmt.Errorf("loadtest: set index: %w", err)
			}
			if mark.Sign() <= 0 {
				mark = s.Price
			}
			r.marks.ticks[i].Store(s.tick.units(mark))
		}
		return nil
	}
	for !r.marks.ready() && c.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	for i, s := range r.syms {
		if r.marks.ticks[i].Load() > 0 {
			continue
		}
		mid, ok := depthMid(ctx, r.ctl, r.subj, s.Name)
		switch {
		case ok:
			r.marks.ticks[i].Store(s.tick.units(mid))
		case s.Price.Sign() > 0:
			r.marks.ticks[i].Store(s.tick.units(s.Price))
		default:
			return fmt.Errorf("loadtest: no mark for %s: none published within %v, empty book, no configured price", s.Name, r.cfg.MarkWait)
		}
	}
	return nil
}

// makeTraders creates, funds and spreads the traders over the connections:
// kind by kind, round robin, so every connection gets a similar mix.
func (r *runner) makeTraders(ctx context.Context) error {
	cfg := r.cfg
	nConns := min(cfg.Conns, cfg.Makers+cfg.Takers+cfg.Levered+cfg.Cancelers)
	r.tables = make([][]trader, nConns)
	r.traders = map[string]int{}
	levSide := wire.Buy // the side a falling index hurts
	if cfg.ShockPct < 0 {
		levSide = wire.Sell
	}
	maxNotional, _ := cfg.LeveredCapital.Mul(cfg.Leverage).Float64()
	r.mgr = &managers{r: r, every: cfg.Poll}
	manage := func(a acct, capital decimal.Decimal, p Policy) *control {
		c := &control{}
		f, _ := capital.Float64()
		r.mgr.traders = append(r.mgr.traders, &managed{name: a.name, sym: a.sym, capital: f, policy: p, ctl: c, deposited: f})
		return c
	}
	var setup []func(context.Context) error
	n := 0
	add := func(kindTag, plural string, count int, capital decimal.Decimal, mk func(acct) trader) {
		rl := role(slices.Index(roleTags[:], kindTag))
		for i := range count {
			name := fmt.Sprintf("%s-%s%d", cfg.RunID, kindTag, i)
			si := n % len(r.syms)
			a := acct{name: name, place: r.subj.OrderPlace(name), cancel: r.subj.OrderCancel(name), batch: r.subj.OrderBatch(name),
				sym: r.syms[si], mark: &r.marks.ticks[si], rng: rand.New(rand.NewPCG(cfg.Seed, uint64(n))), kind: rl}
			if cfg.Batch <= 1 {
				a.cancelAll, a.amend = r.subj.OrderCancelAll(name), r.subj.OrderAmend(name)
			}
			t := mk(a)
			conn := n % nConns
			for range weight[kindTag] {
				r.tables[conn] = append(r.tables[conn], t)
			}
			setup = append(setup, func(c context.Context) error {
				if err := r.deposit(c, name, capital); err != nil {
					return err
				}
				if kindTag == KindLevered {
					return setLeverage(c, r.ctl, r.subj, name, a.sym.Name, cfg.Leverage)
				}
				return nil
			})
			n++
		}
		r.traders[plural] = count
	}
	add(KindMaker, "makers", cfg.Makers, cfg.MakerCapital, func(a acct) trader {
		m := newMaker(a, cfg.MM)
		r.events.makers[a.name] = &m.filled
		m.ctl = manage(a, cfg.MakerCapital, makerPolicy)
		return m
	})
	add(KindTaker, "takers", cfg.Takers, cfg.TraderCapital, func(a acct) trader {
		return &taker{acct: a, notional: cfg.TakerNotional, ctl: manage(a, cfg.TraderCapital, *cfg.TakerPolicy), maxLev: cfg.TakerPolicy.MaxLeverage}
	})
	add(KindLevered, "levered", cfg.Levered, cfg.LeveredCapital, func(a acct) trader {
		// Orders of 2% of the most the capital can carry, as many as
		// reach the policy's target leverage on the capital (fills are
		// what the book holds); the idle order sits 5% away, inside a
		// typical price band. A shock run keeps them on the side the
		// shock hurts.
		lev, _ := cfg.Leverage.Float64()
		p := *cfg.LeveredPolicy
		rounds := max(int(math.Ceil(math.Min(p.TargetLeverage, lev)/lev/0.02)), 1)
		side := levSide
		if !cfg.Shock {
			side = randomSide(a.rng)
		}
		return &levered{acct: a, ctl: manage(a, cfg.LeveredCapital, p), side: side, fixedSide: cfg.Shock, step: 0.02 * maxNotional,
			target: math.Min(p.TargetLeverage, lev), roundOrders: rounds, buildOrders: rounds, holdOffBps: 500}
	})
	add(KindCanceler, "cancelers", cfg.Cancelers, cfg.TraderCapital, func(a acct) trader { return &canceler{acct: a, notional: cfg.TakerNotional} })
	return parallel(ctx, 8, 10*time.Second, setup)
}

// parallel runs fns with at most width at a time, each under timeout, and
// returns the first error.
func parallel(ctx context.Context, width int, timeout time.Duration, fns []func(context.Context) error) error {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, fn := range fns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if err := fn(c); err != nil {
				once.Do(func() { first = fmt.Errorf("loadtest: setup: %w", err) })
			}
		})
	}
	wg.Wait()
	return first
}
