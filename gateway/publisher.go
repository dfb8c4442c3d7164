package gateway

import (
	"log/slog"

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
	p.publish(p.subj.Trades(symbol), t)
}

// BookUpdate publishes an incremental depth update on <prefix>.md.<symbol>.book.
func (p *Publisher) BookUpdate(symbol string, u *wire.BookUpdate) {
	p.publish(p.subj.Book(symbol), u)
}

// Mark publishes on <prefix>.md.<symbol>.mark.
func (p *Publisher) Mark(symbol string, m *wire.MarkUpdate) {
	p.publish(p.subj.Mark(symbol), m)
}

// FundEvent publishes on <prefix>.fund.events and sets the fund balance gauge.
func (p *Publisher) FundEvent(e *wire.FundEvent) {
	p.m.fundBalance.WithLabelValues(e.Asset).Set(e.Balance.InexactFloat64())
	p.publish(p.subj.FundEvents(), e)
}

// ADLEvent publishes on <prefix>.adl.<symbol>.events.
func (p *Publisher) ADLEvent(symbol string, e *wire.ADLEvent) {
	p.m.adlEvents.WithLabelValues(symbol).Inc()
	p.publish(p.subj.ADLEvents(symbol), e)
}

// AccountEvent publishes on <prefix>.acct.<account>.events; a liquidation
// event counts in perpx_liquidations_total.
func (p *Publisher) AccountEvent(account string, e *wire.AccountEvent) {
	if e.Type == wire.EventLiquidation && e.Liquidation != nil {
		p.m.liquidations.WithLabelValues(e.Liquidation.Symbol).Inc()
	}
	p.publish(p.subj.Events(account), e)
}

func (p *Publisher) publish(subject string, v any) {
	if err := p.nc.Publish(subject, wire.Encode(v)); err != nil {
		p.m.publishErrors.Inc()
		p.log.Debug("gateway: publish failed", "subject", subject, "err", err)
	}
}
