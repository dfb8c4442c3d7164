// The candle chart: last-price candles with their volume and the mark as a
// line, drawn by TradingView's Lightweight Charts (its logo links to
// tradingview.com, as its license asks; the page footer has the notice).
import { createChart, CandlestickSeries, HistogramSeries, LineSeries, CrosshairMode } from "../vendor/lightweight-charts.mjs";

const GREEN = "#11c383", RED = "#f0475d";

export const INTERVALS = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400 };

export class PriceChart {
  constructor(el, legend) {
    this.legend = legend;
    this.chart = createChart(el, {
      autoSize: true,
      layout: { background: { color: "#14181f" }, textColor: "#8a93a1", fontSize: 11, attributionLogo: true },
      grid: { vertLines: { color: "#1d222b" }, horzLines: { color: "#1d222b" } },
      rightPriceScale: { borderColor: "#262c36" },
      timeScale: { borderColor: "#262c36", timeVisible: true, secondsVisible: false, rightOffset: 4, barSpacing: 9 },
      crosshair: { mode: CrosshairMode.Normal },
      localization: { timeFormatter: (t) => new Date(t * 1000).toLocaleString() },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: GREEN, downColor: RED, borderVisible: false, wickUpColor: GREEN, wickDownColor: RED,
    });
    this.volume = this.chart.addSeries(HistogramSeries, { priceFormat: { type: "volume" }, priceScaleId: "vol", lastValueVisible: false, priceLineVisible: false });
    this.chart.priceScale("vol").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    this.mark = this.chart.addSeries(LineSeries, { color: "#f0b90b", lineWidth: 1, title: "mark", crosshairMarkerVisible: false, priceLineVisible: false });
    this.last = { candle: 0, mark: 0 };
  }

  // reset shows a symbol's history at interval iv.
  reset(sym, iv, klines, markKlines) {
    const precision = sym.priceDecimals, minMove = Number(sym.tick);
    this.sym = sym;
    this.iv = INTERVALS[iv];
    for (const s of [this.candles, this.mark]) s.applyOptions({ priceFormat: { type: "price", precision, minMove } });
    this.candles.setData(klines.map(candle));
    this.volume.setData(klines.map(vol));
    this.mark.setData(markKlines.map((k) => ({ time: k.open_ms / 1000, value: Number(k.close) })));
    this.last.candle = klines.length ? klines[klines.length - 1].open_ms / 1000 : 0;
    this.last.mark = markKlines.length ? markKlines[markKlines.length - 1].open_ms / 1000 : 0;
    // A short history fills the width; a long one shows its newest part.
    if (klines.length >= 30 && klines.length < 120) this.chart.timeScale().fitContent();
    else this.chart.timeScale().scrollToRealTime();
    this.showLegend(klines[klines.length - 1]);
  }

  // kline applies px.md.<sym>.kline.<interval>: the candle in progress, or
  // the one just closed (older updates are dropped: the library refuses them).
  kline(k) {
    const t = k.open_ms / 1000;
    if (t < this.last.candle) return;
    this.last.candle = t;
    this.candles.update(candle(k));
    this.volume.update(vol(k));
    this.showLegend(k);
  }

  // markAt moves the mark line's current bucket.
  markAt(timeMs, mark) {
    if (!this.iv) return;
    const t = Math.floor(timeMs / 1000 / this.iv) * this.iv;
    if (t < this.last.mark) return;
    this.last.mark = t;
    this.mark.update({ time: t, value: Number(mark) });
  }

  showLegend(k) {
    if (!this.legend) return;
    this.legend.textContent = k ? `O ${k.open}  H ${k.high}  L ${k.low}  C ${k.close}  V ${k.volume}` : "No trades yet in this range.";
  }
}

function candle(k) {
  return { time: k.open_ms / 1000, open: Number(k.open), high: Number(k.high), low: Number(k.low), close: Number(k.close) };
}

function vol(k) {
  return { time: k.open_ms / 1000, value: Number(k.volume), color: Number(k.close) >= Number(k.open) ? "rgba(17,195,131,0.45)" : "rgba(240,71,93,0.45)" };
}
