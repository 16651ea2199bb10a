package cuda

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

const vectorsFile = "../../../x/proofofcompute/challenge/testdata/vectors.json"

// goldenVector is the part of a vector in vectors.json (the layout of
// challenge's vectors_test.go) that a prover reproduces.
type goldenVector struct {
	ChallengeID   uint64    `json:"challenge_id"`
	GPUIndex      uint32    `json:"gpu_index"`
	N             uint32    `json:"n"`
	M             uint32    `json:"m"`
	PhiloxKey     [2]uint32 `json:"philox_key"`
	Roots         []string  `json:"roots"`
	Commitment    string    `json:"commitment"`
	OpenBlockHash string    `json:"open_block_hash"`
	Openings      []struct {
		B        uint32   `json:"b"`
		I        uint32   `json:"i"`
		J        uint32   `json:"j"`
		Leaf     string   `json:"leaf"`
		Siblings []string `json:"siblings"`
	} `json:"openings"`
}

func loadVectors(t *testing.T) []goldenVector {
	t.Helper()
	bz, err := os.ReadFile(vectorsFile)
	require.NoError(t, err)
	var file struct {
		Vectors []goldenVector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(bz, &file))
	require.NotEmpty(t, file.Vectors)
	return file.Vectors
}

// checkGoldenVectors proves every golden vector with mul and compares the
// roots, the commitment and the openings with the file, exactly.
func checkGoldenVectors(t *testing.T, mul challenge.Multiplier) {
	t.Helper()
	for _, v := range loadVectors(t) {
		p := challenge.Params{N: v.N, M: v.M, K: uint32(len(v.Openings))}
		proof, err := challenge.Prove(context.Background(), v.PhiloxKey, p, mul, challenge.ProverOptions{})
		require.NoError(t, err, "n=%d", v.N)
		var roots []string
		for _, r := range proof.Roots() {
			roots = append(roots, hex.EncodeToString(r[:]))
		}
		require.Equal(t, v.Roots, roots, "roots, n=%d", v.N)
		cm := proof.Commitment()
		require.Equal(t, v.Commitment, hex.EncodeToString(cm[:]), "commitment, n=%d", v.N)
		obh, err := hex.DecodeString(v.OpenBlockHash)
		require.NoError(t, err)
		idx := challenge.Openings([][32]byte{challenge.OpenSeed(v.ChallengeID, 0, obh)}, v.GPUIndex, p)
		rev, err := proof.Open(idx)
		require.NoError(t, err)
		require.Len(t, rev.Openings, len(v.Openings))
		for k, o := range v.Openings {
			require.Equal(t, challenge.Index{B: o.B, I: o.I, J: o.J}, idx[k], "opening %d index, n=%d", k, v.N)
			require.Equal(t, o.Leaf, hex.EncodeToString(rev.Openings[k].Leaf), "opening %d leaf, n=%d", k, v.N)
			var sib []string
			for _, s := range rev.Openings[k].Siblings {
				sib = append(sib, hex.EncodeToString(s))
			}
			require.Equal(t, o.Siblings, sib, "opening %d path, n=%d", k, v.N)
		}
	}
}

// compareWithCPU checks rows [i0, i0+rows) of C[b] from mul against the CPU
// reference.
func compareWithCPU(t *testing.T, mul challenge.Multiplier, key [2]uint32, n, b, i0, rows uint32) {
	t.Helper()
	ctx := context.Background()
	want := make([]int32, int(rows)*int(n))
	require.NoError(t, challenge.CPUMultiplier(0).MultiplyRows(ctx, key, n, b, i0, rows, want))
	got := make([]int32, int(rows)*int(n))
	for i := range got {
		got[i] = -0x5a5a5a5a // not what any product is
	}
	require.NoError(t, mul.MultiplyRows(ctx, key, n, b, i0, rows, got))
	for e := range want {
		if want[e] != got[e] {
			t.Fatalf("n=%d b=%d: C[%d][%d] = %d, CPU reference %d", n, b, i0+uint32(e)/n, uint32(e)%n, got[e], want[e])
		}
	}
}

// Without libcuda.so.1 (this machine, CI) Open says so, wrapping
// ErrUnavailable; with it, an ordinal out of range does.
func TestOpenUnavailable(t *testing.T) {
	if _, err := dlopen(driverLibrary); err != nil {
		b, err := Open(0)
		require.Nil(t, b)
		require.ErrorIs(t, err, ErrUnavailable)
		require.Contains(t, err.Error(), "libcuda.so.1")
		_, err = Probe()
		require.ErrorIs(t, err, ErrUnavailable)
		require.Contains(t, err.Error(), "libcuda.so.1")
		return
	}
	b, err := Open(1 << 20)
	require.Nil(t, b)
	require.ErrorIs(t, err, ErrUnavailable)
	require.True(t, strings.Contains(err.Error(), "out of range") || strings.Contains(err.Error(), "cuInit"), err.Error())
}

// The PTX module declares the kernels the Go side launches, for the target
// it claims, in plain ASCII, with the .param lists the launches pack.
func TestPTXModule(t *testing.T) {
	require.Contains(t, ptxModule, "\n.version 7.0\n")
	require.Contains(t, ptxModule, "\n.target sm_61\n")
	require.Contains(t, ptxModule, "\n.address_size 64\n")
	for _, name := range kernelNames {
		require.Contains(t, ptxModule, "\n.visible .entry "+name+"(\n")
		require.Equal(t, 1, strings.Count(ptxModule, ".entry "+name+"("), name)
	}
	require.Equal(t, len(kernelNames), strings.Count(ptxModule, ".entry "))
	for i, r := range ptxModule {
		if r > unicode.MaxASCII || (r < ' ' && r != '\n' && r != '\t') {
			t.Fatalf("ptxModule has %q at byte %d", r, i)
		}
	}
	prog, err := parsePTX(ptxModule)
	require.NoError(t, err)
	require.Equal(t, "7.0", prog.version)
	require.Equal(t, "sm_61", prog.target)
	require.Len(t, prog.kernels[kernelNames[kernelPhilox]].params, 8)
	require.Len(t, prog.kernels[kernelNames[kernelGemm]].params, 5)
}

// On a machine with an NVIDIA GPU: the backend, with cuBLAS when it loads
// and with the PTX GEMM, reproduces the golden vectors and the CPU
// reference bit for bit.
func TestGoldenVectorsOnGPU(t *testing.T) {
	b, err := Open(0)
	if errors.Is(err, ErrUnavailable) {
		t.Skip("no CUDA device: golden vectors not checked on hardware")
	}
	require.NoError(t, err)
	check := func(t *testing.T, b *Backend) {
		t.Log(b.Name())
		checkGoldenVectors(t, b)
		key := [2]uint32{0x01234567, 0x89abcdef}
		compareWithCPU(t, b, key, 256, 0, 0, 64)
		compareWithCPU(t, b, key, 1024, 1, 0, 64)
		compareWithCPU(t, b, key, 1024, 1, 960, 64)
		compareWithCPU(t, b, key, 1024, 1, 100, 13) // not a multiple of 4: the PTX GEMM
		compareWithCPU(t, b, key, 256, 0, 64, 64)
		require.NotContains(t, b.Name(), "failed", "a cuBLAS call failed")
		require.NoError(t, b.Close())
	}
	t.Run("default", func(t *testing.T) { check(t, b) })
	t.Run("ptx", func(t *testing.T) {
		t.Setenv(CUBLASEnv, "0")
		b, err := Open(0)
		require.NoError(t, err)
		require.Contains(t, b.Name(), "PTX dp4a kernel")
		check(t, b)
	})
}
