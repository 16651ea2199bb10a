// Package cuda is the CUDA backend of the proof-of-compute prover: a
// challenge.Multiplier that generates the challenge matrices with Philox on
// the GPU and multiplies them there, bit for bit the integers that the CPU
// reference (challenge.CPUMultiplier) produces.
//
// Nothing of CUDA is needed at build time. The driver API (libcuda.so.1)
// and, when present, cuBLAS (libcublas.so.12, .so.11 or .so) are loaded at
// run time through purego; the kernels are hand-written PTX (ptx.go) that
// the driver compiles for the GPU it finds. See the sidecar README.
//
// CUDA contexts are bound to OS threads, so every CUDA call of a Backend is
// made by one goroutine that has locked its OS thread and receives work
// over a channel.
package cuda

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// ErrUnavailable is wrapped by the errors of Open and Probe when CUDA cannot
// be used on this machine: libcuda.so.1 cannot be loaded, cuInit fails (no
// driver, no device), the device ordinal is out of range, or the device is
// older than sm_61 (no dp4a).
var ErrUnavailable = errors.New("cuda unavailable")

// errClosed is returned by MultiplyRows after Close.
var errClosed = errors.New("cuda backend is closed")

// CUBLASEnv, set to 0 (or "off", "false"), keeps Open from loading cuBLAS,
// so the PTX dp4a GEMM is used.
const CUBLASEnv = "GPUMESH_CUDA_CUBLAS"

// maxChunkBytes bounds the device buffer of C rows that one GEMM produces:
// a call for more rows than fit is done in chunks of rows. A variable for
// the tests.
var maxChunkBytes uint64 = 256 << 20

// Kernel numbers for device.launch, in the order of kernelNames.
const (
	kernelPhilox = iota
	kernelGemm
)

// kernelNames are the .entry names in ptxModule, by kernel number.
var kernelNames = [...]string{
	kernelPhilox: "gpumesh_philox_rows",
	kernelGemm:   "gpumesh_gemm_s8_dp4a",
}

// cuBLAS operation and data-type constants (cublas_api.h, library_types.h).
const (
	cublasOpN         = 0
	cublasOpT         = 1
	cudaR8I           = 3  // CUDA_R_8I
	cudaR32I          = 10 // CUDA_R_32I
	cublasCompute32I  = 72 // CUBLAS_COMPUTE_32I
	cublasGemmDefault = -1 // CUBLAS_GEMM_DEFAULT
)

// karg is one kernel argument: a 4- or 8-byte little-endian value.
type karg struct {
	v    uint64
	size int
}

func argU32(v uint32) karg { return karg{v: uint64(v), size: 4} }
func argPtr(p uint64) karg { return karg{v: p, size: 8} }

// device is what the worker needs of a GPU. The CUDA driver implements it
// (driverDevice); the tests implement it with a PTX interpreter, so that
// everything above the driver calls runs without a GPU.
type device interface {
	// alloc returns a device buffer of bytes bytes.
	alloc(bytes uint64) (uint64, error)
	// free releases a buffer from alloc.
	free(ptr uint64) error
	// launch starts kernel k (kernelPhilox, kernelGemm) on the default
	// stream with the arguments in .param order.
	launch(k int, grid, block [3]uint32, args []karg) error
	// sync waits for the device and returns the first error of the work
	// launched since the last sync.
	sync() error
	// dtoh copies bytes bytes from device buffer src to host memory dst.
	dtoh(dst unsafe.Pointer, src uint64, bytes uint64) error
	// gemmS8 is cublasGemmEx with int8 A and B, int32 C, CUBLAS_COMPUTE_32I,
	// alpha 1, beta 0, CUBLAS_GEMM_DEFAULT: column-major
	// C(m×n) = op(A)(m×k)·op(B)(k×n). Only called when hasGemm.
	gemmS8(transa, transb, m, n, k int32, a uint64, lda int32, b uint64, ldb int32, c uint64, ldc int32) error
	// close releases everything the device holds (buffers are freed
	// before).
	close() error
}

// deviceInfo describes an opened device.
type deviceInfo struct {
	name    string // e.g. "NVIDIA H100 80GB HBM3"
	sm      string // e.g. "sm_90"
	hasGemm bool   // cuBLAS was loaded and a handle created
	// gemmFailure is why cuBLAS, though installed, is not used.
	gemmFailure string
}

// Backend is a challenge.Multiplier on one CUDA device. It is safe for
// concurrent use; calls are served one at a time by the device's goroutine.
type Backend struct {
	reqs chan *request
	quit chan struct{}
	done chan struct{}

	closeOnce sync.Once
	closeErr  error

	mu   sync.Mutex
	info deviceInfo
	gemm string // the GEMM in use, for Name
}

var _ challenge.Multiplier = (*Backend)(nil)

type request struct {
	ctx            context.Context
	key            [2]uint32
	n, b, i0, rows uint32
	dst            []int32
	reply          chan error
}

// Open loads the CUDA driver, creates (retains) the primary context of
// device number ordinal, loads the PTX kernels and, unless CUBLASEnv says
// otherwise, cuBLAS. Its errors wrap ErrUnavailable when CUDA cannot be
// used here at all.
func Open(ordinal int) (*Backend, error) {
	return start(func() (device, deviceInfo, error) { return openDriverDevice(ordinal) })
}

// start runs open on a new goroutine locked to its OS thread and, when it
// succeeds, serves the Backend's requests on that goroutine.
func start(open func() (device, deviceInfo, error)) (*Backend, error) {
	type opened struct {
		b   *Backend
		err error
	}
	ready := make(chan opened, 1)
	go func() {
		// Unlocked when the worker returns, after close has made no context
		// current. (Letting a locked goroutine end, so that Go ends its
		// thread, crashed intermittently under cgo with Go 1.26 in the
		// fake-driver test.)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		dev, info, err := open()
		if err != nil {
			ready <- opened{err: err}
			return
		}
		b := &Backend{
			reqs: make(chan *request),
			quit: make(chan struct{}),
			done: make(chan struct{}),
			info: info,
			gemm: gemmName(info.hasGemm, info.gemmFailure),
		}
		ready <- opened{b: b}
		b.serve(&worker{dev: dev, useGemm: info.hasGemm, onGemmFailure: b.gemmFailed})
	}()
	o := <-ready
	return o.b, o.err
}

func gemmName(cublas bool, failure string) string {
	switch {
	case cublas:
		return "cuBLAS int8 GEMM"
	case failure != "":
		return "PTX dp4a kernel; cuBLAS failed: " + failure
	default:
		return "PTX dp4a kernel"
	}
}

func (b *Backend) gemmFailed(err error) {
	b.mu.Lock()
	b.gemm = gemmName(false, err.Error())
	b.mu.Unlock()
}

// serve answers requests until Close.
func (b *Backend) serve(w *worker) {
	defer close(b.done)
	for {
		select {
		case r := <-b.reqs:
			r.reply <- w.multiply(r)
		case <-b.quit:
			b.closeErr = w.close()
			return
		}
	}
}

// Name describes the backend, e.g. "cuda: NVIDIA H100 80GB HBM3 (sm_90,
// cuBLAS int8 GEMM)" or "cuda: … (sm_90, PTX dp4a kernel)".
func (b *Backend) Name() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("cuda: %s (%s, %s)", b.info.name, b.info.sm, b.gemm)
}

// MultiplyRows implements challenge.Multiplier: rows [i0, i0+rows) of
// C[bIdx] = A[bIdx]·B[bIdx]ᵀ for the Philox key, row-major into dst. B[bIdx]
// stays on the device, so calls for consecutive row blocks of one product
// generate it once.
func (b *Backend) MultiplyRows(ctx context.Context, key [2]uint32, n, bIdx, i0, rows uint32, dst []int32) error {
	if err := checkArgs(n, i0, rows, len(dst)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	r := &request{ctx: ctx, key: key, n: n, b: bIdx, i0: i0, rows: rows, dst: dst, reply: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return errClosed
	}
	// The worker writes into dst: wait for it even when ctx ends (it
	// checks ctx between launches).
	return <-r.reply
}

func checkArgs(n, i0, rows uint32, dstLen int) error {
	if n == 0 || n%16 != 0 || n > challenge.MaxN {
		return fmt.Errorf("n must be a positive multiple of 16 up to %d, got %d", challenge.MaxN, n)
	}
	if i0 > n || rows > n-i0 {
		return fmt.Errorf("rows [%d, %d) out of range for n=%d", i0, uint64(i0)+uint64(rows), n)
	}
	if need := uint64(rows) * uint64(n); uint64(dstLen) < need {
		return fmt.Errorf("dst holds %d entries, need %d", dstLen, need)
	}
	return nil
}

// Close frees the device memory, the cuBLAS handle and the module and
// releases the context. MultiplyRows fails after Close.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		close(b.quit)
		<-b.done
	})
	return b.closeErr
}

// worker is the state of a Backend that lives on its locked thread.
type worker struct {
	dev           device
	useGemm       bool
	onGemmFailure func(error)

	// B[b] of the product last worked on.
	bPtr, bCap uint64
	bValid     bool
	bKey       [2]uint32
	bN, bB     uint32

	// Row blocks of A and of C.
	aPtr, aCap uint64
	cPtr, cCap uint64
}

// chunkRows is the most rows of C computed by one GEMM for n: the C buffer
// stays within maxChunkBytes, and the count is a multiple of 16.
func chunkRows(n uint32) uint32 {
	r := uint32(maxChunkBytes / (4 * uint64(n)))
	r &^= 15
	if r < 16 {
		r = 16
	}
	return r
}

func (w *worker) multiply(r *request) error {
	n := r.n
	if err := w.ensureB(r.ctx, r.key, n, r.b); err != nil {
		return err
	}
	chunk := chunkRows(n)
	for done := uint32(0); done < r.rows; done += chunk {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		rows := min(chunk, r.rows-done)
		if err := w.rowsOnce(r.ctx, r.key, n, r.b, r.i0+done, rows, r.dst[uint64(done)*uint64(n):]); err != nil {
			return err
		}
	}
	return nil
}

// grow makes *ptr a buffer of at least need bytes.
func (w *worker) grow(ptr, capacity *uint64, need uint64, what string) error {
	if *capacity >= need {
		return nil
	}
	if *ptr != 0 {
		if err := w.dev.free(*ptr); err != nil {
			return fmt.Errorf("freeing %s buffer: %w", what, err)
		}
		*ptr, *capacity = 0, 0
	}
	p, err := w.dev.alloc(need)
	if err != nil {
		return fmt.Errorf("allocating %s (%s) on the device: %w", what, sizeString(need), err)
	}
	*ptr, *capacity = p, need
	return nil
}

// ensureB makes the B buffer hold B[b] for (key, n).
func (w *worker) ensureB(ctx context.Context, key [2]uint32, n, b uint32) error {
	if w.bValid && w.bKey == key && w.bN == n && w.bB == b {
		return nil
	}
	w.bValid = false
	size := uint64(n) * uint64(n)
	if err := w.grow(&w.bPtr, &w.bCap, size, fmt.Sprintf("B[%d] (%d×%d int8)", b, n, n)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.philox(w.bPtr, key, b, challenge.TagB, 0, n, n); err != nil {
		return fmt.Errorf("generating B[%d]: %w", b, err)
	}
	if err := w.dev.sync(); err != nil {
		return fmt.Errorf("generating B[%d]: %w", b, err)
	}
	w.bValid, w.bKey, w.bN, w.bB = true, key, n, b
	return nil
}

// philox launches the generation of rows [row0, row0+rows) of the tag's
// matrix of product b into dst (row-major, rows×n int8): one thread per
// 16-byte block (row, q).
func (w *worker) philox(dst uint64, key [2]uint32, b, tag, row0, rows, n uint32) error {
	const threads = 256
	total := uint64(rows) * uint64(n/16)
	grid := uint32((total + threads - 1) / threads)
	return w.dev.launch(kernelPhilox, [3]uint32{grid, 1, 1}, [3]uint32{threads, 1, 1}, []karg{
		argPtr(dst), argU32(key[0]), argU32(key[1]), argU32(b), argU32(tag),
		argU32(row0), argU32(rows), argU32(n / 16),
	})
}

// rowsOnce computes rows [i0, i0+rows) of C[b] into dst; B[b] is on the
// device.
func (w *worker) rowsOnce(ctx context.Context, key [2]uint32, n, b, i0, rows uint32, dst []int32) error {
	aBytes := uint64(rows) * uint64(n)
	cBytes := 4 * aBytes
	if err := w.grow(&w.aPtr, &w.aCap, aBytes, fmt.Sprintf("A rows (%d×%d int8)", rows, n)); err != nil {
		return err
	}
	if err := w.grow(&w.cPtr, &w.cCap, cBytes, fmt.Sprintf("C rows (%d×%d int32)", rows, n)); err != nil {
		return err
	}
	if err := w.philox(w.aPtr, key, b, challenge.TagA, i0, rows, n); err != nil {
		return fmt.Errorf("generating A[%d] rows %d–%d: %w", b, i0, i0+rows-1, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.gemm(n, rows); err != nil {
		return err
	}
	if err := w.dev.sync(); err != nil {
		return fmt.Errorf("computing C[%d] rows %d–%d: %w", b, i0, i0+rows-1, err)
	}
	if err := w.dev.dtoh(unsafe.Pointer(&dst[0]), w.cPtr, cBytes); err != nil {
		return fmt.Errorf("copying C[%d] rows %d–%d to the host: %w", b, i0, i0+rows-1, err)
	}
	return nil
}

// gemm computes the C buffer (rows×n int32, row-major) from the A buffer
// (rows×n int8, row-major) and the B buffer (n×n int8, row-major):
// C[i][j] = Σ_l A[i][l]·B[j][l].
//
// cuBLAS is column-major: a row-major R×S matrix in memory is, read
// column-major with leading dimension S, its transpose (S×R). So
//   - the row-major C (rows×n) we want is the column-major matrix
//     Cᵀ (n×rows, ldc = n), with Cᵀ[j][i] = C[i][j] = Σ_l B[j][l]·A[i][l],
//     i.e. Cᵀ = B·Aᵀ (n×n times n×rows);
//   - the B buffer read column-major (ld = n) is Bᵀ, so the first operand
//     B is op(Bᵀ) with transa = T, lda = n;
//   - the A buffer read column-major (ld = n) is Aᵀ (n×rows), the second
//     operand as it is: transb = N, ldb = n.
//
// Hence cublasGemmEx(T, N, m = n, n = rows, k = n, B, lda = n, A, ldb = n,
// C, ldc = n): the "TN" layout that cuBLAS's int8 (IMMA) kernels want, with
// every leading dimension a multiple of 16. rows is a multiple of 4 for the
// cuBLAS path (the IMMA kernels want it); other row counts use the PTX
// kernel.
func (w *worker) gemm(n, rows uint32) error {
	if w.useGemm && rows%4 == 0 {
		err := w.dev.gemmS8(cublasOpT, cublasOpN, int32(n), int32(rows), int32(n),
			w.bPtr, int32(n), w.aPtr, int32(n), w.cPtr, int32(n))
		if err == nil {
			return nil
		}
		// For the rest of the run, the PTX kernel.
		w.useGemm = false
		if w.onGemmFailure != nil {
			w.onGemmFailure(err)
		}
	}
	grid := [3]uint32{(n + 15) / 16, (rows + 15) / 16, 1}
	if err := w.dev.launch(kernelGemm, grid, [3]uint32{16, 16, 1}, []karg{
		argPtr(w.cPtr), argPtr(w.aPtr), argPtr(w.bPtr), argU32(rows), argU32(n),
	}); err != nil {
		return fmt.Errorf("int8 GEMM kernel: %w", err)
	}
	return nil
}

// close frees the buffers and the device.
func (w *worker) close() error {
	var errs []error
	for _, p := range []*uint64{&w.bPtr, &w.aPtr, &w.cPtr} {
		if *p != 0 {
			if err := w.dev.free(*p); err != nil {
				errs = append(errs, err)
			}
			*p = 0
		}
	}
	w.bValid = false
	if err := w.dev.close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func sizeString(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%d bytes, %.2f GiB", b, float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%d bytes, %.2f MiB", b, float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%d bytes", b)
	}
}
