package gateway

import (
	"slices"
	"strings"

	"github.com/perpx/perpx/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// op is one request endpoint.
type op struct {
	ep      wire.Endpoint
	name    string // micro endpoint name
	subject string // with wildcards for the account or symbol token
	limited bool   // takes a token from the account's rate-limit bucket
	// serve decodes the payload and calls the exchange, which answers
	// through p; an error means the payload was refused before the call.
	serve   func(g *Gateway, rt wire.Route, data []byte, p pending) *wire.Error
	latency prometheus.Observer
}

// ops lists the request endpoints of API.md under subj.
func ops(subj wire.Subjects) []*op {
	return []*op{
		{ep: wire.EpOrderPlace, name: "order-place", subject: subj.OrderPlace(wire.Any), limited: true,
			serve: call(wire.DecodePlace, func(x Exchange, rt wire.Route, r wire.PlaceOrder, done func(wire.OrderReply)) {
				x.PlaceOrder(rt.Account, r, done)
			}, orderBody)},
		{ep: wire.EpOrderCancel, name: "order-cancel", subject: subj.OrderCancel(wire.Any), limited: true,
			serve: call(wire.DecodeCancel, func(x Exchange, rt wire.Route, r wire.Cancel, done func(wire.OrderReply)) {
				x.CancelOrder(rt.Account, r, done)
			}, orderBody)},
		{ep: wire.EpOrderAmend, name: "order-amend", subject: subj.OrderAmend(wire.Any), limited: true,
			serve: call(wire.DecodeAmend, func(x Exchange, rt wire.Route, r wire.Amend, done func(wire.OrderReply)) {
				x.AmendOrder(rt.Account, r, done)
			}, orderBody)},
		{ep: wire.EpOrderQuery, name: "order-query", subject: subj.OrderQuery(wire.Any), serve: serveOrders},
		{ep: wire.EpOrderOpen, name: "order-open", subject: subj.OrderOpen(wire.Any),
			serve: call(wire.DecodeState, func(x Exchange, rt wire.Route, r wire.State, done func(wire.OrdersReply)) {
				x.OpenOrders(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpLeverage, name: "leverage", subject: subj.Leverage(wire.Any), limited: true,
			serve: call(wire.DecodeLeverage, func(x Exchange, rt wire.Route, r wire.Leverage, done func(wire.LeverageReply)) {
				x.SetLeverage(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpMarginMode, name: "margin-mode", subject: subj.MarginMode(wire.Any), limited: true,
			serve: call(wire.DecodeMarginMode, func(x Exchange, rt wire.Route, r wire.MarginMode, done func(wire.MarginModeReply)) {
				x.SetMarginMode(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpPositionMargin, name: "position-margin", subject: subj.PositionMargin(wire.Any), limited: true,
			serve: call(wire.DecodePositionMargin, func(x Exchange, rt wire.Route, r wire.PositionMargin, done func(wire.PositionMarginReply)) {
				x.MovePositionMargin(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpWithdraw, name: "withdraw", subject: subj.Withdraw(wire.Any), limited: true,
			serve: call(wire.DecodeWithdraw, func(x Exchange, rt wire.Route, r wire.Withdraw, done func(wire.BalanceReply)) {
				x.Withdraw(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpState, name: "state", subject: subj.State(wire.Any),
			serve: call(wire.DecodeState, func(x Exchange, rt wire.Route, r wire.State, done func(wire.AccountReply)) {
				x.AccountState(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpOrders, name: "orders", subject: subj.AccountOrders(wire.Any), serve: serveOrders},
		{ep: wire.EpFills, name: "fills", subject: subj.Fills(wire.Any),
			serve: call(wire.DecodeFills, func(x Exchange, rt wire.Route, r wire.Fills, done func(wire.FillsReply)) {
				x.Fills(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpIncome, name: "income", subject: subj.Income(wire.Any),
			serve: call(wire.DecodeIncome, func(x Exchange, rt wire.Route, r wire.IncomeQuery, done func(wire.IncomeReply)) {
				x.Income(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpAdminDeposit, name: "admin-deposit", subject: subj.AdminDeposit(),
			serve: call(wire.DecodeDeposit, func(x Exchange, _ wire.Route, r wire.Deposit, done func(wire.BalanceReply)) {
				x.Deposit(r, done)
			}, jsonBody)},
		{ep: wire.EpAdminIndex, name: "admin-index", subject: subj.AdminIndex(wire.Any),
			serve: call(wire.DecodeIndexSet, func(x Exchange, rt wire.Route, r wire.IndexSet, done func(wire.IndexReply)) {
				x.SetIndex(rt.Symbol, r, done)
			}, jsonBody)},
		{ep: wire.EpAdminFundDeposit, name: "admin-fund-deposit", subject: subj.AdminFundDeposit(),
			serve: call(wire.DecodeFundDeposit, func(x Exchange, _ wire.Route, r wire.FundDeposit, done func(wire.BalanceReply)) {
				x.FundDeposit(r, done)
			}, jsonBody)},
		{ep: wire.EpAdminAudit, name: "admin-audit", subject: subj.AdminAudit(),
			serve: call(wire.DecodeAudit, func(x Exchange, _ wire.Route, _ wire.Audit, done func(wire.AuditReply)) {
				x.Audit(done)
			}, jsonBody)},
		{ep: wire.EpAdminStateHash, name: "admin-state-hash", subject: subj.AdminStateHash(),
			serve: call(wire.DecodeStateHash, func(x Exchange, _ wire.Route, _ wire.StateHash, done func(wire.StateHashReply)) {
				x.StateHashAt(done)
			}, jsonBody)},
		{ep: wire.EpAdminResume, name: "admin-resume", subject: subj.AdminResume(),
			serve: call(wire.DecodeResume, func(x Exchange, _ wire.Route, r wire.Resume, done func(wire.ResumeReply)) {
				x.Resume(r, done)
			}, jsonBody)},
		{ep: wire.EpDepth, name: "depth", subject: subj.Depth(wire.Any), serve: serveDepth},
		{ep: wire.EpFundState, name: "fund-state", subject: subj.FundState(), serve: serveFundState},
		{ep: wire.EpADLQueue, name: "adl-queue", subject: subj.ADLQueue(wire.Any), serve: serveADLQueue},
		// The same reads asked under an account (what traders use when the
		// server has users): answered only in the account's inboxes.
		{ep: wire.EpDepth, name: "acct-depth", subject: subj.AccountDepth(wire.Any, wire.Any), serve: serveDepth},
		{ep: wire.EpFundState, name: "acct-fund-state", subject: subj.AccountFundState(wire.Any), serve: serveFundState},
		{ep: wire.EpADLQueue, name: "acct-adl-queue", subject: subj.AccountADLQueue(wire.Any, wire.Any), serve: serveADLQueue},
		{ep: wire.EpKlines, name: "klines", subject: subj.Klines(wire.Any), serve: serveKlines},
		{ep: wire.EpRecentTrades, name: "recent-trades", subject: subj.RecentTrades(wire.Any), serve: serveRecentTrades},
		{ep: wire.EpKlines, name: "acct-klines", subject: subj.AccountKlines(wire.Any, wire.Any), serve: serveKlines},
		{ep: wire.EpRecentTrades, name: "acct-recent-trades", subject: subj.AccountRecentTrades(wire.Any, wire.Any), serve: serveRecentTrades},
		{ep: wire.EpOpenInterest, name: "open-interest", subject: subj.OpenInterest(wire.Any), serve: serveOpenInterest},
		{ep: wire.EpOpenInterest, name: "acct-open-interest", subject: subj.AccountOpenInterest(wire.Any, wire.Any), serve: serveOpenInterest},
		{ep: wire.EpTicker, name: "ticker", subject: subj.Ticker(wire.Any), serve: serveTicker},
		{ep: wire.EpTicker, name: "acct-ticker", subject: subj.AccountTicker(wire.Any, wire.Any), serve: serveTicker},
		{ep: wire.EpFundDaily, name: "fund-daily", subject: subj.FundDaily(), serve: serveFundDaily},
		{ep: wire.EpFundDaily, name: "acct-fund-daily", subject: subj.AccountFundDaily(wire.Any), serve: serveFundDaily},
		{ep: wire.EpFundingHistory, name: "funding-history", subject: subj.FundingHistory(wire.Any), serve: serveFundingHistory},
		{ep: wire.EpFundingHistory, name: "acct-funding-history", subject: subj.AccountFundingHistory(wire.Any, wire.Any), serve: serveFundingHistory},
		// Not limited here: serveBatch takes one token per item.
		{ep: wire.EpOrderBatch, name: "order-batch", subject: subj.OrderBatch(wire.Any), serve: serveBatch},
		{ep: wire.EpOrderCancelAll, name: "order-cancel-all", subject: subj.OrderCancelAll(wire.Any), limited: true,
			serve: call(wire.DecodeCancelAll, func(x Exchange, rt wire.Route, r wire.CancelAll, done func(wire.CancelAllReply)) {
				x.CancelAll(rt.Account, r, done)
			}, jsonBody)},
		{ep: wire.EpOrderCancelAllAfter, name: "order-cancel-all-after", subject: subj.OrderCancelAllAfter(wire.Any), limited: true,
			serve: call(wire.DecodeCancelAllAfter, func(x Exchange, rt wire.Route, r wire.CancelAllAfter, done func(wire.CancelAllAfterReply)) {
				x.CancelAllAfter(rt.Account, r, done)
			}, jsonBody)},
	}
}

// endpoint is one micro endpoint: one subscription serving one or more ops.
type endpoint struct {
	name    string
	subject string
	ops     []*op
}

// The public reads, served on their own subjects and under an account.
var (
	serveDepth = call(wire.DecodeDepth, func(x Exchange, rt wire.Route, r wire.Depth, done func(wire.DepthReply)) {
		x.Depth(rt.Symbol, r, done)
	}, jsonBody)
	serveFundState = call(wire.DecodeFundState, func(x Exchange, rt wire.Route, r wire.FundState, done func(wire.FundStateReply)) {
		x.FundState(r, func(rep wire.FundStateReply) {
			rep.History = ownNames(rt, rep.History, func(e *wire.FundEvent) *string { return &e.Account })
			done(rep)
		})
	}, jsonBody)
	serveADLQueue = call(wire.DecodeADLQueue, func(x Exchange, rt wire.Route, r wire.ADLQueue, done func(wire.ADLQueueReply)) {
		x.ADLQueue(rt.Symbol, r, func(rep wire.ADLQueueReply) {
			rep.Queue = ownNames(rt, rep.Queue, func(e *wire.ADLQueueEntry) *string { return &e.Account })
			done(rep)
		})
	}, jsonBody)
	serveKlines = call(wire.DecodeKlines, func(x Exchange, rt wire.Route, r wire.Klines, done func(wire.KlinesReply)) {
		x.Klines(rt.Symbol, r, done)
	}, jsonBody)
	serveOpenInterest = call(wire.DecodeOpenInterest, func(x Exchange, rt wire.Route, r wire.OpenInterestReq, done func(wire.OpenInterestReply)) {
		x.OpenInterest(rt.Symbol, r, done)
	}, jsonBody)
	serveTicker = call(wire.DecodeTicker, func(x Exchange, rt wire.Route, _ wire.Ticker, done func(wire.TickerReply)) {
		x.Ticker(rt.Symbol, done)
	}, jsonBody)
	serveFundDaily = call(wire.DecodeFundDaily, func(x Exchange, _ wire.Route, r wire.FundDaily, done func(wire.FundDailyReply)) {
		x.FundDaily(r, done)
	}, jsonBody)
	serveFundingHistory = call(wire.DecodeFundingHistory, func(x Exchange, rt wire.Route, r wire.FundingHistory, done func(wire.FundingHistoryReply)) {
		x.FundingHistory(rt.Symbol, r, done)
	}, jsonBody)
	serveRecentTrades = call(wire.DecodeRecentTrades, func(x Exchange, rt wire.Route, r wire.RecentTrades, done func(wire.RecentTradesReply)) {
		x.RecentTrades(rt.Symbol, r, done)
	}, jsonBody)
)

// ownNames is rows as a read asked under an account shows them: the
// names of other accounts blanked (who holds what, who was liquidated is
// theirs), a copy when any is; a public read's rows as they are.
func ownNames[T any](rt wire.Route, rows []T, name func(*T) *string) []T {
	if rt.Account == "" {
		return rows
	}
	var out []T
	for i := range rows {
		if n := name(&rows[i]); *n != "" && *n != rt.Account {
			if out == nil {
				out = slices.Clone(rows)
			}
			*name(&out[i]) = ""
		}
	}
	if out == nil {
		return rows
	}
	return out
}

// serveOrders serves orders and order.query (their bodies and replies are
// the same; only the subscription differs).
var serveOrders = call(wire.DecodeOrders, func(x Exchange, rt wire.Route, r wire.Orders, done func(wire.OrdersReply)) {
	x.AccountOrders(rt.Account, r, done)
}, jsonBody)

// endpoints groups the ops into micro endpoints. Every order.* op (place,
// cancel, amend, cancel_all, cancel_all_after, batch, query, open) shares one subscription: NATS keeps a connection's messages in order
// only within a subscription, and a trader pipelining a place and its cancel
// must not see the cancel overtake the place, nor a lookup after a timeout
// or a list of open orders (a cancel-all's) the place it follows (of two
// arriving together, the second's goroutine is typically scheduled first).
func endpoints(subj wire.Subjects) []*endpoint {
	var es []*endpoint
	orders := &endpoint{name: "order", subject: subj.Orders(wire.Any)}
	for _, o := range ops(subj) {
		// Every subject the orders wildcard matches must be served there:
		// an endpoint of its own would receive it a second time.
		if strings.HasPrefix(o.ep.String(), "order.") {
			if len(orders.ops) == 0 {
				es = append(es, orders)
			}
			orders.ops = append(orders.ops, o)
			continue
		}
		es = append(es, &endpoint{name: o.name, subject: o.subject, ops: []*op{o}})
	}
	return es
}

// route picks the op a parsed subject belongs to; a subject no op serves goes to
// the first op, whose subject check refuses it with BAD_REQUEST.
func (e *endpoint) route(rt wire.Route, err *wire.Error) *op {
	if len(e.ops) > 1 && err == nil {
		for _, o := range e.ops {
			if o.ep == rt.Endpoint {
				return o
			}
		}
	}
	return e.ops[0]
}

// reply is what every typed wire reply is: it embeds wire.Reply.
type reply interface{ Envelope() wire.Reply }

// call builds an endpoint's serve from its decoder, the exchange call and
// the encoder of its ok reply.
func call[Req any, Rep reply](
	decode func([]byte) (Req, *wire.Error),
	invoke func(x Exchange, rt wire.Route, req Req, done func(Rep)),
	body func(dst []byte, r Rep) ([]byte, *wire.Error),
) func(*Gateway, wire.Route, []byte, pending) *wire.Error {
	return func(g *Gateway, rt wire.Route, data []byte, p pending) *wire.Error {
		req, err := decode(data)
		if err != nil {
			return err
		}
		invoke(g.x, rt, req, func(r Rep) {
			p.finish(r.Envelope(), func(dst []byte) ([]byte, *wire.Error) { return body(dst, r) })
		})
		return nil
	}
}

// orderBody encodes an ok order reply without reflection: it is the reply
// sent once per order.
func orderBody(dst []byte, r wire.OrderReply) ([]byte, *wire.Error) {
	if r.Order == nil {
		return dst, wire.Errorf(wire.CodeInternal, "the exchange accepted the request but returned no order")
	}
	return wire.AppendOrderReplyOf(dst, &r), nil
}

// jsonBody encodes any other ok reply with encoding/json.
func jsonBody[Rep reply](dst []byte, r Rep) ([]byte, *wire.Error) {
	return append(dst, wire.Encode(r)...), nil
}
