package collection

import (
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/bitset"
	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vfs"
)

func (c *Collection) optimizerLoop() {
	defer close(c.stopped)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case <-t.C:
		}
		if err := c.optimize(false); err != nil {
			c.log.Error("optimizer failed; will retry", "dir", c.dir, "err", err)
		}
	}
}

// Optimize runs one optimization round now. With force, the appendable
// segment is sealed even below the flush threshold (what Close does).
func (c *Collection) Optimize(force bool) error {
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if c.closed.Load() {
		return base.ErrClosed
	}
	return c.optimize(force)
}

// group is a new segment to write: the live offsets of its sources as of
// the checkpoint, in order. New offset i is the i-th (source, offset) pair.
type group struct {
	id      uint64
	srcSegs []*segment.Segment
	srcs    []segment.Source
	views   []segment.View
	out     *segment.Segment // opened after writing; nil if no live points
	fields  []ManifestField  // out's payload index files
}

// optimize seals, merges and vacuums. Every round is one checkpoint: under
// applyMu it freezes the appendable segment and snapshots every tombstone
// at the applied seq C, so the files it writes reflect exactly the
// operations <= C (invariant C3); then it writes files without locks, commits
// the manifest, and swaps the segment set under applyMu again, carrying over
// tombstones set after C.
func (c *Collection) optimize(force bool) error {
	c.optMu.Lock()
	defer c.optMu.Unlock()
	return c.optimizeLocked(force, false)
}

// optimizeLocked is optimize with optMu held. With checkpoint, the round
// also runs when there is nothing to seal, merge or vacuum but operations
// were applied after the manifest's checkpoint, so that afterwards the
// manifest reflects every applied operation (snapshots need that).
func (c *Collection) optimizeLocked(force, checkpoint bool) error {
	if err := c.Err(); err != nil {
		return err
	}
	set := c.current()
	if set == nil {
		return base.ErrClosed
	}
	cfg := &c.opts.Optimizer

	// Plan (cheap, approximate; the snapshot below makes it exact).
	var sealed, frozen []*segment.Segment
	for _, s := range set.segs {
		switch {
		case s.Sealed():
			sealed = append(sealed, s)
		case s != set.appendable():
			frozen = append(frozen, s)
		}
	}
	app := set.appendable()
	flush := len(frozen) > 0 || app.Len() >= cfg.FlushPoints || (force && app.Len() > 0)
	var vacuum, merge []*segment.Segment
	for _, s := range sealed {
		n, live := s.Len(), s.LiveCount()
		if live == 0 || (n >= cfg.VacuumMinPoints && float64(n-live) > cfg.DeletedThreshold*float64(n)) {
			vacuum = append(vacuum, s)
		}
	}
	remaining := len(sealed) - len(vacuum)
	if flush {
		remaining++
	}
	if remaining > cfg.MaxSegments {
		var cands []*segment.Segment
		for _, s := range sealed {
			if !slices.Contains(vacuum, s) {
				cands = append(cands, s)
			}
		}
		slices.SortFunc(cands, func(a, b *segment.Segment) int { return a.LiveCount() - b.LiveCount() })
		total := 0
		for _, s := range cands {
			if len(merge) >= remaining-cfg.MaxSegments+1 || total+s.LiveCount() > cfg.MaxSegmentPoints {
				break
			}
			merge = append(merge, s)
			total += s.LiveCount()
		}
		if len(merge) < 2 {
			merge = nil
		}
	}
	if !flush && len(vacuum) == 0 && len(merge) == 0 && !(checkpoint && c.appliedSeq.Load() > c.checkpoint) {
		return nil
	}
	c.optimizing.Store(true)
	defer c.optimizing.Store(false)
	start := time.Now()

	// Phase 1: freeze and snapshot at checkpoint C.
	c.applyMu.Lock()
	set = c.current()
	ckpt := c.appliedSeq.Load()
	frozen = frozen[:0]
	for _, s := range set.segs {
		if !s.Sealed() {
			frozen = append(frozen, s) // includes the appendable, frozen now
		}
	}
	newApp := segment.NewAppendable(c.nextSegID, c.schema)
	c.nextSegID++
	schemas := c.Fields()
	if err := newApp.IndexFields(schemas); err != nil {
		c.applyMu.Unlock()
		newApp.Unref()
		c.ctr.optimizeFailed(err)
		return err
	}
	for _, s := range frozen {
		s.Freeze()
	}
	delSnap := make(map[*segment.Segment]bitset.Snapshot, len(set.segs))
	for _, s := range set.segs {
		delSnap[s] = s.View().Deleted
	}
	var groups []*group
	addGroup := func(srcs []*segment.Segment) {
		g := &group{id: c.nextSegID, srcSegs: srcs}
		c.nextSegID++
		for _, s := range srcs {
			v := s.View()
			var offs []uint32
			del := delSnap[s]
			for off := 0; off < v.N; off++ {
				if !del.Get(uint32(off)) {
					offs = append(offs, uint32(off))
				}
			}
			g.views = append(g.views, v)
			g.srcs = append(g.srcs, segment.Source{Offs: offs})
		}
		for i := range g.srcs {
			g.srcs[i].View = &g.views[i]
		}
		groups = append(groups, g)
	}
	addGroup(frozen)
	if len(merge) > 0 {
		addGroup(merge)
	}
	for _, s := range vacuum {
		addGroup([]*segment.Segment{s})
	}
	next := newSet(append(slices.Clone(set.segs), newApp))
	newApp.Unref() // held by the set
	c.stateMu.Lock()
	c.cur = next
	c.stateMu.Unlock()
	c.applyMu.Unlock()
	set.release()

	// Phase 2: write the new segments, tombstone files and manifest.
	segDir := path.Join(c.dir, "segments")
	var written []string
	cleanup := func(err error) error {
		c.ctr.optimizeFailed(err)
		for _, g := range groups {
			if g.out != nil {
				g.out.SetOnFinal(nil)
				g.out.Unref()
			}
		}
		for _, n := range written {
			_ = c.fs.Remove(n)
		}
		return err
	}
	for _, g := range groups {
		n := 0
		for _, s := range g.srcs {
			n += len(s.Offs)
		}
		if n == 0 {
			continue
		}
		name := path.Join(segDir, segFile(g.id))
		if _, err := segment.WriteSealed(c.fs, name, g.id, c.schema, g.srcs); err != nil {
			return cleanup(err)
		}
		written = append(written, name)
		out, err := segment.OpenSealed(c.fs, name, g.id, c.schema, false)
		if err != nil {
			return cleanup(err)
		}
		g.out = out
		v := out.View()
		entries, built, files, err := c.buildFields(out, &v, schemas)
		written = append(written, files...)
		if err != nil {
			return cleanup(err)
		}
		for _, x := range built {
			out.AttachField(x)
		}
		g.fields = entries
	}
	replaced := map[*segment.Segment]bool{}
	for _, g := range groups {
		for _, s := range g.srcSegs {
			replaced[s] = true
		}
	}
	m := &Manifest{Checkpoint: ckpt, NextSegmentID: c.nextSegID}
	delNames := map[uint64]string{}
	for _, s := range sealed {
		if replaced[s] {
			continue
		}
		ms := ManifestSegment{ID: s.ID(), Points: s.Len()}
		if del := delSnap[s]; del.Count() > 0 {
			ms.Deleted = fmt.Sprintf("%08d.%d.del", s.ID(), ckpt)
			if ms.Deleted != c.persisted[s.ID()] {
				name := path.Join(segDir, ms.Deleted)
				if err := segment.WriteDeleted(c.fs, name, s.ID(), s.Len(), del.Words()); err != nil {
					return cleanup(err)
				}
				written = append(written, name)
			}
		}
		delNames[s.ID()] = ms.Deleted
		for _, old := range c.manifest.Segments {
			if old.ID == s.ID() {
				ms.Graphs = old.Graphs
				ms.Fields = old.Fields
			}
		}
		m.Segments = append(m.Segments, ms)
	}
	for _, g := range groups {
		if g.out != nil {
			m.Segments = append(m.Segments, ManifestSegment{ID: g.id, Points: g.out.Len(), Fields: g.fields})
		}
	}
	if err := vfs.WriteFileAtomic(c.fs, path.Join(c.dir, manifestName), encodeManifest(m)); err != nil {
		return cleanup(fmt.Errorf("collection: write manifest: %w", err))
	}
	// Committed. Old tombstone files are superseded.
	for id, old := range c.persisted {
		if old != "" && delNames[id] != old {
			_ = c.fs.Remove(path.Join(segDir, old))
		}
	}
	c.persisted = delNames
	c.checkpoint = ckpt
	prev := c.manifest
	c.manifest = m

	// Phase 3: swap in the new segments, carrying over later tombstones.
	c.applyMu.Lock()
	set = c.current()
	for _, g := range groups {
		if g.out == nil {
			continue
		}
		i := uint32(0)
		for si, src := range g.srcs {
			del := g.srcSegs[si].View().Deleted // now, not as of the checkpoint
			for _, off := range src.Offs {
				if del.Get(off) {
					g.out.Delete(i)
				}
				i++
			}
		}
	}
	var segs []*segment.Segment
	for _, s := range set.segs {
		if s.Sealed() && !replaced[s] {
			segs = append(segs, s)
		}
	}
	for _, g := range groups {
		if g.out != nil {
			segs = append(segs, g.out)
		}
	}
	slices.SortFunc(segs, func(a, b *segment.Segment) int { return cmpU64(a.ID(), b.ID()) })
	for _, s := range set.segs {
		if !s.Sealed() && !replaced[s] {
			segs = append(segs, s) // the appendable segment, last
		}
	}
	next = newSet(segs)
	for _, g := range groups {
		if g.out != nil {
			g.out.Unref() // held by the set
		}
	}
	for s := range replaced {
		if s.Sealed() {
			names := []string{path.Join(segDir, segFile(s.ID()))}
			for _, ms := range prev.Segments {
				if ms.ID == s.ID() {
					for _, mg := range ms.Graphs {
						names = append(names, path.Join(segDir, mg.File))
					}
					for _, mf := range ms.Fields {
						names = append(names, path.Join(segDir, mf.File))
					}
				}
			}
			fs := c.fs
			s.SetOnFinal(func() {
				for _, n := range names {
					_ = fs.Remove(n)
				}
			})
		}
	}
	c.stateMu.Lock()
	c.cur = next
	c.stateMu.Unlock()
	c.applyMu.Unlock()
	set.release()

	if err := c.wal.TruncateBefore(ckpt); err != nil {
		c.log.Warn("wal truncation failed", "dir", c.dir, "err", err)
	}
	c.kickIndexer()
	c.ctr.optimized(groups, len(merge) > 0, len(vacuum))
	c.log.Debug("optimized", "dir", c.dir, "checkpoint", ckpt, "groups", len(groups), "took", time.Since(start))
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
