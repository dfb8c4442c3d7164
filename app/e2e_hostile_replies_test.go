package app_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
)

// metric reads one sample of /metrics, 0 when it is absent.
func metric(t *testing.T, e *exchange, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + e.app.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestE2EReplyToAnotherInboxIsRefused: with users, alice's requests on her
// own account with bob's inbox (a subject, the wildcard, the bare prefix)
// or a subject outside every inbox as reply are dropped unanswered and
// counted in perpx_replies_refused_total; bob, listening on his whole
// inbox, receives nothing; the same request with her own inbox is
// answered. The public reads too: asked under her account (the public
// subjects are refused to traders by the server).
func TestE2EReplyToAnotherInboxIsRefused(t *testing.T) {
	e := start(t, parseConfig(t, symbolJSON("100", 0, longTiers()...), secUsers),
		startOpts{admin: []nats.Option{nats.UserInfo("ops", "root-pw")}, http: "127.0.0.1:0"})
	e.index("1000")
	e.deposit("alice", "10000")
	av, bv := &violations{}, &violations{}
	alice := login(t, e, "alice", "s3cret", av)
	bob := login(t, e, "bob", "b0b-pw", bv)
	bobInbox, err := bob.SubscribeSync(wire.InboxPrefix("bob") + ".>")
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.Flush(); err != nil {
		t.Fatal(err)
	}
	foreign := `perpx_replies_refused_total{reason="foreign_inbox"}`
	notInbox := `perpx_replies_refused_total{reason="not_inbox"}`
	f0, n0 := metric(t, e, foreign), metric(t, e, notInbox)

	bobTargets := []string{wire.InboxPrefix("bob") + ".x", wire.InboxPrefix("bob") + ".x.y"}
	otherTargets := []string{wire.InboxPrefix("bob") + ".>", wire.InboxPrefix("bob") + ".*", wire.InboxPrefix("bob"), "bob.replies", "_INBOX.alice"}
	const rounds = 25
	order := `{"symbol":"TEST-PERP","side":"buy","type":"limit","price":"900","qty":"1"}`
	h0 := e.hash()
	for range rounds {
		for _, target := range append(bobTargets, otherTargets...) {
			for _, r := range []struct{ subject, body string }{
				{e.subj.State("alice"), `{}`},
				{e.subj.OrderPlace("alice"), order},
				{e.subj.OrderCancelAll("alice"), `{}`},
				{e.subj.OrderPlace("alice") + "x", `{}`}, // malformed: its error reply too
				{e.subj.AccountFundState("alice"), `{}`}, // a public read, asked under her account
			} {
				if err := alice.PublishRequest(r.subject, target, []byte(r.body)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Served in order after alice's earlier requests.
	request[wire.AccountReply](t, alice, e.subj.State("alice"), "{}")
	wantForeign := float64(rounds * 5 * len(bobTargets))
	wantNotInbox := float64(rounds * 5 * len(otherTargets))
	eventually(t, "refused replies counted", func() error {
		if f, n := metric(t, e, foreign)-f0, metric(t, e, notInbox)-n0; f != wantForeign || n != wantNotInbox {
			return fmt.Errorf("foreign_inbox +%v (want %v), not_inbox +%v (want %v)", f, wantForeign, n, wantNotInbox)
		}
		return nil
	})
	if h := e.hash(); h != h0 {
		t.Errorf("refused requests changed the state: hash %x, was %x", h, h0)
	}

	// The public read subjects themselves are not hers to ask on (nothing
	// would say who asked): the server refuses the publish.
	if err := alice.PublishRequest(e.subj.FundState(), wire.InboxPrefix("bob")+".public", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	av.expect(t, "Publish", e.subj.FundState())
	if m, err := bobInbox.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("bob received %s: %s", m.Subject, m.Data)
	}
	// Asked under her account with her own inbox, it is answered.
	mustOK(t, "fund state", request[wire.FundStateReply](t, alice, e.subj.AccountFundState("alice"), "{}").Reply)
	if len(bv.seen) != 0 {
		t.Fatalf("bob saw violations: %v", bv.seen)
	}
}

// TestE2EBadReplyFloodLogsBounded: 20 000 requests with a reply subject
// inside px. are all counted, and write a bounded number of log lines.
func TestE2EBadReplyFloodLogsBounded(t *testing.T) {
	var logs logBuf
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := start(t, parseConfig(t, symbolJSON("100", 0, longTiers()...), secUsers),
		startOpts{admin: []nats.Option{nats.UserInfo("ops", "root-pw")}, http: "127.0.0.1:0", log: log})
	alice := login(t, e, "alice", "s3cret", &violations{})
	series := `perpx_replies_refused_total{reason="exchange_subject"}`
	c0 := metric(t, e, series)
	const n = 20000
	for i := range n {
		if err := alice.PublishRequest(e.subj.State("alice"), e.subj.Trades(tsym), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 { // pace the flood so the exchange's queues take it whole
			if err := alice.Flush(); err != nil {
				t.Fatal(err)
			}
			request[wire.AccountReply](t, alice, e.subj.State("alice"), "{}")
		}
	}
	request[wire.AccountReply](t, alice, e.subj.State("alice"), "{}")
	eventually(t, "every refusal counted", func() error {
		if c := metric(t, e, series) - c0; c != n {
			return fmt.Errorf("counted %v of %d", c, n)
		}
		return nil
	})
	if got := logs.count("refused reply subject"); got < 1 || got > 3 {
		t.Fatalf("%d log lines for %d refused requests, want 1 to 3:\n%.3000s", got, n, logs.String())
	}
	if err := e.close(); err != nil { // Stop writes the count still pending
		t.Fatal(err)
	}
	if !regexp.MustCompile(`refused reply subject.*count=\d{4,}`).MatchString(logs.String()) {
		t.Fatalf("no line with the aggregated count:\n%.3000s", logs.String())
	}
}

// TestE2ETraderCannotTakeItsOwnRequests: alice may not subscribe to her
// own request subjects, with or without the exchange's queue group, nor to
// her account's subtree; the server reports each, her own requests are
// still answered by the exchange, and her own events still reach her.
func TestE2ETraderCannotTakeItsOwnRequests(t *testing.T) {
	e := start(t, parseConfig(t, symbolJSON("100", 0, longTiers()...), secUsers),
		startOpts{admin: []nats.Option{nats.UserInfo("ops", "root-pw")}})
	e.index("1000")
	e.deposit("alice", "10000")
	av := &violations{}
	nc := login(t, e, "alice", "s3cret", av)
	alice := &trader{t: t, e: e, nc: nc, acct: "alice"}
	stolen := make(chan *nats.Msg, 16)
	steal := func(m *nats.Msg) { stolen <- m }
	subjects := []string{e.subj.State("alice"), e.subj.OrderPlace("alice"), e.subj.Orders("alice"), e.subj.AccountAll("alice"), e.subj.Leverage("alice")}
	for _, s := range subjects {
		if _, err := nc.QueueSubscribe(s, "perpx", steal); err != nil {
			t.Fatal(err)
		}
		av.expect(t, "Subscription", s)
		if _, err := nc.Subscribe(s, steal); err != nil {
			t.Fatal(err)
		}
	}
	events, err := nc.SubscribeSync(e.subj.Events("alice"))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if st := alice.state(); !st.Balances["USDT"].Equal(dec("10000")) {
			t.Fatalf("alice's state: %+v", st)
		}
	}
	alice.limit(wire.Buy, "990", "1")
	if _, err := events.NextMsg(wait); err != nil {
		t.Fatalf("alice's own events: %v", err)
	}
	select {
	case m := <-stolen:
		t.Fatalf("alice received her own request on %s", m.Subject)
	default:
	}
}
