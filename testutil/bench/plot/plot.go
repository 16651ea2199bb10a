// Package plot draws the line and bar charts of docs/benchmarks.md as PNG
// files, using nothing but the standard library and its own bitmap font.
//
// Output is deterministic: the same Chart gives the same bytes.
package plot

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// Series is one named line or bar group.
type Series struct {
	Name string
	X    []float64 // for Line; ignored by Bars
	Y    []float64
}

// Chart describes one figure.
type Chart struct {
	Title         string
	XLabel        string
	YLabel        string
	LogX          bool     // log10 x axis (e.g. 1 000 … 100 000 leases)
	LogY          bool     // log10 y axis
	YMin0         bool     // y axis starts at 0
	Categories    []string // for Bars: one label per bar position
	Series        []Series
	Width, Height int   // 0 → 900×500
	HLines        []Ref // horizontal reference lines, e.g. a target
}

// Ref is a labelled horizontal reference line (drawn dashed).
type Ref struct {
	Y     float64
	Label string
}

// Line renders the series as lines with point markers and writes a PNG.
func Line(path string, c Chart) error { return render(path, c, false) }

// Bars renders grouped bars: one group per category, one bar per series.
func Bars(path string, c Chart) error { return render(path, c, true) }

const (
	defaultWidth, defaultHeight = 900, 500
	minWidth, minHeight         = 240, 160
	pad                         = 12 // outer margin
	tickLen                     = 4
	legendRowH                  = 16
	legendTextGap               = 5 // between a swatch and its name
)

func render(path string, c Chart, bars bool) error {
	img, err := renderImage(c, bars)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("plot: encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	// WriteFile keeps the mode of an existing file and applies the umask.
	if err := os.Chmod(path, 0o644); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

func renderImage(c Chart, bars bool) (*image.RGBA, error) {
	if err := validate(c, bars); err != nil {
		return nil, err
	}
	l, err := newLayout(c, bars)
	if err != nil {
		return nil, err
	}
	return paint(c, l), nil
}

func validate(c Chart, bars bool) error {
	if c.Width < 0 || c.Height < 0 || (c.Width > 0 && c.Width < minWidth) || (c.Height > 0 && c.Height < minHeight) {
		return fmt.Errorf("plot: Width=%d, Height=%d: want 0 (default) or at least %dx%d", c.Width, c.Height, minWidth, minHeight)
	}
	if len(c.Series) == 0 {
		return fmt.Errorf("plot: chart %q has no series", c.Title)
	}
	if len(c.Series) > len(palette) {
		return fmt.Errorf("plot: chart %q has %d series, at most %d", c.Title, len(c.Series), len(palette))
	}
	if c.LogY && c.YMin0 {
		return fmt.Errorf("plot: chart %q sets both LogY and YMin0; a log axis cannot start at 0", c.Title)
	}
	if bars && c.LogX {
		return fmt.Errorf("plot: chart %q: LogX does not apply to Bars", c.Title)
	}
	if bars && len(c.Categories) == 0 {
		return fmt.Errorf("plot: chart %q: Bars needs Categories", c.Title)
	}
	for _, s := range c.Series {
		switch {
		case len(s.Y) == 0:
			return fmt.Errorf("plot: series %q has no points", s.Name)
		case bars && len(s.Y) != len(c.Categories):
			return fmt.Errorf("plot: series %q: len(Y)=%d != len(Categories)=%d", s.Name, len(s.Y), len(c.Categories))
		case !bars && len(s.X) != len(s.Y):
			return fmt.Errorf("plot: series %q: len(X)=%d != len(Y)=%d", s.Name, len(s.X), len(s.Y))
		}
		for i, v := range s.X {
			if p := problem(v, c.LogX, "x"); p != "" && !bars {
				return fmt.Errorf("plot: series %q: X[%d]=%v %s", s.Name, i, v, p)
			}
		}
		for i, v := range s.Y {
			if p := problem(v, c.LogY, "y"); p != "" {
				return fmt.Errorf("plot: series %q: Y[%d]=%v %s", s.Name, i, v, p)
			}
		}
	}
	for i, r := range c.HLines {
		if p := problem(r.Y, c.LogY, "y"); p != "" {
			return fmt.Errorf("plot: HLines[%d] %q: Y=%v %s", i, r.Label, r.Y, p)
		}
	}
	return nil
}

// problem says what is wrong with v as a coordinate, or "" if nothing.
func problem(v float64, log bool, axisName string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "is not a finite number"
	}
	if log && v <= 0 {
		return "must be > 0 on a log " + axisName + " axis"
	}
	return ""
}

// layout is where everything goes, worked out before anything is drawn.
type layout struct {
	w, h       int
	bars       bool
	area       image.Rectangle // the plot area, inside the axes
	x, y       axis            // x is unused by Bars
	titleScale int
	legend     []image.Rectangle // per series: its swatch; the name follows
	catUp      bool              // bar category labels are drawn reading upwards
}

func newLayout(c Chart, bars bool) (*layout, error) {
	l := &layout{w: c.Width, h: c.Height, bars: bars}
	if l.w == 0 {
		l.w = defaultWidth
	}
	if l.h == 0 {
		l.h = defaultHeight
	}

	var ys, xs []float64
	for _, s := range c.Series {
		ys = append(ys, s.Y...)
		xs = append(xs, s.X...)
	}
	for _, r := range c.HLines {
		ys = append(ys, r.Y)
	}
	if c.YMin0 || (bars && !c.LogY) {
		ys = append(ys, 0)
	}
	l.y = newAxis(minOf(ys), maxOf(ys), c.LogY)
	if !bars {
		l.x = newAxis(minOf(xs), maxOf(xs), c.LogX)
	}

	top := pad
	if c.Title != "" {
		l.titleScale = 2
		if textWidth(c.Title, 2) > l.w-2*pad {
			l.titleScale = 1
		}
		top += textHeight(l.titleScale) + 8
	}
	top = l.placeLegend(c, top) + 6

	left := pad
	if c.YLabel != "" {
		left += textHeight(1) + 8
	}
	widest := 0
	for _, t := range l.y.ticks {
		widest = max(widest, textWidth(compact(t), 1))
	}
	left += widest + tickLen + 5

	right := pad + 8
	if !bars {
		right = max(right, textWidth(compact(l.x.ticks[len(l.x.ticks)-1]), 1)/2+pad)
	}

	labelH := textHeight(1)
	if bars {
		slot := (l.w - left - right) / len(c.Categories)
		widest := 0
		for _, cat := range c.Categories {
			widest = max(widest, textWidth(cat, 1))
		}
		if widest > slot-6 {
			l.catUp, labelH = true, widest
		}
	}
	bottom := pad + labelH + tickLen + 5
	if c.XLabel != "" {
		bottom += textHeight(1) + 6
	}

	// Checked before image.Rect, which would swap inverted bounds.
	if aw, ah := l.w-right-left, l.h-bottom-top; aw < 80 || ah < 60 {
		return nil, fmt.Errorf("plot: chart %q: a %dx%d image leaves a %dx%d plot area; make it larger or the labels shorter",
			c.Title, l.w, l.h, aw, ah)
	}
	l.area = image.Rect(left, top, l.w-right, l.h-bottom)
	return l, nil
}

// placeLegend lays the legend out in centred rows from y = top and returns
// the y below it.
func (l *layout) placeLegend(c Chart, top int) int {
	const gap = 20
	swatchW := 24
	if l.bars {
		swatchW = 10
	}
	var rows [][]int
	var rowW []int
	for i, s := range c.Series {
		w := swatchW + legendTextGap + textWidth(s.Name, 1)
		if n := len(rows); n > 0 && rowW[n-1]+gap+w <= l.w-2*pad {
			rows[n-1] = append(rows[n-1], i)
			rowW[n-1] += gap + w
			continue
		}
		rows = append(rows, []int{i})
		rowW = append(rowW, w)
	}
	l.legend = make([]image.Rectangle, len(c.Series))
	y := top
	for r, row := range rows {
		x := (l.w - rowW[r]) / 2
		for _, i := range row {
			l.legend[i] = image.Rect(x, y-1, x+swatchW, y+capH+1)
			x += swatchW + legendTextGap + textWidth(c.Series[i].Name, 1) + gap
		}
		y += legendRowH
	}
	return y
}

// px and py are the pixel coordinates of data values: the first and last
// pixel centres of the plot area are the ends of the axes.
func (l *layout) px(v float64) float64 {
	return float64(l.area.Min.X) + 0.5 + l.x.frac(v)*float64(l.area.Dx()-1)
}

func (l *layout) py(v float64) float64 {
	return float64(l.area.Max.Y) - 0.5 - l.y.frac(v)*float64(l.area.Dy()-1)
}

func paint(c Chart, l *layout) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, l.w, l.h))
	fillRect(img, img.Rect, white)
	a := l.area

	hgrid := func(v float64, c color.RGBA) {
		row := int(l.py(v))
		fillRect(img, image.Rect(a.Min.X, row, a.Max.X, row+1), c)
	}
	vgrid := func(v float64, c color.RGBA) {
		col := int(l.px(v))
		fillRect(img, image.Rect(col, a.Min.Y, col+1, a.Max.Y), c)
	}
	for _, v := range l.y.minor {
		hgrid(v, fineColor)
	}
	for _, v := range l.y.ticks {
		hgrid(v, gridColor)
	}
	if !l.bars {
		for _, v := range l.x.minor {
			vgrid(v, fineColor)
		}
		for _, v := range l.x.ticks {
			vgrid(v, gridColor)
		}
	}
	for _, r := range c.HLines {
		dashedHLine(img, a.Min.X, a.Max.X, int(math.Round(l.py(r.Y)))-1, refColor)
	}

	if l.bars {
		paintBars(img, c, l)
	} else {
		paintLines(img, c, l)
	}

	// Axes, ticks and tick labels.
	fillRect(img, image.Rect(a.Min.X-1, a.Min.Y, a.Min.X, a.Max.Y+1), axisColor)
	fillRect(img, image.Rect(a.Min.X-1, a.Max.Y, a.Max.X, a.Max.Y+1), axisColor)
	for _, v := range l.y.ticks {
		row := int(l.py(v))
		fillRect(img, image.Rect(a.Min.X-1-tickLen, row, a.Min.X-1, row+1), axisColor)
		s := compact(v)
		drawText(img, a.Min.X-1-tickLen-4-textWidth(s, 1), row-capH/2, s, 1, textColor)
	}
	labelY := a.Max.Y + 1 + tickLen + 4
	if l.bars {
		slot := float64(a.Dx()) / float64(len(c.Categories))
		for i, cat := range c.Categories {
			mid := a.Min.X + int(slot*(float64(i)+0.5))
			if l.catUp {
				drawTextUp(img, mid-capH/2, labelY, cat, 1, textColor)
			} else {
				drawText(img, mid-textWidth(cat, 1)/2, labelY, cat, 1, textColor)
			}
		}
	} else {
		lastEnd := math.MinInt
		for _, v := range l.x.ticks {
			col := int(l.px(v))
			fillRect(img, image.Rect(col, a.Max.Y+1, col+1, a.Max.Y+1+tickLen), axisColor)
			s := compact(v)
			x := col - textWidth(s, 1)/2
			if x < lastEnd+8 { // would touch the previous label
				continue
			}
			drawText(img, x, labelY, s, 1, textColor)
			lastEnd = x + textWidth(s, 1)
		}
	}

	// Axis labels, title, legend, reference labels.
	if c.XLabel != "" {
		drawText(img, a.Min.X+(a.Dx()-textWidth(c.XLabel, 1))/2, l.h-pad-textHeight(1), c.XLabel, 1, textColor)
	}
	if c.YLabel != "" {
		drawTextUp(img, pad, a.Min.Y+(a.Dy()-textWidth(c.YLabel, 1))/2, c.YLabel, 1, textColor)
	}
	if c.Title != "" {
		drawText(img, (l.w-textWidth(c.Title, l.titleScale))/2, pad, c.Title, l.titleScale, textColor)
	}
	for i, sw := range l.legend {
		col := palette[i]
		if l.bars {
			fillRect(img, sw, col)
		} else {
			mid := float64(sw.Min.Y+sw.Max.Y) / 2
			strokePolyline(img, sw, []point{{float64(sw.Min.X), mid}, {float64(sw.Max.X), mid}}, 2, col)
			drawMarker(img, point{float64(sw.Min.X+sw.Max.X) / 2, mid}, i%numShapes, col)
		}
		drawText(img, sw.Max.X+legendTextGap, sw.Min.Y+1, c.Series[i].Name, 1, textColor)
	}
	paintRefLabels(img, c, l)
	return img
}

func paintLines(img *image.RGBA, c Chart, l *layout) {
	for i, s := range c.Series {
		pts := make([]point, len(s.X))
		for j := range s.X {
			pts[j] = point{l.px(s.X[j]), l.py(s.Y[j])}
		}
		strokePolyline(img, l.area.Inset(-3), pts, 2, palette[i])
		for _, p := range pts {
			drawMarker(img, p, i%numShapes, palette[i])
		}
	}
}

func paintBars(img *image.RGBA, c Chart, l *layout) {
	a := l.area
	baseRow := a.Max.Y - 1
	if !c.LogY {
		baseRow = int(l.py(0))
	}
	slot := float64(a.Dx()) / float64(len(c.Categories))
	barW := slot * 0.8 / float64(len(c.Series))
	gap := 0
	if len(c.Series) > 1 && barW >= 4 {
		gap = 1
	}
	for i := range c.Categories {
		for j, s := range c.Series {
			x0 := float64(a.Min.X) + slot*(float64(i)+0.1) + barW*float64(j)
			row := int(l.py(s.Y[i]))
			r := image.Rect(int(math.Round(x0)), min(row, baseRow), int(math.Round(x0+barW))-gap, max(row, baseRow)+1)
			fillRect(img, r, palette[j])
		}
	}
}

// paintRefLabels writes each reference line's label just above or below
// it, where it stays in the plot area, misses the labels already placed and
// hides the fewest data pixels; the right end is preferred on a tie.
func paintRefLabels(img *image.RGBA, c Chart, l *layout) {
	var placed []image.Rectangle
	for _, r := range c.HLines {
		if r.Label == "" {
			continue
		}
		row := int(math.Round(l.py(r.Y))) - 1
		w, h := textWidth(r.Label, 1), textHeight(1)
		best, bestCost := image.Rectangle{}, math.MaxInt
		for x := l.area.Max.X - 9 - w; x >= l.area.Min.X+6; x -= 8 {
			for _, top := range []int{row - 5 - h, row + 4} {
				b := image.Rect(x, top, x+w+6, top+h+3)
				if !b.In(l.area) || overlapsAny(b, placed) {
					continue
				}
				if cost := dataPixels(img, b); cost < bestCost {
					best, bestCost = b, cost
				}
			}
		}
		if bestCost == math.MaxInt { // no room: over the line at the right
			best = image.Rect(l.area.Max.X-9-w, row-h/2-2, l.area.Max.X-3, row+h/2+2)
		}
		placed = append(placed, best)
		fillRect(img, best, white)
		drawText(img, best.Min.X+3, best.Min.Y+2, r.Label, 1, refColor)
	}
}

// dataPixels counts the pixels of r that show data rather than background.
func dataPixels(img *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			switch img.RGBAAt(x, y) {
			case white, gridColor, fineColor, refColor:
			default:
				n++
			}
		}
	}
	return n
}

func overlapsAny(r image.Rectangle, rs []image.Rectangle) bool {
	for _, o := range rs {
		if r.Overlaps(o) {
			return true
		}
	}
	return false
}

func minOf(vs []float64) float64 {
	m := math.Inf(1)
	for _, v := range vs {
		m = min(m, v)
	}
	return m
}

func maxOf(vs []float64) float64 {
	m := math.Inf(-1)
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}
