package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cdp-project/cdp/core/npy"
)

func TestEmbedded(t *testing.T) {
	for _, c := range []struct {
		split       Split
		n, first    int
		firstLabels []int
	}{
		// The first MNIST labels as published: train 5 0 4 1 9 2 1 3, test 7 2 1 0 4 1 4 9.
		{Train, 5000, 5, []int{5, 0, 4, 1, 9, 2, 1, 3}},
		{Test, 1000, 7, []int{7, 2, 1, 0, 4, 1, 4, 9}},
	} {
		d, err := Embedded(c.split)
		if err != nil {
			t.Fatal(err)
		}
		if d.N != c.n || d.C != 1 || d.H != 28 || d.W != 28 || d.Classes != 10 || len(d.Images) != c.n*784 {
			t.Fatalf("%s: N, C, H, W, classes = %d, %d, %d, %d, %d", c.split, d.N, d.C, d.H, d.W, d.Classes)
		}
		if !reflect.DeepEqual(d.Labels[:8], c.firstLabels) {
			t.Errorf("%s: first labels %v, want %v", c.split, d.Labels[:8], c.firstLabels)
		}
		var count [10]int
		for _, y := range d.Labels {
			if y < 0 || y > 9 {
				t.Fatalf("%s: label %d", c.split, y)
			}
			count[y]++
		}
		for k, m := range count {
			if m < c.n/20 { // every digit is well represented
				t.Errorf("%s: only %d examples of digit %d", c.split, m, k)
			}
		}
		lo, hi, sum := float32(1), float32(0), 0.0
		for _, x := range d.Images {
			lo, hi = min(lo, x), max(hi, x)
			sum += float64(x)
		}
		mean := sum / float64(len(d.Images))
		// MNIST pixels span 0..255 and average about 0.13.
		if lo != 0 || hi != 1 || mean < 0.11 || mean > 0.15 {
			t.Errorf("%s: pixel range [%v, %v], mean %v", c.split, lo, hi, mean)
		}
		// Corners of MNIST digits are background.
		if im := d.Image(0); im[0] != 0 || im[27] != 0 || im[783] != 0 {
			t.Errorf("%s: image 0 corners not 0", c.split)
		}
		if !strings.Contains(d.Provenance, "embedded") || d.Source != "mnist" {
			t.Errorf("provenance %q source %q", d.Provenance, d.Source)
		}
	}
	readme, err := EmbeddedFS().Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(readme)
	for _, name := range []string{"Yann LeCun", "Corinna Cortes", "Burges"} {
		if !bytes.Contains(b, []byte(name)) {
			t.Errorf("README.md lacks attribution to %s", name)
		}
	}
}

// idxBytes builds an idx file of unsigned bytes.
func idxBytes(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestLoadIDX(t *testing.T) {
	pix := make([]byte, 3*2*4)
	for i := range pix {
		pix[i] = byte(i * 10)
	}
	im := idxBytes([]uint32{3, 2, 4}, pix)
	lb := idxBytes([]uint32{3}, []byte{2, 0, 1})
	for _, zip := range []bool{false, true} {
		a, b := im, lb
		if zip {
			a, b = gz(im), gz(lb)
		}
		d, err := LoadIDX(bytes.NewReader(a), bytes.NewReader(b), 3, "test", "unit")
		if err != nil {
			t.Fatal(err)
		}
		if d.N != 3 || d.C != 1 || d.H != 2 || d.W != 4 || !reflect.DeepEqual(d.Labels, []int{2, 0, 1}) {
			t.Fatalf("got N, C, H, W = %d, %d, %d, %d, labels %v", d.N, d.C, d.H, d.W, d.Labels)
		}
		for i, x := range d.Images {
			if x != float32(i*10)/255 {
				t.Fatalf("pixel %d = %v, want %v", i, x, float32(i*10)/255)
			}
		}
	}
	// Label out of range for 2 classes.
	if _, err := LoadIDX(bytes.NewReader(im), bytes.NewReader(lb), 2, "test", "unit"); err == nil || !strings.Contains(err.Error(), "label 2") {
		t.Errorf("out-of-range label: err = %v", err)
	}
	// Count mismatch.
	lb2 := idxBytes([]uint32{2}, []byte{0, 1})
	if _, err := LoadIDX(bytes.NewReader(im), bytes.NewReader(lb2), 3, "test", "unit"); err == nil || !strings.Contains(err.Error(), "3 images but 2 labels") {
		t.Errorf("count mismatch: err = %v", err)
	}
}

func TestReadIDXErrors(t *testing.T) {
	good := idxBytes([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	cases := []struct {
		name, want string
		in         []byte
	}{
		{"empty", "magic", nil},
		{"bad magic", "bad magic", []byte{1, 2, 8, 1, 0, 0, 0, 0}},
		{"float type", "element type 0x0d", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}},
		{"no dims", "0 dimensions", []byte{0, 0, 8, 0}},
		{"truncated dims", "dimensions", good[:9]},
		{"truncated data", "unexpected EOF", good[:len(good)-1]},
		{"trailing data", "continue past", append(append([]byte(nil), good...), 7)},
		{"huge header", "unexpected EOF", idxBytes([]uint32{60000, 28, 28}, make([]byte, 100))},
		{"overflow", "too large", idxBytes([]uint32{1 << 30, 1 << 30, 1 << 30}, nil)},
		{"truncated gzip", "unexpected EOF", gz(good)[:20]},
	}
	for _, c := range cases {
		_, err := ReadIDX(bytes.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "data: ") {
			t.Errorf("%s: err = %v, want a data: error containing %q", c.name, err, c.want)
		}
	}
	// A corrupted gzip checksum.
	z := gz(good)
	z[len(z)-6] ^= 0xff
	if _, err := ReadIDX(bytes.NewReader(z)); err == nil {
		t.Error("bad gzip checksum: no error")
	}
}

func TestLoadIDXFS(t *testing.T) {
	fsys := fstest.MapFS{
		"d/train-images-idx3-ubyte":    {Data: idxBytes([]uint32{1, 2, 2}, []byte{0, 255, 0, 255})},
		"d/train-labels-idx1-ubyte.gz": {Data: gz(idxBytes([]uint32{1}, []byte{4}))},
	}
	d, err := LoadIDXFS(fsys, "d", Train, 10, "fashion-mnist", "/x/d")
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 1 || d.Labels[0] != 4 || d.Images[1] != 1 || !strings.Contains(d.Provenance, "fashion-mnist train from /x/d") {
		t.Errorf("got %+v", d)
	}
	if _, err := LoadIDXFS(fsys, "d", Test, 10, "fashion-mnist", "/x/d"); err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte") {
		t.Errorf("missing test split: err = %v", err)
	}
}

// cifarValue is the pixel value the CIFAR test files hold at (example, channel, y, x).
func cifarValue(n, c, y, x int) byte { return byte(n*31 + c*100 + y*7 + x*3) }

func cifarBytes(kind CIFARKind, labels []int) []byte {
	var b bytes.Buffer
	for n, l := range labels {
		if kind == CIFAR100 {
			b.WriteByte(byte(l / 5)) // coarse label
		}
		b.WriteByte(byte(l))
		for c := 0; c < 3; c++ {
			for y := 0; y < 32; y++ {
				for x := 0; x < 32; x++ {
					b.WriteByte(cifarValue(n, c, y, x))
				}
			}
		}
	}
	return b.Bytes()
}

func TestCIFAR(t *testing.T) {
	for _, kind := range []CIFARKind{CIFAR10, CIFAR100} {
		labels := []int{3, 9, 0}
		if kind == CIFAR100 {
			labels = []int{99, 42, 0}
		}
		in := cifarBytes(kind, labels)
		pix, got, err := ReadCIFAR(bytes.NewReader(in), kind)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, labels) || len(pix) != 3*3072 {
			t.Fatalf("labels %v, %d pixels", got, len(pix))
		}
		for n := 0; n < 3; n++ {
			for y := 0; y < 32; y++ {
				for x := 0; x < 32; x++ {
					for c := 0; c < 3; c++ {
						if v := pix[((n*32+y)*32+x)*3+c]; v != cifarValue(n, c, y, x) {
							t.Fatalf("HWC pixel (%d, %d, %d, %d) = %d, want %d", n, y, x, c, v, cifarValue(n, c, y, x))
						}
					}
				}
			}
		}
		// Truncated and out-of-range inputs.
		if _, _, err := ReadCIFAR(bytes.NewReader(in[:len(in)-1]), kind); err == nil || !strings.Contains(err.Error(), "record 2 is truncated") {
			t.Errorf("truncated: err = %v", err)
		}
		bad := append([]byte(nil), in...)
		bad[kind.labelBytes()-1] = 200
		if _, _, err := ReadCIFAR(bytes.NewReader(bad), kind); err == nil || !strings.Contains(err.Error(), "label 200") {
			t.Errorf("bad label: err = %v", err)
		}
		if _, _, err := ReadCIFAR(bytes.NewReader(nil), kind); err == nil {
			t.Error("empty: no error")
		}
	}
	// A whole CIFAR-10 test split through fs.FS, checked in (N, C, H, W).
	fsys := fstest.MapFS{"c/test_batch.bin": {Data: cifarBytes(CIFAR10, []int{1, 2})}}
	d, err := LoadCIFARFS(fsys, "c", CIFAR10, Test, "mem")
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 2 || d.C != 3 || d.H != 32 || d.W != 32 || d.Classes != 10 {
		t.Fatalf("shape %d %d %d %d", d.N, d.C, d.H, d.W)
	}
	if got, want := d.Images[((1*3+2)*32+5)*32+7], float32(cifarValue(1, 2, 5, 7))/255; got != want {
		t.Errorf("NCHW pixel = %v, want %v", got, want)
	}
	if _, err := LoadCIFARFS(fsys, "c", CIFAR10, Train, "mem"); err == nil || !strings.Contains(err.Error(), "data_batch_1.bin") {
		t.Errorf("missing train batches: err = %v", err)
	}
}

func writeNPZ(t *testing.T, names []string, arrays []*npy.Array) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := npy.WriteNPZ(&b, names, arrays); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestNPZDataset(t *testing.T) {
	src, err := Embedded(Test)
	if err != nil {
		t.Fatal(err)
	}
	src = src.Subset(20)
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, src); err != nil {
		t.Fatal(err)
	}
	d, err := ReadNPZ(bytes.NewReader(buf.Bytes()), int64(buf.Len()), 10, "npz", "round trip")
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 20 || d.C != 1 || d.H != 28 || d.W != 28 || !reflect.DeepEqual(d.Labels, src.Labels) || !reflect.DeepEqual(d.Images, src.Images) {
		t.Fatal("round trip through npz changed the data")
	}
	if err := d.Check(1, 28, 28, 10); err != nil {
		t.Error(err)
	}
	if err := d.Check(1, 32, 32, 10); err == nil || !strings.Contains(err.Error(), "(28, 28, 1) but (32, 32, 1)") {
		t.Errorf("Check with another shape: err = %v", err)
	}
	// Signed data round-trip to the same uint8 pixels.
	buf.Reset()
	if err := WriteNPZ(&buf, src.ToSigned()); err != nil {
		t.Fatal(err)
	}
	d2, err := ReadNPZ(bytes.NewReader(buf.Bytes()), int64(buf.Len()), 10, "npz", "signed")
	if err != nil || !reflect.DeepEqual(d2.Images, src.Images) {
		t.Errorf("signed round trip: %v", err)
	}

	// arr_0/arr_1, (N, H, W) images, int32 labels, 3 channels.
	rgb := make([]uint8, 2*4*5*3)
	for i := range rgb {
		rgb[i] = uint8(i)
	}
	b := writeNPZ(t, []string{"arr_0", "arr_1"}, []*npy.Array{npy.NewUint8([]int{2, 4, 5, 3}, rgb), npy.NewInt32([]int{2}, []int32{1, 0})})
	d, err = ReadNPZ(bytes.NewReader(b), int64(len(b)), 2, "npz", "arr")
	if err != nil {
		t.Fatal(err)
	}
	// (n, c, y, x) = (1, 2, 3, 4) comes from HWC flat index ((1*4+3)*5+4)*3+2.
	if d.C != 3 || d.H != 4 || d.W != 5 || d.Images[((1*3+2)*4+3)*5+4] != float32(((1*4+3)*5+4)*3+2)/255 {
		t.Errorf("arr_0 layout: C, H, W = %d, %d, %d", d.C, d.H, d.W)
	}

	bad := []struct {
		name, want string
		arrays     []*npy.Array
		names      []string
	}{
		{"label out of range", "label 10 of example 1 is outside 0..9", []*npy.Array{npy.NewUint8([]int{2, 1, 1, 1}, []uint8{0, 0}), npy.NewInt64([]int{2}, []int64{3, 10})}, nil},
		{"negative label", "label -1", []*npy.Array{npy.NewUint8([]int{1, 1, 1}, []uint8{0}), npy.NewInt64([]int{1}, []int64{-1})}, nil},
		{"label count", "want (2)", []*npy.Array{npy.NewUint8([]int{2, 1, 1, 1}, []uint8{0, 0}), npy.NewInt64([]int{3}, []int64{1, 2, 3})}, nil},
		{"one-hot labels", "label array has shape [1 10]", []*npy.Array{npy.NewUint8([]int{1, 1, 1, 1}, []uint8{0}), npy.NewInt64([]int{1, 10}, make([]int64, 10))}, nil},
		{"channels first", "channels-first", []*npy.Array{npy.NewUint8([]int{1, 1, 28, 28}, make([]uint8, 784)), npy.NewInt64([]int{1}, []int64{0})}, nil},
		{"2-D images", "want (N, H, W, C)", []*npy.Array{npy.NewUint8([]int{1, 784}, make([]uint8, 784)), npy.NewInt64([]int{1}, []int64{0})}, nil},
		{"float labels", "labels", []*npy.Array{npy.NewUint8([]int{1, 1, 1}, []uint8{0}), npy.NewFloat32([]int{1}, []float32{0})}, nil},
		{"float pixels > 1", "outside [0, 1]", []*npy.Array{npy.NewFloat32([]int{1, 1, 1}, []float32{255}), npy.NewInt64([]int{1}, []int64{0})}, nil},
		{"int64 pixels", "image dtype <i8", []*npy.Array{npy.NewInt64([]int{1, 1, 1}, []int64{0}), npy.NewInt64([]int{1}, []int64{0})}, nil},
		{"missing label", "want arrays 'image' and 'label'", []*npy.Array{npy.NewUint8([]int{1, 1, 1}, []uint8{0})}, []string{"image"}},
	}
	for _, c := range bad {
		names := c.names
		if names == nil {
			names = []string{"image", "label"}
		}
		b := writeNPZ(t, names, c.arrays)
		_, err := ReadNPZ(bytes.NewReader(b), int64(len(b)), 10, "npz", "user.npz")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "user.npz") {
			t.Errorf("%s: err = %v, want one containing %q and the provenance", c.name, err, c.want)
		}
	}
	if _, err := ReadNPZ(bytes.NewReader([]byte("not a zip")), 9, 10, "npz", "junk"); err == nil {
		t.Error("junk: no error")
	}
}

func TestPadSignedSubset(t *testing.T) {
	d := New([]float32{1, 2, 3, 4, 5, 6, 7, 8}, []int{0, 1}, 2, 1, 2, 2, 2, "t", "t")
	p := d.Pad(1)
	if p.H != 4 || p.W != 4 || len(p.Images) != 32 {
		t.Fatalf("padded shape %d x %d", p.H, p.W)
	}
	want0 := []float32{0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0}
	if !reflect.DeepEqual(p.Images[:16], want0) || p.Images[16+5] != 5 || p.Images[16+10] != 8 {
		t.Errorf("padded image 0 %v", p.Images[:16])
	}
	if c := p.Crop(1); !reflect.DeepEqual(c.Images, d.Images) || c.H != 2 || c.W != 2 || !reflect.DeepEqual(c.Labels, d.Labels) {
		t.Errorf("Crop(1) of Pad(1): %d x %d %v, want the original %v", c.H, c.W, c.Images, d.Images)
	}
	m, err := Embedded(Test)
	if err != nil {
		t.Fatal(err)
	}
	m = m.Subset(3)
	if m.N != 3 || len(m.Images) != 3*784 || !strings.Contains(m.Provenance, "first 3") {
		t.Fatalf("subset: N %d, provenance %q", m.N, m.Provenance)
	}
	s := m.Pad(2).ToSigned()
	if s.H != 32 || s.W != 32 || !s.Signed {
		t.Fatalf("padded signed: %d x %d signed %v", s.H, s.W, s.Signed)
	}
	for i, x := range s.Images {
		if x < -1 || x > 1 {
			t.Fatalf("signed pixel %d = %v", i, x)
		}
	}
	// The border is background (-1) and the interior is 2x - 1 of the original.
	if s.Images[0] != -1 || s.Images[32*32-1] != -1 {
		t.Error("border not -1")
	}
	if got, want := s.Images[1*32*32+(2+14)*32+(2+14)], 2*m.Images[1*784+14*28+14]-1; got != want {
		t.Errorf("interior pixel %v, want %v", got, want)
	}
	// Padding a Signed set uses -1.
	if q := m.ToSigned().Pad(2); q.Images[0] != -1 {
		t.Errorf("signed pad background %v", q.Images[0])
	}
	u := s.ToUnit()
	for i, x := range u.Images {
		if d := x - m.Pad(2).Images[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("ToUnit(ToSigned(x)) differs at %d by %v", i, d)
		}
	}
}

func TestEpochDeterminism(t *testing.T) {
	a := Epoch(103, 10, false, rand.New(rand.NewPCG(1, 2)))
	b := Epoch(103, 10, false, rand.New(rand.NewPCG(1, 2)))
	c := Epoch(103, 10, false, rand.New(rand.NewPCG(1, 3)))
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different batches")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same batches")
	}
	if len(a) != 11 || len(a[10]) != 3 {
		t.Errorf("%d batches, last of %d", len(a), len(a[len(a)-1]))
	}
	var all []int
	for _, bt := range a {
		all = append(all, bt...)
	}
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("epoch is not a permutation: %v", all)
		}
	}
	if d := Epoch(103, 10, true, rand.New(rand.NewPCG(1, 2))); len(d) != 10 || !reflect.DeepEqual(d, a[:10]) {
		t.Errorf("dropLast: %d batches", len(d))
	}
	// A successive epoch from the same rng is a different permutation.
	r := rand.New(rand.NewPCG(1, 2))
	if e1, e2 := Epoch(50, 50, false, r), Epoch(50, 50, false, r); reflect.DeepEqual(e1, e2) {
		t.Error("two epochs with the same order")
	}
}

func TestAugment(t *testing.T) {
	// One 1x2x3 image: rows [1 2 3] [4 5 6].
	img := []float32{1, 2, 3, 4, 5, 6}
	flipOnly := Augment{Flip: true}
	seenFlip, seenKeep := false, false
	r := rand.New(rand.NewPCG(7, 7))
	for k := 0; k < 40; k++ {
		x := append([]float32(nil), img...)
		flipOnly.Apply(x, 1, 1, 2, 3, 0, r)
		switch {
		case reflect.DeepEqual(x, []float32{3, 2, 1, 6, 5, 4}):
			seenFlip = true
		case reflect.DeepEqual(x, img):
			seenKeep = true
		default:
			t.Fatalf("flip gave %v", x)
		}
	}
	if !seenFlip || !seenKeep {
		t.Errorf("flip: seen flipped %v, kept %v", seenFlip, seenKeep)
	}
	// Random crop: every output is the input shifted by (dy, dx) in [-1, 1]^2 with background
	// -1, and several shifts occur.
	crop := Augment{Pad: 1}
	shifts := map[[2]int]bool{}
	for k := 0; k < 100; k++ {
		x := append([]float32(nil), img...)
		crop.Apply(x, 1, 1, 2, 3, -1, r)
		found := false
		for dy := -1; dy <= 1 && !found; dy++ {
			for dx := -1; dx <= 1 && !found; dx++ {
				ok := true
				for y := 0; y < 2; y++ {
					for xx := 0; xx < 3; xx++ {
						want := float32(-1)
						if sy, sx := y+dy, xx+dx; sy >= 0 && sy < 2 && sx >= 0 && sx < 3 {
							want = img[sy*3+sx]
						}
						ok = ok && x[y*3+xx] == want
					}
				}
				if ok {
					found = true
					shifts[[2]int{dy, dx}] = true
				}
			}
		}
		if !found {
			t.Fatalf("crop gave %v, not a shift", x)
		}
	}
	if len(shifts) < 9 {
		t.Errorf("only %d of 9 shifts in 100 draws", len(shifts))
	}
	if DefaultAugment("mnist").Flip || !DefaultAugment("cifar10").Flip {
		t.Error("DefaultAugment: flips for digits or none for CIFAR")
	}
	// Determinism.
	x1 := make([]float32, 4*3*8*8)
	for i := range x1 {
		x1[i] = float32(i)
	}
	x2 := append([]float32(nil), x1...)
	a := Augment{Pad: 2, Flip: true}
	a.Apply(x1, 4, 3, 8, 8, 0, rand.New(rand.NewPCG(5, 6)))
	a.Apply(x2, 4, 3, 8, 8, 0, rand.New(rand.NewPCG(5, 6)))
	if !reflect.DeepEqual(x1, x2) {
		t.Error("same seed, different augmentation")
	}
}

// constant returns n examples of size 1x2x2 whose pixels all equal v + i/1000 for example i.
func constant(n int, v float32) *Dataset {
	img := make([]float32, n*4)
	lab := make([]int, n)
	for i := 0; i < n; i++ {
		for p := 0; p < 4; p++ {
			img[i*4+p] = v + float32(i)/1000
		}
		lab[i] = i % 10
	}
	return New(img, lab, n, 1, 2, 2, 10, "t", "t")
}

func TestMixer(t *testing.T) {
	real, synth := constant(30, 0), constant(50, 0.5)
	for _, c := range []struct {
		batch int
		frac  float64
	}{{10, 0.7}, {64, 0.7}, {7, 0.3}, {16, 0}, {16, 1}, {3, 0.5}} {
		m, err := NewMixer(real, synth, c.batch, c.frac, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, c.batch*4)
		y := make([]int, c.batch)
		fromSynth := make([]bool, c.batch)
		total := 0
		const batches = 100
		seenReal := map[int]int{}
		for k := 0; k < batches; k++ {
			ns := m.Next(x, y, fromSynth)
			count := 0
			for i := 0; i < c.batch; i++ {
				isSynth := x[i*4] >= 0.5
				if isSynth != fromSynth[i] {
					t.Fatalf("example %d: fromSynth %v but pixel %v", i, fromSynth[i], x[i*4])
				}
				if isSynth {
					count++
				} else {
					seenReal[int(x[i*4]*1000+0.5)]++
				}
				idx := int((x[i*4]-map[bool]float32{true: 0.5, false: 0}[isSynth])*1000 + 0.5)
				if y[i] != idx%10 {
					t.Fatalf("label %d for example %d", y[i], idx)
				}
			}
			if count != ns {
				t.Fatalf("Next says %d synthetic, batch holds %d", ns, count)
			}
			// Per batch the count is the fraction rounded down or up.
			lo := int(c.frac * float64(c.batch))
			if count < lo || count > lo+1 {
				t.Fatalf("batch %d of %d: %d synthetic for fraction %v", k, c.batch, count, c.frac)
			}
			total += count
		}
		// In total, the share is exact up to rounding of the running total.
		want := c.frac * float64(c.batch*batches)
		if d := float64(total) - want; d > 0.5 || d < -0.5 {
			t.Errorf("batch %d frac %v: %d synthetic in %d batches, want %v", c.batch, c.frac, total, batches, want)
		}
		// Real examples are drawn by epochs: every one appears, as evenly as possible.
		if c.frac < 1 {
			nReal := c.batch*batches - total
			for i := 0; i < real.N; i++ {
				if got := seenReal[i]; got < nReal/real.N || got > nReal/real.N+1 {
					t.Errorf("batch %d frac %v: real example %d drawn %d times of %d", c.batch, c.frac, i, got, nReal)
				}
			}
		}
	}
	// Determinism: same seed, same batches; another seed, other batches.
	draw := func(seed uint64) []float32 {
		m, err := NewMixer(real, synth, 8, DefaultSynthFrac, rand.New(rand.NewPCG(seed, 0)))
		if err != nil {
			t.Fatal(err)
		}
		var all []float32
		x, y := make([]float32, 32), make([]int, 8)
		for k := 0; k < 20; k++ {
			m.Next(x, y, nil)
			all = append(all, x...)
		}
		return all
	}
	if !reflect.DeepEqual(draw(3), draw(3)) {
		t.Error("same seed, different batches")
	}
	if reflect.DeepEqual(draw(3), draw(4)) {
		t.Error("different seeds, same batches")
	}
	// Mismatched shapes are refused with a message naming both.
	other := New(make([]float32, 9), []int{0}, 1, 1, 3, 3, 10, "t", "other.npz")
	if _, err := NewMixer(real, other, 8, 0.7, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "(2, 2, 1) but synthetic ones (3, 3, 1)") {
		t.Errorf("shape mismatch: err = %v", err)
	}
	if _, err := NewMixer(real, synth, 8, 1.5, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("fraction 1.5: no error")
	}
	if _, err := NewMixer(real, nil, 8, 0.7, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("no synthetic data: no error")
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(gz(idxBytes([]uint32{1, 2, 2}, []byte{1, 2, 3, 4})))
	f.Add(idxBytes([]uint32{60000, 28, 28}, nil))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		n := 1
		for _, d := range m.Dims {
			n *= d
		}
		if n != len(m.Data) {
			t.Fatalf("dims %v but %d bytes", m.Dims, len(m.Data))
		}
		// gzip can expand a lot, but never beyond what deflate allows.
		if len(m.Data) > 1100*len(in)+1024 {
			t.Fatalf("%d bytes from %d", len(m.Data), len(in))
		}
	})
}

func FuzzReadCIFAR(f *testing.F) {
	f.Add(cifarBytes(CIFAR10, []int{1}), false)
	f.Add(cifarBytes(CIFAR100, []int{7, 8}), true)
	f.Add([]byte{1, 2, 3}, false)
	f.Fuzz(func(t *testing.T, in []byte, hundred bool) {
		kind := CIFAR10
		if hundred {
			kind = CIFAR100
		}
		pix, labels, err := ReadCIFAR(bytes.NewReader(in), kind)
		if err != nil {
			return
		}
		if len(pix) != 3072*len(labels) || len(in) != (3072+kind.labelBytes())*len(labels) {
			t.Fatalf("%d pixels, %d labels from %d bytes", len(pix), len(labels), len(in))
		}
		for _, y := range labels {
			if y < 0 || y >= kind.Classes() {
				t.Fatalf("label %d", y)
			}
		}
	})
}

func FuzzReadNPZDataset(f *testing.F) {
	var buf bytes.Buffer
	d := New(make([]float32, 2*4), []int{1, 2}, 2, 1, 2, 2, 10, "t", "t")
	WriteNPZ(&buf, d)
	f.Add(buf.Bytes())
	var b2 bytes.Buffer
	npy.WriteNPZCompressed(&b2, []string{"arr_0", "arr_1"}, []*npy.Array{npy.NewFloat32([]int{1, 1, 1, 1}, []float32{0.5}), npy.NewInt64([]int{1}, []int64{9})})
	f.Add(b2.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := ReadNPZ(bytes.NewReader(in), int64(len(in)), 10, "npz", "fuzz")
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("ReadNPZ returned an invalid dataset: %v", err)
		}
	})
}

func BenchmarkEmbeddedTrain(b *testing.B) {
	for b.Loop() {
		if _, err := Embedded(Train); err != nil {
			b.Fatal(err)
		}
	}
}
