package gateway

import (
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// instant answers order.place at once with a fixed order; every other
// method is the embedded nil interface's (never called here).
type instant struct{ Exchange }

var instantOrder = wire.Order{OrderID: "1", Account: "alice", Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit,
	Price: dec("30000.5"), Qty: dec("0.01"), Status: wire.StatusNew, TIF: wire.GTC}

func (instant) PlaceOrder(_ string, _ wire.PlaceOrder, done func(wire.OrderReply)) {
	done(wire.OrderReply{Reply: wire.OK(), Order: &instantOrder})
}

const benchPlace = `{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.010","client_order_id":"c1"}`

// benchEnv serves order.place twice over the same exchange: through the
// micro service under prefix "px" and through a plain QueueSubscribe
// handler running the same gateway code under prefix "plain".
func benchEnv(b *testing.B) (e *env, micro, plain string) {
	e = newEnv(b, Options{})
	e.g.x = instant{}
	ps, _ := wire.NewSubjects("plain")
	g := &Gateway{nc: e.nc, x: instant{}, subj: ps, log: slog.New(slog.DiscardHandler), m: e.m}
	o := ops(ps)[0]
	o.latency = e.m.latency.WithLabelValues("plain")
	_, err := e.nc.QueueSubscribe(o.subject, DefaultQueue, func(m *nats.Msg) {
		start := g.received()
		if err := g.handle(o, m.Subject, m.Reply, m.Data, start); err != nil {
			g.refused(o, start, err, m.Respond)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.nc.Flush(); err != nil {
		b.Fatal(err)
	}
	return e, subj.OrderPlace("alice"), ps.OrderPlace("alice")
}

// BenchmarkRoundTrip is one request at a time: the latency a client sees.
func BenchmarkRoundTrip(b *testing.B) {
	e, micro, plain := benchEnv(b)
	for _, c := range []struct{ name, subject string }{{"micro", micro}, {"plain", plain}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.cl.Request(c.subject, []byte(benchPlace), 5*time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipelined keeps a window of requests in flight: the gateway's
// throughput, where micro's per-request bookkeeping would show.
func BenchmarkPipelined(b *testing.B) {
	e, micro, plain := benchEnv(b)
	const window = 512
	for _, c := range []struct{ name, subject string }{{"micro", micro}, {"plain", plain}} {
		b.Run(c.name, func(b *testing.B) {
			inbox := nats.NewInbox()
			replies := make(chan struct{}, window)
			sub, err := e.cl.Subscribe(inbox, func(*nats.Msg) { replies <- struct{}{} })
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Unsubscribe()
			_ = sub.SetPendingLimits(-1, -1)
			if err := e.cl.Flush(); err != nil {
				b.Fatal(err)
			}
			payload := []byte(benchPlace)
			sent, got := 0, 0
			cpu0 := cpuTime()
			b.ResetTimer()
			for got < b.N {
				for sent < b.N && sent-got < window {
					if err := e.cl.PublishRequest(c.subject, inbox, payload); err != nil {
						b.Fatal(err)
					}
					sent++
				}
				select {
				case <-replies:
					got++
				case <-time.After(5 * time.Second):
					b.Fatalf("stalled at %d of %d replies", got, b.N)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			// CPU per request of the whole process (client, server, gateway):
			// steadier than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/1e3/float64(b.N), "cpu-µs/req")
		})
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeAndEncode is the gateway's own CPU per order without NATS.
func BenchmarkDecodeAndEncode(b *testing.B) {
	buf := make([]byte, 0, 1024)
	data := []byte(benchPlace)
	for b.Loop() {
		if _, err := wire.DecodePlace(data); err != nil {
			b.Fatal(err)
		}
		buf = wire.AppendOrderReply(buf[:0], &instantOrder)
	}
	b.ReportMetric(float64(len(buf)), "reply-bytes")
}
