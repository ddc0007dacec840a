// Go 1.24: generic type aliases; range over integers (1.22) and functions (1.23),
// strings.Lines (1.24) yields lines as an iterator.
package main

import (
	"fmt"
	"runtime"
	"strings"
)

type Set[T comparable] = map[T]struct{}

func main() {
	seen := Set[string]{}
	for line := range strings.Lines("go\nrust\ngo\n") {
		seen[strings.TrimSpace(line)] = struct{}{}
	}
	fmt.Println("distinct:", len(seen))
	for i := range 3 {
		fmt.Print(i, " ")
	}
	fmt.Println()
	fmt.Println("version:", strings.HasPrefix(runtime.Version(), "go1.24"))
}
