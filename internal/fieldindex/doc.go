// Package fieldindex implements payload field indexes: one [Index] per
// (segment, payload key), of one of Qdrant's payload schema types
// (keyword, integer, float, bool, datetime, uuid, geo, text). An index
// implements [filter.FieldIndex]: the query planner asks it to estimate,
// materialise or test one field condition, and it answers only what it can
// answer exactly.
//
// # Life cycle
//
// An index is mutable or frozen. The appendable segment's indexes are
// created with [New] and follow every write through [Index.Add], while
// readers query them concurrently; [Index.Freeze] ends that. A sealed
// segment's indexes are built frozen by [Build] or [BuildMany] from the
// segment's payloads, written with [WriteFile] and read back with
// [ReadFile]. Mutable and frozen indexes hold the same data in different
// shapes: a mutable one keeps structures that grow at the end (a term map
// with per-term posting lists, a sorted array with an unsorted tail that is
// merged in from time to time), a frozen one keeps dense sorted arrays and
// forward columns (for each offset, the positions of its values) so that
// per-offset checks take no lock and allocate nothing.
//
// # Invariants
//
//   - I1. An answer equals the scan evaluator's (filter.Matcher.Match) on
//     the same payloads: Bitmap(c) holds exactly the matching offsets among
//     those added, Checker(c)(off) reports exactly whether off matches, and
//     Estimate(c) brackets the count (Min <= count <= Max; Min == Max when
//     the estimate is exact). Where the index cannot be exact it refuses
//     (ok false) and the planner reads the payload instead.
//   - I2. An index refuses a predicate of another type than its own (range
//     on a keyword index, match of a string on an integer index, ...), and a
//     predicate that values it did not store could satisfy: an integer
//     index that saw a number that is not an int64 refuses range; a uuid
//     index that saw a string that is not a canonical UUID refuses a query
//     string that is not one either. is_empty, is_null and values_count are
//     always refused.
//   - I3. Offsets are added in strictly increasing order; [Index.Len] is the
//     highest offset added plus one (or the n given to Build).
//   - I4. A frozen index never changes: every method may be called from any
//     number of goroutines without locking, and a returned checker stays
//     valid forever. A mutable index serialises Add against queries with a
//     sync.RWMutex; its checkers test a private bitmap materialised when the
//     checker was made, so they do not see later Adds.
//   - I5. Every bitmap returned belongs to the caller, who may modify it.
//
// # Semantics (those of package filter, see F1-F8 there)
//
// A condition on a key holding an array matches if an element matches; a
// missing key or null matches nothing. Match.Value compares strings with
// strings, integers with JSON numbers of that integral value (3.0 equals 3)
// and bools with bools; Except holds when the key has a value that is not
// null and not in the list (a value of another type counts as not in it).
// Range compares float64 values; DatetimeRange compares microseconds, with
// bounds rounded toward the inside of the range. Text holds when every
// query token is among the tokens of the key's strings taken together,
// TextAny when one is, Phrase when the query's words occur consecutively in
// one string; a query without tokens matches nothing.
package fieldindex
