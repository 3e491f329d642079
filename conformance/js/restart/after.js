// Run by conformance_test.go after restarting the server on the data
// directory restart/before.js wrote.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, assertClose } from '../lib/helpers.js';
import { CASES, checkCase } from '../lib/filter_cases.js';
import { CFG, MIXED, U1, mixedPoint } from './shared.js';

const c = client();

test('filters on sealed segments give the same answers', async () => {
  for (const [, label, filter, want, wantPlain] of CASES) {
    await checkCase(c, 'restart_indexed', filter, want, `indexed ${label}`);
    await checkCase(c, 'restart_plain', filter, wantPlain ?? want, `unindexed ${label}`);
  }
});

test('configuration, points, vectors and payload indexes survive', async () => {
  const info = await c.getCollection(CFG);
  assert.equal(info.points_count, 2);
  assert.deepEqual(info.config.params.vectors, { a: { size: 2, distance: 'Dot' }, b: { size: 3, distance: 'Manhattan' } });
  assert.deepEqual(Object.keys(info.config.params.sparse_vectors ?? {}), ['s']);
  assert.equal(info.config.hnsw_config.m, 12);
  assert.equal(info.config.hnsw_config.ef_construct, 40);
  assert.equal(info.config.optimizer_config.indexing_threshold, 5000);
  assert.equal(info.config.optimizer_config.default_segment_number, 3);
  assert.equal(info.payload_schema.k?.data_type, 'keyword');
  assert.equal(info.payload_schema.k?.points, 2);

  const recs = await c.retrieve(CFG, { ids: [1, U1, 3], with_vector: true });
  const byId = Object.fromEntries(recs.map((r) => [r.id, r]));
  assert.deepEqual(Object.keys(byId).sort(), ['1', U1].sort());
  assert.deepEqual(byId[1].vector, { a: [0.5, 0.5], b: [1, 2, 3] });
  assert.deepEqual(byId[1].payload, { k: 'one' });
  assert.deepEqual(byId[U1].vector, { a: [0, 1], s: { indices: [4, 2], values: [0.5, 1.5] } });
  assert.deepEqual(byId[U1].payload, { k: 'uuid', n: [1, 2], added: 'before restart' });

  const res = await c.query(CFG, { query: [1, 3, 3], using: 'b', with_payload: ['k'] });
  assert.deepEqual(res.points.map((p) => p.id), [1]);
  assertClose(res.points[0].score, 1);
  const page = await c.scroll(CFG, { filter: { must: [{ key: 'k', match: { any: ['uuid', 'three'] } }] } });
  assert.deepEqual(page.points.map((p) => p.id), [U1]);
});

test('reads merge sealed and new points', async () => {
  await c.upsert(MIXED, { points: Array.from({ length: 30 }, (_, i) => mixedPoint(2 * i + 1)) });
  // Change sealed points: a delete, a payload update, a vector update.
  await c.delete(MIXED, { points: [2, 60] });
  await c.setPayload(MIXED, { points: [4], payload: { touched: true } });
  await c.updateVectors(MIXED, { points: [{ id: 6, vector: [1, 1000] }] });
  const want = Array.from({ length: 60 }, (_, i) => i + 1).filter((id) => id !== 2 && id !== 60);

  const seen = [];
  let offset;
  do {
    const page = await c.scroll(MIXED, { limit: 7, offset, with_payload: ['id'] });
    for (const p of page.points) assert.equal(p.payload.id, p.id);
    seen.push(...page.points.map((p) => p.id));
    offset = page.next_page_offset;
  } while (offset != null);
  assert.deepEqual(seen, want);

  assert.deepEqual(await c.count(MIXED), { count: 58 });
  assert.deepEqual(await c.count(MIXED, { filter: { must: [{ key: 'parity', match: { value: 'even' } }] } }), { count: 28 });
  const touched = await c.scroll(MIXED, { filter: { must: [{ key: 'touched', match: { value: true } }] } });
  assert.deepEqual(touched.points.map((p) => p.id), [4]);
  assert.deepEqual(touched.points[0].payload, { id: 4, parity: 'even', touched: true });

  // Euclid from [1, 10.2]: the nearest ids are 10, 11, 9, 12, 8, ...
  const res = await c.query(MIXED, { query: [1, 10.2], limit: 4, offset: 1 });
  assert.deepEqual(res.points.map((p) => p.id), [11, 9, 12, 8]);
  assertClose(res.points[0].score, 0.8, 1e-4);
  const far = await c.query(MIXED, { query: [1, 1000], limit: 1, with_vector: true });
  assert.deepEqual(far.points.map((p) => [p.id, p.vector]), [[6, [1, 1000]]]);
  const evens = await c.query(MIXED, { query: [1, 31.2], limit: 3, filter: { must: [{ key: 'parity', match: { value: 'even' } }] } });
  assert.deepEqual(evens.points.map((p) => p.id), [32, 30, 34]);
});

test('the collections can be written and deleted after the restart', async () => {
  await c.upsert(CFG, { points: [{ id: 4, vector: { a: [2, 2] } }] });
  assert.deepEqual(await c.count(CFG), { count: 3 });
  for (const name of [CFG, MIXED, 'restart_indexed', 'restart_plain']) {
    assert.equal(await c.deleteCollection(name), true);
  }
  assert.deepEqual(await c.getCollections().then((r) => r.collections.filter((x) => x.name.startsWith('restart_'))), []);
});
