package bench

import (
	"testing"

	"github.com/perpx/perpx/internal/floor"
)

// BenchmarkNATSGatewayFloor: BenchmarkNATSOrders' clients and requests
// against the real gateway in front of a core that answers at once
// (internal/floor): what the exchange's NATS path costs without its
// actors, so its ratio to BenchmarkNATSEcho bounds what any core could
// reach (issue 21). inline answers on the gateway's goroutine; handoff
// through one goroutine fed by a channel, the shape of a single sequenced
// core.
func BenchmarkNATSGatewayFloor(b *testing.B) {
	for _, handoff := range []bool{false, true} {
		name := "inline"
		if handoff {
			name = "handoff"
		}
		b.Run(name, func(b *testing.B) {
			url, stop, err := floor.Start("", handoff)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(stop)
			benchNATSAt(b, 4, 256, url, serverStats{})
		})
	}
}
