// Command binance runs perpx's Binance USDⓈ-M futures compatible face
// (package binance) as a process of its own, a NATS client of an exchange
// running elsewhere:
//
//	binance --nats-url nats://127.0.0.1:4222 --config perpx.json --listen 127.0.0.1:8090
//
// It needs the exchange's config (symbols, users with api_key/api_secret)
// and, on a server with users, a login allowed every account's subjects
// (an admin). cmd/exchange runs the same face in-process (--binance-http).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/binance"
	"github.com/perpx/perpx/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx ends (SIGINT or SIGTERM), writing help, errors and
// the log to stderr.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("binance", flag.ContinueOnError)
	url := fs.String("nats-url", "nats://127.0.0.1:4222", "the exchange's NATS server")
	user := fs.String("nats-user", "", "NATS user (an admin when the server has users)")
	pass := fs.String("nats-password", "", "NATS password (default $PERPX_NATS_PASSWORD, which the process list does not show)")
	cfgPath := fs.String("config", "", "the exchange's config file (symbols, users' API keys); default: the demo symbols")
	prefix := fs.String("prefix", "px", "the exchange's subject prefix")
	open := fs.Bool("open", false, "accept open mode (a config without users: any API key trades the account it names, no signature checked) although --nats-user logs in")
	weight := fs.Int("weight", 0, "request weight per IP per minute (0 = Binance's 2400; negative = no limit: many bots behind one address)")
	listen := fs.String("listen", "127.0.0.1:8090", "address of the REST and WebSocket server")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "Usage of binance:")
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "binance: %v (binance -h lists the flags)\n", err)
		return 2
	}
	if fs.NArg() > 0 { // the flag package ignores every flag after it
		fmt.Fprintf(stderr, "binance: unexpected argument %q: every argument is a flag, and none after it was read (binance -h lists the flags)\n", fs.Arg(0))
		return 2
	}
	if *pass == "" { // not the flag's default, which -h would print
		*pass = os.Getenv("PERPX_NATS_PASSWORD")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		log.Error("cannot load the config", "err", err)
		return 2
	}
	opts := append([]nats.Option{nats.Name("perpx-binance"), nats.MaxReconnects(-1)}, binance.NATSOptions()...)
	if *user != "" {
		opts = append(opts, nats.UserInfo(*user, *pass))
	}
	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		log.Error("cannot connect", "nats", *url, "err", err)
		return 1
	}
	defer nc.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("cannot listen (--listen)", "err", err)
		return 1
	}
	s, err := binance.New(binance.Options{Conn: nc, Prefix: *prefix, Config: cfg, Logger: log, Open: *open, WeightPerMinute: *weight})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	s.Serve(ln)
	log.Info("ready", "binance", s.Addr(), "nats", *url)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
