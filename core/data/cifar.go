package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
)

// CIFARKind selects the binary layout of a CIFAR batch file.
type CIFARKind int

// The two CIFAR layouts.
const (
	CIFAR10  CIFARKind = iota // 1 label byte, then 3072 pixel bytes; 10 classes
	CIFAR100                  // coarse label byte, fine label byte, then 3072 pixel bytes; 100 fine classes
)

const cifarPixels = 3 * 32 * 32

func (k CIFARKind) labelBytes() int {
	if k == CIFAR100 {
		return 2
	}
	return 1
}

// Classes returns the number of classes (fine labels for CIFAR-100).
func (k CIFARKind) Classes() int {
	if k == CIFAR100 {
		return 100
	}
	return 10
}

// Source returns "cifar10" or "cifar100".
func (k CIFARKind) Source() string {
	if k == CIFAR100 {
		return "cifar100"
	}
	return "cifar10"
}

// ReadCIFAR reads one CIFAR binary batch file: records of label byte(s) and 3072 pixel bytes laid
// out (C, H, W) = (3, 32, 32). It returns the pixels as (N, 32, 32, 3) (HWC) and the labels (fine
// labels for CIFAR-100). A partial record or an out-of-range label is an error.
func ReadCIFAR(r io.Reader, kind CIFARKind) (pix []uint8, labels []int, err error) {
	lb := kind.labelBytes()
	rec := make([]byte, lb+cifarPixels)
	for n := 0; ; n++ {
		k, err := io.ReadFull(r, rec)
		if err == io.EOF {
			break
		}
		if err == io.ErrUnexpectedEOF {
			return nil, nil, fmt.Errorf("data: cifar: record %d is truncated (%d of %d bytes)", n, k, len(rec))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("data: cifar: record %d: %w", n, err)
		}
		y := int(rec[lb-1])
		if y >= kind.Classes() || (kind == CIFAR100 && rec[0] >= 20) {
			return nil, nil, fmt.Errorf("data: cifar: record %d has label %d, outside 0..%d", n, y, kind.Classes()-1)
		}
		labels = append(labels, y)
		// CHW -> HWC
		base := len(pix)
		pix = append(pix, make([]uint8, cifarPixels)...)
		px := rec[lb:]
		for c := 0; c < 3; c++ {
			for p := 0; p < 1024; p++ {
				pix[base+p*3+c] = px[c*1024+p]
			}
		}
	}
	if len(labels) == 0 {
		return nil, nil, errors.New("data: cifar: empty batch file")
	}
	return pix, labels, nil
}

// cifarFiles lists the batch files of a split in the official binary distributions.
func cifarFiles(kind CIFARKind, split Split) ([]string, error) {
	switch {
	case kind == CIFAR10 && split == Train:
		return []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}, nil
	case kind == CIFAR10 && split == Test:
		return []string{"test_batch.bin"}, nil
	case kind == CIFAR100 && split == Train:
		return []string{"train.bin"}, nil
	case kind == CIFAR100 && split == Test:
		return []string{"test.bin"}, nil
	}
	return nil, fmt.Errorf("data: unknown split %q (want train or test)", split)
}

// LoadCIFARFS reads a split of CIFAR-10 (data_batch_1..5.bin, test_batch.bin) or CIFAR-100
// (train.bin, test.bin) from dir in fsys into a dataset (N, 3, 32, 32). where describes the
// location for the provenance.
func LoadCIFARFS(fsys fs.FS, dir string, kind CIFARKind, split Split, where string) (*Dataset, error) {
	names, err := cifarFiles(kind, split)
	if err != nil {
		return nil, err
	}
	var pix []uint8
	var labels []int
	for _, name := range names {
		f, err := fsys.Open(path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", kind.Source(), err)
		}
		p, l, err := ReadCIFAR(f, kind)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, name)
		}
		pix = append(pix, p...)
		labels = append(labels, l...)
	}
	prov := fmt.Sprintf("%s %s from %s", kind.Source(), split, where)
	return FromNHWC(pix, labels, len(labels), 32, 32, 3, kind.Classes(), kind.Source(), prov), nil
}
