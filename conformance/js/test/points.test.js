// Points: upsert (both forms), retrieve, get, delete, payload and vector
// updates, batch updates, scroll and count, through QdrantClient.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { client, createCollection, expectStatus, ids, sortedIds } from '../lib/helpers.js';

const c = client();
const U1 = '3c1a2f5e-0000-4000-8000-000000000001';
const U2 = 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6';

async function payloadOf(name, id) {
  const [rec] = await c.retrieve(name, { ids: [id], with_payload: true });
  assert.ok(rec, `point ${id} missing`);
  return rec.payload;
}

describe('upsert and retrieve', () => {
  let name;
  before(async () => {
    name = await createCollection(c, 'pts_upsert', { vectors: { size: 3, distance: 'Dot' } });
  });

  test('points form with numeric and UUID ids', async () => {
    const res = await c.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0, 0], payload: { title: 'one', n: 1 } },
        { id: U1, vector: [0, 1, 0], payload: { title: 'uuid', tags: ['a', 'b'] } },
        { id: 3, vector: [0, 0, 1] },
      ],
    });
    assert.equal(res.status, 'completed');
    assert.equal(typeof res.operation_id, 'number');

    const recs = await c.retrieve(name, { ids: [U1, 1, 3, 999], with_vector: true });
    assert.deepEqual(sortedIds(recs), [1, 3, U1], 'missing ids are left out');
    const byId = Object.fromEntries(recs.map((r) => [r.id, r]));
    assert.deepEqual(byId[1].payload, { title: 'one', n: 1 });
    assert.deepEqual(byId[1].vector, [1, 0, 0]);
    assert.deepEqual(byId[U1].payload, { title: 'uuid', tags: ['a', 'b'] });
    assert.ok(byId[3].payload == null || Object.keys(byId[3].payload).length === 0);

    // Defaults: payload yes, vector no.
    const [plain] = await c.retrieve(name, { ids: [1] });
    assert.deepEqual(plain.payload, { title: 'one', n: 1 });
    assert.ok(plain.vector == null, `vector ${JSON.stringify(plain.vector)}`);
    const [noPayload] = await c.retrieve(name, { ids: [1], with_payload: false });
    assert.ok(noPayload.payload == null, `payload ${JSON.stringify(noPayload.payload)}`);
    const [sel] = await c.retrieve(name, { ids: [U1], with_payload: ['tags'] });
    assert.deepEqual(sel.payload, { tags: ['a', 'b'] });
    const [exc] = await c.retrieve(name, { ids: [U1], with_payload: { exclude: ['tags'] } });
    assert.deepEqual(exc.payload, { title: 'uuid' });
  });

  test('UUIDs are accepted in any case and returned canonical', async () => {
    await c.upsert(name, { points: [{ id: U2.toUpperCase(), vector: [1, 1, 1] }] });
    const recs = await c.retrieve(name, { ids: [U2] });
    assert.deepEqual(ids(recs), [U2]);
  });

  test('batch form', async () => {
    const res = await c.upsert(name, {
      batch: {
        ids: [10, 11, U2],
        vectors: [
          [1, 1, 0],
          [0, 1, 1],
          [2, 2, 2],
        ],
        payloads: [{ k: 'x' }, { k: 'y' }, { k: 'z' }],
      },
    });
    assert.equal(res.status, 'completed');
    const recs = await c.retrieve(name, { ids: [10, 11, U2], with_vector: true });
    const byId = Object.fromEntries(recs.map((r) => [r.id, r]));
    assert.deepEqual(byId[10].vector, [1, 1, 0]);
    assert.deepEqual(byId[11].payload, { k: 'y' });
    assert.deepEqual(byId[U2].vector, [2, 2, 2], 'upsert replaces the point');
    assert.deepEqual(byId[U2].payload, { k: 'z' });
  });

  test('get one point through the generated API', async () => {
    const res = await c.api().getPoint({ collection_name: name, id: 1 });
    assert.equal(res.status, 200);
    assert.equal(res.data.status, 'ok');
    assert.equal(res.data.result.id, 1);
    assert.deepEqual(res.data.result.payload, { title: 'one', n: 1 });
    assert.deepEqual(res.data.result.vector, [1, 0, 0]);
    const byUUID = await c.api().getPoint({ collection_name: name, id: U1 });
    assert.equal(byUUID.data.result.id, U1);
    await expectStatus(c.api().getPoint({ collection_name: name, id: 424242 }), 404, /424242/);
  });

  test('upsert without wait is acknowledged and visible', async () => {
    const res = await c.upsert(name, { wait: false, points: [{ id: 50, vector: [5, 5, 5] }] });
    assert.ok(['acknowledged', 'completed'].includes(res.status), res.status);
    assert.equal((await c.retrieve(name, { ids: [50] })).length, 1);
  });

  test('an empty upsert succeeds', async () => {
    const res = await c.upsert(name, { points: [] });
    assert.equal(res.status, 'completed');
  });
});

describe('delete', () => {
  let name;
  before(async () => {
    name = await createCollection(c, 'pts_delete', { vectors: { size: 2, distance: 'Euclid' } });
    await c.upsert(name, {
      points: Array.from({ length: 10 }, (_, i) => ({
        id: i + 1,
        vector: [i, 1],
        payload: { group: i % 2 === 0 ? 'even' : 'odd', i },
      })),
    });
  });

  test('by ids', async () => {
    const res = await c.delete(name, { wait: true, points: [1, 2, 999] });
    assert.equal(res.status, 'completed');
    assert.equal((await c.count(name)).count, 8);
    assert.equal((await c.retrieve(name, { ids: [1, 2] })).length, 0);
  });

  test('by filter', async () => {
    await c.delete(name, { wait: true, filter: { must: [{ key: 'group', match: { value: 'even' } }] } });
    const left = await c.scroll(name, { limit: 100 });
    assert.deepEqual(ids(left.points), [4, 6, 8, 10]);
    assert.ok(left.points.every((p) => p.payload.group === 'odd'));
  });

  test('neither ids nor filter is 400', async () => {
    await expectStatus(c.delete(name, { wait: true }), 400);
  });
});

describe('payload updates', () => {
  let name;
  before(async () => {
    name = await createCollection(c, 'pts_payload', { vectors: { size: 2, distance: 'Cosine' } });
    await c.upsert(name, {
      points: [
        { id: 1, vector: [1, 0], payload: { a: 1, b: 'x', nested: { keep: true } } },
        { id: 2, vector: [0, 1], payload: { a: 2, b: 'y' } },
        { id: 3, vector: [1, 1], payload: { a: 3, b: 'z', c: [1, 2] } },
      ],
    });
  });

  test('setPayload merges by ids', async () => {
    const res = await c.setPayload(name, { points: [1, 2], payload: { b: 'new', extra: [1, 2, 3] } });
    assert.equal(res.status, 'completed');
    assert.deepEqual(await payloadOf(name, 1), { a: 1, b: 'new', extra: [1, 2, 3], nested: { keep: true } });
    assert.deepEqual(await payloadOf(name, 2), { a: 2, b: 'new', extra: [1, 2, 3] });
    assert.deepEqual(await payloadOf(name, 3), { a: 3, b: 'z', c: [1, 2] });
  });

  test('setPayload with a key merges into a nested object', async () => {
    await c.setPayload(name, { points: [1], key: 'nested', payload: { added: 'yes' } });
    assert.deepEqual((await payloadOf(name, 1)).nested, { keep: true, added: 'yes' });
  });

  test('setPayload by filter', async () => {
    await c.setPayload(name, { filter: { must: [{ key: 'a', range: { gte: 2 } }] }, payload: { big: true } });
    const big = await c.scroll(name, { filter: { must: [{ key: 'big', match: { value: true } }] } });
    assert.deepEqual(ids(big.points), [2, 3]);
  });

  test('overwritePayload replaces the whole payload', async () => {
    await c.overwritePayload(name, { points: [2], payload: { only: 'this' } });
    assert.deepEqual(await payloadOf(name, 2), { only: 'this' });
  });

  test('deletePayload removes keys, by ids and by filter', async () => {
    await c.deletePayload(name, { points: [1], keys: ['extra', 'nested.keep'] });
    assert.deepEqual(await payloadOf(name, 1), { a: 1, b: 'new', nested: { added: 'yes' } });
    await c.deletePayload(name, { filter: { must: [{ key: 'a', match: { value: 3 } }] }, keys: ['c'] });
    assert.deepEqual(await payloadOf(name, 3), { a: 3, b: 'z', big: true });
  });

  test('clearPayload empties payloads', async () => {
    await c.clearPayload(name, { points: [3] });
    const p = await payloadOf(name, 3);
    assert.ok(p == null || Object.keys(p).length === 0, JSON.stringify(p));
    await c.clearPayload(name, { filter: { must: [{ has_id: [1] }] } });
    const p1 = await payloadOf(name, 1);
    assert.ok(p1 == null || Object.keys(p1).length === 0, JSON.stringify(p1));
    assert.deepEqual(await payloadOf(name, 2), { only: 'this' });
  });
});

describe('vector updates', () => {
  let name;
  before(async () => {
    name = await createCollection(c, 'pts_vectors', {
      vectors: { a: { size: 2, distance: 'Dot' }, b: { size: 3, distance: 'Euclid' } },
      sparse_vectors: { s: {} },
    });
    await c.upsert(name, {
      points: [
        { id: 1, vector: { a: [1, 2], b: [1, 2, 3] } },
        { id: 2, vector: { a: [3, 4], b: [4, 5, 6], s: { indices: [1], values: [1] } } },
      ],
    });
  });

  test('updateVectors replaces the named vectors given, keeps the others', async () => {
    const res = await c.updateVectors(name, {
      points: [
        { id: 1, vector: { a: [9, 9] } },
        { id: 2, vector: { s: { indices: [5, 6], values: [0.5, 0.25] } } },
      ],
    });
    assert.equal(res.status, 'completed');
    const recs = await c.retrieve(name, { ids: [1, 2], with_vector: true });
    const byId = Object.fromEntries(recs.map((r) => [r.id, r]));
    assert.deepEqual(byId[1].vector, { a: [9, 9], b: [1, 2, 3] });
    assert.deepEqual(byId[2].vector.s, { indices: [5, 6], values: [0.5, 0.25] });
    assert.deepEqual(byId[2].vector.a, [3, 4]);
  });

  test('deleteVectors removes named vectors, by ids and by filter', async () => {
    await c.deleteVectors(name, { points: [1], vector: ['b'] });
    let [rec] = await c.retrieve(name, { ids: [1], with_vector: true });
    assert.deepEqual(rec.vector, { a: [9, 9] });
    await c.deleteVectors(name, { filter: { must: [{ has_id: [2] }] }, vector: ['s', 'a'] });
    [rec] = await c.retrieve(name, { ids: [2], with_vector: true });
    assert.deepEqual(rec.vector, { b: [4, 5, 6] });
  });

  test('has_vector selects the points that hold a vector', async () => {
    assert.deepEqual(await c.count(name, { filter: { must: [{ has_vector: 'b' }] } }), { count: 1 });
    assert.deepEqual(await c.count(name, { filter: { must: [{ has_vector: 'a' }] } }), { count: 1 });
    assert.deepEqual(await c.count(name, { filter: { must_not: [{ has_vector: 's' }] } }), { count: 2 });
  });

  test('updating a missing point is 404', async () => {
    await expectStatus(c.updateVectors(name, { points: [{ id: 77, vector: { a: [1, 1] } }] }), 404, /77/);
  });
});

test('batchUpdate runs every operation in order', async () => {
  const name = await createCollection(c, 'pts_batch', { vectors: { v: { size: 2, distance: 'Dot' } } });
  const res = await c.batchUpdate(name, {
    operations: [
      {
        upsert: {
          points: [
            { id: 1, vector: { v: [1, 0] }, payload: { x: 1 } },
            { id: 2, vector: { v: [0, 1] }, payload: { x: 2 } },
            { id: 3, vector: { v: [1, 1] }, payload: { x: 3 } },
          ],
        },
      },
      { set_payload: { points: [1], payload: { y: 'set' } } },
      { overwrite_payload: { points: [2], payload: { z: 'over' } } },
      { delete_payload: { points: [1], keys: ['x'] } },
      { update_vectors: { points: [{ id: 3, vector: { v: [7, 7] } }] } },
      { delete: { points: [3] } },
      { upsert: { batch: { ids: [4], vectors: { v: [[4, 4]] }, payloads: [{ x: 4 }] } } },
      { clear_payload: { points: [4] } },
      { delete_vectors: { points: [4], vector: ['v'] } },
    ],
  });
  assert.equal(res.length, 9);
  assert.ok(res.every((r) => r.status === 'completed'));
  const recs = await c.retrieve(name, { ids: [1, 2, 3, 4], with_vector: true });
  const byId = Object.fromEntries(recs.map((r) => [r.id, r]));
  assert.deepEqual(Object.keys(byId).sort(), ['1', '2', '4']);
  assert.deepEqual(byId[1].payload, { y: 'set' });
  assert.deepEqual(byId[2].payload, { z: 'over' });
  assert.ok(byId[4].payload == null || Object.keys(byId[4].payload).length === 0);
  assert.ok(byId[4].vector == null || Object.keys(byId[4].vector).length === 0, JSON.stringify(byId[4].vector));
});

describe('scroll and count', () => {
  let name;
  before(async () => {
    name = await createCollection(c, 'pts_scroll', { vectors: { size: 2, distance: 'Dot' } });
    const points = Array.from({ length: 25 }, (_, i) => ({
      id: i + 1,
      vector: [i, 1],
      payload: { color: ['red', 'green', 'blue'][i % 3], i },
    }));
    points.push({ id: U1, vector: [1, 1], payload: { color: 'red', i: 100 } });
    await c.upsert(name, { points });
  });

  test('scroll pages through every point in id order', async () => {
    const seen = [];
    let offset;
    let pages = 0;
    do {
      const page = await c.scroll(name, { limit: 7, offset, with_payload: false });
      assert.ok(page.points.length <= 7);
      seen.push(...ids(page.points));
      offset = page.next_page_offset;
      pages += 1;
      assert.ok(pages < 10, 'too many pages');
    } while (offset != null);
    assert.equal(pages, 4);
    assert.deepEqual(seen, [...Array.from({ length: 25 }, (_, i) => i + 1), U1], 'numeric ids before UUIDs');
  });

  test('scroll with a filter, payload selection and vectors', async () => {
    const page = await c.scroll(name, {
      filter: { must: [{ key: 'color', match: { value: 'blue' } }] },
      limit: 3,
      with_payload: ['i'],
      with_vector: true,
    });
    assert.deepEqual(ids(page.points), [3, 6, 9]);
    assert.equal(page.next_page_offset, 12);
    assert.deepEqual(page.points[0].payload, { i: 2 });
    assert.deepEqual(page.points[0].vector, [2, 1]);
  });

  test('count with and without a filter', async () => {
    assert.deepEqual(await c.count(name), { count: 26 });
    assert.deepEqual(await c.count(name, { filter: { must: [{ key: 'color', match: { value: 'red' } }] } }), { count: 10 });
    assert.deepEqual(
      await c.count(name, {
        exact: false,
        filter: { must_not: [{ key: 'color', match: { value: 'red' } }], must: [{ key: 'i', range: { lt: 10 } }] },
      }),
      { count: 6 },
    );
  });
});

test('concurrent writes and reads', async () => {
  const name = await createCollection(c, 'pts_concurrent', { vectors: { size: 4, distance: 'Cosine' } });
  const writers = Array.from({ length: 16 }, (_, w) =>
    c.upsert(name, {
      wait: w % 2 === 0,
      points: Array.from({ length: 50 }, (_, i) => ({
        id: w * 50 + i + 1,
        vector: [w + 1, i + 1, 1, (w * i) % 7],
        payload: { w, i },
      })),
    }),
  );
  const readers = Array.from({ length: 16 }, (_, r) =>
    r % 2 === 0
      ? c.query(name, { query: [1, 2, 3, 4], limit: 5, filter: { must: [{ key: 'i', range: { lt: 25 } }] } })
      : c.count(name, { filter: { must: [{ key: 'w', match: { value: r } }] } }),
  );
  const results = await Promise.all([...writers, ...readers]);
  assert.ok(results.slice(0, 16).every((r) => ['completed', 'acknowledged'].includes(r.status)));
  assert.deepEqual(await c.count(name), { count: 800 });
  // Every acknowledged write is visible, whatever wait said.
  for (let w = 0; w < 16; w++) {
    assert.deepEqual(await c.count(name, { filter: { must: [{ key: 'w', match: { value: w } }] } }), { count: 50 }, `writer ${w}`);
  }
  await Promise.all([
    c.delete(name, { filter: { must: [{ key: 'i', range: { gte: 25 } }] } }),
    c.setPayload(name, { filter: { must: [{ key: 'w', match: { value: 3 } }] }, payload: { tagged: true } }),
    c.query(name, { query: [4, 3, 2, 1], limit: 10 }),
  ]);
  assert.deepEqual(await c.count(name), { count: 400 });
  // Whichever of the delete and the set ran first, 25 points of writer 3
  // remain, all tagged.
  assert.deepEqual(await c.count(name, { filter: { must: [{ key: 'tagged', match: { value: true } }] } }), { count: 25 });
});
