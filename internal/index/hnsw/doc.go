// Package hnsw is a hierarchical navigable small world graph (Malkov and
// Yashunin, "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs", 2016/2018) over the dense
// uint32 offsets of a segment.
//
// The graph does not own the vectors: [Build] and [Decode] are given the
// segment's vector array (vector i is data[i*dim:(i+1)*dim], in memory or
// mmap'd) and the graph stores only adjacency. Scores are the internal
// "higher is better" scores of package flat: the dot product as is, the L2
// and L1 distances negated. Cosine collections store normalised vectors and
// use flat.MetricDot.
//
// # Layout
//
// Everything the search touches is a flat array indexed by offset:
//
//	levels   []uint8   n: a node's top layer, 0xFF if the offset is not indexed
//	layer0   []uint32  n*(2M+1): per node a count then up to 2M neighbours
//	upStart  []uint32  n: first block in upper (nodes with level > 0 only)
//	upper    []uint32  blocks of M+1 (count, up to M neighbours); a node of
//	                   level L owns blocks upStart..upStart+L-1, for layers 1..L
//
// There are no maps, pointers or slices of slices, so a decoded graph can be
// used in place from an mmap'd file (see format.go).
//
// # Invariants
//
// A graph returned by Build or Decode satisfies, and Decode checks:
//
//	G1  every neighbour id is < n and names an indexed node;
//	G2  a neighbour on layer l has level >= l, so its layer-l list exists;
//	G3  counts are at most 2M on layer 0 and M above;
//	G4  the entry point is indexed and has the top level (if any node is).
//
// Search relies on G1-G4 for memory safety and termination. Build also
// ensures, and Decode does not check, that
//
//	G5  every indexed node is reachable on layer 0 from the entry point
//	    (the insertion algorithm alone can strand a few nodes; Build links
//	    them back, see connectUnreachable), so a search with ef >= Len()
//	    is exact.
//
// # Filtered search
//
// [Graph.Search] takes a filter (accept) and traverses the whole graph,
// scoring refused nodes too; its cost grows as the filter gets more
// restrictive, and when the accepted points lie far from the query on the
// graph. [Graph.SearchFiltered] is given the filter's selectivity and
// chooses, per query, between that plain traversal and a two-hop
// expansion that searches only the accepted nodes (ACORN-1), with the
// measurements behind the choice.
//
// # Concurrency
//
// A Graph is immutable once built or decoded, and any number of goroutines
// may search it at once, each with its own [Searcher]. A Searcher holds all
// per-query scratch (a visited list with a generation counter and two typed
// binary heaps), so a search allocates nothing once the Searcher has grown
// to the graph's size.
//
// # Caveats
//
// A decoded graph aliases the byte slice it was decoded from (on
// little-endian machines) and the vectors it is given: both must outlive it.
// Vectors must be finite; NaN distances keep the search memory-safe but make
// its results meaningless.
package hnsw
