// Package book is the price-time priority order book every symbol runs on.
//
// It owns the matching rules and the book's value types (Side, Ticks, Lots,
// OrderID, Order, Fill, reject codes), and OrderSet, the small open-order
// set risk and the account actors keep per account. It is a pure core: one goroutine,
// deterministic, integer ticks and lots, no clock, no I/O. Every call
// (Place, Cancel, Amend, CancelAll) writes its outcome into a caller-owned
// Result (reject code, status, fills, depth changes, cancelled orders) that
// is reused from call to call, so steady-state matching allocates nothing.
//
// Rules:
//   - Orders match at the makers' prices, best level first, FIFO within a
//     level. A GTC limit remainder rests. An IOC or market remainder is
//     dropped: StatusCanceled if the order filled part, StatusExpired if it
//     filled nothing. A FOK that cannot fill completely is rejected with
//     RejectFOKNotFilled and changes nothing.
//   - Market orders never rest. Their Price is a protection bound (the worst
//     price they may trade at) the caller must supply on both sides; GTC and
//     IOC both mean "fill what is there within the bound", FOK all or nothing.
//   - Post-only is for GTC limit orders; one that would trade is rejected.
//   - Self-trade prevention is the taker's choice: cancel the maker
//     (default), the taker's remainder, or both. Cancelled makers are listed
//     in Result.Canceled; a taker killed this way is StatusCanceled.
//   - Amend's qty is the new open quantity. A lower quantity at the same
//     price keeps queue priority; a new price or a higher quantity re-queues
//     the order as if cancelled and placed again with the same id and flags,
//     so it may trade.
//   - Order ids are the caller's, non-zero and unique per book; the book
//     only rejects an id that is resting (RejectDuplicateOrderID).
//   - Reduce-only is carried for the risk layer, not enforced here.
//   - A rejected call changes nothing, and bad input is a reject code, never
//     a panic (level totals that would overflow int64 are RejectInvalidQty).
//
// Layout: resting orders live in a slab with a free list, linked into
// intrusive FIFO lists per price level; levels live in a second slab. Order
// ids and prices are found through open-addressing hash indexes. A B-tree
// per side (google/btree) keeps level order and is touched only when a
// level appears or empties; the best level is cached. Place, Cancel and
// Amend cost O(1) plus O(log levels) when a level appears or empties, plus
// the fills; CancelAll walks the whole book (it is for rare events such as
// liquidation). Check and StateHash are O(size), for tests and replicas.
package book
