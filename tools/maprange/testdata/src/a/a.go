// Package a holds the analyzer's test cases: each loop the analyzer must
// report is marked; every other loop must not be reported.
package a

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

type Store interface{ Set(key string, value int) }

type Inventory map[string]int

type Keeper struct {
	byID  map[uint64]string
	store Store
	keys  []string
}

var pkgKeys []string

func load() map[string]int { return nil }

func use(string) {}

// Reported: every plain loop over a map, whatever the map expression.

func PlainMap(m map[string]int) int {
	total := 0
	for _, v := range m { // want `^range over map m in state-machine code: iteration order is random; collect the keys, sort them, and range over the sorted slice \(determinism rule, docs/development.md#lint\)$`
		total += v
	}
	return total
}

func NamedMap(inv Inventory) int {
	n := 0
	for range inv { // want "range over map inv in state-machine code"
		n++
	}
	return n
}

func StructField(k *Keeper) {
	for id, name := range k.byID { // want `range over map k\.byID in state-machine code`
		_, _ = id, name
	}
}

func FromCall() {
	for k := range load() { // want `range over map load\(\) in state-machine code`
		use(k)
	}
}

func WritesStore(k *Keeper, m map[string]int) {
	for key, v := range m { // want "range over map m in state-machine code"
		k.store.Set(key, v)
	}
}

func CollectWithoutSort(m map[string]int) []string {
	var keys []string
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
	}
	return keys
}

func SortsADifferentSlice(m map[string]int, other []string) []string {
	var keys []string
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
	}
	sort.Strings(other)
	return keys
}

func SortsBeforeCollecting(m map[string]int) []string {
	var keys []string
	sort.Strings(keys)
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
	}
	return keys
}

func CollectsAndCalls(m map[string]int) []string {
	var keys []string
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
		use(k)
	}
	sort.Strings(keys)
	return keys
}

func CollectsUnderIf(m map[string]int) []string {
	var keys []string
	for k := range m { // want "range over map m in state-machine code"
		if k != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func CollectsValueToo(m map[string]int) ([]string, []int) {
	var keys []string
	var values []int
	for k, v := range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
		values = append(values, v)
	}
	sort.Strings(keys)
	sort.Ints(values)
	return keys, values
}

func AppendsTwice(m map[string]int) []string {
	var keys []string
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, k, k)
	}
	sort.Strings(keys)
	return keys
}

func AppendsSomethingElse(m map[string]int) []string {
	var keys []string
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, strings.ToUpper(k))
	}
	sort.Strings(keys)
	return keys
}

func CollectsIntoField(k *Keeper, m map[string]int) {
	for key := range m { // want "range over map m in state-machine code"
		k.keys = append(k.keys, key)
	}
	sort.Strings(k.keys)
}

func CollectsIntoPackageVar(m map[string]int) {
	for k := range m { // want "range over map m in state-machine code"
		pkgKeys = append(pkgKeys, k)
	}
	sort.Strings(pkgKeys)
}

func CollectsIntoParameter(m map[string]int, keys []string) []string {
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func AssignsOuterKey(m map[string]int) []string {
	var keys []string
	var k string
	for k = range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Strings is not sort.Strings.
func Strings([]string) {}

func SortsWithLookalike(m map[string]int) []string {
	var keys []string
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
	}
	Strings(keys)
	return keys
}

func SortedInAClosureOnly(m map[string]int) func() []string {
	var keys []string
	return func() []string {
		for k := range m { // want "range over map m in state-machine code"
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
}

func TypeParam[M ~map[string]V, V any](m M) int {
	n := 0
	for range m { // want "range over map m in state-machine code"
		n++
	}
	return n
}

type mapUnion interface{ map[string]int | Inventory }

// sizedMap admits only maps, through the union it embeds.
type sizedMap interface {
	mapUnion
	Len() int
}

func TypeParamUnion[M sizedMap](m M) []string {
	var keys []string
	for k := range m { // want "range over map m in state-machine code"
		keys = append(keys, k)
		use(k)
	}
	return keys
}

func MapIterators(m map[string]int) {
	for k := range maps.Keys(m) { // want `range over map maps\.Keys\(m\) in state-machine code`
		use(k)
	}
	for v := range maps.Values(m) { // want `range over map maps\.Values\(m\) in state-machine code`
		_ = v
	}
	for k, v := range maps.All(m) { // want `range over map maps\.All\(m\) in state-machine code`
		_, _ = k, v
	}
}

// Allowed: collecting the keys into a local slice that is sorted afterwards.

func CollectSortStrings(k *Keeper, m map[string]int) {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		k.store.Set(key, m[key])
	}
}

func CollectSlicesSort(k *Keeper, inv Inventory) {
	keys := make([]string, 0, len(inv))
	for key, _ := range inv { // the blank value form is accepted too
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		k.store.Set(key, inv[key])
	}
}

func CollectSortSlice(k *Keeper) []uint64 {
	ids := make([]uint64, 0, len(k.byID))
	for id := range k.byID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func CollectSortSort(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(sort.StringSlice(keys))
	return keys
}

func CollectSlicesSortFunc(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}

func CollectInClosure(m map[string]int) func() []string {
	return func() []string {
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortStableFunc(keys, strings.Compare)
		return keys
	}
}

func CollectTypeParam[M ~map[K]V, K ~string, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func SortedIterator(m map[string]int) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		use(k)
	}
}

// Allowed: ranging over anything that is not a map.

func Others(s []string, arr [3]int, str string, ch chan int, seq func(func(string) bool)) {
	for _, v := range s {
		use(v)
	}
	for i := range arr {
		_ = i
	}
	for _, r := range str {
		_ = r
	}
	for v := range ch {
		_ = v
	}
	for i := range 10 {
		_ = i
	}
	for v := range seq {
		use(v)
	}
	for v := range slices.Values(s) {
		use(v)
	}
}
