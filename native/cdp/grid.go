package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"

	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/native/store"
)

// ensureDir creates the output folder.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// writeGrid writes the first max images of d as a PNG grid with cols
// columns and a 1-pixel gap.
func writeGrid(path string, d *data.Dataset, cols, maxImages int) error {
	n := min(d.N, maxImages)
	if n == 0 {
		return nil
	}
	rows := (n + cols - 1) / cols
	cols = min(cols, n)
	W, H := cols*(d.W+1)+1, rows*(d.H+1)+1
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	for i := range img.Pix {
		img.Pix[i] = 64
	}
	hw := d.H * d.W
	for i := 0; i < n; i++ {
		ox, oy := 1+(i%cols)*(d.W+1), 1+(i/cols)*(d.H+1)
		for r := 0; r < d.H; r++ {
			for c := 0; c < d.W; c++ {
				var px [3]uint8
				for ch := 0; ch < 3; ch++ {
					v := d.Images[i*d.C*hw+min(ch, d.C-1)*hw+r*d.W+c]
					if d.Signed {
						v = (v + 1) / 2
					}
					px[ch] = uint8(min(max(v, 0), 1)*255 + 0.5)
				}
				img.Set(ox+c, oy+r, color.RGBA{px[0], px[1], px[2], 255})
			}
		}
	}
	return store.WriteFileAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}
