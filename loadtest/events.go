package loadtest

import (
	"bytes"
	"encoding/json"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// eventCounter counts liquidations (px.acct.*.events of type liquidation)
// and ADL closes (px.adl.*.events) across every account of the exchange.
type eventCounter struct {
	liquidations atomic.Int64
	adl          atomic.Int64
}

var liquidationWord = []byte(`"liquidation"`)

// watch subscribes on nc. accountEvents=false skips the private streams,
// whose volume is one delivery per order and fill.
func (e *eventCounter) watch(nc *nats.Conn, subj wire.Subjects, accountEvents bool) error {
	if _, err := nc.Subscribe(subj.ADLEvents(wire.Any), func(*nats.Msg) { e.adl.Add(1) }); err != nil {
		return err
	}
	if !accountEvents {
		return nil
	}
	acct, err := nc.Subscribe(subj.Events(wire.Any), func(m *nats.Msg) {
		// Most events are fills and order updates: skip them without
		// parsing, then confirm the type of the rare candidate.
		if !bytes.Contains(m.Data, liquidationWord) {
			return
		}
		var ev struct {
			Type wire.EventType `json:"type"`
		}
		if json.Unmarshal(m.Data, &ev) == nil && ev.Type == wire.EventLiquidation {
			e.liquidations.Add(1)
		}
	})
	if err != nil {
		return err
	}
	return acct.SetPendingLimits(-1, -1)
}
