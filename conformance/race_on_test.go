//go:build race

package conformance

// raceEnabled: the test runs under the race detector, so the server is
// built with it too and the client's requests are checked for races.
const raceEnabled = true
