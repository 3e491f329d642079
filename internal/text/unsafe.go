package text

import "unsafe"

// bufString returns a string sharing b's memory, without copying.
//
// This is the package's only use of unsafe. It is safe because the string
// is only handed to a callback as a token, and a token is documented to be
// valid only until the callback returns (see the package doc, "Caveats"):
// b is not written again until then.
func bufString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
