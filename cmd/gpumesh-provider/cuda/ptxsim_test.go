package cuda

// A small interpreter for the PTX subset that ptxModule uses, and a
// simulated device on it, so the kernels and everything above the driver
// calls (buffers, B cache, launch geometry, argument packing, the cuBLAS
// column-major mapping) are checked bit for bit on the CPU. What it cannot
// check is that ptxas accepts the text and that the driver calls are made
// right: that needs a GPU (TestGoldenVectorsOnGPU).
//
// The interpreter is strict: an instruction, operand or register it does not
// know, a misaligned or out-of-bounds access, a barrier not reached by every
// thread, or a launch whose arguments do not match the .param list fails.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

type opKind int

const (
	oReg opKind = iota
	oImm
	oSpecial
	oSym   // a label or a shared variable
	oParam // [p_name]
	oMem   // [%reg] or [%reg+off]
	oVec   // {%r, %r, %r, %r}
)

type operand struct {
	kind opKind
	reg  int
	imm  uint64
	name string
	off  int64
	vec  []int
}

type opcode int

const (
	opLdParamU64 opcode = iota
	opLdParamU32
	opCvtaToGlobal
	opMovU32
	opMadLoU32
	opMulLoU32
	opMulHiU32
	opMulWideU32
	opSetpGeU32
	opSetpLtU32
	opBra
	opDivU32
	opRemU32
	opAddU32
	opAddS64
	opXorB32
	opShlB32
	opShrU32
	opShlB64
	opAndPred
	opCvtU64U32
	opLdGlobalU32
	opStGlobalU32
	opStGlobalV4U32
	opLdSharedU32
	opStSharedU32
	opBarSync
	opDp4aS32S32
	opRet
)

var opcodes = map[string]opcode{
	"ld.param.u64": opLdParamU64, "ld.param.u32": opLdParamU32, "cvta.to.global.u64": opCvtaToGlobal,
	"mov.u32": opMovU32, "mad.lo.u32": opMadLoU32, "mul.lo.u32": opMulLoU32, "mul.hi.u32": opMulHiU32,
	"mul.wide.u32": opMulWideU32, "setp.ge.u32": opSetpGeU32, "setp.lt.u32": opSetpLtU32, "bra": opBra,
	"div.u32": opDivU32, "rem.u32": opRemU32, "add.u32": opAddU32, "add.s64": opAddS64, "xor.b32": opXorB32,
	"shl.b32": opShlB32, "shr.u32": opShrU32, "shl.b64": opShlB64, "and.pred": opAndPred,
	"cvt.u64.u32": opCvtU64U32, "ld.global.u32": opLdGlobalU32, "st.global.u32": opStGlobalU32,
	"st.global.v4.u32": opStGlobalV4U32, "ld.shared.u32": opLdSharedU32, "st.shared.u32": opStSharedU32,
	"bar.sync": opBarSync, "dp4a.s32.s32": opDp4aS32S32, "ret": opRet,
}

type instr struct {
	pred    int // register index of the guard predicate, -1 for none
	predNeg bool
	op      opcode
	args    []operand
	text    string
}

type paramDecl struct {
	name string
	size int
}

type simKernel struct {
	name   string
	params []paramDecl
	code   []instr
	labels map[string]int
	regs   map[string]int // declared register names → index
}

type ptxProgram struct {
	kernels    map[string]*simKernel
	shared     map[string]uint32 // shared variable → offset
	sharedSize uint32
	version    string
	target     string
}

// regRange expands a ".reg .b32 %r<40>;" declaration.
func declareRegs(k *simKernel, line string) error {
	f := strings.Fields(strings.TrimSuffix(line, ";"))
	if len(f) != 3 {
		return fmt.Errorf("bad .reg line %q", line)
	}
	decl := f[2]
	lt := strings.Index(decl, "<")
	if lt < 0 || !strings.HasSuffix(decl, ">") {
		return fmt.Errorf("bad .reg line %q", line)
	}
	count, err := strconv.Atoi(decl[lt+1 : len(decl)-1])
	if err != nil {
		return err
	}
	for i := 0; i < count; i++ {
		name := fmt.Sprintf("%s%d", decl[:lt], i)
		if _, dup := k.regs[name]; dup {
			return fmt.Errorf("register %s declared twice", name)
		}
		k.regs[name] = len(k.regs)
	}
	return nil
}

// splitOperands splits on commas outside brackets and braces.
func splitOperands(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

func parseImm(s string) (uint64, error) {
	if strings.HasPrefix(s, "-") {
		v, err := strconv.ParseInt(s, 0, 64)
		return uint64(v), err
	}
	return strconv.ParseUint(s, 0, 64)
}

func (k *simKernel) reg(name string) (int, error) {
	i, ok := k.regs[name]
	if !ok {
		return 0, fmt.Errorf("undeclared register %s", name)
	}
	return i, nil
}

func (k *simKernel) parseOperand(s string) (operand, error) {
	switch {
	case strings.HasPrefix(s, "["):
		inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if !strings.HasPrefix(inner, "%") {
			for _, p := range k.params {
				if p.name == inner {
					return operand{kind: oParam, name: inner}, nil
				}
			}
			return operand{}, fmt.Errorf("unknown parameter %s", inner)
		}
		base, off := inner, int64(0)
		if plus := strings.Index(inner, "+"); plus >= 0 {
			base = inner[:plus]
			v, err := strconv.ParseInt(inner[plus+1:], 0, 64)
			if err != nil {
				return operand{}, err
			}
			off = v
		}
		r, err := k.reg(base)
		return operand{kind: oMem, reg: r, off: off}, err
	case strings.HasPrefix(s, "{"):
		var regs []int
		for _, part := range splitOperands(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")) {
			r, err := k.reg(part)
			if err != nil {
				return operand{}, err
			}
			regs = append(regs, r)
		}
		return operand{kind: oVec, vec: regs}, nil
	case s == "%tid.x" || s == "%tid.y" || s == "%tid.z" || s == "%ntid.x" || s == "%ntid.y" ||
		s == "%ctaid.x" || s == "%ctaid.y" || s == "%ctaid.z" || s == "%nctaid.x":
		return operand{kind: oSpecial, name: s}, nil
	case strings.HasPrefix(s, "%"):
		r, err := k.reg(s)
		return operand{kind: oReg, reg: r}, err
	case s[0] >= '0' && s[0] <= '9' || s[0] == '-':
		v, err := parseImm(s)
		return operand{kind: oImm, imm: v}, err
	default:
		return operand{kind: oSym, name: s}, nil
	}
}

// parsePTX reads the module: its header, shared variables and entries.
func parsePTX(src string) (*ptxProgram, error) {
	prog := &ptxProgram{kernels: map[string]*simKernel{}, shared: map[string]uint32{}}
	lines := strings.Split(src, "\n")
	var k *simKernel
	inParams, inBody := false, false
	for n, raw := range lines {
		line := raw
		if c := strings.Index(line, "//"); c >= 0 {
			line = line[:c]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		fail := func(err error) (*ptxProgram, error) {
			return nil, fmt.Errorf("ptx line %d %q: %w", n+1, strings.TrimSpace(raw), err)
		}
		switch {
		case k == nil && strings.HasPrefix(line, ".version "):
			prog.version = strings.TrimPrefix(line, ".version ")
		case k == nil && strings.HasPrefix(line, ".target "):
			prog.target = strings.TrimPrefix(line, ".target ")
		case k == nil && strings.HasPrefix(line, ".address_size "):
			if line != ".address_size 64" {
				return fail(errors.New("want .address_size 64"))
			}
		case k == nil && strings.HasPrefix(line, ".shared "):
			// .shared .align A .b32 name[N];
			f := strings.Fields(strings.TrimSuffix(line, ";"))
			if len(f) != 5 || f[1] != ".align" || f[3] != ".b32" {
				return fail(errors.New("unsupported .shared declaration"))
			}
			align, err := strconv.Atoi(f[2])
			if err != nil {
				return fail(err)
			}
			lb := strings.Index(f[4], "[")
			count, err := strconv.Atoi(strings.TrimSuffix(f[4][lb+1:], "]"))
			if err != nil {
				return fail(err)
			}
			off := (prog.sharedSize + uint32(align) - 1) / uint32(align) * uint32(align)
			prog.shared[f[4][:lb]] = off
			prog.sharedSize = off + 4*uint32(count)
		case k == nil && strings.HasPrefix(line, ".visible .entry "):
			name := strings.TrimSuffix(strings.TrimPrefix(line, ".visible .entry "), "(")
			k = &simKernel{name: name, labels: map[string]int{}, regs: map[string]int{}}
			prog.kernels[name] = k
			inParams = true
		case inParams && line == ")":
			inParams = false
		case inParams:
			f := strings.Fields(strings.TrimSuffix(line, ","))
			if len(f) != 3 || f[0] != ".param" || (f[1] != ".u32" && f[1] != ".u64") {
				return fail(errors.New("unsupported parameter"))
			}
			size := 4
			if f[1] == ".u64" {
				size = 8
			}
			k.params = append(k.params, paramDecl{name: f[2], size: size})
		case k != nil && !inBody && line == "{":
			inBody = true
		case inBody && line == "}":
			inBody, k = false, nil
		case inBody && strings.HasPrefix(line, ".reg "):
			if err := declareRegs(k, line); err != nil {
				return fail(err)
			}
		case inBody && strings.HasSuffix(line, ":"):
			label := strings.TrimSuffix(line, ":")
			if _, dup := k.labels[label]; dup {
				return fail(errors.New("duplicate label"))
			}
			k.labels[label] = len(k.code)
		case inBody:
			if !strings.HasSuffix(line, ";") {
				return fail(errors.New("instruction without ';'"))
			}
			line = strings.TrimSuffix(line, ";")
			in := instr{pred: -1, text: line}
			if strings.HasPrefix(line, "@") {
				sp := strings.IndexByte(line, ' ')
				p := line[1:sp]
				if strings.HasPrefix(p, "!") {
					in.predNeg, p = true, p[1:]
				}
				r, err := k.reg(p)
				if err != nil {
					return fail(err)
				}
				in.pred = r
				line = strings.TrimSpace(line[sp+1:])
			}
			op, rest, _ := strings.Cut(line, " ")
			code, ok := opcodes[op]
			if !ok {
				return fail(fmt.Errorf("instruction %s not supported by the simulator", op))
			}
			in.op = code
			for _, s := range splitOperands(rest) {
				o, err := k.parseOperand(s)
				if err != nil {
					return fail(err)
				}
				in.args = append(in.args, o)
			}
			k.code = append(k.code, in)
		default:
			return fail(errors.New("unexpected line"))
		}
	}
	// Branch targets and shared symbols must resolve.
	for _, k := range prog.kernels {
		for _, in := range k.code {
			for _, a := range in.args {
				if a.kind != oSym {
					continue
				}
				if in.op == opBra {
					if _, ok := k.labels[a.name]; !ok {
						return nil, fmt.Errorf("%s: unknown label %s", k.name, a.name)
					}
				} else if _, ok := prog.shared[a.name]; !ok {
					return nil, fmt.Errorf("%s: unknown symbol %s", k.name, a.name)
				}
			}
		}
	}
	return prog, nil
}

// simDevice is a device whose kernels run in the interpreter and whose
// gemmS8 is a reference column-major GEMM with cuBLAS's semantics.
type simDevice struct {
	prog   *ptxProgram
	bufs   map[uint64][]byte
	next   uint64
	sticky error // like a CUDA sticky error: everything fails after it

	gemmErr  error // when set, gemmS8 fails with it
	launches []simLaunch
	gemms    int
	frees    int
	closed   bool
}

type simLaunch struct {
	kernel int
	args   []karg
}

func newSimDevice() (*simDevice, error) {
	prog, err := parsePTX(ptxModule)
	if err != nil {
		return nil, err
	}
	for _, name := range kernelNames {
		if prog.kernels[name] == nil {
			return nil, fmt.Errorf("no .entry %s in ptxModule", name)
		}
	}
	return &simDevice{prog: prog, bufs: map[uint64][]byte{}, next: 0x7f0000000000}, nil
}

func (d *simDevice) alloc(bytes uint64) (uint64, error) {
	if bytes == 0 {
		return 0, errors.New("sim: cuMemAlloc of 0 bytes")
	}
	if bytes > 1<<30 {
		return 0, errors.New("sim: out of memory")
	}
	p := d.next
	d.next += (bytes + 255) &^ 255
	d.next += 256 // a gap, so that running off a buffer is caught
	d.bufs[p] = make([]byte, bytes)
	return p, nil
}

func (d *simDevice) free(ptr uint64) error {
	if _, ok := d.bufs[ptr]; !ok {
		return fmt.Errorf("sim: free of unknown pointer %#x", ptr)
	}
	delete(d.bufs, ptr)
	d.frees++
	return nil
}

// global returns size bytes of device memory at addr.
func (d *simDevice) global(addr uint64, size uint64) ([]byte, error) {
	if addr%size != 0 {
		return nil, fmt.Errorf("misaligned %d-byte global access at %#x", size, addr)
	}
	for base, b := range d.bufs {
		if addr >= base && addr+size <= base+uint64(len(b)) {
			return b[addr-base : addr-base+size], nil
		}
	}
	return nil, fmt.Errorf("illegal global address %#x (%d bytes)", addr, size)
}

func (d *simDevice) dtoh(dst unsafe.Pointer, src uint64, bytes uint64) error {
	if d.sticky != nil {
		return d.sticky
	}
	b, err := d.buffer(src, bytes)
	if err != nil {
		return err
	}
	copy(unsafe.Slice((*byte)(dst), bytes), b)
	return nil
}

// buffer returns bytes bytes at p, which must be inside one allocation.
func (d *simDevice) buffer(p, bytes uint64) ([]byte, error) {
	for base, b := range d.bufs {
		if p >= base && p+bytes <= base+uint64(len(b)) {
			return b[p-base : p-base+bytes], nil
		}
	}
	return nil, fmt.Errorf("sim: %d bytes at %#x are not device memory", bytes, p)
}

func (d *simDevice) sync() error {
	if d.sticky != nil {
		return d.sticky
	}
	return nil
}

func (d *simDevice) close() error {
	if len(d.bufs) != 0 {
		return fmt.Errorf("sim: %d buffers not freed before close", len(d.bufs))
	}
	d.closed = true
	return nil
}

// gemmS8 is the cuBLAS definition: column-major, C[i + j·ldc] =
// Σ_l op(A)[i][l]·op(B)[l][j], op(X) = X (N) or Xᵀ (T), with X[r][c] at
// r + c·ldx.
func (d *simDevice) gemmS8(transa, transb, m, n, k int32, a uint64, lda int32, b uint64, ldb int32, c uint64, ldc int32) error {
	if d.gemmErr != nil {
		return d.gemmErr
	}
	d.gemms++
	if lda%4 != 0 || ldb%4 != 0 || m%4 != 0 {
		return errors.New("sim: CUBLAS_STATUS_NOT_SUPPORTED (int8 wants lda, ldb, m multiples of 4)")
	}
	rowsA, rowsB := m, k // stored rows (column-major) of A and B
	if transa == cublasOpT {
		rowsA = k
	}
	if transb == cublasOpT {
		rowsB = n
	}
	if lda < rowsA || ldb < rowsB || ldc < m {
		return errors.New("sim: CUBLAS_STATUS_INVALID_VALUE (leading dimension)")
	}
	colsA, colsB := k, n
	if transa == cublasOpT {
		colsA = m
	}
	if transb == cublasOpT {
		colsB = k
	}
	am, err := d.buffer(a, uint64(lda)*uint64(colsA-1)+uint64(rowsA))
	if err != nil {
		return err
	}
	bm, err := d.buffer(b, uint64(ldb)*uint64(colsB-1)+uint64(rowsB))
	if err != nil {
		return err
	}
	cm, err := d.buffer(c, 4*(uint64(ldc)*uint64(n-1)+uint64(m)))
	if err != nil {
		return err
	}
	opA := func(i, l int32) int32 {
		if transa == cublasOpT {
			return int32(int8(am[int64(l)+int64(i)*int64(lda)]))
		}
		return int32(int8(am[int64(i)+int64(l)*int64(lda)]))
	}
	opB := func(l, j int32) int32 {
		if transb == cublasOpT {
			return int32(int8(bm[int64(j)+int64(l)*int64(ldb)]))
		}
		return int32(int8(bm[int64(l)+int64(j)*int64(ldb)]))
	}
	for j := int32(0); j < n; j++ {
		for i := int32(0); i < m; i++ {
			var s int32
			for l := int32(0); l < k; l++ {
				s += opA(i, l) * opB(l, j)
			}
			binary.LittleEndian.PutUint32(cm[4*(int64(i)+int64(j)*int64(ldc)):], uint32(s))
		}
	}
	return nil
}

func (d *simDevice) launch(kn int, grid, block [3]uint32, args []karg) error {
	if d.sticky != nil {
		return d.sticky
	}
	k := d.prog.kernels[kernelNames[kn]]
	if len(args) != len(k.params) {
		return fmt.Errorf("sim: %s takes %d arguments, launched with %d", k.name, len(k.params), len(args))
	}
	params := map[string]uint64{}
	for i, p := range k.params {
		if args[i].size != p.size {
			return fmt.Errorf("sim: %s argument %d (%s) is %d bytes, launched with %d", k.name, i, p.name, p.size, args[i].size)
		}
		params[p.name] = args[i].v
	}
	threads := block[0] * block[1] * block[2]
	if threads == 0 || threads > 1024 || grid[0] == 0 || grid[1] == 0 || grid[2] == 0 || grid[1] > 65535 || grid[2] > 65535 {
		return fmt.Errorf("sim: invalid launch geometry grid %v block %v", grid, block)
	}
	d.launches = append(d.launches, simLaunch{kernel: kn, args: append([]karg(nil), args...)})
	for z := uint32(0); z < grid[2]; z++ {
		for y := uint32(0); y < grid[1]; y++ {
			for x := uint32(0); x < grid[0]; x++ {
				if err := d.runBlock(k, params, [3]uint32{x, y, z}, grid, block); err != nil {
					d.sticky = fmt.Errorf("sim: %s block %v: %w", k.name, [3]uint32{x, y, z}, err)
					return nil // reported at the next sync, as on a GPU
				}
			}
		}
	}
	return nil
}

type simThread struct {
	regs    []uint64
	tid     [3]uint32
	pc      int
	done    bool
	barrier bool
}

func (d *simDevice) runBlock(k *simKernel, params map[string]uint64, ctaid, grid, block [3]uint32) error {
	shared := make([]byte, d.prog.sharedSize)
	var threads []*simThread
	for z := uint32(0); z < block[2]; z++ {
		for y := uint32(0); y < block[1]; y++ {
			for x := uint32(0); x < block[0]; x++ {
				threads = append(threads, &simThread{regs: make([]uint64, len(k.regs)), tid: [3]uint32{x, y, z}})
			}
		}
	}
	for {
		for _, t := range threads {
			if !t.done {
				t.barrier = false
				if err := d.runThread(k, t, params, shared, ctaid, block); err != nil {
					return fmt.Errorf("thread %v: %w", t.tid, err)
				}
			}
		}
		waiting, finished := 0, 0
		for _, t := range threads {
			if t.barrier {
				waiting++
			}
			if t.done {
				finished++
			}
		}
		if finished == len(threads) {
			return nil
		}
		if waiting != len(threads) {
			return fmt.Errorf("bar.sync reached by %d of %d threads (%d exited)", waiting, len(threads), finished)
		}
	}
}

// runThread runs t until it exits or reaches bar.sync.
func (d *simDevice) runThread(k *simKernel, t *simThread, params map[string]uint64, shared []byte, ctaid, block [3]uint32) error {
	val := func(o operand) uint64 {
		switch o.kind {
		case oReg:
			return t.regs[o.reg]
		case oImm:
			return o.imm
		case oSym:
			return uint64(d.prog.shared[o.name])
		case oSpecial:
			switch o.name {
			case "%tid.x":
				return uint64(t.tid[0])
			case "%tid.y":
				return uint64(t.tid[1])
			case "%tid.z":
				return uint64(t.tid[2])
			case "%ntid.x":
				return uint64(block[0])
			case "%ntid.y":
				return uint64(block[1])
			case "%ctaid.x":
				return uint64(ctaid[0])
			case "%ctaid.y":
				return uint64(ctaid[1])
			case "%ctaid.z":
				return uint64(ctaid[2])
			}
		}
		panic("sim: bad operand")
	}
	u32 := func(o operand) uint32 { return uint32(val(o)) }
	sharedAt := func(addr uint64) ([]byte, error) {
		if addr%4 != 0 || addr+4 > uint64(len(shared)) {
			return nil, fmt.Errorf("bad shared address %#x", addr)
		}
		return shared[addr : addr+4], nil
	}
	steps := 0
	for t.pc < len(k.code) {
		if steps++; steps > 1<<24 {
			return errors.New("runaway thread")
		}
		in := &k.code[t.pc]
		t.pc++
		if in.pred >= 0 {
			p := t.regs[in.pred] != 0
			if p == in.predNeg {
				continue
			}
		}
		a := in.args
		set := func(v uint64) { t.regs[a[0].reg] = v }
		bad := func() error { return fmt.Errorf("bad operands in %q", in.text) }
		switch in.op {
		case opLdParamU64, opLdParamU32:
			if len(a) != 2 || a[0].kind != oReg || a[1].kind != oParam {
				return bad()
			}
			v := params[a[1].name]
			if in.op == opLdParamU32 {
				v = uint64(uint32(v))
			}
			set(v)
		case opCvtaToGlobal:
			set(val(a[1]))
		case opMovU32:
			set(uint64(u32(a[1])))
		case opMadLoU32:
			set(uint64(u32(a[1])*u32(a[2]) + u32(a[3])))
		case opMulLoU32:
			set(uint64(u32(a[1]) * u32(a[2])))
		case opMulHiU32:
			set((uint64(u32(a[1])) * uint64(u32(a[2]))) >> 32)
		case opMulWideU32:
			set(uint64(u32(a[1])) * uint64(u32(a[2])))
		case opSetpGeU32:
			set(b2u(u32(a[1]) >= u32(a[2])))
		case opSetpLtU32:
			set(b2u(u32(a[1]) < u32(a[2])))
		case opBra:
			t.pc = k.labels[a[0].name]
		case opDivU32, opRemU32:
			if u32(a[2]) == 0 {
				return errors.New("division by zero")
			}
			if in.op == opDivU32 {
				set(uint64(u32(a[1]) / u32(a[2])))
			} else {
				set(uint64(u32(a[1]) % u32(a[2])))
			}
		case opAddU32:
			set(uint64(u32(a[1]) + u32(a[2])))
		case opAddS64:
			set(val(a[1]) + val(a[2]))
		case opXorB32:
			set(uint64(u32(a[1]) ^ u32(a[2])))
		case opShlB32:
			set(uint64(u32(a[1]) << u32(a[2])))
		case opShrU32:
			set(uint64(u32(a[1]) >> u32(a[2])))
		case opShlB64:
			set(val(a[1]) << u32(a[2]))
		case opAndPred:
			set(b2u(val(a[1]) != 0 && val(a[2]) != 0))
		case opCvtU64U32:
			set(uint64(u32(a[1])))
		case opLdGlobalU32:
			if a[1].kind != oMem {
				return bad()
			}
			m, err := d.global(t.regs[a[1].reg]+uint64(a[1].off), 4)
			if err != nil {
				return err
			}
			set(uint64(binary.LittleEndian.Uint32(m)))
		case opStGlobalU32:
			if a[0].kind != oMem {
				return bad()
			}
			m, err := d.global(t.regs[a[0].reg]+uint64(a[0].off), 4)
			if err != nil {
				return err
			}
			binary.LittleEndian.PutUint32(m, u32(a[1]))
		case opStGlobalV4U32:
			if a[0].kind != oMem || a[1].kind != oVec || len(a[1].vec) != 4 {
				return bad()
			}
			m, err := d.global(t.regs[a[0].reg]+uint64(a[0].off), 16)
			if err != nil {
				return err
			}
			for i, r := range a[1].vec {
				binary.LittleEndian.PutUint32(m[4*i:], uint32(t.regs[r]))
			}
		case opLdSharedU32:
			if a[1].kind != oMem {
				return bad()
			}
			m, err := sharedAt(uint64(uint32(t.regs[a[1].reg]) + uint32(a[1].off)))
			if err != nil {
				return err
			}
			set(uint64(binary.LittleEndian.Uint32(m)))
		case opStSharedU32:
			if a[0].kind != oMem {
				return bad()
			}
			m, err := sharedAt(uint64(uint32(t.regs[a[0].reg]) + uint32(a[0].off)))
			if err != nil {
				return err
			}
			binary.LittleEndian.PutUint32(m, u32(a[1]))
		case opBarSync:
			t.barrier = true
			return nil
		case opDp4aS32S32:
			x, y := u32(a[1]), u32(a[2])
			s := int32(u32(a[3]))
			for i := 0; i < 4; i++ {
				s += int32(int8(x>>(8*i))) * int32(int8(y>>(8*i)))
			}
			set(uint64(uint32(s)))
		case opRet:
			t.done = true
			return nil
		default:
			return bad()
		}
	}
	t.done = true
	return nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
