package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// Exchange is what the gateway needs from the exchange (actors.Exchange
// implements it). Every method returns at once and calls done exactly once,
// from another goroutine; done does not block (it encodes and publishes).
// Requests arrive decoded and shape-checked; every exchange rule (symbols,
// tick and lot sizes, margin, the order's fate) is the exchange's.
type Exchange interface {
	PlaceOrder(acct string, req wire.PlaceOrder, done func(wire.OrderReply))
	CancelOrder(acct string, req wire.Cancel, done func(wire.OrderReply))
	AmendOrder(acct string, req wire.Amend, done func(wire.OrderReply))
	CancelAll(acct string, req wire.CancelAll, done func(wire.CancelAllReply))
	CancelAllAfter(acct string, req wire.CancelAllAfter, done func(wire.CancelAllAfterReply))
	SetLeverage(acct string, req wire.Leverage, done func(wire.LeverageReply))
	SetMarginMode(acct string, req wire.MarginMode, done func(wire.MarginModeReply))
	MovePositionMargin(acct string, req wire.PositionMargin, done func(wire.PositionMarginReply))
	Withdraw(acct string, req wire.Withdraw, done func(wire.BalanceReply))
	AccountState(acct string, req wire.State, done func(wire.AccountReply))
	// OpenOrders answers order.open: the open orders AccountState lists.
	OpenOrders(acct string, req wire.State, done func(wire.OrdersReply))
	Deposit(req wire.Deposit, done func(wire.BalanceReply))
	SetIndex(sym string, req wire.IndexSet, done func(wire.IndexReply))
	FundDeposit(req wire.FundDeposit, done func(wire.BalanceReply))
	Depth(sym string, req wire.Depth, done func(wire.DepthReply))
	FundState(req wire.FundState, done func(wire.FundStateReply))
	ADLQueue(sym string, req wire.ADLQueue, done func(wire.ADLQueueReply))
	Klines(sym string, req wire.Klines, done func(wire.KlinesReply))
	RecentTrades(sym string, req wire.RecentTrades, done func(wire.RecentTradesReply))
	AccountOrders(acct string, req wire.Orders, done func(wire.OrdersReply))
	Fills(acct string, req wire.Fills, done func(wire.FillsReply))
	Income(acct string, req wire.IncomeQuery, done func(wire.IncomeReply))
	FundingHistory(sym string, req wire.FundingHistory, done func(wire.FundingHistoryReply))
	FundDaily(req wire.FundDaily, done func(wire.FundDailyReply))
	Ticker(sym string, done func(wire.TickerReply))
	OpenInterest(sym string, req wire.OpenInterestReq, done func(wire.OpenInterestReply))
	Audit(done func(wire.AuditReply))
	// StateHash hashes all exchange state, for "a rejection changes
	// nothing" tests.
	StateHash(done func(uint64))
	// StateHashAt answers admin.state_hash: the state hash at a quiescent
	// point and the journal position it is the state of.
	StateHashAt(done func(wire.StateHashReply))
	// Resume answers admin.resume: a failed book back in service when its
	// state is sound.
	Resume(req wire.Resume, done func(wire.ResumeReply))
}

// Service identity shown by `nats micro ls`. The minor version moves
// when subjects are added (0.2.0: order.query and order.open; 0.3.0:
// admin.resume).
const (
	ServiceName    = "perpx"
	ServiceVersion = "0.3.0"
	DefaultQueue   = "perpx"
)

// quiet is how long Stop wants to see no new request after the endpoint
// subscriptions are drained before it trusts that none is still queued;
// quietUndrained while the connection seems to hold some still.
const (
	quiet          = 20 * time.Millisecond
	quietUndrained = 250 * time.Millisecond
)

// microVerbSubs is how many subscriptions a micro service makes for its
// verbs: $SRV.PING, .INFO and .STATS, each alone, with the name and with
// the id.
const microVerbSubs = 9

// flushTimeout bounds Stop's round trip to the server when its context has
// no deadline.
const flushTimeout = 10 * time.Second

// ErrStop is returned by Stop when requests are still unanswered at the
// context's deadline.
var ErrStop = errors.New("gateway: requests still in flight at shutdown")

// Options configure Start and NewPublisher.
type Options struct {
	Prefix string       // subject prefix; "" means wire.DefaultPrefix
	Logger *slog.Logger // nil discards
	// Users are the config users whose natsrv.Permissions the NATS server
	// enforces; they confine reply subjects to the requesters' inboxes
	// (replies.go). nil: those of the connection's embedded server when it
	// is natsrv's in-process one (natsrv.Server.Connect), else none (an
	// open or outside server: only the exchange's namespace is refused).
	Users []config.User
	// RateLimit is the per-account token bucket for order place, cancel and
	// leverage requests; OrdersPerS 0 turns it off.
	RateLimit config.RateLimit
	Queue     string   // queue group of the endpoints; "" means DefaultQueue
	Metrics   *Metrics // nil keeps metrics private (not exported)
	// Service is the connection the endpoints subscribe on (replies go on
	// nc). One of its own lets Stop see exactly when their subscriptions
	// have drained; nil shares nc, whose other subscriptions Stop counts
	// around (they may change meanwhile: then it waits longer).
	Service *nats.Conn
}

func (o Options) fill() (wire.Subjects, Options, error) {
	subj, err := wire.NewSubjects(o.Prefix)
	if err != nil {
		return subj, o, fmt.Errorf("gateway: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Queue == "" {
		o.Queue = DefaultQueue
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	return subj, o, nil
}

// Gateway serves the request subjects of API.md as the micro service
// "perpx", one endpoint per request subject, all in one queue group.
type Gateway struct {
	nc      *nats.Conn
	sc      *nats.Conn // the endpoints' subscriptions (Options.Service or nc)
	x       Exchange
	subj    wire.Subjects
	log     *slog.Logger
	m       *Metrics
	limiter *limiter
	replies replyRules
	logs    clientLogs
	intake  *intake
	svc     micro.Service

	inflight atomic.Int64 // requests received and not yet answered
	lastRecv atomic.Int64 // unix nanos of the latest request
	subs     int          // the service's subscriptions on sc
	// others is sc's other subscriptions, counted at the first Stop.
	others     int
	othersOnce sync.Once
	// delivered, when set (tests), runs in a subscription's goroutine
	// before each request reaches the intake: where a starved goroutine
	// sits with requests still queued behind it.
	delivered func(subject string)
}

// Start registers the endpoints on nc and serves them until Stop; when it
// returns the server routes requests to them.
func Start(nc *nats.Conn, x Exchange, opts Options) (*Gateway, error) {
	subj, opts, err := opts.fill()
	if err != nil {
		return nil, err
	}
	g := &Gateway{nc: nc, sc: cmp.Or(opts.Service, nc), x: x, subj: subj, log: opts.Logger, m: opts.Metrics, limiter: newLimiter(opts.RateLimit)}
	g.intake = newIntake(g)
	g.initReplies(opts)
	before := g.sc.NumSubscriptions()
	g.svc, err = micro.AddService(g.sc, micro.Config{
		Name:        ServiceName,
		Version:     ServiceVersion,
		Description: "perpx perpetual-futures paper-trading exchange (API.md)",
		QueueGroup:  opts.Queue,
		Metadata:    map[string]string{"prefix": subj.Prefix()},
		// A slow consumer error comes once per message a flood overflows.
		ErrorHandler: func(_ micro.Service, e *micro.NATSError) {
			g.m.subscriptionErrors.Inc()
			g.logs.subErr.Event("subject", e.Subject, "err", e.Description)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	eps := endpoints(subj)
	for _, e := range eps {
		for _, o := range e.ops {
			o.latency = g.m.latency.WithLabelValues(o.ep.String())
		}
		err := g.svc.AddEndpoint(e.name, micro.HandlerFunc(func(req micro.Request) {
			if g.delivered != nil {
				g.delivered(req.Subject())
			}
			g.intake.push(e, req)
		}),
			micro.WithEndpointSubject(e.subject))
		if err != nil {
			_ = g.svc.Stop()
			return nil, fmt.Errorf("gateway: endpoint %s: %w", e.name, err)
		}
	}
	// Once Start returns the server knows the subscriptions, so a request
	// sent right after it (a test, the ready line) finds a responder.
	if err := g.sc.FlushTimeout(flushTimeout); err != nil {
		_ = g.svc.Stop()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	// The service's subscriptions: one per endpoint and micro's verbs,
	// unless fewer came (another part of the process may subscribe on a
	// shared connection meanwhile, and a count too high would never drain).
	g.subs = min(g.sc.NumSubscriptions()-before, len(eps)+microVerbSubs)
	return g, nil
}

// Service is the underlying micro service (Info, Stats).
func (g *Gateway) Service() micro.Service { return g.svc }

// Stop drains the endpoints, so no new request arrives, and waits until
// every request received has been answered or ctx ends (ErrStop). The
// connection stays open: the caller drains it after Stop and after the
// exchange's last published event.
func (g *Gateway) Stop(ctx context.Context) error {
	defer g.logs.flush()
	g.othersOnce.Do(func() { g.others = g.sc.NumSubscriptions() - g.subs })
	if err := g.svc.Stop(); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	fctx := ctx
	if _, ok := ctx.Deadline(); !ok { // FlushWithContext insists on one
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	if err := g.sc.FlushWithContext(fctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("gateway: %w", err)
	}
	// Drained subscriptions still deliver what they had queued; micro does
	// not say when that is done, but nats.go drops a draining subscription
	// from the connection once its queue is empty, and counts a message as
	// queued until its handler returns (v1.55 lowers the count at the top
	// of the next delivery). So on a connection of the service's own the
	// count is exact: drained, every request has reached received(), and
	// Stop ends when they are answered. Quiet moments alone cannot tell a
	// subscription done from one whose goroutine is starved between two
	// requests (CI under load lost 96 of 400 that way with 20 ms; 250 ms
	// while undrained is the likeliest cause of a rarer 5 of 400,
	// TestStopWaitsForAStarvedSubscription). On a shared connection others may change the count
	// meanwhile, so there a quiet moment with every request answered ends
	// Stop: short once the count says drained, longer while it does not.
	exact := g.sc != g.nc && g.others == 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		drained := g.drained()
		wait := quiet
		if !drained {
			wait = quietUndrained
		}
		if g.inflight.Load() == 0 && (exact && drained || !exact && time.Since(time.Unix(0, g.lastRecv.Load())) > wait) {
			g.intake.close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %d unanswered (subscriptions drained: %v): %v", ErrStop, g.inflight.Load(), drained, ctx.Err())
		case <-tick.C:
		}
	}
}

// drained says the service's subscriptions have left sc (Stop): exactly
// the others are left (none on a connection of its own). Fewer or more
// means the others changed meanwhile and the count says nothing.
func (g *Gateway) drained() bool { return g.sc.IsClosed() || g.sc.NumSubscriptions() == g.others }

// serveNow serves a request from the intake (fairqueue.go). A request
// refused before it reaches the exchange is answered here with micro's
// error headers, so `nats req` shows the code (micro's own stats do not
// count it: its handler only queued the request); the exchange's answers
// are published by pending.finish.
func (g *Gateway) serveNow(e *endpoint, subject, reply string, data []byte, start time.Time, s slot) {
	rt, perr := g.subj.Parse(subject)
	o := e.route(rt, perr)
	if why := g.replies.refuse(o.ep, subject, reply); why != "" {
		// The exchange publishes replies with its own unconfined login, so a
		// reply subject the requester may not use itself would let a trader
		// write into another account's events or inbox, the market data or
		// requests (replies.go). Such a request is dropped unserved: no
		// reply could go anywhere. Counted; logged at most once per logEvery.
		g.account(o, start, wire.Errorf(wire.CodeBadRequest, "reply subject refused"))
		g.m.replyRefused(why)
		g.logs.badReply.Event("reason", why, "subject", subject, "reply", reply)
		s.done()
		g.answered()
		return
	}
	if err := g.serveParsed(o, rt, perr, subject, reply, data, start, s); err != nil {
		s.done() // never reached the exchange
		g.refused(o, start, err, func(body []byte) error { return g.replyError(reply, err, body) })
	}
}

// replyError publishes a refusal to reply with micro's error headers.
func (g *Gateway) replyError(reply string, err *wire.Error, body []byte) error {
	if reply == "" {
		return nil
	}
	return g.nc.PublishMsg(&nats.Msg{Subject: reply, Data: body, Header: nats.Header{
		micro.ErrorHeader: []string{headerValue(err.Message)}, micro.ErrorCodeHeader: []string{string(err.Code)}}})
}

// headerValue makes s safe as a NATS header value (no line breaks or other
// control characters) and non-empty, as micro requires.
func headerValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return "error"
	}
	return s
}

// received notes a new request; every one is later balanced by answered.
func (g *Gateway) received() time.Time {
	now := time.Now()
	g.inflight.Add(1)
	g.lastRecv.Store(now.UnixNano())
	return now
}

func (g *Gateway) answered() { g.inflight.Add(-1) }

// handle checks the subject and the rate limit and hands the payload to the
// endpoint, which decodes it and calls the exchange. A non-nil error means
// the request was refused and the exchange never saw it.
func (g *Gateway) handle(o *op, subject, reply string, data []byte, start time.Time) *wire.Error {
	rt, err := g.subj.Parse(subject)
	return g.serveParsed(o, rt, err, subject, reply, data, start, slot{})
}

// serveParsed is handle for a subject already parsed into rt (or perr).
func (g *Gateway) serveParsed(o *op, rt wire.Route, perr *wire.Error, subject, reply string, data []byte, start time.Time, s slot) *wire.Error {
	if perr != nil {
		return perr
	}
	if rt.Endpoint != o.ep {
		return wire.Errorf(wire.CodeBadRequest, "subject %.100q is not a %s request", subject, o.ep)
	}
	if o.limited && !g.limiter.allow(rt.Account, 1, start) {
		return rateLimited(rt.Account)
	}
	return o.serve(g, rt, data, pending{g: g, op: o, reply: reply, start: start, slot: s})
}

func rateLimited(acct string) *wire.Error {
	return wire.Errorf(wire.CodeRateLimited, "account %s is over its rate limit; retry later", acct)
}

// refused answers a request the gateway turned down through send.
func (g *Gateway) refused(o *op, start time.Time, err *wire.Error, send func([]byte) error) {
	g.account(o, start, err)
	if e := send(wire.AppendError(nil, err)); e != nil {
		g.publishFailed(e)
	}
	g.answered()
}

// account records a finished request in the metrics, before its reply goes
// out, so a client holding the reply sees it counted.
func (g *Gateway) account(o *op, start time.Time, err *wire.Error) {
	o.latency.Observe(time.Since(start).Seconds())
	g.count(o.ep, err)
}

// count records the outcome of one answered request, or batch item, of ep.
func (g *Gateway) count(ep wire.Endpoint, err *wire.Error) {
	if err != nil {
		g.m.reject(ep, err.Code)
	}
	if ep == wire.EpOrderPlace {
		g.m.order(err == nil)
	}
}

func (g *Gateway) publishFailed(err error) {
	g.m.publishErrors.Inc()
	g.logs.pubErr.Event("err", err)
}

// pending is a request handed to the exchange, waiting for its reply. It
// is passed by value so that the exchange's done callback, which captures
// it, is the request's only allocation.
type pending struct {
	g     *Gateway
	op    *op
	reply string
	start time.Time
	slot  slot // the requester's place in flight (fairqueue.go)
}

// appendReply appends the reply of env: body for an ok one, else the error;
// it returns the error the reply carries.
func appendReply(dst []byte, env wire.Reply, body func([]byte) ([]byte, *wire.Error)) ([]byte, *wire.Error) {
	n, err := len(dst), env.Error
	switch {
	case env.OK:
		dst, err = body(dst)
	case err == nil:
		err = wire.Errorf(wire.CodeInternal, "the exchange failed the request without an error")
	}
	if err != nil {
		dst = wire.AppendError(dst[:n], err)
	}
	return dst, err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// finish encodes the exchange's reply and publishes it. body appends the
// ok reply; it fails only when the exchange broke its own contract (an ok
// order reply without the order).
func (p pending) finish(env wire.Reply, body func([]byte) ([]byte, *wire.Error)) {
	bp := bufPool.Get().(*[]byte)
	out, err := appendReply((*bp)[:0], env, body)
	// A reply the server would refuse leaves the client timing out: it gets
	// the error saying why instead (an account with thousands of orders
	// asking for its whole state). A server that takes the API's requests
	// takes replies as big, so only a bigger one asks for its current limit.
	if err == nil && len(out) > wire.MaxPayload {
		if max := p.g.nc.MaxPayload(); int64(len(out)) > max {
			err = wire.Errorf(wire.CodeInternal, "the request was handled, but its reply (%d bytes) exceeds the server's max_payload (%d bytes)", len(out), max)
			out = wire.AppendError(out[:0], err)
		}
	}
	p.g.account(p.op, p.start, err)
	if p.reply != "" {
		if e := p.g.nc.Publish(p.reply, out); e != nil {
			p.g.publishFailed(e)
		}
	}
	*bp = out
	bufPool.Put(bp)
	p.slot.finish(len(out))
	p.g.answered()
}
