package wire

import (
	"strings"
	"testing"
)

func TestSubjectsRoundTrip(t *testing.T) {
	for _, prefix := range []string{"", "px", "paper.px"} {
		s, err := NewSubjects(prefix)
		if err != nil {
			t.Fatal(err)
		}
		p := s.Prefix()
		for e := EpOrderPlace; e <= EpKline; e++ {
			r := Route{Endpoint: e}
			if needsAccount(e) {
				r.Account = "alice_1"
			}
			if needsSymbol(e) {
				r.Symbol = "BTC-PERP"
			}
			if e == EpKline {
				r.Interval = "4h"
			}
			subj := s.Build(r)
			if !strings.HasPrefix(subj, p+".") {
				t.Fatalf("%v: %q lacks prefix %q", e, subj, p)
			}
			got, perr := s.Parse(subj)
			if perr != nil || got != r {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", subj, got, perr, r)
			}
		}
		// The public reads asked under an account.
		for _, r := range []Route{{Endpoint: EpDepth, Account: "alice_1", Symbol: "BTC-PERP"},
			{Endpoint: EpFundState, Account: "alice_1"}, {Endpoint: EpADLQueue, Account: "alice_1", Symbol: "BTC-PERP"}} {
			subj := s.Build(r)
			if got, perr := s.Parse(subj); perr != nil || got != r {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", subj, got, perr, r)
			}
		}
	}
	s := DefaultSubjects()
	for subj, want := range map[string]string{
		s.OrderPlace("alice"):                "px.acct.alice.order.place",
		s.OrderCancel(Any):                   "px.acct.*.order.cancel",
		s.OrderCancelAll("bob"):              "px.acct.bob.order.cancel_all",
		s.AdminIndex("ETH-PERP"):             "px.admin.index.ETH-PERP",
		s.AdminFundDeposit():                 "px.admin.fund.deposit",
		s.AdminAudit():                       "px.admin.audit",
		s.AdminStateHash():                   "px.admin.state_hash",
		s.AdminCluster():                     "px.admin.cluster",
		s.Depth("BTC-PERP"):                  "px.md.BTC-PERP.depth",
		s.ADLQueue("BTC-PERP"):               "px.adl.BTC-PERP.queue",
		s.AccountAll("bob"):                  "px.acct.bob.>",
		s.AccountDepth("bob", "BTC-PERP"):    "px.acct.bob.md.BTC-PERP.depth",
		s.AccountFundState("bob"):            "px.acct.bob.fund.state",
		s.AccountADLQueue("bob", "ETH-PERP"): "px.acct.bob.adl.ETH-PERP.queue",
		s.Klines("BTC-PERP"):                 "px.md.BTC-PERP.klines",
		s.Kline("BTC-PERP", "5m"):            "px.md.BTC-PERP.kline.5m",
		s.AccountRecentTrades("bob", "X"):    "px.acct.bob.md.X.recent_trades",
	} {
		if subj != want {
			t.Errorf("got %q want %q", subj, want)
		}
	}
}

func TestSubjectsParseRejects(t *testing.T) {
	s := DefaultSubjects()
	for _, subj := range []string{
		"", "px", "px.", "qx.acct.alice.state", "pxx.acct.alice.state",
		"px.acct.alice", "px.acct.alice.order", "px.acct.alice.order.place.x",
		"px.acct..state", "px.acct.*.state", "px.acct.>.state", "px.acct.al ice.state",
		"px.acct." + strings.Repeat("a", 65) + ".state",
		"px.admin.index", "px.admin.index.*", "px.admin.withdraw", "px.admin.audit.x", "px.admin.state_hash.x", "px.admin.statehash", "px.md.BTC-PERP",
		"px.md.BTC-PERP.candles", "px.md..depth", "px.fund", "px.adl.X.queue.y",
		"px.acct.bob.md.BTC-PERP.depth.x", "px.acct.bob.md..depth", "px.acct.bob.md.X.trades", "px.md.X.kline.2m", "px.md.X.kline", "px.acct.b*b.fund.state", "px.acct.bob.fund", "px.acct.bob.adl.X.events",
	} {
		if r, err := s.Parse(subj); err == nil || err.Code != CodeBadRequest {
			t.Errorf("Parse(%q) = %+v, %v; want BAD_REQUEST", subj, r, err)
		}
	}
	for _, bad := range []string{".", "px.", "a..b", "p*", "p>", "a b"} {
		if _, err := NewSubjects(bad); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
}

func TestEndpointKinds(t *testing.T) {
	reqs := 0
	for e := EpOrderPlace; e <= EpKline; e++ {
		if e.IsRequest() {
			reqs++
		}
		if e.String() == "invalid" {
			t.Errorf("endpoint %d has no name", e)
		}
	}
	if reqs != 31 || EpInvalid.IsRequest() || Endpoint(200).String() != "invalid" {
		t.Fatalf("%d request endpoints, want the 31 of API.md", reqs)
	}
}

func TestValidToken(t *testing.T) {
	for _, s := range []string{"a", "BTC-PERP", "alice_1", strings.Repeat("Z", 64)} {
		if !ValidToken(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", "a.b", "*", ">", "a b", "é", "a\x00", strings.Repeat("Z", 65)} {
		if ValidToken(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
