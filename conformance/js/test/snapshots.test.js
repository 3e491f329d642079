// Collection snapshots: create, list, download, delete, recover from a
// file:// location and an http URL, and upload, through QdrantClient's
// snapshot methods and raw HTTP for the endpoints the client has no method
// for (download, upload).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, test, before } from 'node:test';
import { client, createCollection, expectStatus, sortedIds, url, apiKey, uniqueName } from '../lib/helpers.js';

const c = client();
// The server's --data-dir, for file:// locations (set by conformance_test.go).
const dataDir = process.env.STRATA_DATA_DIR;

function headers(extra = {}) {
  return apiKey ? { 'api-key': apiKey, ...extra } : extra;
}

async function download(collection, name) {
  const res = await fetch(`${url}/collections/${encodeURIComponent(collection)}/snapshots/${encodeURIComponent(name)}`, { headers: headers() });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  return Buffer.from(await res.arrayBuffer());
}

async function upload(collection, bytes, query = '') {
  const form = new FormData();
  form.append('snapshot', new Blob([bytes]), 'upload.snapshot');
  const res = await fetch(`${url}/collections/${encodeURIComponent(collection)}/snapshots/upload${query}`, {
    method: 'POST',
    headers: headers(),
    body: form,
  });
  return { status: res.status, body: await res.json() };
}

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

async function allPoints(name) {
  const res = await c.scroll(name, { limit: 100, with_payload: true, with_vector: true });
  return res.points.sort((a, b) => a.id - b.id);
}

async function eventually(what, cond) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('collection snapshots', () => {
  let name;
  let points;
  before(async () => {
    name = await createCollection(c, 'snap', {
      vectors: { a: { size: 3, distance: 'Cosine' }, b: { size: 2, distance: 'Euclid' } },
    });
    await c.createPayloadIndex(name, { field_name: 'g', field_schema: 'keyword', wait: true });
    await c.upsert(name, {
      wait: true,
      points: Array.from({ length: 20 }, (_, i) => ({
        id: i + 1,
        vector: { a: [1, i, 0], b: [i, 1] },
        payload: { g: i % 2 ? 'odd' : 'even', i },
      })),
    });
    points = await allPoints(name);
  });

  test('create, list, download, delete', async () => {
    const snap = await c.createSnapshot(name);
    assert.ok(snap.name.startsWith(name + '-') && snap.name.endsWith('.snapshot'), snap.name);
    assert.match(snap.creation_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.match(snap.checksum, /^[0-9a-f]{64}$/);
    const list = await c.listSnapshots(name);
    assert.deepEqual(list.find((s) => s.name === snap.name), snap);

    const bytes = await download(name, snap.name);
    assert.equal(bytes.length, snap.size);
    assert.equal(sha256(bytes), snap.checksum);

    assert.equal(await c.deleteSnapshot(name, snap.name), true);
    assert.ok(!(await c.listSnapshots(name)).some((s) => s.name === snap.name));
    await expectStatus(c.deleteSnapshot(name, snap.name), 404, /snapshot/);
    await expectStatus(c.createSnapshot(uniqueName('missing')), 404, /doesn't exist/);
    await expectStatus(c.listSnapshots(uniqueName('missing')), 404, /doesn't exist/);
  });

  // Qdrant answers wait=false with 202 {status: "accepted"}, which the
  // client's createSnapshot does not accept (it expects 200): raw HTTP.
  test('create with wait=false answers 202 and the snapshot appears', async () => {
    const before = (await c.listSnapshots(name)).length;
    const res = await fetch(`${url}/collections/${name}/snapshots?wait=false`, { method: 'POST', headers: headers() });
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.equal(body.status, 'accepted');
    assert.equal(body.result, undefined);
    await eventually('the snapshot', async () => (await c.listSnapshots(name)).length === before + 1);
  });

  test('recover from a file:// location over the collection', { skip: dataDir ? false : 'STRATA_DATA_DIR is not set' }, async () => {
    const snap = await c.createSnapshot(name);
    // Change the collection after the snapshot.
    await c.delete(name, { wait: true, points: [1, 2, 3] });
    await c.upsert(name, { wait: true, points: [{ id: 99, vector: { a: [0, 0, 1] }, payload: { g: 'new' } }] });
    const location = 'file://' + path.resolve(dataDir, 'snapshots', name, snap.name);
    assert.equal(await c.recoverSnapshot(name, { location, checksum: snap.checksum, priority: 'snapshot' }), true);
    assert.deepEqual(await allPoints(name), points);
    // The payload index came back with it.
    const info = await c.getCollection(name);
    assert.equal(info.payload_schema.g.data_type, 'keyword');
    const res = await c.count(name, { filter: { must: [{ key: 'g', match: { value: 'odd' } }] }, exact: true });
    assert.equal(res.count, 10);

    await expectStatus(c.recoverSnapshot(name, { location, checksum: '0'.repeat(64) }), 400, /checksum mismatch/);
    await expectStatus(c.recoverSnapshot(name, { location: 'file:///etc/passwd' }), 400, /local snapshot must be a file in/);
    await expectStatus(c.recoverSnapshot(name, { location: location.replace(/[^/]+$/, 'nope.snapshot') }), 404, /snapshot/);
  });

  test('recover from an http URL into a new collection', async () => {
    const snap = await c.createSnapshot(name);
    const target = uniqueName('snap_http');
    const location = `${url}/collections/${name}/snapshots/${snap.name}`;
    assert.equal(await c.recoverSnapshot(target, { location, api_key: apiKey }), true);
    try {
      assert.deepEqual(sortedIds(await allPoints(target)), sortedIds(await allPoints(name)));
    } finally {
      await c.deleteCollection(target);
    }
  });

  test('download, then upload into a new collection', async () => {
    const snap = await c.createSnapshot(name);
    const bytes = await download(name, snap.name);
    const target = uniqueName('snap_upload');
    const res = await upload(target, bytes, `?priority=snapshot&checksum=${snap.checksum}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.result, true);
    try {
      assert.deepEqual(await allPoints(target), await allPoints(name));
      // A tampered upload changes nothing: one byte flipped in the middle.
      const bad = Buffer.from(bytes);
      bad[bad.length >> 1] ^= 0x10;
      const r2 = await upload(target, bad);
      assert.equal(r2.status, 400, JSON.stringify(r2.body));
      assert.match(r2.body.status.error, /damaged|truncated|sha256/);
      const r3 = await upload(target, bytes.subarray(0, bytes.length >> 1));
      assert.equal(r3.status, 400, JSON.stringify(r3.body));
      assert.match(r3.body.status.error, /truncated/);
      const r4 = await upload(target, bytes, `?checksum=${'f'.repeat(64)}`);
      assert.equal(r4.status, 400, JSON.stringify(r4.body));
      assert.match(r4.body.status.error, /checksum mismatch/);
      assert.equal((await c.count(target, { exact: true })).count, points.length);
    } finally {
      await c.deleteCollection(target);
    }
  });

  test('bad snapshot names', async () => {
    await expectStatus(c.deleteSnapshot(name, '..%2Fx'), 400, /path separator|\.\./);
    await expectStatus(c.deleteSnapshot(name, 'nope.snapshot'), 404, /snapshot/);
  });
});

// Full-storage snapshots: one archive of every collection, through
// QdrantClient's createFullSnapshot, listFullSnapshots, deleteFullSnapshot
// (raw HTTP for the download, which the client has no method for).
describe('full storage snapshots', () => {
  let name;
  before(async () => {
    name = await createCollection(c, 'fullsnap', { vectors: { size: 2, distance: 'Dot' } });
    await c.upsert(name, { wait: true, points: [{ id: 1, vector: [1, 0] }, { id: 2, vector: [0, 1] }] });
  });

  test('create, list, download, delete', async () => {
    const collSnap = await c.createSnapshot(name);
    const snap = await c.createFullSnapshot();
    assert.ok(snap.name.startsWith('full-') && snap.name.endsWith('.snapshot'), snap.name);
    assert.match(snap.creation_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.match(snap.checksum, /^[0-9a-f]{64}$/);
    assert.ok(snap.size > 0);
    const list = await c.listFullSnapshots();
    assert.deepEqual(list.find((s) => s.name === snap.name), snap);
    // Full and collection snapshots are listed apart.
    assert.ok(!list.some((s) => s.name === collSnap.name));
    assert.ok(!(await c.listSnapshots(name)).some((s) => s.name === snap.name));

    const res = await fetch(`${url}/snapshots/${encodeURIComponent(snap.name)}`, { headers: headers() });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.length, snap.size);
    assert.equal(sha256(bytes), snap.checksum);

    assert.equal(await c.deleteFullSnapshot(snap.name), true);
    assert.ok(!(await c.listFullSnapshots()).some((s) => s.name === snap.name));
    await expectStatus(c.deleteFullSnapshot(snap.name), 404, /full snapshot/);
    // Deleting a full snapshot leaves the collection's alone, and the
    // full snapshot API does not delete a collection snapshot.
    await expectStatus(c.deleteFullSnapshot(collSnap.name), 404, /full snapshot/);
    assert.ok((await c.listSnapshots(name)).some((s) => s.name === collSnap.name));
    assert.equal(await c.deleteSnapshot(name, collSnap.name), true);
  });

  test('unknown and bad names', async () => {
    await expectStatus(c.deleteFullSnapshot('nope.snapshot'), 404, /full snapshot/);
    await expectStatus(c.deleteFullSnapshot('..%2Fx'), 400, /path separator|\.\./);
    const res = await fetch(`${url}/snapshots/nope.snapshot`, { headers: headers() });
    assert.equal(res.status, 404);
  });
});
