package natsrv

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// TestTraderSubscribesOnlyToStreams: a trader may not subscribe, plainly
// or in the exchange's queue group, to any request subject (its own
// account's included) nor to its account's subtree; it may subscribe to
// its own events, the market data, fund and ADL streams and its inbox.
func TestTraderSubscribesOnlyToStreams(t *testing.T) {
	s := start(t, Options{Listen: "127.0.0.1:-1", Users: []config.User{{User: "alice", Password: "pw", Account: "alice"}}})
	px := wire.DefaultSubjects()
	v := newViolations()
	alice := connect(t, s.ClientURL(), v, nats.UserInfo("alice", "pw"), nats.CustomInboxPrefix(wire.InboxPrefix("alice")))
	denied := []string{px.AccountAll("alice"), px.Orders("alice"), "px.acct.alice.*", "px.>"}
	for ep := wire.EpInvalid + 1; ep.IsRequest(); ep++ {
		denied = append(denied, px.Build(wire.Route{Endpoint: ep, Account: "alice", Symbol: "BTC-PERP"}))
	}
	for i, subj := range denied {
		var err error
		if i%2 == 0 {
			_, err = alice.QueueSubscribeSync(subj, "perpx")
		} else {
			_, err = alice.SubscribeSync(subj)
		}
		if err != nil {
			t.Fatal(err)
		}
		v.expect(t, "Subscription", subj)
	}
	allowed := []string{px.Events("alice"), px.MarketDataAll(), px.Trades("BTC-PERP"), px.Book("BTC-PERP"), px.Mark("BTC-PERP"),
		px.Liquidations("BTC-PERP"), px.FundEvents(), px.FundAll(), px.ADLEvents("BTC-PERP"), px.ADLAll(), wire.InboxPrefix("alice") + ".>"}
	for _, subj := range allowed {
		if _, err := alice.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.seen) != len(denied) {
		t.Fatalf("%d violations for %d refused subscriptions: %q", len(v.seen), len(denied), v.seen)
	}
}

// captureLog is a server.Logger counting its lines.
type captureLog struct {
	mu    sync.Mutex
	lines []string
}

func (c *captureLog) add(f string, v ...any) {
	c.mu.Lock()
	c.lines = append(c.lines, fmt.Sprintf(f, v...))
	c.mu.Unlock()
}
func (c *captureLog) Noticef(f string, v ...any) { c.add(f, v...) }
func (c *captureLog) Warnf(f string, v ...any)   { c.add(f, v...) }
func (c *captureLog) Fatalf(f string, v ...any)  { c.add(f, v...) }
func (c *captureLog) Errorf(f string, v ...any)  { c.add(f, v...) }
func (c *captureLog) Debugf(f string, v ...any)  { c.add(f, v...) }
func (c *captureLog) Tracef(f string, v ...any)  { c.add(f, v...) }

func (c *captureLog) count(s string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// TestServerLogIsRateLimited: 5 000 refused publishes from 5 connections
// (a line each in nats-server's log) write one line at once and at most
// one per interval after, the count included.
func TestServerLogIsRateLimited(t *testing.T) {
	log := &captureLog{}
	s := start(t, Options{Listen: "127.0.0.1:-1", Logger: log, Users: []config.User{{User: "alice", Password: "pw", Account: "alice"}}})
	s.ns.SetLogger(limitLogger(log, 2*time.Second), false, false) // longer than the publishing takes, even under -race on a busy machine
	px := wire.DefaultSubjects()
	for range 5 {
		v := newViolations()
		nc := connect(t, s.ClientURL(), v, nats.UserInfo("alice", "pw"))
		for range 1000 {
			if err := nc.Publish(px.AdminDeposit(), nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if n := log.count("Publish Violation"); n != 1 {
		t.Fatalf("%d violation lines at once, want 1", n)
	}
	deadline := time.Now().Add(wait)
	for log.count("Publish Violation") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := log.count("like it in the last"); n != 1 || log.count("Publish Violation") != 2 {
		t.Fatalf("lines after the interval: %q", log.lines)
	}
}
