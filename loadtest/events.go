package loadtest

import (
	"bytes"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// eventCounter counts liquidations (px.md.*.liquidations, the public
// notices) and ADL closes (px.adl.*.events) across the exchange.
type eventCounter struct {
	liquidations atomic.Int64
	adl          atomic.Int64
	// makers are the fill sets of the makers by account, filled before
	// watch; an order event saying one of their quotes filled goes there.
	makers map[string]*filledSet
}

// accountOf is the <acct> token of a px.acct.<acct>.events subject.
func accountOf(subject string, subj wire.Subjects) string {
	rest, ok := strings.CutPrefix(subject, subj.Prefix()+".acct.")
	if !ok {
		return ""
	}
	acct, _, _ := strings.Cut(rest, ".")
	return acct
}

var (
	orderEvent   = []byte(`"type":"order"`)
	filledStatus = []byte(`"status":"filled"`)
	coidKey      = []byte(`"client_order_id":"lt`)
)

// filledQuote reads an account event: the number of the load test's client
// order id of an order it reports filled.
func filledQuote(data []byte) (uint64, bool) {
	if !bytes.Contains(data, orderEvent) || !bytes.Contains(data, filledStatus) {
		return 0, false
	}
	id := stringAfter(data, coidKey)
	if id == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(string(id), 36, 64)
	return n, err == nil
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
	acct, err := nc.Subscribe(subj.Events(wire.Any), func(m *nats.Msg) {
		if f := e.makers[accountOf(m.Subject, subj)]; f != nil {
			if coid, ok := filledQuote(m.Data); ok {
				f.add(coid)
			}
		}
	})
	if err != nil {
		return err
	}
	return acct.SetPendingLimits(-1, -1)
}
