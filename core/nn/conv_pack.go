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
	if cap(*tab) < c*k*k {
		*tab = make([]int32, c*k*k)
	}
	t := (*tab)[:c*k*k]
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

// tapPacker is the A packer of the weight gradient dW^T = col dy^T of a
// stride-1 convolution: line r is the kernel tap r of col, the reduction
// runs over the output pixels of the batch; values come from the padded
// input xp as in paddedPacker. Panels are transposed on the fly (6 taps per
// pixel for the 6-row micro-kernel panels).
func tapPacker(xp []float32, tab []int32, c, hp, wp, ho, wo int) simd.Packer {
	ohw := ho * wo
	return func(dst []float32, stride, k0, kc, i0, cnt int) {
		t := tab[i0 : i0+cnt]
		for q := 0; q < kc; {
			j := k0 + q
			img, pq := j/ohw, j%ohw
			oy, ox := pq/wo, pq%wo
			l := min(kc-q, wo-ox)
			base := img*c*hp*wp + oy*wp + ox
			if cnt == 6 && stride == 6 {
				s0 := xp[base+int(t[0]) : base+int(t[0])+l]
				s1 := xp[base+int(t[1]) : base+int(t[1])+l]
				s2 := xp[base+int(t[2]) : base+int(t[2])+l]
				s3 := xp[base+int(t[3]) : base+int(t[3])+l]
				s4 := xp[base+int(t[4]) : base+int(t[4])+l]
				s5 := xp[base+int(t[5]) : base+int(t[5])+l]
				// Equal lengths, so that the loop runs without bounds checks.
				s1, s2, s3, s4, s5 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)], s4[:len(s0)], s5[:len(s0)]
				d := dst[q*6 : (q+l)*6]
				for u := range s0 {
					o := (*[6]float32)(d[u*6:])
					o[0], o[1], o[2], o[3], o[4], o[5] = s0[u], s1[u], s2[u], s3[u], s4[u], s5[u]
				}
			} else {
				for i, o := range t {
					src := xp[base+int(o) : base+int(o)+l]
					d := dst[q*stride+i:]
					for u, v := range src {
						d[u*stride] = v
					}
				}
			}
			q += l
		}
	}
}

// chanPacker is the B packer of dW^T = col dy^T: line co is output channel
// co of dy (N, Out, Ho*Wo), the reduction runs over the output pixels.
func chanPacker(dy []float32, out, ohw int) simd.Packer {
	return func(dst []float32, stride, k0, kc, j0, cnt int) {
		for q := 0; q < kc; {
			j := k0 + q
			img, pq := j/ohw, j%ohw
			l := min(kc-q, ohw-pq)
			for i := 0; i < cnt; i++ {
				o := (img*out+j0+i)*ohw + pq
				src := dy[o : o+l]
				d := dst[q*stride+i:]
				for u, v := range src {
					d[u*stride] = v
				}
			}
			q += l
		}
	}
}
