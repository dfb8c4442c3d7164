// Command loadtest drives a perpx exchange over NATS with simulated traders
// at an open-loop rate and reports throughput, latency (corrected for
// coordinated omission), CPU per request, the reject share over time,
// liquidations and the exchange's own invariant audits (during the run and
// at the end). It exits 1 when the invariants fail, 2 on usage or run
// errors.
//
//	go run ./cmd/loadtest --embedded --duration 10s --rate 20000 --shock --json out.json --plot out.html
//	go run ./cmd/loadtest --nats-url nats://127.0.0.1:4222 --index manual --rate 100000
//	go run ./cmd/loadtest --embedded --echo inproc --rate 50000   # the floor: NATS and this generator, no exchange
//	go run ./cmd/loadtest --embedded --window 8                   # closed loop: the most it answers with 8 in flight per connection
//	go run ./cmd/loadtest --compare-echo --rate 20000             # the echo floor, then the exchange: both p99s and their ratio
//
// The report separates the generator's own share of the latency (send lag:
// scheduled send to publish) from the rest; --cpuprofile and --trace record
// the whole process, the embedded exchange included.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/internal/floor"
	"github.com/perpx/perpx/internal/gctune"
	"github.com/perpx/perpx/loadtest"
	"github.com/perpx/perpx/natsrv"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK         = 0
	exitInvariants = 1
	exitError      = 2
)

// options are the flags that do not map one to one onto loadtest.Config.
type options struct {
	embedded       bool
	gcPercent      int
	data           string
	index          string
	symbols        string
	jsonFile       string
	plotFile       string
	user, password string
	leverage       string
	makerCapital   string
	leveredCapital string
	traderCapital  string
	quiet          bool
	noWalk         bool
	budget         float64
	echo           string
	compareEcho    bool
	cpuProfile     string
	traceFile      string
}

func parseFlags(args []string, stderr io.Writer) (*loadtest.Config, *options, error) {
	var cfg loadtest.Config
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.embedded, "embedded", false, "start an exchange in this process (implies --index manual)")
	fs.IntVar(&o.gcPercent, "gc-percent", gctune.Default, "with --embedded: the GC percentage and memory limit cmd/exchange runs with, for the whole process (0 = Go's defaults; GOGC and GOMEMLIMIT win)")
	fs.StringVar(&o.data, "data", "", "with --embedded: the exchange is durable, its journal in this directory (\"\" = in memory)")
	fs.StringVar(&cfg.URL, "nats-url", nats.DefaultURL, "NATS server of the exchange")
	fs.StringVar(&o.user, "user", "", "NATS user (must be an admin: the run deposits and moves the index)")
	fs.StringVar(&o.password, "password", "", "NATS password")
	fs.StringVar(&cfg.Prefix, "prefix", wire.DefaultPrefix, "subject prefix")
	fs.StringVar(&o.index, "index", "sim", "the exchange's index source: manual (the run sets it from --symbols prices) or sim (wait for published marks)")
	fs.StringVar(&o.symbols, "symbols", "BTC-PERP,ETH-PERP", "NAME (demo symbol) or NAME:TICK:LOT[:PRICE], comma-separated")
	fs.DurationVar(&cfg.Duration, "duration", 10e9, "sending window")
	fs.Uint64Var(&cfg.Orders, "orders", 0, "also stop after this many requests (0: no cap)")
	fs.IntVar(&cfg.Rate, "rate", 10000, "requests (orders and cancels) per second, open loop")
	fs.IntVar(&cfg.Conns, "conns", 4, "NATS connections, each pipelining its share")
	fs.IntVar(&cfg.Window, "window", 0, "closed loop instead of --rate: keep N requests in flight per connection, send the next when a reply comes (latency from the send; not with --orders)")
	fs.IntVar(&cfg.Batch, "batch", 1, "group each sender's requests due together by account into order.batch requests of up to N items (1: no batching; at most 20)")
	fs.IntVar(&cfg.Makers, "makers", 4, "market makers quoting both sides around the mark")
	fs.IntVar(&cfg.Takers, "takers", 8, "takers sending market orders")
	fs.IntVar(&cfg.Levered, "levered", 8, "high-leverage directional traders (liquidated by --shock)")
	fs.IntVar(&cfg.Cancelers, "cancelers", 4, "cancel-heavy bots")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of every trader's choices")
	fs.StringVar(&cfg.RunID, "run-id", "", "account-name prefix (default: unique per run)")
	fs.BoolVar(&o.noWalk, "no-walk", false, "when the run sets the index (--embedded, --index manual): keep it still instead of walking it with jumps")
	fs.DurationVar(&cfg.Walk.Interval, "walk-every", 200e6, "time between the walk's index moves")
	fs.Float64Var(&cfg.Walk.Bps, "walk-bps", 3, "standard deviation of one index move, in basis points")
	fs.DurationVar(&cfg.Walk.JumpEvery, "jump-every", 8e9, "mean time between index jumps (up or down, exponentially sized; they liquidate levered traders)")
	fs.Float64Var(&cfg.Walk.JumpPct, "jump-pct", 3, "mean size of an index jump in percent (at most 4 times it)")
	fs.DurationVar(&cfg.Poll, "poll", 250e6, "how often each maker, taker and levered trader reads its state (to take profit, cut losses, deleverage, keep its inventory and top up)")
	fs.Float64Var(&o.budget, "budget", 20, "each taker's and levered trader's deposits, the first included, stay within this many times its capital (makers': 20)")
	fs.DurationVar(&cfg.AuditEvery, "audit-every", 5e9, "audit the exchange's invariants (px.admin.audit) this often during the run, each in a short pause of the flow; a failure fails the run (negative: only at the end)")
	fs.BoolVar(&cfg.Shock, "shock", false, "move the index sharply mid-run to force a liquidation cascade")
	fs.Float64Var(&cfg.ShockPct, "shock-pct", 8, "percent the index falls at the shock (negative: rises; levered traders take the losing side)")
	fs.Float64Var(&cfg.ShockAt, "shock-at", 0.5, "when the shock comes, as a fraction of --duration")
	fs.StringVar(&o.leverage, "leverage", "50", "leverage of the levered traders")
	fs.StringVar(&o.makerCapital, "maker-capital", "1000000", "USDT deposited per market maker")
	fs.StringVar(&o.traderCapital, "trader-capital", "100000", "USDT deposited per taker and canceler")
	fs.StringVar(&o.leveredCapital, "levered-capital", "1000", "USDT deposited per levered trader")
	fs.BoolVar(&cfg.SkipAccountEvents, "skip-account-events", false, "do not subscribe px.acct.*.events, as if no bot listened to its fills (an exchange publishing on its own embedded server then skips building them)")
	fs.DurationVar(&cfg.Drain, "drain", 3e9, "how long to wait for the last replies")
	fs.StringVar(&o.jsonFile, "json", "", "write the JSON report to FILE")
	fs.StringVar(&o.plotFile, "plot", "", "write a self-contained HTML latency/throughput plot to FILE")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line")
	fs.BoolVar(&o.compareEcho, "compare-echo", false, "run the echo floor (--echo inproc) and then the embedded exchange at the same rate, mix and seed, and print both latencies, CPU per request and the exchange's p99 over the echo's (implies --embedded; --json, --plot and the profiles are the exchange's run)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (the exchange too with --embedded) over the run to FILE")
	fs.StringVar(&o.traceFile, "trace", "", "write a Go execution trace of this process over the run to FILE")
	fs.StringVar(&o.echo, "echo", "", "with --embedded: start an echo responder on an embedded NATS server instead of the exchange, connected inproc or tcp (the floor of NATS here), or gateway: the real gateway in front of a core that answers at once (the floor of the exchange's NATS path)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.data != "" && !o.embedded {
		return nil, nil, fmt.Errorf("--data needs --embedded")
	}
	if o.compareEcho {
		if o.echo != "" {
			return nil, nil, fmt.Errorf("--compare-echo runs the echo itself (inproc): leave --echo out")
		}
		if cfg.URL != nats.DefaultURL && cfg.URL != "" {
			return nil, nil, fmt.Errorf("--compare-echo runs both on embedded servers: leave --nats-url out")
		}
		o.embedded = true
	}
	if o.echo != "" && !o.embedded {
		return nil, nil, fmt.Errorf("--echo needs --embedded")
	}
	switch o.echo {
	case "", "inproc", "tcp", "gateway":
	default:
		return nil, nil, fmt.Errorf("--echo %q: want inproc, tcp or gateway", o.echo)
	}
	switch o.index {
	case "manual":
		cfg.SetIndex = true
	case "sim":
		cfg.SetIndex = o.embedded
	default:
		return nil, nil, fmt.Errorf("--index %q: want manual or sim", o.index)
	}
	cfg.Walk.Off = o.noWalk

	if o.budget < 1 {
		return nil, nil, fmt.Errorf("--budget %v: want at least 1 (the first deposit)", o.budget)
	}
	for _, p := range []**loadtest.Policy{&cfg.TakerPolicy, &cfg.LeveredPolicy} {
		*p = loadtest.DefaultPolicy(p == &cfg.LeveredPolicy)
		(*p).Budget = o.budget
	}
	var err error
	if cfg.Symbols, err = loadtest.ParseSymbols(o.symbols); err != nil {
		return nil, nil, err
	}
	for _, d := range []struct {
		name string
		in   string
		out  *decimal.Decimal
	}{{"leverage", o.leverage, &cfg.Leverage}, {"maker-capital", o.makerCapital, &cfg.MakerCapital},
		{"trader-capital", o.traderCapital, &cfg.TraderCapital}, {"levered-capital", o.leveredCapital, &cfg.LeveredCapital}} {
		v, ok := wire.ParseDecimal(d.in)
		if !ok || v.Sign() <= 0 {
			return nil, nil, fmt.Errorf("--%s %q: want a positive decimal", d.name, d.in)
		}
		*d.out = v
	}
	if o.user != "" {
		// With authorization on, replies may only come to the user's own inboxes.
		cfg.Options = append(cfg.Options, nats.UserInfo(o.user, o.password), nats.CustomInboxPrefix(wire.InboxPrefix(o.user)))
	}
	if !o.quiet {
		cfg.Progress = stderr
	}
	return &cfg, &o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return exitError
	}
	// The first signal ends the window early; the run still drains,
	// audits and reports.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); stop() }() // a second signal kills as usual
	if o.embedded {
		gctune.Apply(o.gcPercent) // as cmd/exchange runs
	}

	if o.compareEcho {
		return compareEcho(ctx, *cfg, o, stdout, stderr)
	}
	rep, err := measure(ctx, *cfg, o, o.echo, true)
	if err != nil {
		fmt.Fprintln(stderr, err) // already says "loadtest: …"
		return exitError
	}
	return output(rep, o, stdout, stderr)
}

// measure runs the load test once: against an echo responder (echo
// "inproc" or "tcp"), the embedded exchange, or the exchange at cfg.URL.
// profile records --cpuprofile and --trace over it.
func measure(ctx context.Context, cfg loadtest.Config, o *options, echo string, profile bool) (*loadtest.Report, error) {
	// The embedded exchange has only the run's accounts: every audit's
	// deposits must be what the run deposited.
	cfg.ExclusiveExchange = o.embedded && echo == ""
	switch {
	case o.embedded && echo != "":
		cfg.CPUScope = "the embedded NATS server and the echo responder"
		start := natsrv.StartEcho
		if echo == "gateway" {
			cfg.CPUScope = "the embedded NATS server and the gateway in front of a core that answers at once"
			start = func(prefix, _ string) (string, func(), error) { return floor.Start(prefix, true) }
		}
		url, stopEcho, err := start(cfg.Prefix, echo)
		if err != nil {
			return nil, fmt.Errorf("loadtest: echo responder: %w", err)
		}
		defer stopEcho()
		cfg.URL = url
	case o.embedded:
		if startEmbedded == nil {
			return nil, errors.New("loadtest: --embedded is not wired yet (needs app/); start cmd/exchange and use --nats-url")
		}
		cfg.CPUScope = "the embedded exchange and its NATS server"
		url, stopExchange, err := startEmbedded(ctx, EmbeddedOptions{ManualIndex: true, Prefix: cfg.Prefix, Data: o.data})
		if err != nil {
			return nil, fmt.Errorf("loadtest: embedded exchange: %w", err)
		}
		defer stopExchange()
		cfg.URL = url
	}
	if !profile {
		return loadtest.Run(ctx, cfg)
	}
	stopProfiles, err := startProfiles(o.cpuProfile, o.traceFile)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	defer stopProfiles()
	return loadtest.Run(ctx, cfg)
}

// output writes the report (text, --json, --plot) and returns the exit code.
func output(rep *loadtest.Report, o *options, stdout, stderr io.Writer) int {
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return exitError
	}
	for _, out := range []struct {
		file  string
		write func(io.Writer) error
	}{{o.jsonFile, rep.WriteJSON}, {o.plotFile, rep.WritePlot}} {
		if out.file == "" {
			continue
		}
		if err := writeFile(out.file, out.write); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return exitError
		}
	}
	if !rep.InvariantsOK {
		return exitInvariants
	}
	return exitOK
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
