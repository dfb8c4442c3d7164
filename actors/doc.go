// Package actors runs the pure cores (book, market, risk, fund, adl, liq) as
// protoactor-go actors and is the exchange's facade: Start returns an
// Exchange whose request methods (PlaceOrder, CancelOrder, SetLeverage,
// AccountState, Deposit, SetIndex, FundDeposit, Depth, FundState, ADLQueue,
// Audit, StateHash) take wire requests and call done exactly once with the
// wire reply. It is the only package that imports protoactor-go. Actors
// translate messages into core calls and send the returned events on; every
// exchange rule is decided in the cores.
//
// Account resolves an account once into an AccountRef whose PlaceOrder and
// CancelOrder skip the lookup by name, for a caller that keeps it (a
// gateway session).
//
// # Actors
//
//   - symbol (one per symbol, symbol.go): owns book.Book and
//     market.MarkState. Matches orders, cancels by id, answers depth
//     snapshots (with the book-update seq), turns index ticks into marks
//     (impact prices from its own book) and funding, and quotes
//     liquidations' coverage needs from its book (liquidation.go).
//   - account (one per account, spawned on first use, account.go,
//     liquidation.go): owns risk.Account and the wire view of its open
//     orders (client ids, creation time, fills for the average price).
//   - fund (one, fund.go): owns fund.Fund.
//   - ADL (one, adl.go): owns an adl.Ranking per symbol.
//
// Messages are small structs sent by pointer (msg_*.go, one file per
// receiving actor). The hot path uses Send only: a request carries its done
// callback through the actors and whichever actor finishes it calls done;
// no futures (a future's round trip costs microseconds, protoactor-go
// #838).
//
// Accounts are interned to book.AccountID by a registry (sync.Map plus an
// id-ordered list) and their actors named "acct-<name>". Mailboxes are the
// exchange's own (mailbox.go) and run on a small pool of long-lived worker
// goroutines (dispatch.go); both files say what protoactor's defaults cost.
//
// # The order path
//
// An order allocates its reply's snapshot and a share of a buffer for its
// id's text, nothing per message (TestOrderPathAllocs; bench/README.md has
// the figures): this path is the exchange's throughput. What keeps it so:
//   - the pooled placeReq carries the book's request and result back, each
//     written by one actor before it is sent on; maker fills are pooled and
//     orders reused per account;
//   - an order's id text shares a buffer with the account's other recent
//     ids (idString), and its snapshot is rebuilt only when it changed;
//   - open orders are found by id in a short slice, not a map (orders.go;
//     risk keeps its order records the same way);
//   - position reports to the ADL actor and unsubscribes are one reused
//     message per account and symbol, updated in place while still queued
//     (msg_adl.go, msg_symbol.go);
//   - tick and lot conversions are integer fast paths that fall back to
//     market.Symbol's (convert.go); the default clock reads the monotonic
//     clock only (clock.go);
//   - the facade and the actors post straight into each other's mailboxes
//     (deliver);
//   - when the Sink implements Interest (the gateway's Publisher on the
//     embedded server), trades, book updates and account events nobody
//     subscribes to are not built.
//
// # Message flow
//
// Order: facade → account actor (tick/lot conversion, duplicate client id,
// risk.PreTrade against the symbol's latest mark, order id from a global
// counter) → symbol actor (book.Place) → the taker's result (fills, own
// orders removed by self-trade prevention) back to the account actor, which
// settles the fills through risk, replies to the client (so the reply
// reflects the taker's fills: read-your-writes) and publishes its events;
// each maker fill goes to the maker's account actor; trades and one
// BookUpdate per command (seq+1, all of the command's level changes) go to
// the Sink. Market orders carry the price band's edge as protection bound.
//
// Marks: index tick → symbol actor → MarkState.Update → Sink, the ADL
// actor, and every subscribed account. The symbol actor subscribes an
// account when it sends it a fill; the account unsubscribes when its
// position is flat, quoting how many fills of that symbol it has seen, and
// the unsubscribe only takes effect if no fill was sent since — so exactly
// the accounts that may hold a position get marks. Accounts without one
// read the symbol's latest mark from an atomic for pre-trade checks.
// Funding due at a tick goes to the same subscribers (risk.ApplyFunding).
//
// # Liquidation wiring
//
// The protocol and its rules are liq's (DESIGN.md, "The liquidation
// protocol"): an account actor runs one liq.Machine per liquidation and
// performs its effects (liquidation.go). A liquidation is triggered only by
// marks (risk.OnMark, or a fill or funding that risk says left the account
// under maintenance at the stored marks — never the trade price).
//
//   - Reserve travels through each leg's symbol actor, which quotes the
//     leg from its book (liq.Need), to the fund actor, which reserves
//     min(available, liq.Coverage) and answers the account.
//   - PlaceIOC goes to the leg's symbol actor like any order; its result
//     comes back as IOCDone.
//   - Deleverage goes to the ADL actor, which queues requests and serves
//     them per symbol and side with one adl.DeleverageBatch (a note to
//     itself, or the 32nd request, flushes the queue), sends each chosen
//     counterparty a forced close and the bankrupt account its plan. A
//     counterparty closes what it holds (risk.ApplyADLClose, or
//     liq.Machine.CloseAgainst while it is liquidated itself) and answers
//     the bankrupt account directly; both publish "adl" events.
//   - RetryAfter is a timer; fast ones count as pending work for quiesce.
//   - QuoteSocial and Socialize go to the ADL actor (socialize.go:
//     adl.Ranking.SetAside, Socialize), which charges each winner; the
//     winner debits the charge (risk.ApplySocializedCharge), keeps its
//     position, gets an "adl" event with qty 0 and answers what it paid
//     (into the liquidation's escrow, before its order goes out). Refund
//     goes through the ADL actor (adl.Ranking.Refunded) to the winner
//     (risk.RefundSocializedCharge).
//   - Settle goes to the fund actor, which books it and releases the
//     reservation; the account trades again.
//
// # Ledgers and the audit
//
// Conservation: Σ balances + Σ unrealized at the marks + liquidations in
// flight + fund + fees = Σ deposits + fund deposits. The fees ledger is
// kept per account actor (fees paid, funding received) and summed by the
// audit: fees − funding received, which is the funding rounding dust once
// every subscriber has been paid. Audit and StateHash probe every actor;
// they are exact when the exchange is quiet (tests call quiesce first,
// which repeats probe rounds until no actor handled anything between two
// rounds and no fast retry is pending).
//
// # Failure and restart
//
// Account actors run under a guardian strategy (accountSupervisor): a panic
// takes that one account out of service — it is not restarted, since its
// in-memory state cannot be trusted — logs the event, answers the request
// that caused it INTERNAL and marks the account failed. The actor is
// resumed in a refuse-all mode, so every request queued in its mailbox or
// sent later is still answered INTERNAL exactly once (a stopped actor
// would drop its mailbox).
//
// Nothing a failed account held may block anyone else (failure.go): its
// resting orders leave the books, its positions leave the ADL ranking, a
// liquidation's fund reservation and every leg's socialized-loss set-aside
// are given back, and forced closes or charges sent to it are answered
// "nothing done" (the one it panicked on: what it had done, once). What others booked their side of is booked on its frozen
// liquidation, a refund owed to it is held for it (the audit's
// held_for_failed), and so are fills of its own orders the book matched
// before the pull (HeldFill, the audit's held_fills). No other account is
// affected.
//
// The singleton actors (fund, ADL, symbols) hold ledgers every account
// shares: a panic in one takes it out of service and halts trading
// (halt.go): orders are refused INTERNAL with the reason, cancels go
// through, the audit fails and lists it. All state is in memory: a
// restarted process starts empty (DESIGN.md, "Durability and scale").

package actors
