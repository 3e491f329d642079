package rest

import "net/http"

// snapshotRoutes registers the collection snapshot endpoints.
func (s *server) snapshotRoutes(mux *http.ServeMux) {}
