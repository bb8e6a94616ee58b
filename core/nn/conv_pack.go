package nn

import "github.com/cdp-project/cdp/simd"

// convGeom is the geometry of a convolution over a batch: channels C of an
// h x w input, k x k kernel, stride s, padding pad, output ho x wo.
type convGeom struct {
	c, h, w, ho, wo, k, s, pad int
}

// convRun is a stretch of consecutive lanes of a packed panel whose output
// pixels lie in one output row of one image.
type convRun struct {
	lane, n, img, oy, ox int
}

// colPacker returns the B packer of the convolution product for input x
// (N, C, H, W): the im2col matrix (C*k*k rows, one column per output pixel
// of every image, img*ho*wo + oy*wo + ox) is never formed; each panel reads
// its values straight from x, zero outside the image. Stride 1 uses
// paddedPacker instead; this one serves the strided convolutions.
func colPacker(x []float32, g convGeom) simd.Packer {
	h, w, wo, k, s, pad, cin := g.h, g.w, g.wo, g.k, g.s, g.pad, g.c
	ohw := g.ho * wo
	kk := k * k
	return func(dst []float32, stride, k0, kc, j0, cnt int) {
		var buf [16]convRun
		runs := buf[:0]
		for i := 0; i < cnt; {
			j := j0 + i
			img, q := j/ohw, j%ohw
			oy, ox := q/wo, q%wo
			l := min(cnt-i, wo-ox)
			runs = append(runs, convRun{lane: i, n: l, img: img, oy: oy, ox: ox})
			i += l
		}
		hw := h * w
		// (ci, ky, kx) of row k0, then stepped along with p (no divisions
		// in the loop).
		ci, t := k0/kk, k0%kk
		ky, kx := t/k, t%k
		for p := 0; p < kc; p++ {
			d := dst[p*stride : p*stride+cnt]
			for _, ru := range runs {
				o := d[ru.lane : ru.lane+ru.n]
				iy := ru.oy*s - pad + ky
				if iy < 0 || iy >= h {
					clear(o)
					continue
				}
				src := x[(ru.img*cin+ci)*hw+iy*w : (ru.img*cin+ci)*hw+(iy+1)*w]
				if s != 1 {
					for l := range o {
						ix := (ru.ox+l)*s - pad + kx
						if ix >= 0 && ix < w {
							o[l] = src[ix]
						} else {
							o[l] = 0
						}
					}
					continue
				}
				ix0 := ru.ox - pad + kx // input column of the first lane
				l0, l1 := min(max(0, -ix0), ru.n), min(ru.n, w-ix0)
				if l0 >= l1 {
					clear(o)
					continue
				}
				clear(o[:l0])
				copy(o[l0:l1], src[ix0+l0:ix0+l1])
				clear(o[l1:])
			}
			if kx++; kx == k {
				kx = 0
				if ky++; ky == k {
					ky = 0
					ci++
				}
			}
		}
	}
}

// padPlanes writes x (N*C planes of h x w) into xp with pad zeros on every
// side (planes of (h+2pad) x (w+2pad)).
func padPlanes(xp, x []float32, planes, h, w, pad int) {
	hp, wp := h+2*pad, w+2*pad
	parallelFor(planes, hp*wp, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			dst := xp[pl*hp*wp : (pl+1)*hp*wp]
			src := x[pl*h*w : (pl+1)*h*w]
			clear(dst[:pad*wp])
			clear(dst[(pad+h)*wp:])
			for y := 0; y < h; y++ {
				row := dst[(pad+y)*wp : (pad+y+1)*wp]
				for i := 0; i < pad; i++ { // pad is 1 or 2: no memclr calls
					row[i] = 0
					row[pad+w+i] = 0
				}
				copy(row[pad:pad+w], src[y*w:(y+1)*w])
			}
		}
	})
}

// paddedPacker is colPacker for stride 1 on an input padded by padPlanes
// (xp: N planes-groups of C planes of hp x wp): every lane of a panel row is
// in range, so a row of a panel is one or a few straight copies, from
// offsets tab[r] = (ci*hp + ky)*wp + kx of the kernel tap r.
func paddedPacker(xp []float32, tab []int32, c, hp, wp, ho, wo int) simd.Packer {
	ohw := ho * wo
	return func(dst []float32, stride, k0, kc, j0, cnt int) {
		var buf [16]convRun
		runs := buf[:0]
		for i := 0; i < cnt; {
			j := j0 + i
			img, q := j/ohw, j%ohw
			oy, ox := q/wo, q%wo
			l := min(cnt-i, wo-ox)
			// base: offset of output pixel (oy, ox) of image img, tap 0.
			runs = append(runs, convRun{lane: i, n: l, img: img*c*hp*wp + oy*wp + ox})
			i += l
		}
		t := tab[k0 : k0+kc]
		if len(runs) == 1 && cnt == stride {
			simd.GatherRows(dst, stride, xp, runs[0].img, t)
			return
		}
		if len(runs) == 2 && runs[0].n == 8 && runs[1].n == 8 && stride == 16 {
			// Two rows of an 8-pixel-wide output.
			simd.GatherRowPairs(dst, xp, runs[0].img, runs[1].img, t)
			return
		}
		for p, o := range t {
			d := dst[p*stride : p*stride+cnt]
			for _, ru := range runs {
				src := xp[ru.img+int(o) : ru.img+int(o)+ru.n]
				if ru.n == 8 {
					copy8(d[ru.lane:ru.lane+8], src)
					continue
				}
				copy(d[ru.lane:ru.lane+ru.n], src)
			}
		}
	}
}

// convTaps returns tab[r] = (ci*hp + ky)*wp + kx for r = (ci*k + ky)*k + kx.
func convTaps(tab *[]int32, c, k, hp, wp int) []int32 {
	t := grow(tab, c*k*k)
	for ci := 0; ci < c; ci++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				t[(ci*k+ky)*k+kx] = int32((ci*hp+ky)*wp + kx)
			}
		}
	}
	return t
}

// copy8 copies 8 values through registers (an array assignment between
// slices that might overlap would call memmove).
func copy8(dst, src []float32) {
	d, s := (*[8]float32)(dst), (*[8]float32)(src)
	d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
}

// nhwcImage writes image img of dst (N, H+2pad, W+2pad, C), the
// channels-last copy of src (N, C, H, W) with pad zeros on every side: a
// transpose (simd.Transpose) of the (C, H*W) image, row by row of the image
// when padded.
func nhwcImage(dst, src []float32, img, c, h, w, pad int) {
	hp, wp := h+2*pad, w+2*pad
	hw := h * w
	out := dst[img*hp*wp*c : (img+1)*hp*wp*c]
	in := src[img*c*hw : (img+1)*c*hw]
	// Large planes are far apart and x usually comes from memory: eight
	// planes at a time make eight sequential read streams (as fast as a
	// copy); small images go in one call, or one per image row.
	octets := hw >= 1024
	if pad == 0 {
		if octets {
			for c0 := 0; c0 < c; c0 += 8 {
				simd.Transpose(out[c0:], c, in[c0*hw:], hw, min(8, c-c0), hw)
			}
			return
		}
		simd.Transpose(out, c, in, hw, c, hw)
		return
	}
	clear(out[:pad*wp*c])
	clear(out[(pad+h)*wp*c:])
	for y := pad; y < pad+h; y++ {
		clear(out[y*wp*c : (y*wp+pad)*c])
		clear(out[(y*wp+pad+w)*c : (y+1)*wp*c])
	}
	if octets {
		for c0 := 0; c0 < c; c0 += 8 {
			rows := min(8, c-c0)
			for y := 0; y < h; y++ {
				simd.Transpose(out[((y+pad)*wp+pad)*c+c0:], c, in[c0*hw+y*w:], hw, rows, w)
			}
		}
		return
	}
	for y := pad; y < pad+h; y++ {
		simd.Transpose(out[(y*wp+pad)*c:], c, in[(y-pad)*w:], hw, c, w)
	}
}

// nhwcTaps returns tab[r] = (ky*wp + kx)*c + ci for the kernel taps in the
// order r = (ky*k + kx)*c + ci: the offset of tap r from its output pixel's
// window corner in the NHWC layout of nhwcImage. Taps of one kernel row are
// contiguous.
func nhwcTaps(tab *[]int32, c, k, wp int) []int32 {
	t := grow(tab, c*k*k)
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			for ci := 0; ci < c; ci++ {
				t[(ky*k+kx)*c+ci] = int32((ky*wp+kx)*c + ci)
			}
		}
	}
	return t
}

// nhwcPixels returns tab[j] = ((img*hp + oy*s)*wp + ox*s)*c for the output
// pixels j = img*ho*wo + oy*wo + ox: the window corner of every output pixel
// in the NHWC layout of nhwcImage.
func nhwcPixels(tab *[]int32, n, c, hp, wp, ho, wo, s int) []int32 {
	t := grow(tab, n*ho*wo)
	for img := 0; img < n; img++ {
		for oy := 0; oy < ho; oy++ {
			row := t[(img*ho+oy)*wo : (img*ho+oy+1)*wo]
			base := ((img*hp + oy*s) * wp) * c
			for ox := range row {
				row[ox] = int32(base + ox*s*c)
			}
		}
	}
	return t
}

// nhwcTapPacker is the B packer of the weight gradient dW = dy col^T (Out,
// C*K*K), taps in the order of nhwcTaps: line j is tap j, the reduction runs
// over the output pixels, pix[p] being the window corner of pixel p in xn
// (the NHWC input of nhwcImage). A panel of taps of one kernel row is, for every
// pixel, one contiguous run of xn: a row of simd.GatherRows.
func nhwcTapPacker(xn []float32, taps, pix []int32) simd.Packer {
	return func(dst []float32, stride, k0, kc, j0, cnt int) {
		offs := pix[k0 : k0+kc]
		t := taps[j0 : j0+cnt]
		base := int(t[0])
		if cnt == stride && int(t[cnt-1])-base == cnt-1 {
			simd.GatherRows(dst, stride, xn, base, offs)
			return
		}
		for p, o := range offs {
			d := dst[p*stride : p*stride+cnt]
			for i, to := range t {
				d[i] = xn[int(o)+int(to)]
			}
		}
	}
}

// nhwcChanPacker is the A packer of dW = dy col^T: line co is output channel
// co of dyn (the output pixels of the product, Out values each, from
// nhwcImage), the reduction runs over the pixels.
func nhwcChanPacker(dyn []float32, out int) simd.Packer {
	return func(dst []float32, stride, k0, kc, i0, cnt int) {
		src := dyn[k0*out+i0 : (k0+kc-1)*out+i0+cnt]
		if cnt == 6 && stride == 6 {
			for p := 0; p < kc; p++ {
				s := (*[6]float32)(src[p*out:])
				d := (*[6]float32)(dst[p*6:])
				d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
			}
			return
		}
		for p := 0; p < kc; p++ {
			copy(dst[p*stride:p*stride+cnt], src[p*out:p*out+cnt])
		}
	}
}

// A stride-2 3x3 convolution with padding 1 over an even-sized input reads,
// for tap (ky, kx) and output pixel (oy, ox), x[2oy-1+ky][2ox-1+kx]: an
// element of one of the four phases of x (even or odd rows and columns), at
// (oy, ox) or one row or column before. Split into its phases, each with a
// zero row above and a zero column on the left, x turns every row of the
// forward's im2col matrix into a straight copy (paddedPacker with
// phaseTaps) instead of a strided gather. (The input gradient keeps col2im:
// adding into phase planes and copying them out measured no faster on two
// cores.)

// phased says that the convolution's forward takes the phase path.
func (c *Conv2d) phased(h, w int) bool {
	return c.K == 3 && c.Stride == 2 && c.Pad == 1 && h%2 == 0 && w%2 == 0
}

// toPhases writes x (planes of h x w) into xq (planes*4 planes of
// (h/2+1) x (w/2+1)): plane 4p+2*py+px holds x[2r+py][2s+px] at (r+1, s+1),
// zero in its first row and column.
func toPhases(xq, x []float32, planes, h, w int) {
	hq, wq := h/2+1, w/2+1
	parallelFor(planes, 2*h*w, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x[pl*h*w : (pl+1)*h*w]
			q := xq[4*pl*hq*wq : 4*(pl+1)*hq*wq]
			for ph := 0; ph < 4; ph++ {
				clear(q[ph*hq*wq : ph*hq*wq+wq])
			}
			// Each input row once: its even and odd columns go to the
			// phases (py, 0) and (py, 1).
			for y := 0; y < h; y++ {
				py, r := y%2, y/2
				e := q[(2*py)*hq*wq+(r+1)*wq : (2*py)*hq*wq+(r+2)*wq]
				o := q[(2*py+1)*hq*wq+(r+1)*wq : (2*py+1)*hq*wq+(r+2)*wq]
				e[0], o[0] = 0, 0
				e, o = e[1:], o[1:]
				in := src[y*w : y*w+2*len(e)]
				for s := range e {
					e[s], o[s] = in[2*s], in[2*s+1]
				}
			}
		}
	})
}

// phaseTaps returns tab[r], for r = (ci*3 + ky)*3 + kx, the offset of tap r
// from its output pixel (oy, ox) at oy*wq + ox in the phase planes of
// toPhases (c channels, 4 planes each, hq x wq).
func phaseTaps(tab *[]int32, c, hq, wq int) []int32 {
	t := grow(tab, 9*c)
	for ci := 0; ci < c; ci++ {
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				ph := (ky+1)%2*2 + (kx+1)%2
				dy, dx := min(ky, 1), min(kx, 1) // a tap 0 reads the row (column) before
				t[(ci*3+ky)*3+kx] = int32((4*ci+ph)*hq*wq + dy*wq + dx)
			}
		}
	}
	return t
}
