package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/core/data"
	"github.com/cdp-project/cdp/core/npy"
)

func idxGz(t *testing.T, path string, dims []uint32, body []byte) {
	t.Helper()
	var raw bytes.Buffer
	raw.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&raw, binary.BigEndian, d)
	}
	raw.Write(body)
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(raw.Bytes())
	w.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindAndLoadIDXAtPath(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	idxGz(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), []uint32{2, 2, 2}, []byte{0, 255, 255, 0, 1, 2, 3, 4})
	idxGz(t, filepath.Join(dir, "train-labels-idx1-ubyte.gz"), []uint32{2}, []byte{3, 9})
	got, err := FindDataset("mnist", root)
	if err != nil || got != dir {
		t.Fatalf("FindDataset = %q, %v; want %q", got, err, dir)
	}
	d, err := LoadDataset("fashion-mnist", root, data.Train)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 2 || !reflect.DeepEqual(d.Labels, []int{3, 9}) || d.Images[1] != 1 || d.Source != "fashion-mnist" || !strings.Contains(d.Provenance, dir) {
		t.Errorf("loaded %+v", d)
	}
	// The test split is missing.
	if _, err := LoadDataset("mnist", root, data.Test); err == nil || !strings.Contains(err.Error(), "t10k") {
		t.Errorf("missing test split: err = %v", err)
	}
}

func TestFindDatasetErrors(t *testing.T) {
	empty := t.TempDir()
	_, err := FindDataset("mnist", empty)
	if err == nil || !strings.Contains(err.Error(), "go mod download -json "+MNISTModule) || !strings.Contains(err.Error(), empty) {
		t.Errorf("mnist not found: err = %v, want one saying how to get it and where it looked", err)
	}
	_, err = FindDataset("fashion-mnist", empty)
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y dataset-fashion-mnist") {
		t.Errorf("fashion-mnist not found: err = %v", err)
	}
	if _, err := FindDataset("cifar10", ""); err == nil || !strings.Contains(err.Error(), "cifar-10-batches-bin") {
		t.Errorf("cifar10 without path: err = %v", err)
	}
	if _, err := FindDataset("svhn", ""); err == nil || !strings.Contains(err.Error(), "unknown dataset") {
		t.Errorf("unknown: err = %v", err)
	}
	f := filepath.Join(empty, "x")
	os.WriteFile(f, nil, 0o644)
	if _, err := FindDataset("mnist", f); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("file as path: err = %v", err)
	}
}

func TestLoadCIFARAtPath(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-10-batches-bin")
	os.MkdirAll(dir, 0o755)
	rec := make([]byte, 3073)
	rec[0] = 4
	for i := 1; i < len(rec); i++ {
		rec[i] = byte(i)
	}
	for k := 1; k <= 5; k++ {
		os.WriteFile(filepath.Join(dir, "data_batch_"+string(rune('0'+k))+".bin"), rec, 0o644)
	}
	d, err := LoadDataset("cifar10", root, data.Train)
	if err != nil {
		t.Fatal(err)
	}
	// Channel 1, pixel 0 is byte 1 + 1024 of the record.
	if d.N != 5 || d.C != 3 || d.Labels[4] != 4 || d.Images[1024] != float32(byte((1+1024)%256))/255 {
		t.Errorf("cifar: N %d C %d labels %v", d.N, d.C, d.Labels)
	}
}

func TestNPZFiles(t *testing.T) {
	dir := t.TempDir()
	src, err := data.Embedded(data.Test)
	if err != nil {
		t.Fatal(err)
	}
	src = src.Subset(10)
	p := filepath.Join(dir, "syn.npz")
	if err := SaveNPZ(p, src); err != nil {
		t.Fatal(err)
	}
	d, err := LoadDataset("mnist", p, data.Train)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Images, src.Images) || !reflect.DeepEqual(d.Labels, src.Labels) || !strings.Contains(d.Provenance, p) {
		t.Error("npz file round trip changed the data")
	}
	// Labels out of range for the dataset.
	bad := filepath.Join(dir, "bad.npz")
	if err := WriteNPZFile(bad, []string{"image", "label"}, []*npy.Array{
		npy.NewUint8([]int{1, 28, 28, 1}, make([]uint8, 784)), npy.NewInt64([]int{1}, []int64{12}),
	}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNPZ(bad, 10); err == nil || !strings.Contains(err.Error(), "label 12") || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad labels: err = %v", err)
	}
	ar, err := ReadNPZFile(bad)
	if err != nil || !reflect.DeepEqual(ar.Names, []string{"image", "label"}) {
		t.Errorf("ReadNPZFile: %v %v", ar, err)
	}
}

// needData finds a dataset on this machine; if it is missing the test is skipped, or fails when
// CI is set (build.sh provides the files there).
func needData(t *testing.T, name string) {
	t.Helper()
	if _, err := FindDataset(name, ""); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
}

// TestMNISTOnDisk loads the official MNIST files found automatically and checks them against the
// published facts and against the embedded subset.
func TestMNISTOnDisk(t *testing.T) {
	needData(t, "mnist")
	for _, c := range []struct {
		split     data.Split
		n, first  int
		embedded  int
		firstFour []int
	}{
		{data.Train, 60000, 5, 5000, []int{5, 0, 4, 1}},
		{data.Test, 10000, 7, 1000, []int{7, 2, 1, 0}},
	} {
		d, err := LoadDataset("mnist", "", c.split)
		if err != nil {
			t.Fatal(err)
		}
		if d.N != c.n || d.H != 28 || d.W != 28 || !reflect.DeepEqual(d.Labels[:4], c.firstFour) {
			t.Fatalf("%s: N %d, %dx%d, first labels %v", c.split, d.N, d.H, d.W, d.Labels[:4])
		}
		e, err := data.Embedded(c.split)
		if err != nil {
			t.Fatal(err)
		}
		if e.N != c.embedded || !reflect.DeepEqual(e.Labels, d.Labels[:c.embedded]) || !reflect.DeepEqual(e.Images, d.Images[:c.embedded*784]) {
			t.Errorf("%s: the embedded subset differs from the first %d examples of the official file", c.split, c.embedded)
		}
	}
}

// TestFashionMNISTOnDisk loads Fashion-MNIST where Debian's package put it.
func TestFashionMNISTOnDisk(t *testing.T) {
	needData(t, "fashion-mnist")
	d, err := LoadDataset("fashion-mnist", "", data.Test)
	if err != nil {
		t.Fatal(err)
	}
	// The published test set: 10,000 images, 1,000 per class, first label 9 (ankle boot).
	var count [10]int
	for _, y := range d.Labels {
		count[y]++
	}
	if d.N != 10000 || d.Labels[0] != 9 || count != [10]int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000} {
		t.Errorf("fashion-mnist test: N %d, first label %d, counts %v", d.N, d.Labels[0], count)
	}
}
