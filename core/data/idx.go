package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/cdp-project/cdp/core/npy"
)

// IDX is an array from an idx file (the format of MNIST and Fashion-MNIST) of unsigned bytes.
type IDX struct {
	Dims []int  // dimensions, outermost first: (N) for labels, (N, H, W) for images
	Data []byte // row-major
}

// maxIDXDims bounds the number of dimensions accepted from an idx header.
const maxIDXDims = 8

// ReadIDX reads an idx file of unsigned bytes (type 0x08), gzipped or not (detected from the
// first bytes). The data must hold exactly what the header declares.
func ReadIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("data: idx: %w", err)
		}
		defer zr.Close()
		return readIDX(zr)
	}
	return readIDX(br)
}

func readIDX(r io.Reader) (*IDX, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("data: idx: reading magic: %w", noEOF(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("data: idx: bad magic % x (not an idx file)", magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("data: idx: element type 0x%02x is not supported (only unsigned bytes, 0x08)", magic[2])
	}
	ndim := int(magic[3])
	if ndim == 0 || ndim > maxIDXDims {
		return nil, fmt.Errorf("data: idx: %d dimensions (want 1..%d)", ndim, maxIDXDims)
	}
	dimBytes := make([]byte, 4*ndim)
	if _, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, fmt.Errorf("data: idx: reading dimensions: %w", noEOF(err))
	}
	dims := make([]int, ndim)
	total := int64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		if d > 1<<31-1 {
			return nil, fmt.Errorf("data: idx: dimension %d is %d, too large", i, d)
		}
		dims[i] = int(d)
		if d != 0 && total > (1<<40)/int64(d) {
			return nil, fmt.Errorf("data: idx: dimensions %v are too large", dims[:i+1])
		}
		total *= int64(d)
	}
	data, err := npy.ReadExactly(r, total)
	if err != nil {
		return nil, fmt.Errorf("data: idx: reading %d bytes for dimensions %v: %w", total, dims, err)
	}
	// Nothing may follow.
	var extra [1]byte
	n, err := io.ReadFull(r, extra[:])
	if n > 0 {
		return nil, fmt.Errorf("data: idx: data continue past the %d bytes that dimensions %v declare", total, dims)
	}
	if err != io.EOF {
		return nil, fmt.Errorf("data: idx: after the data: %w", err) // such as a gzip checksum error
	}
	return &IDX{Dims: dims, Data: data}, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// LoadIDX reads an image idx file (N, H, W) or (N, H, W, C) and a label idx file (N) into a
// dataset with the given number of classes. Labels outside 0..classes-1 are an error.
func LoadIDX(images, labels io.Reader, classes int, source, provenance string) (*Dataset, error) {
	im, err := ReadIDX(images)
	if err != nil {
		return nil, fmt.Errorf("%w (images of %s)", err, provenance)
	}
	lb, err := ReadIDX(labels)
	if err != nil {
		return nil, fmt.Errorf("%w (labels of %s)", err, provenance)
	}
	return fromIDX(im, lb, classes, source, provenance)
}

func fromIDX(im, lb *IDX, classes int, source, provenance string) (*Dataset, error) {
	if len(im.Dims) != 3 && len(im.Dims) != 4 {
		return nil, fmt.Errorf("data: %s: image idx has dimensions %v, want (N, H, W) or (N, H, W, C)", provenance, im.Dims)
	}
	if len(lb.Dims) != 1 {
		return nil, fmt.Errorf("data: %s: label idx has dimensions %v, want (N)", provenance, lb.Dims)
	}
	n, h, w, c := im.Dims[0], im.Dims[1], im.Dims[2], 1
	if len(im.Dims) == 4 {
		c = im.Dims[3]
	}
	if h == 0 || w == 0 || c == 0 {
		return nil, fmt.Errorf("data: %s: image idx has an empty dimension %v", provenance, im.Dims)
	}
	if lb.Dims[0] != n {
		return nil, fmt.Errorf("data: %s: %d images but %d labels", provenance, n, lb.Dims[0])
	}
	labels := make([]int, n)
	for i, y := range lb.Data {
		labels[i] = int(y)
	}
	d := FromNHWC(im.Data, labels, n, h, w, c, classes, source, provenance)
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// idxNames lists the file names tried for each split, in order. Both the official names and the
// variant with a dot before "idx" are accepted, gzipped or not.
func idxNames(split Split) (images, labels []string, err error) {
	var prefix string
	switch split {
	case Train:
		prefix = "train"
	case Test:
		prefix = "t10k"
	default:
		return nil, nil, fmt.Errorf("data: unknown split %q (want train or test)", split)
	}
	for _, sep := range []string{"-", "."} {
		for _, gz := range []string{".gz", ""} {
			images = append(images, prefix+"-images"+sep+"idx3-ubyte"+gz)
			labels = append(labels, prefix+"-labels"+sep+"idx1-ubyte"+gz)
		}
	}
	return images, labels, nil
}

// FindIDX returns the names in fsys (under dir) of the image and label idx files of split, or an
// error listing the names tried.
func FindIDX(fsys fs.FS, dir string, split Split) (images, labels string, err error) {
	imNames, lbNames, err := idxNames(split)
	if err != nil {
		return "", "", err
	}
	find := func(names []string) string {
		for _, n := range names {
			p := path.Join(dir, n)
			if st, err := fs.Stat(fsys, p); err == nil && !st.IsDir() {
				return p
			}
		}
		return ""
	}
	images, labels = find(imNames), find(lbNames)
	if images == "" || labels == "" {
		return "", "", fmt.Errorf("data: no %s idx files in %q (tried %s and %s, also without .gz)", split, dir, imNames[0], lbNames[0])
	}
	return images, labels, nil
}

// LoadIDXFS reads the split of an MNIST-style dataset from the idx files under dir in fsys.
// where describes the location for the provenance (such as an OS path).
func LoadIDXFS(fsys fs.FS, dir string, split Split, classes int, source, where string) (*Dataset, error) {
	imName, lbName, err := FindIDX(fsys, dir, split)
	if err != nil {
		return nil, err
	}
	prov := fmt.Sprintf("%s %s from %s", source, split, where)
	im, err := fsys.Open(imName)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer im.Close()
	lb, err := fsys.Open(lbName)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer lb.Close()
	return LoadIDX(im, lb, classes, source, prov)
}
