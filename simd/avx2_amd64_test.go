//go:build gc && !purego

package simd

import (
	"slices"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

func init() {
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		requiredSets = append(requiredSets, "avx2")
	}
}

// TestAVX2Supported fails when the CPU has AVX2 and FMA but the avx2 set is
// missing from the table; TestMain also fails a full run in which its tests
// did not run.
func TestAVX2Supported(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		t.Logf("CPU lacks AVX2+FMA (%s): only %v can run", cpuid.CPU.BrandName, Supported())
		return
	}
	if !slices.Contains(Supported(), "avx2") {
		t.Fatalf("CPU has AVX2+FMA but Supported() = %v", Supported())
	}
	if err := Use("avx2"); err != nil {
		t.Fatal(err)
	}
	defer Use("auto")
	if Impl() != "avx2" {
		t.Fatalf("Impl() = %q after Use(avx2)", Impl())
	}
}
