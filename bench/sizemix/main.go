// Command sizemix measures the allocation-size distribution of a real Go program and
// writes it as JSON; bench/workloads.ts draws workload (c) "size mix" from it.
//
// The program: the Go 1.19 type checker (go/parser + go/types with the "source" importer)
// type-checking standard-library packages and, transitively, everything they import,
// from source. That is the front end of a compiler, a realistic allocation-heavy workload.
//
// How sizes are measured: runtime.MemProfileRate = 1 records every allocation, and the
// runtime keeps one profile bucket per (stack, size), so every MemProfileRecord has
// AllocBytes / AllocObjects == the size of its allocations. The size is what mallocgc
// recorded: the requested size for tiny objects (< 16 B, no pointers), the size-class
// size for other small objects, and the page-rounded size for large (> 32 KiB) objects.
// runtime.MemStats.BySize of the same run is written too, as a cross-check.
//
// Run (Go 1.19: apt-get install golang-1.19-go; PATH=/usr/lib/go-1.19/bin:$PATH):
//   cd bench/sizemix && go run main.go [packages...] > ../data/go-sizes.json
// It takes about a minute; without arguments it checks net/http, encoding/json, go/types, crypto/tls.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

func init() { runtime.MemProfileRate = 1 }

type sizeCount struct {
	Size    int64 `json:"size"`
	Objects int64 `json:"objects"`
}

type output struct {
	Source      string      `json:"source"`
	GoVersion   string      `json:"goVersion"`
	Packages    []string    `json:"packages"`
	Objects     int64       `json:"objects"`
	Bytes       int64       `json:"bytes"`
	Sizes       []sizeCount `json:"sizes"`
	BySizeCheck []sizeCount `json:"memStatsBySize"`
	Tiny        int64       `json:"memStatsTinyAndLarge"`
}

func check(fset *token.FileSet, imp types.Importer, path string) error {
	dir := filepath.Join(runtime.GOROOT(), "src", path)
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		return err
	}
	for name, p := range pkgs {
		if strings.HasSuffix(name, "_test") || name == "main" && len(pkgs) > 1 {
			continue
		}
		var files []*ast.File
		for fname, f := range p.Files {
			// only the files for this platform: the source importer decides by build tags;
			// here a rough filter on the file name is enough for a size census.
			if strings.Contains(fname, "_windows") || strings.Contains(fname, "_darwin") || strings.Contains(fname, "_plan9") {
				continue
			}
			files = append(files, f)
		}
		conf := types.Config{Importer: imp, Error: func(error) {}}
		conf.Check(path, fset, files, &types.Info{
			Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{},
			Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{},
		})
	}
	return nil
}

func main() {
	pkgs := os.Args[1:]
	if len(pkgs) == 0 {
		pkgs = []string{"net/http", "encoding/json", "go/types", "crypto/tls"}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "source", nil)
	for _, p := range pkgs {
		if err := check(fset, imp, p); err != nil {
			fmt.Fprintln(os.Stderr, "sizemix:", p, err)
			os.Exit(1)
		}
	}
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	n, _ := runtime.MemProfile(nil, true)
	recs := make([]runtime.MemProfileRecord, n+100)
	n, _ = runtime.MemProfile(recs, true)
	bySize := map[int64]int64{}
	var objs, bytes int64
	for _, r := range recs[:n] {
		if r.AllocObjects == 0 {
			continue
		}
		size := r.AllocBytes / r.AllocObjects
		bySize[size] += r.AllocObjects
		objs += r.AllocObjects
		bytes += r.AllocBytes
	}
	out := output{
		Source:    "go/types type-checking Go " + runtime.Version() + " std packages from source (runtime.MemProfileRate=1)",
		GoVersion: runtime.Version(),
		Packages:  pkgs,
		Objects:   objs,
		Bytes:     bytes,
	}
	for s, c := range bySize {
		out.Sizes = append(out.Sizes, sizeCount{s, c})
	}
	sort.Slice(out.Sizes, func(i, j int) bool { return out.Sizes[i].Size < out.Sizes[j].Size })
	var small uint64
	for _, b := range ms.BySize[1:] {
		out.BySizeCheck = append(out.BySizeCheck, sizeCount{int64(b.Size), int64(b.Mallocs)})
		small += b.Mallocs
	}
	out.Tiny = int64(ms.Mallocs - small)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	enc.Encode(out)
}
