// Package chart draws the benchmark page's plots as PNG files with nothing
// but the standard library (and its own 5×7 bitmap font), so that the
// repository gains no plotting dependency. Output is deterministic: the
// same chart gives the same bytes.
package chart

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// Series is one named line or bar group.
type Series struct {
	Name string
	X    []float64 // for Line; ignored by Bars
	Y    []float64
}

// Chart describes one figure.
type Chart struct {
	Title  string
	XLabel string
	YLabel string
	LogX   bool // log10 x axis
	LogY   bool // log10 y axis
	YMin0  bool // the y axis starts at 0
	// Categories label the bar positions of Bars.
	Categories    []string
	Series        []Series
	Width, Height int // 0: 900×500
	HLines        []Ref
}

// Ref is a labelled horizontal reference line, drawn dashed.
type Ref struct {
	Y     float64
	Label string
}

var (
	black   = color.RGBA{30, 30, 30, 255}
	grid    = color.RGBA{225, 225, 225, 255}
	refGray = color.RGBA{150, 150, 150, 255}
	// palette holds the series colours, in order.
	palette = []color.RGBA{
		{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255},
		{214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255},
	}
)

// Layout in pixels.
const (
	marginLeft   = 80
	marginRight  = 20
	marginTop    = 50
	marginBottom = 70
	legendRow    = 14
)

type canvas struct {
	img        *image.RGBA
	c          Chart
	x0, x1     int // plot area, left and right
	y0, y1     int // plot area, top and bottom
	xmin, xmax float64
	ymin, ymax float64
}

func (c Chart) size() (int, int) {
	w, h := c.Width, c.Height
	if w == 0 {
		w = 900
	}
	if h == 0 {
		h = 500
	}
	return w, h
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// validate checks the chart's data; bars says whether X is ignored.
func (c Chart) validate(bars bool) error {
	if len(c.Series) == 0 {
		return fmt.Errorf("chart %q: no series", c.Title)
	}
	if len(c.Series) > len(palette) {
		return fmt.Errorf("chart %q: %d series, at most %d", c.Title, len(c.Series), len(palette))
	}
	if w, h := c.size(); w < 300 || h < 200 {
		return fmt.Errorf("chart %q: size %d×%d is below 300×200", c.Title, w, h)
	}
	for _, s := range c.Series {
		if bars {
			if len(s.Y) != len(c.Categories) {
				return fmt.Errorf("chart: series %q: len(Y)=%d != len(Categories)=%d", s.Name, len(s.Y), len(c.Categories))
			}
		} else {
			if len(s.X) != len(s.Y) {
				return fmt.Errorf("chart: series %q: len(X)=%d != len(Y)=%d", s.Name, len(s.X), len(s.Y))
			}
			if len(s.Y) == 0 {
				return fmt.Errorf("chart: series %q: no points", s.Name)
			}
		}
		for i, y := range s.Y {
			if !finite(y) {
				return fmt.Errorf("chart: series %q: Y[%d]=%v is not finite", s.Name, i, y)
			}
			if c.LogY && y <= 0 {
				return fmt.Errorf("chart: series %q: Y[%d]=%v on a log y axis", s.Name, i, y)
			}
		}
		if !bars {
			for i, x := range s.X {
				if !finite(x) {
					return fmt.Errorf("chart: series %q: X[%d]=%v is not finite", s.Name, i, x)
				}
				if c.LogX && x <= 0 {
					return fmt.Errorf("chart: series %q: X[%d]=%v on a log x axis", s.Name, i, x)
				}
			}
		}
	}
	for _, r := range c.HLines {
		if !finite(r.Y) || (c.LogY && r.Y <= 0) {
			return fmt.Errorf("chart: reference line %q: Y=%v", r.Label, r.Y)
		}
	}
	return nil
}

// Line renders the series as lines with point markers and writes a PNG.
func Line(path string, c Chart) error {
	if err := c.validate(false); err != nil {
		return err
	}
	cv := newCanvas(c)
	xs := []float64{}
	for _, s := range c.Series {
		xs = append(xs, s.X...)
	}
	cv.xmin, cv.xmax = span(xs, c.LogX, false)
	cv.yRange()
	cv.frame(ticks(cv.xmin, cv.xmax, c.LogX), nil)
	for i, s := range c.Series {
		col := palette[i]
		for j := range s.X {
			px, py := cv.px(s.X[j]), cv.py(s.Y[j])
			if j > 0 {
				cv.line(cv.px(s.X[j-1]), cv.py(s.Y[j-1]), px, py, col, 2)
			}
			cv.fill(px-3, py-3, px+4, py+4, col)
		}
	}
	cv.refs()
	cv.legend()
	return cv.write(path)
}

// Bars renders grouped bars: one group per category, one bar per series.
func Bars(path string, c Chart) error {
	if len(c.Categories) == 0 {
		return fmt.Errorf("chart %q: bars need categories", c.Title)
	}
	if c.LogX {
		return fmt.Errorf("chart %q: bars have no x axis to log", c.Title)
	}
	if err := c.validate(true); err != nil {
		return err
	}
	cv := newCanvas(c)
	cv.xmin, cv.xmax = 0, float64(len(c.Categories))
	cv.yRange()
	cv.frame(nil, c.Categories)
	group := float64(cv.x1-cv.x0) / float64(len(c.Categories))
	barW := group * 0.8 / float64(len(c.Series))
	base := cv.py(cv.ymin)
	for i, s := range c.Series {
		for j, y := range s.Y {
			left := float64(cv.x0) + group*float64(j) + group*0.1 + barW*float64(i)
			cv.fill(int(math.Round(left)), cv.py(y), int(math.Round(left+barW))-1, base, palette[i])
		}
	}
	cv.refs()
	cv.legend()
	return cv.write(path)
}

func newCanvas(c Chart) *canvas {
	w, h := c.size()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	legendH := legendRow * ((len(c.Series) + len(c.HLines) + 1) / 2)
	return &canvas{img: img, c: c, x0: marginLeft, x1: w - marginRight, y0: marginTop + legendH, y1: h - marginBottom}
}

// yRange sets the y axis from the data and the reference lines.
func (cv *canvas) yRange() {
	var ys []float64
	for _, s := range cv.c.Series {
		ys = append(ys, s.Y...)
	}
	for _, r := range cv.c.HLines {
		ys = append(ys, r.Y)
	}
	cv.ymin, cv.ymax = span(ys, cv.c.LogY, cv.c.YMin0)
}

// span is the axis range covering vs: on a linear axis widened to nice
// tick values (from 0 when zero is asked for), on a log axis to whole
// powers of ten.
func span(vs []float64, log, zero bool) (float64, float64) {
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if log {
		lo, hi = math.Pow(10, math.Floor(math.Log10(lo)+1e-9)), math.Pow(10, math.Ceil(math.Log10(hi)-1e-9))
		if hi <= lo {
			hi = lo * 10
		}
		return lo, hi
	}
	if zero {
		lo = math.Min(0, lo)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
		if zero && lo < 0 && vs[0] >= 0 {
			lo = 0
		}
	}
	step := niceStep((hi - lo) / 5)
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step
}

// niceStep is the step of the form 1, 2 or 5 × 10^k nearest to raw.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch m := raw / p; {
	case m < 1.5:
		return p
	case m < 3:
		return 2 * p
	case m < 7:
		return 5 * p
	}
	return 10 * p
}

// ticks are the tick values between lo and hi: about five nice steps on a
// linear axis, the powers of ten on a log axis.
func ticks(lo, hi float64, log bool) []float64 {
	var out []float64
	if log {
		for e := math.Round(math.Log10(lo)); e <= math.Round(math.Log10(hi)); e++ {
			out = append(out, math.Pow(10, e))
		}
		return out
	}
	step := niceStep((hi - lo) / 5)
	for i := 0; ; i++ {
		v := lo + float64(i)*step
		if v > hi+step*1e-9 {
			return out
		}
		out = append(out, cleanZero(v, step))
	}
}

func cleanZero(v, step float64) float64 {
	if math.Abs(v) < step*1e-9 {
		return 0
	}
	return v
}

// format writes a tick value compactly: 1.5k, 10k, 2M, 0.25.
func format(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trim(v/1e9) + "G"
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e3:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

func trim(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

func (cv *canvas) px(x float64) int {
	return cv.x0 + int(math.Round(frac(x, cv.xmin, cv.xmax, cv.c.LogX)*float64(cv.x1-cv.x0)))
}

func (cv *canvas) py(y float64) int {
	return cv.y1 - int(math.Round(frac(y, cv.ymin, cv.ymax, cv.c.LogY)*float64(cv.y1-cv.y0)))
}

func frac(v, lo, hi float64, log bool) float64 {
	if log {
		v, lo, hi = math.Log10(v), math.Log10(lo), math.Log10(hi)
	}
	return (v - lo) / (hi - lo)
}

// frame draws the title, grid, axes, tick labels and axis labels. Either
// xTicks (a numeric x axis) or categories (bars) is given.
func (cv *canvas) frame(xTicks []float64, categories []string) {
	w, _ := cv.c.size()
	cv.text((w-textWidth(cv.c.Title, 2))/2, 12, cv.c.Title, 2, black)
	for _, t := range ticks(cv.ymin, cv.ymax, cv.c.LogY) {
		y := cv.py(t)
		cv.hline(cv.x0, cv.x1, y, grid, 1)
		label := format(t)
		cv.text(cv.x0-8-textWidth(label, 1), y-3, label, 1, black)
	}
	for _, t := range xTicks {
		x := cv.px(t)
		cv.vline(x, cv.y0, cv.y1, grid)
		label := format(t)
		cv.text(x-textWidth(label, 1)/2, cv.y1+8, label, 1, black)
	}
	if categories != nil {
		group := float64(cv.x1-cv.x0) / float64(len(categories))
		for i, name := range categories {
			mid := cv.x0 + int(group*(float64(i)+0.5))
			// Alternate rows so neighbouring labels do not collide.
			cv.text(mid-textWidth(name, 1)/2, cv.y1+8+12*(i%2), name, 1, black)
		}
	}
	cv.hline(cv.x0, cv.x1, cv.y1, black, 1)
	cv.vline(cv.x0, cv.y0, cv.y1, black)
	cv.text((cv.x0+cv.x1-textWidth(cv.c.XLabel, 1))/2, cv.y1+40, cv.c.XLabel, 1, black)
	cv.text(8, cv.y0-14, cv.c.YLabel, 1, black)
}

// refs draws the dashed reference lines.
func (cv *canvas) refs() {
	for _, r := range cv.c.HLines {
		y := cv.py(r.Y)
		for x := cv.x0; x < cv.x1; x += 10 {
			cv.hline(x, min(x+5, cv.x1), y, refGray, 1)
		}
	}
}

// legend draws a swatch and a name per series and reference line, two per
// row, above the plot area.
func (cv *canvas) legend() {
	type entry struct {
		name   string
		col    color.RGBA
		dashed bool
	}
	var es []entry
	for i, s := range cv.c.Series {
		es = append(es, entry{s.Name, palette[i], false})
	}
	for _, r := range cv.c.HLines {
		es = append(es, entry{r.Label, refGray, true})
	}
	colW := (cv.x1 - cv.x0) / 2
	for i, e := range es {
		x := cv.x0 + (i%2)*colW
		y := marginTop - 8 + (i/2)*legendRow
		if e.dashed {
			cv.hline(x, x+5, y+3, e.col, 2)
			cv.hline(x+9, x+14, y+3, e.col, 2)
		} else {
			cv.fill(x, y, x+14, y+7, e.col)
		}
		cv.text(x+20, y, e.name, 1, black)
	}
}

func (cv *canvas) set(x, y int, col color.RGBA) {
	if image.Pt(x, y).In(cv.img.Rect) {
		cv.img.SetRGBA(x, y, col)
	}
}

// fill paints the rectangle [x0, x1] × [y0, y1] (either order).
func (cv *canvas) fill(x0, y0, x1, y1 int, col color.RGBA) {
	if x0 > x1 {
		x0, x1 = x1, x0
	}
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			cv.set(x, y, col)
		}
	}
}

func (cv *canvas) hline(x0, x1, y int, col color.RGBA, thick int) {
	cv.fill(x0, y, x1, y+thick-1, col)
}

func (cv *canvas) vline(x, y0, y1 int, col color.RGBA) { cv.fill(x, y0, x, y1, col) }

// line draws a segment thick pixels wide (Bresenham with a square pen).
func (cv *canvas) line(x0, y0, x1, y1 int, col color.RGBA, thick int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		cv.fill(x0, y0, x0+thick-1, y0+thick-1, col)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// text draws s with its top-left corner at (x, y), each font pixel scale
// image pixels wide.
func (cv *canvas) text(x, y int, s string, scale int, col color.RGBA) {
	for _, r := range normalize(s) {
		g := glyphs[r]
		for row := range glyphH {
			for bit := range 5 {
				if g[row]&(1<<(4-bit)) != 0 {
					cv.fill(x+bit*scale, y+row*scale, x+bit*scale+scale-1, y+row*scale+scale-1, col)
				}
			}
		}
		x += glyphW * scale
	}
}

func (cv *canvas) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := png.Encode(f, cv.img); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
