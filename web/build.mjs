// Copies the browser libraries the page uses from node_modules (installed
// by `npm ci` from package-lock.json) into static/vendor, with their
// licenses. Run by `go generate ./web`; the result is committed, so
// `go build` needs no Node. No bundler: both ship a browser ES module.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const out = "static/vendor";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const copies = [
  ["node_modules/nats.ws/esm/nats.js", "nats.js"],
  ["node_modules/nats.ws/LICENSE", "LICENSE.nats.ws.txt"],
  ["node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs", "lightweight-charts.mjs"],
  ["node_modules/lightweight-charts/LICENSE", "LICENSE.lightweight-charts.txt"],
];
for (const [from, to] of copies) copyFileSync(from, `${out}/${to}`);

// The NOTICE of TradingView's repository (its npm package does not ship
// it); the page shows it with a link to tradingview.com, as its license and
// README ask.
writeFileSync(`${out}/NOTICE.lightweight-charts.txt`,
  "TradingView Lightweight Charts\nCopyright (с) 2023 TradingView, Inc. https://www.tradingview.com/\n");

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const version = (name) => lock.packages[`node_modules/${name}`].version;
// The standalone chart build bundles TradingView's fancy-canvas (MIT; its
// package ships no license file).
writeFileSync(`${out}/VERSIONS.txt`, ["nats.ws", "lightweight-charts", "fancy-canvas"]
  .map((n) => `${n} ${version(n)} (${lock.packages[`node_modules/${n}`].license})\n`).join(""));
