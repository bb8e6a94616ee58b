package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/cdp-project/cdp/simd"
)

// convChunkCols is the number of output pixels (over several images) that
// one im2col matrix and one sgemm cover: small images are batched together
// so that the matrix product stays wide.
var convChunkCols = 1024

// Conv2d is a 2-d convolution with a square kernel, as torch.nn.Conv2d
// (dilation 1, groups 1), computed as an implicit im2col product
// (simd.SgemmPacked), as one product per image for a 1x1 layer
// (simd.SgemmBatch), or for the stride-1 3x3 layers that allow it by
// Winograd's F(2x2, 3x3) (simd.Conv3x3Winograd, see useWinograd).
type Conv2d struct {
	P              *Params
	In, Out        int // channels
	K, Stride, Pad int
	Weight         View // (Out, In, K, K)
	Bias           View // (Out); Size 0 without bias

	// SkipInputGrad makes Backward return nil instead of dx (for a first
	// layer whose input gradient nobody needs).
	SkipInputGrad bool

	x               []float32 // cached input (N, In, H, W)
	n, h, w, ho, wo int
	y, dx, col, tmp []float32
	dcol, dyT, dwT  []float32 // dwT: dW, taps (ky, kx, ci) from weightGrad
	wflip           []float32 // flipped kernel for the stride-1 input gradient
	taps            []int32   // panel offsets of the kernel taps in a padded input
	qtaps           []int32   // the same in the phase planes of a stride-2 layer (phaseTaps)
	ntaps, pix      []int32   // channels-last tap offsets and window corners (weightGrad)
	padded          []float32 // zero-bordered input written by SiLUConv2d (forwardPadded)
	dbSums          []float64 // (N, Out) plane sums of dy for the bias gradient
}

// NewConv2d defines name.weight (out, in, k, k) and name.bias (out) in p and
// initialises them like PyTorch: U(-b, b) with b = 1/sqrt(in*k*k) (kaiming
// uniform with a = sqrt(5) for the weight).
func NewConv2d(p *Params, name string, in, out, k, stride, pad int, bias bool, rng *rand.Rand) *Conv2d {
	if in <= 0 || out <= 0 || k <= 0 || stride <= 0 || pad < 0 {
		panic(fmt.Sprintf("nn.NewConv2d: in=%d out=%d k=%d stride=%d pad=%d", in, out, k, stride, pad))
	}
	c := &Conv2d{P: p, In: in, Out: out, K: k, Stride: stride, Pad: pad}
	c.Weight = p.Add(name+".weight", false, out, in, k, k)
	b := kaimingBound(in * k * k)
	uniform(p.Data(c.Weight), b, rng)
	if bias {
		c.Bias = p.Add(name+".bias", true, out)
		uniform(p.Data(c.Bias), b, rng)
	}
	return c
}

// OutSize is the output height (or width) for an input of size h.
func (c *Conv2d) OutSize(h int) int { return (h+2*c.Pad-c.K)/c.Stride + 1 }

// chunk is the number of images per im2col matrix.
func (c *Conv2d) chunk(n, hw int) int {
	nc := (convChunkCols + hw - 1) / hw
	return max(1, min(nc, n))
}

// narrow says that the weight gradient is taken as dW rather than dW^T:
// with fewer than 8 output channels the (In*K*K, Out) orientation would fill
// the micro-kernel's 16 columns mostly with padding.
func (c *Conv2d) narrow() bool { return c.Out < 8 }

func (c *Conv2d) direct() bool { return c.K == 1 && c.Stride == 1 && c.Pad == 0 }

// im2col writes images [i0, i0+nc) of x into col, a (In*K*K, nc*Ho*Wo)
// matrix: row (ci*K + ky)*K + kx, column img*Ho*Wo + oy*Wo + ox.
func (c *Conv2d) im2col(col, x []float32, i0, nc int) {
	h, w, ho, wo, k, s, pad := c.h, c.w, c.ho, c.wo, c.K, c.Stride, c.Pad
	hw, ohw := h*w, ho*wo
	ld := nc * ohw
	same := s == 1 && ho == h && wo == w
	parallelFor(nc*c.In, k*k*ohw, func(lo, hi int) {
		for it := lo; it < hi; it++ {
			img, ci := it/c.In, it%c.In
			plane := x[((i0+img)*c.In+ci)*hw : ((i0+img)*c.In+ci+1)*hw]
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					row := col[((ci*k+ky)*k+kx)*ld+img*ohw : ((ci*k+ky)*k+kx)*ld+(img+1)*ohw]
					if same {
						// Stride 1, output size = input size: the row is the
						// plane shifted by (ky-pad, kx-pad); copy it in one
						// block, then zero what falls outside the plane.
						oy0, oy1 := validRange(ky-pad, 1, h, ho)
						ox0, ox1 := validRange(kx-pad, 1, w, wo)
						shift := (ky-pad)*w + kx - pad
						clear(row[:oy0*wo])
						clear(row[oy1*wo:])
						if oy0 < oy1 {
							lo, hi := oy0*wo, oy1*wo
							// The block may reach one element outside the
							// plane; that element is zeroed below.
							if lo+shift < 0 {
								lo = -shift
							}
							if hi+shift > hw {
								hi = hw - shift
							}
							copy(row[lo:hi], plane[lo+shift:hi+shift])
							for oy := oy0; oy < oy1; oy++ {
								r := row[oy*wo : (oy+1)*wo]
								for ox := 0; ox < ox0; ox++ {
									r[ox] = 0
								}
								for ox := ox1; ox < wo; ox++ {
									r[ox] = 0
								}
							}
						}
						continue
					}
					// Valid ox: 0 <= ox*s - pad + kx < w.
					ox0, ox1 := validRange(kx-pad, s, w, wo)
					for oy := 0; oy < ho; oy++ {
						dst := row[oy*wo : (oy+1)*wo]
						iy := oy*s - pad + ky
						if iy < 0 || iy >= h || ox0 >= ox1 {
							clear(dst)
							continue
						}
						src := plane[iy*w : (iy+1)*w]
						clear(dst[:ox0])
						if s == 1 {
							copy(dst[ox0:ox1], src[ox0+kx-pad:ox1+kx-pad])
						} else {
							for ox := ox0; ox < ox1; ox++ {
								dst[ox] = src[ox*s-pad+kx]
							}
						}
						clear(dst[ox1:])
					}
				}
			}
		}
	})
}

// col2im adds the columns of dcol (the layout of im2col) into dx for images
// [i0, i0+nc); dx must be zeroed by the caller. Backward calls it only for
// what flipBackward does not cover (stride > 1, or Pad > K-1), so the
// output never has the input's size at stride 1 (im2col's shortcut).
func (c *Conv2d) col2im(dx, dcol []float32, i0, nc int) {
	h, w, ho, wo, k, s, pad := c.h, c.w, c.ho, c.wo, c.K, c.Stride, c.Pad
	hw, ohw := h*w, ho*wo
	ld := nc * ohw
	parallelFor(nc*c.In, k*k*ohw, func(lo, hi int) {
		for it := lo; it < hi; it++ {
			img, ci := it/c.In, it%c.In
			plane := dx[((i0+img)*c.In+ci)*hw : ((i0+img)*c.In+ci+1)*hw]
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					row := dcol[((ci*k+ky)*k+kx)*ld+img*ohw : ((ci*k+ky)*k+kx)*ld+(img+1)*ohw]
					ox0, ox1 := validRange(kx-pad, s, w, wo)
					if ox0 >= ox1 {
						continue
					}
					for oy := 0; oy < ho; oy++ {
						iy := oy*s - pad + ky
						if iy < 0 || iy >= h {
							continue
						}
						src := row[oy*wo : (oy+1)*wo]
						dst := plane[iy*w : (iy+1)*w]
						if s == 1 {
							d := dst[ox0+kx-pad : ox1+kx-pad]
							for j, v := range src[ox0:ox1] {
								d[j] += v
							}
						} else {
							for ox := ox0; ox < ox1; ox++ {
								dst[ox*s-pad+kx] += src[ox]
							}
						}
					}
				}
			}
		}
	})
}

// validRange returns [o0, o1): the outputs o in [0, n) with 0 <= o*s + off < w.
func validRange(off, s, w, n int) (int, int) {
	o0 := 0
	if off < 0 {
		o0 = (-off + s - 1) / s
	}
	o1 := 0
	if w-off > 0 {
		o1 = (w - off + s - 1) / s
	}
	return min(o0, n), min(max(o1, 0), n)
}

// Forward convolves x (N, In, H, W) and returns y (N, Out, Ho, Wo).
func (c *Conv2d) Forward(x []float32, n, h, w int) (y []float32, ho, wo int) {
	if len(x) != n*c.In*h*w {
		panic(fmt.Sprintf("nn.Conv2d: x has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(x), n, c.In, h, w))
	}
	ho, wo = c.OutSize(h), c.OutSize(w)
	if ho <= 0 || wo <= 0 {
		panic(fmt.Sprintf("nn.Conv2d: input %dx%d too small for kernel %d pad %d", h, w, c.K, c.Pad))
	}
	c.x, c.n, c.h, c.w, c.ho, c.wo = x, n, h, w, ho, wo
	ohw := ho * wo
	y = Grow(&c.y, n*c.Out*ohw)
	wt := c.P.Data(c.Weight)
	var bias []float32
	if c.Bias.Size > 0 {
		bias = c.P.Data(c.Bias)
	}
	if c.direct() {
		// A 1x1 layer: one product W x_i per image, each packed row by row
		// from the image's planes.
		simd.SgemmBatch(n, false, false, c.Out, ohw, c.In, 1, wt, c.In, 0, x, ohw, c.In*ohw, 0, y, ohw, c.Out*ohw, bias)
		return y, ho, wo
	}
	if c.phased(h, w) {
		hq, wq := h/2+1, w/2+1
		buf := getScratch(n * 4 * c.In * hq * wq)
		defer putScratch(buf)
		toPhases(*buf, x, n*c.In, h, w)
		pack := paddedPacker(*buf, phaseTaps(&c.qtaps, c.In, hq, wq), 4*c.In, hq, wq, ho, wo)
		simd.SgemmPacked(c.Out, n*ohw, c.In*9, simd.RowMajorPacker(wt, c.In*9), pack, bias, 0,
			simd.GroupedC{C: y, Ldc: ohw, Group: ohw, GroupStride: c.Out * ohw})
		return y, ho, wo
	}
	// Y (Out, N*Ho*Wo) = W (Out, In*K*K) col + bias, one product over the
	// whole batch; col is packed panel by panel straight from x.
	g := convGeom{c: c.In, h: h, w: w, ho: ho, wo: wo, k: c.K, s: c.Stride, pad: c.Pad}
	c.product(y, wt, x, bias, 0, c.Out, n, g)
	return y, ho, wo
}

// forwardPadded is Forward for an input that the caller wrote, already
// zero-bordered, into c.padded (N, In, H+2Pad, W+2Pad); stride 1, Pad > 0,
// not narrow (Backward then reads x from c.padded).
func (c *Conv2d) forwardPadded(n, h, w int) (y []float32, ho, wo int) {
	hp, wp := h+2*c.Pad, w+2*c.Pad
	if c.Stride != 1 || c.Pad == 0 || c.narrow() || len(c.padded) != n*c.In*hp*wp {
		panic(fmt.Sprintf("nn.Conv2d: padded input of length %d for (N=%d, C=%d, H=%d, W=%d), stride %d, pad %d", len(c.padded), n, c.In, h, w, c.Stride, c.Pad))
	}
	ho, wo = c.OutSize(h), c.OutSize(w)
	c.x, c.n, c.h, c.w, c.ho, c.wo = nil, n, h, w, ho, wo
	y = Grow(&c.y, n*c.Out*ho*wo)
	var bias []float32
	if c.Bias.Size > 0 {
		bias = c.P.Data(c.Bias)
	}
	// The padded input is an unpadded convolution of the bordered image.
	g := convGeom{c: c.In, h: hp, w: wp, ho: ho, wo: wo, k: c.K, s: 1}
	c.product(y, c.P.Data(c.Weight), c.padded, bias, 0, c.Out, n, g)
	return y, ho, wo
}

// Backward takes dy (N, Out, Ho, Wo), accumulates the weight and bias
// gradients and returns dx (N, In, H, W) (nil when SkipInputGrad is set).
func (c *Conv2d) Backward(dy []float32) []float32 {
	return c.backward(dy, nil)
}

// BackwardAdd is Backward that adds dx into dst (N, In, H, W) instead of
// returning it: a residual branch whose gradient joins another one. For a
// stride-1 convolution with Pad <= K-1 (the flipped product) the product
// accumulates straight into dst; otherwise dx is formed and added. It does
// nothing to dst when the convolution skips its input gradient.
func (c *Conv2d) BackwardAdd(dy, dst []float32) {
	if len(dst) != c.n*c.In*c.h*c.w {
		panic(fmt.Sprintf("nn.Conv2d: dst has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(dst), c.n, c.In, c.h, c.w))
	}
	c.backward(dy, dst)
}

// backward is Backward, or with acc non-nil BackwardAdd into acc.
func (c *Conv2d) backward(dy, acc []float32) []float32 {
	n, ohw, ckk := c.n, c.ho*c.wo, c.In*c.K*c.K
	if len(dy) != n*c.Out*ohw {
		panic(fmt.Sprintf("nn.Conv2d: dy has length %d, want (N=%d, C=%d, H=%d, W=%d)", len(dy), n, c.Out, c.ho, c.wo))
	}
	needW := !c.P.NoGrad
	needX := !c.SkipInputGrad
	if !needW && !needX {
		return nil
	}
	wt := c.P.Data(c.Weight)
	var dx []float32
	// Stride 1: dx is the convolution of dy with the flipped, transposed
	// kernel and padding K-1-Pad, computed like Forward (no col2im).
	flipX := needX && c.Stride == 1 && c.Pad <= c.K-1
	if needX && !flipX {
		dx = Grow(&c.dx, n*c.In*c.h*c.w)
		clear(dx)
	}
	oldX := needX && !flipX
	// dW = dy col^T (Out, In*K*K) as packed products over the batch, read
	// from channels-last copies of x and dy, or by Winograd's transforms for
	// the layers whose forward uses them; narrow layers take the im2col path
	// below.
	hp, wp := c.h+2*c.Pad, c.w+2*c.Pad
	winoW := needW && c.Stride == 1 && useWinograd(convGeom{c: c.In, h: c.h, w: c.w, ho: c.ho, wo: c.wo, k: c.K, s: 1, pad: c.Pad}, c.Out, hp, wp)
	packedW := needW && !c.narrow() && !winoW
	// The bias gradient: per image and channel the sum of dy's plane (taken
	// by weightGrad while the image is in cache), then over the images in
	// order.
	var dbSums []float64
	if needW && c.Bias.Size > 0 {
		dbSums = grow(&c.dbSums, n*c.Out)
		if !packedW {
			parallelFor(n*c.Out, ohw, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					dbSums[i] = sum32(dy[i*ohw : (i+1)*ohw])
				}
			})
		}
	}
	var dwT []float32
	oldW := needW && !packedW && !winoW
	if winoW {
		c.winogradWeightGrad(dy)
	}
	if packedW {
		dwT = Grow(&c.dwT, c.Out*ckk)
		c.weightGrad(dwT, dy, dbSums)
	} else if oldW {
		dwT = Grow(&c.dwT, ckk*c.Out)
		clear(dwT)
	}
	nc := c.chunk(n, ohw)
	for i0 := 0; i0 < n && (oldW || oldX); i0 += nc {
		m := min(nc, n-i0)
		cols := m * ohw
		// dyT: (Out, m*Ho*Wo).
		var dyT []float32
		if m == 1 {
			dyT = dy[i0*c.Out*ohw : (i0+1)*c.Out*ohw]
		} else {
			dyT = Grow(&c.dyT, c.Out*cols)
			parallelFor(m*c.Out, ohw, func(lo, hi int) {
				for it := lo; it < hi; it++ {
					img, co := it/c.Out, it%c.Out
					copy(dyT[co*cols+img*ohw:co*cols+(img+1)*ohw], dy[((i0+img)*c.Out+co)*ohw:((i0+img)*c.Out+co+1)*ohw])
				}
			})
		}
		if oldW {
			var b []float32
			if c.direct() && m == 1 {
				b = c.x[i0*ckk*ohw : (i0+1)*ckk*ohw]
			} else {
				b = Grow(&c.col, ckk*cols)
				c.im2col(b, c.x, i0, m)
			}
			// Few output channels (a last layer): dW (Out, In*K*K) +=
			// dyT col^T.
			simd.Sgemm(false, true, c.Out, ckk, cols, 1, dyT, cols, b, cols, 1, dwT, ckk)
		}
		if oldX {
			// Never direct(): a 1x1 stride-1 unpadded layer takes flipX.
			dcol := Grow(&c.dcol, ckk*cols)
			simd.Sgemm(true, false, ckk, cols, c.Out, 1, wt, ckk, dyT, cols, 0, dcol, cols)
			c.col2im(dx, dcol, i0, m)
		}
	}
	if flipX {
		dx = c.flipBackward(dy, wt, acc)
	} else if oldX && acc != nil {
		Accumulate(acc, dx)
	}
	if dbSums != nil {
		db := c.P.Grad(c.Bias)
		for co := range db {
			var s float64
			for img := 0; img < n; img++ {
				s += dbSums[img*c.Out+co]
			}
			db[co] += float32(s)
		}
	}
	if needW && !winoW {
		dw := c.P.Grad(c.Weight)
		if oldW {
			for r, v := range dwT {
				dw[r] += v
			}
			return dx
		}
		// dwT holds the taps in the order (ky, kx, ci); dw in (ci, ky, kx).
		kk := c.K * c.K
		parallelFor(c.Out, ckk, func(lo, hi int) {
			for co := lo; co < hi; co++ {
				row := dw[co*ckk : (co+1)*ckk]
				src := dwT[co*ckk : (co+1)*ckk]
				for t := 0; t < kk; t++ {
					s := src[t*c.In : (t+1)*c.In]
					for ci, v := range s {
						row[ci*kk+t] += v
					}
				}
			}
		})
	}
	return dx
}

// convWChunk, when positive, overrides the number of images per product of
// weightGrad (tests).
var convWChunk = 0

// weightGrad sets dwn (Out, K*K*In), taps in the order (ky, kx, ci), to
// dy col^T. The batch goes in chunks of images: channels-last copies of a
// chunk of x (padded) and of dy, made while they are still in cache, turn
// every panel of the product into straight copies (simd.GatherRows), and
// the packed dy of a chunk stays in L2 while every panel of taps passes it.
// The chunks are summed in order, so results do not depend on the thread
// count.
//
// With dbSums non-nil (N, Out) it also sets dbSums[img*Out+co] to the sum
// of plane co of image img of dy (sum32), read right after the copy.
func (c *Conv2d) weightGrad(dwn, dy []float32, dbSums []float64) {
	n, ohw, ckk := c.n, c.ho*c.wo, c.In*c.K*c.K
	hp, wp := c.h+2*c.Pad, c.w+2*c.Pad
	// At most 2^17 values of dy per chunk.
	nb := max(1, (1<<17)/(c.Out*ohw))
	if convWChunk > 0 {
		nb = convWChunk
	}
	nb = min(nb, n)
	xnb := getScratch(nb * hp * wp * c.In)
	defer putScratch(xnb)
	dynb := getScratch(nb * ohw * c.Out)
	defer putScratch(dynb)
	xn, dyn := *xnb, *dynb
	taps := nhwcTaps(&c.ntaps, c.In, c.K, wp)
	pix := nhwcPixels(&c.pix, nb, c.In, hp, wp, c.ho, c.wo, c.Stride)
	// x from Forward, or zero-bordered from forwardPadded.
	src, sh, sw, spad := c.x, c.h, c.w, c.Pad
	if src == nil {
		src, sh, sw, spad = c.padded, hp, wp, 0
	}
	xs, ys := c.In*sh*sw, c.Out*ohw // per image
	for i0 := 0; i0 < n; i0 += nb {
		m := min(nb, n-i0)
		x, d := src[i0*xs:(i0+m)*xs], dy[i0*ys:(i0+m)*ys]
		// One task per image of either copy.
		parallelFor(2*m, 2*hp*wp*max(c.In, c.Out), func(lo, hi int) {
			for it := lo; it < hi; it++ {
				if it < m {
					nhwcImage(xn, x, it, c.In, sh, sw, spad)
				} else {
					nhwcImage(dyn, d, it-m, c.Out, c.ho, c.wo, 0)
					if dbSums != nil {
						img := i0 + it - m
						for co := 0; co < c.Out; co++ {
							dbSums[img*c.Out+co] = sum32(dy[(img*c.Out+co)*ohw : (img*c.Out+co+1)*ohw])
						}
					}
				}
			}
		})
		beta := float32(1)
		if i0 == 0 {
			beta = 0
		}
		simd.SgemmPacked(c.Out, ckk, m*ohw, nhwcChanPacker(dyn[:m*ys], c.Out), nhwcTapPacker(xn, taps, pix[:m*ohw]), nil, beta,
			simd.GroupedC{C: dwn, Ldc: ckk, Group: ckk})
	}
}

// winogradWeightGrad adds dW for dy to the weight gradient with
// simd.Conv3x3WinogradWeightGrad, from the zero-bordered input that
// forwardPadded kept, or a bordered copy of x made here.
func (c *Conv2d) winogradWeightGrad(dy []float32) {
	xp := c.padded
	if c.x != nil {
		hp, wp := c.h+2*c.Pad, c.w+2*c.Pad
		buf := getScratch(c.n * c.In * hp * wp)
		defer putScratch(buf)
		xp = *buf
		padPlanes(xp, c.x, c.n*c.In, c.h, c.w, c.Pad)
	}
	simd.Conv3x3WinogradWeightGrad(c.P.Grad(c.Weight), xp, dy, c.n, c.In, c.Out, c.ho, c.wo)
}

// flipBackward returns dx for a stride-1 convolution: the convolution of dy
// (N, Out, Ho, Wo) with the kernel flipped in space and transposed in
// channels, Wf[ci][co][ky][kx] = W[co][ci][K-1-ky][K-1-kx], and padding
// K-1-Pad.
// With acc non-nil it adds dx into acc and returns acc.
func (c *Conv2d) flipBackward(dy, wt, acc []float32) []float32 {
	if c.direct() {
		// dx_i = W^T dy_i per image.
		hw := c.h * c.w
		dx, beta := acc, float32(1)
		if acc == nil {
			dx, beta = Grow(&c.dx, c.n*c.In*hw), 0
		}
		simd.SgemmBatch(c.n, true, false, c.In, hw, c.Out, 1, wt, c.In, 0, dy, hw, c.Out*hw, beta, dx, hw, c.In*hw, nil)
		return dx
	}
	k, kk := c.K, c.K*c.K
	okk := c.Out * kk
	wf := Grow(&c.wflip, c.In*okk)
	for co := 0; co < c.Out; co++ {
		for ci := 0; ci < c.In; ci++ {
			src := wt[(co*c.In+ci)*kk : (co*c.In+ci+1)*kk]
			dst := wf[ci*okk+co*kk : ci*okk+(co+1)*kk]
			for t := range src {
				ky, kx := t/k, t%k
				dst[(k-1-ky)*k+k-1-kx] = src[t]
			}
		}
	}
	hw := c.h * c.w
	g := convGeom{c: c.Out, h: c.ho, w: c.wo, ho: c.h, wo: c.w, k: k, s: 1, pad: k - 1 - c.Pad}
	if acc != nil {
		c.product(acc, wf, dy, nil, 1, c.In, c.n, g)
		return acc
	}
	dx := Grow(&c.dx, c.n*c.In*hw)
	c.product(dx, wf, dy, nil, 0, c.In, c.n, g)
	return dx
}

// product computes out (N, m, Ho, Wo) = wmat (m, C*K*K) col(in) + bias (or
// + beta*out, beta 0 or 1, without bias) for the convolution g of in (N, C,
// H, W), as one SgemmPacked over the batch.
// Stride 1 with padding copies in once into a zero-bordered buffer so that
// the panels are straight copies; other strides read in directly.
func (c *Conv2d) product(out, wmat, in, bias []float32, beta float32, m, n int, g convGeom) {
	ckk := g.c * g.k * g.k
	ohw := g.ho * g.wo
	var pack simd.Packer
	switch {
	case g.s == 1:
		src := in
		hp, wp := g.h+2*g.pad, g.w+2*g.pad
		if g.pad > 0 {
			buf := getScratch(n * g.c * hp * wp)
			defer putScratch(buf)
			src = *buf
			padPlanes(src, in, n*g.c, g.h, g.w, g.pad)
		}
		if useWinograd(g, m, hp, wp) {
			simd.Conv3x3Winograd(out, src, wmat, bias, beta, n, g.c, m, g.ho, g.wo)
			return
		}
		pack = paddedPacker(src, convTaps(&c.taps, g.c, g.k, hp, wp), g.c, hp, wp, g.ho, g.wo)
	default:
		pack = colPacker(in, g)
	}
	simd.SgemmPacked(m, n*ohw, ckk, simd.RowMajorPacker(wmat, ckk), pack, bias, beta,
		simd.GroupedC{C: out, Ldc: ohw, Group: ohw, GroupStride: m * ohw})
}

// convWinograd switches the Winograd path of product off (benchmarks time
// both paths side by side; tests compare them).
var convWinograd = true

// useWinograd says whether product computes the stride-1 convolution g of
// a bordered hp x wp input into m channels with simd.Conv3x3Winograd: a
// 3x3 kernel whose bordered input is the output plus one pixel on every
// side (so any padding: product has applied it), a shape and kernel set
// the Winograd kernels serve, and at least 16 channels on both sides for
// its 16 matrix products (a judgement, not a measurement: the one-channel
// first and last layers of a U-Net are far below it, all others above).
func useWinograd(g convGeom, m, hp, wp int) bool {
	return convWinograd && g.k == 3 && hp == g.ho+2 && wp == g.wo+2 && g.c >= 16 && m >= 16 &&
		simd.WinogradFits(g.ho, g.wo)
}
