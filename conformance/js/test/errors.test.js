// Errors as the client surfaces them: status codes and messages that say
// what was wrong.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { client, createCollection, uniqueName, expectStatus } from '../lib/helpers.js';

const c = client();

describe('request errors', () => {
  let name;
  let named;
  before(async () => {
    name = await createCollection(c, 'err_single', { vectors: { size: 3, distance: 'Cosine' } });
    named = await createCollection(c, 'err_named', { vectors: { a: { size: 2, distance: 'Dot' } } });
    await c.upsert(name, { points: [{ id: 1, vector: [1, 0, 0] }] });
    await c.upsert(named, { points: [{ id: 1, vector: { a: [1, 0] } }] });
  });

  test('missing collection: 404 naming it', async () => {
    const missing = uniqueName('err_missing');
    const re = new RegExp(`Collection \`${missing}\` doesn't exist`);
    await expectStatus(c.getCollection(missing), 404, re);
    await expectStatus(c.retrieve(missing, { ids: [1] }), 404, re);
    await expectStatus(c.scroll(missing), 404, re);
    await expectStatus(c.search(missing, { vector: [1, 0, 0] }), 404, re);
    await expectStatus(c.delete(missing, { points: [1] }), 404, re);
    await expectStatus(c.createPayloadIndex(missing, { field_name: 'k', field_schema: 'keyword' }), 404, re);
  });

  test('existing collection: 409', async () => {
    await expectStatus(c.createCollection(name, { vectors: { size: 3, distance: 'Cosine' } }), 409, /already exists/);
  });

  test('wrong dimension: 400 naming the expected and given dimensions', async () => {
    const dim = /dimension.*3.*2|3.*dimension.*2/i;
    let msg = await expectStatus(c.upsert(name, { points: [{ id: 2, vector: [1, 0] }] }), 400, /dim/i);
    assert.match(msg, dim, msg);
    msg = await expectStatus(c.query(name, { query: [1, 0] }), 400, /dim/i);
    assert.match(msg, dim, msg);
    msg = await expectStatus(c.search(name, { vector: [1, 0] }), 400, /dim/i);
    assert.match(msg, dim, msg);
    msg = await expectStatus(c.updateVectors(name, { points: [{ id: 1, vector: [1, 0] }] }), 400, /dim/i);
    assert.match(msg, dim, msg);
    msg = await expectStatus(c.upsert(name, { batch: { ids: [5], vectors: [[1, 2]] } }), 400, /dim/i);
    assert.match(msg, dim, msg);
    await expectStatus(c.upsert(named, { points: [{ id: 2, vector: { a: [1, 2, 3] } }] }), 400, /dim/i);
    // Nothing of a bad batch is written.
    await expectStatus(
      c.upsert(name, { points: [{ id: 10, vector: [1, 1, 1] }, { id: 11, vector: [1, 1] }] }),
      400,
      /points\[1\]/,
    );
    assert.deepEqual(await c.retrieve(name, { ids: [10, 11] }), []);
  });

  test('unknown vector name: 400 naming it', async () => {
    await expectStatus(c.upsert(named, { points: [{ id: 3, vector: { b: [1, 2] } }] }), 400, /\bb\b/);
    await expectStatus(c.query(named, { query: [1, 0], using: 'b' }), 400, /\bb\b/);
    // A collection of named vectors needs the name.
    await expectStatus(c.upsert(named, { points: [{ id: 3, vector: [1, 2] }] }), 400);
  });

  test('bad point ids: 400', async () => {
    await expectStatus(c.upsert(name, { points: [{ id: -1, vector: [1, 0, 0] }] }), 400, /id/);
    await expectStatus(c.upsert(name, { points: [{ id: 'not-a-uuid', vector: [1, 0, 0] }] }), 400, /not-a-uuid/);
    await expectStatus(c.retrieve(name, { ids: [1.5] }), 400);
  });

  test('bad limits: 422 for 0, 400 for negative numbers', async () => {
    await expectStatus(c.query(name, { query: [1, 0, 0], limit: 0 }), 422, /limit/);
    await expectStatus(c.scroll(name, { limit: -1 }), 400, /limit/);
    await expectStatus(c.query(name, { query: [1, 0, 0], offset: -2 }), 400, /offset/);
    await expectStatus(c.query(name, { query: [1, 0, 0], params: { hnsw_ef: 0 } }), 422, /hnsw_ef/);
  });

  test('bad payloads and selections: 400', async () => {
    await expectStatus(c.setPayload(name, { points: [1], payload: [1, 2] }), 400, /payload/);
    await expectStatus(c.retrieve(name, { ids: [1], with_payload: 7 }), 400, /with_payload/);
    await expectStatus(c.deleteVectors(name, { points: [1], vector: [] }), 422, /vector/);
  });

  test('a missing point: 404 for vector updates, query by id and get', async () => {
    await expectStatus(c.updateVectors(name, { points: [{ id: 404, vector: [1, 0, 0] }] }), 404, /404/);
    await expectStatus(c.query(name, { query: 404 }), 404, /404/);
    await expectStatus(c.api().getPoint({ collection_name: name, id: 404 }), 404, /404/);
  });

  test('features not implemented yet are refused with 400, never ignored', async () => {
    await expectStatus(c.query(name, { query: { discover: { target: 1, context: [] } } }), 400, /discover.*not supported/);
    await expectStatus(c.query(name, { query: { order_by: 'k' } }), 400, /order_by.*not supported/);
    await expectStatus(c.query(name, { query: { indices: [1], values: [1] } }), 400, /sparse.*not supported/);
    await expectStatus(c.scroll(name, { order_by: 'k' }), 400, /order_by.*not supported/);
    await expectStatus(
      c.createCollection(uniqueName('err_mv'), {
        vectors: { size: 2, distance: 'Dot', multivector_config: { comparator: 'max_sim' } },
      }),
      400,
      /multivector.*not supported/,
    );
  });
});
