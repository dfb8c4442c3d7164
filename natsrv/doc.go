// Package natsrv owns the embedded NATS server: starting nats-server on a
// host:port (and optionally its HTTP monitoring port), turning the config's
// users into NATS authorization, the exchange's own in-process service
// connection and, when given a store directory, JetStream with every write
// fsynced before it is acknowledged. It decides no exchange rule.
//
// Permissions with users configured (P is the prefix, default "px"):
//
//	trader: publish   P.acct.<account>.>  except P.acct.<account>.events,
//	                  P.md.*.depth, P.fund.state, P.adl.*.queue
//	        subscribe P.acct.<account>.>, P.md.>, P.fund.>, P.adl.>,
//	                  _INBOX.<user>.>  except the request subjects
//	                  P.md.*.depth, P.fund.state, P.adl.*.queue
//	admin:  everything, P.admin.> included
//
// A trader may not subscribe to the public request subjects, else it could
// join the gateway's queue group and answer other traders' requests with
// fake data, nor to other users' inboxes, else it could read their replies:
// with users configured a trader must use the reply-inbox prefix
// wire.InboxPrefix(user) (nats.CustomInboxPrefix; `nats --inbox-prefix`).
// Without users the server is open, as the stock `nats` CLI expects.
//
// The exchange's service connection (Server.Connect) is in process, so it
// needs no loopback TCP, and logs in as a service user whose random password
// is made at start and never leaves the process.
package natsrv
