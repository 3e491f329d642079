// Run by conformance_test.go before it restarts the server (SIGTERM, then a
// new process on the same data directory); after.js checks what survived.
// A restart seals every collection, so after.js also checks that filters
// answered by sealed segments and their payload indexes agree with the
// answers below, from the in-memory segment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client } from '../lib/helpers.js';
import { CASES, checkCase, createFilterCollections } from '../lib/filter_cases.js';
import { CFG, CFG_CONFIG, CFG_POINTS, MIXED, U1, mixedPoint } from './shared.js';

const c = client();

test('write before the restart', async () => {
  const { indexed, plain } = await createFilterCollections(c, async (kind) => {
    const name = `restart_${kind}`;
    assert.equal(await c.createCollection(name, { vectors: { size: 2, distance: 'Dot' } }), true);
    return name;
  });
  for (const [, label, filter, want, wantPlain] of CASES) {
    await checkCase(c, indexed, filter, want, `indexed ${label}`);
    await checkCase(c, plain, filter, wantPlain ?? want, `unindexed ${label}`);
  }

  assert.equal(await c.createCollection(CFG, CFG_CONFIG), true);
  await c.upsert(CFG, { points: CFG_POINTS });
  await c.createPayloadIndex(CFG, { field_name: 'k', field_schema: 'keyword', wait: true });
  // Changes to replay or to find in sealed segments after the restart.
  await c.delete(CFG, { points: [3] });
  await c.setPayload(CFG, { points: [U1], payload: { added: 'before restart' } });
  await c.updateVectors(CFG, { points: [{ id: 1, vector: { a: [0.5, 0.5] } }] });
  assert.deepEqual(await c.count(CFG), { count: 2 });

  assert.equal(await c.createCollection(MIXED, { vectors: { size: 2, distance: 'Euclid' } }), true);
  await c.upsert(MIXED, { points: Array.from({ length: 30 }, (_, i) => mixedPoint(2 * (i + 1))) });
  await c.createPayloadIndex(MIXED, { field_name: 'parity', field_schema: 'keyword', wait: true });
});
