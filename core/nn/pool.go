package nn

import "fmt"

// MaxPool takes the maximum over K x K windows with stride Stride (no
// padding), as torch.nn.MaxPool2d(K, Stride). On ties the first element in
// row-major order wins, as in PyTorch.
type MaxPool struct {
	K, Stride int

	n, c, h, w, ho, wo int
	arg                []int32 // index in the input plane of each output
	y, dx              []float32
}

// NewMaxPool2 is MaxPool with a 2x2 window and stride 2.
func NewMaxPool2() *MaxPool { return &MaxPool{K: 2, Stride: 2} }

// Forward pools x (N, C, H, W) into y (N, C, Ho, Wo).
func (p *MaxPool) Forward(x []float32, n, c, h, w int) (y []float32, ho, wo int) {
	if len(x) != n*c*h*w {
		panic(fmt.Sprintf("nn.MaxPool: x has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(x), n, c, h, w))
	}
	ho, wo = (h-p.K)/p.Stride+1, (w-p.K)/p.Stride+1
	p.n, p.c, p.h, p.w, p.ho, p.wo = n, c, h, w, ho, wo
	y = Grow(&p.y, n*c*ho*wo)
	if cap(p.arg) < len(y) {
		p.arg = make([]int32, len(y))
	}
	p.arg = p.arg[:len(y)]
	for pl := 0; pl < n*c; pl++ {
		in := x[pl*h*w : (pl+1)*h*w]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				best := oy*p.Stride*w + ox*p.Stride
				bv := in[best]
				for ky := 0; ky < p.K; ky++ {
					for kx := 0; kx < p.K; kx++ {
						j := (oy*p.Stride+ky)*w + ox*p.Stride + kx
						if in[j] > bv || (in[j] != in[j] && bv == bv) {
							best, bv = j, in[j]
						}
					}
				}
				o := pl*ho*wo + oy*wo + ox
				y[o], p.arg[o] = bv, int32(best)
			}
		}
	}
	return y, ho, wo
}

// Backward routes dy (N, C, Ho, Wo) to the positions of the maxima.
func (p *MaxPool) Backward(dy []float32) []float32 {
	if len(dy) != len(p.arg) {
		panic(fmt.Sprintf("nn.MaxPool: dy has length %d, want %d", len(dy), len(p.arg)))
	}
	hw, ohw := p.h*p.w, p.ho*p.wo
	dx := Grow(&p.dx, p.n*p.c*hw)
	clear(dx)
	for pl := 0; pl < p.n*p.c; pl++ {
		for o := pl * ohw; o < (pl+1)*ohw; o++ {
			dx[pl*hw+int(p.arg[o])] += dy[o]
		}
	}
	return dx
}

// AvgPool averages over K x K windows with stride Stride (no padding), as
// torch.nn.AvgPool2d(K, Stride). K = H = W gives global average pooling.
type AvgPool struct {
	K, Stride int

	n, c, h, w, ho, wo int
	y, dx              []float32
}

// Forward pools x (N, C, H, W) into y (N, C, Ho, Wo).
func (p *AvgPool) Forward(x []float32, n, c, h, w int) (y []float32, ho, wo int) {
	if len(x) != n*c*h*w {
		panic(fmt.Sprintf("nn.AvgPool: x has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(x), n, c, h, w))
	}
	ho, wo = (h-p.K)/p.Stride+1, (w-p.K)/p.Stride+1
	p.n, p.c, p.h, p.w, p.ho, p.wo = n, c, h, w, ho, wo
	y = Grow(&p.y, n*c*ho*wo)
	inv := 1 / float32(p.K*p.K)
	for pl := 0; pl < n*c; pl++ {
		in := x[pl*h*w : (pl+1)*h*w]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				var s float32
				for ky := 0; ky < p.K; ky++ {
					row := in[(oy*p.Stride+ky)*w+ox*p.Stride:]
					for kx := 0; kx < p.K; kx++ {
						s += row[kx]
					}
				}
				y[pl*ho*wo+oy*wo+ox] = s * inv
			}
		}
	}
	return y, ho, wo
}

// Backward spreads dy (N, C, Ho, Wo) evenly over each window.
func (p *AvgPool) Backward(dy []float32) []float32 {
	hw, ohw := p.h*p.w, p.ho*p.wo
	if len(dy) != p.n*p.c*ohw {
		panic(fmt.Sprintf("nn.AvgPool: dy has length %d, want %d", len(dy), p.n*p.c*ohw))
	}
	dx := Grow(&p.dx, p.n*p.c*hw)
	clear(dx)
	inv := 1 / float32(p.K*p.K)
	for pl := 0; pl < p.n*p.c; pl++ {
		out := dx[pl*hw : (pl+1)*hw]
		for oy := 0; oy < p.ho; oy++ {
			for ox := 0; ox < p.wo; ox++ {
				g := dy[pl*ohw+oy*p.wo+ox] * inv
				for ky := 0; ky < p.K; ky++ {
					row := out[(oy*p.Stride+ky)*p.w+ox*p.Stride:]
					for kx := 0; kx < p.K; kx++ {
						row[kx] += g
					}
				}
			}
		}
	}
	return dx
}

// Upsample2 is nearest-neighbour 2x upsampling, as
// torch.nn.Upsample(scale_factor=2, mode="nearest").
type Upsample2 struct {
	n, c, h, w int
	y, dx      []float32
}

// Forward maps x (N, C, H, W) to y (N, C, 2H, 2W).
func (u *Upsample2) Forward(x []float32, n, c, h, w int) []float32 {
	if len(x) != n*c*h*w {
		panic(fmt.Sprintf("nn.Upsample2: x has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(x), n, c, h, w))
	}
	u.n, u.c, u.h, u.w = n, c, h, w
	y := Grow(&u.y, 4*len(x))
	w2 := 2 * w
	parallelFor(n*c, 4*h*w, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			in := x[pl*h*w : (pl+1)*h*w]
			out := y[pl*4*h*w : (pl+1)*4*h*w]
			for iy := 0; iy < h; iy++ {
				row := out[2*iy*w2 : (2*iy+1)*w2]
				for ix, v := range in[iy*w : (iy+1)*w] {
					row[2*ix], row[2*ix+1] = v, v
				}
				copy(out[(2*iy+1)*w2:(2*iy+2)*w2], row)
			}
		}
	})
	return y
}

// Backward sums dy (N, C, 2H, 2W) over each 2x2 block into dx (N, C, H, W).
func (u *Upsample2) Backward(dy []float32) []float32 {
	h, w := u.h, u.w
	if len(dy) != 4*u.n*u.c*h*w {
		panic(fmt.Sprintf("nn.Upsample2: dy has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(dy), u.n, u.c, 2*h, 2*w))
	}
	dx := Grow(&u.dx, u.n*u.c*h*w)
	w2 := 2 * w
	parallelFor(u.n*u.c, 4*h*w, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			g := dy[pl*4*h*w : (pl+1)*4*h*w]
			out := dx[pl*h*w : (pl+1)*h*w]
			for iy := 0; iy < h; iy++ {
				r0 := g[2*iy*w2 : (2*iy+1)*w2]
				r1 := g[(2*iy+1)*w2 : (2*iy+2)*w2]
				for ix := 0; ix < w; ix++ {
					out[iy*w+ix] = (r0[2*ix] + r0[2*ix+1]) + (r1[2*ix] + r1[2*ix+1])
				}
			}
		}
	})
	return dx
}
