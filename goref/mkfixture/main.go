// Command mkfixture merges several runs of `replay` on the same scenario
// into one fixture file: the result of the modal run (the run whose deltas
// occur most often among the runs), plus a "variance" object that lists
// every delta field (and every BySize delta, and every absolute checkpoint
// field except timing fields) whose value was not the same in all runs.
//
// Usage: mkfixture -scenario scenarios/NAME.json run1.json run2.json ...
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ---------------------------------------------------------------------------
// Input: the output of replay. Objects are kept as ordered key lists so the
// fixture preserves the runner's field order.

type ordered struct {
	keys []string
	vals map[string]json.RawMessage
}

func (o *ordered) UnmarshalJSON(b []byte) error {
	o.vals = map[string]json.RawMessage{}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("expected object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		o.keys = append(o.keys, k)
		o.vals[k] = v
	}
	_, err = dec.Token()
	return err
}

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// num returns the field as a JSON number (exact digits) if it is one.
func (o ordered) num(k string) (json.Number, bool) {
	raw, ok := o.vals[k]
	if !ok {
		return "0", false
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return "0", false
	}
	return n, true
}

type bySizeDelta struct {
	Class   int   `json:"class"`
	Size    int64 `json:"size"`
	Mallocs int64 `json:"Mallocs"`
	Frees   int64 `json:"Frees"`
}

type checkpoint struct {
	Label    string  `json:"label"`
	MemStats ordered `json:"memstats"`
}

type delta struct {
	From   string        `json:"from"`
	To     string        `json:"to"`
	Fields ordered       `json:"fields"`
	BySize []bySizeDelta `json:"bySize"`
}

type run struct {
	Name        string          `json:"name"`
	Settings    json.RawMessage `json:"settings"`
	Warmup      json.RawMessage `json:"warmup"`
	Checkpoints []checkpoint    `json:"checkpoints"`
	Deltas      []delta         `json:"deltas"`
}

// ---------------------------------------------------------------------------
// Output

type varEntry struct {
	From   string        `json:"from,omitempty"`
	To     string        `json:"to,omitempty"`
	Label  string        `json:"label,omitempty"`
	Field  string        `json:"field"`
	Min    json.Number   `json:"min"`
	Max    json.Number   `json:"max"`
	Values []json.Number `json:"values"`
}

type variance struct {
	None        bool       `json:"none"`
	Deltas      []varEntry `json:"deltas"`
	Checkpoints []varEntry `json:"checkpoints"`
}

type fixture struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Scenario    string          `json:"scenario"`
	GeneratedBy string          `json:"generatedBy"`
	Runs        int             `json:"runs"`
	ModalRuns   int             `json:"modalRuns"`
	Settings    json.RawMessage `json:"settings"`
	Warmup      json.RawMessage `json:"warmup"`
	Variance    variance        `json:"variance"`
	Known       []knownEntry    `json:"knownVariance"`
	Deltas      []delta         `json:"deltas"`
	Checkpoints []checkpoint    `json:"checkpoints"`
}

// knownEntry is variance that the runner's design cannot remove (see
// goref/README.md, "Fields that vary by themselves"): it is listed for
// every delta whose interval could show it, whether or not these runs
// happened to show it.
type knownEntry struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Field  string `json:"field"`
	Step   int64  `json:"step"`
	Reason string `json:"reason"`
}

const (
	reasonWorkBufs = "releaseOS: the GC inside debug.FreeOSMemory frees its work-buffer spans (32 KiB each) either before or after the scavenge, so HeapReleased can differ by a multiple of 32 KiB"
	reasonMSpans   = "a GC occasionally uses a different number of mspan structs (seen: 2 x 144 B in 1 of 10 runs at a gc sweeping 700 spans); MSpanInuse counts the P's mspan cache"
	reasonScav     = "after a GC the background scavenger may wake (via sysmon) and release free pages at an arbitrary moment if retained memory exceeds its goal; seen rarely, in multiples of 64 KiB"
)

// knownVariance walks the scenario's ops: for each interval between two
// checkpoints, releaseOS inside it, or any gc/releaseOS at or before it,
// makes HeapReleased liable to vary; a gc/releaseOS inside it, MSpanInuse.
func knownVariance(ops []struct {
	Op    string `json:"op"`
	Label string `json:"label"`
}) []knownEntry {
	out := []knownEntry{}
	prev := ""
	sawGC, releaseHere, gcHere := false, false, false
	for _, o := range ops {
		switch o.Op {
		case "gc":
			sawGC, gcHere = true, true
		case "releaseOS":
			sawGC, releaseHere, gcHere = true, true, true
		case "checkpoint":
			if prev != "" {
				if releaseHere {
					out = append(out, knownEntry{prev, o.Label, "HeapReleased", 32768, reasonWorkBufs})
				}
				if sawGC {
					out = append(out, knownEntry{prev, o.Label, "HeapReleased", 65536, reasonScav})
				}
				if gcHere {
					out = append(out, knownEntry{prev, o.Label, "MSpanInuse", 144, reasonMSpans})
				}
			}
			prev, releaseHere, gcHere = o.Label, false, false
		}
	}
	return out
}

// Absolute checkpoint fields that are wall-clock or CPU-time measurements:
// they always differ between runs and are not compared.
var timingFields = map[string]bool{
	"LastGC": true, "PauseTotalNs": true, "GCCPUFraction": true,
}

func deltaSignature(r *run) string {
	b, _ := json.Marshal(r.Deltas)
	return string(b)
}

func main() {
	scenarioPath := flag.String("scenario", "", "the scenario file the runs were made from")
	expectZero := flag.Bool("expect-zero", false, "fail unless every delta (fields and BySize) is 0 in every run (the self-check for the empty scenario)")
	flag.Parse()
	if *scenarioPath == "" || flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: mkfixture -scenario SCENARIO.json RUN.json...")
		os.Exit(2)
	}
	var sc struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Ops         []struct {
			Op    string `json:"op"`
			Label string `json:"label"`
		} `json:"ops"`
	}
	must(readJSON(*scenarioPath, &sc))
	base := strings.TrimSuffix(filepath.Base(*scenarioPath), ".json")
	if sc.Name != base {
		fail("scenario %s: name %q differs from the file name %q", *scenarioPath, sc.Name, base)
	}

	runs := make([]*run, flag.NArg())
	for i, p := range flag.Args() {
		runs[i] = &run{}
		must(readJSON(p, runs[i]))
		r := runs[i]
		if r.Name != sc.Name {
			fail("%s: run of %q, expected %q", p, r.Name, sc.Name)
		}
		if len(r.Deltas) != len(runs[0].Deltas) || len(r.Checkpoints) != len(runs[0].Checkpoints) {
			fail("%s: different shape from %s", p, flag.Arg(0))
		}
	}

	if *expectZero {
		for ri, r := range runs {
			for _, d := range r.Deltas {
				for _, k := range d.Fields.keys {
					if n, _ := d.Fields.num(k); n != "0" {
						fail("self-check: run %d: %s->%s: %s changed by %s (the runner allocated or the runtime did something between checkpoints)", ri+1, d.From, d.To, k, n)
					}
				}
				if len(d.BySize) != 0 {
					fail("self-check: run %d: %s->%s: BySize changed: %+v", ri+1, d.From, d.To, d.BySize)
				}
			}
		}
	}

	// Modal run: most frequent delta signature; ties go to the earliest.
	count := map[string]int{}
	for _, r := range runs {
		count[deltaSignature(r)]++
	}
	modal, best := 0, 0
	for i, r := range runs {
		if c := count[deltaSignature(r)]; c > best {
			modal, best = i, c
		}
	}

	v := variance{Deltas: []varEntry{}, Checkpoints: []varEntry{}}
	for di, d := range runs[modal].Deltas {
		for _, k := range d.Fields.keys {
			vals := make([]json.Number, len(runs))
			for ri, r := range runs {
				vals[ri], _ = r.Deltas[di].Fields.num(k)
			}
			if e, ok := spread(vals); ok {
				e.From, e.To, e.Field = d.From, d.To, k
				v.Deltas = append(v.Deltas, e)
			}
		}
		// BySize: union of classes seen in any run.
		classes := map[int]bool{}
		for _, r := range runs {
			for _, b := range r.Deltas[di].BySize {
				classes[b.Class] = true
			}
		}
		var cl []int
		for c := range classes {
			cl = append(cl, c)
		}
		sort.Ints(cl)
		for _, c := range cl {
			for _, which := range []string{"Mallocs", "Frees"} {
				vals := make([]json.Number, len(runs))
				for ri := range vals {
					vals[ri] = "0"
				}
				for ri, r := range runs {
					for _, b := range r.Deltas[di].BySize {
						if b.Class == c {
							if which == "Mallocs" {
								vals[ri] = json.Number(fmt.Sprint(b.Mallocs))
							} else {
								vals[ri] = json.Number(fmt.Sprint(b.Frees))
							}
						}
					}
				}
				if e, ok := spread(vals); ok {
					e.From, e.To, e.Field = d.From, d.To, fmt.Sprintf("bySize[%d].%s", c, which)
					v.Deltas = append(v.Deltas, e)
				}
			}
		}
	}
	for ci, c := range runs[modal].Checkpoints {
		for _, k := range c.MemStats.keys {
			if timingFields[k] {
				continue
			}
			vals := make([]json.Number, len(runs))
			numeric := true
			for ri, r := range runs {
				var ok bool
				vals[ri], ok = r.Checkpoints[ci].MemStats.num(k)
				numeric = numeric && ok
			}
			if !numeric {
				continue
			}
			if e, ok := spread(vals); ok {
				e.Label, e.Field = c.Label, k
				v.Checkpoints = append(v.Checkpoints, e)
			}
		}
	}
	// "none": no delta varied. (Absolute checkpoint values nearly always
	// differ by a few start-up objects; they are listed but do not count.)
	v.None = len(v.Deltas) == 0

	fx := fixture{
		Name:        sc.Name,
		Description: sc.Description,
		Scenario:    "scenarios/" + base + ".json",
		GeneratedBy: "goref/gen-fixtures.sh (goref/replay on the real Go runtime; see goref/README.md)",
		Runs:        len(runs),
		ModalRuns:   best,
		Settings:    runs[modal].Settings,
		Warmup:      runs[modal].Warmup,
		Variance:    v,
		Known:       knownVariance(sc.Ops),
		Deltas:      runs[modal].Deltas,
		Checkpoints: runs[modal].Checkpoints,
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	must(enc.Encode(&fx))

	// One summary line on stderr: which delta fields varied.
	seen := map[string]bool{}
	var varied []string
	for _, e := range v.Deltas {
		if !seen[e.Field] {
			seen[e.Field] = true
			varied = append(varied, e.Field)
		}
	}
	desc := "none"
	if len(varied) > 0 {
		desc = strings.Join(varied, ",")
	}
	fmt.Fprintf(os.Stderr, "%-30s modal run %d/%d, delta fields that varied: %s\n", sc.Name, best, len(runs), desc)
}

// spread reports min and max if the values are not all equal. Values are
// compared as exact integers when they are integers (MemStats counters are
// uint64), else as floats.
func spread(vals []json.Number) (varEntry, bool) {
	less := func(a, b json.Number) bool {
		x, ex := new(big.Float).SetPrec(200).SetString(string(a))
		y, ey := new(big.Float).SetPrec(200).SetString(string(b))
		if !ex || !ey {
			return string(a) < string(b)
		}
		return x.Cmp(y) < 0
	}
	mn, mx := vals[0], vals[0]
	for _, x := range vals {
		if less(x, mn) {
			mn = x
		}
		if less(mx, x) {
			mx = x
		}
	}
	if !less(mn, mx) {
		return varEntry{}, false
	}
	return varEntry{Min: mn, Max: mx, Values: vals}, true
}

func readJSON(path string, v interface{}) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

func must(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "mkfixture: "+format+"\n", args...)
	os.Exit(1)
}
