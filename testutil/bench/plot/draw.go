package plot

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

var (
	white     = color.RGBA{0xff, 0xff, 0xff, 0xff}
	textColor = color.RGBA{0x22, 0x22, 0x22, 0xff}
	axisColor = color.RGBA{0x44, 0x44, 0x44, 0xff}
	gridColor = color.RGBA{0xe3, 0xe3, 0xe3, 0xff}
	fineColor = color.RGBA{0xf2, 0xf2, 0xf2, 0xff} // minor grid of log axes
	refColor  = color.RGBA{0x66, 0x66, 0x66, 0xff}

	// palette colours series in order.
	palette = []color.RGBA{
		{0x2b, 0x6c, 0xb0, 0xff}, // blue
		{0xe0, 0x7b, 0x1a, 0xff}, // orange
		{0x2e, 0x9a, 0x4b, 0xff}, // green
		{0xc8, 0x3a, 0x3a, 0xff}, // red
		{0x7b, 0x52, 0xae, 0xff}, // purple
		{0x8c, 0x5a, 0x3c, 0xff}, // brown
		{0xd1, 0x5c, 0xa8, 0xff}, // pink
		{0x1b, 0x9e, 0xa8, 0xff}, // teal
	}
)

func setPixel(img *image.RGBA, x, y int, c color.RGBA) {
	if (image.Point{x, y}).In(img.Rect) {
		img.SetRGBA(x, y, c)
	}
}

// blend paints c over the pixel at (x, y) with coverage a in [0, 1].
func blend(img *image.RGBA, x, y int, c color.RGBA, a float64) {
	if !(image.Point{x, y}).In(img.Rect) || a <= 0 {
		return
	}
	if a >= 1 {
		img.SetRGBA(x, y, c)
		return
	}
	d := img.RGBAAt(x, y)
	mix := func(dst, src uint8) uint8 { return uint8(float64(dst)*(1-a) + float64(src)*a + 0.5) }
	img.SetRGBA(x, y, color.RGBA{mix(d.R, c.R), mix(d.G, c.G), mix(d.B, c.B), 0xff})
}

func fillRect(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, &image.Uniform{C: c}, image.Point{}, draw.Src)
}

// dashedHLine draws a two-pixel dashed line on row y from x0 to x1.
func dashedHLine(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	const dash, gap = 8, 5
	for x := x0; x < x1; x += dash + gap {
		fillRect(img, image.Rect(x, y, min(x+dash, x1), y+2), c)
	}
}

type point struct{ x, y float64 }

// strokePolyline draws an antialiased line of the given width through pts,
// clipped to clip. Coverage is the maximum over the segments, so joints are
// not painted twice.
func strokePolyline(img *image.RGBA, clip image.Rectangle, pts []point, width float64, c color.RGBA) {
	clip = clip.Intersect(img.Rect)
	cover := make([]float64, clip.Dx()*clip.Dy())
	half := width / 2
	for i := 1; i < len(pts); i++ {
		p, q := pts[i-1], pts[i]
		box := image.Rect(
			int(math.Floor(min(p.x, q.x)-half-1)), int(math.Floor(min(p.y, q.y)-half-1)),
			int(math.Ceil(max(p.x, q.x)+half+1)), int(math.Ceil(max(p.y, q.y)+half+1)),
		).Intersect(clip)
		dx, dy := q.x-p.x, q.y-p.y
		l2 := dx*dx + dy*dy
		for y := box.Min.Y; y < box.Max.Y; y++ {
			for x := box.Min.X; x < box.Max.X; x++ {
				cx, cy := float64(x)+0.5, float64(y)+0.5
				t := 0.0
				if l2 > 0 {
					t = max(0, min(1, ((cx-p.x)*dx+(cy-p.y)*dy)/l2))
				}
				ex, ey := p.x+t*dx-cx, p.y+t*dy-cy
				a := half + 0.5 - math.Sqrt(ex*ex+ey*ey)
				k := (y-clip.Min.Y)*clip.Dx() + (x - clip.Min.X)
				cover[k] = max(cover[k], min(a, 1))
			}
		}
	}
	for i, a := range cover {
		if a > 0 {
			blend(img, clip.Min.X+i%clip.Dx(), clip.Min.Y+i/clip.Dx(), c, a)
		}
	}
}

// Marker shapes, given to series in this order.
const (
	circle = iota
	square
	diamond
	triangleUp
	triangleDown
	plus
	numShapes
)

// inShape reports whether the offset (dx, dy) from a marker's centre lies
// inside a marker of the given shape and radius.
func inShape(shape int, dx, dy, r float64) bool {
	switch shape {
	case square:
		return math.Abs(dx) <= 0.85*r && math.Abs(dy) <= 0.85*r
	case diamond:
		return math.Abs(dx)+math.Abs(dy) <= 1.2*r
	case triangleUp:
		return dy <= 0.8*r && math.Abs(dx) <= (dy+r)/1.8
	case triangleDown:
		return dy >= -0.8*r && math.Abs(dx) <= (r-dy)/1.8
	case plus:
		return (math.Abs(dx) <= 1 && math.Abs(dy) <= r) || (math.Abs(dy) <= 1 && math.Abs(dx) <= r)
	default:
		return dx*dx+dy*dy <= r*r
	}
}

// drawMarker draws a marker centred on p, antialiased by 4×4 supersampling.
func drawMarker(img *image.RGBA, p point, shape int, c color.RGBA) {
	const r, n = 3.5, 4
	for y := int(math.Floor(p.y - r - 1)); y <= int(math.Ceil(p.y+r+1)); y++ {
		for x := int(math.Floor(p.x - r - 1)); x <= int(math.Ceil(p.x+r+1)); x++ {
			hits := 0
			for sy := range n {
				for sx := range n {
					dx := float64(x) + (float64(sx)+0.5)/n - p.x
					dy := float64(y) + (float64(sy)+0.5)/n - p.y
					if inShape(shape, dx, dy, r) {
						hits++
					}
				}
			}
			blend(img, x, y, c, float64(hits)/(n*n))
		}
	}
}
