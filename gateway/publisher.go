package gateway

import (
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
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
}

// NewPublisher returns a publisher on nc; it uses opts' Prefix, Logger and
// Metrics.
func NewPublisher(nc *nats.Conn, opts Options) (*Publisher, error) {
	subj, opts, err := opts.fill()
	if err != nil {
		return nil, err
	}
	return &Publisher{nc: nc, subj: subj, m: opts.Metrics, log: opts.Logger}, nil
}

// Trade publishes on <prefix>.md.<symbol>.trades.
func (p *Publisher) Trade(symbol string, t *wire.Trade) {
	p.m.trades.WithLabelValues(symbol).Inc()
	publish(p, p.subj.Trades(symbol), t, wire.AppendTrade)
}

// BookUpdate publishes an incremental depth update on <prefix>.md.<symbol>.book.
func (p *Publisher) BookUpdate(symbol string, u *wire.BookUpdate) {
	publish(p, p.subj.Book(symbol), u, wire.AppendBookUpdate)
}

// Mark publishes on <prefix>.md.<symbol>.mark.
func (p *Publisher) Mark(symbol string, m *wire.MarkUpdate) {
	publish(p, p.subj.Mark(symbol), m, wire.AppendMarkUpdate)
}

// FundEvent publishes on <prefix>.fund.events and sets the fund balance gauge.
func (p *Publisher) FundEvent(e *wire.FundEvent) {
	p.m.fundBalance.WithLabelValues(e.Asset).Set(e.Balance.InexactFloat64())
	publish(p, p.subj.FundEvents(), e, wire.AppendFundEvent)
}

// ADLEvent publishes on <prefix>.adl.<symbol>.events.
func (p *Publisher) ADLEvent(symbol string, e *wire.ADLEvent) {
	p.m.adlEvents.WithLabelValues(symbol).Inc()
	publish(p, p.subj.ADLEvents(symbol), e, wire.AppendADLEvent)
}

// AccountEvent publishes on <prefix>.acct.<account>.events; a liquidation
// event counts in perpx_liquidations_total.
func (p *Publisher) AccountEvent(account string, e *wire.AccountEvent) {
	if e.Type == wire.EventLiquidation && e.Liquidation != nil {
		p.m.liquidations.WithLabelValues(e.Liquidation.Symbol).Inc()
	}
	publish(p, p.subj.Events(account), e, wire.AppendAccountEvent)
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
		p.log.Debug("gateway: publish failed", "subject", subject, "err", err)
	}
}
