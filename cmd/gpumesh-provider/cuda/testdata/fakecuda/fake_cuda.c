// A fake CUDA driver (libcuda.so.1) for the tests of the cuda package: the
// entry points the package binds, with the driver's C signatures, on host
// memory. "Kernels" are C versions of the PTX ones, reading their arguments
// through kernelParams the way the driver does. It checks what a real
// driver would reject (wrong thread, bad sizes, bad launch geometry) and
// records calls for the test to inspect.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef uint64_t CUdeviceptr;

enum {
	OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, NO_DEVICE = 100,
	INVALID_DEVICE = 101, INVALID_IMAGE = 200, INVALID_CONTEXT = 201, INVALID_PTX = 218,
	NOT_FOUND = 500, LAUNCH_FAILED = 719,
};

#define CTX ((void *)0x1c7c7c7c)
#define MODULE ((void *)0x30d30d30)

static int initialized;
static int retained;
static __thread void *current;
static size_t allocated;
static const size_t capacity = (size_t)1 << 30;

int fakecuda_ctx_current(void) { return current == CTX; }
int fakecuda_retained(void) { return retained; }
size_t fakecuda_allocated(void) { return allocated; }

static int env(const char *name) { const char *v = getenv(name); return v && *v && strcmp(v, "0") != 0; }

CUresult cuInit(unsigned int flags) {
	if (flags != 0) return INVALID_VALUE;
	if (env("FAKECUDA_NO_DEVICE")) return NO_DEVICE;
	initialized = 1;
	return OK;
}

CUresult cuDriverGetVersion(int *v) { *v = 12040; return OK; }

CUresult cuDeviceGetCount(int *n) {
	if (!initialized) return NOT_INITIALIZED;
	*n = 1;
	return OK;
}

CUresult cuDeviceGet(CUdevice *d, int ordinal) {
	if (!initialized) return NOT_INITIALIZED;
	if (ordinal != 0) return INVALID_DEVICE;
	*d = 0;
	return OK;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
	if (d != 0 || len < 32) return INVALID_VALUE;
	snprintf(name, (size_t)len, "Fake GPU %d", d);
	return OK;
}

CUresult cuDeviceGetAttribute(int *v, int attr, CUdevice d) {
	if (d != 0) return INVALID_DEVICE;
	switch (attr) {
	case 75: *v = 8; return OK; // compute capability major
	case 76: *v = 6; return OK; // minor
	}
	return INVALID_VALUE;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d) { *bytes = capacity; return d == 0 ? OK : INVALID_DEVICE; }

CUresult cuDevicePrimaryCtxRetain(void **ctx, CUdevice d) {
	if (!initialized) return NOT_INITIALIZED;
	if (d != 0) return INVALID_DEVICE;
	retained++;
	*ctx = CTX;
	return OK;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
	if (d != 0 || retained == 0) return INVALID_VALUE;
	retained--;
	return OK;
}

CUresult cuCtxSetCurrent(void *ctx) {
	if (ctx != CTX && ctx != NULL) return INVALID_CONTEXT;
	current = ctx;
	return OK;
}

CUresult cuCtxSynchronize(void) { return current == CTX ? OK : INVALID_CONTEXT; }

CUresult cuModuleLoadDataEx(void **mod, const void *image, unsigned int n, int *opts, void **vals) {
	if (current != CTX) return INVALID_CONTEXT;
	const char *ptx = image;
	if (n != 2 || opts[0] != 5 || opts[1] != 6 || (size_t)vals[1] < 1024) return INVALID_VALUE;
	if (strncmp(ptx, "//", 2) != 0 || !strstr(ptx, "\n.version 7.0\n") || !strstr(ptx, "\n.target sm_61\n"))
		return INVALID_IMAGE;
	if (env("FAKECUDA_BAD_PTX")) {
		snprintf((char *)vals[0], (size_t)vals[1], "ptxas fatal   : fake JIT failure");
		return INVALID_PTX;
	}
	*mod = MODULE;
	return OK;
}

CUresult cuModuleUnload(void *mod) { return mod == MODULE ? OK : INVALID_VALUE; }

CUresult cuModuleGetFunction(void **fn, void *mod, const char *name) {
	if (mod != MODULE) return INVALID_VALUE;
	if (strcmp(name, "gpumesh_philox_rows") == 0) { *fn = (void *)1; return OK; }
	if (strcmp(name, "gpumesh_gemm_s8_dp4a") == 0) { *fn = (void *)2; return OK; }
	return NOT_FOUND;
}

// A header before each allocation keeps its size.
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
	if (current != CTX) return INVALID_CONTEXT;
	if (bytes == 0) return INVALID_VALUE;
	if (allocated + bytes > capacity) return OUT_OF_MEMORY;
	size_t *h = malloc(bytes + 256);
	if (!h) return OUT_OF_MEMORY;
	h[0] = bytes;
	allocated += bytes;
	*p = (CUdeviceptr)(uintptr_t)((char *)h + 256);
	return OK;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
	if (current != CTX) return INVALID_CONTEXT;
	size_t *h = (size_t *)((char *)(uintptr_t)p - 256);
	allocated -= h[0];
	free(h);
	return OK;
}

CUresult cuMemGetInfo_v2(size_t *freeb, size_t *total) { *freeb = capacity - allocated; *total = capacity; return OK; }

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
	if (current != CTX) return INVALID_CONTEXT;
	size_t *h = (size_t *)((char *)(uintptr_t)src - 256);
	if (bytes > h[0]) return INVALID_VALUE;
	memcpy(dst, (void *)(uintptr_t)src, bytes);
	return OK;
}

static void philox(uint32_t c[4], uint32_t k0, uint32_t k1) {
	for (int r = 0; r < 10; r++) {
		uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
		uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0, n1 = (uint32_t)p1;
		uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1, n3 = (uint32_t)p0;
		c[0] = n0, c[1] = n1, c[2] = n2, c[3] = n3;
		k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
	}
}

static uint64_t u64(void **params, int i) { uint64_t v; memcpy(&v, params[i], 8); return v; }
static uint32_t u32(void **params, int i) { uint32_t v; memcpy(&v, params[i], 4); return v; }

int fakecuda_launches[3];

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shmem, void *stream, void **params, void **extra) {
	if (current != CTX) return INVALID_CONTEXT;
	if (shmem != 0 || stream != NULL || extra != NULL || params == NULL) return INVALID_VALUE;
	if (gx == 0 || gy == 0 || gz == 0 || bx * by * bz == 0 || bx * by * bz > 1024 || gy > 65535 || gz > 65535)
		return INVALID_VALUE;
	if (f == (void *)1) {
		uint8_t *out = (uint8_t *)(uintptr_t)u64(params, 0);
		uint32_t k0 = u32(params, 1), k1 = u32(params, 2), b = u32(params, 3), tag = u32(params, 4);
		uint32_t row0 = u32(params, 5), nrows = u32(params, 6), qpr = u32(params, 7);
		if (gy != 1 || gz != 1 || by != 1 || bz != 1 || qpr == 0) return INVALID_VALUE;
		uint64_t total = (uint64_t)nrows * qpr;
		if ((uint64_t)gx * bx < total) return LAUNCH_FAILED; // the grid misses threads
		for (uint64_t t = 0; t < total; t++) {
			uint32_t r = (uint32_t)(t / qpr), q = (uint32_t)(t % qpr);
			uint32_t c[4] = {q, row0 + r, b, tag};
			philox(c, k0, k1);
			memcpy(out + (uint64_t)r * 16 * qpr + 16 * (uint64_t)q, c, 16);
		}
		fakecuda_launches[1]++;
		return OK;
	}
	if (f == (void *)2) {
		int32_t *c = (int32_t *)(uintptr_t)u64(params, 0);
		const int8_t *a = (const int8_t *)(uintptr_t)u64(params, 1);
		const int8_t *bm = (const int8_t *)(uintptr_t)u64(params, 2);
		uint32_t rows = u32(params, 3), n = u32(params, 4);
		if (bx != 16 || by != 16 || bz != 1 || gx != (n + 15) / 16 || gy != (rows + 15) / 16 || gz != 1)
			return INVALID_VALUE;
		for (uint64_t i = 0; i < rows; i++)
			for (uint64_t j = 0; j < n; j++) {
				int32_t s = 0;
				for (uint64_t l = 0; l < n; l++) s += (int32_t)a[i * n + l] * (int32_t)bm[j * n + l];
				c[i * n + j] = s;
			}
		fakecuda_launches[2]++;
		return OK;
	}
	return INVALID_VALUE;
}

static const char *names[][2] = {
	{"CUDA_ERROR_INVALID_VALUE", "invalid argument"}, {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
	{"CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
	{"CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
	{"CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
};

static int nameIndex(CUresult r) {
	switch (r) {
	case INVALID_VALUE: return 0;
	case OUT_OF_MEMORY: return 1;
	case NO_DEVICE: return 2;
	case INVALID_CONTEXT: return 3;
	case INVALID_PTX: return 4;
	}
	return -1;
}

CUresult cuGetErrorName(CUresult r, const char **s) {
	int i = nameIndex(r);
	if (i < 0) return INVALID_VALUE;
	*s = names[i][0];
	return OK;
}

CUresult cuGetErrorString(CUresult r, const char **s) {
	int i = nameIndex(r);
	if (i < 0) return INVALID_VALUE;
	*s = names[i][1];
	return OK;
}
