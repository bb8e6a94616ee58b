// Package ckpt reads and writes cdp checkpoints: a versioned, checksummed
// binary file holding the model's architecture name and configuration (JSON),
// named tensors (float32 weights and optimiser buffers, int64 counters, raw
// bytes such as a marshalled RNG state) and free-form metadata (JSON: step,
// seed, arguments, data provenance).
//
// # Format, version 1
//
// All integers are little-endian.
//
//	offset 0   magic    8 bytes "CDPCKPT\x00"
//	offset 8   version  uint32 (1)
//	offset 12  length   uint64, the whole file in bytes, checksum included
//	offset 20  arch     uint32 n, n bytes (UTF-8)
//	           config   uint32 n, n bytes (JSON or empty)
//	           meta     uint32 n, n bytes (JSON or empty)
//	           count    uint32, the number of tensors, then per tensor:
//	             name   uint32 n, n bytes (UTF-8, unique)
//	             dtype  uint8 (1 float32, 2 int64, 3 bytes)
//	             ndim   uint8, then ndim uint64 dimensions
//	             data   prod(dims) elements, 4, 8 or 1 bytes each
//	end-4      checksum uint32, CRC-32C (Castagnoli) of every byte before it
//
// Decoding reads the whole file into memory before it parses anything: the
// declared length bounds the read, the buffer grows only as bytes arrive, and
// every size in the body is checked against the bytes that remain before
// anything is allocated, so a hostile header cannot cause a huge allocation.
// Truncated files, checksum mismatches, unknown versions and (with
// CheckArch) a different architecture are refused with errors that name the
// problem. Writing a file atomically is the job of native/store
// (WriteFileAtomic(path, func(w io.Writer) error { return ckpt.Encode(w, c) })).
package ckpt
