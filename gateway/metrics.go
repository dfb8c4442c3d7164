package gateway

import (
	"net/http"
	"net/http/pprof"
	"sort"
	"sync"

	"github.com/perpx/perpx/wire"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the exchange's Prometheus registry and the instruments the
// gateway and the publisher feed. It has its own registry (no global state),
// so tests and several exchanges in one process do not collide.
type Metrics struct {
	reg *prometheus.Registry

	orders        *prometheus.CounterVec   // outcome: accepted|rejected
	rejects       *prometheus.CounterVec   // endpoint, code
	latency       *prometheus.HistogramVec // endpoint
	liquidations  *prometheus.CounterVec   // symbol
	adlEvents     *prometheus.CounterVec   // symbol
	fundBalance   *prometheus.GaugeVec     // asset
	publishErrors prometheus.Counter
	// Requests dropped for their reply subject (replies.go), by reason.
	repliesRefused     *prometheus.CounterVec
	subscriptionErrors prometheus.Counter

	mailboxes *mailboxCollector

	// Series of the vectors above looked up once instead of per request
	// (WithLabelValues hashes its labels on every call); created on first
	// use, so /metrics lists the same series as before.
	accepted, rejected lazyCounter
	rejectSeries       sync.Map // rejectKey -> prometheus.Counter
}

// lazyCounter is one series of a CounterVec, created on first use.
type lazyCounter struct {
	once sync.Once
	c    prometheus.Counter
}

func (l *lazyCounter) get(vec *prometheus.CounterVec, labels ...string) prometheus.Counter {
	l.once.Do(func() { l.c = vec.WithLabelValues(labels...) })
	return l.c
}

type rejectKey struct {
	ep   wire.Endpoint
	code wire.Code
}

// LatencyBuckets are the request latency histogram's upper bounds in
// seconds: 10 µs to about 1.3 s, doubling.
var LatencyBuckets = prometheus.ExponentialBuckets(10e-6, 2, 18)

// NewMetrics builds the instruments and registers them, the Go runtime and
// process collectors on a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perpx_orders_total",
			Help: "Order placements answered, by outcome (accepted or rejected).",
		}, []string{"outcome"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perpx_rejects_total",
			Help: "Requests answered with an error, by endpoint and error code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "perpx_request_duration_seconds",
			Help:    "Time from the gateway receiving a request to its reply being ready to publish, by endpoint.",
			Buckets: LatencyBuckets,
		}, []string{"endpoint"}),
		liquidations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perpx_liquidations_total",
			Help: "Liquidation events published to accounts, by symbol.",
		}, []string{"symbol"}),
		adlEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perpx_adl_events_total",
			Help: "Auto-deleveraging closes published, by symbol.",
		}, []string{"symbol"}),
		fundBalance: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "perpx_fund_balance",
			Help: "Insurance fund balance after its latest event, by asset.",
		}, []string{"asset"}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "perpx_publish_errors_total",
			Help: "Replies and stream messages that could not be published.",
		}),
		repliesRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perpx_replies_refused_total",
			Help: "Requests dropped unanswered for their reply subject, by reason (exchange_subject, not_inbox, foreign_inbox).",
		}, []string{"reason"}),
		subscriptionErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "perpx_subscription_errors_total",
			Help: "Errors of the gateway's request subscriptions (a slow consumer's dropped requests).",
		}),
		mailboxes: &mailboxCollector{
			desc: prometheus.NewDesc("perpx_mailbox_depth",
				"Messages waiting in an actor's mailbox, by actor.", []string{"actor"}, nil),
			depth: map[string]func() int{},
		},
	}
	m.reg.MustRegister(m.orders, m.rejects, m.latency, m.liquidations, m.adlEvents,
		m.fundBalance, m.publishErrors, m.repliesRefused, m.subscriptionErrors, m.mailboxes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry behind /metrics, for collectors of other layers.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// RegisterMailbox exports depth() as perpx_mailbox_depth{actor=name}, read
// at every scrape; a second registration of name replaces the first. The
// returned function removes it. Register kinds of actors or a few hot ones,
// not one series per account.
func (m *Metrics) RegisterMailbox(name string, depth func() int) (unregister func()) {
	c := m.mailboxes
	c.mu.Lock()
	c.depth[name] = depth
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.depth, name)
		c.mu.Unlock()
	}
}

// RegisterTrades exports n() as perpx_trades_total{symbol}: the trades the
// symbol ever printed, read at every scrape (actors.Exchange.Trades: they
// count whether or not anybody receives them, and go on after a restart).
func (m *Metrics) RegisterTrades(symbol string, n func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "perpx_trades_total",
		Help: "Trades printed, by symbol.", ConstLabels: prometheus.Labels{"symbol": symbol}},
		func() float64 { return float64(n()) }))
}

// RegisterGauge exports fn's value as the gauge name (the journal's
// position, the latest snapshot's age: what the app knows and an operator
// watches).
func (m *Metrics) RegisterGauge(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// Handler serves /metrics from the registry (for --http 127.0.0.1:9090).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Pprof serves the net/http/pprof profiles under /debug/pprof/. Opt-in
// (--pprof): cmdline shows the process's flags, a password among them, and
// a profile costs CPU, to whoever reaches the port.
func Pprof() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// reject counts one error reply.
func (m *Metrics) reject(ep wire.Endpoint, code wire.Code) {
	k := rejectKey{ep, code}
	c, ok := m.rejectSeries.Load(k)
	if !ok {
		c, _ = m.rejectSeries.LoadOrStore(k, m.rejects.WithLabelValues(ep.String(), string(code)))
	}
	c.(prometheus.Counter).Inc()
}

// replyRefused counts one request dropped for its reply subject.
func (m *Metrics) replyRefused(reason string) {
	m.repliesRefused.WithLabelValues(reason).Inc()
}

// order counts one answered order placement.
func (m *Metrics) order(accepted bool) {
	if accepted {
		m.accepted.get(m.orders, "accepted").Inc()
	} else {
		m.rejected.get(m.orders, "rejected").Inc()
	}
}

// mailboxCollector reports the registered mailbox depths at scrape time.
type mailboxCollector struct {
	desc  *prometheus.Desc
	mu    sync.Mutex
	depth map[string]func() int
}

func (c *mailboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *mailboxCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	names := make([]string, 0, len(c.depth))
	for n := range c.depth {
		names = append(names, n)
	}
	sort.Strings(names)
	fns := make([]func() int, len(names))
	for i, n := range names {
		fns[i] = c.depth[n]
	}
	c.mu.Unlock()
	for i, n := range names { // outside the lock: depth() may take an actor's time
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(fns[i]()), n)
	}
}
