package gateway

import (
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/internal/ratelog"
	"github.com/perpx/perpx/wire"
)

// logEvery is the most often one kind of line a client can trigger is
// logged (ratelog); the metrics count every occurrence.
const logEvery = 10 * time.Second

// clientLogs are the gateway's log lines a client can trigger, each at
// most once per logEvery with the count of what it stands for.
type clientLogs struct {
	badReply *ratelog.Limiter // perpx_replies_refused_total
	subErr   *ratelog.Limiter // perpx_subscription_errors_total
	pubErr   *ratelog.Limiter // perpx_publish_errors_total
}

// flush writes what the lines still hold (at Stop).
func (l clientLogs) flush() {
	l.badReply.Flush()
	l.subErr.Flush()
	l.pubErr.Flush()
}

// initReplies sets the reply rules from opts.Users, or the embedded
// server's users, and the rate-limited log lines.
func (g *Gateway) initReplies(opts Options) {
	users := opts.Users
	if users == nil {
		users = serverUsers(g.nc)
	}
	g.replies = newReplyRules(g.subj, users)
	g.logs = clientLogs{
		badReply: ratelog.Slog(g.log, slog.LevelWarn, "gateway: requests with a refused reply subject dropped", logEvery),
		subErr:   ratelog.Slog(g.log, slog.LevelError, "gateway: subscription errors", logEvery),
		pubErr:   ratelog.Slog(g.log, slog.LevelDebug, "gateway: publish failed", logEvery),
	}
}

// serverUsers returns the users of nc's server when nc is the in-process
// connection of a natsrv.Server (natsrv.Server.Users), else nil.
func serverUsers(nc *nats.Conn) []config.User {
	if s, ok := nc.Opts.InProcessServer.(interface{ Users() []config.User }); ok {
		return s.Users()
	}
	return nil
}

// Why a reply subject is refused (perpx_replies_refused_total{reason}).
const (
	// refusedExchange: inside the exchange's namespace (P. or P) or a NATS
	// system subject ($SYS, $JS, ...). Always refused.
	refusedExchange = "exchange_subject"
	// refusedNotInbox: with users, not _INBOX.<token>.<...> or with a
	// wildcard token.
	refusedNotInbox = "not_inbox"
	// refusedForeignInbox: with users, the inbox of a trader who may not
	// send the request (another account's trader).
	refusedForeignInbox = "foreign_inbox"
)

const inboxRoot = "_INBOX."

// replyRules decides where the gateway may publish a request's reply. The
// exchange publishes with its own unconfined login, so the reply subject,
// which the requester chooses freely, must not let a trader write where it
// may not (API.md "Authorization"):
//
//   - never inside the exchange's namespace or on a $ subject;
//   - with users (the server enforces natsrv.Permissions): only under
//     _INBOX.<token>.<...>, without wildcard tokens, where <token> is not a
//     trader who could not have sent the request. For P.acct.<acct>.… those
//     who can are the traders of <acct> and the admins; for the public
//     requests (depth, fund.state, adl.queue) every user; P.admin.> only
//     admins can send, so its replies only obey the namespace rule. A
//     <token> that is no configured user (nats.go's default random inbox)
//     names an inbox no trader can subscribe to, only admins and the
//     exchange itself (its bots).
//
// NATS does not tell the gateway who sent a request, so this is the
// strongest rule that lets every legitimate requester be answered: no
// trader can make the exchange write into another trader's inbox through
// an account's requests. A public request's reply may go to any user's
// inbox; nats.go's inbox subjects carry a random token, so it reaches
// nobody unless that user subscribed a wildcard under its inbox.
type replyRules struct {
	prefix  string            // the subject prefix
	traders map[string]string // trader user -> its account; nil: no users
}

func newReplyRules(subj wire.Subjects, users []config.User) replyRules {
	r := replyRules{prefix: subj.Prefix()}
	if len(users) > 0 {
		r.traders = make(map[string]string, len(users))
		for _, u := range users {
			if !u.Admin {
				r.traders[u.User] = u.Account
			}
		}
	}
	return r
}

// refuse returns why the reply subject of a request on subject, received
// by ep's subscription, is refused, "" when it is not. An empty reply is
// never refused: nothing is published. The account is read from the
// subject itself, so a request refused as malformed (its error reply goes
// to the reply subject too) obeys the same rule.
func (r *replyRules) refuse(ep wire.Endpoint, subject, reply string) string {
	if reply == "" {
		return ""
	}
	if strings.HasPrefix(reply, "$") || reply == r.prefix ||
		(strings.HasPrefix(reply, r.prefix) && reply[len(r.prefix)] == '.') {
		return refusedExchange
	}
	if r.traders == nil || isAdmin(ep) {
		return ""
	}
	rest, ok := strings.CutPrefix(reply, inboxRoot)
	if !ok || strings.ContainsAny(reply, "*> \t\r\n") {
		return refusedNotInbox
	}
	dot := strings.IndexByte(rest, '.')
	if dot <= 0 || dot == len(rest)-1 {
		return refusedNotInbox
	}
	acct, trader := r.traders[rest[:dot]]
	if owner := r.account(subject); !trader || owner == "" || acct == owner {
		return "" // a public subject (not a trader's with users: natsrv) or its own inbox
	}
	return refusedForeignInbox
}

// account is the <acct> token of P.acct.<acct>.…, "" for other subjects.
func (r *replyRules) account(subject string) string {
	rest, ok := strings.CutPrefix(subject, r.prefix)
	if !ok {
		return ""
	}
	if rest, ok = strings.CutPrefix(rest, ".acct."); !ok {
		return ""
	}
	if dot := strings.IndexByte(rest, '.'); dot >= 0 {
		return rest[:dot]
	}
	return ""
}

// isAdmin reports whether ep is under P.admin.>, which only admins may use.
func isAdmin(ep wire.Endpoint) bool {
	switch ep {
	case wire.EpAdminDeposit, wire.EpAdminIndex, wire.EpAdminFundDeposit, wire.EpAdminAudit, wire.EpAdminStateHash, wire.EpAdminResume:
		return true
	}
	return false
}
