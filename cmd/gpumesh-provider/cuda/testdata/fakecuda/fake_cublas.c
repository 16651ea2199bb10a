// A fake cuBLAS (libcublas.so.12) for the tests of the cuda package:
// cublasCreate_v2, cublasDestroy_v2 and cublasGemmEx with cuBLAS's
// column-major definition, for int8 inputs and int32 output only. It
// checks the types, the compute type, the algorithm, alpha and beta, and
// that it runs on the thread with the (fake) context current.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int fakecuda_ctx_current(void); // from the fake libcuda.so.1

#define HANDLE ((void *)0xb1a5b1a5)

static int handles;
int fakecublas_gemms;

int cublasCreate_v2(void **h) {
	if (!fakecuda_ctx_current()) return 1; // NOT_INITIALIZED
	handles++;
	*h = HANDLE;
	return 0;
}

int cublasDestroy_v2(void *h) {
	if (h != HANDLE || handles == 0) return 1;
	handles--;
	return 0;
}

int fakecublas_handles(void) { return handles; }
int fakecublas_gemm_count(void) { return fakecublas_gemms; }

int cublasGemmEx(void *h, int transa, int transb, int m, int n, int k, const void *alpha, const void *A, int Atype,
                 int lda, const void *B, int Btype, int ldb, const void *beta, void *C, int Ctype, int ldc,
                 int computeType, int algo) {
	const char *fail = getenv("FAKECUBLAS_FAIL");
	if (fail && *fail) return 15; // NOT_SUPPORTED
	if (h != HANDLE || !fakecuda_ctx_current()) return 1;
	if (Atype != 3 || Btype != 3 || Ctype != 10 || computeType != 72 || algo != -1) return 7; // INVALID_VALUE
	if (*(const int32_t *)alpha != 1 || *(const int32_t *)beta != 0) return 7;
	if (transa < 0 || transa > 1 || transb < 0 || transb > 1 || m <= 0 || n <= 0 || k <= 0) return 7;
	if (lda % 4 || ldb % 4 || m % 4) return 15;
	if (lda < (transa ? k : m) || ldb < (transb ? n : k) || ldc < m) return 7;
	const int8_t *a = A, *b = B;
	int32_t *c = C;
	for (int64_t j = 0; j < n; j++)
		for (int64_t i = 0; i < m; i++) {
			int32_t s = 0;
			for (int64_t l = 0; l < k; l++) {
				int32_t x = transa ? a[l + i * lda] : a[i + l * lda];
				int32_t y = transb ? b[j + l * ldb] : b[l + j * ldb];
				s += x * y;
			}
			c[i + j * ldc] = s;
		}
	fakecublas_gemms++;
	return 0;
}
