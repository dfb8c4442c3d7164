package loadtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// ladder renders acct's resting orders as sorted "side price qty" lines.
func ladder(f *fakeExchange, acct string) []string {
	var out []string
	for _, o := range f.restingOf(acct) {
		tag := string(o.Side) + " " + o.Price.String() + " " + o.Qty.String()
		if !o.PostOnly || o.TIF != wire.GTC {
			tag += " (not a post-only GTC)"
		}
		out = append(out, tag)
	}
	slices.Sort(out)
	return out
}

func waitLadder(t *testing.T, f *fakeExchange, acct string, want []string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := ladder(f, acct)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s quotes %q, want %q", acct, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMarketMakerQuotesAroundTheMark follows the bot through its life: it
// funds itself, quotes around the configured price until a mark arrives,
// requotes when the mark moves, replaces a quote that filled, keeps its
// dead man's switch armed, and pulls everything when stopped.
func TestMarketMakerQuotesAroundTheMark(t *testing.T) {
	url := startNATS(t)
	fake := newFakeExchange(t, url)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := MMConfig{Capital: decimal.NewFromInt(500_000), Levels: 2, SpreadBps: 5, StepBps: 5, Notional: 1000, Requote: 50 * time.Millisecond}
	go func() { done <- RunMarketMaker(ctx, nc, wire.DefaultSubjects(), "bot1", DemoSymbols()[:1], cfg) }()

	// No mark, empty book: the configured 30000 is the reference.
	waitLadder(t, fake, "bot1", []string{"buy 29970 0.033", "buy 29985 0.033", "sell 30015 0.033", "sell 30030 0.033"})

	fake.mu.Lock()
	if !fake.deposits["bot1"].Equal(decimal.NewFromInt(500_000)) {
		t.Errorf("deposited %s", fake.deposits["bot1"])
	}
	if armed := fake.deadman["bot1"]; len(armed) == 0 || armed[0] != 5000 {
		t.Errorf("dead man's switch %v, want armed for 5000 ms (the 5 s floor over 10 × 50 ms)", armed)
	}
	fake.moveIndex("BTC-PERP", decimal.NewFromInt(31000)) // publishes the mark
	fake.mu.Unlock()
	want31k := []string{"buy 30969 0.032", "buy 30984.5 0.032", "sell 31015.5 0.032", "sell 31031 0.032"}
	waitLadder(t, fake, "bot1", want31k)

	// A quote fills (it leaves the book): the next state poll replaces it.
	fake.mu.Lock()
	var filled string
	for coid, o := range fake.resting["bot1"] {
		if o.Side == wire.Sell && o.Price.Equal(decimal.RequireFromString("31015.5")) {
			filled = coid
			delete(fake.resting["bot1"], coid)
		}
	}
	fake.mu.Unlock()
	waitLadder(t, fake, "bot1", want31k)
	if _, back := fake.restingOf("bot1")[filled]; back || filled == "" {
		t.Errorf("the filled quote %q should be replaced by a new order", filled)
	}

	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if left := ladder(fake, "bot1"); len(left) != 0 {
		t.Errorf("quotes left after stop: %q", left)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if armed := fake.deadman["bot1"]; len(armed) < 2 || armed[len(armed)-1] != 0 || fake.cancelAlls != 1 {
		t.Errorf("at stop: switch %v (want re-armed, then 0), %d cancel_all (want 1)", armed, fake.cancelAlls)
	}
	for _, c := range []struct{ set, want time.Duration }{
		{0, 10 * time.Second}, {-1, -1}, {time.Millisecond, 2 * time.Second}, {time.Minute, time.Minute},
		{2 * time.Hour, time.Hour},
	} {
		if got := (MMConfig{DeadMan: c.set}).withDefaults().DeadMan; got != c.want {
			t.Errorf("DeadMan %v: %v, want %v (Requote 1s)", c.set, got, c.want)
		}
	}
}

func TestMarketMakerRejectsBadInput(t *testing.T) {
	url := startNATS(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	subj := wire.DefaultSubjects()
	if err := RunMarketMaker(context.Background(), nc, subj, "a.b", DemoSymbols(), MMConfig{}); err == nil {
		t.Error("an account with a dot was accepted")
	}
	if err := RunMarketMaker(context.Background(), nc, subj, "bot", nil, MMConfig{}); err == nil {
		t.Error("no symbols was accepted")
	}
	// Nobody answers the deposit: the bot reports it instead of quoting blind.
	cfg := MMConfig{Capital: decimal.NewFromInt(1), Timeout: 200 * time.Millisecond}
	if err := RunMarketMaker(context.Background(), nc, subj, "bot", DemoSymbols(), cfg); err == nil {
		t.Error("a failed deposit was ignored")
	}
}
