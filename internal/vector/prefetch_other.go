//go:build noasm || !amd64

package vector

// PrefetchRows hints the CPU to start loading, for every id in ids, the
// first lines cache lines of the row data[id*dim:(id+1)*dim]. Without
// assembly there is no prefetch instruction to issue: it does nothing.
func PrefetchRows(data []float32, dim int, ids []uint32, lines int) {}

// PrefetchUint32Rows is PrefetchRows for a []uint32 of rows of stride
// elements. Without assembly it does nothing.
func PrefetchUint32Rows(data []uint32, stride int, ids []uint32, lines int) {}
