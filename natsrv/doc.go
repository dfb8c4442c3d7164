// Package natsrv owns the embedded NATS server: starting nats-server on a
// host:port (and optionally its HTTP monitoring port and a WebSocket
// listener for the web page, whose clients log in as the same users with
// the same permissions, from the allowed page origins), turning the config's
// users into NATS authorization, the exchange's own in-process service
// connection and, when given a store directory, JetStream with every write
// fsynced before it is acknowledged; and StartEcho, the same server with a
// canned responder instead of the exchange (the floor the load test and
// the benchmarks compare it with). It decides no exchange rule.
//
// Permissions with users configured (P is the prefix, default "px"):
//
//	trader: publish   P.acct.<account>.>  except P.acct.<account>.events
//	                  (the public reads too: P.acct.<account>.md.<sym>.depth,
//	                  .fund.state, .adl.<sym>.queue; the public subjects are
//	                  the exchange's and admins', nothing would say who asked)
//	        subscribe P.acct.<account>.events, P.md.>, P.fund.>, P.adl.>,
//	                  _INBOX.<user>.>  except the request subjects
//	                  P.md.*.depth, P.fund.state, P.adl.*.queue
//	admin:  everything, P.admin.> included
//
// A trader subscribes to streams and its inbox only. Not to any request
// subject, its own account's included (P.acct.<account>.state, .order.*,
// the subtree P.acct.<account>.>): a subscription there, in the gateway's
// queue group "perpx" or not, would take requests away from the exchange
// and answer them with fake data. Not to other users' inboxes, else it
// could read their replies: with users configured a trader must use the
// reply-inbox prefix wire.InboxPrefix(user) (nats.CustomInboxPrefix;
// `nats --inbox-prefix`). Publish permissions check the subject only, not
// the reply subject, so the gateway confines where replies go (Users, and
// gateway/replies.go). Without users the server is open, as the stock
// `nats` CLI expects.
//
// The server's own log lines (Options.Logger) are rate-limited per kind:
// nats-server writes one per permissions violation, which a client can
// repeat thousands of times a second (logger.go).
//
// The exchange's service connection (Server.Connect) is in process, so it
// needs no loopback TCP, and logs in as a service user whose random password
// is made at start and never leaves the process.
package natsrv
