package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/native/store"
	"github.com/spf13/pflag"
)

// dataFlags are the data-source flags shared by train, advtrain and eval.
type dataFlags struct {
	source string
	path   string
	subset int
}

var dataSources = []string{"embedded", "mnist", "fashion-mnist", "npz", "cifar10"}

func addDataFlags(fs *pflag.FlagSet, subset int) *dataFlags {
	d := &dataFlags{}
	fs.StringVar(&d.source, "data", "embedded", "data source: "+strings.Join(dataSources, "|")+
		" (embedded: the first 5,000 MNIST training and 1,000 test images, built in)")
	fs.StringVar(&d.path, "data-path", "", "folder of the idx or CIFAR files, or the .npz file (default: found automatically)")
	fs.IntVar(&d.subset, "subset", subset, "use the first N examples (0: all)")
	return d
}

// load reads the split of the chosen data source.
func (f *dataFlags) load(split data.Split, stderr io.Writer) (*data.Dataset, error) {
	if f.subset < 0 {
		return nil, usagef("--subset %d must not be negative", f.subset)
	}
	var d *data.Dataset
	var err error
	switch f.source {
	case "embedded":
		if f.path != "" {
			return nil, usagef("--data-path is not used with --data embedded")
		}
		d, err = data.Embedded(split)
	case "mnist", "fashion-mnist", "cifar10":
		d, err = store.LoadDataset(f.source, f.path, split)
	case "npz":
		if f.path == "" {
			return nil, usagef("--data npz needs --data-path FILE.npz")
		}
		d, err = store.LoadNPZ(f.path, 10)
	default:
		return nil, usagef("--data %q: want one of %s", f.source, strings.Join(dataSources, ", "))
	}
	if err != nil {
		return nil, err
	}
	if f.subset > 0 {
		if f.subset > d.N {
			fmt.Fprintf(stderr, "note: --subset %d exceeds the %d examples of %s; using all\n", f.subset, d.N, d.Provenance)
		} else {
			d = d.Subset(f.subset)
		}
	}
	return d, nil
}

// padTo pads square images with zeros (black) to size x size (MNIST's 28 to
// the diffusion model's 32).
func padTo(d *data.Dataset, size int) *data.Dataset {
	if d.H >= size {
		return d
	}
	return d.Pad((size - d.H) / 2)
}
