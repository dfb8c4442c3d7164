package loadtest

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// WritePlot writes a self-contained HTML page (inline SVG, no scripts, no
// network) with latency percentiles and throughput over time.
func (r *Report) WritePlot(w io.Writer) error {
	xs := make([]float64, len(r.Series))
	get := func(f func(Point) float64) []float64 {
		ys := make([]float64, len(r.Series))
		for i, p := range r.Series {
			xs[i], ys[i] = p.T, f(p)
		}
		return ys
	}
	lat := []line{
		{"p50", "#1b9e77", get(func(p Point) float64 { return float64(p.Latency.P50) })},
		{"p90", "#7570b3", get(func(p Point) float64 { return float64(p.Latency.P90) })},
		{"p99", "#d95f02", get(func(p Point) float64 { return float64(p.Latency.P99) })},
		{"p99.9", "#e7298a", get(func(p Point) float64 { return float64(p.Latency.P999) })},
		{"max", "#666666", get(func(p Point) float64 { return float64(p.Latency.Max) })},
	}
	thr := []line{
		{"sent/s", "#7570b3", get(func(p Point) float64 { return p.SentPerS })},
		{"replies/s", "#1b9e77", get(func(p Point) float64 { return p.RepliesPerS })},
	}
	mark := -1.0
	if r.Shock != nil {
		mark = r.Shock.AtS
	}
	load, from := r.mode()
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html>
<html><head><meta charset="utf-8"><title>perpx load test %s</title>
<style>body{font:14px sans-serif;margin:20px}svg{display:block;margin:10px 0}</style></head><body>
<h2>perpx load test %s</h2>
<p>%.0f orders/s answered (%s, %d connections) · latency p50 %s · p99 %s · p99.9 %s · max %s · rejects %d · liquidations %d · ADL %d · invariants %s</p>
`, html.EscapeString(r.RunID), html.EscapeString(r.RunID), r.OrdersPerS, load, r.Conns,
		micros(r.Latency.P50), micros(r.Latency.P99), micros(r.Latency.P999), micros(r.Latency.Max),
		sum(r.Rejects), r.Liquidations, r.ADLEvents, map[bool]string{true: "ok", false: "FAILED"}[r.InvariantsOK])
	chart(&b, "Latency from "+from+" (µs, log scale) per second", xs, lat, true, mark)
	chart(&b, "Throughput (requests/s) per second", xs, thr, false, mark)
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type line struct {
	name, color string
	ys          []float64
}

// Chart geometry in SVG user units.
const (
	chartW, chartH = 900.0, 320.0
	padL, padR     = 70.0, 110.0
	padT, padB     = 30.0, 40.0
)

// chart draws lines over xs; logY plots log10 (values below 1 sit at 1);
// markX > 0 draws a dashed vertical line there (the shock).
func chart(b *strings.Builder, title string, xs []float64, lines []line, logY bool, markX float64) {
	xMax, yMax := 1.0, 1.0
	for _, x := range xs {
		xMax = max(xMax, x)
	}
	for _, l := range lines {
		for _, y := range l.ys {
			yMax = max(yMax, y)
		}
	}
	yv := func(v float64) float64 { return v }
	var ticks []float64
	if logY {
		yv = func(v float64) float64 { return math.Log10(max(v, 1)) }
		yMax = math.Ceil(math.Log10(yMax))
		for e := 0.0; e <= yMax; e++ {
			ticks = append(ticks, e)
		}
	} else {
		step := niceStep(yMax / 5)
		yMax = math.Ceil(yMax/step) * step
		for v := 0.0; v <= yMax+step/2; v += step {
			ticks = append(ticks, v)
		}
	}
	yMax = max(yMax, 1)
	px := func(x float64) float64 { return padL + x/xMax*(chartW-padL-padR) }
	py := func(y float64) float64 { return chartH - padB - y/yMax*(chartH-padT-padB) }

	fmt.Fprintf(b, `<svg viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" xmlns="http://www.w3.org/2000/svg">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(b, `<text x="%.0f" y="18" font-weight="bold">%s</text>`+"\n", padL, html.EscapeString(title))
	for _, t := range ticks {
		label := fmt.Sprintf("%g", t)
		if logY {
			label = fmt.Sprintf("%g", math.Pow(10, t))
		}
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="end" font-size="11">%s</text>`+"\n",
			padL, chartW-padR, py(t), py(t), padL-6, py(t)+4, label)
	}
	xStep := niceStep(xMax / 10)
	for x := 0.0; x <= xMax+xStep/2; x += xStep {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11">%gs</text>`+"\n", px(x), chartH-padB+16, x)
	}
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n",
		padL, padT, chartW-padL-padR, chartH-padT-padB)
	if markX > 0 {
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#c00" stroke-dasharray="4 3"/><text x="%.1f" y="%.0f" fill="#c00" font-size="11">shock</text>`+"\n",
			px(markX), px(markX), padT, chartH-padB, px(markX)+3, padT+12)
	}
	for i, l := range lines {
		var pts strings.Builder
		for j, y := range l.ys {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(xs[j]), py(yv(y)))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", l.color, pts.String())
		for j, y := range l.ys { // hover shows the value
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2" fill="%s"><title>%s %.1fs: %.0f</title></circle>`+"\n",
				px(xs[j]), py(yv(y)), l.color, l.name, xs[j], y)
		}
		fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="%s" stroke-width="3"/><text x="%.0f" y="%.0f" font-size="12">%s</text>`+"\n",
			chartW-padR+10, chartW-padR+30, padT+10+float64(i)*18, padT+10+float64(i)*18, l.color, chartW-padR+35, padT+14+float64(i)*18, l.name)
	}
	b.WriteString("</svg>\n")
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
