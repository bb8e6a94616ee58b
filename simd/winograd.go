package simd

import (
	"fmt"
	"sync/atomic"
)

// Winograd's minimal filtering F(2x2, 3x3) for a stride-1 3x3 convolution:
// each 2x2 block of outputs (a tile) is
//
//	Y = A^T [ (G g G^T) .* (B^T d B) ] A
//
// summed over the input channels, where d is the tile's 4x4 input patch, g
// the 3x3 kernel and
//
//	B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//	A^T = [1 1 1 0; 0 1 -1 -1]
//
// The sum over channels of the 16 element-wise products is 16 matrix
// products U[xi] (M x C) V[xi] (C x tiles), one per element xi = 4r+c of the
// 4x4 transformed tile: 2.25 times fewer multiply-adds than the direct
// convolution (16 per tile instead of 36), paid for with the two transforms.
//
// The transform kernels work on panels of 16 tiles (the matrix kernel's
// 16 columns), two groups of 8, each group two runs of 4 tiles that are
// adjacent in one row of tiles (runs 0 and 1 in group 0, runs 2 and 3 in
// group 1). Within a group the lanes hold the tiles in the order r0 r1 s0
// s1 r2 r3 s2 s3 (r, s its two runs): the order in which the AVX2 shuffles
// deinterleave the even and odd columns of two runs. The input and output
// transforms use the same order, so the matrix products never see it.

// winoLane returns the run (0 to 3) and the tile within the run of lane l
// (0 to 15) of a panel.
func winoLane(l int) (run, tile int) {
	g, q := l/8, l%8
	return 2*g + (q>>1)&1, q&1 + 2*(q>>2)
}

// winoInGeneric is the input transform of one panel of 16 tiles over
// planes channels: the patch of lane l in channel ci starts at
// x[ci*ps+o[run]+2*tile] (rows ld apart), and its transformed element xi is
// written to v[xi*vs+ci*vc+l]. The row transform (along a patch row) comes
// first, then the column transform.
func winoInGeneric(v []float32, vs, vc int, x []float32, o [4]int, ld, planes, ps int) {
	for ci := 0; ci < planes; ci++ {
		for l := 0; l < 16; l++ {
			run, tile := winoLane(l)
			b := ci*ps + o[run] + 2*tile
			var t [4][4]float32
			for r := 0; r < 4; r++ {
				d := x[b+r*ld : b+r*ld+4]
				t[r] = [4]float32{d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]}
			}
			for c := 0; c < 4; c++ {
				q := ci*vc + l
				v[c*vs+q] = t[0][c] - t[2][c]
				v[(4+c)*vs+q] = t[1][c] + t[2][c]
				v[(8+c)*vs+q] = t[2][c] - t[1][c]
				v[(12+c)*vs+q] = t[1][c] - t[3][c]
			}
		}
	}
}

// winoDyGeneric is the transform of the output gradient for the weight
// gradient, over one panel of 16 tiles and planes channels: the 2x2 tile of
// lane l in channel co starts at dy[co*ps+o[run]+2*tile] (rows ld apart),
// and element xi of A dy A^T is written to v[xi*vs+co*vc+l], with
//
//	A^T = [1 1 1 0; 0 1 -1 -1]
//
// A times dy first (its rows p, q), then each row times A^T: p, p+q, p-q, -q.
func winoDyGeneric(v []float32, vs, vc int, dy []float32, o [4]int, ld, planes, ps int) {
	for co := 0; co < planes; co++ {
		for l := 0; l < 16; l++ {
			run, tile := winoLane(l)
			b := co*ps + o[run] + 2*tile
			d00, d01, d10, d11 := dy[b], dy[b+1], dy[b+ld], dy[b+ld+1]
			rows := [4][2]float32{{d00, d01}, {d00 + d10, d01 + d11}, {d00 - d10, d01 - d11}, {-d10, -d11}}
			q := co*vc + l
			for r, pq := range rows {
				p, s := pq[0], pq[1]
				v[4*r*vs+q] = p
				v[(4*r+1)*vs+q] = p + s
				v[(4*r+2)*vs+q] = p - s
				v[(4*r+3)*vs+q] = -s
			}
		}
	}
}

// winoOutGeneric is the output transform of one panel of 16 tiles for rows
// output channels: element xi of lane l of channel co is m[xi*ms+co*mrow+l];
// the 2x2 outputs of the lane go to y at co*yplane+o[run]+2*tile (rows ld
// apart), plus bias[co] when bias is non-nil, added to what is there when
// acc is set. Only the first runs runs are written. The column transform
// comes first, then the row transform.
func winoOutGeneric(y, m []float32, ms, mrow, rows int, o [4]int, runs, ld, yplane int, bias []float32, acc bool) {
	for co := 0; co < rows; co++ {
		for l := 0; l < 16; l++ {
			run, tile := winoLane(l)
			if run >= runs {
				continue
			}
			var mm [16]float32
			for xi := range mm {
				mm[xi] = m[xi*ms+co*mrow+l]
			}
			var s0, s1 [4]float32
			for c := 0; c < 4; c++ {
				s0[c] = mm[c] + mm[4+c] + mm[8+c]
				s1[c] = mm[4+c] - mm[8+c] - mm[12+c]
			}
			y00, y01 := s0[0]+s0[1]+s0[2], s0[1]-s0[2]-s0[3]
			y10, y11 := s1[0]+s1[1]+s1[2], s1[1]-s1[2]-s1[3]
			if bias != nil {
				y00 += bias[co]
				y01 += bias[co]
				y10 += bias[co]
				y11 += bias[co]
			}
			p := co*yplane + o[run] + 2*tile
			if acc {
				y00 += y[p]
				y01 += y[p+1]
				y10 += y[p+ld]
				y11 += y[p+ld+1]
			}
			y[p], y[p+1], y[p+ld], y[p+ld+1] = y00, y01, y10, y11
		}
	}
}

// winoBlockTiles, when positive (a multiple of 16), overrides the number of
// tiles per block (benchmarks).
var winoBlockTiles int

// winoGradChunk, when positive (a multiple of 16), overrides the number of
// tiles per chunk of Conv3x3WinogradWeightGrad (tests, benchmarks).
var winoGradChunk int

// winoGenericTransforms, when set (tests), makes Conv3x3Winograd use the
// generic transforms with the current set's matrix kernel.
var winoGenericTransforms bool

// WinogradFits reports whether Conv3x3Winograd can compute an h x w output
// with the kernel set in use: h even, w a multiple of 8, and a set with the
// Winograd transforms (AVX2; elsewhere the caller uses its im2col product).
func WinogradFits(h, w int) bool {
	k := current.Load()
	return h > 0 && w > 0 && h%2 == 0 && w%8 == 0 && k.winoIn != nil && k.winoOut != nil && k.winoDy != nil && k.gemm.nr == 16
}

// Conv3x3Winograd sets out (N, M, H, W) to the stride-1 3x3 convolution of
// xp (N, C, H+2, W+2), an input that already carries its one-pixel zero
// border, with the kernel wt (M, C, 3, 3), plus bias (length M, or nil), by
// Winograd's F(2x2, 3x3); with beta = 1 it adds the result to out instead.
// WinogradFits(H, W) must hold. Tiles are shared out in blocks, each computed
// whole by one worker, so results do not depend on the thread count. The
// result differs from a direct convolution by rounding only (the transforms
// add up to 16 terms; the relative error stays within a few float32 ulps of
// the input's scale times C).
func Conv3x3Winograd(out, xp, wt, bias []float32, beta float32, n, c, m, h, w int) {
	if (beta != 0 && beta != 1) || (bias != nil && len(bias) < m) {
		panic(fmt.Sprintf("simd.Conv3x3Winograd: beta=%v len(bias)=%d for M=%d", beta, len(bias), m))
	}
	tl := winoShape("Conv3x3Winograd", xp, wt, out, n, c, m, h, w)
	if n == 0 {
		return
	}
	kern := current.Load()
	in, outT, _ := winoTransforms(kern)
	g := kern.gemm
	mr := g.mr
	mPad := roundUp(m, mr)
	kcb := kcFor(c)
	ub := getBuf(16 * mPad * c)
	defer floatPool.Put(ub)
	u := *ub
	winoWeights(u, wt, m, c, mr, mPad, kcb)

	tiles := tl.tiles
	// Tiles per block: the transformed inputs and products of a block
	// (16*(C+M) values per tile) stay within about 384 KiB of L2.
	tb := min(max(16, 98304/(16*(c+mPad))/16*16), 256)
	if winoBlockTiles > 0 {
		tb = winoBlockTiles
	}
	tb = min(tb, roundUp(tiles, 16))
	nBlocks := (tiles + tb - 1) / tb
	workers := min(Threads(), nBlocks)
	if 16*tiles*c*mPad < 64*64*64 {
		workers = 1
	}
	// xi strides of the transformed inputs and of the products, one cache
	// line more than they hold: a whole multiple of 4 KiB would put the 16
	// lines a plane writes (or a row reads) into one or two L1 sets.
	vs := tb*c + 16
	ms := mPad*tb + 16
	var next atomic.Int32
	Parallel(max(workers, 1), func(int) {
		buf := getBuf(16*vs + 16*ms)
		defer floatPool.Put(buf)
		v, prod := (*buf)[:16*vs], (*buf)[16*vs:]
		for blk := range taken(&next, nBlocks) {
			t0 := blk * tb
			cnt := min(tb, tiles-t0)
			panels := (cnt + 15) / 16
			// Input transform, panel by panel: a run past the last tile
			// repeats the last valid run (its lanes are computed but never
			// stored).
			for p := 0; p < panels; p++ {
				var o [4]int
				for run := range o {
					t := min(t0+16*p+4*run, tiles-4)
					o[run] = tl.in(t)
				}
				in(v[p*c*16:], vs, 16, xp, o, tl.wp, c, tl.hp*tl.wp)
			}
			// The 16 products, column panel by column panel (its C x 16
			// inputs stay in L1 while every row panel of U[xi] passes).
			// With one k block and a block kernel, one call per xi does
			// every full row panel of every column panel.
			mFull := m / mr * mr
			whole := kcb == c && g.block != nil && g.blockStore != nil && mFull > 0
			for xi := 0; xi < 16; xi++ {
				ux, vx, px := u[xi*mPad*c:(xi+1)*mPad*c], v[xi*vs:xi*vs+panels*c*16], prod[xi*ms:]
				if whole {
					g.blockStore(c, ux, vx, px, tb, mFull, 16*panels)
				}
				for p := 0; p < panels; p++ {
					for k0 := 0; k0 < c; k0 += kcb {
						kc := min(kcb, c-k0)
						bp := vx[p*c*16+k0*16 : p*c*16+(k0+kc)*16]
						ir := 0
						if whole {
							ir = mFull
						}
						for ; ir < m; ir += mr {
							ap := ux[mPad*k0+ir*kc : mPad*k0+(ir+mr)*kc]
							winoTile(g, kc, ap, bp, px[ir*tb+p*16:], tb, min(mr, m-ir), k0 == 0)
						}
					}
				}
			}
			// Output transform.
			for p := 0; p < panels; p++ {
				var o [4]int
				runs := min(4, (cnt-16*p)/4)
				for run := 0; run < runs; run++ {
					o[run] = tl.out(t0 + 16*p + 4*run)
				}
				outT(out, prod[p*16:], ms, tb, m, o, runs, w, h*w, bias, beta == 1)
			}
		}
	})
}

// winoTransforms returns the Winograd transforms of kernel set k, or the
// generic ones when winoGenericTransforms is set.
func winoTransforms(k *kernelSet) (in func(v []float32, vs, vc int, x []float32, o [4]int, ld, planes, ps int),
	out func(y, m []float32, ms, mrow, rows int, o [4]int, runs, ld, yplane int, bias []float32, acc bool),
	dy func(v []float32, vs, vc int, dy []float32, o [4]int, ld, planes, ps int)) {
	if winoGenericTransforms {
		return winoInGeneric, winoOutGeneric, winoDyGeneric
	}
	return k.winoIn, k.winoOut, k.winoDy
}

// winoTiles is the tiling of a Winograd convolution: N images of C input
// channels bordered to hp x wp, M output channels of h x w, th x tw tiles
// of 2x2 outputs per image, numbered image by image, row by row.
type winoTiles struct {
	c, m, h, w, hp, wp, th, tw, tiles int
}

// in is the offset of tile t's 4x4 patch in the bordered input, channel 0.
func (tl winoTiles) in(t int) int {
	img, q := t/(tl.th*tl.tw), t%(tl.th*tl.tw)
	return img*tl.c*tl.hp*tl.wp + 2*(q/tl.tw)*tl.wp + 2*(q%tl.tw)
}

// out is the offset of tile t's 2x2 outputs (or output gradients) in the
// output, channel 0.
func (tl winoTiles) out(t int) int {
	img, q := t/(tl.th*tl.tw), t%(tl.th*tl.tw)
	return img*tl.m*tl.h*tl.w + 2*(q/tl.tw)*tl.w + 2*(q%tl.tw)
}

// winoShape checks the arguments both Winograd drivers share, the bordered
// input xp (N, C, H+2, W+2), the kernel or its gradient (M, C, 3, 3) and the
// output or its gradient (N, M, H, W), and returns their tiling; it panics
// naming the function fn.
func winoShape(fn string, xp, wt, y []float32, n, c, m, h, w int) winoTiles {
	if n < 0 || c <= 0 || m <= 0 {
		panic(fmt.Sprintf("simd.%s: n=%d c=%d m=%d", fn, n, c, m))
	}
	if !WinogradFits(h, w) {
		panic(fmt.Sprintf("simd.%s: %dx%d output with kernel set %s (WinogradFits is false)", fn, h, w, Impl()))
	}
	tl := winoTiles{c: c, m: m, h: h, w: w, hp: h + 2, wp: w + 2, th: h / 2, tw: w / 2}
	tl.tiles = n * tl.th * tl.tw
	if len(xp) < n*c*tl.hp*tl.wp || len(wt) < m*c*9 || len(y) < n*m*h*w {
		panic(fmt.Sprintf("simd.%s: len(xp)=%d, kernel %d, output %d for N=%d C=%d M=%d %dx%d", fn, len(xp), len(wt), len(y), n, c, m, h, w))
	}
	return tl
}

// winoTile runs the matrix kernel for one row panel (rows of it valid) of
// one column panel of a product: overwriting the tile when first, adding to
// it otherwise. The product buffer has mPad rows, so a short row panel may
// use the full kernel when the set has no edge kernel.
func winoTile(g gemmKernel, kc int, ap, bp, c []float32, ldc, rows int, first bool) {
	micro, store := g.micro, g.microStore
	if rows < g.mr {
		if e := g.edgeKernel(rows, false); e != nil {
			micro, store = e, g.edgeKernel(rows, true)
		}
	}
	if !first {
		micro(kc, ap, bp, c, ldc)
		return
	}
	if store != nil {
		store(kc, ap, bp, c, ldc)
		return
	}
	for i := 0; i < g.mr; i++ {
		clear(c[i*ldc : i*ldc+g.nr])
	}
	micro(kc, ap, bp, c, ldc)
}

// winoWeights writes U[xi] = (G g G^T)[xi] of the kernel wt (M, C, 3, 3)
// into u as packed A panels of the matrix kernel (mr rows, k blocks of kcb
// as packedSplitN lays them out): element (co, ci) of U[xi] is at
// u[xi*mPad*C + mPad*k0 + ir*kc + p*mr + i] with co = ir+i, ci = k0+p; rows
// past M are zero.
func winoWeights(u, wt []float32, m, c, mr, mPad, kcb int) {
	clear(u[:16*mPad*c])
	parallelRange(m, func(lo, hi int) {
		for co := lo; co < hi; co++ {
			ir, i := co/mr*mr, co%mr
			for ci := 0; ci < c; ci++ {
				gk := wt[(co*c+ci)*9 : (co*c+ci)*9+9]
				// Gg (4x3): the rows of g combined.
				var gg [4][3]float64
				for j := 0; j < 3; j++ {
					g0, g1, g2 := float64(gk[j]), float64(gk[3+j]), float64(gk[6+j])
					gg[0][j], gg[1][j], gg[2][j], gg[3][j] = g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2
				}
				k0 := ci / kcb * kcb
				kc := min(kcb, c-k0)
				p := ci - k0
				for r := 0; r < 4; r++ {
					a, b, e := gg[r][0], gg[r][1], gg[r][2]
					row := [4]float64{a, (a + b + e) / 2, (a - b + e) / 2, e}
					for q, val := range row {
						u[(4*r+q)*mPad*c+mPad*k0+ir*kc+p*mr+i] = float32(val)
					}
				}
			}
		}
	})
}

// parallelRange splits [0, n) into Threads() contiguous ranges run in
// parallel (each element's work is independent of the split).
func parallelRange(n int, f func(lo, hi int)) {
	workers := max(1, min(Threads(), n))
	Parallel(workers, func(w int) { f(n*w/workers, n*(w+1)/workers) })
}

// Conv3x3WinogradWeightGrad adds to dw (M, C, 3, 3) the gradient of the
// convolution Conv3x3Winograd computes, given its bordered input xp (N, C,
// H+2, W+2) and the gradient dy (N, M, H, W) of its output: with dU[xi] =
// sum over tiles of (A dy A^T)[xi] (B^T d B)[xi] (16 products M x C whose
// inner dimension is the tiles), dW = G^T dU G per (co, ci). WinogradFits(H,
// W) must hold.
//
// The tiles go in chunks whose transforms stay in L2, and the chunks in at
// most 8 groups, both of sizes fixed by the shape alone. A worker takes a
// whole group at a time (no barrier between chunks) and sums its chunks'
// products in order into the group's partial dU; the partials are then
// added in group order, so results do not depend on the thread count.
func Conv3x3WinogradWeightGrad(dw, xp, dy []float32, n, c, m, h, w int) {
	tl := winoShape("Conv3x3WinogradWeightGrad", xp, dw, dy, n, c, m, h, w)
	if n == 0 {
		return
	}
	kern := current.Load()
	in, _, dyT := winoTransforms(kern)
	tiles := tl.tiles
	// Tiles per chunk: the chunk's transforms (16*(C+M) values a tile) fill
	// about 1 MiB.
	tc := max(16, 16384/(c+m)/16*16)
	if winoGradChunk > 0 {
		tc = winoGradChunk
	}
	tc = min(tc, roundUp(tiles, 16))
	nChunks := (tiles + tc - 1) / tc
	groups := min(nChunks, 8)
	per := (nChunks + groups - 1) / groups
	groups = (nChunks + per - 1) / per
	mc := m * c
	partb := getBuf(groups * 16 * mc)
	defer floatPool.Put(partb)
	part := *partb
	// xi strides (padded off multiples of 4 KiB, as in Conv3x3Winograd); a
	// channel's lanes are tc long.
	vs, ys := c*tc+16, m*tc+16
	workers := min(Threads(), groups)
	if 16*tiles*c*m < 64*64*64 {
		workers = 1
	}
	var next atomic.Int32
	Parallel(max(workers, 1), func(int) {
		buf := getBuf(16*vs + 16*ys)
		defer floatPool.Put(buf)
		v, y := (*buf)[:16*vs], (*buf)[16*vs:]
		for g := range taken(&next, groups) {
			du := part[g*16*mc : (g+1)*16*mc]
			for ch := g * per; ch < min((g+1)*per, nChunks); ch++ {
				t0 := ch * tc
				cnt := min(tc, tiles-t0)
				panels := (cnt + 15) / 16
				for p := 0; p < panels; p++ {
					var oi, od [4]int
					runs := min(4, (cnt-16*p)/4)
					for run := range oi {
						t := t0 + 16*p + 4*min(run, runs-1)
						oi[run], od[run] = tl.in(t), tl.out(t)
					}
					in(v[p*16:], vs, tc, xp, oi, tl.wp, c, tl.hp*tl.wp)
					dyT(y[p*16:], ys, tc, dy, od, w, m, h*w)
					// Lanes of the runs past the last tile repeat a valid
					// run: zero them in y so that they add nothing.
					for l := 0; l < 16 && runs < 4; l++ {
						if run, _ := winoLane(l); run >= runs {
							for xi := 0; xi < 16; xi++ {
								for co := 0; co < m; co++ {
									y[xi*ys+co*tc+p*16+l] = 0
								}
							}
						}
					}
				}
				beta := float32(1)
				if ch == g*per {
					beta = 0
				}
				for xi := 0; xi < 16; xi++ {
					sgemm(kern.gemmPlain, 1, false, true, m, c, 16*panels, 1, y[xi*ys:], tc, v[xi*vs:], tc, beta, du[xi*mc:], c)
				}
			}
		}
	})
	// dU = the partials added in group order (into the first); dW += G^T
	// dU G.
	du := part[:16*mc]
	parallelRange(16*mc/64, func(lo, hi int) {
		lo, hi = lo*64, hi*64
		if hi == 16*mc/64*64 {
			hi = 16 * mc
		}
		for g := 1; g < groups; g++ {
			Add(du[lo:hi], du[lo:hi], part[g*16*mc+lo:g*16*mc+hi])
		}
	})
	parallelRange(m, func(lo, hi int) {
		for co := lo; co < hi; co++ {
			for ci := 0; ci < c; ci++ {
				var t [3][4]float64 // G^T dU
				for b := 0; b < 4; b++ {
					u0, u1 := float64(du[b*mc+co*c+ci]), float64(du[(4+b)*mc+co*c+ci])
					u2, u3 := float64(du[(8+b)*mc+co*c+ci]), float64(du[(12+b)*mc+co*c+ci])
					t[0][b] = u0 + (u1+u2)/2
					t[1][b] = (u1 - u2) / 2
					t[2][b] = (u1+u2)/2 + u3
				}
				g := dw[(co*c+ci)*9 : (co*c+ci)*9+9]
				for i := 0; i < 3; i++ {
					r := t[i]
					g[3*i] += float32(r[0] + (r[1]+r[2])/2)
					g[3*i+1] += float32((r[1] - r[2]) / 2)
					g[3*i+2] += float32((r[1]+r[2])/2 + r[3])
				}
			}
		}
	})
}
