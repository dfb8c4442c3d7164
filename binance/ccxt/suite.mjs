// Drives the real ccxt binanceusdm (REST and ccxt pro WebSocket) against
// perpx's Binance face. Run by binance/ccxt_test.go, which starts the
// exchange and passes: the REST base, the WebSocket base, a probe URL that
// answers NATS requests (the exchange's own view of the same account), and
// the API key and secret. Prints one JSON object: every step's ccxt result
// with the NATS reply to compare it with; the Go test compares them.
import ccxt from 'ccxt';

const [rest, ws, probe, apiKey, secret] = process.argv.slice(2);
const steps = [];
// A copy now: ccxt's objects (an order book) keep changing.
const record = (name, got, nats) => steps.push({ name, ccxt: JSON.parse(JSON.stringify(got ?? null)), nats });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// within fails a watch that gets nothing in time, naming it.
const within = (p, what, ms = 10000) => Promise.race([p,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref())]);

// nats asks the exchange over NATS (through the Go test's probe).
async function nats(subject, body = {}) {
  const r = await fetch(probe, { method: 'POST', body: JSON.stringify({ subject, body }) });
  return r.json();
}

const ex = new ccxt.pro.binanceusdm({
  apiKey, secret, enableRateLimit: false,
  options: {
    fetchCurrencies: false, // sapi: not served, and not needed for futures
    fetchMarkets: { types: ['linear'] },
    warnOnFetchOpenOrdersWithoutSymbol: false,
  },
});
// Every URL at the local server: nothing may leave loopback. What perpx does
// not serve points at a path that answers 404.
for (const k of Object.keys(ex.urls.api)) {
  if (typeof ex.urls.api[k] === 'string') ex.urls.api[k] = `${rest}/unserved/${k}`;
}
Object.assign(ex.urls.api, {
  fapiPublic: `${rest}/fapi/v1`, fapiPublicV2: `${rest}/fapi/v2`, fapiPublicV3: `${rest}/fapi/v3`,
  fapiPrivate: `${rest}/fapi/v1`, fapiPrivateV2: `${rest}/fapi/v2`, fapiPrivateV3: `${rest}/fapi/v3`,
  ws: {
    spot: `${ws}/unserved/ws`, margin: `${ws}/unserved/ws`, future: `${ws}/ws`, delivery: `${ws}/unserved/ws`,
    'ws-api': { spot: `${ws}/unserved/ws-api`, future: `${ws}/unserved/ws-api`, delivery: `${ws}/unserved/ws-api` },
  },
});

const S = 'BTC/USDT:USDT';
const E = 'ETH/USDT:USDT';
const order = (id) => nats('px.acct.alice.orders', { order_id: id });

async function main() {
  await ex.loadHttpProxyAgent(); // ccxt needs it for plain ws:// URLs (perpx serves no TLS)
  const markets = await ex.loadMarkets();
  const pick = (m) => ({ id: m.id, symbol: m.symbol, settle: m.settle, linear: m.linear, swap: m.swap, contractSize: m.contractSize,
    precision: m.precision, limits: m.limits, active: m.active });
  record('loadMarkets', { BTC: pick(markets[S]), ETH: pick(markets[E]) }, null);

  record('fetchOrderBook', await ex.fetchOrderBook(S, 20), await nats('px.md.BTC-PERP.depth', { levels: 20 }));
  record('fetchBalance', (await ex.fetchBalance()).USDT, await nats('px.acct.alice.state'));
  record('setLeverage', await ex.setLeverage(10, S), null);
  // One-way mode (freqtrade reads it at start); setting it again is Binance's -4059.
  record('fetchPositionMode', await ex.fetchPositionMode(S), null);
  record('setPositionModeAgain', await ex.setPositionMode(false, S).catch((e) => ({ error: e.constructor.name })), null);
  record('setMarginMode', await ex.setMarginMode('isolated', E), null);
  // Again: Binance's -4046, which ccxt raises as MarginModeAlreadySet.
  record('setMarginModeAgain', await ex.setMarginMode('isolated', E).catch((e) => ({ error: e.constructor.name })), null);

  const limit = await ex.createOrder(S, 'limit', 'buy', 0.01, 29900);
  record('createOrder limit', limit, await order(limit.id));
  const post = await ex.createOrder(S, 'limit', 'buy', 0.005, 29800, { postOnly: true });
  record('createOrder post-only', post, await order(post.id));
  const market = await ex.createOrder(S, 'market', 'buy', 0.02);
  record('createOrder market', market, await order(market.id));
  const reduce = await ex.createOrder(S, 'limit', 'sell', 0.01, 30500, { reduceOnly: true });
  record('createOrder reduce-only', reduce, await order(reduce.id));
  const stop = await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { triggerPrice: 29000, reduceOnly: true });
  record('createOrder stop-market', stop, await order(stop.id));

  record('editOrder', await ex.editOrder(limit.id, S, 'limit', 'buy', 0.015, 29850), await order(limit.id));
  record('fetchLeverage', await ex.fetchLeverage(S), null);
  record('fetchMarginMode', await ex.fetchMarginMode(E), null);
  record('fetchTradingFee', await ex.fetchTradingFee(S), null);

  record('fetchOpenOrders', await ex.fetchOpenOrders(S), await nats('px.acct.alice.state', { symbol: 'BTC-PERP' }));
  record('fetchOpenOrders trigger', await ex.fetchOpenOrders(S, undefined, undefined, { trigger: true }),
    await nats('px.acct.alice.state', { symbol: 'BTC-PERP' }));
  record('fetchOrder', await ex.fetchOrder(market.id, S), await order(market.id));
  record('fetchOrder trigger', await ex.fetchOrder(stop.id, S, { trigger: true }), await order(stop.id));
  record('cancelOrder', await ex.cancelOrder(limit.id, S), await order(limit.id));
  record('cancelAllOrders', await ex.cancelAllOrders(S), await nats('px.acct.alice.state', { symbol: 'BTC-PERP' }));
  record('fetchOrder canceled', await ex.fetchOrder(post.id, S), await order(post.id));
  // A stop is an algo order: cancelOrder without trigger: true sends DELETE
  // v1/order, which does not reach it (-2011); with it, DELETE v1/algoOrder.
  record('cancelOrder stop as plain', await ex.cancelOrder(stop.id, S).catch((e) => ({ error: e.constructor.name })),
    await order(stop.id));
  record('cancelOrder trigger', await ex.cancelOrder(stop.id, S, { trigger: true }), await order(stop.id));
  // Batches (POST, PUT, DELETE batchOrders): one refused order of four is a
  // rejected element; ccxt sorts the answer by time, so orders are found by id.
  const placed = await ex.createOrders([
    { symbol: S, type: 'limit', side: 'buy', amount: 0.01, price: 29600, params: { clientOrderId: 'ccxt-b0' } },
    { symbol: S, type: 'limit', side: 'buy', amount: 0.01, price: 29600, params: { timeInForce: 'XYZ' } },
    { symbol: S, type: 'limit', side: 'buy', amount: 0.012, price: 29650, params: { clientOrderId: 'ccxt-b2' } },
    { symbol: S, type: 'limit', side: 'buy', amount: 0.01, price: 29500, params: { clientOrderId: 'ccxt-b3' } },
  ]);
  record('createOrders', placed, await nats('px.acct.alice.state', { symbol: 'BTC-PERP' }));
  const byCid = (cid) => placed.find((o) => o.clientOrderId === cid).id;
  const b0 = byCid('ccxt-b0');
  record('editOrders', await ex.editOrders([
    { id: b0, symbol: S, type: 'limit', side: 'buy', amount: 0.015, price: 29610 },
    { id: '987654321', symbol: S, type: 'limit', side: 'buy', amount: 0.015, price: 29610 },
  ]), await order(b0));
  record('cancelOrders', await ex.cancelOrders([b0, '987654321', byCid('ccxt-b2')], S),
    await nats('px.acct.alice.state', { symbol: 'BTC-PERP' }));
  record('cancelOrders clientOrderIds', await ex.cancelOrders([], S, { clientOrderIds: ['ccxt-b3'] }), await order(byCid('ccxt-b3')));
  record('fetchMyTrades', await ex.fetchMyTrades(S), await nats('px.acct.alice.fills', { symbol: 'BTC-PERP' }));
  record('fetchFundingRate', await ex.fetchFundingRate(S), await nats('px.md.BTC-PERP.ticker'));
  record('fetchTicker', await ex.fetchTicker(S), await nats('px.md.BTC-PERP.ticker'));
  record('fetchOHLCV', await ex.fetchOHLCV(S, '1m'), await nats('px.md.BTC-PERP.klines', { interval: '1m' }));
  record('fetchTrades', await ex.fetchTrades(S), await nats('px.md.BTC-PERP.recent_trades'));
  await ex.createOrder(E, 'market', 'buy', 0.1);
  record('fetchPositions', await ex.fetchPositions([S, E]), await nats('px.acct.alice.state'));

  // ccxt pro. The order book: a snapshot from REST, then diffs, while the
  // market maker moves its quotes; the book must equal the exchange's depth.
  let book = await within(ex.watchOrderBook(S), 'watchOrderBook');
  for (const [side, price] of [['buy', '29950'], ['sell', '30050'], ['buy', '29960']]) {
    await nats('px.acct.mm.order.place', { symbol: 'BTC-PERP', side, type: 'limit', price, qty: '0.004', client_order_id: `wob-${price}` });
  }
  await nats('px.acct.mm.order.cancel', { symbol: 'BTC-PERP', client_order_id: 'wob-29950' });
  const depth = await nats('px.md.BTC-PERP.depth', { levels: 1000 });
  for (let i = 0; i < 100 && book.nonce < depth.seq; i++) book = await within(ex.watchOrderBook(S), 'watchOrderBook update');
  record('watchOrderBook', { bids: book.bids, asks: book.asks, nonce: book.nonce }, depth);

  const trades = ex.watchTrades(S);
  await sleep(300);
  await ex.createOrder(S, 'market', 'buy', 0.003);
  record('watchTrades', await within(trades, 'watchTrades'), await nats('px.md.BTC-PERP.recent_trades'));
  // The 24-hour ticker (btcusdt@ticker), once a second: no trade until it comes.
  record('watchTicker', await within(ex.watchTicker(S), 'watchTicker'), await nats('px.md.BTC-PERP.ticker'));

  const orders = ex.watchOrders(S);
  await sleep(500); // the listen key's connection is being opened
  const watched = await ex.createOrder(S, 'limit', 'buy', 0.002, 29700);
  const gotOrders = await within(orders, 'watchOrders');
  record('watchOrders', gotOrders.filter((o) => o.id === watched.id), await order(watched.id));

  // watchOrders loaded the positions' snapshot already: this waits for news.
  const positions = ex.watchPositions([S]);
  await sleep(300);
  await ex.createOrder(S, 'market', 'sell', 0.005);
  record('watchPositions', await within(positions, 'watchPositions'), await nats('px.acct.alice.state'));

  // A funding time (the exchange's clock 8 hours on, an index tick): alice,
  // long ETH, pays; freqtrade reads it with fetchFundingHistory.
  await nats('clock.ahead', { ms: 8 * 3600 * 1000 });
  await nats('px.admin.index.ETH-PERP', { price: '2000' });
  const funding = () => nats('px.acct.alice.income', { type: 'funding', symbol: 'ETH-PERP' });
  for (let i = 0; i < 100 && (await funding()).income.length === 0; i++) await sleep(20);
  record('fetchFundingHistory', await ex.fetchFundingHistory(E), await funding());
  record('fetchLedger', await ex.fetchLedger('USDT', undefined, 1000), await nats('px.acct.alice.income', { limit: 1000 }));

  // Every symbol's tickers: no symbols is !miniTicker@arr, name 'ticker' !ticker@arr.
  for (const [step, params] of [['watchTickers', {}], ['watchTickers ticker', { name: 'ticker' }]]) {
    const seen = {};
    for (let i = 0; i < 10 && !(seen[S] && seen[E]); i++) {
      Object.assign(seen, await within(ex.watchTickers(undefined, params), step));
    }
    record(step, { [S]: seen[S], [E]: seen[E] },
      { [S]: await nats('px.md.BTC-PERP.ticker'), [E]: await nats('px.md.ETH-PERP.ticker') });
  }

  // A liquidation (ETH@forceOrder): bob, short 0.1 ETH at 20x with 25 USDT, and the index up 20 %.
  await nats('px.admin.deposit', { account: 'bob', asset: 'USDT', amount: '25' });
  await nats('px.acct.bob.leverage', { symbol: 'ETH-PERP', leverage: '20' });
  await nats('px.acct.bob.order.place', { symbol: 'ETH-PERP', side: 'sell', type: 'market', qty: '0.1' });
  const bob = await nats('px.acct.bob.state');
  const liquidations = ex.watchLiquidations(E);
  await sleep(500); // the market connection subscribes
  await nats('px.admin.index.ETH-PERP', { price: '2400' });
  record('watchLiquidations', await within(liquidations, 'watchLiquidations'), bob);
}

try {
  await main();
  console.log(JSON.stringify({ steps }));
} catch (e) {
  console.log(JSON.stringify({ steps, error: `${e.constructor.name}: ${e.message}` }));
}
await ex.close();
process.exit(0);
