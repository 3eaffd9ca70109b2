// Command replay runs a goheap allocation scenario on the REAL Go runtime
// (Go 1.19) and prints runtime.MemStats at every checkpoint, plus the deltas
// between consecutive checkpoints, as JSON on stdout.
//
// It is the "checked against real Go" half of `goheap replay`: the same
// scenario file is replayed by goheap (TypeScript) and the two outputs are
// compared. See goref/README.md for the scenario format, the Go settings
// used, how sizes map to Go types and which fields vary between runs.
//
// Design rule: between the first and the last checkpoint the runner itself
// performs no heap allocation. Everything it needs (the keep sets, the
// MemStats records, channels for the stack ops, the goroutine structures and
// sudogs those ops use) is allocated, or warmed up, before the first
// checkpoint; the scenario's ops are pre-compiled into a flat slice of
// structs; the op loop uses no fmt, no maps, no closures, no interfaces and
// no append. Output is produced only after the last op. The `empty`
// scenario (three checkpoints, no ops) verifies this: all its deltas are 0,
// and main_test.go checks it with testing.AllocsPerRun.
//
// Usage:
//
//	replay [flags] SCENARIO.json > result.json
//
// Runs always use GOMAXPROCS=1 GOGC=off GODEBUG=memprofilerate=0: if the
// environment does not say so, the runner re-executes itself with them
// (GODEBUG is only read at process start). It also sets them in code:
// runtime.GOMAXPROCS(1), debug.SetGCPercent(-1), runtime.MemProfileRate = 0.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func init() {
	// Heap profiling samples allocations at random (every ~512 KiB by
	// default) and a sampled allocation creates a profile record
	// (BuckHashSys, OtherSys, specials). Turn it off before anything else
	// in package main runs. GODEBUG=memprofilerate=0 does it even earlier.
	runtime.MemProfileRate = 0
}

// ---------------------------------------------------------------------------
// Scenario format

type scenarioFile struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Ops         []opSpec `json:"ops"`
}

type opSpec struct {
	Op         string `json:"op"`
	Label      string `json:"label,omitempty"`
	Size       int64  `json:"size,omitempty"`
	Count      *int64 `json:"count,omitempty"`
	Pointers   bool   `json:"pointers,omitempty"`
	Keep       string `json:"keep,omitempty"`
	Set        string `json:"set,omitempty"`
	FreeEvery  int64  `json:"freeEvery,omitempty"`
	Goroutines int64  `json:"goroutines,omitempty"`
	Depth      int64  `json:"depth,omitempty"`
	Bytes      *int64 `json:"bytes,omitempty"`
	Ms         int64  `json:"ms,omitempty"`
	Note       string `json:"note,omitempty"`
}

const (
	opCheckpoint = iota
	opAlloc
	opFree
	opGC
	opReleaseOS
	opStack
	opStackRelease
	opMemoryLimit
	opWait
)

// op is a compiled operation. Plain integers only, so that executing it
// touches no maps, strings or interfaces.
type op struct {
	kind       int
	size       int // alloc: bytes (noscan) ; words = size/8 (pointers)
	count      int
	pointers   bool
	set        int // alloc: keep set index or -1; free: set index
	every      int // free: 1 = all (and empty the set), k > 1 = objects 0, k, 2k, ...
	checkpoint int // checkpoint: index into the MemStats records
	goroutines int
	target     uintptr // stack: bytes of stack the recursion uses before parking
	limit      int64   // memoryLimit: bytes
	ms         int64   // wait: milliseconds
}

// objSet keeps objects reachable. ptrs is allocated before the first
// checkpoint with the set's total capacity (sum of all counts kept into it),
// so keeping an object never allocates.
type objSet struct {
	ptrs []unsafe.Pointer
	n    int
}

const (
	maxSize       = 1 << 32 // 4 GiB per object
	maxGoroutines = 60      // keep dead Gs on the P's local free list (< 64), see README
	minStack      = 2048
	maxStack      = 1 << 24
)

type program struct {
	name      string
	ops       []op
	labels    []string
	setNames  []string
	setCap    []int
	maxParked int
}

func compile(sc *scenarioFile) (*program, error) {
	if sc.Name == "" {
		return nil, errors.New("scenario has no name")
	}
	p := &program{name: sc.Name}
	setIndex := map[string]int{}
	labelSeen := map[string]bool{}
	parked := 0
	for i, s := range sc.Ops {
		where := fmt.Sprintf("op %d (%q)", i, s.Op)
		o := op{set: -1}
		switch s.Op {
		case "checkpoint":
			if s.Label == "" {
				return nil, fmt.Errorf("%s: checkpoint needs a label", where)
			}
			if labelSeen[s.Label] {
				return nil, fmt.Errorf("%s: duplicate checkpoint label %q", where, s.Label)
			}
			labelSeen[s.Label] = true
			o.kind = opCheckpoint
			o.checkpoint = len(p.labels)
			p.labels = append(p.labels, s.Label)
		case "alloc":
			o.kind = opAlloc
			count := int64(1)
			if s.Count != nil {
				count = *s.Count
			}
			if count < 1 || count > 1<<30 {
				return nil, fmt.Errorf("%s: count must be in [1, 2^30], got %d", where, count)
			}
			if s.Size < 1 || s.Size > maxSize {
				return nil, fmt.Errorf("%s: size must be in [1, %d], got %d", where, int64(maxSize), s.Size)
			}
			if s.Pointers && s.Size%8 != 0 {
				return nil, fmt.Errorf("%s: size %d with pointers:true cannot be expressed in Go: a type containing pointers has 8-byte alignment on amd64, so its size is a multiple of 8 (use a multiple of 8, or pointers:false)", where, s.Size)
			}
			o.size = int(s.Size)
			o.count = int(count)
			o.pointers = s.Pointers
			if s.Keep != "" {
				idx, ok := setIndex[s.Keep]
				if !ok {
					idx = len(p.setNames)
					setIndex[s.Keep] = idx
					p.setNames = append(p.setNames, s.Keep)
					p.setCap = append(p.setCap, 0)
				}
				o.set = idx
				p.setCap[idx] += o.count
			}
		case "free":
			o.kind = opFree
			idx, ok := setIndex[s.Set]
			if !ok {
				return nil, fmt.Errorf("%s: set %q was never kept into by an earlier alloc", where, s.Set)
			}
			o.set = idx
			o.every = 1
			if s.FreeEvery != 0 {
				if s.FreeEvery < 1 {
					return nil, fmt.Errorf("%s: freeEvery must be >= 1", where)
				}
				o.every = int(s.FreeEvery)
			}
		case "gc":
			o.kind = opGC
		case "releaseOS":
			o.kind = opReleaseOS
		case "stack":
			o.kind = opStack
			if s.Goroutines < 1 {
				return nil, fmt.Errorf("%s: goroutines must be >= 1", where)
			}
			if s.Depth < minStack || s.Depth > maxStack || s.Depth&(s.Depth-1) != 0 {
				return nil, fmt.Errorf("%s: depth is the stack size each goroutine grows to; it must be a power of two in [%d, %d], got %d", where, minStack, maxStack, s.Depth)
			}
			o.goroutines = int(s.Goroutines)
			if s.Depth > minStack {
				// A stack of depth/2 bytes cannot hold depth/2 bytes of
				// frames (it keeps a 928-byte guard), a stack of depth
				// bytes can: so the stack doubles up to exactly depth.
				o.target = uintptr(s.Depth / 2)
			}
			parked += o.goroutines
			if parked > maxGoroutines {
				return nil, fmt.Errorf("%s: at most %d goroutines may be parked at once (got %d)", where, maxGoroutines, parked)
			}
			if parked > p.maxParked {
				p.maxParked = parked
			}
		case "stackRelease":
			o.kind = opStackRelease
			parked = 0
		case "memoryLimit":
			// debug.SetMemoryLimit(bytes); -1 (or no bytes) means no limit (math.MaxInt64).
			o.kind = opMemoryLimit
			if s.Bytes == nil || *s.Bytes < 0 {
				o.limit = math.MaxInt64
			} else {
				o.limit = *s.Bytes
			}
		case "wait":
			// Sleep, so that the background scavenger (and sysmon) can run.
			o.kind = opWait
			if s.Ms < 1 || s.Ms > 600000 {
				return nil, fmt.Errorf("%s: ms must be in [1, 600000], got %d", where, s.Ms)
			}
			o.ms = s.Ms
		default:
			return nil, fmt.Errorf("%s: unknown op", where)
		}
		p.ops = append(p.ops, o)
	}
	if len(p.labels) < 1 {
		return nil, errors.New("scenario has no checkpoint")
	}
	return p, nil
}

// ---------------------------------------------------------------------------
// Runtime-side state. All of it is allocated before the first checkpoint.

var (
	// sink makes objects that are not kept escape to the heap; overwriting
	// it drops the previous object (it becomes garbage).
	sink unsafe.Pointer

	sets  []objSet
	stats []runtime.MemStats

	// MemStats buffers for the warm-up: globals, so that no big MemStats
	// (about 6 KiB) sits in a stack frame (see warmup, stack shrinking).
	scratch [5]runtime.MemStats

	// stack ops
	stackTarget  uintptr
	stackReady   chan struct{}
	stackRelease chan struct{}
	stackDone    chan struct{}
	stackParked  int
	baseG        int
)

//go:noinline
func allocNoscan(size int) unsafe.Pointer {
	// []byte: element type has no pointers -> mallocgc(size, uint8, true),
	// noscan span class (tiny allocator when size < 16).
	b := make([]byte, size)
	return unsafe.Pointer(&b[0])
}

//go:noinline
func allocScan(words int) unsafe.Pointer {
	// []unsafe.Pointer: every word is a pointer -> scan span class,
	// exactly 8*words bytes requested.
	s := make([]unsafe.Pointer, words)
	return unsafe.Pointer(&s[0])
}

func runAlloc(o *op) {
	var set *objSet
	if o.set >= 0 {
		set = &sets[o.set]
	}
	words := o.size / 8
	for i := 0; i < o.count; i++ {
		var p unsafe.Pointer
		if o.pointers {
			p = allocScan(words)
		} else {
			p = allocNoscan(o.size)
		}
		if set != nil {
			set.ptrs[set.n] = p
			set.n++
		} else {
			sink = p
		}
	}
	sink = nil
}

func runFree(o *op) {
	set := &sets[o.set]
	if o.every == 1 {
		for i := 0; i < set.n; i++ {
			set.ptrs[i] = nil
		}
		set.n = 0
		return
	}
	for i := 0; i < set.n; i += o.every {
		set.ptrs[i] = nil
	}
}

// stackWorker is started with `go stackWorker()`: a function with no
// arguments, so the go statement allocates no closure.
func stackWorker() {
	var anchor [8]byte
	recurse(&anchor[0], stackTarget)
	stackDone <- struct{}{}
}

// recurse descends until `target` bytes of stack lie between the worker's
// anchor and the current frame, then parks. anchor is a real pointer, so
// stack copying (growth) adjusts it; the addresses are only compared.
//
//go:noinline
func recurse(anchor *byte, target uintptr) byte {
	var pad [240]byte
	used := uintptr(unsafe.Pointer(anchor)) - uintptr(unsafe.Pointer(&pad[0]))
	if used < target {
		pad[used%240] = recurse(anchor, target)
	} else {
		stackReady <- struct{}{} // buffered: never blocks
		<-stackRelease           // parks (sudog from the P's cache)
	}
	return pad[(used+1)%240]
}

func runStack(o *op) {
	stackTarget = o.target
	for i := 0; i < o.goroutines; i++ {
		go stackWorker()
	}
	for i := 0; i < o.goroutines; i++ {
		<-stackReady
	}
	stackParked += o.goroutines
}

func runStackRelease() {
	n := stackParked
	for i := 0; i < n; i++ {
		stackRelease <- struct{}{} // buffered: never blocks
	}
	for i := 0; i < n; i++ {
		<-stackDone
	}
	stackParked = 0
	// Make sure every worker has really exited (gfput has run).
	for runtime.NumGoroutine() > baseG {
		runtime.Gosched()
	}
}

// settleYields is the number of runtime.Gosched() calls made after every
// runtime.GC() / debug.FreeOSMemory(). They let the background sweeper,
// which the GC leaves runnable, finish: it frees the GC's work buffers
// (a 32 KiB manual span: GCSys -> HeapIdle) right after sweeping ends.
// Without them that free happens at an arbitrary later moment.
var settleYields = 10

// Warm-up outcome (reported in the output's "warmup" object).
var (
	releaseAttempts int
	startClean      bool
	idleUnreleased  int64
	fillObjects     int
	refilledClasses int
)

func settle() {
	for i := 0; i < settleYields; i++ {
		runtime.Gosched()
	}
}

func execute(p *program) {
	for i := range p.ops {
		o := &p.ops[i]
		switch o.kind {
		case opCheckpoint:
			runtime.ReadMemStats(&stats[o.checkpoint])
		case opAlloc:
			runAlloc(o)
		case opFree:
			runFree(o)
		case opGC:
			runtime.GC()
			settle()
		case opReleaseOS:
			debug.FreeOSMemory()
			settle()
		case opStack:
			runStack(o)
		case opStackRelease:
			runStackRelease()
		case opMemoryLimit:
			debug.SetMemoryLimit(o.limit)
		case opWait:
			// The main goroutine's timer was allocated by the warm-up's Sleep.
			time.Sleep(time.Duration(o.ms) * time.Millisecond)
		}
	}
}

// ---------------------------------------------------------------------------
// Filling partially used spans (warm-up)

// Go 1.19's size classes (src/runtime/sizeclasses.go): object size and span
// bytes per class. Checked against MemStats.BySize at start-up.
var classSize = [68]int{
	0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
	240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896,
	1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456,
	4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
	12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264,
	28672, 32768,
}

var classSpanBytes = [68]int{
	0, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192,
	8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192,
	8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192, 16384, 8192,
	16384, 8192, 16384, 8192, 24576, 16384, 24576, 8192, 24576, 16384, 24576,
	32768, 40960, 49152, 8192, 57344, 49152, 40960, 32768, 24576, 40960,
	57344, 16384, 73728, 57344, 40960, 65536, 24576, 81920, 57344, 32768,
}

// fillPartialSpans allocates (and keeps forever) objects of every span
// class until the class's partially used spans are all full and one fresh
// span has been taken and filled completely. Afterwards no span class has
// a span with free slots, as in a heap that has never been used: the
// scenario's small allocations start new spans, exactly as they would on a
// fresh goheap. (The runtime's own start-up objects, and the garbage that
// the warm-up GCs freed, otherwise leave free slots in many classes, and a
// scenario would fill those first - e.g. 1,000 x 8 B would not grow
// HeapInuse at all.) A new span is detected by HeapInuse growing; class 1
// noscan is skipped (8 B noscan objects always go to the tiny allocator,
// which uses class 2 noscan).
func fillPartialSpans(only *[68]bool) (objects int) {
	n0 := fillN
	ms := &scratch[0]
	runtime.ReadMemStats(ms)
	for c := 1; c < 68; c++ {
		if c < len(ms.BySize) && int(ms.BySize[c].Size) != classSize[c] {
			fatal(fmt.Errorf("size class %d is %d B in this runtime, the runner expects %d B (not Go 1.19?)", c, ms.BySize[c].Size, classSize[c]))
		}
	}
	for c := 1; c < 68; c++ {
		if only != nil && !only[c] {
			continue
		}
		for _, pointers := range []bool{true, false} {
			if c == 1 && !pointers {
				continue
			}
			size := classSize[c]
			nelems := classSpanBytes[c] / size
			runtime.ReadMemStats(ms)
			before := ms.HeapInuse
			for {
				fillKeep(fillAlloc(size, pointers))
				runtime.ReadMemStats(ms)
				if ms.HeapInuse > before {
					break
				}
			}
			for i := 1; i < nelems; i++ {
				fillKeep(fillAlloc(size, pointers))
			}
		}
	}
	return fillN - n0
}

var (
	fillPtrs []unsafe.Pointer
	fillN    int
)

func fillAlloc(size int, pointers bool) unsafe.Pointer {
	if pointers {
		return allocScan(size / 8)
	}
	return allocNoscan(size)
}

func fillKeep(p unsafe.Pointer) {
	if fillN == len(fillPtrs) {
		fatal(errors.New("fillPartialSpans: more than len(fillPtrs) objects needed"))
	}
	fillPtrs[fillN] = p
	fillN++
}

// ---------------------------------------------------------------------------
// Output

type bySizeEntry struct {
	Size    uint32
	Mallocs uint64
	Frees   uint64
}

type checkpointOut struct {
	Label    string     `json:"label"`
	MemStats orderedMap `json:"memstats"`
}

type bySizeDelta struct {
	Class   int   `json:"class"`
	Size    int64 `json:"size"`
	Mallocs int64 `json:"Mallocs"`
	Frees   int64 `json:"Frees"`
}

type deltaOut struct {
	From   string        `json:"from"`
	To     string        `json:"to"`
	Fields orderedMap    `json:"fields"`
	BySize []bySizeDelta `json:"bySize"`
}

// orderedMap marshals as a JSON object with keys in insertion order (Go's
// field order for MemStats).
type orderedMap struct {
	keys []string
	vals []interface{}
}

func (o *orderedMap) add(k string, v interface{}) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type settingsOut struct {
	GoVersion      string `json:"goVersion"`
	GOOS           string `json:"GOOS"`
	GOARCH         string `json:"GOARCH"`
	GOMAXPROCS     int    `json:"GOMAXPROCS"`
	GCPercent      int    `json:"gcPercent"`
	MemProfileRate int    `json:"memProfileRate"`
	PageSize       int    `json:"physPageSize"`
	GODEBUG        string `json:"GODEBUG"`
	GOGC           string `json:"GOGCEnv"`
	GOMAXPROCSEnv  string `json:"GOMAXPROCSEnv"`
	WarmupGCs      int    `json:"warmupGCs"`
	WarmupRelease  bool   `json:"warmupFreeOSMemory"`
	WarmupSleepers int    `json:"warmupSleepers"`
	SettleYields   int    `json:"settleYields"`
	WarmupThreads  int    `json:"warmupThreads"`
	WarmupQuietMs  int    `json:"warmupQuietMs"`
	WarmupFill     bool   `json:"warmupFillPartialSpans"`
	WarmupShrink   int    `json:"warmupShrinkGCs"`
	StackWarmup    int    `json:"stackWarmupGoroutines"`
}

type warmupOut struct {
	FreeOSMemoryCalls int   `json:"freeOSMemoryCalls"`
	Settled           bool  `json:"workBufsFreedBeforeScavenge"`
	IdleUnreleased    int64 `json:"idleUnreleasedAtStart"`
	FillObjects       int   `json:"fillObjects"`
	RefilledClasses   int   `json:"refilledClasses"`
}

type output struct {
	Name        string          `json:"name"`
	Settings    settingsOut     `json:"settings"`
	Warmup      warmupOut       `json:"warmup"`
	Checkpoints []checkpointOut `json:"checkpoints"`
	Deltas      []deltaOut      `json:"deltas"`
}

// DeltaFields are the MemStats fields reported in "deltas". The first 13
// are the ones the goheap comparison uses; the rest are extra context.
var DeltaFields = []string{
	"HeapAlloc", "HeapInuse", "HeapIdle", "HeapReleased", "HeapSys",
	"HeapObjects", "Mallocs", "Frees", "TotalAlloc", "StackInuse",
	"StackSys", "MSpanInuse", "Sys",
	"Alloc", "MSpanSys", "MCacheInuse", "MCacheSys", "BuckHashSys",
	"GCSys", "OtherSys", "NumGC", "NumForcedGC",
}

func memstatsMap(m *runtime.MemStats) orderedMap {
	var out orderedMap
	v := reflect.ValueOf(m).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch f.Name {
		case "PauseNs", "PauseEnd":
			continue
		case "BySize":
			var bs []bySizeEntry
			for j := 0; j < len(m.BySize); j++ {
				e := m.BySize[j]
				bs = append(bs, bySizeEntry{e.Size, e.Mallocs, e.Frees})
			}
			out.add("BySize", bs)
		default:
			out.add(f.Name, v.Field(i).Interface())
		}
	}
	return out
}

func fieldInt(m *runtime.MemStats, name string) int64 {
	f := reflect.ValueOf(m).Elem().FieldByName(name)
	switch f.Kind() {
	case reflect.Uint64, reflect.Uint32:
		return int64(f.Uint())
	case reflect.Int64, reflect.Int32:
		return f.Int()
	}
	panic("field " + name + " is not an integer")
}

// warmupOptions are the knobs of the warm-up (all have flags; the defaults
// are what the fixtures use).
type warmupOptions struct {
	GCs       int  // runtime.GC() calls
	Sleepers  int  // goroutines sleeping at once (grows the P's timer slice)
	Threads   int  // goroutines locked to their own OS thread at once
	Release   bool // end with debug.FreeOSMemory() (retried, see warmup)
	QuietMs   int  // 1 ms sleeps after the FreeOSMemory (the scavenger wakes and parks)
	Fill      bool // finally fill every partially used span (fillPartialSpans)
	ShrinkGCs int  // GCs at the op loop's stack depth (main's stack stops shrinking)
}

var defaultWarmup = warmupOptions{GCs: 2, Sleepers: 6, Threads: 8, Release: true, QuietMs: 30, Fill: true, ShrinkGCs: 8}

// prepare allocates everything the op loop touches.
func prepare(prog *program) {
	sets = make([]objSet, len(prog.setNames))
	for i := range sets {
		sets[i].ptrs = make([]unsafe.Pointer, prog.setCap[i])
	}
	stats = make([]runtime.MemStats, len(prog.labels))
	stackReady = make(chan struct{}, prog.maxParked+1)
	stackRelease = make(chan struct{}, prog.maxParked+1)
	stackDone = make(chan struct{}, prog.maxParked+1)
	fillPtrs = make([]unsafe.Pointer, 1<<18) // a large object: no size class
	fillN = 0
}

// warmup brings the runtime into a state where the scenario's ops are the
// only thing that changes the statistics, and where that state is the same
// in every run.
func warmup(prog *program, opt warmupOptions) {
	// Timers: the P keeps its timers in a slice that grows by append. The
	// background scavenger sets a timer when it paces itself; if that
	// append happened during the scenario it would allocate (8 B) and
	// leave the old backing array as garbage. So grow the slice now:
	// several goroutines sleep at the same time.
	if opt.Sleepers > 0 {
		done := make(chan struct{}, opt.Sleepers)
		for i := 0; i < opt.Sleepers; i++ {
			go func() {
				time.Sleep(time.Millisecond)
				done <- struct{}{}
			}()
		}
		time.Sleep(2 * time.Millisecond)
		for i := 0; i < opt.Sleepers; i++ {
			<-done
		}
	}
	// Threads: every new M (OS thread) gets a heap-allocated m struct, a
	// 16 KiB g0 stack and a 32 KiB signal stack (StackInuse). How many Ms
	// the runtime has started by now depends on timing (syscalls during
	// start-up, sysmon), which would make the page layout (and so the
	// HeapReleased deltas) differ between runs. Park goroutines locked to
	// their own threads so the runtime reaches a fixed number of Ms here,
	// well above what it needs later; Ms are never freed, only idled.
	if opt.Threads > 0 {
		ready := make(chan struct{}, opt.Threads)
		release := make(chan struct{})
		done := make(chan struct{}, opt.Threads)
		for i := 0; i < opt.Threads; i++ {
			go func() {
				runtime.LockOSThread()
				ready <- struct{}{}
				<-release
				runtime.UnlockOSThread()
				done <- struct{}{}
			}()
		}
		for i := 0; i < opt.Threads; i++ {
			<-ready
		}
		close(release)
		for i := 0; i < opt.Threads; i++ {
			<-done
		}
	}
	// The first runtime.GC() starts the background mark worker goroutine
	// (a heap-allocated g plus its stack); sync.Pool contents survive one
	// GC in the victim cache. Two GCs leave a heap with no garbage.
	for i := 0; i < opt.GCs; i++ {
		runtime.GC()
		settle()
	}
	baseG = runtime.NumGoroutine()
	if prog.maxParked > 0 {
		// Create, park and retire as many goroutines as the scenario will
		// park at once, so the stack ops reuse dead Gs (no new(g), no
		// allgs growth) and cached sudogs (no new(sudog)).
		stackTarget = 0
		for i := 0; i < prog.maxParked; i++ {
			go stackWorker()
		}
		for i := 0; i < prog.maxParked; i++ {
			<-stackReady
		}
		stackParked = prog.maxParked
		runStackRelease()
	}
	// A last GC plus a scavenge of everything free: the scenario starts
	// with no garbage and with all idle memory released to the OS
	// (HeapIdle == HeapReleased, as in a fresh heap), so the background
	// scavenger has nothing to do.
	//
	// The GC inside FreeOSMemory allocates a 32 KiB span of work buffers,
	// which the background sweeper frees either before the scavenge (then
	// it is released too) or after it (then it stays as 32 KiB of idle,
	// unreleased memory): a race inside runtime.GC(). Repeat until the
	// first outcome is seen (nothing changes while settling), so that runs
	// start from the same state. warmup.idleUnreleasedAtStart in the
	// output reports HeapIdle-HeapReleased at the end.
	// Fill the partially used spans first, so that the GCs below (which
	// free nothing: everything is reachable or already collected) also
	// set up the GC metadata of the spans the filling created.
	filled := &scratch[1]
	if opt.Fill {
		fillObjects += fillPartialSpans(nil)
		runtime.ReadMemStats(filled)
	}
	// Stack shrinking: a GC halves the stack of a goroutine that uses less
	// than a quarter of it (the main goroutine included, while it waits in
	// runtime.GC). Main's stack grew while decoding the scenario; if it
	// were still shrinking, the scenario's gc ops would change StackInuse.
	// These GCs run at the same shallow depth as the op loop (all MemStats
	// buffers are globals, not locals), until main's stack is as small as
	// that depth allows.
	for i := 0; i < opt.ShrinkGCs; i++ {
		shallowGC()
	}
	if !opt.Release {
		runtime.GC()
		settle()
		refill(opt, filled)
		return
	}
	// The end of sweeping also marks the background scavenger "ready";
	// sysmon wakes it some milliseconds later, it finds nothing to release
	// and parks until the next GC. The quiet period lets that happen now:
	// otherwise it would wake in the middle of the scenario and, if some
	// op has freed pages by then (stacks, for instance), release some of
	// them at an arbitrary moment.
	a, b := &scratch[2], &scratch[3]
	for releaseAttempts < 100 {
		releaseAttempts++
		debug.FreeOSMemory()
		runtime.ReadMemStats(a)
		settle()
		for i := 0; i < opt.QuietMs; i++ {
			time.Sleep(time.Millisecond)
			runtime.Gosched()
		}
		runtime.ReadMemStats(b)
		// Also require an even number of GCs so far: mcentral keeps its
		// spans in two pairs of span sets whose roles swap at every GC
		// (sweepgen parity), and whether the scenario's spans go to a set
		// that already has a block decides when new spanSetBlocks (4 KiB
		// of GCSys, persistentalloc'd from OtherSys) are needed.
		if a.HeapIdle-a.HeapReleased == b.HeapIdle-b.HeapReleased && a.HeapSys == b.HeapSys && a.StackInuse == b.StackInuse && a.HeapInuse == b.HeapInuse && b.NumGC%2 == 0 {
			startClean = true
			break
		}
	}
	idleUnreleased = int64(b.HeapIdle - b.HeapReleased)
	refill(opt, filled)
}

//go:noinline
func shallowGC() {
	runtime.GC()
	settle()
}

// refill fills again the size classes in which something was allocated or
// freed since the first filling (by the runtime itself during the GCs).
// Classes 61-67 are not in BySize; nothing in the runtime uses them.
func refill(opt warmupOptions, filled *runtime.MemStats) {
	if !opt.Fill {
		return
	}
	now := &scratch[4]
	runtime.ReadMemStats(now)
	var redo [68]bool
	any := false
	for c := 1; c < len(now.BySize); c++ {
		if now.BySize[c].Mallocs != filled.BySize[c].Mallocs || now.BySize[c].Frees != filled.BySize[c].Frees {
			redo[c] = true
			any = true
			refilledClasses++
		}
	}
	if any {
		fillObjects += fillPartialSpans(&redo)
	}
}

// requiredEnv are the environment settings every run uses. They must be in
// effect from process start (GODEBUG is read once at start-up), so if they
// are not, the runner re-executes itself with them.
func requiredEnv() (env []string, changed bool) {
	env = os.Environ()
	set := func(k, v string) {
		for i, e := range env {
			if strings.HasPrefix(e, k+"=") {
				if e != k+"="+v {
					env[i] = k + "=" + v
					changed = true
				}
				return
			}
		}
		env = append(env, k+"="+v)
		changed = true
	}
	set("GOMAXPROCS", "1")
	set("GOGC", "off")
	godebug := os.Getenv("GODEBUG")
	if !strings.Contains(","+godebug+",", ",memprofilerate=0,") {
		if godebug != "" {
			godebug += ","
		}
		set("GODEBUG", godebug+"memprofilerate=0")
	}
	return env, changed
}

func main() {
	warm := defaultWarmup
	flag.IntVar(&warm.GCs, "warmup-gcs", warm.GCs, "runtime.GC() calls in the warm-up")
	noFill := flag.Bool("no-fill", false, "do not fill partially used spans at the end of the warm-up (see fillPartialSpans)")
	noRelease := flag.Bool("no-warmup-release", false, "do not end the warm-up with debug.FreeOSMemory()")
	flag.IntVar(&warm.Sleepers, "warmup-sleepers", warm.Sleepers, "goroutines sleeping at once during the warm-up (grows the P's timer slice)")
	flag.IntVar(&warm.Threads, "warmup-threads", warm.Threads, "goroutines locked to their own OS threads at once during the warm-up (fixes the number of Ms)")
	flag.IntVar(&warm.QuietMs, "warmup-quiet-ms", warm.QuietMs, "1 ms sleeps at the end of the warm-up (lets sysmon wake the background scavenger, which then parks)")
	flag.IntVar(&warm.ShrinkGCs, "warmup-shrink-gcs", warm.ShrinkGCs, "GCs at the op loop's stack depth in the warm-up (main's stack stops shrinking)")
	flag.IntVar(&settleYields, "settle", settleYields, "runtime.Gosched() calls after each runtime.GC / FreeOSMemory")
	noReexec := flag.Bool("no-reexec", false, "do not re-execute with GOMAXPROCS=1 GOGC=off GODEBUG=memprofilerate=0 when they are missing")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [flags] SCENARIO.json\n(runs with GOMAXPROCS=1 GOGC=off GODEBUG=memprofilerate=0; see goref/README.md)\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	warm.Release = !*noRelease
	warm.Fill = !*noFill
	if env, changed := requiredEnv(); changed && !*noReexec {
		exe, err := os.Executable()
		if err != nil {
			fatal(err)
		}
		fatal(syscall.Exec(exe, os.Args, env))
	}

	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	runtime.MemProfileRate = 0

	data, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fatal(err)
	}
	var sc scenarioFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		fatal(fmt.Errorf("%s: %v", flag.Arg(0), err))
	}
	prog, err := compile(&sc)
	if err != nil {
		fatal(fmt.Errorf("%s: %v", flag.Arg(0), err))
	}

	prepare(prog)
	warmup(prog, warm)
	execute(prog)
	runtime.KeepAlive(sets)
	runtime.KeepAlive(fillPtrs)

	// --- Output (allocation is fine from here on). ---
	out := output{
		Name: prog.name,
		Settings: settingsOut{
			GoVersion:      runtime.Version(),
			GOOS:           runtime.GOOS,
			GOARCH:         runtime.GOARCH,
			GOMAXPROCS:     runtime.GOMAXPROCS(0),
			GCPercent:      debug.SetGCPercent(-1),
			MemProfileRate: runtime.MemProfileRate,
			PageSize:       os.Getpagesize(),
			GODEBUG:        os.Getenv("GODEBUG"),
			GOGC:           os.Getenv("GOGC"),
			GOMAXPROCSEnv:  os.Getenv("GOMAXPROCS"),
			WarmupGCs:      warm.GCs,
			WarmupRelease:  warm.Release,
			WarmupSleepers: warm.Sleepers,
			SettleYields:   settleYields,
			WarmupThreads:  warm.Threads,
			WarmupQuietMs:  warm.QuietMs,
			WarmupFill:     warm.Fill,
			WarmupShrink:   warm.ShrinkGCs,
			StackWarmup:    prog.maxParked,
		},
		Warmup: warmupOut{FreeOSMemoryCalls: releaseAttempts, Settled: startClean, IdleUnreleased: idleUnreleased, FillObjects: fillObjects, RefilledClasses: refilledClasses},
		Deltas: []deltaOut{},
	}
	for i, l := range prog.labels {
		out.Checkpoints = append(out.Checkpoints, checkpointOut{Label: l, MemStats: memstatsMap(&stats[i])})
	}
	out.Deltas = computeDeltas(prog.labels, stats)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		fatal(err)
	}
}

func computeDeltas(labels []string, stats []runtime.MemStats) []deltaOut {
	deltas := []deltaOut{}
	for i := 1; i < len(labels); i++ {
		a, b := &stats[i-1], &stats[i]
		d := deltaOut{From: labels[i-1], To: labels[i], BySize: []bySizeDelta{}}
		for _, f := range DeltaFields {
			d.Fields.add(f, fieldInt(b, f)-fieldInt(a, f))
		}
		for c := range b.BySize {
			dm := int64(b.BySize[c].Mallocs) - int64(a.BySize[c].Mallocs)
			df := int64(b.BySize[c].Frees) - int64(a.BySize[c].Frees)
			if dm != 0 || df != 0 {
				d.BySize = append(d.BySize, bySizeDelta{Class: c, Size: int64(b.BySize[c].Size), Mallocs: dm, Frees: df})
			}
		}
		deltas = append(deltas, d)
	}
	return deltas
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "replay:", strings.TrimSpace(err.Error()))
	os.Exit(1)
}
