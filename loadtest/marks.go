package loadtest

import (
	"encoding/json"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// marks holds each symbol's latest mark in ticks for the traders; the mark
// stream and the shock write it, senders read it.
type marks struct {
	syms  []*symbol
	ticks []atomic.Int64
}

func newMarks(syms []*symbol) *marks {
	return &marks{syms: syms, ticks: make([]atomic.Int64, len(syms))}
}

// watch follows px.md.<sym>.mark for every symbol.
func (m *marks) watch(nc *nats.Conn, subj wire.Subjects) error {
	for i, s := range m.syms {
		_, err := nc.Subscribe(subj.Mark(s.Name), func(msg *nats.Msg) {
			var u wire.MarkUpdate
			if json.Unmarshal(msg.Data, &u) == nil && u.Mark.Sign() > 0 {
				m.ticks[i].Store(s.tick.units(u.Mark))
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ready reports whether every symbol has a mark.
func (m *marks) ready() bool {
	for i := range m.ticks {
		if m.ticks[i].Load() <= 0 {
			return false
		}
	}
	return true
}
