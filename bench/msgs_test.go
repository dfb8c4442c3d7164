package bench

import (
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"
)

// serverStats reads the message counters of an embedded NATS server's
// monitoring endpoint: every message a client published (in) and every
// delivery to a subscriber (out), so a benchmark can report how many
// messages one request costs the server.
type serverStats struct{ addr string }

// monitorAddr is a free loopback address for app.Options.NATSMonitor
// (which takes no port 0).
func monitorAddr(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// msgs returns the server's in and out message counts; 0, 0 without a
// monitoring endpoint.
func (s serverStats) msgs(b *testing.B) (in, out int64) {
	if s.addr == "" {
		return 0, 0
	}
	c := http.Client{Timeout: 5 * time.Second}
	r, err := c.Get("http://" + s.addr + "/varz")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Body.Close()
	var v struct {
		In  int64 `json:"in_msgs"`
		Out int64 `json:"out_msgs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		b.Fatal(err)
	}
	return v.In, v.Out
}

// reportMsgs reports the server's messages per request since in0, out0.
func (s serverStats) reportMsgs(b *testing.B, in0, out0 int64, requests int) {
	if s.addr == "" || requests == 0 {
		return
	}
	in, out := s.msgs(b)
	b.ReportMetric(float64(in-in0)/float64(requests), "srv-in/req")
	b.ReportMetric(float64(out-out0)/float64(requests), "srv-out/req")
}
