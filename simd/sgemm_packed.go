package simd

import (
	"fmt"
	"sync/atomic"
)

// Packer fills one packed panel for SgemmPacked: for p < kc and i < cnt,
//
//	dst[p*stride+i] = X[i0+i][k0+p]
//
// where X is A (m x k, rows i) for the A packer and B transposed (n x k,
// columns of B) for the B packer. The driver zeroes lanes cnt..stride-1 of a
// panel itself, so a packer writes only the cnt lanes it is asked for. A
// packer may be called from several goroutines at once (for different
// panels) and must not depend on which goroutine calls it.
type Packer func(dst []float32, stride, k0, kc, i0, cnt int)

// GroupedC describes where C (m x n) of SgemmPacked lives: its columns come
// in groups of Group, and element (i, j) is
//
//	C[(j/Group)*GroupStride + i*Ldc + j%Group]
//
// A row-major m x n matrix is Group = n, Ldc = n (GroupStride unused); the
// output of a convolution over a batch, (N, Cout, Ho*Wo), with one column per
// output pixel of every image, is Group = Ho*Wo, Ldc = Ho*Wo, GroupStride =
// Cout*Ho*Wo.
type GroupedC struct {
	C                       []float32
	Ldc, Group, GroupStride int
}

func (g GroupedC) off(i, j int) int {
	return (j/g.Group)*g.GroupStride + i*g.Ldc + j%g.Group
}

// SgemmPacked computes C = A B + beta C for an m x n product with inner
// dimension k, where A (m x k) and B (k x n) are never stored as matrices:
// packA and packB write the register-blocked panels the micro-kernel reads
// straight from wherever the values live (an image, for a convolution), so
// no im2col matrix and no second packing copy is made. beta must be 0 or 1;
// with bias non-nil (length m) the first block writes bias[i] + (A B)[i][j]
// instead (beta is then ignored). Every element of C is accumulated in the
// same order for any thread count, so results are bit-identical across
// SetThreads values.
//
// When m*k is small (a convolution's weights) A is packed once and the
// column panels of B are shared out among the workers; otherwise the rows
// are shared out and each worker packs the blocks of B it needs.
func SgemmPacked(m, n, k int, packA, packB Packer, bias []float32, beta float32, c GroupedC) {
	if m < 0 || n < 0 || k < 0 || (beta != 0 && beta != 1) || (bias != nil && len(bias) < m) {
		panic(fmt.Sprintf("simd.SgemmPacked: m=%d n=%d k=%d beta=%v len(bias)=%d", m, n, k, beta, len(bias)))
	}
	if m == 0 || n == 0 {
		return
	}
	if c.Group <= 0 || c.Ldc < min(c.Group, n) || (n > c.Group && c.GroupStride < m*c.Ldc) {
		panic(fmt.Sprintf("simd.SgemmPacked: C groups of %d columns, stride %d, group stride %d for %d x %d", c.Group, c.Ldc, c.GroupStride, m, n))
	}
	if last := c.off(m-1, n-1); last >= len(c.C) {
		panic(fmt.Sprintf("simd.SgemmPacked: C has length %d, needs %d for %d x %d", len(c.C), last+1, m, n))
	}
	kern := current.Load().gemm
	if k == 0 {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				o := c.off(i, j)
				switch {
				case bias != nil:
					c.C[o] = bias[i]
				case beta == 0:
					c.C[o] = 0
				}
			}
		}
		return
	}
	if bias != nil {
		// The bias is one more column of A times a row of ones in B: the
		// product then overwrites C, with no separate pass to add it.
		packA, packB, k = biasPackers(packA, packB, bias, k)
		beta = 0
	}
	nthreads := Threads()
	if m*n*k < 64*64*64 {
		nthreads = 1
	}
	if m*k <= 1<<17 {
		packedSplitN(kern, m, n, k, packA, packB, beta, c, nthreads)
		return
	}
	packedSplitM(kern, m, n, k, packA, packB, beta, c, nthreads)
}

// biasPackers extends A (m x k) by the column bias and B (k x n) by a row
// of ones.
func biasPackers(packA, packB Packer, bias []float32, k int) (Packer, Packer, int) {
	pa := func(dst []float32, stride, k0, kc, i0, cnt int) {
		if k0+kc <= k {
			packA(dst, stride, k0, kc, i0, cnt)
			return
		}
		if kc > 1 {
			packA(dst, stride, k0, kc-1, i0, cnt)
		}
		copy(dst[(kc-1)*stride:(kc-1)*stride+cnt], bias[i0:i0+cnt])
	}
	pb := func(dst []float32, stride, k0, kc, j0, cnt int) {
		if k0+kc <= k {
			packB(dst, stride, k0, kc, j0, cnt)
			return
		}
		if kc > 1 {
			packB(dst, stride, k0, kc-1, j0, cnt)
		}
		fill32(dst[(kc-1)*stride:(kc-1)*stride+cnt], 1)
	}
	return pa, pb, k + 1
}

// packPanel calls pack for one panel and zeroes the lanes past cnt.
func packPanel(pack Packer, dst []float32, stride, k0, kc, i0, cnt int) {
	if cnt < stride {
		clear(dst[:stride*kc])
	}
	pack(dst, stride, k0, kc, i0, cnt)
}

// colPanel is a column panel of C in SgemmPacked: its first column j0, its
// width ncur <= nr, and whether its columns lie in one group, in which case
// row i of it starts at C[off + i*Ldc].
type colPanel struct {
	j0, ncur int
	oneGroup bool
	off      int
}

func (g GroupedC) panel(j0, ncur int) colPanel {
	p := colPanel{j0: j0, ncur: ncur}
	if j0/g.Group == (j0+ncur-1)/g.Group {
		p.oneGroup, p.off = true, g.off(0, j0)
	}
	return p
}

// packedTile runs the micro-kernel for the rows [i0, i0+mcr) of column
// panel cp of C with the packed panels ap and bp; first says that this is
// the first k block (C is then overwritten when beta = 0). A whole tile, or
// the rows of the last row panel when the kernel has edge kernels, go
// straight into C; other tiles through the mr x nr scratch tile.
func packedTile(kern gemmKernel, kc int, ap, bp []float32, c GroupedC, i0, mcr int, cp colPanel, first bool, beta float32, tile []float32) {
	mr, nr := kern.mr, kern.nr
	store := first && beta == 0
	if cp.oneGroup && cp.ncur == nr {
		cc := c.C[cp.off+i0*c.Ldc:]
		micro, microStore := kern.micro, kern.microStore
		if mcr < mr {
			micro, microStore = kern.edgeKernel(mcr, false), kern.edgeKernel(mcr, true)
		}
		switch {
		case micro == nil:
			// No edge kernel: through the tile below.
		case store && microStore != nil:
			microStore(kc, ap, bp, cc, c.Ldc)
			return
		default:
			if store {
				for i := 0; i < mcr; i++ {
					clear(cc[i*c.Ldc : i*c.Ldc+nr])
				}
			}
			micro(kc, ap, bp, cc, c.Ldc)
			return
		}
	}
	j0, ncur := cp.j0, cp.ncur
	clear(tile[:mr*nr])
	if cp.oneGroup {
		// Whole rows of the tile at once.
		off := cp.off + i0*c.Ldc
		if !store {
			for i := 0; i < mcr; i++ {
				copy(tile[i*nr:i*nr+ncur], c.C[off+i*c.Ldc:])
			}
		}
		kern.micro(kc, ap, bp, tile, nr)
		for i := 0; i < mcr; i++ {
			copy(c.C[off+i*c.Ldc:off+i*c.Ldc+ncur], tile[i*nr:i*nr+ncur])
		}
		return
	}
	if !store {
		for i := 0; i < mcr; i++ {
			for j := 0; j < ncur; j++ {
				tile[i*nr+j] = c.C[c.off(i0+i, j0+j)]
			}
		}
	}
	kern.micro(kc, ap, bp, tile, nr)
	for i := 0; i < mcr; i++ {
		for j := 0; j < ncur; j++ {
			c.C[c.off(i0+i, j0+j)] = tile[i*nr+j]
		}
	}
}

func fill32(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}

// packedSplitN packs all of A once and shares the column panels out: each
// worker packs a panel of B for one k block at a time (it stays in L1) and
// runs it against every row panel of A.
func packedSplitN(kern gemmKernel, m, n, k int, packA, packB Packer, beta float32, c GroupedC, nthreads int) {
	mr, nr := kern.mr, kern.nr
	mPad := roundUp(m, mr)
	kcb := kcFor(k)
	kBlocks := (k + kcb - 1) / kcb
	bufA := getBuf(mPad * k)
	defer floatPool.Put(bufA)
	a := *bufA
	// Block b (k0 = b*kcb, width kc) holds its row panels at
	// mPad*k0 + ir*kc.
	for b := 0; b < kBlocks; b++ {
		k0 := b * kcb
		kc := min(kcb, k-k0)
		for ir := 0; ir < m; ir += mr {
			packPanel(packA, a[mPad*k0+ir*kc:], mr, k0, kc, ir, min(mr, m-ir))
		}
	}
	nPanels := (n + nr - 1) / nr
	// Tasks of a few panels each, taken in turn: an unevenly loaded machine
	// still keeps both cores busy, and the result does not depend on who
	// takes which task.
	per := max(1, min(8, nPanels/(8*max(nthreads, 1))))
	nTasks := (nPanels + per - 1) / per
	workers := min(nthreads, nTasks)
	var next atomic.Int32
	Parallel(max(workers, 1), func(w int) {
		bufB := getBuf(nr*gemmKC + mr*nr)
		defer floatPool.Put(bufB)
		bp, tile := (*bufB)[:nr*gemmKC], (*bufB)[nr*gemmKC:]
		for t := range taken(&next, nTasks) {
			for s := t * per; s < min((t+1)*per, nPanels); s++ {
				j0 := s * nr
				ncur := min(nr, n-j0)
				cp := c.panel(j0, ncur)
				for b := 0; b < kBlocks; b++ {
					k0 := b * kcb
					kc := min(kcb, k-k0)
					packPanel(packB, bp, nr, k0, kc, j0, ncur)
					// With a block kernel (wasm, AVX2), one call does every full
					// tile of a full column panel that lies in one group.
					ir0 := 0
					if kern.block != nil && ncur == nr && cp.oneGroup && m >= mr {
						ir0 = m / mr * mr
						blk := kern.block
						switch {
						case b > 0 || beta == 1:
						case kern.blockStore != nil:
							blk = kern.blockStore
						default:
							for i := 0; i < ir0; i++ {
								clear(c.C[cp.off+i*c.Ldc : cp.off+i*c.Ldc+nr])
							}
						}
						blk(kc, a[mPad*k0:], bp[:nr*kc], c.C[cp.off:], c.Ldc, ir0, nr)
					}
					for ir := ir0; ir < m; ir += mr {
						packedTile(kern, kc, a[mPad*k0+ir*kc:mPad*k0+(ir+mr)*kc], bp[:nr*kc], c, ir, min(mr, m-ir), cp, b == 0, beta, tile)
					}
				}
			}
		}
	})
}

// packedSplitM shares the row panels out in contiguous ranges, one per
// worker; each worker packs the k blocks of B it multiplies (B is narrow
// when this is chosen, e.g. a weight gradient) and one row panel of A at a
// time.
func packedSplitM(kern gemmKernel, m, n, k int, packA, packB Packer, beta float32, c GroupedC, nthreads int) {
	mr, nr := kern.mr, kern.nr
	mPanels := (m + mr - 1) / mr
	workers := max(1, min(nthreads, mPanels))
	ncMax := min(roundUp(n, nr), gemmNC)
	kcb := kcFor(k)
	Parallel(workers, func(w int) {
		p0, p1 := mPanels*w/workers, mPanels*(w+1)/workers
		bufB := getBuf(ncMax*gemmKC + mr*gemmKC + mr*nr)
		defer floatPool.Put(bufB)
		bb := (*bufB)[:ncMax*gemmKC]
		ap := (*bufB)[ncMax*gemmKC : ncMax*gemmKC+mr*gemmKC]
		tile := (*bufB)[ncMax*gemmKC+mr*gemmKC:]
		for jc := 0; jc < n; jc += gemmNC {
			nc := min(gemmNC, n-jc)
			for k0 := 0; k0 < k; k0 += kcb {
				kc := min(kcb, k-k0)
				for jr := 0; jr < nc; jr += nr {
					packPanel(packB, bb[jr*kc:], nr, k0, kc, jc+jr, min(nr, nc-jr))
				}
				for ip := p0; ip < p1; ip++ {
					ir := ip * mr
					mcr := min(mr, m-ir)
					packPanel(packA, ap, mr, k0, kc, ir, mcr)
					for jr := 0; jr < nc; jr += nr {
						cp := c.panel(jc+jr, min(nr, nc-jr))
						packedTile(kern, kc, ap[:mr*kc], bb[jr*kc:jr*kc+nr*kc], c, ir, mcr, cp, k0 == 0, beta, tile)
					}
				}
			}
		}
	})
}

// RowMajorPacker returns a Packer for the rows of a row-major matrix X
// (element [i][p] at x[i*ld+p]): the A packer of a plain product, or the B
// packer of a product with B transposed.
func RowMajorPacker(x []float32, ld int) Packer {
	return func(dst []float32, stride, k0, kc, i0, cnt int) {
		for i := 0; i < cnt; i++ {
			row := x[(i0+i)*ld+k0 : (i0+i)*ld+k0+kc]
			for p, v := range row {
				dst[p*stride+i] = v
			}
		}
	}
}

// ColMajorPacker returns a Packer for the columns of a row-major matrix X
// (line i, element p at x[p*ld+i]): the B packer of a plain product, or the
// A packer of a product with A transposed.
func ColMajorPacker(x []float32, ld int) Packer {
	return func(dst []float32, stride, k0, kc, i0, cnt int) {
		for p := 0; p < kc; p++ {
			copy(dst[p*stride:p*stride+cnt], x[(k0+p)*ld+i0:])
		}
	}
}
