// Package trigger holds one symbol's untriggered conditional orders: stops,
// take-profits and trailing stops, each watching one price source (mark,
// last or index), indexed so that a price change finds the orders it fires
// without scanning the others.
//
// It owns the trigger rules only: when an order is armed, when it fires and
// in which order. What a fired order becomes (a market or limit order in the
// book, its margin, its wire events) is the caller's business. It is a pure
// core: single-threaded, deterministic, integer ticks, no clock, no I/O.
//
// Rules:
//   - A stop fires when its source's price reaches its trigger price,
//     equality included: a buy stop and a sell take-profit when the price
//     rises to it (Rise), a sell stop and a buy take-profit when it falls to
//     it (Fall).
//   - A trailing sell (it protects a long) tracks the highest price since it
//     activated (its peak) and fires when price·1000 ≤ peak·(1000−callback);
//     a trailing buy tracks the lowest (its trough) and fires when
//     price·1000 ≥ trough·(1000+callback). The callback is in units of
//     0.1 %, 1..100. The comparison is exact (128-bit products).
//   - A trailing sell with an activation price activates when the price
//     rises to it, a trailing buy when the price falls to it; its extreme
//     starts at the activating price, so it fires at the earliest on a later
//     price. Activation price 0 means active at once, from the price Add is
//     given (or from the source's first price if there is none yet).
//   - Add refuses an order that would fire (or, for a trailing stop,
//     activate) at the price it is given, a duplicate or zero id, and a
//     malformed order; a refused Add changes nothing.
//   - Update fires, in this order: the fixed stops that rise-fire, by
//     ascending trigger price then ascending id; the fixed stops that
//     fall-fire, by descending trigger price then ascending id (nearest
//     trigger first in both); then the trailing stops, by ascending id.
//     Trailing stops the price activates join after the trailing fires and
//     cannot fire on it. Fired orders leave the set. A price ≤ 0 or an
//     unknown source is ignored.
//
// Layout: orders live in a slab with a free list, found by id through an
// open-addressing index. Fixed stops and trailing stops awaiting activation
// sit in B-trees (google/btree, one per source and direction) keyed by
// (price, id) in fire order, so Update pops from one end while the
// condition holds: O(log n) per fired or activated order.
//
// Activated trailing stops are bucketed by (source, side, callback). In a
// bucket, a stop activated earlier has seen a superset of the prices a
// later one has, so its extreme is at least as extreme: the bucket is a
// deque of groups ordered by extreme, each group the stops sharing one
// extreme. A new price merges the groups it overtakes at the recent end
// into one group at that price (O(1) per group merged) and fires groups
// from the old end while the callback condition holds. Members are in an
// intrusive doubly linked list and a stop finds its group through
// union-find (union by rank, reference-counted records), so a merge is
// O(1) and Remove O(log n): cancelled stops leave at once and never fire.
// A bitmap of non-empty buckets per source makes a price change cost
// O(active buckets + merged groups + fired·log n), never O(orders).
//
// Add, Remove and Update allocate nothing in steady state (the B-trees
// share a free list; slabs and index are reused). Check, StateHash and
// AppendSnapshot walk the whole set, for tests, invariants and replicas.
package trigger
