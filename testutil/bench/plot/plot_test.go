package plot

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 100, []float64{0, 20, 40, 60, 80, 100}},
		{3, 87, []float64{0, 20, 40, 60, 80, 100}},
		{0, 1, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0.1, 0.3, []float64{0.1, 0.15, 0.2, 0.25, 0.3}},
		{-5, 5, []float64{-6, -4, -2, 0, 2, 4, 6}},
		{0, 1.5e6, []float64{0, 5e5, 1e6, 1.5e6}},
		{7, 7, []float64{2, 4, 6, 8, 10, 12}},
		{0, 0, []float64{-1, -0.5, 0, 0.5, 1}},
	} {
		// Exact comparison on purpose: 0.15 must be 0.15, not 3 × 0.05.
		if got := niceTicks(tc.lo, tc.hi); !slices.Equal(got, tc.want) {
			t.Errorf("niceTicks(%v, %v) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestNiceTicksShape(t *testing.T) {
	for _, r := range [][2]float64{{0, 3}, {1, 1.07}, {-0.004, 0.013}, {12, 9876}, {123456, 7654321}, {0, 1e-6}, {-900, -20}} {
		ticks := niceTicks(r[0], r[1])
		if n := len(ticks); n < 3 || n > 8 {
			t.Errorf("%v: %d ticks %v, want 3–8", r, n, ticks)
		}
		if ticks[0] > r[0] || ticks[len(ticks)-1] < r[1] {
			t.Errorf("%v: ticks %v do not cover the range", r, ticks)
		}
		step := ticks[1] - ticks[0]
		m := step / math.Pow10(int(math.Floor(math.Log10(step)+1e-9)))
		if math.Abs(m-1) > 1e-6 && math.Abs(m-2) > 1e-6 && math.Abs(m-5) > 1e-6 {
			t.Errorf("%v: step %v is not 1, 2 or 5 × 10^k", r, step)
		}
	}
}

func TestLogAxis(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		ticks  []float64
	}{
		{1000, 100000, []float64{1e3, 1e4, 1e5}},
		{1.2, 118, []float64{1, 10, 100}},
		{4096, 65536, []float64{2e3, 5e3, 1e4, 2e4, 5e4, 1e5}}, // under three powers: 2 and 5 labelled
		{50, 50, []float64{20, 50, 100}},
	} {
		if a := logAxis(tc.lo, tc.hi); !slices.Equal(a.ticks, tc.ticks) {
			t.Errorf("logAxis(%v, %v).ticks = %v, want %v", tc.lo, tc.hi, a.ticks, tc.ticks)
		}
	}

	a := logAxis(1000, 100000)
	if a.frac(1000) != 0 || a.frac(100000) != 1 || math.Abs(a.frac(10000)-0.5) > 1e-12 {
		t.Errorf("1k…100k: frac(1k, 10k, 100k) = %v, %v, %v; want 0, 0.5, 1", a.frac(1000), a.frac(10000), a.frac(100000))
	}
	if !slices.Contains(a.minor, 2000) || !slices.Contains(a.minor, 90000) || slices.Contains(a.minor, 10000) {
		t.Errorf("1k…100k: minor ticks %v, want 2k…9k and 20k…90k", a.minor)
	}

	// Sixteen decades: every other power is labelled.
	wide := logAxis(1e-3, 1e12)
	if len(wide.ticks) != 8 {
		t.Errorf("1e-3…1e12: %d ticks %v, want 8", len(wide.ticks), wide.ticks)
	}
	for i, v := range wide.ticks {
		if want := math.Pow10(-3 + 2*i); math.Abs(v/want-1) > 1e-12 {
			t.Errorf("1e-3…1e12: tick %d = %v, want %v", i, v, want)
		}
	}
}

func TestCompact(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 1: "1", 1.25: "1.25", 999: "999", 0.25: "0.25", 0.1 + 0.2: "0.3", 0.001: "0.001",
		1000: "1k", 10000: "10k", 100000: "100k", 12500: "12.5k", -2500: "-2.5k",
		1.5e6: "1.5M", 2e9: "2G", 3e12: "3T", 2.5e-7: "2.5e-07",
	} {
		if got := compact(v); got != want {
			t.Errorf("compact(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestFont(t *testing.T) {
	seen := map[[glyphH]uint8]byte{}
	for i, g := range glyphs {
		ch := byte(' ' + i)
		lit := false
		for row, bits := range g {
			if bits&^0x1F != 0 {
				t.Errorf("%q row %d = %#x: wider than %d columns", ch, row, bits, glyphW)
			}
			if row >= capH && bits != 0 && !strings.ContainsRune("gjpqy,;_", rune(ch)) {
				t.Errorf("%q has pixels below the baseline", ch)
			}
			lit = lit || bits != 0
		}
		if lit != (ch != ' ') {
			t.Errorf("%q: lit = %v", ch, lit)
		}
		if other, dup := seen[g]; dup {
			t.Errorf("%q and %q have the same bitmap", other, ch)
		}
		seen[g] = ch
	}
}

func TestASCIIText(t *testing.T) {
	for in, want := range map[string]string{
		"plain 1.5k":        "plain 1.5k",
		"a × b → c ≥ d ÷ e": "a x b -> c >= d / e",
		"café 日本":           "caf? ??",
		"50 µs – 1 ms":      "50 us - 1 ms",
	} {
		if got := asciiText(in); got != want {
			t.Errorf("asciiText(%q) = %q, want %q", in, got, want)
		}
	}
	if w := textWidth("ab", 1); w != 11 {
		t.Errorf("textWidth(ab, 1) = %d, want 11", w)
	}
	if w := textWidth("×", 2); w != 10 {
		t.Errorf("textWidth(×, 2) = %d, want 10", w)
	}
}

func TestValidate(t *testing.T) {
	line := func(mod func(*Chart)) Chart {
		c := Chart{Title: "t", Series: []Series{{Name: "s", X: []float64{1, 2}, Y: []float64{3, 4}}}}
		mod(&c)
		return c
	}
	bars := func(mod func(*Chart)) Chart {
		c := Chart{Title: "t", Categories: []string{"a", "b", "c"}, Series: []Series{{Name: "s", Y: []float64{1, 2, 3}}}}
		mod(&c)
		return c
	}
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		bars bool
		c    Chart
		want string
	}{
		{"no series", false, line(func(c *Chart) { c.Series = nil }), `plot: chart "t" has no series`},
		{"len X", false, line(func(c *Chart) {
			c.Series = []Series{{Name: "bank send", X: []float64{1, 2, 3}, Y: []float64{1, 2, 3, 4}}}
		}), `plot: series "bank send": len(X)=3 != len(Y)=4`},
		{"no points", false, line(func(c *Chart) { c.Series[0] = Series{Name: "s"} }), `plot: series "s" has no points`},
		{"NaN", false, line(func(c *Chart) { c.Series[0].Y[1] = nan }), `plot: series "s": Y[1]=NaN is not a finite number`},
		{"Inf", false, line(func(c *Chart) { c.Series[0].X[0] = inf }), `plot: series "s": X[0]=+Inf is not a finite number`},
		{"log x", false, line(func(c *Chart) { c.LogX, c.Series[0].X[0] = true, 0 }), `plot: series "s": X[0]=0 must be > 0 on a log x axis`},
		{"log y", false, line(func(c *Chart) { c.LogY, c.Series[0].Y[1] = true, -2 }), `plot: series "s": Y[1]=-2 must be > 0 on a log y axis`},
		{"ref", false, line(func(c *Chart) { c.HLines = []Ref{{Y: nan, Label: "target"}} }), `plot: HLines[0] "target": Y=NaN is not a finite number`},
		{"ref log", false, line(func(c *Chart) { c.LogY, c.HLines = true, []Ref{{Y: 0, Label: "zero"}} }), `plot: HLines[0] "zero": Y=0 must be > 0 on a log y axis`},
		{"log and min0", false, line(func(c *Chart) { c.LogY, c.YMin0 = true, true }), "both LogY and YMin0"},
		{"small", false, line(func(c *Chart) { c.Width = 100 }), "plot: Width=100, Height=0: want 0 (default) or at least 240x160"},
		{"negative", false, line(func(c *Chart) { c.Height = -1 }), "Height=-1"},
		{"too many", false, line(func(c *Chart) {
			for len(c.Series) <= len(palette) {
				c.Series = append(c.Series, c.Series[0])
			}
		}), `plot: chart "t" has 9 series, at most 8`},
		{"bars len", true, bars(func(c *Chart) { c.Series[0].Y = []float64{1, 2} }), `plot: series "s": len(Y)=2 != len(Categories)=3`},
		{"bars no categories", true, bars(func(c *Chart) { c.Categories = nil }), `plot: chart "t": Bars needs Categories`},
		{"bars log x", true, bars(func(c *Chart) { c.LogX = true }), "LogX does not apply to Bars"},
		{"bars NaN", true, bars(func(c *Chart) { c.Series[0].Y[2] = nan }), `plot: series "s": Y[2]=NaN`},
		{"no room", true, bars(func(c *Chart) {
			c.Width, c.Height = 240, 160
			c.Categories[0] = strings.Repeat("a very long category ", 4)
		}), "plot area"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.png")
			draw := Line
			if tc.bars {
				draw = Bars
			}
			err := draw(path, tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("a file was written despite the error (stat: %v)", err)
			}
		})
	}
}

func sampleLine() Chart {
	x := []float64{1000, 3000, 10000, 30000, 100000}
	return Chart{Title: "Block cost against active leases", XLabel: "active leases", YLabel: "ms", LogX: true, YMin0: true,
		Series: []Series{
			{Name: "whole block", X: x, Y: []float64{12.5, 13.1, 14.2, 15.0, 16.3}},
			{Name: "EndBlock", X: x, Y: []float64{0.8, 0.9, 1.1, 1.2, 1.4}},
		},
		HLines: []Ref{{Y: 15, Label: "target ≥ 15 ms"}},
	}
}

func sampleBars() Chart {
	return Chart{Title: "Execution throughput by message", YLabel: "tx/s", YMin0: true, Width: 1100,
		Categories: []string{"bank-send", "create-order", "commit-proof"},
		Series: []Series{
			{Name: "sequential", Y: []float64{2400, 1500, 700}},
			{Name: "block-stm", Y: []float64{3100, 1900, 900}},
		},
		HLines: []Ref{{Y: 1200, Label: "50% of bank send"}, {Y: 600, Label: "25% of bank send"}},
	}
}

func decodeFile(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a valid PNG: %v", path, err)
	}
	return img
}

func TestWritesPNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new", "dirs", "line.png")
	if err := Line(path, sampleLine()); err != nil {
		t.Fatal(err)
	}
	if b := decodeFile(t, path).Bounds(); b != image.Rect(0, 0, 900, 500) {
		t.Errorf("default size: bounds %v, want 900×500", b)
	}

	// An existing file with another mode is replaced and made 0644.
	path = filepath.Join(dir, "bars.png")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := sampleBars()
	c.Width, c.Height = 640, 360
	if err := Bars(path, c); err != nil {
		t.Fatal(err)
	}
	if b := decodeFile(t, path).Bounds(); b != image.Rect(0, 0, 640, 360) {
		t.Errorf("bounds %v, want 640×360", b)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
}

func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		draw func(string, Chart) error
		c    Chart
	}{{"line", Line, sampleLine()}, {"bars", Bars, sampleBars()}} {
		var out [2][]byte
		for i := range out {
			path := filepath.Join(dir, tc.name+string(rune('0'+i))+".png")
			if err := tc.draw(path, tc.c); err != nil {
				t.Fatal(err)
			}
			var err error
			if out[i], err = os.ReadFile(path); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(out[0], out[1]) {
			t.Errorf("%s: two renders of the same chart differ", tc.name)
		}
	}
}

// renderTest draws c and returns the image with its layout.
func renderTest(t *testing.T, c Chart, bars bool) (*image.RGBA, *layout) {
	t.Helper()
	img, err := renderImage(c, bars)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLayout(c, bars)
	if err != nil {
		t.Fatal(err)
	}
	return img, l
}

// near reports whether a pixel within two of (x, y) has exactly colour c.
func near(img *image.RGBA, x, y int, c color.RGBA) bool {
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			if img.RGBAAt(x+dx, y+dy) == c {
				return true
			}
		}
	}
	return false
}

func count(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

func TestLineSpansPlotArea(t *testing.T) {
	c := Chart{Title: "diagonal", XLabel: "x", YLabel: "y", Series: []Series{{Name: "d", X: []float64{0, 100}, Y: []float64{0, 100}}}}
	img, l := renderTest(t, c, false)
	a, col := l.area, palette[0]
	if !a.In(img.Rect) || a.Dx() < 700 || a.Dy() < 350 {
		t.Fatalf("plot area %v in a %v image", a, img.Rect)
	}
	on := map[string]image.Point{
		"bottom-left": {a.Min.X, a.Max.Y - 1},
		"top-right":   {a.Max.X - 1, a.Min.Y},
		"middle":      {a.Min.X + a.Dx()/2, a.Min.Y + a.Dy()/2},
	}
	off := map[string]image.Point{
		"top-left":     {a.Min.X + 6, a.Min.Y + 6},
		"bottom-right": {a.Max.X - 7, a.Max.Y - 7},
	}
	for name, p := range on {
		if !near(img, p.X, p.Y, col) {
			t.Errorf("%s %v: no line pixel", name, p)
		}
	}
	for name, p := range off {
		if near(img, p.X, p.Y, col) {
			t.Errorf("%s %v: unexpected line pixel", name, p)
		}
	}
}

func TestLogXPlacement(t *testing.T) {
	c := Chart{LogX: true, Series: []Series{{Name: "s", X: []float64{1e3, 1e4, 1e5}, Y: []float64{0, 50, 100}}}}
	img, l := renderTest(t, c, false)
	a, col := l.area, palette[0]
	midY := a.Min.Y + (a.Dy()-1)/2
	if !near(img, a.Min.X+(a.Dx()-1)/2, midY, col) {
		t.Errorf("(10k, 50) is not at the centre of the plot area %v", a)
	}
	// Where a linear axis would put 10k: nothing there on a log axis.
	if near(img, a.Min.X+a.Dx()/11, midY, col) {
		t.Errorf("(10k, 50) drawn where a linear x axis would put it")
	}
}

func TestBarsPlacement(t *testing.T) {
	c := Chart{Categories: []string{"a", "b"}, Series: []Series{{Name: "s1", Y: []float64{10, 20}}, {Name: "s2", Y: []float64{20, 10}}}}
	img, l := renderTest(t, c, true)
	a := l.area
	if l.y.lo != 0 || l.y.hi != 20 {
		t.Fatalf("y axis %v…%v, want 0…20", l.y.lo, l.y.hi)
	}
	slot := float64(a.Dx()) / 2
	barW := slot * 0.8 / 2
	for i := range c.Categories {
		for j, s := range c.Series {
			x := a.Min.X + int(slot*(float64(i)+0.1)+barW*(float64(j)+0.5))
			top := int(l.py(s.Y[i]))
			if got := img.RGBAAt(x, top+3); got != palette[j] {
				t.Errorf("bar %d/%d: colour %v just below its top (%d, %d), want %v", i, j, got, x, top+3, palette[j])
			}
			if got := img.RGBAAt(x, a.Max.Y-2); got != palette[j] {
				t.Errorf("bar %d/%d: colour %v at the base, want %v", i, j, got, palette[j])
			}
			if top-3 > a.Min.Y && img.RGBAAt(x, top-3) == palette[j] {
				t.Errorf("bar %d/%d: coloured above its top", i, j)
			}
		}
	}
}

func TestLegendSwatches(t *testing.T) {
	three := []Series{{Name: "one", X: []float64{1, 2}, Y: []float64{1, 2}}, {Name: "two", X: []float64{1, 2}, Y: []float64{2, 3}},
		{Name: "three", X: []float64{1, 2}, Y: []float64{3, 1}}}
	for _, bars := range []bool{false, true} {
		c := Chart{Title: "legend", Categories: []string{"a", "b"}, Series: three}
		img, l := renderTest(t, c, bars)
		above := image.Rect(0, 0, img.Rect.Dx(), l.area.Min.Y)
		for i := range three {
			if n := count(img, l.legend[i], palette[i]); n < 8 {
				t.Errorf("bars=%v: swatch %d at %v has %d pixels of its colour", bars, i, l.legend[i], n)
			}
			if !l.legend[i].In(above) {
				t.Errorf("bars=%v: swatch %d at %v overlaps the plot area %v", bars, i, l.legend[i], l.area)
			}
		}
		if n := count(img, img.Rect, palette[3]); n != 0 {
			t.Errorf("bars=%v: %d pixels of the fourth colour with three series", bars, n)
		}
	}
}

func TestRefLineDashed(t *testing.T) {
	c := Chart{Series: []Series{{Name: "s", X: []float64{0, 10}, Y: []float64{0, 100}}}, HLines: []Ref{{Y: 50, Label: "target"}}}
	img, l := renderTest(t, c, false)
	row := int(math.Round(l.py(50))) - 1
	n := count(img, image.Rect(l.area.Min.X, row, l.area.Max.X, row+1), refColor)
	if frac := float64(n) / float64(l.area.Dx()); frac < 0.4 || frac > 0.75 {
		t.Errorf("reference line row %d: %.0f%% dark pixels, want a dashed line (40–75%%)", row, 100*frac)
	}
	label := count(img, image.Rect(l.area.Min.X, row-20, l.area.Max.X, row), refColor) +
		count(img, image.Rect(l.area.Min.X, row+2, l.area.Max.X, row+20), refColor)
	if label < 20 {
		t.Errorf("reference label: %d pixels near the line", label)
	}
}

func TestTitleCentred(t *testing.T) {
	img, l := renderTest(t, Chart{Title: "Centred title", Series: []Series{{Name: "s", X: []float64{0, 1}, Y: []float64{0, 1}}}}, false)
	minX, maxX := img.Rect.Dx(), 0
	for y := pad; y < pad+textHeight(l.titleScale); y++ {
		for x := range img.Rect.Dx() {
			if img.RGBAAt(x, y) == textColor {
				minX, maxX = min(minX, x), max(maxX, x)
			}
		}
	}
	if want := textWidth("Centred title", 2); maxX-minX+1 != want {
		t.Errorf("title is %d px wide, want %d (scale 2)", maxX-minX+1, want)
	}
	if d := minX - (img.Rect.Dx() - 1 - maxX); d < -1 || d > 1 {
		t.Errorf("title spans %d…%d in a %d px image: not centred", minX, maxX, img.Rect.Dx())
	}
}
