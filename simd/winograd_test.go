package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cdp-project/cdp/simd/simdtest"
)

// TestWinogradTransforms: a set's Winograd transforms give the generic
// loops' bits (the lane order included) over several plane counts, offsets
// and strides, and write nothing else: every other element of v and y (the
// gaps and the guard bands) keeps its value.
func TestWinogradTransforms(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		k := current.Load()
		if k.winoIn == nil || k.winoOut == nil || k.winoDy == nil {
			if WinogradFits(8, 8) {
				t.Fatalf("WinogradFits is true without transforms in set %s", name)
			}
			return
		}
		r := rand.New(rand.NewPCG(71, 72))
		for trial := 0; trial < 60; trial++ {
			planes := 1 + r.IntN(5)
			ld := 10 + r.IntN(30)
			rowsX := 4 + r.IntN(4)
			ps := ld*rowsX + r.IntN(7)
			xlen := (planes-1)*ps + ld*rowsX
			x := simdtest.Offset(special(r, simdtest.Rand(r, xlen), 0.01), r.IntN(maxOff))
			// Patch origins anywhere the 4 rows and 10 columns fit.
			var o [4]int
			for i := range o {
				o[i] = r.IntN(rowsX-3)*ld + r.IntN(ld-9)
			}
			vc := 16 + 16*r.IntN(3) + r.IntN(2)*r.IntN(9)
			vs := planes*vc + r.IntN(20)
			nv := 15*vs + planes*vc
			type kern func(v []float32, vs, vc int, x []float32, o [4]int, ld, planes, ps int)
			for _, tr := range []struct {
				name      string
				ref, impl kern
			}{{"winoIn", winoInGeneric, k.winoIn}, {"winoDy", winoDyGeneric, k.winoDy}} {
				g := simdtest.NewGuarded(nv, r.IntN(maxOff))
				want := make([]float32, nv)
				for i := range want {
					want[i] = float32(-1000 - i)
				}
				copy(g.S(), want)
				tr.ref(want, vs, vc, x, o, ld, planes, ps)
				tr.impl(g.S(), vs, vc, x, o, ld, planes, ps)
				checkBits(t, fmt.Sprintf("%s planes=%d ld=%d vc=%d runs at %v", tr.name, planes, ld, vc, o), nv, 0, g, want)
			}

			rows := 1 + r.IntN(7)
			mrow := 16 + r.IntN(9)
			ms := rows*mrow + r.IntN(5)
			m := special(r, simdtest.Rand(r, 15*ms+rows*mrow), 0.01)
			// Runs never overlap (as in a convolution): each has its own
			// pair of rows, in a random order.
			yld := 8 + r.IntN(12)
			yplane := 8*yld + r.IntN(5)
			var oy [4]int
			for i, pair := range r.Perm(4) {
				oy[i] = 2*pair*yld + r.IntN(yld-7)
			}
			runs := 1 + r.IntN(4)
			var bias []float32
			if r.IntN(2) == 0 {
				bias = simdtest.Rand(r, rows)
			}
			acc := r.IntN(2) == 0
			ny := rows * yplane
			gy := simdtest.NewGuarded(ny, r.IntN(maxOff))
			wantY := simdtest.Rand(r, ny)
			copy(gy.S(), wantY)
			winoOutGeneric(wantY, m, ms, mrow, rows, oy, runs, yld, yplane, bias, acc)
			k.winoOut(gy.S(), m, ms, mrow, rows, oy, runs, yld, yplane, bias, acc)
			checkBits(t, fmt.Sprintf("winoOut rows=%d runs=%d acc=%v bias=%v", rows, runs, acc, bias != nil), ny, 0, gy, wantY)
		}
	})
}

// conv3x3Ref is the direct convolution in float64 of the bordered input xp
// (N, C, H+2, W+2) with wt (M, C, 3, 3), and the sum of |w x| (+ |bias|)
// per output, for the error bound.
func conv3x3Ref(xp, wt, bias []float32, n, c, m, h, w int) (y, sumAbs []float64) {
	hp, wp := h+2, w+2
	y = make([]float64, n*m*h*w)
	sumAbs = make([]float64, n*m*h*w)
	for img := 0; img < n; img++ {
		for co := 0; co < m; co++ {
			for oy := 0; oy < h; oy++ {
				for ox := 0; ox < w; ox++ {
					var s, a float64
					if bias != nil {
						s, a = float64(bias[co]), math.Abs(float64(bias[co]))
					}
					for ci := 0; ci < c; ci++ {
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								p := float64(wt[((co*c+ci)*3+ky)*3+kx]) * float64(xp[((img*c+ci)*hp+oy+ky)*wp+ox+kx])
								s += p
								a += math.Abs(p)
							}
						}
					}
					o := ((img*m+co)*h+oy)*w + ox
					y[o], sumAbs[o] = s, a
				}
			}
		}
	}
	return y, sumAbs
}

// bordered returns random (N, C, H+2, W+2) planes with a zero border.
func bordered(r *rand.Rand, n, c, h, w int) []float32 {
	hp, wp := h+2, w+2
	xp := make([]float32, n*c*hp*wp)
	for pl := 0; pl < n*c; pl++ {
		for y := 1; y <= h; y++ {
			for x := 1; x <= w; x++ {
				xp[(pl*hp+y)*wp+x] = 2*r.Float32() - 1
			}
		}
	}
	return xp
}

// TestConv3x3Winograd: the Winograd convolution agrees with the direct one
// in float64 within a bound of a few float32 ulps of sum |w x| per output,
// over shapes with a partial last block and panel, short row panels, k
// blocks (C > 256), bias, beta = 1 and the generic transforms; it is
// bit-identical for every thread count; sets without the transforms say
// so and refuse it.
func TestConv3x3Winograd(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		if !WinogradFits(8, 8) {
			defer func() {
				if recover() == nil {
					t.Errorf("set %s: Conv3x3Winograd did not panic without transforms", name)
				}
			}()
			Conv3x3Winograd(make([]float32, 64), make([]float32, 100), make([]float32, 9), nil, 0, 1, 1, 1, 8, 8)
			return
		}
		r := rand.New(rand.NewPCG(81, 82))
		shapes := [][5]int{ // n, c, m, h, w
			{1, 1, 1, 2, 8}, {1, 3, 5, 2, 8}, {2, 7, 6, 4, 16}, {3, 17, 7, 8, 8}, {1, 32, 32, 6, 24},
			{2, 33, 13, 10, 8}, {1, 300, 9, 2, 8}, {5, 8, 40, 16, 16}, {1, 16, 16, 32, 32},
		}
		defer SetThreads(0)
		defer func() { winoGenericTransforms = false }()
		for i, sh := range shapes {
			n, c, m, h, w := sh[0], sh[1], sh[2], sh[3], sh[4]
			xp := bordered(r, n, c, h, w)
			wt := simdtest.Rand(r, m*c*9)
			var bias []float32
			if i%2 == 1 {
				bias = simdtest.Rand(r, m)
			}
			want, sumAbs := conv3x3Ref(xp, wt, bias, n, c, m, h, w)
			for _, gen := range []bool{false, true} {
				winoGenericTransforms = gen
				var first []float32
				for _, threads := range []int{1, 2, 3} {
					SetThreads(threads)
					for _, beta := range []float32{0, 1} {
						out := simdtest.Rand(r, n*m*h*w)
						old := append([]float32(nil), out...)
						Conv3x3Winograd(out, xp, wt, bias, beta, n, c, m, h, w)
						for o, got := range out {
							ref := want[o]
							if beta == 1 {
								ref += float64(old[o])
							}
							bound := 8e-7*sumAbs[o] + 1e-6*math.Abs(float64(old[o]))
							if d := math.Abs(float64(got) - ref); !(d <= bound) {
								t.Fatalf("N=%d C=%d M=%d %dx%d generic=%v threads=%d beta=%v: out[%d] = %v, want %v (|diff| %.3g > %.3g)", n, c, m, h, w, gen, threads, beta, o, got, ref, d, bound)
							}
						}
						if beta == 0 {
							if first == nil {
								first = out
							} else {
								for o := range out {
									if math.Float32bits(out[o]) != math.Float32bits(first[o]) {
										t.Fatalf("N=%d C=%d M=%d %dx%d: threads=%d differs from threads=1 at %d: %v vs %v", n, c, m, h, w, threads, o, out[o], first[o])
									}
								}
							}
						}
					}
				}
			}
		}
	})
}

// BenchmarkConv3x3Winograd times the Winograd convolution alone (the input
// already bordered) at the 3x3 shapes of unet-small, batch 64, in
// GFLOP/s of the direct convolution, for several block sizes.
func BenchmarkConv3x3Winograd(b *testing.B) {
	benchWinograd(b, "tb", &winoBlockTiles, []int{0, 32, 64, 128, 256},
		[][5]int{{64, 32, 32, 32, 32}, {64, 64, 64, 16, 16}, {64, 64, 64, 8, 8}, {64, 128, 64, 16, 16}},
		func(xp, wt, y []float32, n, c, m, h, w int) { Conv3x3Winograd(y, xp, wt, nil, 0, n, c, m, h, w) })
}

// benchWinograd runs op (on a bordered input xp (N, C, H+2, W+2), a kernel
// wt (M, C, 3, 3) and an output y (N, M, H, W)) for every shape {N, C, M,
// H, W}, value of the tuning knob *p (0: the default) and thread count, and
// reports GFLOP/s of the direct convolution.
func benchWinograd(b *testing.B, knob string, p *int, values []int, shapes [][5]int, op func(xp, wt, y []float32, n, c, m, h, w int)) {
	if !WinogradFits(8, 8) {
		b.Skip("no Winograd transforms in kernel set " + Impl())
	}
	for _, sh := range shapes {
		n, c, m, h, w := sh[0], sh[1], sh[2], sh[3], sh[4]
		r := rand.New(rand.NewPCG(1, 2))
		xp := bordered(r, n, c, h, w)
		wt := simdtest.Rand(r, m*c*9)
		y := simdtest.Rand(r, n*m*h*w)
		for _, v := range values {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("shape=%dx%dx%dx%d/%s=%d/threads=%d/impl=%s", c, m, h, w, knob, v, threads, Impl()), func(b *testing.B) {
					defer SetThreads(0)
					defer func(old int) { *p = old }(*p)
					SetThreads(threads)
					*p = v
					for i := 0; i < b.N; i++ {
						op(xp, wt, y, n, c, m, h, w)
					}
					b.ReportMetric(2*float64(n*m*h*w*c*9)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestConv3x3WinogradWeightGrad: the Winograd weight gradient agrees with
// the direct one in float64 (added to what dw held) within a bound of a few
// float32 ulps of sum |dy x| per weight, over shapes with a partial last
// panel and chunk, several chunks, groups of several chunks, and the
// generic transforms; it is bit-identical for every thread count.
func TestConv3x3WinogradWeightGrad(t *testing.T) {
	forEachSet(t, func(t *testing.T, name string) {
		if !WinogradFits(8, 8) {
			defer func() {
				if recover() == nil {
					t.Errorf("set %s: Conv3x3WinogradWeightGrad did not panic without transforms", name)
				}
			}()
			Conv3x3WinogradWeightGrad(make([]float32, 9), make([]float32, 100), make([]float32, 64), 1, 1, 1, 8, 8)
			return
		}
		r := rand.New(rand.NewPCG(91, 92))
		shapes := [][6]int{ // n, c, m, h, w, chunk
			{1, 1, 1, 2, 8, 0}, {1, 3, 5, 2, 8, 16}, {2, 7, 6, 4, 16, 0}, {3, 17, 7, 8, 8, 32},
			{1, 32, 32, 6, 24, 16}, {2, 33, 13, 10, 8, 48}, {2, 16, 40, 16, 16, 0},
			{3, 16, 24, 10, 24, 16}, // 12 chunks (the last partial) in 6 groups of 2
		}
		defer SetThreads(0)
		defer func() { winoGenericTransforms, winoGradChunk = false, 0 }()
		for _, sh := range shapes {
			n, c, m, h, w := sh[0], sh[1], sh[2], sh[3], sh[4]
			winoGradChunk = sh[5]
			hp, wp := h+2, w+2
			xp := bordered(r, n, c, h, w)
			dy := simdtest.Rand(r, n*m*h*w)
			want := make([]float64, m*c*9)
			sumAbs := make([]float64, m*c*9)
			for img := 0; img < n; img++ {
				for co := 0; co < m; co++ {
					for ci := 0; ci < c; ci++ {
						for tap := 0; tap < 9; tap++ {
							ky, kx := tap/3, tap%3
							for oy := 0; oy < h; oy++ {
								for ox := 0; ox < w; ox++ {
									p := float64(dy[((img*m+co)*h+oy)*w+ox]) * float64(xp[((img*c+ci)*hp+oy+ky)*wp+ox+kx])
									want[(co*c+ci)*9+tap] += p
									sumAbs[(co*c+ci)*9+tap] += math.Abs(p)
								}
							}
						}
					}
				}
			}
			old := simdtest.Rand(r, m*c*9)
			for _, gen := range []bool{false, true} {
				winoGenericTransforms = gen
				var first []float32
				for _, threads := range []int{1, 2, 3} {
					SetThreads(threads)
					dw := append([]float32(nil), old...)
					Conv3x3WinogradWeightGrad(dw, xp, dy, n, c, m, h, w)
					for i, got := range dw {
						ref := want[i] + float64(old[i])
						bound := 1e-6*sumAbs[i] + 1e-6*math.Abs(float64(old[i]))
						if d := math.Abs(float64(got) - ref); !(d <= bound) {
							t.Fatalf("N=%d C=%d M=%d %dx%d chunk=%d generic=%v threads=%d: dw[%d] = %v, want %v (|diff| %.3g > %.3g)", n, c, m, h, w, sh[5], gen, threads, i, got, ref, d, bound)
						}
					}
					if first == nil {
						first = dw
						continue
					}
					for i := range dw {
						if math.Float32bits(dw[i]) != math.Float32bits(first[i]) {
							t.Fatalf("N=%d C=%d M=%d %dx%d: threads=%d differs from threads=1 at %d", n, c, m, h, w, threads, i)
						}
					}
				}
			}
		}
	})
}

// BenchmarkConv3x3WinogradWeightGrad times the Winograd weight gradient
// alone (the input already bordered) at the 3x3 shapes of unet-small, batch
// 64, in GFLOP/s of the direct weight gradient, for several chunk sizes.
func BenchmarkConv3x3WinogradWeightGrad(b *testing.B) {
	benchWinograd(b, "chunk", &winoGradChunk, []int{0, 128, 512, 1024},
		[][5]int{{64, 32, 32, 32, 32}, {64, 64, 64, 16, 16}, {64, 64, 64, 8, 8}},
		func(xp, dw, dy []float32, n, c, m, h, w int) { Conv3x3WinogradWeightGrad(dw, xp, dy, n, c, m, h, w) })
}
