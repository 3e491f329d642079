// Package filter implements Qdrant's payload filters: the condition grammar
// (ast.go), its REST JSON form (ParseJSON, MarshalJSON), validation and
// compilation (Compile), evaluation against a point's id, vectors and JSON
// payload (Matcher.Match), and the per-segment query planner (Matcher.Plan)
// that answers conditions from payload field indexes where it can.
//
// # Semantics
//
// The semantics are Qdrant's (see the Condition doc in ast.go). The points
// where Qdrant's documentation leaves room, and what this package does:
//
//   - F1. A condition on a key holding an array matches if an element
//     matches; "a[].b" projects over the elements of a. A missing key
//     matches no condition except IsEmpty and ValuesCount bounds that
//     admit zero.
//   - F2. A field condition with several predicates holds when every
//     predicate holds, each on its own (possibly different) value of the
//     key: the planner splits it into one leaf per predicate.
//   - F3. Match.Value / Any: strings equal strings, integers equal JSON
//     numbers of that integral value (3.0 equals 3), bools equal bools.
//     Except holds when the key has a value that is not null and not in the
//     list; a value of another type than the list's (a bool, an object, a
//     number against a list of strings) counts as not in the list, as in
//     Qdrant.
//   - F4. Text, TextAny and Phrase on a key with a text index in
//     Context.Fields use that index's tokenizer (TokenizerFor) on both the
//     query and the payload: Text holds when every query token is among the
//     tokens of the key's strings (all its strings together, as an inverted
//     index sees them), TextAny when at least one is, Phrase when the
//     query's words occur consecutively in one of the strings. Without a
//     text index, Text holds when one string contains every
//     whitespace-separated term of the query as a substring, TextAny when
//     one contains a term, Phrase when one contains the whole phrase. A
//     query with no tokens or terms matches nothing.
//   - F5. ValuesCount counts, over the values the key selects, an array as
//     its length, null as zero and any other value as one; a missing key
//     counts zero.
//   - F6. IsEmpty holds when the key is missing or every value it selects
//     is null or []. IsNull holds when a value it selects is null itself:
//     [null] is an array, so it is not null (Qdrant's is_null condition;
//     use "key[]" to test the elements).
//   - F7. Nested{Key, Filter} holds when an element of the array of objects
//     at Key (with or without a trailing "[]") satisfies the whole Filter,
//     every condition of it on that same element, with keys relative to the
//     element. HasID and HasVector are rejected inside a nested filter.
//   - F8. Datetimes compare at microsecond precision, in UTC; a payload
//     string in one of the accepted forms (ParseDatetime) is a datetime.
//
// # Planning
//
// Matcher.Plan prepares a filter for one segment (a Source): it estimates
// the matching offsets from the segment's field indexes, computes them
// exactly with roaring bitmaps when every leaf is indexed and few enough
// match, or else bounds them by the smallest indexed condition every match
// must satisfy, and returns a Check function that tests index checkers
// first and decodes the payload at most once, only when a leaf needs it.
// Plan.Check always agrees with Matcher.Match.
//
// The conditions handed to a FieldIndex are field conditions with exactly
// one predicate, normalised: Match.Value is a string, an int64 or a bool,
// and Match.Any / Match.Except hold only strings or only int64s. They are
// shared by every plan of the matcher and must not be modified.
//
// # Errors
//
// Every validation or decoding error matches base.ErrInvalidArgument and
// names the path of the bad part, rooted at "filter":
// "filter.must[2].range.gt: expected number, got string".
package filter
