package simd

import (
	"runtime"
	"slices"
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
//
// pack6, when set (mr = 6), packs alpha times 6 rows of row-major A for
// p < kc8 (a multiple of 8): dst[6p+i] = alpha*a[i*lda+p]; it may write 2
// floats past dst[6*kc8] (the packing buffer has room for them).
//
// microStore, when set, is micro that overwrites the tile instead of adding
// to it (c[i*ldc+j] = sum); the driver uses it for the first k block when
// beta = 0 instead of clearing C first.
type gemmKernel struct {
	mr, nr     int
	micro      func(kc int, a, b, c []float32, ldc int)
	microStore func(kc int, a, b, c []float32, ldc int)
	pack6      func(dst, a []float32, lda, kc8 int, alpha float32)
	// edge and edgeStore, when set, are micro and microStore for the first
	// r < mr rows of a packed A panel (edge[r]), for the last row panel of
	// a matrix whose height is not a multiple of mr.
	edge, edgeStore [8]func(kc int, a, b, c []float32, ldc int)
	// packB16, when set (nr = 16), packs the first panels full 16-column
	// panels of row-major B: dst[s*16*kc+16p+j] = b[p*ldb+16s+j]. Lengths
	// are checked by the driver.
	packB16 func(dst, b []float32, ldb, kc, panels int)

	// Optional hooks that save a call (and the Go loop around it) per tile:
	// they matter most for the wasm sets, whose every call costs tens of
	// nanoseconds, and for short products (Winograd's k = C). block runs micro
	// over every tile of an m x n block of full tiles (m a multiple of mr, n
	// of nr; A panels mr*kc apart, B panels nr*kc apart), column panels outer
	// and row panels inner, as the driver does. packPanelA and packPanelB pack
	// one full mr-row panel of alpha*op(A) and one full nr-column panel of
	// op(B) exactly as packA and packB do (a and b start at the panel's first
	// element of op(A) and op(B)).
	block func(kc int, a, b, c []float32, ldc, m, n int)
	// blockStore, when set, is block with microStore (the tiles are
	// overwritten), for the first k block when beta = 0.
	blockStore func(kc int, a, b, c []float32, ldc, m, n int)
	packPanelA func(dst, a []float32, lda, kc int, trans bool, alpha float32)
	packPanelB func(dst, b []float32, ldb, kc int, trans bool)
}

// edgeKernel returns the kernel for the first rows < mr rows of a panel
// (the storing one if store), or nil.
func (k *gemmKernel) edgeKernel(rows int, store bool) func(kc int, a, b, c []float32, ldc int) {
	if rows <= 0 || rows >= k.mr || rows >= len(k.edge) {
		return nil
	}
	if store {
		return k.edgeStore[rows]
	}
	return k.edge[rows]
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
// block of op(B) is packed once (by all workers, panels shared out) and shared
// by all workers; each worker packs mc x kc blocks of alpha*op(A) and runs the
// micro-kernel over them. Sized for the AMD EPYC of the build machine (Zen 3:
// 32 KiB L1d and 512 KiB L2 per core) with the 6x16 kernel: a 16 x kc panel
// of B (16 KiB) stays in L1, the mc x kc block of A (144 KiB) in L2;
// KC = 256 and MC = 144 were the fastest of the 192/256/320 x 96/120/144/192
// pairs measured. kc never depends on the thread count, so neither does the
// order in which an element of C is accumulated.
const (
	gemmKC = 256
	gemmMC = 144
	gemmNC = 3072
)

// kcFor is the k-block width for inner dimension k: the fewest blocks of at
// most gemmKC, made as equal as possible (k = 289, a 3x3 convolution over 32
// channels plus its bias, gives 145 + 144 rather than 256 + 33, whose short
// block would pay a whole pass over C for little work). It depends on k
// alone, never on the thread count.
func kcFor(k int) int {
	if k <= 0 {
		return gemmKC
	}
	blocks := (k + gemmKC - 1) / gemmKC
	return (k + blocks - 1) / blocks
}

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

// gemmTasks chooses the row-block height mc and the number of column splits
// for m rows, n columns and the given number of workers: one worker takes
// gemmMC-row blocks; several get a block count that is a multiple of the
// worker count (so the work divides evenly), and split the columns when there
// are fewer row blocks than workers. The partition never changes the
// arithmetic of an element of C, only who computes it.
func gemmTasks(mr, nr, m, n, workers int) (mc, mBlocks, split int) {
	mc = max(gemmMC/mr*mr, mr)
	if workers > 1 {
		blocks := roundUp((m+mc-1)/mc, workers)
		mc = roundUp((m+blocks-1)/blocks, mr)
	}
	mBlocks = (m + mc - 1) / mc
	split = 1
	if mBlocks < workers {
		split = min((workers+mBlocks-1)/mBlocks, (n+nr-1)/nr)
	}
	return mc, mBlocks, split
}

// sgemm runs the packed driver with kernel k on up to nthreads goroutines.
// Arguments are already checked.
func sgemm(k gemmKernel, nthreads int, transA, transB bool, m, n, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// C = beta*C first; then every block adds alpha*op(A)op(B). With beta = 0
	// and a microStore kernel the first k block overwrites C instead (unless
	// there is no product to store).
	storeFirst := beta == 0 && k.microStore != nil && alpha != 0 && kk > 0
	if beta != 1 && !storeFirst {
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
	if work := m * n * kk; work < 64*64*64 {
		nthreads = 1
	}
	mc, mBlocks, split := gemmTasks(mr, nr, m, min(n, gemmNC), nthreads)
	kcb := kcFor(kk)
	kcMax := kcb
	workers := min(nthreads, mBlocks*split)
	// With one task per worker, each task uses its B panels once per k
	// block: a worker then packs the panels it needs itself (split > 1
	// shares no panel; split = 1 packs B once per worker) rather than read
	// half of a shared block from the other cores' caches after a barrier
	// (256^3 on 2 threads: 198-211 -> 162-176 us). Packing is the same
	// either way, so the results are too.
	private := workers > 1 && mBlocks*split == workers
	// B buffers: one shared block, or one per worker when private.
	bufsB := make([]*[]float32, 1)
	if private {
		bufsB = make([]*[]float32, workers)
	}
	for w := range bufsB {
		bufsB[w] = getBuf(kcMax * roundUp(min(n, gemmNC), nr))
	}
	bufsA := make([]*[]float32, workers)
	tiles := make([]*[]float32, workers)
	for w := range bufsA {
		bufsA[w] = getBuf(mc*kcMax + 8) // + slack for pack6
		tiles[w] = getBuf(mr * nr)
	}
	defer func() {
		for _, p := range slices.Concat(bufsA, bufsB, tiles) {
			floatPool.Put(p)
		}
	}()
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		nPanels := (nc + nr - 1) / nr
		for pc := 0; pc < kk; pc += kcb {
			kc := min(kcb, kk-pc)
			micro := k.micro
			if storeFirst && pc == 0 {
				micro = k.microStore
			}
			// Pack the kc x nc block of op(B), panels shared out evenly,
			// unless every task packs its own columns (private).
			if !private {
				packWorkers := min(nthreads, nPanels)
				Parallel(packWorkers, func(w int) {
					p0, p1 := nPanels*w/packWorkers, nPanels*(w+1)/packWorkers
					packBlockB(&k, (*bufsB[0])[p0*nr*kc:], transB, b, ldb, pc, kc, jc+p0*nr, min(nc-p0*nr, (p1-p0)*nr))
				})
			}
			// Tasks: (row block, column range of panels).
			nTasks := mBlocks * split
			run := func(task int, bufA, bufB, tile []float32) {
				ib, s := task/split, task%split
				ic := ib * mc
				mcur := min(mc, m-ic)
				j0 := nPanels * s / split * nr
				j1 := min(nPanels*(s+1)/split*nr, nc)
				// bB holds panel jr of the block at (jr-j0)*kc.
				bB := bufB[j0*kc:]
				if private {
					bB = bufB
					packBlockB(&k, bB, transB, b, ldb, pc, kc, jc+j0, j1-j0)
				}
				packA(bufA, transA, a, lda, ic, pc, mcur, kc, mr, alpha, k.pack6, k.packPanelA)
				// With a block kernel, one call does every full tile.
				blk := k.block
				if storeFirst && pc == 0 {
					blk = k.blockStore
				}
				block := blk != nil
				mFull := mcur / mr * mr
				jFull := min(j1, nc/nr*nr) // the full column panels end here
				if block && mFull > 0 && jFull > j0 {
					blk(kc, bufA, bB, c[ic*ldc+jc+j0:], ldc, mFull, jFull-j0)
				}
				for jr := j0; jr < j1; jr += nr {
					ncur := min(nr, nc-jr)
					bp := bB[(jr-j0)*kc : (jr-j0)*kc+nr*kc]
					ir := 0
					if block && jr < jFull {
						ir = mFull
					}
					for ; ir < mcur; ir += mr {
						mcr := min(mr, mcur-ir)
						off := (ic+ir)*ldc + jc + jr
						ap := bufA[ir*kc : ir*kc+mr*kc]
						if mcr == mr && ncur == nr {
							micro(kc, ap, bp, c[off:], ldc)
							continue
						}
						if e := k.edgeKernel(mcr, storeFirst && pc == 0); e != nil && ncur == nr {
							e(kc, ap, bp, c[off:], ldc)
							continue
						}
						tileIn(tile, c[off:], ldc, mr, nr, mcr, ncur)
						micro(kc, ap, bp, tile, nr)
						tileOut(tile, c[off:], ldc, nr, mcr, ncur)
					}
				}
			}
			if workers <= 1 {
				for t := 0; t < nTasks; t++ {
					run(t, *bufsA[0], *bufsB[0], *tiles[0])
				}
				continue
			}
			var next atomic.Int32
			Parallel(workers, func(w int) {
				for t := range taken(&next, nTasks) {
					run(t, *bufsA[w], *bufsB[min(w, len(bufsB)-1)], *tiles[w])
				}
			})
		}
	}
}

// packBlockB packs cols columns of op(B)[pc:pc+kc, j:] into nr-column
// panels at dst, with k's packB16 for the full 16-column panels when it has
// one.
func packBlockB(k *gemmKernel, dst []float32, transB bool, b []float32, ldb, pc, kc, j, cols int) {
	if full := cols / 16 * 16; k.packB16 != nil && !transB && full > 0 {
		k.packB16(dst[:full*kc], b[pc*ldb+j:(pc+kc-1)*ldb+j+full], ldb, kc, full/16)
		dst, j, cols = dst[full*kc:], j+full, cols-full
	}
	if cols > 0 {
		packB(dst, transB, b, ldb, pc, j, kc, cols, k.nr, k.packPanelB)
	}
}

// tileIn copies the mcr x ncur corner of C into the mr x nr tile (row stride
// nr) and zeroes the rest, so that a kernel run on the tile does to those
// elements exactly what it does to C in place.
func tileIn(tile, c []float32, ldc, mr, nr, mcr, ncur int) {
	clear(tile[:mr*nr])
	for i := 0; i < mcr; i++ {
		copy(tile[i*nr:i*nr+ncur], c[i*ldc:i*ldc+ncur])
	}
}

// tileOut copies the mcr x ncur corner of the tile back into C.
func tileOut(tile, c []float32, ldc, nr, mcr, ncur int) {
	for i := 0; i < mcr; i++ {
		copy(c[i*ldc:i*ldc+ncur], tile[i*nr:i*nr+ncur])
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// packA copies alpha*op(A)[ic:ic+mcur, pc:pc+kc] into mr-row panels: panel r
// holds, for each p, the mr values of rows ic+r*mr.. (zero-padded).
func packA(dst []float32, trans bool, a []float32, lda, ic, pc, mcur, kc, mr int, alpha float32, pack6 func(dst, a []float32, lda, kc8 int, alpha float32), packPanel func(dst, a []float32, lda, kc int, trans bool, alpha float32)) {
	for ir := 0; ir < mcur; ir += mr {
		panel := dst[ir*kc : ir*kc+mr*kc]
		rows := min(mr, mcur-ir)
		switch {
		case packPanel != nil && rows == mr && trans:
			packPanel(panel, a[pc*lda+ic+ir:], lda, kc, true, alpha)
		case packPanel != nil && rows == mr:
			packPanel(panel, a[(ic+ir)*lda+pc:], lda, kc, false, alpha)
		case trans && rows == 6 && mr == 6:
			// op(A) columns are rows of A: 6 contiguous values per p.
			for p := 0; p < kc; p++ {
				src := (*[6]float32)(a[(pc+p)*lda+ic+ir:])
				o := (*[6]float32)(panel[6*p:])
				o[0], o[1], o[2] = alpha*src[0], alpha*src[1], alpha*src[2]
				o[3], o[4], o[5] = alpha*src[3], alpha*src[4], alpha*src[5]
			}
		case trans:
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+ic+ir:]
				src = src[:rows]
				out := panel[p*mr : p*mr+mr]
				for i, v := range src {
					out[i] = alpha * v
				}
				clear(out[rows:])
			}
		case rows == 6 && mr == 6:
			base := (ic+ir)*lda + pc
			if pack6 != nil && kc >= 8 {
				kc8 := kc &^ 7
				pack6(dst[ir*kc:], a[base:], lda, kc8, alpha)
				for p := kc8; p < kc; p++ {
					o := panel[6*p : 6*p+6 : 6*p+6]
					for i := range o {
						o[i] = alpha * a[base+i*lda+p]
					}
				}
				continue
			}
			r0 := a[base : base+kc]
			r1 := a[base+lda : base+lda+kc]
			r2 := a[base+2*lda : base+2*lda+kc]
			r3 := a[base+3*lda : base+3*lda+kc]
			r4 := a[base+4*lda : base+4*lda+kc]
			r5 := a[base+5*lda : base+5*lda+kc]
			panel = panel[:6*len(r0)]
			for p := range r0 {
				o := panel[6*p : 6*p+6 : 6*p+6]
				o[0] = alpha * r0[p]
				o[1] = alpha * r1[p]
				o[2] = alpha * r2[p]
				o[3] = alpha * r3[p]
				o[4] = alpha * r4[p]
				o[5] = alpha * r5[p]
			}
		default:
			if rows < mr {
				clear(panel)
			}
			for i := 0; i < rows; i++ {
				row := a[(ic+ir+i)*lda+pc:]
				row = row[:kc]
				for p, v := range row {
					panel[p*mr+i] = alpha * v
				}
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into nr-column panels: panel s
// holds, for each p, the nr values of columns jc+s*nr.. (zero-padded).
func packB(dst []float32, trans bool, b []float32, ldb, pc, jc, kc, nc, nr int, packPanel func(dst, b []float32, ldb, kc int, trans bool)) {
	if !trans && nr == 16 && nc >= 16 && packPanel == nil {
		// Row by row of B (contiguous reads), 16 values into each full panel.
		full := nc / 16 * 16
		for p := 0; p < kc; p++ {
			row := b[(pc+p)*ldb+jc:]
			row = row[:full]
			for jr := 0; jr < full; jr += 16 {
				*(*[16]float32)(dst[jr*kc+p*16:]) = *(*[16]float32)(row[jr:])
			}
		}
		if full == nc {
			return
		}
		dst = dst[full*kc:]
		jc += full
		nc -= full
	}
	for jr := 0; jr < nc; jr += nr {
		panel := dst[jr*kc : jr*kc+nr*kc]
		cols := min(nr, nc-jr)
		switch {
		case packPanel != nil && cols == nr && trans:
			packPanel(panel, b[(jc+jr)*ldb+pc:], ldb, kc, true)
		case packPanel != nil && cols == nr:
			packPanel(panel, b[pc*ldb+jc+jr:], ldb, kc, false)
		case !trans:
			for p := 0; p < kc; p++ {
				out := panel[p*nr : p*nr+nr]
				copy(out[:cols], b[(pc+p)*ldb+jc+jr:])
				clear(out[cols:])
			}
		case cols == 16 && nr == 16 && current.Load().transpose8 != nil:
			Transpose(panel, 16, b[(jc+jr)*ldb+pc:], ldb, 16, kc)
		case cols == 16 && nr == 16:
			packBTrans16(panel, b[(jc+jr)*ldb+pc:], ldb, kc)
		default:
			// op(B) columns are rows of B: scatter each row into the panel.
			if cols < nr {
				clear(panel)
			}
			for j := 0; j < cols; j++ {
				row := b[(jc+jr+j)*ldb+pc:]
				row = row[:kc]
				for p, v := range row {
					panel[p*nr+j] = v
				}
			}
		}
	}
}

// packBTrans16 packs 16 rows of length kc (row stride ldb) of b into the
// panel, column p of the panel's row p: panel[p*16+j] = b[j*ldb+p].
func packBTrans16(panel, b []float32, ldb, kc int) {
	r0 := b[:kc]
	r1 := b[ldb : ldb+kc]
	r2 := b[2*ldb : 2*ldb+kc]
	r3 := b[3*ldb : 3*ldb+kc]
	r4 := b[4*ldb : 4*ldb+kc]
	r5 := b[5*ldb : 5*ldb+kc]
	r6 := b[6*ldb : 6*ldb+kc]
	r7 := b[7*ldb : 7*ldb+kc]
	r8 := b[8*ldb : 8*ldb+kc]
	r9 := b[9*ldb : 9*ldb+kc]
	r10 := b[10*ldb : 10*ldb+kc]
	r11 := b[11*ldb : 11*ldb+kc]
	r12 := b[12*ldb : 12*ldb+kc]
	r13 := b[13*ldb : 13*ldb+kc]
	r14 := b[14*ldb : 14*ldb+kc]
	r15 := b[15*ldb : 15*ldb+kc]
	panel = panel[:16*kc]
	for p := 0; p < kc; p++ {
		o := (*[16]float32)(panel[16*p:])
		o[0], o[1], o[2], o[3] = r0[p], r1[p], r2[p], r3[p]
		o[4], o[5], o[6], o[7] = r4[p], r5[p], r6[p], r7[p]
		o[8], o[9], o[10], o[11] = r8[p], r9[p], r10[p], r11[p]
		o[12], o[13], o[14], o[15] = r12[p], r13[p], r14[p], r15[p]
	}
}
