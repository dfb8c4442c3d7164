package loadtest

import (
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// eventCounter counts liquidations (px.md.*.liquidations, the public
// notices) and ADL closes (px.adl.*.events) across the exchange.
type eventCounter struct {
	liquidations atomic.Int64
	adl          atomic.Int64
}

// watch subscribes on nc. accountEvents also subscribes px.acct.*.events,
// one delivery per order and fill, only to take them as trading bots
// listening to their fills would: the exchange builds and sends account
// events only when someone listens.
func (e *eventCounter) watch(nc *nats.Conn, subj wire.Subjects, accountEvents bool) error {
	if _, err := nc.Subscribe(subj.ADLEvents(wire.Any), func(*nats.Msg) { e.adl.Add(1) }); err != nil {
		return err
	}
	if _, err := nc.Subscribe(subj.Liquidations(wire.Any), func(*nats.Msg) { e.liquidations.Add(1) }); err != nil {
		return err
	}
	if !accountEvents {
		return nil
	}
	acct, err := nc.Subscribe(subj.Events(wire.Any), func(*nats.Msg) {})
	if err != nil {
		return err
	}
	return acct.SetPendingLimits(-1, -1)
}
