// What restart/before.js writes and restart/after.js expects.
export const CFG = 'restart_cfg';
export const U1 = '3c1a2f5e-0000-4000-8000-000000000001';
export const CFG_CONFIG = {
  vectors: { a: { size: 2, distance: 'Dot' }, b: { size: 3, distance: 'Manhattan' } },
  sparse_vectors: { s: {} },
  hnsw_config: { m: 12, ef_construct: 40 },
  optimizers_config: { indexing_threshold: 5000, default_segment_number: 3 },
};
export const CFG_POINTS = [
  { id: 1, vector: { a: [1, 0], b: [1, 2, 3] }, payload: { k: 'one' } },
  { id: U1, vector: { a: [0, 1], s: { indices: [4, 2], values: [0.5, 1.5] } }, payload: { k: 'uuid', n: [1, 2] } },
  { id: 3, vector: { a: [1, 1], b: [0, 0, 0] }, payload: { k: 'three' } },
];

// Points 2, 4, ..., 60 are written before the restart (and sealed by it),
// the odd ids after it, so that reads merge a sealed and an in-memory
// segment.
export const MIXED = 'restart_mixed';
export const mixedPoint = (id) => ({ id, vector: [1, id], payload: { id, parity: id % 2 ? 'odd' : 'even' } });
