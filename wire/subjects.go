package wire

import (
	"slices"
	"strings"
)

// DefaultPrefix is the subject prefix when none is configured.
const DefaultPrefix = "px"

// MaxTokenLen bounds account, symbol, asset, order and client order ids.
const MaxTokenLen = 64

// Any is the single-token NATS wildcard: Subjects.OrderPlace(Any) is the
// subject a gateway subscribes to for every account.
const Any = "*"

// ValidToken reports whether s is 1..MaxTokenLen characters of
// [A-Za-z0-9_-]: such a token can never smuggle a '.', '*' or '>' into a
// subject, which is what lets NATS permissions confine a user to its account.
func ValidToken(s string) bool { return validToken(s) }

// validToken is ValidToken for a string or its bytes.
func validToken[T ~string | ~[]byte](s T) bool { return validChars(s, false) }

// ValidClientID reports whether s is 1..MaxTokenLen characters of
// [A-Za-z0-9_.:/-], Binance's client order id characters: a client order id
// is never part of a subject, so '.', ':' and '/' are allowed there.
func ValidClientID(s string) bool { return validChars(s, true) }

// validChars is ValidToken, or with id ValidClientID.
func validChars[T ~string | ~[]byte](s T, id bool) bool {
	if len(s) == 0 || len(s) > MaxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' ||
			id && (c == '.' || c == ':' || c == '/')) {
			return false
		}
	}
	return true
}

// InboxPrefix is the reply-inbox prefix a user must use when the exchange
// runs with authorization (nats.CustomInboxPrefix, `nats --inbox-prefix`):
// a trader may subscribe only to its own inboxes, so nobody can read the
// replies meant for another account.
func InboxPrefix(user string) string { return "_INBOX." + user }

// Endpoint names one subject of the contract.
type Endpoint uint8

// The endpoints of API.md: requests first, then streams.
const (
	EpInvalid Endpoint = iota
	EpOrderPlace
	EpOrderCancel
	EpOrderBatch
	EpOrderCancelAll
	EpOrderCancelAllAfter
	EpOrderAmend
	EpOrderQuery
	EpOrderOpen
	EpLeverage
	EpMarginMode
	EpPositionMargin
	EpWithdraw
	EpState
	EpAdminDeposit
	EpAdminIndex
	EpAdminFundDeposit
	EpAdminAudit
	EpAdminStateHash
	EpAdminResume
	EpDepth
	EpFundState
	EpADLQueue
	EpKlines
	EpRecentTrades
	EpFundingHistory
	EpFundDaily
	EpTicker
	EpOpenInterest
	EpOrders
	EpFills
	EpIncome
	EpAccountEvents
	EpTrades
	EpBook
	EpMark
	EpFundEvents
	EpADLEvents
	EpLiquidations
	EpKline
)

var endpointNames = [...]string{
	EpInvalid: "invalid", EpOrderPlace: "order.place", EpOrderCancel: "order.cancel", EpOrderBatch: "order.batch",
	EpOrderCancelAll: "order.cancel_all", EpOrderCancelAllAfter: "order.cancel_all_after", EpOrderAmend: "order.amend", EpOrderQuery: "order.query", EpOrderOpen: "order.open",
	EpLeverage: "leverage", EpMarginMode: "margin_mode", EpPositionMargin: "position_margin", EpWithdraw: "withdraw", EpState: "state", EpAdminDeposit: "admin.deposit",
	EpAdminIndex: "admin.index", EpAdminFundDeposit: "admin.fund.deposit", EpAdminAudit: "admin.audit",
	EpAdminStateHash: "admin.state_hash", EpAdminResume: "admin.resume", EpDepth: "md.depth", EpFundState: "fund.state", EpADLQueue: "adl.queue", EpKlines: "md.klines", EpRecentTrades: "md.recent_trades", EpFundingHistory: "md.funding_history", EpFundDaily: "fund.daily", EpTicker: "md.ticker", EpOpenInterest: "md.open_interest",
	EpOrders: "orders", EpFills: "fills", EpIncome: "income",
	EpAccountEvents: "acct.events", EpTrades: "md.trades", EpBook: "md.book",
	EpMark: "md.mark", EpFundEvents: "fund.events", EpADLEvents: "adl.events",
	EpLiquidations: "md.liquidations", EpKline: "md.kline",
}

func (e Endpoint) String() string {
	if int(e) < len(endpointNames) {
		return endpointNames[e]
	}
	return "invalid"
}

// IsRequest reports whether e is a request-reply subject (else a stream).
func (e Endpoint) IsRequest() bool { return e >= EpOrderPlace && e <= EpIncome }

// Route is a parsed subject: the endpoint and the tokens it carries.
type Route struct {
	Endpoint Endpoint
	Account  string // account endpoints only
	Symbol   string // per-symbol endpoints only
	Interval string // EpKline only
}

// Subjects builds and parses the subjects under one prefix. The builders do
// not validate their arguments (they accept Any); Parse does.
type Subjects struct {
	prefix string // without the trailing dot
}

// NewSubjects returns the scheme under prefix: one or more dot-separated
// tokens ("px", "paper.px"); "" means DefaultPrefix.
func NewSubjects(prefix string) (Subjects, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	for _, t := range strings.Split(prefix, ".") {
		if !ValidToken(t) {
			return Subjects{}, Errorf(CodeBadRequest, "subject prefix %q: tokens must be [A-Za-z0-9_-]", prefix)
		}
	}
	return Subjects{prefix: prefix}, nil
}

// DefaultSubjects is the scheme under DefaultPrefix.
func DefaultSubjects() Subjects { return Subjects{prefix: DefaultPrefix} }

// Prefix returns the prefix without a trailing dot.
func (s Subjects) Prefix() string { return s.prefix }

func (s Subjects) acct(a, rest string) string  { return s.prefix + ".acct." + a + "." + rest }
func (s Subjects) md(sym, rest string) string  { return s.prefix + ".md." + sym + "." + rest }
func (s Subjects) adl(sym, rest string) string { return s.prefix + ".adl." + sym + "." + rest }

func (s Subjects) OrderPlace(acct string) string  { return s.acct(acct, "order.place") }
func (s Subjects) OrderCancel(acct string) string { return s.acct(acct, "order.cancel") }
func (s Subjects) OrderBatch(acct string) string  { return s.acct(acct, "order.batch") }

// OrderAmend changes the price or quantity of one of acct's open orders.
func (s Subjects) OrderAmend(acct string) string { return s.acct(acct, "order.amend") }

// OrderQuery is AccountOrders (the same body and reply) served in order
// with acct's order.* requests, on their subscription: a lookup after a
// timeout (API.md, the retry rule) sees the request it checks on when
// that reached the exchange first. On AccountOrders' own subscription it
// could overtake it.
func (s Subjects) OrderQuery(acct string) string { return s.acct(acct, "order.query") }

// OrderOpen is acct's open orders (State's body; State's open_orders as
// an OrdersReply) served in order with acct's order.* requests, as
// OrderQuery is: a list read right after a place sees it.
func (s Subjects) OrderOpen(acct string) string { return s.acct(acct, "order.open") }

// OrderCancelAll cancels every open order of acct, or of acct in a symbol.
func (s Subjects) OrderCancelAll(acct string) string { return s.acct(acct, "order.cancel_all") }

// OrderCancelAllAfter arms, refreshes or disarms acct's dead man's switch.
func (s Subjects) OrderCancelAllAfter(acct string) string {
	return s.acct(acct, "order.cancel_all_after")
}

func (s Subjects) Leverage(acct string) string       { return s.acct(acct, "leverage") }
func (s Subjects) MarginMode(acct string) string     { return s.acct(acct, "margin_mode") }
func (s Subjects) PositionMargin(acct string) string { return s.acct(acct, "position_margin") }
func (s Subjects) Withdraw(acct string) string       { return s.acct(acct, "withdraw") }
func (s Subjects) State(acct string) string          { return s.acct(acct, "state") }
func (s Subjects) AccountOrders(acct string) string  { return s.acct(acct, "orders") }
func (s Subjects) Fills(acct string) string          { return s.acct(acct, "fills") }
func (s Subjects) Income(acct string) string         { return s.acct(acct, "income") }
func (s Subjects) Events(acct string) string         { return s.acct(acct, "events") }
func (s Subjects) AdminDeposit() string              { return s.prefix + ".admin.deposit" }
func (s Subjects) AdminIndex(sym string) string      { return s.prefix + ".admin.index." + sym }
func (s Subjects) AdminFundDeposit() string          { return s.prefix + ".admin.fund.deposit" }
func (s Subjects) AdminAudit() string                { return s.prefix + ".admin.audit" }
func (s Subjects) AdminStateHash() string            { return s.prefix + ".admin.state_hash" }
func (s Subjects) AdminResume() string               { return s.prefix + ".admin.resume" }
func (s Subjects) Depth(sym string) string           { return s.md(sym, "depth") }
func (s Subjects) Klines(sym string) string          { return s.md(sym, "klines") }
func (s Subjects) RecentTrades(sym string) string    { return s.md(sym, "recent_trades") }
func (s Subjects) FundingHistory(sym string) string  { return s.md(sym, "funding_history") }
func (s Subjects) Ticker(sym string) string          { return s.md(sym, "ticker") }
func (s Subjects) OpenInterest(sym string) string    { return s.md(sym, "open_interest") }
func (s Subjects) Trades(sym string) string          { return s.md(sym, "trades") }
func (s Subjects) Book(sym string) string            { return s.md(sym, "book") }
func (s Subjects) Mark(sym string) string            { return s.md(sym, "mark") }
func (s Subjects) FundState() string                 { return s.prefix + ".fund.state" }
func (s Subjects) FundEvents() string                { return s.prefix + ".fund.events" }
func (s Subjects) ADLQueue(sym string) string        { return s.adl(sym, "queue") }
func (s Subjects) ADLEvents(sym string) string       { return s.adl(sym, "events") }

// AdminCluster reports the instances of a clustered exchange (--role).
func (s Subjects) AdminCluster() string { return s.prefix + ".admin.cluster" }

// Liquidations is the public stream of liquidations on sym.
func (s Subjects) Liquidations(sym string) string { return s.md(sym, "liquidations") }

// TickerStream is sym's ticker, published once a second (the request
// Ticker answers the same on demand).
func (s Subjects) TickerStream(sym string) string { return s.md(sym, "ticker.1s") }

// Kline is the stream of sym's candles of interval (wire.Klines' names).
func (s Subjects) Kline(sym, interval string) string { return s.md(sym, "kline."+interval) }

// Orders matches every order.* request of acct (place, cancel, cancel_all,
// cancel_all_after, batch): the gateway serves them from one subscription
// so an account's pipelined requests are handled in the order sent.
func (s Subjects) Orders(acct string) string { return s.acct(acct, "order.*") }

// Subtree wildcards, for permissions and catch-all subscriptions.
func (s Subjects) AccountAll(acct string) string { return s.prefix + ".acct." + acct + ".>" }
func (s Subjects) AdminAll() string              { return s.prefix + ".admin.>" }
func (s Subjects) MarketDataAll() string         { return s.prefix + ".md.>" }

// AccountDepth, AccountFundState and AccountADLQueue are the public reads
// asked under an account: the same requests and replies; with users a
// trader must use them (API.md "Authorization").
func (s Subjects) AccountDepth(acct, sym string) string  { return s.acct(acct, "md."+sym+".depth") }
func (s Subjects) AccountKlines(acct, sym string) string { return s.acct(acct, "md."+sym+".klines") }
func (s Subjects) AccountRecentTrades(acct, sym string) string {
	return s.acct(acct, "md."+sym+".recent_trades")
}
func (s Subjects) AccountFundingHistory(acct, sym string) string {
	return s.acct(acct, "md."+sym+".funding_history")
}
func (s Subjects) AccountTicker(acct, sym string) string { return s.acct(acct, "md."+sym+".ticker") }
func (s Subjects) AccountOpenInterest(acct, sym string) string {
	return s.acct(acct, "md."+sym+".open_interest")
}
func (s Subjects) AccountFundState(acct string) string     { return s.acct(acct, "fund.state") }
func (s Subjects) AccountFundDaily(acct string) string     { return s.acct(acct, "fund.daily") }
func (s Subjects) FundDaily() string                       { return s.prefix + ".fund.daily" }
func (s Subjects) AccountADLQueue(acct, sym string) string { return s.acct(acct, "adl."+sym+".queue") }
func (s Subjects) FundAll() string                         { return s.prefix + ".fund.>" }
func (s Subjects) ADLAll() string                          { return s.prefix + ".adl.>" }

// Build returns the subject of r; the inverse of Parse for valid routes.
func (s Subjects) Build(r Route) string {
	switch r.Endpoint {
	case EpOrderPlace:
		return s.OrderPlace(r.Account)
	case EpOrderCancel:
		return s.OrderCancel(r.Account)
	case EpOrderBatch:
		return s.OrderBatch(r.Account)
	case EpOrderCancelAll:
		return s.OrderCancelAll(r.Account)
	case EpOrderCancelAllAfter:
		return s.OrderCancelAllAfter(r.Account)
	case EpOrderAmend:
		return s.OrderAmend(r.Account)
	case EpOrderQuery:
		return s.OrderQuery(r.Account)
	case EpOrderOpen:
		return s.OrderOpen(r.Account)
	case EpLeverage:
		return s.Leverage(r.Account)
	case EpMarginMode:
		return s.MarginMode(r.Account)
	case EpPositionMargin:
		return s.PositionMargin(r.Account)
	case EpWithdraw:
		return s.Withdraw(r.Account)
	case EpState:
		return s.State(r.Account)
	case EpOrders:
		return s.AccountOrders(r.Account)
	case EpFills:
		return s.Fills(r.Account)
	case EpIncome:
		return s.Income(r.Account)
	case EpAccountEvents:
		return s.Events(r.Account)
	case EpAdminDeposit:
		return s.AdminDeposit()
	case EpAdminIndex:
		return s.AdminIndex(r.Symbol)
	case EpAdminFundDeposit:
		return s.AdminFundDeposit()
	case EpAdminAudit:
		return s.AdminAudit()
	case EpAdminStateHash:
		return s.AdminStateHash()
	case EpAdminResume:
		return s.AdminResume()
	case EpDepth:
		if r.Account != "" {
			return s.AccountDepth(r.Account, r.Symbol)
		}
		return s.Depth(r.Symbol)
	case EpKlines:
		if r.Account != "" {
			return s.AccountKlines(r.Account, r.Symbol)
		}
		return s.Klines(r.Symbol)
	case EpRecentTrades:
		if r.Account != "" {
			return s.AccountRecentTrades(r.Account, r.Symbol)
		}
		return s.RecentTrades(r.Symbol)
	case EpFundingHistory:
		if r.Account != "" {
			return s.AccountFundingHistory(r.Account, r.Symbol)
		}
		return s.FundingHistory(r.Symbol)
	case EpTicker:
		if r.Account != "" {
			return s.AccountTicker(r.Account, r.Symbol)
		}
		return s.Ticker(r.Symbol)
	case EpOpenInterest:
		if r.Account != "" {
			return s.AccountOpenInterest(r.Account, r.Symbol)
		}
		return s.OpenInterest(r.Symbol)
	case EpTrades:
		return s.Trades(r.Symbol)
	case EpBook:
		return s.Book(r.Symbol)
	case EpMark:
		return s.Mark(r.Symbol)
	case EpKline:
		return s.Kline(r.Symbol, r.Interval)
	case EpLiquidations:
		return s.Liquidations(r.Symbol)
	case EpFundState:
		if r.Account != "" {
			return s.AccountFundState(r.Account)
		}
		return s.FundState()
	case EpFundEvents:
		return s.FundEvents()
	case EpFundDaily:
		if r.Account != "" {
			return s.AccountFundDaily(r.Account)
		}
		return s.FundDaily()
	case EpADLQueue:
		if r.Account != "" {
			return s.AccountADLQueue(r.Account, r.Symbol)
		}
		return s.ADLQueue(r.Symbol)
	case EpADLEvents:
		return s.ADLEvents(r.Symbol)
	}
	return ""
}

// Parse maps a concrete subject to its route. An unknown shape, a foreign
// prefix or a malformed account or symbol token is BAD_REQUEST.
func (s Subjects) Parse(subject string) (Route, *Error) {
	rest, ok := strings.CutPrefix(subject, s.prefix)
	if !ok || len(rest) == 0 || rest[0] != '.' {
		return Route{}, Errorf(CodeBadRequest, "subject %.100q is not under prefix %q", subject, s.prefix)
	}
	var t [maxSubjectTokens]string
	n := splitTokens(rest[1:], &t)
	r := Route{}
	switch {
	case t[0] == "acct" && n == 4 && t[2] == "order" && t[3] == "place":
		r = Route{Endpoint: EpOrderPlace, Account: t[1]}
	case t[0] == "acct" && n == 4 && t[2] == "order" && t[3] == "cancel":
		r = Route{Endpoint: EpOrderCancel, Account: t[1]}
	case t[0] == "acct" && n == 4 && t[2] == "order" && t[3] == "batch":
		r = Route{Endpoint: EpOrderBatch, Account: t[1]}
	case t[0] == "acct" && n == 4 && t[2] == "order" && t[3] == "cancel_all":
		r = Route{Endpoint: EpOrderCancelAll, Account: t[1]}
	case t[0] == "acct" && n == 4 && t[2] == "order" && t[3] == "cancel_all_after":
		r = Route{Endpoint: EpOrderCancelAllAfter, Account: t[1]}
	case t[0] == "acct" && n == 4 && t[2] == "order" && t[3] == "amend":
		r = Route{Endpoint: EpOrderAmend, Account: t[1]}
	case t[0] == "acct" && n == 4 && t[2] == "order" && t[3] == "query":
		r = Route{Endpoint: EpOrderQuery, Account: t[1]}
	case t[0] == "acct" && n == 4 && t[2] == "order" && t[3] == "open":
		r = Route{Endpoint: EpOrderOpen, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "leverage":
		r = Route{Endpoint: EpLeverage, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "margin_mode":
		r = Route{Endpoint: EpMarginMode, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "position_margin":
		r = Route{Endpoint: EpPositionMargin, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "withdraw":
		r = Route{Endpoint: EpWithdraw, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "state":
		r = Route{Endpoint: EpState, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "orders":
		r = Route{Endpoint: EpOrders, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "fills":
		r = Route{Endpoint: EpFills, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "income":
		r = Route{Endpoint: EpIncome, Account: t[1]}
	case t[0] == "acct" && n == 3 && t[2] == "events":
		r = Route{Endpoint: EpAccountEvents, Account: t[1]}
	// The public reads asked under an account (AccountDepth...): what a
	// trader uses when the server has users, so the reply rule knows whose
	// inbox it may go to.
	case t[0] == "acct" && n == 5 && t[2] == "md" && accountReads[t[4]] != EpInvalid:
		r = Route{Endpoint: accountReads[t[4]], Account: t[1], Symbol: t[3]}
	case t[0] == "acct" && n == 4 && t[2] == "fund" && t[3] == "state":
		r = Route{Endpoint: EpFundState, Account: t[1]}
	case t[0] == "acct" && n == 4 && t[2] == "fund" && t[3] == "daily":
		r = Route{Endpoint: EpFundDaily, Account: t[1]}
	case t[0] == "acct" && n == 5 && t[2] == "adl" && t[4] == "queue":
		r = Route{Endpoint: EpADLQueue, Account: t[1], Symbol: t[3]}
	case t[0] == "admin" && n == 2 && t[1] == "deposit":
		r = Route{Endpoint: EpAdminDeposit}
	case t[0] == "admin" && n == 3 && t[1] == "index":
		r = Route{Endpoint: EpAdminIndex, Symbol: t[2]}
	case t[0] == "admin" && n == 3 && t[1] == "fund" && t[2] == "deposit":
		r = Route{Endpoint: EpAdminFundDeposit}
	case t[0] == "admin" && n == 2 && t[1] == "audit":
		r = Route{Endpoint: EpAdminAudit}
	case t[0] == "admin" && n == 2 && t[1] == "state_hash":
		r = Route{Endpoint: EpAdminStateHash}
	case t[0] == "admin" && n == 2 && t[1] == "resume":
		r = Route{Endpoint: EpAdminResume}
	case t[0] == "md" && n == 4 && t[2] == "kline" && slices.Contains(klineIntervals, t[3]):
		r = Route{Endpoint: EpKline, Symbol: t[1], Interval: t[3]}
	case t[0] == "md" && n == 3:
		r = Route{Endpoint: mdEndpoints[t[2]], Symbol: t[1]}
	case t[0] == "fund" && n == 2 && t[1] == "state":
		r = Route{Endpoint: EpFundState}
	case t[0] == "fund" && n == 2 && t[1] == "daily":
		r = Route{Endpoint: EpFundDaily}
	case t[0] == "fund" && n == 2 && t[1] == "events":
		r = Route{Endpoint: EpFundEvents}
	case t[0] == "adl" && n == 3 && t[2] == "queue":
		r = Route{Endpoint: EpADLQueue, Symbol: t[1]}
	case t[0] == "adl" && n == 3 && t[2] == "events":
		r = Route{Endpoint: EpADLEvents, Symbol: t[1]}
	}
	if r.Endpoint == EpInvalid {
		return Route{}, Errorf(CodeBadRequest, "unknown subject %.100q", subject)
	}
	if (needsAccount(r.Endpoint) || r.Account != "") && !ValidToken(r.Account) {
		return Route{}, Errorf(CodeBadRequest, "account %.100q: must be 1-%d characters of [A-Za-z0-9_-]", r.Account, MaxTokenLen)
	}
	if needsSymbol(r.Endpoint) && !ValidToken(r.Symbol) {
		return Route{}, Errorf(CodeBadRequest, "symbol %.100q: must be 1-%d characters of [A-Za-z0-9_-]", r.Symbol, MaxTokenLen)
	}
	return r, nil
}

// maxSubjectTokens is the most tokens a subject after the prefix has.
const maxSubjectTokens = 5

// splitTokens splits s at its dots into t, as strings.Split would, without
// allocating: it returns the number of tokens, which may exceed len(t)
// (only the first len(t) are stored; no subject has more).
func splitTokens(s string, t *[maxSubjectTokens]string) int {
	n := 0
	for {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			if n < len(t) {
				t[n] = s
			}
			return n + 1
		}
		if n < len(t) {
			t[n] = s[:i]
		}
		n++
		s = s[i+1:]
	}
}

var mdEndpoints = map[string]Endpoint{"depth": EpDepth, "trades": EpTrades, "book": EpBook, "mark": EpMark,
	"liquidations": EpLiquidations, "klines": EpKlines, "recent_trades": EpRecentTrades,
	"funding_history": EpFundingHistory, "ticker": EpTicker, "open_interest": EpOpenInterest}

// accountReads are the market-data reads a trader asks under its account.
var accountReads = map[string]Endpoint{"depth": EpDepth, "klines": EpKlines, "recent_trades": EpRecentTrades,
	"funding_history": EpFundingHistory, "ticker": EpTicker, "open_interest": EpOpenInterest}

func needsAccount(e Endpoint) bool {
	switch e {
	case EpOrderPlace, EpOrderCancel, EpOrderBatch, EpOrderCancelAll, EpOrderCancelAllAfter, EpOrderAmend, EpOrderQuery, EpOrderOpen, EpLeverage, EpState,
		EpMarginMode, EpPositionMargin, EpWithdraw, EpOrders, EpFills, EpIncome, EpAccountEvents:
		return true
	}
	return false
}

func needsSymbol(e Endpoint) bool {
	switch e {
	case EpAdminIndex, EpDepth, EpTrades, EpBook, EpMark, EpADLQueue, EpADLEvents, EpLiquidations, EpKlines, EpRecentTrades, EpFundingHistory, EpTicker, EpOpenInterest, EpKline:
		return true
	}
	return false
}
