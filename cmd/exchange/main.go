// Command exchange runs the perpx paper-trading exchange. With no flags it
// embeds a NATS server on 127.0.0.1:4222, runs the demo symbols BTC-PERP and
// ETH-PERP on a simulated index with two liquidity bots and two noise
// takers, and serves the web trading page and /metrics (with --pprof,
// /debug/pprof too) on 127.0.0.1:9090 (the page talks NATS over the
// embedded server's WebSocket on 127.0.0.1:9222). See README.md for the
// flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/internal/gctune"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// monitorAddr is the embedded server's monitoring address: off by default
// when cfg has users, since the monitor lists every user's connections and
// subscriptions to whoever reaches it, past the permissions; given
// explicitly, the operator's.
func monitorAddr(fs *flag.FlagSet, addr string, cfg *config.Config) string {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "nats-monitor" })
	if len(cfg.Users) > 0 && !set {
		return ""
	}
	return addr
}

// passwordEnv holds the --nats-url password, which the process list does
// not show.
const passwordEnv = "PERPX_NATS_PASSWORD"

func run(args []string) int {
	fs := flag.NewFlagSet("exchange", flag.ContinueOnError)
	var o app.Options
	fs.StringVar(&o.NATSListen, "nats-listen", "127.0.0.1:4222", "embedded NATS server's client address")
	fs.StringVar(&o.NATSMonitor, "nats-monitor", "127.0.0.1:8222", "embedded NATS server's monitoring address (\"\" = off; off by default when the config has users: it lists every user's connections)")
	fs.StringVar(&o.NATSWS, "nats-ws", "127.0.0.1:9222", "embedded NATS server's WebSocket address, the web page's connection (\"\" = off)")
	fs.StringVar(&o.NATSURL, "nats-url", "", "join this NATS server or cluster instead of embedding one")
	fs.StringVar(&o.WebWS, "web-ws", "", "the NATS WebSocket URL the web page connects to (ws://host:port; with --nats-url, that server's websocket listener; \"\" = the embedded one's, --nats-ws)")
	fs.StringVar(&o.NATSUser, "nats-user", "", "user for --nats-url")
	// Not the flag's default: -h prints defaults, and it would print the password.
	fs.StringVar(&o.NATSPass, "nats-password", "", "password for --nats-url (default $PERPX_NATS_PASSWORD: a flag shows in the process list)")
	cfgPath := fs.String("config", "", "config file (JSON, see API.md); default: the demo symbols")
	fs.StringVar(&o.Prefix, "prefix", "px", "subject prefix")
	fs.StringVar(&o.Index, "index", "sim", "index source: sim | manual | replay:FILE | nats:SUBJECT")
	fs.Float64Var(&o.Speed, "speed", 1, "replay speed multiplier for --index replay:FILE")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the simulated index")
	fs.IntVar(&o.Bots, "bots", 2, "built-in bots: N market makers (bot-1..N) and N takers (taker-1..N, taker-1 levered so it is liquidated now and then); at each start the insurance fund gets a 100000 top-up for them (0 = none)")
	fs.StringVar(&o.HTTP, "http", "127.0.0.1:9090", "address of the web page and /metrics (\"\" = off)")
	fs.BoolVar(&o.Pprof, "pprof", false, "also serve /debug/pprof on --http (its cmdline shows every flag, --nats-password too: keep --http on loopback)")
	fs.StringVar(&o.BinanceHTTP, "binance-http", "127.0.0.1:8090", "address of the Binance USDⓈ-M futures compatible REST and WebSocket face (\"\" = off)")
	fs.IntVar(&o.BinanceWeight, "binance-weight", 0, "request weight per IP per minute on the Binance face (0 = Binance's 2400; negative = no limit: many bots behind one address)")
	fs.BoolVar(&o.BinanceOpen, "binance-open", false, "let the Binance face run open (config without users: any API key trades the account it names) although --nats-user logs in")
	fs.StringVar(&o.Data, "data", "perpx-data", "directory of the journal (the embedded server's JetStream store); \"\" = in memory, nothing survives a restart")
	fs.IntVar(&o.JournalReplicas, "journal-replicas", 1, "replicas of the journal stream with --nats-url (3 on a cluster)")
	fs.StringVar(&o.Role, "role", "", "one of several instances on a NATS cluster (--nats-url, --data): auto (follow, lead when the lease is free), leader (auto, but start once leading), follower (only follow); \"\" = a lone exchange")
	fs.DurationVar(&o.Lease, "lease", 3*time.Second, "the leadership lease's time to live with --role (the first instance's applies to all)")
	fs.StringVar(&o.Name, "name", "", "this instance's name in px.admin.cluster (default host-pid)")
	fs.IntVar(&o.SnapshotEvery, "snapshot-every", 1_000_000, "take a snapshot after this many journal records")
	fs.DurationVar(&o.SnapshotInterval, "snapshot-interval", 10*time.Minute, "take a snapshot at least this often while records come")
	level := fs.String("log-level", "info", "debug | info | warn | error")
	gcPercent := fs.Int("gc-percent", gctune.Default, "GC percentage, held by a memory limit of 3/4 of the machine's or container's memory (0 = Go's defaults; GOGC and GOMEMLIMIT win)")
	// A bad flag is one line on stderr; -h lists the flags.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fmt.Fprintln(os.Stderr, "Usage of exchange:")
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(os.Stderr, "exchange: %v (exchange -h lists the flags)\n", err)
		return 2
	}
	// The flag package stops at the first argument that is no flag: what
	// follows it (a --data, a port) would be ignored without a word.
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "exchange: unexpected argument %q: every argument is a flag, and none after it was read (exchange -h lists the flags)\n", fs.Arg(0))
		return 2
	}
	if o.NATSPass == "" {
		o.NATSPass = os.Getenv(passwordEnv)
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(os.Stderr, "exchange: --log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	o.Logger = log
	gc := gctune.Apply(*gcPercent) // before the start: recovery runs under it too
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		log.Error("cannot load the config", "err", err)
		return 2
	}
	o.Config = cfg
	o.NATSMonitor = monitorAddr(fs, o.NATSMonitor, cfg)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.Start(ctx, o)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if gc != (gctune.Setting{}) {
		log.Info("garbage collector", "percent", gc.Percent, "memory_limit_bytes", gc.Limit)
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case <-a.Failed(): // a standby that must not go on: the operator has to act
		log.Error("stopped for good", "err", a.Err())
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	if a.Err() != nil {
		return 1
	}
	log.Info("stopped")
	return 0
}
