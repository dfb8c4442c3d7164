// Package loadtest drives a perpx exchange through NATS only, the way outside
// trading bots do: it imports the wire schemas and nats.go, never the cores.
//
// Run starts simulated traders (market makers quoting around the mark,
// takers, high-leverage directional traders, cancel-heavy bots) and sends
// their orders open loop: request i is due at a fixed time whatever happened
// to request i-1, and its latency is measured from that due time, so a
// stalled exchange shows up in the percentiles instead of slowing the
// generator down (coordinated omission). Requests are pipelined: each
// connection publishes with one shared reply subscription and matches replies
// by the request number in the reply subject. With Config.Window the same
// traders run closed loop instead (a fixed number in flight per connection).
//
// The traders stay realistic at any duration: takers and levered traders
// read their state every Config.Poll and apply a Policy (take profit, cut
// losses, deleverage, top up within a budget) through reduce-only orders,
// makers skip cancelling quotes their account events reported filled, and
// when the run sets the index it walks it with fat-tailed jumps
// (WalkConfig), so liquidations and ADL happen on their own. Run audits the
// exchange's invariants (px.admin.audit) every Config.AuditEvery in a pause
// of the flow that the schedule skips, and at the end; the report shows the
// reject share over time, the audits and the process's CPU per request.
//
// RunMarketMaker is the closed-loop quoting bot the exchange binary reuses as
// its built-in liquidity (--bots); it keeps a dead man's switch armed
// (order.cancel_all_after), as a bot run from outside should.
package loadtest
