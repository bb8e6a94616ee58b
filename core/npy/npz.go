package npy

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"
)

// Archive is the content of an .npz file: arrays by name, in archive order.
type Archive struct {
	Names  []string          // array names without the ".npy" suffix, in archive order
	Arrays map[string]*Array // by name
}

// Get returns the array called name, or nil and false.
func (a *Archive) Get(name string) (*Array, bool) {
	x, ok := a.Arrays[name]
	return x, ok
}

// MaxMembers bounds the number of arrays in an archive accepted on read.
const MaxMembers = 1 << 16

// ReadNPZ reads an .npz archive (as written by numpy.savez or numpy.savez_compressed) of size
// bytes from r. Every member must be a supported .npy array.
func ReadNPZ(r io.ReaderAt, size int64) (*Archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("npy: reading npz archive: %w", err)
	}
	if len(zr.File) > MaxMembers {
		return nil, fmt.Errorf("npy: npz archive has %d members, more than the limit %d", len(zr.File), MaxMembers)
	}
	ar := &Archive{Arrays: make(map[string]*Array, len(zr.File))}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory entry
		}
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("npy: npz member %q is not an .npy file", f.Name)
		}
		if _, dup := ar.Arrays[name]; dup {
			return nil, fmt.Errorf("npy: npz archive has two members named %q", f.Name)
		}
		// Bound what the member may hold: stored members cannot exceed the archive, and deflate
		// cannot expand by more than about 1032:1. archive/zip itself refuses to read past the
		// declared uncompressed size.
		limit := int64(f.UncompressedSize64)
		if f.UncompressedSize64 > uint64(size)*1100+4096 {
			return nil, fmt.Errorf("npy: npz member %q declares %d bytes, implausible for an archive of %d bytes", f.Name, f.UncompressedSize64, size)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("npy: npz member %q: %w", f.Name, err)
		}
		a, err := readNPY(rc, limit)
		if err == nil {
			// Drain to let archive/zip verify the CRC-32; extra bytes are an error.
			var extra [1]byte
			n, rerr := io.ReadFull(rc, extra[:])
			switch {
			case n > 0:
				err = fmt.Errorf("npy: trailing data after the array")
			case rerr != io.EOF && rerr != io.ErrUnexpectedEOF:
				err = rerr
			}
		}
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("npy: npz member %q: %w", f.Name, err)
		}
		ar.Names = append(ar.Names, name)
		ar.Arrays[name] = a
	}
	return ar, nil
}

// WriteNPZ writes arrays under names as an uncompressed .npz archive (like numpy.savez).
func WriteNPZ(w io.Writer, names []string, arrays []*Array) error {
	return writeNPZ(w, names, arrays, zip.Store)
}

// WriteNPZCompressed writes arrays under names as a deflated .npz archive (like
// numpy.savez_compressed).
func WriteNPZCompressed(w io.Writer, names []string, arrays []*Array) error {
	return writeNPZ(w, names, arrays, zip.Deflate)
}

func writeNPZ(w io.Writer, names []string, arrays []*Array, method uint16) error {
	if len(names) != len(arrays) {
		panic(fmt.Sprintf("npy: WriteNPZ: %d names for %d arrays", len(names), len(arrays)))
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || seen[n] {
			return fmt.Errorf("npy: npz array name %q is empty or repeated", n)
		}
		seen[n] = true
	}
	zw := zip.NewWriter(w)
	for i, a := range arrays {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: names[i] + ".npy", Method: method})
		if err != nil {
			return fmt.Errorf("npy: writing npz: %w", err)
		}
		if err := WriteNPY(fw, a); err != nil {
			return fmt.Errorf("npy: writing npz member %q: %w", names[i], err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("npy: writing npz: %w", err)
	}
	return nil
}
