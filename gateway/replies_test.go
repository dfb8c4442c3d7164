package gateway

import (
	"testing"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// TestReplyRules: where a request's reply may go, open and with users.
func TestReplyRules(t *testing.T) {
	users := []config.User{{User: "alice", Account: "alice"}, {User: "alice-bot", Account: "alice"},
		{User: "bob", Account: "bob"}, {User: "ops", Admin: true}}
	open, auth := newReplyRules(subj, nil), newReplyRules(subj, users)
	state, depth, audit := subj.State("alice"), subj.Depth("BTC-PERP"), subj.AdminAudit()
	cases := []struct {
		ep            wire.Endpoint
		subject       string
		reply         string
		open, withUsr string
	}{
		{wire.EpState, state, "", "", ""},
		{wire.EpState, state, "_INBOX.alice.x.1", "", ""},
		{wire.EpState, state, "_INBOX.alice-bot.x", "", ""}, // another user of the account
		{wire.EpState, state, "_INBOX.ops.x", "", ""},       // an admin may ask
		{wire.EpState, state, "_INBOX.Kx9sdf0SDFsdf.7", "", ""},
		{wire.EpState, state, "_INBOX.bob.x", "", refusedForeignInbox},
		{wire.EpOrderPlace, subj.OrderPlace("alice") + "x", "_INBOX.bob.x", "", refusedForeignInbox},
		{wire.EpState, state, "_INBOX.bob.>", "", refusedNotInbox},
		{wire.EpState, state, "_INBOX.bob.*", "", refusedNotInbox},
		{wire.EpState, state, "_INBOX.bob", "", refusedNotInbox},
		{wire.EpState, state, "_INBOX.bob.", "", refusedNotInbox},
		{wire.EpState, state, "bob.replies", "", refusedNotInbox},
		{wire.EpState, state, "px.acct.bob.events", refusedExchange, refusedExchange},
		{wire.EpState, state, "px", refusedExchange, refusedExchange},
		{wire.EpState, state, "$SYS.REQ.SERVER.PING", refusedExchange, refusedExchange},
		{wire.EpState, state, "pxy.z", "", refusedNotInbox},
		{wire.EpDepth, depth, "_INBOX.bob.x", "", ""}, // anyone may ask
		{wire.EpDepth, depth, "bob.replies", "", refusedNotInbox},
		{wire.EpDepth, depth, "px.md.BTC-PERP.trades", refusedExchange, refusedExchange},
		{wire.EpAdminAudit, audit, "ops.replies", "", ""}, // admins only
		{wire.EpAdminAudit, audit, "px.fund.events", refusedExchange, refusedExchange},
	}
	for _, c := range cases {
		if got := open.refuse(c.ep, c.subject, c.reply); got != c.open {
			t.Errorf("open: %s reply %q: %q, want %q", c.subject, c.reply, got, c.open)
		}
		if got := auth.refuse(c.ep, c.subject, c.reply); got != c.withUsr {
			t.Errorf("users: %s reply %q: %q, want %q", c.subject, c.reply, got, c.withUsr)
		}
	}
}

func TestReplyRulesAllocs(t *testing.T) {
	r := newReplyRules(subj, []config.User{{User: "alice", Account: "alice"}, {User: "bob", Account: "bob"}})
	s := subj.State("alice")
	if n := testing.AllocsPerRun(100, func() { _ = r.refuse(wire.EpState, s, "_INBOX.bob.abc.1") }); n != 0 {
		t.Fatalf("%v allocations per check", n)
	}
}
