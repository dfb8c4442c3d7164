package gateway

import (
	"log/slog"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/internal/ratelog"
	"github.com/perpx/perpx/wire"
)

// Publisher publishes the exchange's market data and private events on the
// stream subjects of API.md; it is the actors' Sink. Its methods are safe
// for concurrent use and never wait for the exchange or a subscriber: a
// publish only appends to the connection's buffer (nats.go writes it out),
// and a failed publish is counted (perpx_publish_errors_total), not retried.
type Publisher struct {
	nc   *nats.Conn
	subj wire.Subjects
	m    *Metrics
	log  *slog.Logger
	// pubErr: a failed publish comes once per message while the
	// connection is down.
	pubErr *ratelog.Limiter

	// interest reports whether a subject has a subscriber; nil when the
	// server cannot be asked (see embeddedInterest): everything has.
	interest func(subject string) bool
	// anonymous: the server has users, whom the public fund and ADL
	// streams must not tell who was liquidated or deleveraged.
	anonymous bool

	// Subjects and metric series per account and per symbol, built once:
	// the publisher runs once per event.
	accounts sync.Map // account -> events subject
	symbols  sync.Map // symbol -> *symbolSubjects
}

// symbolSubjects are one symbol's market-data subjects.
type symbolSubjects struct {
	trades, book, mark, liquidations string
	klines                           sync.Map // interval -> its kline stream's subject
}

// kline returns the subject of the symbol's candle stream of interval.
func (p *Publisher) kline(symbol, interval string) string {
	s := p.symbol(symbol)
	if v, ok := s.klines.Load(interval); ok {
		return v.(string)
	}
	v, _ := s.klines.LoadOrStore(interval, p.subj.Kline(symbol, interval))
	return v.(string)
}

// NewPublisher returns a publisher on nc; it uses opts' Prefix, Logger and
// Metrics.
func NewPublisher(nc *nats.Conn, opts Options) (*Publisher, error) {
	subj, opts, err := opts.fill()
	if err != nil {
		return nil, err
	}
	anonymous := len(opts.Users) > 0 || len(serverUsers(nc)) > 0
	return &Publisher{nc: nc, subj: subj, m: opts.Metrics, log: opts.Logger, interest: embeddedInterest(nc), anonymous: anonymous,
		pubErr: ratelog.Slog(opts.Logger, slog.LevelDebug, "gateway: publish failed (perpx_publish_errors_total)", logEvery)}, nil
}

func (p *Publisher) symbol(symbol string) *symbolSubjects {
	if s, ok := p.symbols.Load(symbol); ok {
		return s.(*symbolSubjects)
	}
	s, _ := p.symbols.LoadOrStore(symbol, &symbolSubjects{trades: p.subj.Trades(symbol), book: p.subj.Book(symbol),
		mark: p.subj.Mark(symbol), liquidations: p.subj.Liquidations(symbol)})
	return s.(*symbolSubjects)
}

func (p *Publisher) events(account string) string {
	if s, ok := p.accounts.Load(account); ok {
		return s.(string)
	}
	s, _ := p.accounts.LoadOrStore(account, p.subj.Events(account))
	return s.(string)
}

// Ticker publishes a symbol's ticker on <prefix>.md.<symbol>.ticker.1s when
// anybody subscribes to it.
func (p *Publisher) Ticker(symbol string, t *wire.TickerStats) {
	s := p.subj.TickerStream(symbol)
	if p.interest == nil || p.interest(s) {
		publish(p, s, t, wire.AppendTickerStats)
	}
}

// WantsTicker reports whether a symbol's ticker stream has a subscriber.
func (p *Publisher) WantsTicker(symbol string) bool {
	return p.interest == nil || p.interest(p.subj.TickerStream(symbol))
}

// Kline publishes a candle on <prefix>.md.<symbol>.kline.<interval>.
func (p *Publisher) Kline(symbol, interval string, k *wire.KlineUpdate) {
	publish(p, p.kline(symbol, interval), k, wire.AppendKlineUpdate)
}

// WantsKline reports whether a candle stream has a subscriber.
func (p *Publisher) WantsKline(symbol, interval string) bool {
	return p.interest == nil || p.interest(p.kline(symbol, interval))
}

// WantsTrades reports whether <prefix>.md.<symbol>.trades has a
// subscriber (always true unless the server can tell; see
// embeddedInterest): the actors skip building trades nobody receives.
func (p *Publisher) WantsTrades(symbol string) bool {
	return p.interest == nil || p.interest(p.symbol(symbol).trades)
}

// WantsBook is WantsTrades for <prefix>.md.<symbol>.book.
func (p *Publisher) WantsBook(symbol string) bool {
	return p.interest == nil || p.interest(p.symbol(symbol).book)
}

// WantsAccountEvents is WantsTrades for <prefix>.acct.<account>.events.
func (p *Publisher) WantsAccountEvents(account string) bool {
	return p.interest == nil || p.interest(p.events(account))
}

// Trade publishes on <prefix>.md.<symbol>.trades.
func (p *Publisher) Trade(symbol string, t *wire.Trade) {
	publish(p, p.symbol(symbol).trades, t, wire.AppendTrade)
}

// BookUpdate publishes an incremental depth update on <prefix>.md.<symbol>.book.
func (p *Publisher) BookUpdate(symbol string, u *wire.BookUpdate) {
	publish(p, p.symbol(symbol).book, u, wire.AppendBookUpdate)
}

// Mark publishes on <prefix>.md.<symbol>.mark.
func (p *Publisher) Mark(symbol string, m *wire.MarkUpdate) {
	publish(p, p.symbol(symbol).mark, m, wire.AppendMarkUpdate)
}

// FundEvent publishes on <prefix>.fund.events and sets the fund balance gauge.
func (p *Publisher) FundEvent(e *wire.FundEvent) {
	p.m.fundBalance.WithLabelValues(e.Asset).Set(e.Balance.InexactFloat64())
	if p.anonymous && e.Account != "" {
		c := *e
		c.Account = ""
		e = &c
	}
	publish(p, p.subj.FundEvents(), e, wire.AppendFundEvent)
}

// ADLEvent publishes on <prefix>.adl.<symbol>.events.
func (p *Publisher) ADLEvent(symbol string, e *wire.ADLEvent) {
	p.m.adlEvents.WithLabelValues(symbol).Inc()
	if p.anonymous {
		c := *e
		c.BankruptAccount, c.Counterparty = "", ""
		e = &c
	}
	publish(p, p.subj.ADLEvents(symbol), e, wire.AppendADLEvent)
}

// AccountEvent publishes on <prefix>.acct.<account>.events; a liquidation
// event also counts in perpx_liquidations_total and goes without the
// account to <prefix>.md.<symbol>.liquidations.
func (p *Publisher) AccountEvent(account string, e *wire.AccountEvent) {
	if l := e.Liquidation; e.Type == wire.EventLiquidation && l != nil {
		p.m.liquidations.WithLabelValues(l.Symbol).Inc()
		publish(p, p.symbol(l.Symbol).liquidations, &wire.LiquidationNotice{Liquidation: *l, TimeMs: e.TimeMs}, wire.AppendLiquidationNotice)
	}
	publish(p, p.events(account), e, wire.AppendAccountEvent)
}

// payloadBufs holds the buffers payloads are encoded into: Publish copies
// the payload into the connection's buffer before it returns, so a buffer
// is reused as soon as its message is published.
var payloadBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf is the largest buffer put back in payloadBufs, so that one
// huge payload does not stay pinned in the pool.
const maxPooledBuf = 64 << 10

// publish encodes v with enc (one of wire's Append encoders) into a pooled
// buffer and publishes it on subject.
func publish[T any](p *Publisher, subject string, v *T, enc func([]byte, *T) []byte) {
	bp := payloadBufs.Get().(*[]byte)
	data := enc((*bp)[:0], v)
	err := p.nc.Publish(subject, data)
	if cap(data) <= maxPooledBuf {
		*bp = data
		payloadBufs.Put(bp)
	}
	if err != nil {
		p.m.publishErrors.Inc()
		p.pubErr.Event("subject", subject, "err", err)
	}
}

// embeddedInterest returns a subject-interest check when nc is an
// in-process connection to an embedded server (natsrv.Server.Connect): the
// server's sublist for nc's account knows every subscription that a
// publish on a subject would reach — local clients, routes, leaf nodes,
// stream imports and JetStream streams — which is what the server itself
// consults to deliver it. So a subject without interest is one whose
// message the server would drop, and not building it loses nothing. A
// subscriber that subscribed (and flushed) before an event is checked sees
// it, as with a publish. nil (no check) for any other connection, and for
// a server with gateways, which forward messages to other clusters without
// knowing their interest.
func embeddedInterest(nc *nats.Conn) func(string) bool {
	srv, ok := nc.Opts.InProcessServer.(*server.Server)
	if e, isNatsrv := nc.Opts.InProcessServer.(interface{ NATS() *server.Server }); isNatsrv {
		srv, ok = e.NATS(), true // natsrv.Server.Connect hands over itself
	}
	if !ok || srv == nil || srv.GatewayAddr() != nil {
		return nil
	}
	cid, err := nc.GetClientID()
	if err != nil {
		return nil
	}
	cz, err := srv.Connz(&server.ConnzOptions{CID: cid, Username: true})
	if err != nil || len(cz.Conns) != 1 {
		return nil
	}
	name := cz.Conns[0].Account
	if name == "" { // Connz leaves the global account's name out
		name = server.DEFAULT_GLOBAL_ACCOUNT
	}
	acc, err := srv.LookupAccount(name)
	if err != nil {
		return nil
	}
	return acc.SubscriptionInterest
}
