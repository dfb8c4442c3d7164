// Package history owns a symbol's market-data history as a pure core: the
// 1-minute candles of a price series (last trades, or the mark) from which
// every coarser interval is aggregated on request, the rolling 24-hour
// window a ticker reports, and a ring of recent trades.
//
// Rules:
//   - A candle covers [open, open+interval) in Unix milliseconds, intervals
//     aligned to the epoch in UTC (so 1d candles open at 00:00 UTC), as
//     Binance's klines.
//   - A trade updates the 1-minute candle of its own time: the first trade of
//     a minute opens it (a trade at exactly the open time belongs to it).
//   - A bucket without trades repeats the previous close (open = high = low =
//     close) with zero volume and trade count; buckets before the first
//     trade are not reported.
//   - A coarser candle is the aggregation of its minutes that had prices
//     (the empty ones carry no news): the first's open, the highest high,
//     the lowest low, the last's close, the sums of volume, quote volume and
//     trades; so a 3m candle whose trades all came in its last minute opens
//     at that minute's first trade, as a candle built from the trades would.
//   - Retention: a series keeps its newest Retention minutes with trades;
//     older ones are dropped (a query that reaches before them starts at the
//     oldest kept).
//
// Time is passed in; the package keeps no clock, starts no goroutine and
// does no I/O.
package history
