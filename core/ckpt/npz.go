package ckpt

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/cdp-project/cdp/core/npy"
)

// ExportNPZ writes tensors to w as an uncompressed .npz archive (as
// numpy.savez does), one array per tensor under its name: float32 tensors as
// <f4, int64 as <i8, bytes as |u1, each with its shape. numpy.load and
// torch.from_numpy read it directly.
func ExportNPZ(w io.Writer, tensors []Tensor) error {
	names := make([]string, len(tensors))
	arrays := make([]*npy.Array, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		if n := numelChecked(t.Shape); n != t.Len() {
			return fmt.Errorf("ckpt: tensor %q has shape %v but %d values", t.Name, t.Shape, t.Len())
		}
		names[i] = t.Name
		switch t.DType {
		case Float32:
			arrays[i] = npy.NewFloat32(t.Shape, t.F32)
		case Int64:
			arrays[i] = npy.NewInt64(t.Shape, t.I64)
		case Bytes:
			arrays[i] = npy.NewUint8(t.Shape, t.Raw)
		default:
			return fmt.Errorf("ckpt: tensor %q has unknown dtype %d", t.Name, t.DType)
		}
	}
	if err := npy.WriteNPZ(w, names, arrays); err != nil {
		return fmt.Errorf("ckpt: %w", err)
	}
	return nil
}

// numelChecked is the product of shape, or -1 when a dimension is negative.
func numelChecked(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// ImportNPZ reads an .npz archive of size bytes from r into the float32
// tensors into, matching arrays to tensors by name: each tensor's F32 slice
// (typically a view of a model's flat weight buffer) receives the array of
// the same name, which must have the tensor's shape and dtype float32 (<f4)
// or float64 (<f8, rounded). Every tensor must find its array and every
// array its tensor; otherwise ImportNPZ returns an error that names them and
// writes nothing.
func ImportNPZ(r io.ReaderAt, size int64, into []Tensor) error {
	ar, err := npy.ReadNPZ(r, size)
	if err != nil {
		return fmt.Errorf("ckpt: %w", err)
	}
	want := make(map[string]bool, len(into))
	var missing []string
	data := make([][]float32, len(into))
	for i := range into {
		t := &into[i]
		if t.DType != Float32 {
			panic(fmt.Sprintf("ckpt: ImportNPZ into tensor %q of dtype %s, want float32", t.Name, t.DType))
		}
		if n := numelChecked(t.Shape); n != len(t.F32) {
			panic(fmt.Sprintf("ckpt: ImportNPZ into tensor %q of shape %v with %d values", t.Name, t.Shape, len(t.F32)))
		}
		if want[t.Name] {
			panic(fmt.Sprintf("ckpt: ImportNPZ into two tensors named %q", t.Name))
		}
		want[t.Name] = true
		a, ok := ar.Get(t.Name)
		if !ok {
			missing = append(missing, t.Name)
			continue
		}
		if !slices.Equal(a.Shape, t.Shape) {
			return fmt.Errorf("ckpt: npz array %q has shape %v, want %v", t.Name, a.Shape, t.Shape)
		}
		if a.DType != npy.Float32 && a.DType != npy.Float64 {
			return fmt.Errorf("ckpt: npz array %q has dtype %v, want <f4 or <f8", t.Name, a.DType)
		}
		if data[i], err = a.Float32s(); err != nil {
			return fmt.Errorf("ckpt: npz array %q: %w", t.Name, err)
		}
	}
	var extra []string
	for _, name := range ar.Names {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "lacks "+quoteList(missing))
	}
	if len(extra) > 0 {
		problems = append(problems, "has unexpected "+quoteList(extra))
	}
	if len(problems) > 0 {
		return fmt.Errorf("ckpt: npz archive %s", strings.Join(problems, " and "))
	}
	for i := range into {
		copy(into[i].F32, data[i])
	}
	return nil
}

func quoteList(names []string) string {
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}
