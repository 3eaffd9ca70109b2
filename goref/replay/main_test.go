package main

// These tests check the runner's central promise with testing.AllocsPerRun:
// executing a compiled scenario performs exactly the scenario's own heap
// allocations and nothing else (no bookkeeping, no closures, no fmt).
//
//	cd goref && GOMAXPROCS=1 GOGC=off GODEBUG=memprofilerate=0 go test ./replay

import (
	"bytes"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"testing"
)

func mustCompile(t *testing.T, src string) *program {
	t.Helper()
	var sc scenarioFile
	dec := json.NewDecoder(bytes.NewReader([]byte(src)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		t.Fatal(err)
	}
	p, err := compile(&sc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func setup(t *testing.T, p *program) {
	t.Helper()
	runtime.MemProfileRate = 0
	old := debug.SetGCPercent(-1)
	procs := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { debug.SetGCPercent(old); runtime.GOMAXPROCS(procs) })
	prepare(p)
	opt := defaultWarmup
	opt.Release = false
	warmup(p, opt)
}

func TestAllocsPerRun(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want float64 // MemStats.Mallocs per run (tiny allocations count one each)
	}{
		{"checkpoints only", `{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"checkpoint","label":"b"}]}`, 0},
		{"alloc+free noscan", `{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"alloc","size":64,"count":100,"keep":"s"},{"op":"free","set":"s"},{"op":"checkpoint","label":"b"}]}`, 100},
		{"alloc+free scan", `{"name":"x","ops":[{"op":"alloc","size":24,"count":100,"pointers":true,"keep":"s"},{"op":"free","set":"s","freeEvery":2},{"op":"free","set":"s"},{"op":"checkpoint","label":"a"}]}`, 100},
		{"garbage", `{"name":"x","ops":[{"op":"alloc","size":100,"count":50},{"op":"checkpoint","label":"a"}]}`, 50},
		{"tiny", `{"name":"x","ops":[{"op":"alloc","size":1,"count":160,"keep":"s"},{"op":"free","set":"s"},{"op":"checkpoint","label":"a"}]}`, 160},
		{"large", `{"name":"x","ops":[{"op":"alloc","size":100000,"count":3,"keep":"s"},{"op":"free","set":"s"},{"op":"checkpoint","label":"a"}]}`, 3},
		{"gc", `{"name":"x","ops":[{"op":"gc"},{"op":"checkpoint","label":"a"}]}`, 0},
		{"stacks", `{"name":"x","ops":[{"op":"stack","goroutines":8,"depth":16384},{"op":"checkpoint","label":"a"},{"op":"stackRelease"}]}`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustCompile(t, c.src)
			setup(t, p)
			got := testing.AllocsPerRun(20, func() { execute(p) })
			if got != c.want {
				t.Errorf("AllocsPerRun = %v, want %v", got, c.want)
			}
		})
	}
}

// The empty scenario: every delta between consecutive checkpoints is 0.
func TestEmptyScenarioDeltasAreZero(t *testing.T) {
	p := mustCompile(t, `{"name":"empty","ops":[{"op":"checkpoint","label":"a"},{"op":"checkpoint","label":"b"},{"op":"checkpoint","label":"c"}]}`)
	setup(t, p)
	execute(p)
	for _, d := range computeDeltas(p.labels, stats) {
		for i, k := range d.Fields.keys {
			if v := d.Fields.vals[i].(int64); v != 0 {
				t.Errorf("%s->%s: %s changed by %d", d.From, d.To, k, v)
			}
		}
		if len(d.BySize) != 0 {
			t.Errorf("%s->%s: BySize changed: %+v", d.From, d.To, d.BySize)
		}
	}
}

// Stack ops grow each goroutine's stack to exactly `depth` bytes: with 4
// goroutines of 64 KiB (large stacks, one span each) StackInuse grows by
// exactly 4 x 64 KiB.
func TestStackDepth(t *testing.T) {
	p := mustCompile(t, `{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"stack","goroutines":4,"depth":65536},{"op":"checkpoint","label":"b"},{"op":"stackRelease"},{"op":"checkpoint","label":"c"}]}`)
	setup(t, p)
	execute(p)
	d := computeDeltas(p.labels, stats)
	if got := int64(stats[1].StackInuse) - int64(stats[0].StackInuse); got != 4*65536 {
		t.Errorf("StackInuse grew by %d, want %d (%+v)", got, 4*65536, d[0].Fields)
	}
	if got := int64(stats[2].StackInuse) - int64(stats[1].StackInuse); got != -4*65536 {
		t.Errorf("StackInuse after release changed by %d, want %d", got, -4*65536)
	}
}

func TestCompileRejects(t *testing.T) {
	bad := []string{
		`{"name":"x","ops":[]}`,
		`{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"checkpoint","label":"a"}]}`,
		`{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"alloc","size":12,"pointers":true}]}`,
		`{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"alloc","size":0}]}`,
		`{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"free","set":"nope"}]}`,
		`{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"stack","goroutines":2,"depth":5000}]}`,
		`{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"stack","goroutines":61,"depth":4096}]}`,
		`{"name":"x","ops":[{"op":"checkpoint","label":"a"},{"op":"bogus"}]}`,
	}
	for _, src := range bad {
		var sc scenarioFile
		if err := json.Unmarshal([]byte(src), &sc); err != nil {
			continue
		}
		if _, err := compile(&sc); err == nil {
			t.Errorf("compile accepted %s", src)
		}
	}
}
