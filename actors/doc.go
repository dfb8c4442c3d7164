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
// # Liquidation rule
//
// The protocol's rules are liq's: the account actor runs one liq.Machine
// per liquidation and performs the effects it asks for. A liquidation is
// triggered only by marks (risk.OnMark, or a fill/funding that risk says
// left the account under maintenance at the stored marks — never the trade
// price). The account actor starts the machine (liq.Start, which takes over
// the position through risk.StartLiquidation: cross, the whole account;
// isolated, the one position), cancels the returned orders by id in their
// books, and asks for a coverage reservation.
//
// Coverage. The request passes through each leg's symbol actor (after the
// cancels), which quotes the leg's need from its visible book: qty × (B −
// P) for a long, P being the level at which a sell of twice the leg's
// quantity (room for as much again taken by other liquidations in flight)
// ends in the bids — the last level if they hold less — and never below the
// band's floor; mirrored for a short; 0 when that side is empty or better
// than B. Then the fund actor reserves R = min(available, Σ need). What
// closing every leg at its bankruptcy price still costs the fund (risk's
// Liquidation.Deficit, from legs whose bankruptcy price was clamped to [1
// tick, MaxPrice]) is reserved before the legs' own coverage. The quote
// only decides how much is set aside: what the book can absorb, not the way
// to the band's edge, so one fund covers many concurrent liquidations
// instead of the first one reserving it all.
//
// Execution. Each leg gets an IOC order limited by risk's OrderLimit: B −
// R/qty for a long, B + R/qty for a short (R split over the legs by need),
// clamped to the band — so a full fill's deficit never exceeds the
// reservation and the fund never goes negative, however many liquidations
// are in flight, whatever the book did since the quote. An IOC that finds
// the book thinner than quoted fills less and the rest goes to ADL. Fills
// settle against the risk.Liquidation, and the unused part of R is
// released.
//
// ADL. What the book does not absorb goes to the ADL actor at the
// bankruptcy price B: it updates the ranking with the remainder and queues
// the request; a note it sends itself (so behind what its mailbox already
// holds), or the 32nd queued request, serves the queue per symbol and side
// with one adl.DeleverageBatch — the closes of one Deleverage per request
// from one merge — and sends each chosen counterparty a forced close and
// each bankrupt account its plan.
//
// A counterparty closes what it actually holds (risk.ApplyADLClose, no fee)
// — a stale ranking only means less — and answers the bankrupt account,
// which books the close on its leg; rounds repeat until the leg is closed
// (at once after progress, else after a backoff from Options.ADLRetry). A
// counterparty that is itself being liquidated can close its leg too, but
// only at a price no worse than its own bankruptcy price. Deleveraged
// traders get an "adl" event and keep trading at once; the counterparty
// publishes the symbol's ADL event when it applies the close, with the
// quantity it actually closed.
//
// Settlement. When every leg is closed, risk's Settle gives the fund's
// share (surplus in, deficit out of the reservation; the rest is released)
// and the liquidation fee, and the account trades again.
//
// Socialized loss (adl_mode "socialized", socialize.go): a leg on such a
// symbol is closed against the book, not against the winners, and each
// such leg has its own round. Once the fund answers, the account asks the
// ADL actor, for every socialized leg, to set aside the profit of the
// opposite side's winners on that leg's symbol at its mark (less what
// liquidations in flight already set aside); once every quote is in, each
// socialized leg's IOC may lose up to its share of R plus its own capacity
// (at most the quoted need, within the band), and only what the book does
// not absorb goes to ADL at B as above (closing at B costs nothing).
//
// When every leg is closed, the shortfall beyond R is split over the
// socialized legs in proportion to each leg's loss beyond its share of R
// (by capacity when none lost more), each part capped by its leg's
// capacity (what the caps leave falls on the fund). Each leg sends its part
// (releasing its capacity) to the ADL actor, which splits it with
// adl.Ranking.Socialize over the profitable opposite positions on the
// leg's symbol in proportion to their profit at its mark and sends each
// winner a charge. The winner debits it (risk.ApplySocializedCharge), keeps
// its position, gets an "adl" event with qty 0 (price: the mark; the
// amount is in its realized PnL) and tells the bankrupt account what it
// paid (0 if its position or profit is gone since the ranking saw it);
// answers go to the leg of their symbol.
//
// What a winner could not pay is spread again over that symbol's winners as
// they are now, for up to four rounds per leg while a round still collects
// something. Once every leg's round is complete the bankrupt account
// settles with the fund for its deficit less the charges paid on every leg,
// so money is conserved exactly whatever the split; what is still unpaid is
// drawn from the fund as far as it goes and recorded as uncovered, as for
// any settlement.
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
// "nothing done". Fills already in flight to it are lost to it, so the
// audit lists it. No other account is affected.
//
// The singleton actors keep protoactor's default (restart with the same
// state). All state is in memory: a restarted process starts empty
// (DESIGN.md, "Durability and scale").
package actors
