// The perpx trading page: a NATS client over the exchange's WebSocket
// listener that speaks API.md like any other client. Market data comes from
// the public streams and reads, the account's from its events and `state`.
import { connect } from "../vendor/nats.js";
import { Book } from "./book.js";
import { PriceChart, INTERVALS } from "./chart.js";
import { compileSymbol, preview } from "./preview.js";
import { fmt, fmtPct, scaled, toDecimal, unitsOf, unitsToDecimal } from "./num.js";

// ---- page state ----
const S = {
  cfg: null,
  syms: {}, // name → compiled symbol
  symbol: null,
  nc: null,
  user: null, // login user (auth mode)
  account: null, // the account traded as
  state: null, // the account's last `state`
  levs: {}, // symbol → leverage this page knows the account has
  modes: {}, // symbol → margin mode
  book: null,
  group: 1,
  trades: [],
  ticker: null,
  marks: {}, // symbol → last mark update
  interval: "1m",
  fills: [],
  fillKeys: new Set(),
  liqs: [],
  fund: { balances: {}, history: [] },
  side: "buy",
  symSubs: [],
  acctSubs: [],
};
// What the browser test reads: book diffs applied and ladder renders.
const perf = { bookUpdates: 0, bookRenders: 0 };
window.perpx = { S, perf };

const $ = (id) => document.getElementById(id);
const enc = new TextEncoder(), dec = new TextDecoder();

function setText(el, s) {
  if (typeof el === "string") el = $(el);
  s = s ?? "";
  if (el && el.textContent !== s) el.textContent = s;
}

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
  return e;
}

// sentence makes an error a sentence a person reads next to what caused it.
export function sentence(err) {
  let m = err?.message || String(err);
  if (err?.code === "503" || /no responders/i.test(m)) m = "Nobody answers this request: is the exchange running?";
  else if (/timeout/i.test(m) && !err?.api) m = "The exchange did not answer in time.";
  m = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(m) ? m : m + ".";
}

class ApiError extends Error {
  constructor(e) {
    super(e?.message || e?.code || "refused");
    this.code = e?.code;
    this.api = true;
  }
}

// ---- formatting ----
const sym = () => S.syms[S.symbol];
const moneyPlaces = (asset) => (/^(USD|USDT|USDC|BUSD)$/.test(asset) ? 2 : 8);
const fPrice = (v, s = sym()) => (v === undefined || v === null || v === "" ? "—" : fmt(v, s.priceDecimals));
const fQty = (v, s = sym()) => (v === undefined || v === null || v === "" ? "—" : fmt(v, s.qtyDecimals));
const fMoney = (v, asset) => (v === undefined || v === null || v === "" ? "—" : fmt(v, moneyPlaces(asset)));
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const baseOf = (s) => (s.inverse ? "Cont" : s.name.split("-")[0]);
const signClass = (v) => (Number(v) > 0 ? "up" : Number(v) < 0 ? "down" : "");

// ---- NATS ----
const subj = {
  acct: (rest) => `${S.cfg.prefix}.acct.${S.account}.${rest}`,
  // Reads under the account when there is one (how traders must ask them
  // with users), else the public subjects (the open demo before login).
  md: (symbol, rest) => (S.account ? subj.acct(`md.${symbol}.${rest}`) : `${S.cfg.prefix}.md.${symbol}.${rest}`),
  fund: (rest) => (S.account ? subj.acct(`fund.${rest}`) : `${S.cfg.prefix}.fund.${rest}`),
  stream: (rest) => `${S.cfg.prefix}.${rest}`,
};

async function call(subject, body = {}, timeout = 5000) {
  const m = await S.nc.request(subject, enc.encode(JSON.stringify(body)), { timeout });
  const r = JSON.parse(dec.decode(m.data));
  if (!r.ok) throw new ApiError(r.error);
  return r;
}

function sub(list, subject, fn) {
  const s = S.nc.subscribe(subject, {
    callback: (err, m) => {
      if (err) return;
      let v;
      try {
        v = JSON.parse(dec.decode(m.data));
      } catch {
        return;
      }
      fn(v, m.subject);
    },
  });
  list.push(s);
  return s;
}

function unsubAll(list) {
  for (const s of list.splice(0)) s.unsubscribe();
}

function wsURL() {
  const u = new URL(S.cfg.websocket);
  // An unspecified listen host means "any of this machine's": use the page's.
  if (u.hostname === "0.0.0.0" || u.hostname === "[::]") u.hostname = location.hostname;
  return u.toString().replace(/\/$/, "");
}

async function openConnection(user, pass) {
  const opts = { servers: wsURL(), name: "perpx-web", maxReconnectAttempts: -1, reconnectTimeWait: 1000 };
  if (user) Object.assign(opts, { user, pass, inboxPrefix: `_INBOX.${user}` });
  const nc = await connect(opts);
  S.nc = nc;
  setConn("on", "connected");
  (async () => {
    for await (const st of nc.status()) {
      if (st.type === "disconnect") setConn("off", "disconnected");
      if (st.type === "reconnecting") setConn("off", "reconnecting");
      if (st.type === "reconnect") {
        setConn("on", "connected");
        resyncAll();
      }
    }
  })();
  nc.closed().then(() => setConn("off", "closed"));
  return nc;
}

function setConn(cls, label) {
  const el = $("conn");
  el.className = "conn " + cls;
  setText(el, label);
}

// ---- frame scheduling: every panel renders at most once per frame ----
const dirty = new Set();
let framePending = false;
function invalidate(what) {
  dirty.add(what);
  if (!framePending) {
    framePending = true;
    requestAnimationFrame(frame);
  }
}
function frame() {
  framePending = false;
  const d = new Set(dirty);
  dirty.clear();
  if (d.has("book")) {
    renderBook();
    perf.bookRenders++;
  }
  if (d.has("tape")) renderTape();
  // The preview follows the book too, but a few times a second is enough.
  const now = performance.now();
  if (d.has("preview") || (d.has("book") && now - lastPreview > 250)) {
    lastPreview = now;
    renderPreview();
  }
}
let lastPreview = 0;

// ---- symbol and market data ----
function symbolChanged() {
  S.symbol = $("symbol").value;
  localStorage.setItem("perpx.symbol", S.symbol);
  for (const id of ["o-price", "o-qty", "o-trigger", "o-activation"]) $(id).value = "";
  clearOrderErrors();
  setupGroups();
  setupOrderUnits();
  startMarket();
  renderAccount();
  renderFund();
  scheduleState(0); // the symbol's settings as they are now (a bot may have changed them)
}

function startMarket() {
  unsubAll(S.symSubs);
  const name = S.symbol;
  S.trades = [];
  S.ticker = null;
  setText("st-last", "—");
  renderTicker();
  invalidate("tape");
  startBook(name);
  sub(S.symSubs, subj.stream(`md.${name}.trades`), (t) => {
    S.trades.unshift(t);
    if (S.trades.length > 100) S.trades.length = 100;
    setText("st-last", fPrice(t.price));
    $("st-last").className = t.taker_side === "buy" ? "up" : "down";
    invalidate("tape");
  });
  sub(S.symSubs, subj.stream(`md.${name}.ticker.1s`), (t) => {
    S.ticker = t;
    seedMark(t);
    renderTicker();
  });
  loadTape(name);
  call(subj.md(name, "ticker"))
    .then((r) => {
      seedMark(r.ticker);
      if (S.symbol === name && !S.ticker) {
        S.ticker = r.ticker;
        renderTicker();
      }
    })
    .catch(() => {});
  startChart();
}

// The book: subscribe to the diffs first, then read a snapshot and apply
// the diffs after its sequence; a gap re-reads the snapshot.
function startBook(name) {
  const book = new Book(S.syms[name]);
  S.book = book;
  let pending = [];
  let syncing = false;
  const resync = async () => {
    if (syncing || S.book !== book) return;
    syncing = true;
    book.seq = null;
    pending = [];
    try {
      const snap = await call(subj.md(name, "depth"), { levels: 500 });
      if (S.book !== book) return;
      book.load(snap);
      const gap = pending.some((u) => !book.apply(u));
      pending = [];
      syncing = false;
      if (gap) setTimeout(resync, 50);
      invalidate("book");
    } catch {
      syncing = false;
      setTimeout(resync, 1000);
    }
  };
  book.resync = resync;
  sub(S.symSubs, subj.stream(`md.${name}.book`), (u) => {
    if (book.seq === null) {
      pending.push(u);
      return;
    }
    if (!book.apply(u)) {
      resync();
      return;
    }
    perf.bookUpdates++;
    invalidate("book");
  });
  S.nc.flush().then(resync);
}

function resyncAll() {
  if (S.book?.resync) S.book.resync();
  startChart();
  loadFund();
  loadTape(S.symbol);
  if (S.account) {
    refreshState();
    loadFills(); // the fill events of the outage are gone: read the kept history
  }
}

// ---- ladder ----
const ladder = { rows: 0, asks: [], bids: [] };

function setupGroups() {
  const s = sym();
  const sel = $("group");
  sel.replaceChildren();
  for (const g of [1, 5, 10, 50, 100, 500, 1000]) sel.append(h("option", { value: g }, unitsToDecimal(BigInt(g), s.tick)));
  S.group = 1;
  sel.value = "1";
}

function buildLadder() {
  const rowH = 19;
  const n = Math.max(3, Math.floor($("asks").clientHeight / rowH));
  if (n === ladder.rows) return;
  ladder.rows = n;
  for (const side of ["asks", "bids"]) {
    const box = $(side);
    box.replaceChildren();
    ladder[side] = [];
    for (let i = 0; i < n; i++) {
      const r = h("div", { class: "lrow empty" }, h("div", { class: "bar" }), h("span"), h("span"), h("span"));
      r.addEventListener("click", () => {
        if (r.dataset.price) {
          $("o-price").value = r.dataset.price;
          invalidate("preview");
        }
      });
      box.append(r);
      ladder[side].push(r);
    }
  }
}

function renderBook() {
  const book = S.book, s = sym();
  if (!book) return;
  buildLadder();
  const n = ladder.rows;
  const asks = book.grouped("asks", S.group, n);
  const bids = book.grouped("bids", S.group, n);
  const cum = (lv) => {
    let t = 0;
    return lv.map(([p, l]) => [p, l, (t += l)]);
  };
  const a = cum(asks), b = cum(bids);
  const maxCum = Math.max(a.length ? a[a.length - 1][2] : 0, b.length ? b[b.length - 1][2] : 0, 1);
  const fill = (rows, levels, reverse) => {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[reverse ? rows.length - 1 - i : i];
      const lv = levels[i];
      const [bar, p, q, t] = r.children;
      if (!lv) {
        r.className = "lrow empty";
        delete r.dataset.price;
        setText(p, "");
        setText(q, "");
        setText(t, "");
        bar.style.width = "0";
        continue;
      }
      const price = unitsToDecimal(BigInt(lv[0]), s.tick);
      r.className = "lrow";
      r.dataset.price = price;
      setText(p, fmt(price, s.priceDecimals));
      setText(q, fmt(unitsToDecimal(BigInt(lv[1]), s.lot), s.qtyDecimals));
      setText(t, fmt(unitsToDecimal(BigInt(lv[2]), s.lot), s.qtyDecimals));
      bar.style.width = ((100 * lv[2]) / maxCum).toFixed(1) + "%";
    }
  };
  fill(ladder.asks, a, true);
  fill(ladder.bids, b, false);
  const ba = book.levels("asks")[0], bb = book.levels("bids")[0];
  if (ba && bb) {
    // The mid is a whole tick, or half of one (shown with one more decimal).
    const sum = ba[0] + bb[0];
    const mid = sum % 2 === 0 ? unitsToDecimal(BigInt(sum / 2), s.tick) : toDecimal(BigInt(sum) * scaled(s.tick, s.priceDecimals) * 5n, s.priceDecimals + 1);
    setText("mid", fmt(mid, sum % 2 === 0 ? s.priceDecimals : s.priceDecimals + 1));
    setText("spread-v", "spread " + unitsToDecimal(BigInt(ba[0] - bb[0]), s.tick));
  } else {
    setText("mid", "—");
    setText("spread-v", book.seq === null ? "syncing…" : ba || bb ? "one side empty" : "book empty");
  }
}

// ---- trades tape ----
const tape = { rows: [] };
function renderTape() {
  const box = $("tape"), s = sym();
  const n = Math.max(3, Math.floor(box.clientHeight / 19));
  if (tape.rows.length !== n) {
    box.replaceChildren();
    tape.rows = [];
    for (let i = 0; i < n; i++) {
      const r = h("div", { class: "trow" }, h("span"), h("span"), h("span"));
      box.append(r);
      tape.rows.push(r);
    }
  }
  tape.rows.forEach((r, i) => {
    const t = S.trades[i];
    const [p, q, tm] = r.children;
    if (!t) {
      setText(p, "");
      setText(q, "");
      setText(tm, "");
      return;
    }
    p.className = t.taker_side === "buy" ? "up" : "down";
    setText(p, fPrice(t.price, s));
    setText(q, fQty(t.qty, s));
    setText(tm, clock(t.time_ms));
  });
}

// ---- ticker, mark, funding ----
function renderTicker() {
  const t = S.ticker, m = S.marks[S.symbol];
  setText("st-mark", m ? fPrice(m.mark) : t ? fPrice(t.mark) : "—");
  setText("st-index", m ? fPrice(m.index) : t ? fPrice(t.index) : "—");
  const rate = m?.funding_rate ?? t?.funding_rate;
  setText("st-funding", rate !== undefined ? fmtPct(rate, 4) : "—");
  if (!t) {
    for (const id of ["st-change", "st-high", "st-low", "st-volume", "st-oi"]) setText(id, "—");
    return;
  }
  if (!S.trades.length && t.last && Number(t.last) > 0) setText("st-last", fPrice(t.last));
  const ch = $("st-change");
  setText(ch, Number(t.trades) ? fmtPct(Number(t.change_pct) / 100, 2) : "—");
  ch.className = signClass(t.change);
  setText("st-high", Number(t.trades) ? fPrice(t.high) : "—");
  setText("st-low", Number(t.trades) ? fPrice(t.low) : "—");
  setText("st-volume", fQty(t.volume) + " " + baseOf(sym()));
  setText("st-oi", fQty(t.open_interest) + " " + baseOf(sym()));
}

// seedMark takes the mark from a ticker when no newer mark update came:
// the mark stream speaks only when the index moves.
function seedMark(t) {
  const m = S.marks[t.symbol];
  if (!t.mark || Number(t.mark) <= 0 || (m && m.time_ms >= t.time_ms)) return;
  S.marks[t.symbol] = { symbol: t.symbol, mark: t.mark, index: t.index, funding_rate: t.funding_rate, next_funding_ms: t.next_funding_ms, time_ms: t.time_ms };
  if (t.symbol === S.symbol) invalidate("preview");
}

function countdown() {
  const m = S.marks[S.symbol], t = S.ticker;
  const next = m?.next_funding_ms || t?.next_funding_ms;
  if (!next) return setText("st-countdown", "");
  let s = Math.max(0, Math.floor((next - Date.now()) / 1000));
  const hh = String(Math.floor(s / 3600)).padStart(2, "0");
  s %= 3600;
  setText("st-countdown", `${hh}:${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`);
}

// ---- chart ----
let chart;
let chartGen = 0;
async function startChart() {
  const name = S.symbol, iv = S.interval, gen = ++chartGen;
  for (const s of S.chartSubs || []) s.unsubscribe();
  S.chartSubs = [];
  try {
    const [last, mark] = await Promise.all([
      call(subj.md(name, "klines"), { interval: iv, limit: 300 }),
      call(subj.md(name, "klines"), { interval: iv, limit: 300, source: "mark" }),
    ]);
    if (gen !== chartGen) return;
    chart.reset(S.syms[name], iv, last.klines, mark.klines);
  } catch (e) {
    setText("chart-legend", sentence(e));
  }
  if (gen !== chartGen) return;
  sub(S.chartSubs, subj.stream(`md.${name}.kline.${iv}`), (k) => chart.kline(k));
}

function setupIntervals() {
  const box = $("intervals");
  for (const iv of Object.keys(INTERVALS)) {
    const b = h("button", { type: "button", "data-iv": iv, class: iv === S.interval ? "on" : "" }, iv);
    b.addEventListener("click", () => {
      S.interval = iv;
      for (const x of box.children) x.classList.toggle("on", x === b);
      startChart();
    });
    box.append(b);
  }
}

// ---- insurance fund and liquidations (every symbol) ----
async function loadFund() {
  try {
    const r = await call(subj.fund("state"), { limit: 100 });
    S.fund.balances = r.balances || {};
    S.fund.history = (r.history || []).slice().sort((a, b) => b.seq - a.seq);
    renderFund();
  } catch (e) {
    setText("e-fund", sentence(e));
  }
}

function renderFund() {
  const asset = sym().settle;
  const bal = S.fund.balances[asset] ?? "0";
  setText("st-fund", fMoney(bal, asset) + " " + asset);
  setText("fund-balance", fMoney(bal, asset) + " " + asset);
  const tb = $("t-fund").tBodies[0];
  tb.replaceChildren(
    ...S.fund.history.slice(0, 100).map((e) =>
      h("tr", {}, h("td", {}, clock(e.time_ms)), h("td", {}, e.reason.replace(/_/g, " ")),
        h("td", { class: signClass(e.delta) }, (Number(e.delta) > 0 ? "+" : "") + fMoney(e.delta, e.asset)),
        h("td", {}, fMoney(e.balance, e.asset)), h("td", {}, e.symbol || ""), h("td", {}, e.account || "")),
    ),
  );
  $("e-fund").hidden = S.fund.history.length > 0;
}

function renderLiqs() {
  const tb = $("t-liqs").tBodies[0];
  tb.replaceChildren(
    ...S.liqs.slice(0, 100).map((l) => {
      const s = S.syms[l.symbol] || sym();
      if (l.adl)
        return h("tr", {}, h("td", {}, clock(l.time_ms)), h("td", { class: "sym" }, l.symbol), h("td", {}, "—"),
          h("td", {}, fQty(l.qty, s)), h("td", {}, "—"), h("td", {}, "—"), h("td", {}, fPrice(l.price, s)), h("td", {}, "ADL close"));
      return h("tr", { class: "flash" }, h("td", {}, clock(l.time_ms)), h("td", { class: "sym" }, l.symbol),
        h("td", { class: l.side === "long" ? "up" : "down" }, l.side), h("td", {}, fQty(l.qty, s)), h("td", {}, fPrice(l.mark_price, s)),
        h("td", {}, fPrice(l.liquidation_price, s)), h("td", {}, fPrice(l.bankruptcy_price, s)), h("td", {}, l.kind));
    }),
  );
  $("e-liqs").hidden = S.liqs.length > 0;
  setText("n-liqs", S.liqs.length ? String(S.liqs.length) : "");
}

// loadTape merges the symbol's recent trades into the tape (newest first,
// by seq): at start and after a reconnect, whose trades no stream brought.
function loadTape(name) {
  call(subj.md(name, "recent_trades"), { limit: 60 })
    .then((r) => {
      if (S.symbol !== name) return;
      const seen = new Set(S.trades.map((t) => t.seq));
      S.trades = S.trades.concat(r.trades.filter((t) => !seen.has(t.seq))).sort((a, b) => b.seq - a.seq).slice(0, 100);
      if (S.trades[0]) setText("st-last", fPrice(S.trades[0].price));
      invalidate("tape");
    })
    .catch(() => {});
}

// Lists fed by streams keep their newest entries only: a page left open
// for days must not grow.
const KEEP = 200;
function keepNewest(list) {
  if (list.length > KEEP) list.length = KEEP;
}

function startGlobalStreams() {
  const list = [];
  sub(list, subj.stream("md.*.mark"), (m) => {
    S.marks[m.symbol] = m;
    if (m.symbol === S.symbol) {
      renderTicker();
      chart.markAt(m.time_ms, m.mark);
      invalidate("preview");
    }
  });
  sub(list, subj.stream("md.*.liquidations"), (l) => {
    S.liqs.unshift(l);
    keepNewest(S.liqs);
    renderLiqs();
  });
  sub(list, subj.stream("adl.*.events"), (a) => {
    S.liqs.unshift({ ...a, adl: true });
    keepNewest(S.liqs);
    renderLiqs();
  });
  sub(list, subj.stream("fund.events"), (e) => {
    S.fund.balances[e.asset] = e.balance;
    if (!S.fund.history.some((x) => x.seq === e.seq)) S.fund.history.unshift(e);
    keepNewest(S.fund.history);
    renderFund();
  });
}

// ---- account ----
async function useAccount(name) {
  unsubAll(S.acctSubs);
  S.account = name;
  S.state = null;
  S.fills = [];
  S.fillKeys.clear();
  S.history = [];
  renderHistory();
  S.levs = JSON.parse(localStorage.getItem("perpx.levs." + name) || "{}");
  S.modes = JSON.parse(localStorage.getItem("perpx.modes." + name) || "{}");
  setText("who", name);
  setText("acct-name", name);
  $("logout").hidden = false;
  $("trade-as").hidden = true;
  $("acct-summary").hidden = false;
  $("faucet-row").hidden = S.cfg.auth;
  sub(S.acctSubs, subj.acct("events"), onAccountEvent);
  await S.nc.flush();
  await refreshState();
  loadFills();
  loadFund();
  syncOrderSettings();
  renderFills();
}

function leaveAccount() {
  unsubAll(S.acctSubs);
  S.account = null;
  S.state = null;
  S.history = [];
  S.fills = [];
  S.fillKeys.clear();
  renderHistory();
  renderFills();
  setText("who", "");
  setText("acct-name", "");
  $("logout").hidden = true;
  $("acct-summary").hidden = true;
  $("faucet-row").hidden = true;
  renderAccount();
  if (S.cfg.auth) {
    S.nc.close();
    $("login").hidden = false;
  } else {
    $("trade-as").hidden = false;
  }
}

let stateTimer = null, stateBusy = false, stateAgain = false;
function scheduleState(ms = 40) {
  if (stateTimer) return;
  stateTimer = setTimeout(() => {
    stateTimer = null;
    refreshState();
  }, ms);
}

async function refreshState() {
  if (!S.account) return;
  if (stateBusy) {
    stateAgain = true;
    return;
  }
  stateBusy = true;
  const who = S.account;
  try {
    const r = await call(subj.acct("state"));
    if (who === S.account) {
      S.state = r.account;
      renderAccount();
      if (historyShown()) loadHistory();
    }
  } catch (e) {
    setText("a-balance", sentence(e));
  } finally {
    stateBusy = false;
    if (stateAgain) {
      stateAgain = false;
      scheduleState(0);
    }
  }
}

function onAccountEvent(ev) {
  switch (ev.type) {
    case "fill":
      addFill({ ...ev.fill, time_ms: ev.fill.time_ms ?? ev.time_ms }, true);
      break;
    case "liquidation":
      toast(`Your ${ev.liquidation.symbol} ${ev.liquidation.side} of ${ev.liquidation.qty} was liquidated at mark ${ev.liquidation.mark_price}.`, "bad");
      break;
    case "order":
      // A fired stop refused (margin, liquidation, reduce-only): say why,
      // or it just leaves the open orders.
      if (ev.error) toast(`Your ${ev.order.symbol} ${ev.order.type} order was rejected: ${sentence(ev.error)}`, "bad");
      break;
    case "adl":
      if (ev.adl.counterparty !== S.account) break; // the bankrupt side: its liquidation event said it
      if (Number(ev.adl.qty) === 0) {
        toast(`A socialized loss on ${ev.adl.symbol} was charged to your profit (bankrupt account ${ev.adl.bankrupt_account || "—"}).`, "bad");
      } else {
        toast(`Auto-deleveraging closed ${ev.adl.qty} of your ${ev.adl.symbol} position at ${ev.adl.price}.`, "bad");
      }
      break;
    case "error":
      showBanner("Your account stopped on an exchange error: " + sentence(ev.error));
      break;
  }
  scheduleState();
}

// FILLS SOURCE. loadFills asks px.acct.<acct>.fills for the kept history
// (API.md); until an exchange answers that request, the panel holds only
// the `fill` events seen since the page logged in, which onAccountEvent
// adds either way (the key drops a fill both sources report).
async function loadFills() {
  const who = S.account;
  try {
    const r = await call(subj.acct("fills"), { limit: 200 }, 3000);
    if (who !== S.account) return;
    for (const f of r.fills || []) addFill(f, false);
    S.fillsFromHistory = true;
  } catch {
    S.fillsFromHistory = false;
  }
  renderFills();
}

function addFill(f, fresh) {
  const key = `${f.order_id}:${f.trade_seq}:${f.liquidity}`;
  if (S.fillKeys.has(key)) return;
  S.fillKeys.add(key);
  f.fresh = fresh;
  S.fills.push(f);
  S.fills.sort((a, b) => (b.time_ms || 0) - (a.time_ms || 0) || b.trade_seq - a.trade_seq);
  if (S.fills.length > 500) {
    S.fills.length = 500;
    S.fillKeys = new Set(S.fills.map((x) => `${x.order_id}:${x.trade_seq}:${x.liquidity}`));
  }
  renderFills();
}

function renderFills() {
  const tb = $("t-fills").tBodies[0];
  tb.replaceChildren(
    ...S.fills.slice(0, 200).map((f) => {
      const s = S.syms[f.symbol] || sym();
      const asset = s.settle;
      return h("tr", { class: f.fresh ? "flash" : "" }, h("td", {}, f.time_ms ? clock(f.time_ms) : ""), h("td", { class: "sym" }, f.symbol),
        h("td", { class: f.side === "buy" ? "up" : "down" }, f.side), h("td", {}, fPrice(f.price, s)), h("td", {}, fQty(f.qty, s)),
        h("td", {}, fMoney(f.fee, asset)), h("td", { class: signClass(f.realized_pnl) }, fMoney(f.realized_pnl, asset)),
        h("td", {}, f.liquidity));
    }),
  );
  for (const f of S.fills) f.fresh = false;
  $("e-fills").hidden = S.fills.length > 0;
  setText("e-fills", S.fillsFromHistory || !S.account ? "No fills yet." : "No fills since this page logged in.");
}

// wallet is the account's wallet the current symbol trades from: on an
// exchange settling in several assets `state` lists each in `wallets`.
function wallet(a) {
  const asset = sym().settle;
  const w = a?.wallets?.[asset];
  return { asset, balance: w?.balance ?? a?.balances?.[asset] ?? "0", equity: w?.equity ?? a?.equity, available: w?.available ?? a?.available };
}

function renderAccount() {
  const a = S.state;
  const w = wallet(a);
  setText("a-balance", a ? fMoney(w.balance, w.asset) : "—");
  setText("a-equity", a ? fMoney(w.equity, w.asset) : "—");
  setText("a-available", a ? fMoney(w.available, w.asset) : "—");
  renderPositions();
  renderOrders();
  invalidate("preview");
  const lev = a?.positions?.find((p) => p.symbol === S.symbol)?.leverage ?? setting(S.symbol)?.leverage;
  if (lev && document.activeElement !== $("o-lev")) {
    S.levs[S.symbol] = Number(lev);
    $("o-lev").value = lev;
  }
}

// labelCells names each cell after its column, so narrow screens can show
// a row as a card (style.css).
function labelCells(table) {
  const names = [...table.tHead.rows[0].cells].map((c) => c.textContent.trim());
  for (const r of table.tBodies[0].rows) [...r.cells].forEach((c, i) => names[i] && c.setAttribute("data-label", names[i]));
}

// Errors of a row's buttons (a cancel, a close), kept across the
// re-renders of the table for a while so they stay next to their row.
const rowErrors = new Map(); // key → {msg, until}
function rowError(key, msg) {
  if (msg) rowErrors.set(key, { msg, until: Date.now() + 10000 });
  else rowErrors.delete(key);
}
function rowErrorSpan(key) {
  const e = rowErrors.get(key);
  if (e && e.until < Date.now()) rowErrors.delete(key);
  return h("span", { class: "err", role: "alert" }, e && e.until >= Date.now() ? e.msg : "");
}

function renderPositions() {
  const list = S.state?.positions || [];
  const tb = $("t-positions").tBodies[0];
  tb.replaceChildren(
    ...list.map((p) => {
      const s = S.syms[p.symbol];
      const asset = s.settle;
      const roe = Number(p.margin) > 0 ? (100 * Number(p.unrealized_pnl)) / Number(p.margin) : 0;
      const err = rowErrorSpan("pos:" + p.symbol);
      const close = h("button", { class: "link", type: "button" }, "Close");
      close.addEventListener("click", () => closePosition(p, close, err));
      const lights = h("span", { class: `adl r${p.adl_rank}`, title: `ADL rank ${p.adl_rank} of 5`, "data-field": "adl", "data-rank": p.adl_rank },
        h("i"), h("i"), h("i"), h("i"), h("i"));
      return h("tr", { "data-symbol": p.symbol },
        h("td", { class: "sym" }, p.symbol, h("span", { class: "sub muted" }, p.leverage + "×" + (p.margin_mode ? " " + p.margin_mode : ""))),
        h("td", { class: p.side === "long" ? "up" : "down", "data-field": "size" }, (p.side === "short" ? "-" : "") + fQty(p.qty, s)),
        h("td", {}, fPrice(p.entry_price, s)), h("td", {}, fPrice(p.mark_price, s)),
        h("td", { "data-field": "liq", class: "liq" }, Number(p.liquidation_price) > 0 ? fPrice(p.liquidation_price, s) : "—"),
        h("td", { "data-field": "bankruptcy" }, fPrice(p.bankruptcy_price, s)),
        h("td", {}, fMoney(p.margin, asset)),
        h("td", { class: signClass(p.unrealized_pnl) }, fMoney(p.unrealized_pnl, asset), " ", h("span", { class: "muted" }, `(${roe.toFixed(2)}%)`)),
        h("td", {}, lights), h("td", {}, close, err));
    }),
  );
  labelCells($("t-positions"));
  $("e-positions").hidden = list.length > 0;
  setText("n-positions", list.length ? String(list.length) : "");
}

function renderOrders() {
  const list = (S.state?.open_orders || []).slice().sort((a, b) => b.created_ms - a.created_ms);
  const tb = $("t-orders").tBodies[0];
  tb.replaceChildren(
    ...list.map((o) => {
      const s = S.syms[o.symbol];
      const err = rowErrorSpan("ord:" + o.order_id);
      const cancel = h("button", { class: "link", type: "button" }, "Cancel");
      cancel.addEventListener("click", () => cancelOrder(o, cancel, err));
      const flags = [o.tif, o.post_only ? "post-only" : "", o.reduce_only ? "reduce-only" : ""].filter(Boolean).join(" ");
      return h("tr", { "data-order": o.order_id },
        h("td", {}, clock(o.created_ms)), h("td", { class: "sym" }, o.symbol),
        h("td", { title: flags }, o.type.replace(/_/g, " ")), h("td", { class: o.side === "buy" ? "up" : "down" }, o.side),
        h("td", {}, Number(o.price) > 0 ? fPrice(o.price, s) : "market"),
        h("td", {}, o.trigger_price ? `${fPrice(o.trigger_price, s)} ${o.trigger_by || ""}` : o.callback_rate ? `${o.callback_rate}% trail` : "—"),
        h("td", {}, o.close_position ? "position" : fQty(o.qty, s)), h("td", {}, fQty(o.filled_qty, s)),
        h("td", {}, o.status.replace(/_/g, " ")), h("td", {}, cancel, err));
    }),
  );
  labelCells($("t-orders"));
  $("e-orders").hidden = list.length > 0;
  $("cancel-all").disabled = list.length === 0;
  setText("n-orders", list.length ? String(list.length) : "");
}

// ORDER HISTORY: the account's closed orders (px.acct.<acct>.orders, the
// kept history, API.md), loaded while its tab shows and again whenever
// state changes there (an order may have closed).
const OPEN = new Set(["new", "partially_filled", "untriggered", "triggered"]);

function historyShown() {
  return $("tab-history").classList.contains("on");
}

async function loadHistory() {
  const who = S.account;
  if (!who) return;
  try {
    const r = await call(subj.acct("orders"), { limit: 200 }, 3000);
    if (who !== S.account) return;
    S.history = (r.orders || []).filter((o) => !OPEN.has(o.status)).sort((a, b) => b.updated_ms - a.updated_ms || Number(b.order_id) - Number(a.order_id));
    setText("err-history", "");
  } catch (e) {
    setText("err-history", sentence(e));
  }
  renderHistory();
}

function renderHistory() {
  const list = S.history || [];
  $("t-history").tBodies[0].replaceChildren(
    ...list.map((o) => {
      const s = S.syms[o.symbol] || sym();
      return h("tr", { "data-order": o.order_id },
        h("td", {}, clock(o.updated_ms || o.created_ms)), h("td", { class: "sym" }, o.symbol),
        h("td", {}, o.type.replace(/_/g, " ")), h("td", { class: o.side === "buy" ? "up" : "down" }, o.side),
        h("td", {}, Number(o.price) > 0 ? fPrice(o.price, s) : "market"), h("td", {}, fQty(o.qty, s)),
        h("td", {}, fQty(o.filled_qty, s)), h("td", {}, Number(o.avg_price) > 0 ? fPrice(o.avg_price, s) : "—"),
        h("td", {}, o.status.replace(/_/g, " ")));
    }),
  );
  labelCells($("t-history"));
  $("e-history").hidden = list.length > 0;
}

async function cancelOrder(o, btn, err) {
  const key = "ord:" + o.order_id;
  btn.disabled = true;
  rowError(key, "");
  setText(err, "");
  try {
    await call(subj.acct("order.cancel"), { symbol: o.symbol, order_id: o.order_id });
  } catch (e) {
    rowError(key, sentence(e));
    setText(err, sentence(e));
    btn.disabled = false;
  }
  scheduleState(0);
}

async function closePosition(p, btn, err) {
  const key = "pos:" + p.symbol;
  let msg = "";
  btn.disabled = true;
  setText(err, "");
  try {
    const side = p.side === "long" ? "sell" : "buy";
    const close = { symbol: p.symbol, side, type: "market", qty: p.qty, reduce_only: true };
    // Reduce-only orders resting on the closing side would leave no room for
    // the close (REDUCE_ONLY_REJECTED); with the position gone the exchange
    // cancels them anyway: cancel them first. Their cancels' replies come
    // once the book let them go, so the close is sent after those (in one
    // batch with them it would still find them held).
    const ro = (S.state?.open_orders || []).filter((o) => o.symbol === p.symbol && o.side === side && o.reduce_only && o.status !== "untriggered");
    if (ro.length > 0) {
      await call(subj.acct("order.batch"), { orders: ro.slice(0, 20).map((o) => ({ cancel: { symbol: p.symbol, order_id: o.order_id } })) });
    }
    const r = await call(subj.acct("order.place"), close);
    if (r.order.status === "expired" && Number(r.order.filled_qty) === 0) msg = "Nothing filled: the book has no liquidity within the price band.";
  } catch (e) {
    msg = sentence(e);
  }
  rowError(key, msg);
  setText(err, msg);
  btn.disabled = false;
  scheduleState(0);
}

// ---- order entry ----
const FIELD_OF = {
  INVALID_PRICE: "err-price", WOULD_TRIGGER_IMMEDIATELY: "err-trigger", INVALID_QTY: "err-qty", MIN_NOTIONAL: "err-qty",
  LEVERAGE_TOO_HIGH: "err-lev", REDUCE_ONLY_REJECTED: "err-flags", POST_ONLY_WOULD_TAKE: "err-flags", FOK_NOT_FILLED: "err-flags",
};
const ERR_IDS = ["err-price", "err-trigger", "err-callback", "err-qty", "err-flags", "err-submit"];

function isMarketType(t) {
  return t === "market" || t.endsWith("_market");
}

// faucet is what the open demo's deposit button gives: 10 000 of a
// stablecoin, 1 of anything else (an inverse symbol's coin).
function faucet() {
  const asset = sym().settle;
  return { asset, amount: moneyPlaces(asset) === 2 ? "10000" : "1" };
}

function setupOrderUnits() {
  const s = sym();
  const f = faucet();
  setText("faucet", `Get ${fmt(f.amount, 0)} demo ${f.asset}`);
  setText("u-price", s.quote);
  setText("u-qty", baseOf(s));
  $("o-price").placeholder = s.tick;
  $("o-qty").placeholder = s.lot;
  syncOrderSettings();
}

// setting is the account's margin mode and leverage in a symbol, from
// `state` (with or without a position).
function setting(name) {
  return S.state?.settings?.find((x) => x.symbol === name);
}

// syncOrderSettings shows the leverage and margin mode the account has in
// the symbol (`state`'s settings; before the first state, what this page
// set, else the exchange's start values).
function syncOrderSettings() {
  const s = sym();
  if (!s) return;
  const pos = S.state?.positions?.find((p) => p.symbol === s.name);
  const st = setting(s.name);
  $("o-lev").value = pos ? pos.leverage : st?.leverage || S.levs[s.name] || s.defaultLev;
  $("o-lev").max = s.maxLev;
  $("o-mode").value = pos?.margin_mode || st?.margin_mode || S.modes[s.name] || S.cfg.margin_mode;
  setText("err-lev", "");
  setText("err-mode", "");
  invalidate("preview");
}

function orderType() {
  return $("o-type").value;
}

function layoutOrderForm() {
  const t = orderType();
  const cond = t !== "limit" && t !== "market";
  const market = isMarketType(t);
  const show = (sel, on) => document.querySelectorAll(sel).forEach((e) => (e.hidden = !on));
  show(".f-trigger", cond && t !== "trailing_stop_market");
  show(".f-trailing", t === "trailing_stop_market");
  show(".f-price", !market);
  show(".f-close", t === "stop_market" || t === "take_profit_market");
  const tif = $("o-tif");
  const opts = market ? ["IOC", "FOK"] : ["GTC", "IOC", "FOK"];
  if ([...tif.options].map((o) => o.value).join() !== opts.join()) {
    tif.replaceChildren(...opts.map((o) => h("option", {}, o)));
  }
  const postOK = !market && tif.value === "GTC";
  show(".f-post", postOK);
  if (!postOK) $("o-post").checked = false;
  if (t !== "stop_market" && t !== "take_profit_market") $("o-close").checked = false;
  $("o-qty").disabled = $("o-close").checked;
  $("o-reduce").disabled = $("o-close").checked;
  invalidate("preview");
}

function setSide(side) {
  S.side = side;
  $("side-buy").classList.toggle("on", side === "buy");
  $("side-sell").classList.toggle("on", side === "sell");
  const b = $("submit");
  b.className = "btn submit " + side;
  b.textContent = side === "buy" ? "Buy / Long" : "Sell / Short";
  invalidate("preview");
}

function formOrder() {
  return {
    side: S.side, type: orderType(), price: $("o-price").value.trim(), qty: $("o-qty").value.trim(),
    trigger: $("o-trigger").value.trim() || (orderType() === "trailing_stop_market" ? $("o-activation").value.trim() : ""),
    tif: $("o-tif").value, postOnly: $("o-post").checked, reduceOnly: $("o-reduce").checked, closePosition: $("o-close").checked,
  };
}

function renderPreview() {
  const s = sym();
  if (!s || !S.book) return;
  const m = S.marks[s.name];
  const mark = m ? unitsOf(m.mark, s.tick) : null;
  const o = formOrder();
  const p = preview(s, o, {
    book: { bids: S.book.bigLevels("bids"), asks: S.book.bigLevels("asks") },
    mark, account: S.state, leverage: Number($("o-lev").value) || S.levs[s.name] || s.defaultLev,
    isolated: $("o-mode").value === "isolated", symbols: S.syms,
    isolatedOf: (name) => (setting(name)?.margin_mode || S.modes[name] || S.cfg.margin_mode) === "isolated", // no position
  });
  const asset = s.settle;
  setText("pv-cost", p.cost === null ? "—" : `${fmt(toDecimal(p.cost, 8), moneyPlaces(asset))} ${asset}`);
  setText("pv-fee", p.cost === null ? "—" : `${fmt(toDecimal(p.fee, 8), moneyPlaces(asset))} ${asset}`);
  const liq = $("pv-liq");
  if (p.liq === undefined) setText(liq, S.account ? "—" : "log in to see");
  else if (p.liq === null) setText(liq, "none");
  else setText(liq, fPrice(unitsToDecimal(p.liq, s.tick), s));
  liq.dataset.raw = p.liq ? unitsToDecimal(p.liq, s.tick) : "";
  let note = p.note;
  const armed = o.type !== "limit" && o.type !== "market"; // untriggered: reserves nothing until it fires
  if (!note && !armed && S.state && p.cost !== null && p.cost > 0n && Number(toDecimal(p.cost, 8)) > Number(wallet(S.state).available)) {
    note = "The cost is more than your available margin: the exchange will refuse it.";
  }
  setText("pv-note", note);
}

function clearOrderErrors() {
  for (const id of ERR_IDS) setText(id, "");
  setText("ok-submit", "");
}

async function submitOrder(ev) {
  ev.preventDefault();
  clearOrderErrors();
  if (!S.account) {
    setText("err-submit", S.cfg.auth ? "Log in first." : "Choose an account name above first.");
    return;
  }
  const s = sym(), o = formOrder(), t = o.type;
  const body = { symbol: s.name, side: o.side, type: t };
  const cond = t !== "limit" && t !== "market";
  if (!o.closePosition) {
    if (!o.qty) return setText("err-qty", "Enter a size.");
    body.qty = o.qty;
  } else body.close_position = true;
  if (!isMarketType(t)) {
    if (!o.price) return setText("err-price", "Enter a price.");
    body.price = o.price;
  }
  if (cond && t !== "trailing_stop_market") {
    if (!$("o-trigger").value.trim()) return setText("err-trigger", "Enter a trigger price.");
    body.trigger_price = $("o-trigger").value.trim();
    body.trigger_by = $("o-trigger-by").value;
  }
  if (t === "trailing_stop_market") {
    body.callback_rate = $("o-callback").value.trim();
    if ($("o-activation").value.trim()) body.activation_price = $("o-activation").value.trim();
    body.trigger_by = $("o-trigger-by").value;
  }
  const tifDefault = isMarketType(t) ? "IOC" : "GTC";
  if (o.tif !== tifDefault) body.tif = o.tif;
  if (o.postOnly) body.post_only = true;
  if (o.reduceOnly && !o.closePosition) body.reduce_only = true;
  const btn = $("submit");
  btn.disabled = true;
  try {
    const r = await call(subj.acct("order.place"), body);
    setText("ok-submit", describe(r.order, s));
    if (r.order.status === "expired" && Number(r.order.filled_qty) === 0) {
      setText("ok-submit", "");
      setText("err-submit", "Nothing filled: the book had no liquidity at your price within the band, so the order expired.");
    }
  } catch (e) {
    setText((e.api && FIELD_OF[e.code]) || "err-submit", sentence(e));
  } finally {
    btn.disabled = false;
  }
  scheduleState(0);
}

function describe(o, s) {
  const what = `${o.side === "buy" ? "Bought" : "Sold"} ${fQty(o.filled_qty, s)} at ${fPrice(o.avg_price, s)}`;
  switch (o.status) {
    case "filled":
      return `${what}: filled.`;
    case "partially_filled":
      return `${what}; the rest rests at ${fPrice(o.price, s)}.`;
    case "new":
      return `Order placed: ${o.side} ${fQty(o.qty, s)} at ${fPrice(o.price, s)}.`;
    case "untriggered":
      return `Waiting for the trigger${o.trigger_price ? " at " + fPrice(o.trigger_price, s) : ""}.`;
    case "expired":
      return `${what}; the rest expired.`;
    default:
      return `Order ${o.status.replace(/_/g, " ")}.`;
  }
}

async function setLeverage() {
  const s = sym(), v = $("o-lev").value.trim();
  setText("err-lev", "");
  if (!S.account) return invalidate("preview");
  if (!/^\d+$/.test(v) || Number(v) < 1) return setText("err-lev", `Leverage is a whole number from 1 to ${s.maxLev}.`);
  try {
    const r = await call(subj.acct("leverage"), { symbol: s.name, leverage: v });
    S.levs[s.name] = Number(r.leverage);
    localStorage.setItem("perpx.levs." + S.account, JSON.stringify(S.levs));
  } catch (e) {
    setText("err-lev", sentence(e));
    $("o-lev").value = S.levs[s.name] || s.defaultLev;
  }
  invalidate("preview");
  scheduleState(0);
}

async function setMode() {
  const s = sym(), mode = $("o-mode").value;
  setText("err-mode", "");
  if (!S.account) return invalidate("preview");
  try {
    await call(subj.acct("margin_mode"), { symbol: s.name, mode });
    S.modes[s.name] = mode;
    localStorage.setItem("perpx.modes." + S.account, JSON.stringify(S.modes));
  } catch (e) {
    setText("err-mode", sentence(e));
    const pos = S.state?.positions?.find((p) => p.symbol === s.name);
    $("o-mode").value = pos?.margin_mode || setting(s.name)?.margin_mode || S.modes[s.name] || S.cfg.margin_mode;
  }
  invalidate("preview");
  scheduleState(0);
}

// ---- banner and toasts ----
function showBanner(msg) {
  const b = $("banner");
  b.textContent = msg;
  b.hidden = !msg;
}

function toast(msg, kind = "") {
  let box = $("toasts");
  if (!box) {
    box = h("div", { id: "toasts", class: "toasts" });
    document.body.append(box);
  }
  const t = h("div", { class: "toast " + kind, role: "status" }, msg);
  box.append(t);
  setTimeout(() => t.remove(), 8000);
}

// ---- boot ----
function bindUI() {
  $("symbol").addEventListener("change", symbolChanged);
  $("group").addEventListener("change", () => {
    S.group = Number($("group").value);
    invalidate("book");
  });
  $("side-buy").addEventListener("click", () => setSide("buy"));
  $("side-sell").addEventListener("click", () => setSide("sell"));
  $("o-type").addEventListener("change", layoutOrderForm);
  $("o-tif").addEventListener("change", layoutOrderForm);
  $("o-close").addEventListener("change", layoutOrderForm);
  $("order").addEventListener("input", () => {
    clearOrderErrors();
    invalidate("preview");
  });
  $("order").addEventListener("submit", submitOrder);
  $("o-lev").addEventListener("change", setLeverage);
  $("o-mode").addEventListener("change", setMode);
  $("logout").addEventListener("click", leaveAccount);
  $("cancel-all").addEventListener("click", async () => {
    setText("err-orders", "");
    try {
      await call(subj.acct("order.cancel_all"), {});
    } catch (e) {
      setText("err-orders", sentence(e));
    }
    scheduleState(0);
  });
  $("faucet").addEventListener("click", async () => {
    const { asset, amount } = faucet();
    setText("faucet-msg", "");
    try {
      await call(`${S.cfg.prefix}.admin.deposit`, { account: S.account, asset, amount });
      setText("faucet-msg", `${fmt(amount, 0)} ${asset} added.`);
      setTimeout(() => setText("faucet-msg", ""), 4000);
    } catch (e) {
      setText("faucet-msg", sentence(e));
    }
    scheduleState(0);
  });
  for (const b of document.querySelectorAll(".tabs button")) {
    b.addEventListener("click", () => {
      for (const x of document.querySelectorAll(".tabs button")) x.classList.toggle("on", x === b);
      for (const p of document.querySelectorAll(".pane")) p.classList.toggle("on", p.id === "tab-" + b.dataset.tab);
      if (b.dataset.tab === "history") loadHistory();
    });
  }
  $("trade-as").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("acct-input").value.trim();
    setText("trade-as-err", "");
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) return setText("trade-as-err", "An account name is 1 to 64 letters, digits, '-' or '_'.");
    localStorage.setItem("perpx.account", name);
    await useAccount(name);
  });
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    setText("l-err", "");
    const user = $("l-user").value.trim(), pass = $("l-pass").value;
    const acct = $("l-acct").value.trim() || user;
    try {
      await openConnection(user, pass);
    } catch (e) {
      setText("l-err", /authorization/i.test(e?.message || "") ? "The user or password is wrong." : "Cannot reach the exchange: " + sentence(e));
      return;
    }
    S.user = user;
    $("login").hidden = true;
    await useAccount(acct); // first: a trader asks the market reads under its account
    startAll();
  });
  let resizeTimer;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      invalidate("book");
      invalidate("tape");
    }, 100);
  });
}

// The account's state is read again every second: marks move its PnL,
// margins and liquidation prices, and `state` is what says so.
let poller = null;
function startAll() {
  startGlobalStreams();
  startMarket();
  loadFund();
  poller ??= setInterval(() => {
    if (S.account && S.nc && !S.nc.isClosed()) refreshState();
  }, 1000);
}

async function boot() {
  bindUI();
  try {
    S.cfg = await (await fetch("config.json", { cache: "no-store" })).json();
  } catch (e) {
    showBanner("Cannot load the page's config from the exchange: " + sentence(e));
    return;
  }
  for (const s of S.cfg.symbols) S.syms[s.symbol] = compileSymbol(s);
  const sel = $("symbol");
  for (const s of S.cfg.symbols) sel.append(h("option", { value: s.symbol }, s.symbol));
  const saved = localStorage.getItem("perpx.symbol");
  sel.value = S.syms[saved] ? saved : S.cfg.symbols[0].symbol;
  S.symbol = sel.value;
  setupGroups();
  setupIntervals();
  setupOrderUnits();
  layoutOrderForm();
  chart = new PriceChart($("chart"), $("chart-legend"));
  setInterval(countdown, 1000);
  if (!S.cfg.websocket) {
    setConn("off", "no WebSocket");
    showBanner("This exchange has no NATS WebSocket listener, so the page cannot connect: start it with --nats-ws (the default 127.0.0.1:9222), or with --nats-url give the NATS server's websocket listener as --web-ws.");
    return;
  }
  if (S.cfg.auth) {
    setConn("off", "logged out");
    $("login").hidden = false;
    $("l-user").focus();
    return;
  }
  try {
    await openConnection();
  } catch (e) {
    setConn("off", "disconnected");
    showBanner(`Cannot reach the exchange's WebSocket at ${wsURL()}: ${sentence(e)}`);
    return;
  }
  startAll();
  const saved2 = localStorage.getItem("perpx.account");
  if (saved2) await useAccount(saved2);
  else {
    $("trade-as").hidden = false;
  }
}

boot();
