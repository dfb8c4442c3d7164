package natsrv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

const wait = 5 * time.Second

// violations collects a connection's permission-violation errors.
type violations struct {
	mu   sync.Mutex
	seen []string
	ch   chan struct{}
}

func newViolations() *violations { return &violations{ch: make(chan struct{}, 64)} }

func (v *violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrPermissionViolation) {
		v.mu.Lock()
		v.seen = append(v.seen, err.Error())
		v.mu.Unlock()
		v.ch <- struct{}{}
	}
}

// expect waits until a violation naming op ("Publish"/"Subscription") and
// subject has been reported.
func (v *violations) expect(t *testing.T, op, subject string) {
	t.Helper()
	want := fmt.Sprintf("%s to %q", op, subject)
	deadline := time.After(wait)
	for {
		v.mu.Lock()
		for _, s := range v.seen {
			if strings.Contains(s, want) {
				v.mu.Unlock()
				return
			}
		}
		v.mu.Unlock()
		select {
		case <-v.ch:
		case <-deadline:
			t.Fatalf("no permission violation for %s; saw %q", want, v.seen)
		}
	}
}

func connect(t *testing.T, url string, v *violations, opts ...nats.Option) *nats.Conn {
	t.Helper()
	if v != nil {
		opts = append(opts, nats.ErrorHandler(v.handler))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func start(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// respond answers every request on subject with "ok:<subject>".
func respond(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	_, err := nc.QueueSubscribe(subject, "gw", func(m *nats.Msg) { _ = m.Respond([]byte("ok:" + m.Subject)) })
	if err == nil {
		// The server must have the subscription before another
		// connection's request arrives, or that is "no responders".
		err = nc.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func request(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	m, err := nc.Request(subject, []byte("{}"), wait)
	if err != nil {
		t.Fatalf("request %s: %v", subject, err)
	}
	if string(m.Data) != "ok:"+subject {
		t.Fatalf("request %s: reply %q", subject, m.Data)
	}
}

func TestAuthorization(t *testing.T) {
	bobKey, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	bobPub, _ := bobKey.PublicKey()
	s := start(t, Options{Listen: "127.0.0.1:-1", Users: []config.User{
		{User: "alice", Password: "s3cret", Account: "alice"},
		{User: "bob", NKey: bobPub, Account: "bob"},
		{User: "ops", Password: "root-pw", Admin: true},
	}})
	px := wire.DefaultSubjects()
	url := s.ClientURL()

	svc, err := s.Connect("exchange")
	if err != nil {
		t.Fatalf("service connection: %v", err)
	}
	t.Cleanup(svc.Close)
	for _, subj := range []string{px.OrderPlace(wire.Any), px.State(wire.Any), px.Depth(wire.Any), px.AccountDepth(wire.Any, wire.Any), px.AdminAll()} {
		respond(t, svc, subj)
	}
	// The admin watches every subject: nothing refused may reach it.
	ops := connect(t, url, nil, nats.UserInfo("ops", "root-pw"))
	watch, err := ops.SubscribeSync(px.Prefix() + ".>")
	if err != nil {
		t.Fatal(err)
	}
	if err := ops.Flush(); err != nil {
		t.Fatal(err)
	}

	av := newViolations()
	alice := connect(t, url, av, nats.UserInfo("alice", "s3cret"), nats.CustomInboxPrefix(wire.InboxPrefix("alice")))
	request(t, alice, px.OrderPlace("alice"))
	request(t, alice, px.AccountDepth("alice", "BTC-PERP")) // the public reads, asked under her account
	// The public read subjects themselves are the exchange's and admins':
	// a trader asks under its account, where the reply rule knows its inboxes.
	denied := []string{px.OrderPlace("bob"), px.AdminDeposit(), px.AdminIndex("BTC-PERP"), px.AdminFundDeposit(), px.Events("alice"),
		px.Depth("BTC-PERP"), px.FundState(), px.ADLQueue("BTC-PERP"), px.AccountDepth("bob", "BTC-PERP")}
	for _, subj := range denied {
		if err := alice.Publish(subj, []byte(`{"account":"alice","amount":"1e9"}`)); err != nil {
			t.Fatal(err)
		}
		av.expect(t, "Publish", subj)
	}
	// Alice's messages reach the admin in order, so once her sentinel
	// arrives every refused publish would have arrived before it.
	sentinel := px.OrderCancel("alice")
	if err := alice.Publish(sentinel, nil); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := watch.NextMsg(wait)
		if err != nil {
			t.Fatalf("admin never saw the sentinel: %v", err)
		}
		if m.Subject == sentinel {
			break
		}
		for _, subj := range denied {
			if m.Subject == subj {
				t.Fatalf("refused publish to %s reached the admin", subj)
			}
		}
	}

	// Subscriptions: another account's events, the admin tree, foreign
	// inboxes and the public request subjects are refused.
	for _, subj := range []string{px.Events("bob"), px.AccountAll("bob"), px.AdminAll(), "_INBOX.>", "_INBOX.bob.>", px.Depth("BTC-PERP")} {
		if _, err := alice.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		av.expect(t, "Subscription", subj)
	}
	// A queue subscription to the depth requests would let alice answer for
	// the exchange; a permitted wildcard must not carry them to her either.
	if _, err := alice.QueueSubscribeSync(px.Depth("ETH-PERP"), "gw"); err != nil {
		t.Fatal(err)
	}
	av.expect(t, "Subscription", px.Depth("ETH-PERP"))
	md, err := alice.SubscribeSync(px.MarketDataAll())
	if err != nil {
		t.Fatal(err)
	}
	bobEvents, err := alice.SubscribeSync(px.Events("bob"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := alice.SubscribeSync(px.Events("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Flush(); err != nil {
		t.Fatal(err)
	}

	bob := connect(t, url, nil, nats.Nkey(bobPub, bobKey.Sign), nats.CustomInboxPrefix(wire.InboxPrefix("bob")))
	request(t, bob, px.State("bob"))
	request(t, bob, px.AccountDepth("bob", "ETH-PERP"))
	// In order from the service: bob's event, a trade, alice's event.
	for _, subj := range []string{px.Events("bob"), px.Trades("ETH-PERP"), px.Events("alice")} {
		if err := svc.Publish(subj, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := own.NextMsg(wait); err != nil {
		t.Fatalf("alice misses her own events: %v", err)
	}
	if m, err := md.NextMsg(wait); err != nil || m.Subject != px.Trades("ETH-PERP") {
		t.Fatalf("alice's market data: %v %v (a depth request leaked?)", m, err)
	}
	if n, _, _ := bobEvents.Pending(); n != 0 {
		t.Fatalf("alice received %d of bob's events", n)
	}
	if n, _, _ := md.Pending(); n != 0 {
		t.Fatalf("%d unexpected market-data messages", n)
	}

	// The admin may use the admin subjects.
	request(t, ops, px.AdminDeposit())

	// Nobody gets in without valid credentials.
	for name, opts := range map[string][]nats.Option{
		"anonymous":      nil,
		"wrong password": {nats.UserInfo("alice", "guess")},
		"service user":   {nats.UserInfo(serviceUser, "")},
	} {
		if nc, err := nats.Connect(url, append(opts, nats.NoReconnect())...); err == nil {
			nc.Close()
			t.Errorf("%s connection accepted", name)
		}
	}
}

func TestOpenServerAndMonitor(t *testing.T) {
	s := start(t, Options{Listen: "127.0.0.1:-1", Monitor: "127.0.0.1:-1", Prefix: "paper"})
	svc, err := s.Connect("exchange")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	respond(t, svc, "paper.acct.*.state")
	nc := connect(t, s.ClientURL(), nil)
	request(t, nc, "paper.acct.anyone.state")

	addr := s.MonitorAddr()
	if addr == nil {
		t.Fatal("monitoring is off")
	}
	resp, err := http.Get(fmt.Sprintf("http://%s/varz", addr))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("monitor: %v %v", err, resp)
	}
	_ = resp.Body.Close()
}

func TestStartRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Listen: "127.0.0.1"},
		{Listen: "127.0.0.1:http"},
		{Listen: "127.0.0.1:70000"},
		{Listen: "127.0.0.1:-1", Monitor: "nope"},
		{Listen: "127.0.0.1:-1", Prefix: "p.*"},
	} {
		if s, err := Start(o); err == nil || !errors.Is(err, ErrStart) {
			if s != nil {
				s.Shutdown()
			}
			t.Errorf("%+v: got %v, want ErrStart", o, err)
		}
	}
}

func TestPermissionsOfAdmin(t *testing.T) {
	if p := Permissions(wire.DefaultSubjects(), config.User{User: "ops", Admin: true, Account: "ops"}); p != nil {
		t.Fatalf("admin restricted: %+v", p)
	}
}

func TestJetStream(t *testing.T) {
	dir := t.TempDir()
	users := []config.User{{User: "alice", Password: "pw", Account: "alice"}}
	o := Options{Listen: "127.0.0.1:-1", Users: users, JetStreamDir: dir}
	s := start(t, o)
	// The server keeps its files in a "jetstream" folder below StoreDir.
	if c := s.NATS().JetStreamConfig(); c == nil || !strings.HasPrefix(c.StoreDir, dir) || !c.SyncAlways {
		t.Fatalf("jetstream config %+v: want a store below %s, sync always", c, dir)
	}
	// stream opens the journal-like stream J on the service connection.
	stream := func(s *Server) jetstream.Stream {
		t.Helper()
		nc, err := s.Connect("exchange")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "J", Subjects: []string{"j"}, Storage: jetstream.FileStorage})
		if err != nil {
			t.Fatalf("the service user's stream: %v", err)
		}
		if _, err := js.Publish(ctx, "j", []byte("kept")); err != nil {
			t.Fatal(err)
		}
		return st
	}
	stream(s)
	// A trader may not use the JetStream API.
	av := newViolations()
	alice := connect(t, s.ClientURL(), av, nats.UserInfo("alice", "pw"), nats.CustomInboxPrefix(wire.InboxPrefix("alice")))
	ajs, err := jetstream.New(alice)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := ajs.Stream(ctx, "J"); err == nil {
		t.Fatal("a trader reached the JetStream API")
	}
	av.expect(t, "Publish", "$JS.API.STREAM.INFO.J")

	// What was acknowledged survives a restart on the same store.
	s.Shutdown()
	m, err := stream(start(t, o)).GetMsg(context.Background(), 1)
	if err != nil || string(m.Data) != "kept" {
		t.Fatalf("after restart: %v %v", m, err)
	}
}

func TestJetStreamOffByDefault(t *testing.T) {
	if s := start(t, Options{Listen: "127.0.0.1:-1"}); s.NATS().JetStreamEnabled() {
		t.Fatal("jetstream on without a store directory")
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Start(Options{Listen: "127.0.0.1:-1", JetStreamDir: filepath.Join(file, "js")}); !errors.Is(err, ErrStart) {
		if s != nil {
			s.Shutdown()
		}
		t.Fatalf("store under a file: got %v, want ErrStart", err)
	}
}
