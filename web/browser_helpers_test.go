package web_test

// The browser tests' harness: a whole exchange in process (embedded NATS on
// random loopback ports, its WebSocket listener included, the page on a
// random HTTP port, manual index) and Debian's headless Chromium driven by
// chromedp, both on loopback only.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/app"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// wait bounds every wait for something to show.
const wait = 15 * time.Second

// exchange is a running exchange and its admin connection.
type exchange struct {
	t    *testing.T
	app  *app.App
	nc   *nats.Conn
	subj wire.Subjects
	page string // the page's URL
}

// startExchange runs the exchange with cfg (nil: the demo symbols) and
// clock (nil: the wall clock), connecting its admin with the options given.
func startExchange(t *testing.T, cfg *config.Config, clock func() int64, admin ...nats.Option) *exchange {
	t.Helper()
	a, err := app.Start(context.Background(), app.Options{NATSListen: "127.0.0.1:-1", NATSWS: "127.0.0.1:-1",
		HTTP: "127.0.0.1:0", Index: "manual", Config: cfg, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	nc, err := nats.Connect(a.URL(), append([]nats.Option{nats.MaxReconnects(0)}, admin...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return &exchange{t: t, app: a, nc: nc, subj: wire.DefaultSubjects(), page: "http://" + a.HTTPAddr() + "/"}
}

// req sends body on subject and decodes the reply into out (nil: only
// checked); a refusal fails the test.
func (e *exchange) req(subject string, body, out any) {
	e.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := e.nc.Request(subject, data, wait)
	if err != nil {
		e.t.Fatalf("%s: %v", subject, err)
	}
	var env wire.Reply
	if err := json.Unmarshal(m.Data, &env); err != nil {
		e.t.Fatalf("%s: %v: %s", subject, err, m.Data)
	}
	if !env.OK {
		e.t.Fatalf("%s %s: %+v", subject, data, env.Error)
	}
	if out != nil {
		if err := json.Unmarshal(m.Data, out); err != nil {
			e.t.Fatalf("%s: %v", subject, err)
		}
	}
}

func (e *exchange) deposit(acct, amount string) {
	e.req(e.subj.AdminDeposit(), wire.Deposit{Account: acct, Asset: "USDT", Amount: decimal.RequireFromString(amount)}, nil)
}

func (e *exchange) index(sym, price string) {
	e.req(e.subj.AdminIndex(sym), wire.IndexSet{Price: decimal.RequireFromString(price)}, nil)
}

// limit places a GTC limit order of acct and returns it.
func (e *exchange) limit(acct, sym string, side wire.Side, price, qty string) *wire.Order {
	var r wire.OrderReply
	e.req(e.subj.OrderPlace(acct), wire.PlaceOrder{Symbol: sym, Side: side, Type: wire.Limit,
		Price: decimal.RequireFromString(price), Qty: decimal.RequireFromString(qty)}, &r)
	return r.Order
}

func (e *exchange) state(acct string) *wire.Account {
	var r wire.AccountReply
	e.req(e.subj.State(acct), wire.State{}, &r)
	return r.Account
}

// lagClock is the wall clock running lag behind, so a test can print an
// hour and a half of trades in a second: the lag only ever shrinks, to
// zero, so time never runs backwards.
type lagClock struct{ lag atomic.Int64 }

func newLagClock(lag time.Duration) *lagClock {
	c := &lagClock{}
	c.lag.Store(lag.Milliseconds())
	return c
}

func (c *lagClock) now() int64 { return time.Now().UnixMilli() - c.lag.Load() }

// history prints BTC-PERP trades between two accounts of its own, a
// minute of the exchange's clock (c, lagging) apart, along a seeded path
// that ends at end, so the chart and the tape have a past. It leaves the
// clock on time.
func (e *exchange) history(c *lagClock, end decimal.Decimal) {
	e.t.Helper()
	e.deposit("hist-a", "1000000")
	e.deposit("hist-b", "1000000")
	rng := rand.New(rand.NewPCG(7, 7))
	minutes := int(c.lag.Load() / 60_000)
	price := end.InexactFloat64()
	path := make([]float64, minutes)
	for i := minutes - 1; i >= 0; i-- { // backwards from the end: it ends there
		path[i] = price
		price *= 1 + 0.0018*rng.NormFloat64()
	}
	for _, p := range path {
		for k := range 4 {
			tp := decimal.NewFromFloat(p * (1 + 0.0008*rng.NormFloat64())).Round(1)
			if k == 0 {
				e.index(btc, tp.StringFixed(1))
			}
			maker, taker, side := "hist-a", "hist-b", wire.Sell
			if rng.IntN(2) == 0 {
				maker, taker, side = taker, maker, wire.Buy
			}
			qty := decimal.New(int64(5+rng.IntN(80)), -3)
			e.limit(maker, btc, side, tp.StringFixed(1), qty.StringFixed(3))
			opp := wire.Buy
			if side == wire.Buy {
				opp = wire.Sell
			}
			e.req(e.subj.OrderPlace(taker), wire.PlaceOrder{Symbol: btc, Side: opp, Type: wire.Market, Qty: qty}, nil)
		}
		c.lag.Add(-60_000)
	}
	c.lag.Store(0)
}

// conserved checks the exchange's audit: money in equals money held, and
// the exchange's own verdict.
func (e *exchange) conserved() {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var r wire.AuditReply
		e.req(e.subj.AdminAudit(), struct{}{}, &r)
		held := r.Balances.Add(r.Unrealized).Add(r.Fund).Add(r.Fees)
		if r.InvariantsOK && held.Equal(r.Deposits.Add(r.FundDeposits)) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("audit: %+v", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// chromium finds Debian's Chromium; without it the browser tests skip,
// except in CI (CI=true), where they must run.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	missing(t, "chromium is not installed (apt-get install chromium): browser tests skipped")
	return ""
}

// missing skips the test for want of a tool, or fails it in CI (CI=true),
// whose .ci/run installs every tool the tests use.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("in CI: " + why)
	}
	t.Skip(why)
}

// newBrowser starts a headless Chromium with a fresh profile; its tabs
// (newTab) share it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// tab is one page in the browser and what its console said.
type tab struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// watchConsole keeps the page's console messages; an uncaught exception
// fails the test when the tab closes.
func (b *tab) watchConsole() {
	msgs := chromedp.Console(b.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	b.t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, m := range b.console {
			if m.Type == chromedp.ConsoleException {
				b.t.Errorf("the page threw: %s at %s:%d", m.Text, m.URL, m.Line+1)
			}
		}
	})
}

// consoleText is the console so far, for a failure's message.
func (b *tab) consoleText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	for _, m := range b.console {
		fmt.Fprintf(&sb, "\n  [%s] %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1)
	}
	return sb.String()
}

func newTab(t *testing.T, browser context.Context, url string, width, height int64) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	// The tab lives as long as the context of its first action's: no timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	b := &tab{t: t, ctx: ctx}
	b.watchConsole()
	b.do(chromedp.EmulateViewport(width, height), chromedp.Navigate(url))
	return b
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, wait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression as a T.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}

// until waits until the JavaScript expression is true.
func (b *tab) until(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, wait)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			b.t.Fatalf("%s: not within %v (%s; err %v); console:%s", what, wait, expr, err, b.consoleText())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// text is an element's text (CSS selector), trimmed.
func (b *tab) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(eval[string](b, fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "")`, sel)))
}

// has reports whether an element matches sel.
func (b *tab) has(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
}

// fill types s into an input after clearing it, as a person would.
func (b *tab) fill(sel, s string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	eval[any](b, fmt.Sprintf(`document.querySelector(%q).value = ""`, sel))
	b.do(chromedp.SendKeys(chromedp.CSS(sel), s))
}

// choose sets a <select>'s (or an input's) value and lets the page see the
// change.
func (b *tab) choose(sel, value string) {
	b.t.Helper()
	eval[any](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value))
}

// click clicks sel once the page has drawn what the last input changed
// (two animation frames), so the element is where a person would see it.
func (b *tab) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise)(ctx, t)
		return err
	}), chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// shot saves a PNG of the viewport under artifacts() and returns its path.
func (b *tab) shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, wait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(artifacts(b.t), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
	return p
}

// artifacts is where screenshots go: $PERPX_ARTIFACTS, else testdata/out
// (ignored by git).
func artifacts(t *testing.T) string {
	dir := os.Getenv("PERPX_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// num reads a displayed number ("27,150.3") as a decimal.
func num(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(strings.ReplaceAll(strings.TrimSpace(s), ",", ""))
	if err != nil {
		t.Fatalf("displayed %q is not a number", s)
	}
	return d
}
