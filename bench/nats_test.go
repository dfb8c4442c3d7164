package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/internal/natscluster"
	"github.com/perpx/perpx/natsrv"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// startExchange runs the whole exchange (embedded NATS on a random loopback
// port, manual index, no bots, no rate limit) with the flow's accounts funded.
// With data set it is durable: the embedded server keeps the journal in its
// JetStream file store there (sync always), as app.Options.Data does.
// It returns the exchange's URL and its server's message counters.
func startExchange(b *testing.B, data string) (string, serverStats) {
	mon := monitorAddr(b)
	return startExchangeWith(b, app.Options{NATSListen: "127.0.0.1:-1", NATSMonitor: mon, Data: data}), serverStats{mon}
}

// startExchangeWith is startExchange with o's NATS and durability.
func startExchangeWith(b *testing.B, o app.Options) string {
	b.Helper()
	cfg := config.Default()
	cfg.RateLimit = config.RateLimit{}
	o.Config, o.Index = cfg, "manual"
	a, err := app.Start(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close(context.Background()) })
	nc, err := nats.Connect(a.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	subj := wire.DefaultSubjects()
	request(b, nc, subj.AdminIndex(flowSymbol), wire.IndexSet{Price: decimal.NewFromInt(30000)})
	for i := 0; i < flowAccounts; i++ {
		request(b, nc, subj.AdminDeposit(), wire.Deposit{Account: acctName(i), Asset: "USDT", Amount: decimal.NewFromInt(1_000_000_000)})
	}
	return a.URL()
}

func request(b *testing.B, nc *nats.Conn, subject string, v any) {
	b.Helper()
	data, _ := json.Marshal(v)
	m, err := nc.Request(subject, data, 5*time.Second)
	if err != nil {
		b.Fatalf("%s: %v", subject, err)
	}
	var r wire.Reply
	if err := json.Unmarshal(m.Data, &r); err != nil || !r.OK {
		b.Fatalf("%s: %s", subject, m.Data)
	}
}

// natsOp is one prebuilt request of the flow.
type natsOp struct {
	subject string
	data    []byte
}

// natsOps splits the flow by account pair over conns connections, so each
// account's requests keep their order (NATS orders messages per connection).
func natsOps(conns int) [][]natsOp {
	subj := wire.DefaultSubjects()
	out := make([][]natsOp, conns)
	for _, o := range flowOps() {
		var n natsOp
		if o.cancel {
			n.subject = subj.OrderCancel(acctName(o.acct))
			n.data, _ = json.Marshal(o.cancelReq())
		} else {
			n.subject = subj.OrderPlace(acctName(o.acct))
			n.data, _ = json.Marshal(o.place())
		}
		c := (o.acct / 2) % conns
		out[c] = append(out[c], n)
	}
	return out
}

var okPrefix = []byte(`{"ok":true`)

// recordReply decodes only failed replies: the hot path is a prefix check.
func (c *outcome) recordReply(data []byte) {
	if bytes.HasPrefix(data, okPrefix) {
		c.record(nil)
		return
	}
	var r wire.Reply
	if err := json.Unmarshal(data, &r); err != nil || r.Error == nil {
		r.Error = &wire.Error{Code: wire.CodeInternal, Message: string(data)}
	}
	c.record(r.Error)
}

// benchNATS drives the flow from conns connections, each pipelining up to
// win requests with one reply subscription (blocking Request per order tops
// out far lower; see README.md). With durable set the exchange journals
// every order to JetStream in b.TempDir() and each reply waits for its
// record's fsync.
func benchNATS(b *testing.B, conns, win int, durable bool) {
	data := ""
	if durable {
		data = b.TempDir()
	}
	url, srv := startExchange(b, data)
	benchNATSAt(b, conns, win, url, srv)
}

// benchNATSAt runs the flow against the exchange at url; with srv's
// monitoring endpoint it also reports the server's messages per order.
func benchNATSAt(b *testing.B, conns, win int, url string, srv serverStats) {
	ops := natsOps(conns)
	var out outcome
	type client struct {
		nc    *nats.Conn
		inbox string
		slots chan struct{}
	}
	cs := make([]client, conns)
	for i := range cs {
		nc, err := nats.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		c := client{nc: nc, inbox: nats.NewInbox(), slots: make(chan struct{}, win)}
		if _, err := nc.Subscribe(c.inbox, func(m *nats.Msg) {
			out.recordReply(m.Data)
			<-c.slots
		}); err != nil {
			b.Fatal(err)
		}
		cs[i] = c
	}
	b.ReportAllocs()
	in0, out0 := srv.msgs(b)
	b.ResetTimer()
	start := startClock()
	var wg sync.WaitGroup
	for ci := range cs {
		wg.Add(1)
		go func(c client, ops []natsOp) {
			defer wg.Done()
			for i := 0; i < b.N/conns; i++ {
				c.slots <- struct{}{}
				o := &ops[i%len(ops)]
				if err := c.nc.PublishRequest(o.subject, c.inbox, o.data); err != nil {
					b.Error(err)
					return
				}
			}
			for i := 0; i < win; i++ {
				c.slots <- struct{}{}
			}
		}(cs[ci], ops[ci])
	}
	wg.Wait()
	report(b, start)
	b.StopTimer()
	srv.reportMsgs(b, in0, out0, b.N/conns*conns)
	out.check(b)
	if got, want := out.replies.Load(), int64(b.N/conns*conns); got != want {
		b.Fatalf("%d replies for %d requests", got, want)
	}
}

// BenchmarkNATSOrders: the flow end to end over NATS on loopback, four
// pipelining client connections (the load generator shares the machine).
func BenchmarkNATSOrders(b *testing.B) { benchNATS(b, 4, 256, false) }

// BenchmarkNATSEcho: BenchmarkNATSOrders' clients and requests against an
// echo responder (natsrv.StartEcho: the embedded server, one in-process
// subscription answering each request with a canned reply), the floor the
// exchange's figure is compared with (issue 21: BenchmarkNATSOrders ≥ 0.55
// of it, measured in the same run: -bench 'NATSOrders$|NATSEcho$').
func BenchmarkNATSEcho(b *testing.B) {
	url, stop, err := natsrv.StartEcho(wire.DefaultSubjects().Prefix(), "inproc")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	benchNATSAt(b, 4, 256, url, serverStats{})
}

// BenchmarkNATSOrdersDurable: BenchmarkNATSOrders with the journal on
// (issue 13): every order's records appended to JetStream (file store,
// sync always, group commit) before it is handled, its reply and events
// held until they are stored.
func BenchmarkNATSOrdersDurable(b *testing.B) { benchNATS(b, 4, 256, true) }

// BenchmarkNATSOrdersCluster: BenchmarkNATSOrdersDurable on a three-server
// NATS cluster (internal/natscluster: loopback, file stores, sync always),
// the exchange a clustered leader (issue 20) with the journal on one
// replica or on three; exchange and clients on the first server.
func BenchmarkNATSOrdersCluster(b *testing.B) {
	for _, r := range []int{1, 3} {
		b.Run(fmt.Sprintf("R%d", r), func(b *testing.B) {
			c, err := natscluster.Start(3, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(c.Close)
			url := startExchangeWith(b, app.Options{NATSURL: c.URL(0), Data: b.TempDir(), JournalReplicas: r, Role: app.RoleLeader})
			benchNATSAt(b, 4, 256, url, serverStats{})
		})
	}
}

// BenchmarkNATSOrdersOneClient: one pipelining connection.
func BenchmarkNATSOrdersOneClient(b *testing.B) { benchNATS(b, 1, 256, false) }

// BenchmarkNATSOrdersSerial: one client, one request at a time — the round
// trip latency (ns/op) of an order through the whole exchange.
func BenchmarkNATSOrdersSerial(b *testing.B) { benchNATS(b, 1, 1, false) }
