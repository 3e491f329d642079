// API keys: run against a server started with --api-key (STRATA_API_KEY)
// and --read-only-api-key (STRATA_READ_ONLY_API_KEY); skipped otherwise.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { client, url, apiKey, readOnlyApiKey, createCollection, expectStatus, ids } from '../lib/helpers.js';

const skip = apiKey ? false : 'the server has no API key (set STRATA_API_KEY)';

describe('API keys', { skip }, () => {
  const rw = client(apiKey);
  let name;
  before(async () => {
    name = await createCollection(rw, 'auth', { vectors: { size: 2, distance: 'Dot' } });
    await rw.upsert(name, { points: [{ id: 1, vector: [1, 0], payload: { k: 'v' } }] });
  });

  test('without a key: 401 on every API call', async () => {
    const none = client(null);
    await expectStatus(none.getCollections(), 401, /API key/);
    await expectStatus(none.getCollection(name), 401);
    await expectStatus(none.query(name, { query: [1, 0] }), 401);
    await expectStatus(none.upsert(name, { points: [{ id: 2, vector: [0, 1] }] }), 401);
    await expectStatus(none.deleteCollection(name), 401);
    await expectStatus(none.recommend(name, { positive: [1] }), 401);
    await expectStatus(none.queryGroups(name, { query: [1, 0], group_by: 'k' }), 401);
    await expectStatus(none.createSnapshot(name), 401);
    await expectStatus(none.listSnapshots(name), 401);
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.status, 401);
    const telemetry = await fetch(`${url}/telemetry`);
    assert.equal(telemetry.status, 401);
    // A missing collection is 401 too: the key is checked before anything else.
    await expectStatus(none.getCollection('no_such_collection'), 401);
  });

  test('without a key: the version and health endpoints stay open', async () => {
    const none = client(null);
    assert.match((await none.versionInfo()).version, /^1\./);
    const health = await none.api().healthz({});
    assert.equal(health.status, 200);
    const ready = await none.api().readyz({});
    assert.equal(ready.status, 200);
  });

  test('a wrong key: 401', async () => {
    const wrong = client(`${apiKey}-wrong`);
    await expectStatus(wrong.getCollections(), 401, /Invalid API key/);
    await expectStatus(wrong.count(name), 401);
  });

  test('the key, in the api-key header or as a bearer token: everything works', async () => {
    for (const c of [rw, client(null, { headers: { authorization: `Bearer ${apiKey}` } })]) {
      assert.ok((await c.getCollections()).collections.some((x) => x.name === name));
      await c.upsert(name, { points: [{ id: 2, vector: [0, 1], payload: { k: 'w' } }] });
      await c.setPayload(name, { points: [2], payload: { seen: true } });
      const res = await c.query(name, { query: [1, 1], with_payload: true });
      assert.deepEqual(ids(res.points).sort(), [1, 2]);
      assert.deepEqual(await c.count(name), { count: 2 });
    }
  });

  describe('the read-only key', { skip: readOnlyApiKey ? false : 'no read-only key (set STRATA_READ_ONLY_API_KEY)' }, () => {
    const ro = client(readOnlyApiKey);

    test('reads succeed', async () => {
      assert.ok((await ro.getCollections()).collections.some((x) => x.name === name));
      assert.equal((await ro.getCollection(name)).config.params.vectors.size, 2);
      assert.deepEqual(await ro.collectionExists(name), { exists: true });
      assert.equal((await ro.retrieve(name, { ids: [1] })).length, 1);
      assert.equal((await ro.api().getPoint({ collection_name: name, id: 1 })).status, 200);
      assert.ok((await ro.scroll(name)).points.length >= 1);
      assert.ok((await ro.count(name)).count >= 1);
      assert.ok((await ro.query(name, { query: [1, 0] })).points.length >= 1);
      assert.equal((await ro.queryBatch(name, { searches: [{ query: [1, 0] }, { query: [0, 1] }] })).length, 2);
      assert.ok((await ro.search(name, { vector: [1, 0] })).length >= 1);
      assert.equal((await ro.searchBatch(name, { searches: [{ vector: [1, 0], limit: 1 }] })).length, 1);
      assert.ok(Array.isArray(await ro.recommend(name, { positive: [1] })));
      assert.ok(Array.isArray((await ro.queryGroups(name, { query: [1, 0], group_by: 'k' })).groups));
      assert.ok(Array.isArray((await ro.searchPointGroups(name, { vector: [1, 0], group_by: 'k', group_size: 1, limit: 2 })).groups));
      const snap = await rw.createSnapshot(name);
      assert.ok((await ro.listSnapshots(name)).some((x) => x.name === snap.name));
      const download = await fetch(`${url}/collections/${name}/snapshots/${snap.name}`, { headers: { 'api-key': readOnlyApiKey } });
      assert.equal(download.status, 200);
      assert.equal((await download.arrayBuffer()).byteLength, snap.size);
      const metrics = await fetch(`${url}/metrics`, { headers: { 'api-key': readOnlyApiKey } });
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /collections_total/);
      const telemetry = await fetch(`${url}/telemetry`, { headers: { authorization: `Bearer ${readOnlyApiKey}` } });
      assert.equal(telemetry.status, 200);
      assert.equal((await telemetry.json()).result.app.name, 'strata');
    });

    test('writes are refused with 403 and change nothing', async () => {
      const before = await rw.count(name);
      await expectStatus(ro.createCollection(`${name}_ro`, { vectors: { size: 2, distance: 'Dot' } }), 403, /Write access denied/);
      await expectStatus(ro.updateCollection(name, { optimizers_config: { indexing_threshold: 1 } }), 403);
      await expectStatus(ro.upsert(name, { points: [{ id: 9, vector: [1, 1] }] }), 403);
      await expectStatus(ro.delete(name, { points: [1] }), 403);
      await expectStatus(ro.setPayload(name, { points: [1], payload: { x: 1 } }), 403);
      await expectStatus(ro.overwritePayload(name, { points: [1], payload: { x: 1 } }), 403);
      await expectStatus(ro.deletePayload(name, { points: [1], keys: ['k'] }), 403);
      await expectStatus(ro.clearPayload(name, { points: [1] }), 403);
      await expectStatus(ro.updateVectors(name, { points: [{ id: 1, vector: [0, 0] }] }), 403);
      await expectStatus(ro.deleteVectors(name, { points: [1], vector: [''] }), 403);
      await expectStatus(ro.batchUpdate(name, { operations: [{ delete: { points: [1] } }] }), 403);
      await expectStatus(ro.createPayloadIndex(name, { field_name: 'k', field_schema: 'keyword' }), 403);
      await expectStatus(ro.deletePayloadIndex(name, 'k'), 403);
      await expectStatus(ro.deleteCollection(name), 403);
      await expectStatus(ro.createSnapshot(name), 403);
      const [snap] = await rw.listSnapshots(name);
      if (snap) {
        await expectStatus(ro.deleteSnapshot(name, snap.name), 403);
        await expectStatus(ro.recoverSnapshot(name, { location: `file:///nowhere/${snap.name}` }), 403);
      }
      assert.deepEqual(await rw.count(name), before);
      assert.deepEqual(await rw.collectionExists(`${name}_ro`), { exists: false });
      const [rec] = await rw.retrieve(name, { ids: [1], with_vector: true });
      assert.deepEqual(rec.payload, { k: 'v' });
      assert.deepEqual(rec.vector, [1, 0]);
    });
  });
});
