package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/journal"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/natsrv"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// replayRounds is how many times the flow runs into the journal
// BenchmarkReplayJetStream recovers from: 5 × 49 152 places (and 16 384
// cancels each).
const replayRounds = 5

// jsJournal is a journal in JetStream written by a durable exchange.
type jsJournal struct {
	nc      *nats.Conn
	cfg     journal.Config
	records uint64
	orders  int
}

// read is Recover's reader over the stream, as app.Start recovers.
func (j *jsJournal) read(fn func(uint64, uint16, uint32, []byte) error) error {
	_, err := journal.Read(j.nc, j.cfg, 1, fn)
	return err
}

// writeJSJournal starts the embedded server with JetStream in a temporary
// directory (sync always), runs a durable exchange on a journal.Writer
// over it (as app.Start wires them), drives the flow through it
// replayRounds times and stops it: the stream then holds its journal.
func writeJSJournal(b *testing.B) *jsJournal {
	b.Helper()
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", JetStreamDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Shutdown)
	nc, err := srv.Connect("bench-journal")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	j := &jsJournal{nc: nc, cfg: journal.Config{Stream: "PERPX_JOURNAL_BENCH", Subject: "$PERPX.bench.journal"}}
	jw, err := journal.Open(nc, j.cfg)
	if err != nil {
		b.Fatal(err)
	}
	x, err := actors.Start(actors.Options{Symbols: market.DemoSymbols(), Journal: jw})
	if err == nil {
		_, err = x.Recover(j.read)
	}
	if err != nil {
		b.Fatal(err)
	}
	wait := make(chan *wire.Error, flowAccounts+1)
	x.SetIndex(flowSymbol, wire.IndexSet{Price: decimal.NewFromInt(30000)}, func(r wire.IndexReply) { wait <- r.Error })
	for i := 0; i < flowAccounts; i++ {
		x.Deposit(wire.Deposit{Account: acctName(i), Asset: "USDT", Amount: decimal.NewFromInt(1_000_000_000)}, func(r wire.BalanceReply) { wait <- r.Error })
	}
	for i := 0; i < flowAccounts+1; i++ {
		if err := <-wait; err != nil {
			b.Fatal(err)
		}
	}
	refs := make([]actors.AccountRef, flowAccounts)
	for i := range refs {
		refs[i] = x.Account(acctName(i))
	}
	ops := flowOps()
	var out outcome
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4096)
	onOrder := func(r wire.OrderReply) {
		out.record(r.Error)
		<-slots
		wg.Done()
	}
	for range replayRounds {
		for _, o := range ops {
			slots <- struct{}{}
			wg.Add(1)
			if o.cancel {
				refs[o.acct].CancelOrder(o.cancelReq(), onOrder)
			} else {
				refs[o.acct].PlaceOrder(o.place(), onOrder)
				j.orders++
			}
		}
	}
	wg.Wait()
	out.check(b)
	time.Sleep(100 * time.Millisecond) // the last maker fills' settlements
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := jw.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	x.Stop()
	if err := jw.Close(); err != nil {
		b.Fatal(err)
	}
	j.records = jw.Last()
	return j
}

// nullJournal takes the records a recovered exchange appends after its
// recovery and drops them: the benchmark measures reading, not writing.
type nullJournal struct{ last atomic.Uint64 }

func (n *nullJournal) Append(_ uint16, _ uint32, _ []byte, onDurable func(uint64, error)) uint64 {
	seq := n.last.Add(1)
	if onDurable != nil {
		onDurable(seq, nil)
	}
	return seq
}

func (n *nullJournal) Last() uint64 { return n.last.Load() }

// Durable: every record is, at once (the Journal of snapshot-taking
// exchanges asks; a plain one does not).
func (n *nullJournal) Durable() uint64 { return n.last.Load() }

// BenchmarkReplayJetStream measures recovery straight from JetStream
// (issue 13): the journal of the flow run replayRounds times through a
// durable exchange (journal.Writer on the embedded server's file store),
// read back with journal.Read. "read" only reads and checks it (batches
// fetched, CRC and density checked, every record handed over); "recover"
// rebuilds a fresh exchange from it, as app.Start does (Start untimed).
// Metrics: orders/s (places in the journal), records/s, cpu-ns/record.
func BenchmarkReplayJetStream(b *testing.B) {
	j := writeJSJournal(b)
	b.Logf("journal: %d records, %d orders (%.2f records an order)", j.records, j.orders, float64(j.records)/float64(j.orders))
	metrics := func(b *testing.B, el, cpu time.Duration) {
		b.ReportMetric(float64(j.orders)*float64(b.N)/el.Seconds(), "orders/s")
		b.ReportMetric(float64(j.records)*float64(b.N)/el.Seconds(), "records/s")
		b.ReportMetric(float64(cpu)/float64(j.records)/float64(b.N), "cpu-ns/record")
	}
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		start := startClock()
		for range b.N {
			var n uint64
			last, err := journal.Read(j.nc, j.cfg, 1, func(uint64, uint16, uint32, []byte) error { n++; return nil })
			if err != nil {
				b.Fatal(err)
			}
			if n != j.records || last != j.records {
				b.Fatalf("read %d records up to %d, the journal holds %d", n, last, j.records)
			}
		}
		metrics(b, time.Since(start.wall), cpuTime()-start.cpu)
	})
	b.Run("recover", func(b *testing.B) {
		b.ReportAllocs()
		var el, cpu time.Duration
		for i := range b.N {
			b.StopTimer()
			nj := &nullJournal{}
			nj.last.Store(j.records)
			x, err := actors.Start(actors.Options{Symbols: market.DemoSymbols(), Journal: nj})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := startClock()
			n, err := x.Recover(j.read)
			el += time.Since(start.wall)
			cpu += cpuTime() - start.cpu
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if n != j.records {
				b.Fatalf("recovered %d records, the journal holds %d", n, j.records)
			}
			if i == 0 {
				audit := make(chan wire.AuditReply, 1)
				x.Audit(func(r wire.AuditReply) { audit <- r })
				if r := <-audit; !r.OK {
					b.Fatalf("recovered exchange fails its audit: %+v", r)
				}
			}
			x.Stop()
			b.StartTimer()
		}
		metrics(b, el, cpu)
	})
}
