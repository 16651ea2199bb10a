//go:build linux && amd64

#include "textflag.h"

// gpumesh_cuda_call19 is called by runtime.cgocall on the system stack with
// the C calling convention: DI points at a call19Frame
//
//	fn   uintptr      0(DI)
//	args [19]uintptr  8(DI) .. 152(DI)
//	r1   uintptr      160(DI)
//
// It calls fn(args[0], ..., args[18]) by the System V AMD64 convention:
// the first six in DI, SI, DX, CX, R8, R9, the other thirteen on the stack
// in order at 0(SP) .. 96(SP) at the CALL, SP 16-byte aligned there; AL = 0
// (no vector registers used, for variadic callees). It stores RAX in r1.
// Only caller-saved registers besides BP (saved) are touched.
GLOBL ·call19ABI0(SB), NOPTR|RODATA, $8
DATA ·call19ABI0(SB)/8, $gpumesh_cuda_call19(SB)
TEXT gpumesh_cuda_call19(SB), NOSPLIT|NOFRAME, $0
	PUSHQ BP               // entry SP = 8 mod 16; now 0 mod 16
	MOVQ  SP, BP
	SUBQ  $112, SP         // 13 stack arguments and the frame pointer slot; stays 16-aligned
	MOVQ  DI, 104(SP)      // keep the frame pointer
	MOVQ  DI, R11

	MOVQ 56(R11), R10      // args[6]
	MOVQ R10, 0(SP)
	MOVQ 64(R11), R10      // args[7]
	MOVQ R10, 8(SP)
	MOVQ 72(R11), R10      // args[8]
	MOVQ R10, 16(SP)
	MOVQ 80(R11), R10      // args[9]
	MOVQ R10, 24(SP)
	MOVQ 88(R11), R10      // args[10]
	MOVQ R10, 32(SP)
	MOVQ 96(R11), R10      // args[11]
	MOVQ R10, 40(SP)
	MOVQ 104(R11), R10     // args[12]
	MOVQ R10, 48(SP)
	MOVQ 112(R11), R10     // args[13]
	MOVQ R10, 56(SP)
	MOVQ 120(R11), R10     // args[14]
	MOVQ R10, 64(SP)
	MOVQ 128(R11), R10     // args[15]
	MOVQ R10, 72(SP)
	MOVQ 136(R11), R10     // args[16]
	MOVQ R10, 80(SP)
	MOVQ 144(R11), R10     // args[17]
	MOVQ R10, 88(SP)
	MOVQ 152(R11), R10     // args[18]
	MOVQ R10, 96(SP)

	MOVQ 8(R11), DI        // args[0]
	MOVQ 16(R11), SI       // args[1]
	MOVQ 24(R11), DX       // args[2]
	MOVQ 32(R11), CX       // args[3]
	MOVQ 40(R11), R8       // args[4]
	MOVQ 48(R11), R9       // args[5]
	XORL AX, AX
	MOVQ 0(R11), R10       // fn
	CALL R10

	MOVQ 104(SP), DI
	MOVQ AX, 160(DI)       // r1
	MOVQ BP, SP
	POPQ BP
	RET
