package data

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed embedded/*.gz embedded/README.md
var embedded embed.FS

// Sizes of the embedded MNIST subset.
const (
	EmbeddedTrain = 5000 // the first 5,000 MNIST training images
	EmbeddedTest  = 1000 // the first 1,000 MNIST test images
)

// EmbeddedFS returns the embedded MNIST subset as a file system: gzipped idx files with the
// official names, and README.md with the attribution (Yann LeCun, Corinna Cortes, Christopher J.C.
// Burges).
func EmbeddedFS() fs.FS {
	sub, err := fs.Sub(embedded, "embedded")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Embedded returns the embedded default dataset: the first 5,000 MNIST training images or the first
// 1,000 test images, (N, 1, 28, 28) in [0, 1], 10 classes.
func Embedded(split Split) (*Dataset, error) {
	d, err := LoadIDXFS(EmbeddedFS(), ".", split, 10, "mnist", "the embedded subset")
	if err != nil {
		return nil, err
	}
	want := EmbeddedTrain
	if split == Test {
		want = EmbeddedTest
	}
	d.Provenance = fmt.Sprintf("mnist %s, first %d images (embedded subset; MNIST by LeCun, Cortes and Burges)", split, want)
	return d, nil
}
