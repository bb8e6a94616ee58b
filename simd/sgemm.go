package simd

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// gemmKernel is a register-blocked sgemm micro-kernel of one kernel set.
// micro adds the product of a packed mr-row panel of A and a packed nr-column
// panel of B to an mr x nr tile of C:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < mr; i++ {
//			for j := 0; j < nr; j++ {
//				c[i*ldc+j] += a[p*mr+i] * b[p*nr+j]
//			}
//		}
//	}
//
// (the assembly kernels keep the mr x nr sums in registers and add them to C
// once, so their rounding differs from this loop by the usual reduction bound).
type gemmKernel struct {
	mr, nr int
	micro  func(kc int, a, b, c []float32, ldc int)
}

var gemmGeneric = gemmKernel{mr: 4, nr: 4, micro: microGeneric4x4}

// microGeneric4x4 is the generic micro-kernel (mr = nr = 4); see gemmKernel.
func microGeneric4x4(kc int, a, b, c []float32, ldc int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	a, b = a[:4*kc], b[:4*kc]
	for p := 0; p < kc; p++ {
		ap, bp := a[4*p:4*p+4], b[4*p:4*p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r := c[0:4:4]
	r[0] += c00
	r[1] += c01
	r[2] += c02
	r[3] += c03
	r = c[ldc : ldc+4 : ldc+4]
	r[0] += c10
	r[1] += c11
	r[2] += c12
	r[3] += c13
	r = c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r[0] += c20
	r[1] += c21
	r[2] += c22
	r[3] += c23
	r = c[3*ldc : 3*ldc+4 : 3*ldc+4]
	r[0] += c30
	r[1] += c31
	r[2] += c32
	r[3] += c33
}

// Blocking of the packed sgemm (BLIS loop order jc, pc, ic, jr, ir): a kc x nc
// block of op(B) is packed once and shared by all workers, each worker packs
// mc x kc blocks of alpha*op(A) and runs the micro-kernel over them.
const (
	gemmKC = 256
	gemmMC = 96
	gemmNC = 3072
)

var threads atomic.Int32

// SetThreads sets how many goroutines sgemm (and the kernels built on it) may
// use; n <= 0 means runtime.GOMAXPROCS(0). Results are identical for every
// thread count: each element of C is accumulated in the same order.
func SetThreads(n int) { threads.Store(int32(n)) }

// Threads reports the number of goroutines sgemm will use.
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

var floatPool = sync.Pool{New: func() any { return new([]float32) }}

func getBuf(n int) *[]float32 {
	p := floatPool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// sgemm runs the packed driver with kernel k. Arguments are already checked.
func sgemm(k gemmKernel, transA, transB bool, m, n, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// C = beta*C first; then every block adds alpha*op(A)op(B).
	if beta != 1 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else {
				for j := range row {
					row[j] *= beta
				}
			}
		}
	}
	if alpha == 0 || kk == 0 {
		return
	}
	mr, nr := k.mr, k.nr
	mc := gemmMC / mr * mr
	nthreads := Threads()
	if work := m * n * kk; work < 64*64*64 {
		nthreads = 1
	}
	bufB := getBuf(gemmKC * roundUp(min(n, gemmNC), nr))
	defer floatPool.Put(bufB)
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < kk; pc += gemmKC {
			kc := min(gemmKC, kk-pc)
			packB(*bufB, transB, b, ldb, pc, jc, kc, nc, nr)
			// Tasks: (ic block, column range of panels). Split columns when
			// there are fewer row blocks than workers.
			mBlocks := (m + mc - 1) / mc
			nPanels := (nc + nr - 1) / nr
			split := 1
			if mBlocks < nthreads {
				split = min((nthreads+mBlocks-1)/mBlocks, nPanels)
			}
			nTasks := mBlocks * split
			run := func(task int, bufA []float32, tile []float32) {
				ib, s := task/split, task%split
				ic := ib * mc
				mcur := min(mc, m-ic)
				j0 := nPanels * s / split * nr
				j1 := min(nPanels*(s+1)/split*nr, nc)
				packA(bufA, transA, a, lda, ic, pc, mcur, kc, mr, alpha)
				for jr := j0; jr < j1; jr += nr {
					ncur := min(nr, nc-jr)
					bp := (*bufB)[jr*kc : jr*kc+nr*kc]
					for ir := 0; ir < mcur; ir += mr {
						mcr := min(mr, mcur-ir)
						ap := bufA[ir*kc : ir*kc+mr*kc]
						off := (ic+ir)*ldc + jc + jr
						if mcr == mr && ncur == nr {
							k.micro(kc, ap, bp, c[off:], ldc)
							continue
						}
						clear(tile)
						k.micro(kc, ap, bp, tile, nr)
						for i := 0; i < mcr; i++ {
							crow := c[off+i*ldc : off+i*ldc+ncur]
							trow := tile[i*nr : i*nr+ncur]
							for j := range crow {
								crow[j] += trow[j]
							}
						}
					}
				}
			}
			workers := min(nthreads, nTasks)
			if workers <= 1 {
				bufA := getBuf(mc * kc)
				tile := getBuf(mr * nr)
				for t := 0; t < nTasks; t++ {
					run(t, *bufA, *tile)
				}
				floatPool.Put(bufA)
				floatPool.Put(tile)
				continue
			}
			var next atomic.Int32
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					bufA := getBuf(mc * kc)
					tile := getBuf(mr * nr)
					for {
						t := int(next.Add(1)) - 1
						if t >= nTasks {
							break
						}
						run(t, *bufA, *tile)
					}
					floatPool.Put(bufA)
					floatPool.Put(tile)
				}()
			}
			wg.Wait()
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// packA copies alpha*op(A)[ic:ic+mcur, pc:pc+kc] into mr-row panels: panel r
// holds, for each p, the mr values of rows ic+r*mr.. (zero-padded).
func packA(dst []float32, trans bool, a []float32, lda, ic, pc, mcur, kc, mr int, alpha float32) {
	for ir := 0; ir < mcur; ir += mr {
		panel := dst[ir*kc : ir*kc+mr*kc]
		rows := min(mr, mcur-ir)
		for p := 0; p < kc; p++ {
			out := panel[p*mr : p*mr+mr]
			for i := 0; i < rows; i++ {
				var v float32
				if trans {
					v = a[(pc+p)*lda+ic+ir+i]
				} else {
					v = a[(ic+ir+i)*lda+pc+p]
				}
				out[i] = alpha * v
			}
			clear(out[rows:])
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into nr-column panels: panel s
// holds, for each p, the nr values of columns jc+s*nr.. (zero-padded).
func packB(dst []float32, trans bool, b []float32, ldb, pc, jc, kc, nc, nr int) {
	for jr := 0; jr < nc; jr += nr {
		panel := dst[jr*kc : jr*kc+nr*kc]
		cols := min(nr, nc-jr)
		for p := 0; p < kc; p++ {
			out := panel[p*nr : p*nr+nr]
			if trans {
				for j := 0; j < cols; j++ {
					out[j] = b[(jc+jr+j)*ldb+pc+p]
				}
			} else {
				copy(out[:cols], b[(pc+p)*ldb+jc+jr:])
			}
			clear(out[cols:])
		}
	}
}
