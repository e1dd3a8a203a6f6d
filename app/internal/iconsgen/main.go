// Command iconsgen draws Tapedeck's icons — a cassette tape — with Go's image
// package and writes them as PNGs into the assets folder:
//
//	go run ./app/internal/iconsgen -out assets
//
// icon.png is the app icon; tray-light.png is drawn for light panels (dark
// ink) and tray-dark.png for dark panels (light ink).
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "assets", "folder to write the PNGs into")
	flag.Parse()
	icons := []struct {
		name      string
		size      int
		body, ink color.NRGBA
		outline   bool
	}{
		{"icon.png", 256, color.NRGBA{0x2b, 0x5d, 0x8c, 0xff}, color.NRGBA{0xf4, 0xf1, 0xe8, 0xff}, false},
		// The tray variants fill the body with a translucent contrasting
		// colour, so even the variant chosen for the wrong panel stays legible.
		{"tray-light.png", 64, color.NRGBA{0xff, 0xff, 0xff, 0x99}, color.NRGBA{0x22, 0x22, 0x22, 0xff}, true},
		{"tray-dark.png", 64, color.NRGBA{0x00, 0x00, 0x00, 0x99}, color.NRGBA{0xee, 0xee, 0xee, 0xff}, true},
	}
	for _, ic := range icons {
		img := drawCassette(ic.size, ic.body, ic.ink, ic.outline)
		path := filepath.Join(*out, ic.name)
		if err := writePNG(path, img); err != nil {
			fmt.Fprintln(os.Stderr, "iconsgen:", err)
			os.Exit(1)
		}
	}
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}

// drawCassette draws the icon by testing each pixel against the shapes, with
// 4×4 supersampling for smooth edges.
func drawCassette(size int, body, ink color.NRGBA, outline bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	const samples = 4
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var bodyHits, inkHits int
			for sy := 0; sy < samples; sy++ {
				for sx := 0; sx < samples; sx++ {
					u := (float64(x) + (float64(sx)+0.5)/samples) / s
					v := (float64(y) + (float64(sy)+0.5)/samples) / s
					switch shapeAt(u, v, outline) {
					case 1:
						bodyHits++
					case 2:
						inkHits++
					}
				}
			}
			total := float64(samples * samples)
			c := blend(body, float64(bodyHits)/total, ink, float64(inkHits)/total)
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// shapeAt says what covers the point (u, v) of the unit square: 0 nothing,
// 1 the cassette body, 2 ink (outline, reels, window).
func shapeAt(u, v float64, outline bool) int {
	const (
		left, right, top, bottom = 0.06, 0.94, 0.2, 0.8
		radius, stroke           = 0.08, 0.06
	)
	inBody := inRoundRect(u, v, left, top, right, bottom, radius)
	if !inBody {
		return 0
	}
	inInner := inRoundRect(u, v, left+stroke, top+stroke, right-stroke, bottom-stroke, radius-stroke/2)
	if outline && !inInner {
		return 2
	}
	for _, cx := range []float64{0.33, 0.67} {
		d := math.Hypot(u-cx, v-0.45)
		if d < 0.11 && d > 0.045 {
			return 2 // a reel
		}
	}
	// the tape's head window along the bottom
	if v > 0.64 && u > 0.22+(0.8-v)*0.8 && u < 0.78-(0.8-v)*0.8 {
		return 2
	}
	// the tape running between the reels
	if math.Abs(v-0.345) < 0.012 && u > 0.33 && u < 0.67 {
		return 2
	}
	return 1
}

func inRoundRect(u, v, x0, y0, x1, y1, r float64) bool {
	if u < x0 || u > x1 || v < y0 || v > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(u, x1-r))
	cy := math.Max(y0+r, math.Min(v, y1-r))
	return math.Hypot(u-cx, v-cy) <= r
}

// blend composes ink over body by their coverages, as non-premultiplied RGBA.
func blend(body color.NRGBA, bodyCover float64, ink color.NRGBA, inkCover float64) color.NRGBA {
	alpha := bodyCover + inkCover
	if alpha == 0 {
		return color.NRGBA{}
	}
	mix := func(a, b uint8) uint8 {
		return uint8(math.Round((float64(a)*bodyCover + float64(b)*inkCover) / alpha))
	}
	a := bodyCover*float64(body.A) + inkCover*float64(ink.A)
	return color.NRGBA{mix(body.R, ink.R), mix(body.G, ink.G), mix(body.B, ink.B), uint8(math.Round(a))}
}
