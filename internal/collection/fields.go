package collection

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"path"
	"slices"
	"time"

	"github.com/strata-db/strata/internal/fieldindex"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vfs"
)

// Payload field indexes across the segment set.
//
// The collection's field schemas (Options.Fields, SetFields) say which
// payload keys are indexed. The appendable segment indexes every append
// (segment.IndexFields). The optimizer builds the indexes of each segment
// it writes before committing the manifest that names them, so a new
// sealed segment is never published without them. When a schema is added
// later, the field indexer (fieldLoop) builds it for the existing sealed
// segments in the background, one segment at a time, each committed to the
// manifest and attached when its file is durable; until then the planner
// reads payloads for that segment, with the same results. Manifest entries
// whose schema is no longer configured are ignored on open and dropped by
// the field indexer's next commit.

// Fields returns the configured field schemas by payload key (read only).
func (c *Collection) Fields() map[string]filter.FieldSchema {
	if p := c.fieldCfg.Load(); p != nil {
		return *p
	}
	return nil
}

// SetFields changes the field schemas. The caller has persisted them. The
// appendable segment is re-indexed at once (writes wait); sealed segments
// lose dropped indexes at once and gain new ones in the background.
func (c *Collection) SetFields(schemas map[string]filter.FieldSchema) error {
	schemas = maps.Clone(schemas)
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	c.fieldCfg.Store(&schemas)
	for _, s := range c.cur.segs {
		if !s.Sealed() {
			if err := s.IndexFields(schemas); err != nil {
				return err
			}
			continue
		}
		for key, x := range s.Fields() {
			if fs, ok := schemas[key]; !ok || !segment.SameSchema(fs, x.Schema()) {
				s.DetachField(key)
			}
		}
	}
	c.kickFields()
	return nil
}

func (c *Collection) kickFields() {
	select {
	case c.fieldKick <- struct{}{}:
	default:
	}
}

// fieldFile names the index file of key with schema fs in segment id.
func fieldFile(id uint64, key string, fs filter.FieldSchema) string {
	h := fnv.New64a()
	b, _ := json.Marshal(fs)
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write(b)
	return fmt.Sprintf("%08d.%016x.pidx", id, h.Sum64())
}

// buildFields builds the indexes schemas of a sealed segment from its view
// v and writes their files. It returns the manifest entries, the frozen
// indexes (not yet attached) and the files written.
func (c *Collection) buildFields(seg *segment.Segment, v *segment.View, schemas map[string]filter.FieldSchema) ([]ManifestField, []*fieldindex.Index, []string, error) {
	if len(schemas) == 0 {
		return nil, nil, nil, nil
	}
	idx, err := fieldindex.BuildMany(schemas, v.N, v.Payload)
	if err != nil {
		return nil, nil, nil, err
	}
	keys := slices.Sorted(maps.Keys(idx))
	var (
		entries []ManifestField
		built   []*fieldindex.Index
		written []string
	)
	for _, key := range keys {
		file := fieldFile(seg.ID(), key, schemas[key])
		name := path.Join(c.dir, "segments", file)
		if err := fieldindex.WriteFile(c.fs, name, idx[key]); err != nil {
			for _, n := range written {
				_ = c.fs.Remove(n)
			}
			return nil, nil, nil, err
		}
		written = append(written, name)
		entries = append(entries, ManifestField{Key: key, File: file, Schema: schemas[key]})
		built = append(built, idx[key])
	}
	return entries, built, written, nil
}

// fieldWork is a sealed segment whose indexes differ from the schemas.
type fieldWork struct {
	seg     *segment.Segment
	missing map[string]filter.FieldSchema
	stale   bool // the manifest names indexes no longer configured
}

// pendingFields returns the segments whose indexes need work.
func (c *Collection) pendingFields() []fieldWork {
	schemas := c.Fields()
	set := c.current()
	if set == nil {
		return nil
	}
	c.optMu.Lock()
	man := c.manifest
	c.optMu.Unlock()
	var out []fieldWork
	for _, s := range set.segs {
		if !s.Sealed() {
			continue
		}
		w := fieldWork{seg: s}
		have := s.Fields()
		for key, fs := range schemas {
			if x := have[key]; x == nil || !segment.SameSchema(x.Schema(), fs) {
				if w.missing == nil {
					w.missing = map[string]filter.FieldSchema{}
				}
				w.missing[key] = fs
			}
		}
		for _, ms := range man.Segments {
			if ms.ID != s.ID() {
				continue
			}
			for _, mf := range ms.Fields {
				if fs, ok := schemas[mf.Key]; !ok || !segment.SameSchema(fs, mf.Schema) {
					w.stale = true
				}
			}
		}
		if w.missing != nil || w.stale {
			out = append(out, w)
		}
	}
	return out
}

func (c *Collection) fieldLoop() {
	defer close(c.fieldStopped)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.fieldKick:
		case <-t.C:
		}
		for _, w := range c.pendingFields() {
			select {
			case <-c.stop:
				return
			default:
			}
			if err := c.indexFields(w); err != nil {
				c.ctr.fieldFailures.Add(1)
				c.log.Error("payload index build failed; will retry", "dir", c.dir, "segment", w.seg.ID(), "err", err)
				break
			}
		}
	}
}

// FieldsNow builds every pending payload index on the calling goroutine.
func (c *Collection) FieldsNow() error {
	for i := 0; ; i++ {
		work := c.pendingFields()
		if len(work) == 0 {
			return nil
		}
		if i > 1000 {
			return fmt.Errorf("collection: payload indexes do not settle")
		}
		if err := c.indexFields(work[0]); err != nil {
			return err
		}
	}
}

// indexFields builds the missing indexes of one sealed segment without
// holding a lock, then commits them: files, manifest, attach.
func (c *Collection) indexFields(w fieldWork) error {
	c.fieldMu.Lock()
	defer c.fieldMu.Unlock()
	c.indexing.Add(1)
	defer c.indexing.Add(-1)
	snap, err := c.acquire(nil)
	if err != nil {
		return err
	}
	defer snap.release()
	si := slices.Index(snap.set.segs, w.seg)
	if si < 0 {
		return nil // merged away meanwhile
	}
	start := time.Now()
	entries, built, written, err := c.buildFields(w.seg, &snap.views[si], w.missing)
	if err != nil {
		return err
	}

	c.optMu.Lock()
	defer c.optMu.Unlock()
	schemas := c.Fields()
	if !slices.Contains(c.current().segs, w.seg) {
		for _, n := range written {
			_ = c.fs.Remove(n) // merged away while building
		}
		return nil
	}
	m := c.manifest.clone()
	var obsolete []string
	for i := range m.Segments {
		ms := &m.Segments[i]
		if ms.ID != w.seg.ID() {
			continue
		}
		ms.Fields = slices.DeleteFunc(ms.Fields, func(mf ManifestField) bool {
			fs, ok := schemas[mf.Key]
			_, rebuilt := w.missing[mf.Key]
			if !ok || !segment.SameSchema(fs, mf.Schema) || rebuilt {
				obsolete = append(obsolete, mf.File)
				return true
			}
			return false
		})
		ms.Fields = append(ms.Fields, entries...)
		slices.SortFunc(ms.Fields, func(a, b ManifestField) int {
			switch {
			case a.Key < b.Key:
				return -1
			case a.Key > b.Key:
				return 1
			}
			return 0
		})
	}
	if err := vfs.WriteFileAtomic(c.fs, path.Join(c.dir, manifestName), encodeManifest(m)); err != nil {
		for _, n := range written {
			_ = c.fs.Remove(n)
		}
		return fmt.Errorf("collection: write manifest: %w", err)
	}
	c.manifest = m
	for _, x := range built {
		// A schema changed or dropped while building is not attached; the
		// next round replaces or drops its entry.
		if fs, ok := schemas[x.Key()]; ok && segment.SameSchema(fs, x.Schema()) {
			w.seg.AttachField(x)
			c.ctr.fieldsBuilt.Add(1)
		}
	}
	keep := map[string]bool{}
	for _, e := range entries {
		keep[e.File] = true
	}
	for _, f := range obsolete {
		if !keep[f] {
			_ = c.fs.Remove(path.Join(c.dir, "segments", f))
		}
	}
	c.log.Debug("payload indexes built", "dir", c.dir, "segment", w.seg.ID(), "fields", len(built), "took", time.Since(start))
	return nil
}

// loadFields attaches the persisted indexes of a sealed segment that match
// the configured schemas.
func loadFields(fs vfs.FS, segDir string, s *segment.Segment, ms *ManifestSegment, schemas map[string]filter.FieldSchema, verify bool) error {
	for _, mf := range ms.Fields {
		if cfg, ok := schemas[mf.Key]; !ok || !segment.SameSchema(cfg, mf.Schema) {
			continue // dropped or changed; the field indexer cleans up
		}
		x, err := fieldindex.ReadFile(fs, path.Join(segDir, mf.File), verify)
		if err != nil {
			return fmt.Errorf("payload index %s: %w", mf.File, err)
		}
		if x.Key() != mf.Key || x.Len() != s.Len() {
			return fmt.Errorf("payload index %s: for key %q over %d points, manifest says %q over %d", mf.File, x.Key(), x.Len(), mf.Key, s.Len())
		}
		s.AttachField(x)
	}
	return nil
}
