package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/binance"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/gateway"

	"github.com/perpx/perpx/journal"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/natsrv"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Options configure Start. The zero value is the demo: embedded NATS on
// 127.0.0.1:4222, demo symbols, simulated index, no bots (cmd/exchange
// defaults Bots to 2).
type Options struct {
	NATSListen  string // embedded server's client address; "" = natsrv.DefaultListen
	NATSMonitor string // embedded server's monitoring address; "" = off
	// NATSWS is the embedded server's WebSocket address (the web page's
	// NATS connection, no TLS); "" = off. With HTTP on a loopback or named
	// host, only pages from that origin may open it.
	NATSWS string
	// WebWS is the NATS WebSocket URL the web page connects to (ws:// or
	// wss://): with NATSURL, the outside server's own websocket listener;
	// "" = the embedded server's (NATSWS).
	WebWS    string
	NATSURL  string // join an outside server instead of embedding one
	NATSUser string // credentials for NATSURL (must be allowed every subject of the prefix)
	NATSPass string
	Config   *config.Config // nil = config.Default()
	Prefix   string         // subject prefix; "" = px
	Index    string         // sim | manual | replay:FILE | nats:SUBJECT; "" = sim
	Speed    float64        // replay speed; 0 = 1
	Seed     uint64         // sim seed
	Bots     int            // built-in market makers and takers
	HTTP     string         // the web page and /metrics address; "" = off
	Pprof    bool           // also /debug/pprof on HTTP (its cmdline shows the flags)
	// BinanceHTTP serves the Binance-compatible REST and WebSocket face
	// (package binance) on this address, over a NATS connection of its
	// own; "" = off.
	BinanceHTTP string
	// BinanceOpen lets the Binance face run open (a config without users:
	// any API key trades the account it names) over a NATS login
	// (NATSURL with NATSUser), which it otherwise refuses.
	BinanceOpen bool
	// BinanceWeight is each IP's request weight per minute on the
	// Binance face (0: Binance's 2400; negative: no limit).
	BinanceWeight int
	Logger        *slog.Logger // nil discards
	// Now is the exchange's clock in unix milliseconds (marks, funding,
	// event times); nil is the wall clock. Tests pass a manual clock to
	// reach a funding time at once.
	Now func() int64
	// Data makes the exchange durable: the embedded server keeps its
	// JetStream store (the journal) in this directory; with NATSURL the
	// journal lives in that server's JetStream. "" runs in memory.
	Data string
	// JournalReplicas of the journal stream on NATSURL (default 1).
	JournalReplicas int
	// SnapshotEvery and SnapshotInterval: a snapshot is taken after this
	// many journal records or this long, whichever comes first (defaults
	// 1 000 000 and 10 minutes), and on a clean stop.
	SnapshotEvery    int
	SnapshotInterval time.Duration
	// Role makes this instance one of several on a NATS cluster (NATSURL
	// and Data required; cluster.go): RoleAuto follows the journal until
	// it wins the leadership lease, RoleLeader too but Start waits until it
	// leads, RoleFollower only follows. "" is a lone exchange, no lease.
	Role string
	// Lease is the leadership lease's time to live (default 3 s); the
	// bucket's creator sets it for every instance.
	Lease time.Duration
	// Name names the instance in px.admin.cluster ("" = host name and pid).
	Name string
}

// App is a running exchange process.
type App struct {
	log *slog.Logger
	srv *natsrv.Server // nil with NATSURL
	nc  *nats.Conn     // the process's
	// tnc is the running exchange's: nc, but a clustered instance's own
	// per turn, closed when it steps down, so that nothing it subscribed
	// (a gateway that did not stop cleanly) outlives its turn.
	tnc *nats.Conn
	// gnc carries the gateway's subscriptions with the embedded server
	// (serve to stopExchange): on a connection of their own, its Stop knows
	// exactly when they have drained.
	gnc  *nats.Conn
	jw   *journal.Writer // nil in memory
	jcfg journal.Config
	data Options // the durable settings (Data, Snapshot*)
	// The latest snapshot's sequence and time (snapshotter's, then Close's).
	snapMu  sync.Mutex // snapSeq and snapAt, for /metrics (their writers read without it)
	snapSeq uint64
	snapAt  time.Time
	// started: Start succeeded. served: the running exchange recovered
	// and serves, so its state is whole and may be snapshot.
	started, served bool
	// unlock releases the data directory (lockData); nil in memory.
	unlock   func(failed bool)
	termMu   sync.RWMutex // x and jw for readers outside the exchange's turn (Exchange, cluster)
	x        *actors.Exchange
	gw       *gateway.Gateway
	httpSrv  *http.Server
	httpLn   net.Listener
	httpDone chan struct{}
	handler  atomic.Pointer[http.Handler] // the running exchange's /metrics and pprof
	url      string
	symbols  []*market.Symbol
	cfg      *config.Config
	mode     risk.MarginMode
	cl       *cluster // nil for a lone exchange
	bnLn     net.Listener
	bn       *binance.Server
	bnNC     *nats.Conn

	cancel context.CancelFunc // stops feed and bots
	wg     sync.WaitGroup

	failed   chan struct{} // closed by fail
	failErr  error         // why, set before failed is closed
	failOnce sync.Once
}

// Failed is closed when the instance stopped running the exchange for
// good by itself: a clustered instance whose journal holds records of
// another behaviour version, or a record an actor panics on (retrying
// cannot help, and it must never take over). Err says why, which the App does not log: the process reports
// it, Closes the App and exits non-zero.
func (a *App) Failed() <-chan struct{} { return a.failed }

// Err is why Failed is closed; nil while it is not.
func (a *App) Err() error {
	select {
	case <-a.failed:
		return a.failErr
	default:
		return nil
	}
}

// fail closes Failed with err (the first time).
func (a *App) fail(err error) {
	a.failOnce.Do(func() {
		a.failErr = err
		close(a.failed)
	})
}

// Start brings the exchange up; when it returns, requests are served.
func Start(ctx context.Context, o Options) (a *App, err error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := o.Config
	if cfg == nil {
		cfg = config.Default()
	}
	syms, err := cfg.Compile()
	if err != nil {
		return nil, err
	}
	mode := risk.Cross
	if cfg.MarginMode == config.MarginIsolated {
		mode = risk.Isolated
	}
	feed, err := newFeed(o, syms)
	if err != nil {
		return nil, err
	}

	if err := checkRole(o); err != nil {
		return nil, err
	}
	if u, err := url.Parse(o.WebWS); o.WebWS != "" && (err != nil || u.Scheme != "ws" && u.Scheme != "wss" || u.Host == "") {
		return nil, fmt.Errorf("app: --web-ws %q: want ws://host:port or wss://host:port", o.WebWS)
	}
	a = &App{log: log, symbols: syms, cfg: cfg, mode: mode, failed: make(chan struct{})}
	started := a // a is nil once an error is returned
	defer func() {
		if err != nil {
			if feed != nil && feed.closer != nil { // feed.run, which closes it, never started
				_ = feed.closer()
			}
			if started.httpSrv == nil && started.httpLn != nil {
				_ = started.httpLn.Close()
			}
			if started.bn == nil && started.bnLn != nil {
				_ = started.bnLn.Close()
			}
			_ = started.Close(context.Background())
		}
	}()
	if o.Data != "" {
		if a.unlock, err = lockData(o.Data); err != nil {
			return nil, err
		}
		if err = checkUnits(o.Data, unitsOf(o.Prefix, syms)); err != nil {
			return nil, err
		}
	}
	// A port in use fails here, before anything has started or logged.
	if o.HTTP != "" {
		if a.httpLn, err = net.Listen("tcp", o.HTTP); err != nil {
			return nil, fmt.Errorf("app: HTTP server (--http): %w", err)
		}
	}
	if o.BinanceHTTP != "" {
		if a.bnLn, err = net.Listen("tcp", o.BinanceHTTP); err != nil {
			return nil, fmt.Errorf("app: Binance HTTP server (--binance-http): %w", err)
		}
	}
	if err = a.connect(o, cfg); err != nil {
		return nil, err
	}
	if a.httpLn != nil {
		a.serveHTTP()
	}
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = 1_000_000
	}
	if o.SnapshotInterval <= 0 {
		o.SnapshotInterval = 10 * time.Minute
	}
	a.jcfg, a.data = journalConfig(o), o
	if o.Role != "" {
		feed.closeSource() // each term of the cluster makes its own
		feed = nil
		if err = a.startCluster(ctx, o); err != nil {
			return nil, err
		}
		if err = a.startBinance(o); err != nil {
			return nil, err
		}
		return a, nil
	}
	var j actors.Journal
	if o.Data != "" {
		if a.jw, err = journal.Open(a.tnc, a.jcfg); err != nil {
			return nil, fmt.Errorf("app: journal: %w", err)
		}
		j = a.jw
	}
	t, err := a.newExchange(o, feed, j)
	if err != nil {
		return nil, err
	}
	if a.jw != nil {
		if err = a.recover(o, a.jcfg); err != nil {
			return nil, err
		}
	}
	if err = a.serve(o, t); err != nil {
		return nil, err
	}
	if err = a.startBinance(o); err != nil {
		return nil, err
	}
	return a, nil
}

// startBinance serves the Binance face, once per process (a client of
// whichever instance leads), and marks the start done, recording the data
// directory's units (units.go).
func (a *App) startBinance(o Options) error {
	if a.bnLn != nil {
		if err := a.serveBinance(o, a.cfg); err != nil {
			return err
		}
	}
	if o.Data != "" {
		if err := writeUnits(o.Data, unitsOf(o.Prefix, a.symbols)); err != nil {
			return err
		}
	}
	a.started = true
	return nil
}

// term is what one exchange in the process is made of beside its actors:
// a process has one, but for a clustered instance's every turn as a
// follower and then leader (cluster.go).
type term struct {
	feed    *feed
	pub     *gateway.Publisher
	metrics *gateway.Metrics
	gopts   gateway.Options
}

// newExchange starts the actors (a.x), publishing through a new publisher,
// journaling to j (nil in memory); nothing is served yet.
func (a *App) newExchange(o Options, feed *feed, j actors.Journal) (*term, error) {
	metrics := gateway.NewMetrics()
	gopts := gateway.Options{Prefix: o.Prefix, Logger: a.log, RateLimit: a.cfg.RateLimit, Metrics: metrics}
	pub, err := gateway.NewPublisher(a.tnc, gopts)
	if err != nil {
		return nil, err
	}
	h := a.cfg.History
	xo := actors.Options{Symbols: a.symbols, MarginMode: a.mode, Sink: pub, Logger: a.log, Now: o.Now, Journal: j, Rules: rulesFP(a.cfg),
		Retention: actors.Retention{CandleDays: h.CandleDays, RecentTrades: h.RecentTrades, FundingEvents: h.FundingEvents,
			OpenInterestDays: h.OpenInterestDays, AccountOrders: h.AccountOrders, AccountFills: h.AccountFills,
			AccountIncome: h.AccountIncome, FundEvents: h.FundEvents, FundDays: h.FundDays}}
	if xo.Now == nil {
		xo.Now = feed.replayClock() // nil but for a replay
	}
	x, err := actors.Start(xo)
	if err != nil {
		return nil, err
	}
	a.termMu.Lock()
	a.x = x
	a.termMu.Unlock()
	return &term{feed: feed, pub: pub, metrics: metrics, gopts: gopts}, nil
}

// serve makes the recovered exchange a.x answer requests and run its feed,
// snapshots, bots and tickers.
func (a *App) serve(o Options, t *term) (err error) {
	for name, depth := range a.x.Mailboxes() {
		t.metrics.RegisterMailbox(name, depth)
	}
	for sym, n := range a.x.Trades() {
		t.metrics.RegisterTrades(sym, n)
	}
	if a.jw != nil {
		a.exportDurability(t.metrics, a.jw)
	}
	gnc, err := a.serviceConn()
	if err != nil {
		return err
	}
	a.termMu.Lock()
	a.gnc = gnc
	a.termMu.Unlock()
	gopts := t.gopts
	gopts.Service = gnc
	if a.gw, err = gateway.Start(a.tnc, a.x, gopts); err != nil {
		return err
	}
	h := a.httpHandler(t.metrics, o, a.cfg)
	a.handler.Store(&h)
	if t.feed.subject != "" {
		if err = t.feed.subscribe(a); err != nil {
			return err
		}
	}
	at := a.indexes()
	if err = t.feed.resume(at); err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.go_(func() { t.feed.run(bg, a) })
	if a.jw != nil {
		a.go_(func() { a.snapshotter(bg, o, a.jcfg) })
	}
	a.startBots(bg, o, at)
	a.go_(func() { a.tickers(bg, t.pub) })
	a.served = true
	// Where the page is and where the state lives, as the operator set them
	// or took the defaults ("" = off, in memory).
	a.log.Info("ready", "nats", a.url, "http", a.HTTPAddr(), "data", o.Data, "symbols", len(a.symbols), "index", t.feed.name, "bots", o.Bots,
		"binance", a.BinanceAddr(), "behaviour", actors.Behaviour)
	return nil
}

// indexes are the running exchange's index prices by symbol (a recovered
// one's; none before the first tick).
func (a *App) indexes() map[string]decimal.Decimal {
	at := make(map[string]decimal.Decimal, len(a.symbols))
	for _, s := range a.symbols {
		ch := make(chan wire.TickerReply, 1)
		a.x.Ticker(s.Name, func(r wire.TickerReply) { ch <- r })
		select {
		case r := <-ch:
			if r.OK && r.Ticker != nil && r.Ticker.Index.IsPositive() {
				at[s.Name] = r.Ticker.Index
			}
		case <-time.After(5 * time.Second):
			a.log.Warn("no ticker to resume the index from", "symbol", s.Name)
		}
	}
	return at
}

// unserve stops what serve started: no more requests (those in flight are
// answered while ctx lasts), no feed, snapshots, bots or tickers.
func (a *App) unserve(ctx context.Context) error {
	var err error
	if a.cancel != nil {
		a.cancel()
	}
	if a.gw != nil {
		err = a.gw.Stop(ctx)
	}
	a.wg.Wait()
	return err
}

// journalConfig names the journal's stream after the subject prefix.
func journalConfig(o Options) journal.Config {
	p := o.Prefix
	if p == "" {
		p = "px"
	}
	return journal.Config{Stream: "PERPX_JOURNAL_" + strings.ToUpper(strings.NewReplacer(".", "_", "*", "_", ">", "_").Replace(p)),
		Subject: "$PERPX." + p + ".journal", Replicas: o.JournalReplicas}
}

func (a *App) connect(o Options, cfg *config.Config) error {
	if o.NATSURL != "" {
		nc, err := dial(o, "perpx-exchange")
		if err != nil {
			return err
		}
		a.nc, a.tnc, a.url = nc, nc, o.NATSURL
		return nil
	}
	// The embedded server reports a port in use only after its 10 s
	// readiness wait, and not which port: try them first.
	listen := o.NATSListen
	if listen == "" {
		listen = natsrv.DefaultListen
	}
	if err := portFree("embedded NATS server (--nats-listen)", listen); err != nil {
		return err
	}
	if err := portFree("embedded NATS server's monitoring (--nats-monitor)", o.NATSMonitor); err != nil {
		return err
	}
	if err := portFree("embedded NATS server's WebSocket (--nats-ws)", o.NATSWS); err != nil {
		return err
	}
	nl := &natsLog{}
	srv, err := natsrv.Start(natsrv.Options{Listen: o.NATSListen, Monitor: o.NATSMonitor, Prefix: o.Prefix, Users: cfg.Users,
		JetStreamDir: o.Data, Logger: nl, Websocket: o.NATSWS, WebsocketOrigins: a.pageOrigins(o.HTTP)})
	if err != nil {
		if why := nl.reason(); why != "" { // e.g. a JetStream store it cannot use
			if o.Data != "" {
				why += " (data directory " + o.Data + ")"
			}
			return fmt.Errorf("%w: %s", natsrv.ErrStart, why)
		}
		return err
	}
	a.srv, a.url = srv, srv.ClientURL()
	a.nc, err = srv.Connect("perpx-exchange")
	a.tnc = a.nc
	return err
}

// serviceConn is a connection of its own for the gateway's subscriptions
// to the embedded server; nil with --nats-url: there a connection picks
// one of the URLs' servers at random, and one cut off from the cluster
// with the gateway's subscriptions would leave a leader nobody reaches
// while its other connections are fine (the cluster's health check moves
// those it knows). The gateway then shares the exchange's connection.
func (a *App) serviceConn() (*nats.Conn, error) {
	if a.srv == nil {
		return nil, nil
	}
	return a.srv.Connect("perpx-gateway")
}

// dial connects to o.NATSURL.
func dial(o Options, name string) (*nats.Conn, error) {
	// Another server of the cluster at once: a lease renewal cannot wait
	// the default 2 s.
	nopts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond)}
	if o.NATSUser != "" {
		nopts = append(nopts, nats.UserInfo(o.NATSUser, o.NATSPass))
	}
	nc, err := nats.Connect(o.NATSURL, nopts...)
	if err != nil {
		return nil, fmt.Errorf("app: connect %s: %w", o.NATSURL, err)
	}
	return nc, nil
}

// portFree fails when addr (host:port) cannot be listened on; a random
// port (0 or -1) and an address natsrv will refuse itself pass.
func portFree(what, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" || port == "-1" {
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("app: %s: %w", what, err)
	}
	return ln.Close()
}

// natsLog keeps the embedded server as quiet as no logger would, but for
// why it failed to start: natsrv.Start itself then says only that the
// server was not ready in time.
type natsLog struct {
	mu    sync.Mutex
	fatal string
}

func (l *natsLog) Fatalf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fatal == "" {
		l.fatal = fmt.Sprintf(format, v...)
	}
}

func (l *natsLog) reason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

func (*natsLog) Noticef(string, ...any) {}
func (*natsLog) Warnf(string, ...any)   {}
func (*natsLog) Errorf(string, ...any)  {}
func (*natsLog) Debugf(string, ...any)  {}
func (*natsLog) Tracef(string, ...any)  {}

// serveHTTP serves on the listener Start opened what the running
// exchange's metrics handle (a.handler; 503 while there is none).
func (a *App) serveHTTP() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := a.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "the exchange is starting", http.StatusServiceUnavailable)
	})
	a.httpSrv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	ln := a.httpLn
	a.httpDone = make(chan struct{})
	go func() {
		defer close(a.httpDone)
		if err := a.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "err", err)
		}
	}()
}

func (a *App) go_(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// serveBinance starts the Binance face on its own NATS connection: it is a
// client of the exchange like any other (it only speaks API.md).
func (a *App) serveBinance(o Options, cfg *config.Config) error {
	var err error
	if a.srv != nil {
		a.bnNC, err = a.srv.Connect("perpx-binance", binance.NATSOptions()...)
	} else {
		nopts := append([]nats.Option{nats.Name("perpx-binance"), nats.MaxReconnects(-1)}, binance.NATSOptions()...)
		if o.NATSUser != "" {
			nopts = append(nopts, nats.UserInfo(o.NATSUser, o.NATSPass))
		}
		a.bnNC, err = nats.Connect(o.NATSURL, nopts...)
	}
	if err != nil {
		return fmt.Errorf("app: the Binance face's NATS connection: %w", err)
	}
	bn, err := binance.New(binance.Options{Conn: a.bnNC, Prefix: o.Prefix, Config: cfg, Logger: a.log,
		Open: o.BinanceOpen, WeightPerMinute: o.BinanceWeight})
	if err != nil {
		return err
	}
	bn.Serve(a.bnLn)
	a.bn = bn
	return nil
}

// BinanceAddr is the Binance face's address ("" when off).
func (a *App) BinanceAddr() string {
	if a.bnLn == nil {
		return ""
	}
	return a.bnLn.Addr().String()
}

// URL is the NATS URL clients connect to.
func (a *App) URL() string { return a.url }

// WebsocketURL is the embedded NATS server's WebSocket URL ("" when off).
func (a *App) WebsocketURL() string {
	if a.srv == nil {
		return ""
	}
	return a.srv.WebsocketURL()
}

// HTTPAddr is the HTTP listener's address ("" when off).
func (a *App) HTTPAddr() string {
	if a.httpLn == nil {
		return ""
	}
	return a.httpLn.Addr().String()
}

// Exchange is the in-process exchange (tests use it for audits); a
// clustered instance's changes when it takes over or steps down.
func (a *App) Exchange() *actors.Exchange {
	a.termMu.RLock()
	defer a.termMu.RUnlock()
	return a.x
}

// Symbols are the compiled symbols the exchange runs.
func (a *App) Symbols() []*market.Symbol { return a.symbols }

// Close shuts down in dependency order: stop taking requests and answer
// those in flight, stop feed and bots, stop the actors, flush and close
// NATS. ctx bounds the wait for in-flight requests.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	if a.bn != nil { // a client of the exchange: it goes first
		errs = append(errs, a.bn.Close(ctx))
	}
	if a.bnNC != nil {
		a.bnNC.Close()
	}
	if a.cl != nil {
		errs = append(errs, a.cl.stop(ctx))
	} else {
		errs = append(errs, a.stopExchange(ctx, true))
	}
	if a.httpSrv != nil {
		errs = append(errs, a.httpSrv.Shutdown(ctx))
		<-a.httpDone
	}
	if a.nc != nil {
		if err := a.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
		for !a.nc.IsClosed() {
			time.Sleep(time.Millisecond)
		}
	}
	if a.srv != nil {
		a.srv.Shutdown()
	}
	if a.unlock != nil {
		a.unlock(!a.started) // after the store is closed
	}
	return errors.Join(errs...)
}

// stopExchange stops serving, takes a snapshot when clean (a clean stop
// leaves one: the next start replays nothing) and stops the actors and
// the journal writer.
func (a *App) stopExchange(ctx context.Context, clean bool) error {
	errs := []error{a.unserve(ctx)}
	if clean && a.served && a.jw != nil && a.jw.Err() == nil && a.jw.Last() != a.snapSeq {
		if err := a.snapshot(a.data, a.jcfg, 2*time.Second); err != nil {
			a.log.Error("snapshot at stop", "err", err)
		}
	}
	a.handler.Store(nil)
	a.termMu.Lock()
	x, jw, tnc, gnc := a.x, a.jw, a.tnc, a.gnc
	a.x, a.jw, a.gw, a.gnc, a.served = nil, nil, nil, nil, false
	if tnc != a.nc {
		a.tnc = nil
	}
	a.termMu.Unlock()
	if gnc != nil { // the gateway stopped, or gave up: its subscriptions go
		gnc.Close()
	}
	if x != nil {
		x.Stop()
	}
	if jw != nil {
		errs = append(errs, jw.Close())
	}
	if tnc != nil && tnc != a.nc { // a clustered turn's own
		if clean {
			_ = tnc.Drain()
			for !tnc.IsClosed() && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
		}
		tnc.Close()
	}
	return errors.Join(errs...)
}
