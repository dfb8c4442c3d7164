package main

// Crash tests: the exchange runs as a child process (this test binary,
// re-executed) with --data, a seeded random load runs against it over
// NATS, and it is killed with SIGKILL at a random moment, then started
// again on the same directory. Everything the load saw acknowledged must
// be there, and nothing else broken.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// childArgs carries a child's command line (fields split by \x1f).
const childArgs = "PERPX_EXCHANGE_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		os.Exit(run(strings.Split(a, "\x1f")))
	}
	os.Exit(m.Run())
}

// child is a running exchange process.
type child struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

var readyLine = regexp.MustCompile(`msg=ready nats=(\S+)`)

// startChild runs the exchange on dir and waits until it serves.
func startChild(t *testing.T, dir string) *child {
	t.Helper()
	args := []string{"--data", dir, "--nats-listen", "127.0.0.1:-1", "--nats-monitor", "", "--nats-ws", "", "--http", "", "--binance-http", "",
		"--index", "manual", "--bots", "0"}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, done: make(chan struct{})}
	t.Cleanup(func() { // a failed test leaves no exchange running
		_ = cmd.Process.Kill()
		<-c.done
	})
	ready := make(chan string, 1)
	var tail []string
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			tail = append(tail, line)
			if len(tail) > 20 {
				tail = tail[1:]
			}
			mu.Unlock()
			if m := readyLine.FindStringSubmatch(line); m != nil {
				ready <- m[1]
			}
		}
		_ = cmd.Wait()
		close(c.done)
	}()
	select {
	case c.url = <-ready:
	case <-c.done:
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the exchange exited before ready:\n%s", strings.Join(tail, "\n"))
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the exchange was not ready within 60 s")
	}
	return c
}

// kill stops the child with SIGKILL, or SIGTERM for a clean stop.
func (c *child) stop(sig syscall.Signal) {
	c.t.Helper()
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		c.t.Fatalf("the exchange did not stop on %v", sig)
	}
}

// ledger is what the load saw acknowledged (and what it sent at all).
type ledger struct {
	mu       sync.Mutex
	depAcked decimal.Decimal
	depSent  decimal.Decimal
	sent     map[string]wire.PlaceOrder // client order id -> order
	resting  map[string][2]string       // parking orders acknowledged resting: client id -> account, order id
	canceled map[string]bool            // order ids acknowledged canceled
	accts    map[string]bool
	// events each account's event stream showed, in order.
	events map[string][]wire.AccountEvent
}

// record subscribes to every account's events on nc.
func (l *ledger) record(t *testing.T, nc *nats.Conn) {
	t.Helper()
	_, err := nc.Subscribe(subj.Events("*"), func(m *nats.Msg) {
		var ev wire.AccountEvent
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		acct := strings.TrimSuffix(strings.TrimPrefix(m.Subject, subj.Prefix()+".acct."), ".events")
		l.mu.Lock()
		l.events[acct] = append(l.events[acct], ev)
		l.mu.Unlock()
	})
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
}

var subj = wire.DefaultSubjects()

func request[R any](nc *nats.Conn, subject string, body any) (R, error) {
	var r R
	b, err := json.Marshal(body)
	if err != nil {
		return r, err
	}
	msg, err := nc.Request(subject, b, 3*time.Second)
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(msg.Data, &r)
}

func must[R any](t *testing.T, nc *nats.Conn, subject string, body any) R {
	t.Helper()
	r, err := request[R](nc, subject, body)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	return r
}

// load runs the seeded random load until the connection fails (the kill).
type load struct {
	l      *ledger
	nc     *nats.Conn
	stop   atomic.Bool
	prefix string
	n      atomic.Int64 // requests acknowledged
}

var syms = []struct {
	name  string
	index float64
	tick  float64
}{{"BTC-PERP", 30000, 0.1}, {"ETH-PERP", 2000, 0.01}}

func price(p, tick float64) decimal.Decimal {
	return decimal.NewFromFloat(float64(int64(p/tick)) * tick)
}

func (ld *load) deposit(acct string, amount int) {
	d := decimal.NewFromInt(int64(amount))
	ld.l.mu.Lock()
	ld.l.depSent = ld.l.depSent.Add(d)
	ld.l.accts[acct] = true
	ld.l.mu.Unlock()
	r, err := request[wire.BalanceReply](ld.nc, subj.AdminDeposit(), wire.Deposit{Account: acct, Asset: "USDT", Amount: d})
	if err == nil && r.OK {
		ld.l.mu.Lock()
		ld.l.depAcked = ld.l.depAcked.Add(d)
		ld.l.mu.Unlock()
		ld.n.Add(1)
	}
}

// trader sends orders, cancels and deposits for its accounts.
func (ld *load) trader(rng *rand.Rand, id int, indexes *[2]atomic.Uint64) {
	accts := []string{fmt.Sprintf("%s-t%d-a", ld.prefix, id), fmt.Sprintf("%s-t%d-b", ld.prefix, id)}
	var open []string
	seq := 0
	for !ld.stop.Load() {
		acct := accts[rng.IntN(2)]
		si := rng.IntN(2)
		s := syms[si]
		idx := float64(indexes[si].Load()) / 100
		var err error
		switch k := rng.IntN(100); {
		case k < 5:
			ld.deposit(acct, 100+rng.IntN(2000))
		case k < 20 && len(open) > 0:
			i := rng.IntN(len(open))
			oid := open[i]
			open = append(open[:i], open[i+1:]...)
			var r wire.OrderReply
			r, err = request[wire.OrderReply](ld.nc, subj.OrderCancel(acct), wire.Cancel{Symbol: s.name, OrderID: oid})
			if err == nil && r.OK && r.Order.Status == wire.StatusCanceled {
				ld.l.mu.Lock()
				ld.l.canceled[oid] = true
				ld.l.mu.Unlock()
			}
		default:
			seq++
			side := wire.Buy
			if rng.IntN(2) == 0 {
				side = wire.Sell
			}
			o := wire.PlaceOrder{Symbol: s.name, Side: side, Type: wire.Limit, TIF: wire.GTC,
				Qty: decimal.NewFromFloat(0.01 * float64(1+rng.IntN(20))), ClientOrderID: fmt.Sprintf("%s-%d-%d", acct, id, seq)}
			if s.name == "ETH-PERP" {
				o.Qty = decimal.NewFromFloat(0.1 * float64(1+rng.IntN(20)))
			}
			o.Price = price(idx*(1+(rng.Float64()-0.5)*0.01), s.tick)
			if k < 30 { // takers stop within 1 %: the parking orders stay out of reach
				o.TIF = wire.IOC
				o.Price = price(idx*(1+map[wire.Side]float64{wire.Buy: 0.01, wire.Sell: -0.01}[side]), s.tick)
			}
			ld.l.mu.Lock()
			ld.l.sent[o.ClientOrderID] = o
			ld.l.mu.Unlock()
			var r wire.OrderReply
			r, err = request[wire.OrderReply](ld.nc, subj.OrderPlace(acct), o)
			if err == nil && r.OK && (r.Order.Status == wire.StatusNew || r.Order.Status == wire.StatusPartiallyFilled) {
				open = append(open, r.Order.OrderID)
			}
		}
		if err != nil {
			return
		}
		ld.n.Add(1)
	}
}

// parking places orders far from the price that nothing should fill; each
// acknowledged one must be open after any crash.
func (ld *load) parking(rng *rand.Rand, indexes *[2]atomic.Uint64) {
	acct := ld.prefix + "-parking"
	for i := 0; !ld.stop.Load(); i++ {
		s := syms[0]
		idx := float64(indexes[0].Load()) / 100
		o := wire.PlaceOrder{Symbol: s.name, Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC, Qty: decimal.RequireFromString("0.01"),
			Price: price(idx*0.96, s.tick), ClientOrderID: fmt.Sprintf("%s-%d", acct, i)}
		if rng.IntN(2) == 0 {
			o.Side, o.Price = wire.Sell, price(idx*1.04, s.tick)
		}
		if i%3 == 0 { // a stop no move reaches (the mover stays within ±2 % of the start)
			o.Type, o.TIF, o.TriggerPrice, o.Price = wire.StopMarket, wire.IOC, price(idx*1.06, s.tick), decimal.Decimal{}
			if o.Side == wire.Sell {
				o.TriggerPrice = price(idx*0.94, s.tick)
			}
		}
		ld.l.mu.Lock()
		ld.l.sent[o.ClientOrderID] = o
		ld.l.mu.Unlock()
		r, err := request[wire.OrderReply](ld.nc, subj.OrderPlace(acct), o)
		if err != nil {
			return
		}
		if r.OK && (r.Order.Status == wire.StatusNew || r.Order.Status == wire.StatusUntriggered) {
			ld.l.mu.Lock()
			ld.l.resting[o.ClientOrderID] = [2]string{acct, r.Order.OrderID}
			ld.l.mu.Unlock()
		}
		ld.n.Add(1)
		time.Sleep(time.Millisecond)
	}
}

// mover moves the BTC index by up to ±2 % now and then: enough to
// liquidate the most leveraged.
func (ld *load) mover(rng *rand.Rand, indexes *[2]atomic.Uint64) {
	for !ld.stop.Load() {
		time.Sleep(time.Duration(20+rng.IntN(40)) * time.Millisecond)
		si := rng.IntN(2)
		s := syms[si]
		p := s.index * (1 + (rng.Float64()-0.5)*0.04)
		r, err := request[wire.IndexReply](ld.nc, subj.AdminIndex(s.name), wire.IndexSet{Price: price(p, s.tick)})
		if err != nil {
			return
		}
		if r.OK {
			indexes[si].Store(uint64(p * 100))
		}
	}
}

// TestCrashRecovery: seeded random loads, each ended by SIGKILL at a random
// moment, on one data directory; after each restart every acknowledged
// effect is there, the invariants hold, and each account's positions are
// what the fills on its event stream add up to (streamsAgree).
// PERPX_CRASH_ROUNDS sets the number of crashes (default 20, 3 with -short).
func TestCrashRecovery(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 3
	}
	if v, err := strconv.Atoi(os.Getenv("PERPX_CRASH_ROUNDS")); err == nil {
		rounds = v
	}
	seed, _ := strconv.ParseUint(os.Getenv("PERPX_CRASH_SEED"), 10, 64)
	t.Logf("seed %d (PERPX_CRASH_SEED), %d rounds", seed, rounds)
	dir := t.TempDir()
	l := &ledger{sent: map[string]wire.PlaceOrder{}, resting: map[string][2]string{}, canceled: map[string]bool{}, accts: map[string]bool{},
		events: map[string][]wire.AccountEvent{}}
	for round := range rounds {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		c := startChild(t, dir)
		nc, err := nats.Connect(c.url, nats.NoReconnect())
		if err != nil {
			t.Fatal(err)
		}
		l.record(t, nc)
		if round > 0 {
			check(t, nc, l, fmt.Sprintf("after crash %d", round))
			l.streamsAgree(t, nc, fmt.Sprintf("after crash %d", round))
		}
		ld := &load{l: l, nc: nc, prefix: fmt.Sprintf("r%d", round)}
		var indexes [2]atomic.Uint64
		for i, s := range syms {
			r := must[wire.IndexReply](t, nc, subj.AdminIndex(s.name), wire.IndexSet{Price: price(s.index, s.tick)})
			if !r.OK {
				t.Fatalf("index: %+v", r.Error)
			}
			indexes[i].Store(uint64(s.index * 100))
		}
		if r := must[wire.BalanceReply](t, nc, subj.AdminFundDeposit(), wire.FundDeposit{Asset: "USDT", Amount: decimal.NewFromInt(1000)}); !r.OK {
			t.Fatalf("fund deposit: %+v", r.Error)
		}
		traders := 4
		for i := range traders {
			for _, a := range []string{"a", "b"} {
				ld.deposit(fmt.Sprintf("%s-t%d-%s", ld.prefix, i, a), 2000+rng.IntN(20000))
			}
		}
		ld.deposit(ld.prefix+"-parking", 1_000_000)
		var wg sync.WaitGroup
		for i := range traders {
			r := rand.New(rand.NewPCG(seed, uint64(round*100+i+1)))
			wg.Go(func() { ld.trader(r, i, &indexes) })
		}
		wg.Go(func() { ld.parking(rand.New(rand.NewPCG(seed, uint64(round*100+50))), &indexes) })
		wg.Go(func() { ld.mover(rand.New(rand.NewPCG(seed, uint64(round*100+60))), &indexes) })
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		c.stop(syscall.SIGKILL)
		ld.stop.Store(true)
		wg.Wait()
		nc.Close()
		t.Logf("round %d: %d requests acknowledged before the kill", round, ld.n.Load())
	}
	// Recovery after the last crash, then a clean restart changes nothing.
	c := startChild(t, dir)
	nc, err := nats.Connect(c.url, nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	before := check(t, nc, l, fmt.Sprintf("after crash %d", rounds))
	nc.Close()
	c.stop(syscall.SIGTERM)
	c = startChild(t, dir)
	defer c.stop(syscall.SIGTERM)
	nc, err = nats.Connect(c.url, nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	after := check(t, nc, l, "after a clean restart")
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("a clean restart changed %s:\n got %s\nwant %s", k, after[k], v)
		}
	}
}

// streamsAgree checks that every account's positions are what the fills
// on its event stream add up to, wherever the stream shows all of them: a
// probe order's event must come right after the last one recorded (events
// decided just before the crash are never sent). Accounts that were
// liquidated or deleveraged are left out (their closes are not fills).
func (l *ledger) streamsAgree(t *testing.T, nc *nats.Conn, when string) {
	t.Helper()
	l.mu.Lock()
	type acct struct {
		name string
		last uint64
		pos  map[string]decimal.Decimal // signed, by symbol
	}
	var todo []acct
	for name, evs := range l.events {
		a := acct{name: name, pos: map[string]decimal.Decimal{}}
		ok := true
		for i, ev := range evs {
			a.last = max(a.last, ev.Seq)
			if ev.Seq != uint64(i+1) { // a gap: lost in a crash, or sent before the recorder subscribed
				ok = false
			}
			switch ev.Type {
			case wire.EventLiquidation, wire.EventADL, wire.EventError:
				ok = false
			case wire.EventFill:
				q := ev.Fill.Qty
				if ev.Fill.Side == wire.Sell {
					q = q.Neg()
				}
				a.pos[ev.Fill.Symbol] = a.pos[ev.Fill.Symbol].Add(q)
			}
		}
		if ok && len(a.pos) > 0 {
			todo = append(todo, a)
		}
	}
	l.mu.Unlock()
	verified := 0
	for _, a := range todo {
		cid := fmt.Sprintf("probe-%d", time.Now().UnixNano())
		r := must[wire.OrderReply](t, nc, subj.OrderPlace(a.name), wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit,
			TIF: wire.GTC, PostOnly: true, Price: price(syms[0].index*0.92, syms[0].tick), Qty: decimal.RequireFromString("0.001"), ClientOrderID: cid})
		if !r.OK {
			continue // margin, leverage: not this account's day
		}
		var seq uint64
		for deadline := time.Now().Add(2 * time.Second); seq == 0 && time.Now().Before(deadline); {
			l.mu.Lock()
			for _, ev := range l.events[a.name] {
				if ev.Type == wire.EventOrder && ev.Order.ClientOrderID == cid {
					seq = ev.Seq
				}
			}
			l.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
		must[wire.OrderReply](t, nc, subj.OrderCancel(a.name), wire.Cancel{Symbol: "BTC-PERP", ClientOrderID: cid})
		if seq != a.last+1 {
			continue // events were lost in the crash: the stream cannot tell
		}
		st := must[wire.AccountReply](t, nc, subj.State(a.name), wire.State{})
		got := map[string]decimal.Decimal{}
		for _, p := range st.Account.Positions {
			q := p.Qty
			if p.Side == wire.Short {
				q = q.Neg()
			}
			got[p.Symbol] = q
		}
		for _, s := range syms {
			if !got[s.name].Equal(a.pos[s.name]) {
				l.mu.Lock()
				var seen []string
				for _, ev := range l.events[a.name] {
					d := ""
					if ev.Fill != nil {
						d = fmt.Sprintf(" %s %s %s %s", ev.Fill.Symbol, ev.Fill.Side, ev.Fill.Qty, ev.Fill.OrderID)
					}
					if ev.Order != nil {
						d += " order " + ev.Order.OrderID + " " + string(ev.Order.Status)
					}
					seen = append(seen, fmt.Sprintf("%d %s%s", ev.Seq, ev.Type, d))
				}
				l.mu.Unlock()
				t.Fatalf("%s: %s holds %s %s, its fills add up to %s; its stream:\n%s", when, a.name, got[s.name], s.name, a.pos[s.name], strings.Join(seen, "\n"))
			}
		}
		verified++
	}
	t.Logf("%s: %d accounts' positions agree with their fill streams (%d more streams lost events in a crash)", when, verified, len(todo)-verified)
}

// check verifies the recovered exchange against the ledger and returns
// everything it read, as JSON.
func check(t *testing.T, nc *nats.Conn, l *ledger, when string) map[string]string {
	t.Helper()
	out := map[string]string{}
	put := func(k string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	var a wire.AuditReply
	deadline := time.Now().Add(20 * time.Second)
	for {
		a = must[wire.AuditReply](t, nc, subj.AdminAudit(), wire.Audit{})
		if a.OK && a.InvariantsOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: audit %+v", when, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.Deposits.LessThan(l.depAcked) || a.Deposits.GreaterThan(l.depSent) {
		t.Fatalf("%s: deposits %s, acknowledged %s, sent %s", when, a.Deposits, l.depAcked, l.depSent)
	}
	// Books hold exactly the accounts' open orders.
	type key struct {
		sym   string
		side  wire.Side
		price string
	}
	rest := map[key]decimal.Decimal{}
	open := map[string]bool{}
	filled := map[string]bool{} // parking accounts a liquidation reached
	stops := 0
	for acct := range l.accts {
		st := must[wire.AccountReply](t, nc, subj.State(acct), wire.State{})
		if !st.OK {
			t.Fatalf("%s: state %s: %+v", when, acct, st.Error)
		}
		for _, o := range st.Account.OpenOrders {
			sent, ok := l.sent[o.ClientOrderID]
			if !ok || sent.Side != o.Side || sent.Symbol != o.Symbol || !sent.Price.Equal(o.Price) || !sent.Qty.Equal(o.Qty) {
				t.Fatalf("%s: %s has an open order nobody sent like that: %+v (sent %+v)", when, acct, o, sent)
			}
			if l.canceled[o.OrderID] {
				t.Fatalf("%s: %s's order %s was acknowledged canceled, and is open", when, acct, o.OrderID)
			}
			if o.Status == wire.StatusUntriggered { // waits in its symbol's trigger set, not in the book
				if !sent.TriggerPrice.Equal(o.TriggerPrice) || o.Type != sent.Type {
					t.Fatalf("%s: %s's stop %+v, sent %+v", when, acct, o, sent)
				}
				open[o.OrderID] = true
				stops++
				continue
			}
			k := key{o.Symbol, o.Side, o.Price.String()}
			rest[k] = rest[k].Add(o.Qty.Sub(o.FilledQty))
			open[o.OrderID] = true
		}
		if strings.HasSuffix(acct, "-parking") && len(st.Account.Positions) > 0 {
			filled[acct] = true
			t.Logf("%s: a liquidation reached %s: not checking its orders", when, acct)
		}
		put("state "+acct, st.Account)
	}
	t.Logf("%s: %d untriggered stops kept", when, stops)
	for cid, r := range l.resting {
		if !filled[r[0]] && !open[r[1]] {
			t.Fatalf("%s: parking order %s (%s) was acknowledged resting and is gone", when, r[1], cid)
		}
	}
	// A depth read shows at most wire.MaxDepthLevels a side: the parking
	// orders of 40 rounds and more can spread past them, and orders beyond
	// the last level shown cannot be checked.
	cut := map[key]decimal.Decimal{} // price of the last level shown, by symbol and side, when cut
	for _, s := range syms {
		d := must[wire.DepthReply](t, nc, subj.Depth(s.name), wire.Depth{Levels: wire.MaxDepthLevels})
		for side, levels := range map[wire.Side][]wire.Level{wire.Buy: d.Bids, wire.Sell: d.Asks} {
			if len(levels) == wire.MaxDepthLevels {
				cut[key{sym: s.name, side: side}] = levels[len(levels)-1].Price()
			}
			for _, lv := range levels {
				k := key{s.name, side, lv.Price().String()}
				if !rest[k].Equal(lv.Qty()) {
					t.Fatalf("%s: %s %s %s: book %s, accounts' open orders %s", when, s.name, side, lv.Price(), lv.Qty(), rest[k])
				}
				delete(rest, k)
			}
		}
		put("depth "+s.name, d)
	}
	beyond := 0
	for k, q := range rest {
		if c, ok := cut[key{sym: k.sym, side: k.side}]; ok {
			if p := decimal.RequireFromString(k.price); k.side == wire.Buy && p.LessThan(c) || k.side == wire.Sell && p.GreaterThan(c) {
				beyond++
				continue
			}
		}
		if k.sym != "" && q.IsPositive() {
			t.Fatalf("%s: open orders %s %s %s of %s are not in the book", when, k.sym, k.side, k.price, q)
		}
	}
	if beyond > 0 {
		t.Logf("%s: %d price levels of open orders beyond the %d a depth read shows, not checked", when, beyond, wire.MaxDepthLevels)
	}
	// The fund's history is continuous.
	fs := must[wire.FundStateReply](t, nc, subj.FundState(), wire.FundState{})
	for i := 1; i < len(fs.History); i++ {
		p, e := fs.History[i-1], fs.History[i]
		if e.Seq != p.Seq+1 || !p.Balance.Add(e.Delta).Equal(e.Balance) {
			t.Fatalf("%s: fund history breaks between %+v and %+v", when, p, e)
		}
	}
	put("fund", fs)
	put("audit", a)
	return out
}
