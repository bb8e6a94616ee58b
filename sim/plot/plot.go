// Package plot draws the results of sim experiments with gonum.org/v1/plot,
// one tile per panel, as PNG or SVG. It is kept out of package sim so that
// the browser module, which plots in JavaScript, does not link gonum/plot.
package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/cdp-project/cdp/sim"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Formats lists the formats Write accepts.
var Formats = []string{"png", "svg"}

// Write draws the panels of r in a grid of at most two columns and writes the image in the
// given format ("png" or "svg"). Monte Carlo series are drawn as points
// with a shaded 95% band, closed forms as lines (plug-in approximations
// dashed); series that share a name before " (" share a colour.
func Write(w io.Writer, r *sim.Result, format string) error {
	if len(r.Panels) == 0 {
		return fmt.Errorf("plot: result of %s has no panels", r.Experiment)
	}
	cols := min(len(r.Panels), 2)
	rows := (len(r.Panels) + cols - 1) / cols
	plots := make([][]*gplot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*gplot.Plot, cols)
	}
	for i, pan := range r.Panels {
		p, err := panel(pan, i == 0, r)
		if err != nil {
			return err
		}
		plots[i/cols][i%cols] = p
	}
	width, height := vg.Length(cols)*6*vg.Inch, vg.Length(rows)*4.5*vg.Inch
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(110))}
	case "svg":
		c = vgsvg.New(width, height)
	default:
		return fmt.Errorf("plot: unknown format %q (want %s)", format, strings.Join(Formats, " or "))
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Inch / 4, PadY: vg.Inch / 4, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := gplot.Align(plots, tiles, dc)
	for i, row := range plots {
		for j, p := range row {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	_, err := c.WriteTo(w)
	return err
}

func baseName(s string) string {
	if i := strings.Index(s, " ("); i >= 0 {
		return s[:i]
	}
	return s
}

func panel(pan sim.Panel, first bool, r *sim.Result) (*gplot.Plot, error) {
	p := gplot.New()
	p.Title.Text = pan.Title
	if first {
		p.Title.Text = r.Experiment + ": " + pan.Title
	}
	p.X.Label.Text = pan.XLabel
	p.Y.Label.Text = pan.YLabel
	if pan.LogX {
		p.X.Scale = gplot.LogScale{}
		p.X.Tick.Marker = gplot.LogTicks{Prec: -1}
	}
	p.Legend.Top, p.Legend.Left = emptiestCorner(pan)
	p.Y.Tick.Marker = preciseTicks{}
	colors := map[string]int{}
	for _, s := range pan.Series {
		b := baseName(s.Name)
		if _, ok := colors[b]; !ok {
			colors[b] = len(colors)
		}
		col := plotutil.Color(colors[b])
		if strings.HasPrefix(s.Name, "optimal") {
			col = color.Gray{Y: 90}
		}
		xy := make(plotter.XYs, len(s.X))
		for i := range s.X {
			xy[i].X, xy[i].Y = s.X[i], s.Y[i]
		}
		if s.Lo != nil {
			band := make(plotter.XYs, 0, 2*len(s.X))
			for i := range s.X {
				band = append(band, plotter.XY{X: s.X[i], Y: s.Lo[i]})
			}
			for i := len(s.X) - 1; i >= 0; i-- {
				band = append(band, plotter.XY{X: s.X[i], Y: s.Hi[i]})
			}
			poly, err := plotter.NewPolygon(band)
			if err != nil {
				return nil, fmt.Errorf("plot: %s: %w", s.Name, err)
			}
			rr, gg, bb, _ := col.RGBA()
			poly.Color = color.NRGBA{R: uint8(rr >> 8), G: uint8(gg >> 8), B: uint8(bb >> 8), A: 50}
			poly.LineStyle.Width = 0
			p.Add(poly)
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, fmt.Errorf("plot: %s: %w", s.Name, err)
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			sc.GlyphStyle.Radius = vg.Points(2.5)
			p.Add(sc)
			p.Legend.Add(s.Name, sc)
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("plot: %s: %w", s.Name, err)
		}
		l.Color = col
		l.Width = vg.Points(1.5)
		switch {
		case strings.Contains(s.Name, "plug-in"):
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		case strings.HasPrefix(s.Name, "optimal"):
			l.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
		}
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	p.Add(plotter.NewGrid())
	// Make room for the legend above or below the data.
	room := 0.07 * float64(len(pan.Series)) * (p.Y.Max - p.Y.Min)
	if p.Legend.Top {
		p.Y.Max += room
	} else {
		p.Y.Min -= room
	}
	return p, nil
}

// emptiestCorner picks the legend corner whose quarter of the data box holds
// the fewest points (ties: bottom right, then the others).
func emptiestCorner(pan sim.Panel) (top, left bool) {
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	tx := func(x float64) float64 {
		if pan.LogX {
			return math.Log(x)
		}
		return x
	}
	for _, s := range pan.Series {
		for i := range s.X {
			xmin, xmax = math.Min(xmin, tx(s.X[i])), math.Max(xmax, tx(s.X[i]))
			ymin, ymax = math.Min(ymin, s.Y[i]), math.Max(ymax, s.Y[i])
		}
	}
	best := -1
	for _, c := range []struct{ top, left bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		n := 0
		for _, s := range pan.Series {
			for i := range s.X {
				fx := (tx(s.X[i]) - xmin) / (xmax - xmin)
				fy := (s.Y[i] - ymin) / (ymax - ymin)
				inX := (c.left && fx < 0.55) || (!c.left && fx > 0.45)
				inY := (c.top && fy > 0.5) || (!c.top && fy < 0.5)
				if inX && inY {
					n++
				}
			}
		}
		if best < 0 || n < best {
			best, top, left = n, c.top, c.left
		}
	}
	return top, left
}

// preciseTicks are gonum's default ticks with labels precise enough to tell
// neighbouring ticks apart on narrow ranges.
type preciseTicks struct{}

// Ticks implements plot.Ticker.
func (preciseTicks) Ticks(lo, hi float64) []gplot.Tick {
	ticks := gplot.DefaultTicks{}.Ticks(lo, hi)
	for prec := 3; prec <= 8; prec++ {
		seen := map[string]bool{}
		dup := false
		for i := range ticks {
			if ticks[i].Label == "" {
				continue
			}
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', prec, 64)
			dup = dup || seen[ticks[i].Label]
			seen[ticks[i].Label] = true
		}
		if !dup {
			break
		}
	}
	return ticks
}
