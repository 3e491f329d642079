// Package base holds the vocabulary shared by every layer of Strata: point
// identifiers, dense offsets, sequence numbers, distance functions and the
// error sentinels that the root package re-exports.
//
// It imports nothing but the standard library so that every other package
// may import it.
package base
