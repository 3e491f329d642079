package hnsw

import (
	"os"
	"strconv"
)

func init() {
	if v, err := strconv.Atoi(os.Getenv("PFVEC")); err == nil {
		pfVec = v
	}
	if v, err := strconv.Atoi(os.Getenv("PFROW")); err == nil {
		pfRow = v
	}
}
