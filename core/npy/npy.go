// Package npy reads and writes NumPy .npy arrays and .npz archives.
//
// It covers the dtypes that dataset and weight interchange need: <f4, <f8, |u1, <i4, <i8 and |b1,
// in C order (fortran_order False), npy format versions 1.0, 2.0 and 3.0. Everything else is refused
// with an error that names it. Declared sizes in a header are never trusted for allocation: data is
// read in chunks, so a hostile header costs at most the bytes actually present in the input.
//
// The package is pure Go with no dependency beyond the standard library, so it builds for js/wasm.
// (gorgonia.org/tensor's ReadNpy was evaluated and not used: it panics on an empty descr or a negative
// dimension, allocates the declared shape before reading, reads big-endian data as little-endian
// and supports version 1.0 only.)
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// DType is an element type of an array.
type DType uint8

// The supported element types.
const (
	Invalid DType = iota
	Bool          // |b1
	Uint8         // |u1
	Int32         // <i4
	Int64         // <i8
	Float32       // <f4
	Float64       // <f8
)

var dtypeDescr = [...]string{Invalid: "invalid", Bool: "|b1", Uint8: "|u1", Int32: "<i4", Int64: "<i8", Float32: "<f4", Float64: "<f8"}
var dtypeSize = [...]int{Invalid: 0, Bool: 1, Uint8: 1, Int32: 4, Int64: 8, Float32: 4, Float64: 8}

// String returns the NumPy descr of d, such as "<f4".
func (d DType) String() string {
	if int(d) < len(dtypeDescr) {
		return dtypeDescr[d]
	}
	return "invalid"
}

// Size returns the size of one element in bytes (0 for Invalid).
func (d DType) Size() int {
	if int(d) < len(dtypeSize) {
		return dtypeSize[d]
	}
	return 0
}

// parseDescr maps a NumPy descr to a DType.
func parseDescr(s string) (DType, error) {
	if len(s) < 2 {
		return Invalid, fmt.Errorf("npy: unsupported dtype %q", s)
	}
	order, kind := s[0], s[1:]
	single := kind == "u1" || kind == "b1"
	switch order {
	case '<', '=':
	case '|':
		if !single {
			return Invalid, fmt.Errorf("npy: unsupported dtype %q", s)
		}
	case '>':
		if !single {
			return Invalid, fmt.Errorf("npy: big-endian dtype %q is not supported (convert with astype('<%s'))", s, kind)
		}
	default:
		return Invalid, fmt.Errorf("npy: unsupported dtype %q", s)
	}
	switch kind {
	case "b1":
		return Bool, nil
	case "u1":
		return Uint8, nil
	case "i4":
		return Int32, nil
	case "i8":
		return Int64, nil
	case "f4":
		return Float32, nil
	case "f8":
		return Float64, nil
	}
	return Invalid, fmt.Errorf("npy: unsupported dtype %q (supported: <f4 <f8 |u1 <i4 <i8 |b1)", s)
}

// Array is an n-dimensional array in C order. Its data are held as little-endian bytes; the typed
// accessors decode them.
type Array struct {
	Shape []int // dimensions; empty for a scalar
	DType DType
	data  []byte // len = Len() * DType.Size(), little-endian
}

// numElements returns the product of shape, or an error if a dimension is negative or the product
// overflows maxElems.
func numElements(shape []int, maxElems int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		if d != 0 && n > maxElems/int64(d) {
			return 0, fmt.Errorf("npy: shape %v is too large", shape)
		}
		n *= int64(d)
	}
	return n, nil
}

func mustLen(shape []int, n int, what string) {
	want, err := numElements(shape, math.MaxInt32*int64(64))
	if err != nil || want != int64(n) {
		panic(fmt.Sprintf("npy: %s: shape %v does not hold %d elements", what, shape, n))
	}
}

// Len returns the number of elements.
func (a *Array) Len() int {
	if a.DType.Size() == 0 {
		return 0
	}
	return len(a.data) / a.DType.Size()
}

// Bytes returns the raw little-endian data (not a copy).
func (a *Array) Bytes() []byte { return a.data }

// NewRaw returns an array over little-endian data (not copied). It panics if len(data) does not
// match shape and dtype.
func NewRaw(shape []int, dtype DType, data []byte) *Array {
	if dtype.Size() == 0 {
		panic(fmt.Sprintf("npy: NewRaw: invalid dtype %d", dtype))
	}
	if len(data)%dtype.Size() != 0 {
		panic(fmt.Sprintf("npy: NewRaw: %d bytes is not a whole number of %v elements", len(data), dtype))
	}
	mustLen(shape, len(data)/dtype.Size(), "NewRaw")
	return &Array{Shape: append([]int(nil), shape...), DType: dtype, data: data}
}

// NewUint8 returns a |u1 array holding a copy of v. It panics if len(v) does not match shape.
func NewUint8(shape []int, v []uint8) *Array {
	mustLen(shape, len(v), "NewUint8")
	return &Array{Shape: append([]int(nil), shape...), DType: Uint8, data: append([]byte(nil), v...)}
}

// NewBool returns a |b1 array holding v. It panics if len(v) does not match shape.
func NewBool(shape []int, v []bool) *Array {
	mustLen(shape, len(v), "NewBool")
	b := make([]byte, len(v))
	for i, x := range v {
		if x {
			b[i] = 1
		}
	}
	return &Array{Shape: append([]int(nil), shape...), DType: Bool, data: b}
}

// NewInt32 returns a <i4 array holding v. It panics if len(v) does not match shape.
func NewInt32(shape []int, v []int32) *Array {
	mustLen(shape, len(v), "NewInt32")
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return &Array{Shape: append([]int(nil), shape...), DType: Int32, data: b}
}

// NewInt64 returns a <i8 array holding v. It panics if len(v) does not match shape.
func NewInt64(shape []int, v []int64) *Array {
	mustLen(shape, len(v), "NewInt64")
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return &Array{Shape: append([]int(nil), shape...), DType: Int64, data: b}
}

// NewFloat32 returns a <f4 array holding v. It panics if len(v) does not match shape.
func NewFloat32(shape []int, v []float32) *Array {
	mustLen(shape, len(v), "NewFloat32")
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return &Array{Shape: append([]int(nil), shape...), DType: Float32, data: b}
}

// NewFloat64 returns a <f8 array holding v. It panics if len(v) does not match shape.
func NewFloat64(shape []int, v []float64) *Array {
	mustLen(shape, len(v), "NewFloat64")
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return &Array{Shape: append([]int(nil), shape...), DType: Float64, data: b}
}

// Uint8s returns a copy of the data of a |u1 or |b1 array; other dtypes give an error.
func (a *Array) Uint8s() ([]uint8, error) {
	if a.DType != Uint8 && a.DType != Bool {
		return nil, fmt.Errorf("npy: want uint8 data, have dtype %v", a.DType)
	}
	return append([]uint8(nil), a.data...), nil
}

// Bools returns the data of a |b1 array; other dtypes give an error.
func (a *Array) Bools() ([]bool, error) {
	if a.DType != Bool {
		return nil, fmt.Errorf("npy: want bool data, have dtype %v", a.DType)
	}
	v := make([]bool, len(a.data))
	for i, b := range a.data {
		v[i] = b != 0
	}
	return v, nil
}

// Int64s returns the data of an integer or bool array widened to int64; float dtypes give an error.
func (a *Array) Int64s() ([]int64, error) {
	n := a.Len()
	v := make([]int64, n)
	switch a.DType {
	case Bool, Uint8:
		for i, b := range a.data {
			v[i] = int64(b)
		}
	case Int32:
		for i := range v {
			v[i] = int64(int32(binary.LittleEndian.Uint32(a.data[4*i:])))
		}
	case Int64:
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(a.data[8*i:]))
		}
	default:
		return nil, fmt.Errorf("npy: want integer data, have dtype %v", a.DType)
	}
	return v, nil
}

// Float32s returns the data converted to float32: exact for <f4, |u1, |b1, rounded for <f8 and
// large integers.
func (a *Array) Float32s() ([]float32, error) {
	n := a.Len()
	v := make([]float32, n)
	switch a.DType {
	case Float32:
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.data[4*i:]))
		}
	case Float64:
		for i := range v {
			v[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(a.data[8*i:])))
		}
	default:
		w, err := a.Int64s()
		if err != nil {
			return nil, fmt.Errorf("npy: want numeric data, have dtype %v", a.DType)
		}
		for i, x := range w {
			v[i] = float32(x)
		}
	}
	return v, nil
}

// Float64s returns the data converted to float64.
func (a *Array) Float64s() ([]float64, error) {
	if a.DType == Float64 {
		v := make([]float64, a.Len())
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(a.data[8*i:]))
		}
		return v, nil
	}
	if a.DType == Float32 {
		f, _ := a.Float32s()
		v := make([]float64, len(f))
		for i, x := range f {
			v[i] = float64(x)
		}
		return v, nil
	}
	w, err := a.Int64s()
	if err != nil {
		return nil, fmt.Errorf("npy: want numeric data, have dtype %v", a.DType)
	}
	v := make([]float64, len(w))
	for i, x := range w {
		v[i] = float64(x)
	}
	return v, nil
}

const magic = "\x93NUMPY"

// MaxHeaderLen is the largest header accepted on read (numpy itself refuses headers over 10,000
// bytes by default).
const MaxHeaderLen = 1 << 16

// maxElems bounds the element count accepted from a header (a safety net; memory use is bounded
// by the input length in any case).
const maxElems = 1 << 40

// WriteNPY writes a in npy format version 1.0 (2.0 if the header needs it).
func WriteNPY(w io.Writer, a *Array) error {
	if a.DType.Size() == 0 {
		return fmt.Errorf("npy: cannot write dtype %v", a.DType)
	}
	if n, err := numElements(a.Shape, maxElems); err != nil || n*int64(a.DType.Size()) != int64(len(a.data)) {
		return fmt.Errorf("npy: array of shape %v and dtype %v holds %d bytes", a.Shape, a.DType, len(a.data))
	}
	var sb strings.Builder
	sb.WriteString("{'descr': '")
	sb.WriteString(a.DType.String())
	sb.WriteString("', 'fortran_order': False, 'shape': (")
	for i, d := range a.Shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(d))
	}
	if len(a.Shape) == 1 {
		sb.WriteString(",")
	}
	sb.WriteString("), }")
	header := sb.String()
	// Pad with spaces and a final newline so that the data start on a 64-byte boundary.
	prefix := len(magic) + 2 + 2
	version := byte(1)
	if len(header)+1+64 > math.MaxUint16 {
		version, prefix = 2, len(magic)+2+4
	}
	total := prefix + len(header) + 1
	pad := (64 - total%64) % 64
	hlen := len(header) + pad + 1
	buf := make([]byte, 0, prefix+hlen)
	buf = append(buf, magic...)
	buf = append(buf, version, 0)
	if version == 1 {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(hlen))
	} else {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(hlen))
	}
	buf = append(buf, header...)
	buf = append(buf, bytes.Repeat([]byte{' '}, pad)...)
	buf = append(buf, '\n')
	if _, err := w.Write(buf); err != nil {
		return err
	}
	_, err := w.Write(a.data)
	return err
}

// ReadNPY reads one array in npy format from r. It reads exactly the header and the data the header
// declares; truncated input gives an error.
func ReadNPY(r io.Reader) (*Array, error) {
	return readNPY(r, -1)
}

// readNPY is ReadNPY with a bound on the input length (-1: unknown); a header declaring more data
// than limit bytes is refused before anything is allocated.
func readNPY(r io.Reader, limit int64) (*Array, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("npy: reading magic: %w", noEOF(err))
	}
	if string(pre[:6]) != magic {
		return nil, errors.New("npy: not an npy file (bad magic)")
	}
	major, minor := pre[6], pre[7]
	var hlen int
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		h := binary.LittleEndian.Uint32(b[:])
		if h > MaxHeaderLen {
			return nil, fmt.Errorf("npy: header length %d exceeds the limit %d", h, MaxHeaderLen)
		}
		hlen = int(h)
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d.%d (supported: 1.0, 2.0, 3.0)", major, minor)
	}
	if minor != 0 {
		return nil, fmt.Errorf("npy: unsupported format version %d.%d (supported: 1.0, 2.0, 3.0)", major, minor)
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("npy: reading header of %d bytes: %w", hlen, noEOF(err))
	}
	dtype, shape, err := parseHeader(string(header))
	if err != nil {
		return nil, err
	}
	n, err := numElements(shape, maxElems)
	if err != nil {
		return nil, err
	}
	nbytes := n * int64(dtype.Size())
	if limit >= 0 && nbytes > limit {
		return nil, fmt.Errorf("npy: header declares shape %v dtype %v (%d bytes) but the input holds at most %d bytes", shape, dtype, nbytes, limit)
	}
	data, err := ReadExactly(r, nbytes)
	if err != nil {
		return nil, fmt.Errorf("npy: reading data of shape %v dtype %v (%d bytes): %w", shape, dtype, nbytes, err)
	}
	return &Array{Shape: shape, DType: dtype, data: data}, nil
}

// ReadExactly reads exactly n bytes, growing its buffer only as data arrive, so that a declared
// size larger than the input (a hostile header) allocates no more than the input holds (plus one
// chunk). A short input gives an error that wraps io.ErrUnexpectedEOF. The idx reader of
// core/data uses it too.
func ReadExactly(r io.Reader, n int64) ([]byte, error) {
	const chunk = 1 << 20
	if n <= chunk {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, noEOF(err)
		}
		return b, nil
	}
	var buf bytes.Buffer
	buf.Grow(chunk)
	got, err := io.Copy(&buf, io.LimitReader(r, n))
	if err != nil {
		return nil, err
	}
	if got != n {
		return nil, fmt.Errorf("truncated: %d of %d bytes: %w", got, n, io.ErrUnexpectedEOF)
	}
	return buf.Bytes(), nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseHeader parses the Python dict literal of an npy header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
func parseHeader(h string) (DType, []int, error) {
	p := &headerParser{s: strings.TrimRight(h, " \n\x00\t\r")}
	var (
		descr                         string
		shape                         []int
		fortran                       bool
		haveDescr, haveOrder, haveShp bool
	)
	p.space()
	if !p.eat('{') {
		return Invalid, nil, p.errorf("want '{'")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return Invalid, nil, err
		}
		p.space()
		if !p.eat(':') {
			return Invalid, nil, p.errorf("want ':' after key %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if haveDescr {
				return Invalid, nil, p.errorf("duplicate key 'descr'")
			}
			if p.peek() != '\'' && p.peek() != '"' {
				return Invalid, nil, p.errorf("structured dtypes are not supported; descr must be a string")
			}
			if descr, err = p.str(); err != nil {
				return Invalid, nil, err
			}
			haveDescr = true
		case "fortran_order":
			if haveOrder {
				return Invalid, nil, p.errorf("duplicate key 'fortran_order'")
			}
			switch {
			case p.word("True"):
				fortran = true
			case p.word("False"):
			default:
				return Invalid, nil, p.errorf("fortran_order must be True or False")
			}
			haveOrder = true
		case "shape":
			if haveShp {
				return Invalid, nil, p.errorf("duplicate key 'shape'")
			}
			if shape, err = p.tuple(); err != nil {
				return Invalid, nil, err
			}
			haveShp = true
		default:
			return Invalid, nil, p.errorf("unexpected key %q", key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return Invalid, nil, p.errorf("want ',' or '}'")
		}
		break
	}
	p.space()
	if p.i != len(p.s) {
		return Invalid, nil, p.errorf("trailing characters after header dict")
	}
	if !haveDescr || !haveOrder || !haveShp {
		return Invalid, nil, errors.New("npy: header lacks one of 'descr', 'fortran_order', 'shape'")
	}
	if fortran {
		return Invalid, nil, errors.New("npy: fortran_order True is not supported; save a C-ordered array (np.ascontiguousarray)")
	}
	dtype, err := parseDescr(descr)
	if err != nil {
		return Invalid, nil, err
	}
	if shape == nil {
		shape = []int{}
	}
	return dtype, shape, nil
}

type headerParser struct {
	s string
	i int
}

func (p *headerParser) errorf(format string, args ...any) error {
	return fmt.Errorf("npy: bad header at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *headerParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *headerParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *headerParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *headerParser) word(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str parses a quoted string without escapes.
func (p *headerParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("want a quoted string")
	}
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", p.errorf("unterminated string")
	}
	s := p.s[p.i+1 : p.i+1+j]
	if strings.IndexByte(s, '\\') >= 0 {
		return "", p.errorf("escapes in strings are not supported")
	}
	p.i += j + 2
	return s, nil
}

// tuple parses a tuple of non-negative integers: (), (3,), (2, 3).
func (p *headerParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.errorf("shape must be a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		if len(shape) >= 64 {
			return nil, p.errorf("more than 64 dimensions")
		}
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j < len(p.s) && p.s[j] == 'L' { // Python 2 long suffix
			j++
		}
		digits := strings.TrimSuffix(p.s[p.i:j], "L")
		if digits == "" {
			return nil, p.errorf("want a non-negative integer in shape")
		}
		d, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || d > maxElems {
			return nil, p.errorf("dimension %s is too large", digits)
		}
		shape = append(shape, int(d))
		p.i = j
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat(')') {
			return nil, p.errorf("want ',' or ')' in shape")
		}
		return shape, nil
	}
}
