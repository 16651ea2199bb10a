package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTicksAreNiceSteps(t *testing.T) {
	lo, hi := span([]float64{3, 97}, false, false)
	require.Equal(t, []float64{0, 20, 40, 60, 80, 100}, ticks(lo, hi, false))

	lo, hi = span([]float64{0.3, 1.1}, false, true)
	require.Equal(t, 0.0, lo, "YMin0 starts the axis at 0")
	require.Equal(t, []float64{0, 0.2, 0.4, 0.6, 0.8, 1, 1.2}, roundAll(ticks(lo, hi, false)))

	lo, hi = span([]float64{1000, 100_000}, true, false)
	require.Equal(t, []float64{1000, 10_000, 100_000}, ticks(lo, hi, true))
	lo, hi = span([]float64{4096, 65536}, true, false)
	require.Equal(t, []float64{1000, 10_000, 100_000}, ticks(lo, hi, true), "log axes widen to powers of ten")

	lo, hi = span([]float64{1000}, true, false)
	require.Equal(t, []float64{1000, 10_000}, ticks(lo, hi, true), "one point on a log axis still spans a decade")

	require.Equal(t, 1.0, niceStep(1.3))
	require.Equal(t, 2.0, niceStep(2.5))
	require.Equal(t, 5.0, niceStep(4.2))
	require.Equal(t, 10.0, niceStep(8))
	require.Equal(t, 500.0, niceStep(333))
}

func roundAll(vs []float64) []float64 {
	for i, v := range vs {
		vs[i] = math.Round(v*1e9) / 1e9
	}
	return vs
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 0.25: "0.25", 1: "1", 950: "950", 1000: "1k", 1500: "1.5k", 100_000: "100k",
		1_500_000: "1.5M", 2e9: "2G", -2000: "-2k",
	} {
		require.Equal(t, want, format(v), "%v", v)
	}
}

func TestNormalize(t *testing.T) {
	require.Equal(t, "TX/S ×2 -> >= 5 US ?", normalize("tx/s ×2 → ≥ 5 µs ☃"))
	require.Equal(t, 0, textWidth("", 1))
	require.Equal(t, (3*glyphW-1)*2, textWidth("abc", 2))
}

func TestBadInputNamesFieldAndValue(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.png")
	cases := map[string]struct {
		err  string
		draw func() error
	}{
		"no series": {`chart "t": no series`, func() error { return Line(p, Chart{Title: "t"}) }},
		"length": {`chart: series "s": len(X)=2 != len(Y)=1`, func() error {
			return Line(p, Chart{Series: []Series{{Name: "s", X: []float64{1, 2}, Y: []float64{1}}}})
		}},
		"log": {`chart: series "s": X[0]=0 on a log x axis`, func() error {
			return Line(p, Chart{LogX: true, Series: []Series{{Name: "s", X: []float64{0}, Y: []float64{1}}}})
		}},
		"nan": {`chart: series "s": Y[1]=NaN is not finite`, func() error {
			return Line(p, Chart{Series: []Series{{Name: "s", X: []float64{1, 2}, Y: []float64{1, math.NaN()}}}})
		}},
		"bars": {`chart: series "s": len(Y)=1 != len(Categories)=2`, func() error {
			return Bars(p, Chart{Categories: []string{"a", "b"}, Series: []Series{{Name: "s", Y: []float64{1}}}})
		}},
	}
	for name, c := range cases {
		err := c.draw()
		require.EqualError(t, err, c.err, name)
	}
	_, err := os.Stat(p)
	require.True(t, os.IsNotExist(err), "nothing is written on bad input")
}

func decode(t *testing.T, path string) (image.Image, []byte) {
	t.Helper()
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(bz))
	require.NoError(t, err)
	return img, bz
}

func same(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	return uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(b>>8) == want.B
}

// A rising line from the first to the last x passes through the plot
// area's corners in its own colour, and the legend's swatch is drawn.
func TestLineLandsWhereTheAxesSay(t *testing.T) {
	p := filepath.Join(t.TempDir(), "line.png")
	c := Chart{Title: "rising", XLabel: "x", YLabel: "y", Width: 600, Height: 400,
		Series: []Series{{Name: "s", X: []float64{0, 100}, Y: []float64{0, 100}}}}
	require.NoError(t, Line(p, c))
	img, first := decode(t, p)
	require.Equal(t, image.Rect(0, 0, 600, 400), img.Bounds())

	cv := newCanvas(c)
	cv.xmin, cv.xmax, cv.ymin, cv.ymax = 0, 100, 0, 100
	require.True(t, same(img.At(cv.px(0), cv.py(0)), palette[0]), "the first point at the bottom-left corner")
	require.True(t, same(img.At(cv.px(100), cv.py(100)), palette[0]), "the last point at the top-right corner")
	require.True(t, same(img.At(cv.px(50), cv.py(50)), palette[0]), "the middle of the line")
	require.False(t, same(img.At(cv.px(50), cv.py(90)), palette[0]), "nothing of the line far above it")
	require.True(t, same(img.At(cv.x0+5, marginTop-5), palette[0]), "the legend swatch")

	require.NoError(t, Line(p, c))
	_, second := decode(t, p)
	require.Equal(t, first, second, "the same chart gives the same bytes")
}

// Bars are as tall as their values: a bar of twice the value reaches twice
// as high above the axis.
func TestBarsHeightsFollowValues(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bars.png")
	c := Chart{Title: "bars", YMin0: true, Categories: []string{"a", "b"},
		Series: []Series{{Name: "s", Y: []float64{50, 100}}, {Name: "u", Y: []float64{10, 10}}},
		HLines: []Ref{{Y: 75, Label: "target"}}}
	require.NoError(t, Bars(p, c))
	img, _ := decode(t, p)
	cv := newCanvas(c)
	cv.xmin, cv.xmax, cv.ymin, cv.ymax = 0, 2, 0, 100
	group := float64(cv.x1-cv.x0) / 2
	top := func(category int) int {
		x := cv.x0 + int(group*float64(category)+group*0.1) + 3
		for y := cv.y0; y < cv.y1; y++ {
			if same(img.At(x, y), palette[0]) {
				return y
			}
		}
		return -1
	}
	h0, h1 := cv.y1-top(0), cv.y1-top(1)
	require.InDelta(t, 2*h0, h1, 3, "bar heights %d and %d", h0, h1)
	require.True(t, same(img.At(cv.x0+2, cv.py(75)), refGray), "the reference line at its value")
}
