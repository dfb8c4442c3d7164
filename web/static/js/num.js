// Exact decimal arithmetic for the page: the wire's decimal strings become
// BigInt counts of a unit (ticks, lots, 1e-8 money units) and back, so the
// order preview computes what the exchange computes, to the unit.

export const SCALE = 100000000n; // money and rates: 1e-8 units

// decimals is the number of digits after the point of a decimal string.
export function decimals(s) {
  const i = String(s).indexOf(".");
  return i < 0 ? 0 : String(s).length - i - 1;
}

// scaled parses a decimal string as an integer × 10^-places (BigInt),
// truncating digits beyond places toward zero; null when not a number.
export function scaled(s, places) {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(String(s));
  if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) return null;
  const frac = (m[3] || "").slice(0, places).padEnd(places, "0");
  const v = BigInt((m[2] || "0") + frac);
  return m[1] === "-" ? -v : v;
}

// exactScaled is scaled that refuses digits beyond places (null).
export function exactScaled(s, places) {
  const m = /\.(\d*?)0*\s*$/.exec(String(s));
  if (m && m[1].length > places) return null;
  return scaled(s, places);
}

// unitsOf returns how many steps (a decimal string like "0.1") d is, or
// null when d is not a whole number of steps.
export function unitsOf(d, step) {
  if (!/^-?\d+(\.\d+)?$/.test(String(d).trim())) return null; // the exchange's decimals: no ".5", "5." or "+5"
  const p = Math.max(decimals(d), decimals(step));
  const a = exactScaled(d, p), b = scaled(step, p);
  if (a === null || b === null || b === 0n || a % b !== 0n) return null;
  return a / b;
}

// nearestUnits rounds d to the nearest whole number of steps (halves away
// from zero); null when d is not a number.
export function nearestUnits(d, step) {
  const p = Math.max(decimals(d), decimals(step)) + 1;
  const a = scaled(d, p), b = scaled(step, p);
  if (a === null || b === null || b === 0n) return null;
  const q = a / b, r = a % b;
  if (2n * (r < 0n ? -r : r) >= b) return q + (a < 0n ? -1n : 1n);
  return q;
}

// toDecimal formats n × 10^-places as a plain decimal string.
export function toDecimal(n, places) {
  const neg = n < 0n;
  let s = (neg ? -n : n).toString();
  if (places > 0) {
    s = s.padStart(places + 1, "0");
    s = s.slice(0, -places) + "." + s.slice(-places);
  }
  return (neg ? "-" : "") + s;
}

// unitsToDecimal formats n steps of step ("0.1") as a decimal string.
export function unitsToDecimal(n, step) {
  const p = decimals(step);
  return toDecimal(n * scaled(step, p), p);
}

// mulDiv is a×b/c rounded toward zero, or away from it when up (the
// exchange's market.MulDiv).
export function mulDiv(a, b, c, up) {
  const n = a * b;
  let q = n / c;
  if (up && n % c !== 0n) q += (n < 0n) !== (c < 0n) ? -1n : 1n;
  return q;
}

export const abs = (x) => (x < 0n ? -x : x);
export const sign = (x) => (x < 0n ? -1n : x > 0n ? 1n : 0n);

// fmt shows a decimal string with thousands separators and exactly places
// decimals (rounded half away from zero); "" for an empty value.
export function fmt(s, places) {
  if (s === undefined || s === null || s === "") return "";
  const n = nearestUnits(String(s), places > 0 ? toDecimal(1n, places) : "1");
  if (n === null) return String(s);
  const str = toDecimal(n, places);
  const [int, frac] = str.split(".");
  const neg = int.startsWith("-");
  const digits = neg ? int.slice(1) : int;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (neg ? "-" : "") + grouped + (frac !== undefined ? "." + frac : "");
}

// fmtPct shows a rate ("0.0001") as a percentage with digits decimals.
export function fmtPct(rate, digits = 4) {
  const v = Number(rate) * 100;
  if (!Number.isFinite(v)) return "";
  return (v > 0 ? "+" : "") + v.toFixed(digits) + "%";
}
