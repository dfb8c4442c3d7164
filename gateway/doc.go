// Package gateway is the NATS side of the exchange: it serves the request
// subjects of API.md, publishes the exchange's streams, and exports the
// Prometheus metrics. It decodes, checks shape, calls and encodes; every
// exchange rule lives behind the Exchange interface (actors.Exchange).
//
// Requests. Start registers the micro service "perpx" with one endpoint per
// request subject, subscribed with wildcards (px.acct.*.order.place,
// px.md.*.depth, ...) in one queue group, so a second instance shares the
// load and `nats micro ls|info|stats perpx` lists the endpoints with their
// request counts, errors and processing time. For each request it
//  1. parses the subject (wire.Subjects.Parse): a malformed account or
//     symbol token is BAD_REQUEST;
//  2. takes a token from the account's rate-limit bucket for order.place,
//     order.cancel, order.cancel_all, order.cancel_all_after and leverage
//     (RATE_LIMITED when empty); order.batch takes one per item after
//     decoding, all or none (gateway/batch.go);
//  3. decodes the payload strictly (wire.Decode...): over 4 KiB, bad JSON,
//     wrong types, unknown or missing fields, bad numbers are coded errors;
//     the account is taken from the subject only, a payload naming one is
//     refused as an unknown field;
//  4. calls the exchange and publishes its reply when done is called.
//
// A request refused in steps 1-3 never reaches the exchange, so it changes
// nothing; it is answered with micro's Error (the JSON error body plus the
// Nats-Service-Error headers), which `nats micro stats` counts as an error.
// The exchange's answers, refusals included, are published to the reply
// subject from the exchange's goroutine; micro neither sees them as errors
// nor times them (its processing time is the gateway's own decode-and-call
// part). perpx_rejects_total and perpx_request_duration_seconds cover both.
//
// Reply subjects (replies.go). The exchange publishes replies with its own
// unconfined login, so a request whose reply subject the requester could
// not use itself is dropped unanswered before step 1: never inside the
// exchange's namespace or on a $ subject; with users, only in an inbox
// (_INBOX.<token>.…) that is not another account's trader's. Counted in
// perpx_replies_refused_total{reason}; every line a client can trigger is
// logged at most once per 10 s with its count (ratelog).
//
// Rate limit. Writes (order.place, order.cancel, order.cancel_all,
// order.cancel_all_after, leverage) are limited per account: they are what
// can flood a shared book. Reads (state, depth, fund.state, adl.queue) and
// admin requests are not: they change nothing, and a client that was just
// refused with RATE_LIMITED must still be able to read its state to
// reconcile. A limited request spends its token before its payload is
// decoded, so malformed floods are limited too.
//
// Streams. Publisher implements the actors' Sink: trades, incremental depth,
// mark, public liquidation notices, fund and ADL events, private account
// events, JSON per API.md. On the embedded server's in-process connection
// it also implements actors.Interest from the server's own subscription
// index, so the actors do not build trades, depth updates or account events
// for subjects nobody subscribes to (the server would drop them); on any
// other connection everything is published.
//
// Wiring (cmd/exchange): natsrv.Start → srv.Connect → NewMetrics →
// NewPublisher → actors.Start(Sink: publisher) → gateway.Start(nc,
// exchange) → http.ListenAndServe(addr, metrics.Handler()). Shutdown in
// reverse: Gateway.Stop (drains endpoints, waits for unanswered requests),
// stop the actors, nc.Drain, srv.Shutdown.
package gateway
