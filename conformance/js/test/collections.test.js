// Collections: create (every form of vectors config), get, exists, list,
// update, delete, through QdrantClient's collection methods.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { client, createCollection, uniqueName, expectStatus } from '../lib/helpers.js';

const c = client();

test('versionInfo reports a Qdrant 1.x API version the client accepts', async () => {
  const info = await c.versionInfo();
  assert.equal(info.title, 'strata');
  const [major, minor] = info.version.split('.').map(Number);
  assert.equal(major, 1);
  // The client's compatibility rule: same major, minor within 1 (1.18 client).
  assert.ok(Math.abs(minor - 18) <= 1, `version ${info.version}`);
});

describe('single unnamed vector', () => {
  test('create, exists, list, get, delete', async () => {
    const name = uniqueName('coll_single');
    assert.equal(await c.collectionExists(name).then((r) => r.exists), false);
    assert.equal(await c.createCollection(name, { vectors: { size: 4, distance: 'Cosine' } }), true);
    try {
      assert.deepEqual(await c.collectionExists(name), { exists: true });

      const list = await c.getCollections();
      assert.ok(Array.isArray(list.collections));
      assert.ok(list.collections.some((x) => x.name === name), `${name} not in ${JSON.stringify(list)}`);

      const info = await c.getCollection(name);
      assert.equal(info.status, 'green');
      assert.equal(info.optimizer_status, 'ok');
      assert.equal(info.points_count, 0);
      assert.equal(info.indexed_vectors_count, 0);
      assert.deepEqual(info.config.params.vectors, { size: 4, distance: 'Cosine' });
      assert.equal(info.config.params.shard_number, 1);
      assert.equal(info.config.params.replication_factor, 1);
      assert.deepEqual(info.payload_schema, {});
      assert.equal(typeof info.config.hnsw_config.m, 'number');
      assert.equal(typeof info.config.optimizer_config.indexing_threshold, 'number');

      await c.upsert(name, {
        points: [
          { id: 1, vector: [1, 0, 0, 0] },
          { id: 2, vector: [0, 1, 0, 0] },
        ],
      });
      assert.equal((await c.getCollection(name)).points_count, 2);
    } finally {
      assert.equal(await c.deleteCollection(name), true);
    }
    assert.deepEqual(await c.collectionExists(name), { exists: false });
    assert.ok(!(await c.getCollections()).collections.some((x) => x.name === name));
    // Deleting a missing collection answers false, as Qdrant does.
    assert.equal(await c.deleteCollection(name), false);
    await expectStatus(c.getCollection(name), 404, /doesn't exist/);
  });

  test('every distance is accepted and reported', async () => {
    for (const distance of ['Cosine', 'Dot', 'Euclid', 'Manhattan']) {
      const name = await createCollection(c, `coll_dist_${distance.toLowerCase()}`, {
        vectors: { size: 2, distance },
      });
      const info = await c.getCollection(name);
      assert.deepEqual(info.config.params.vectors, { size: 2, distance });
    }
  });

  test('options Strata accepts and ignores do not fail the create', async () => {
    const name = await createCollection(c, 'coll_ignored', {
      vectors: { size: 3, distance: 'Dot', on_disk: true, datatype: 'float32' },
      shard_number: 1,
      replication_factor: 1,
      write_consistency_factor: 1,
      on_disk_payload: true,
      wal_config: { wal_capacity_mb: 32 },
      quantization_config: { scalar: { type: 'int8', always_ram: true } },
    });
    const info = await c.getCollection(name);
    assert.deepEqual(info.config.params.vectors, { size: 3, distance: 'Dot' });
  });
});

test('named vectors', async () => {
  const name = await createCollection(c, 'coll_named', {
    vectors: {
      image: { size: 3, distance: 'Dot' },
      text: { size: 2, distance: 'Euclid' },
    },
  });
  const info = await c.getCollection(name);
  assert.deepEqual(info.config.params.vectors, {
    image: { size: 3, distance: 'Dot' },
    text: { size: 2, distance: 'Euclid' },
  });
  await c.upsert(name, {
    points: [
      { id: 1, vector: { image: [1, 2, 3], text: [0.5, 0.5] }, payload: { a: 1 } },
      { id: 2, vector: { image: [0, 0, 1] } }, // a point may lack a named vector
    ],
  });
  const recs = await c.retrieve(name, { ids: [1, 2], with_vector: true });
  assert.equal(recs.length, 2);
  const byId = Object.fromEntries(recs.map((r) => [r.id, r]));
  assert.deepEqual(byId[1].vector, { image: [1, 2, 3], text: [0.5, 0.5] });
  assert.deepEqual(byId[2].vector, { image: [0, 0, 1] });
  const only = await c.retrieve(name, { ids: [1], with_vector: ['text'], with_payload: false });
  assert.deepEqual(only[0].vector, { text: [0.5, 0.5] });
});

test('sparse vectors are stored and returned', async () => {
  const name = await createCollection(c, 'coll_sparse', {
    vectors: { dense: { size: 2, distance: 'Cosine' } },
    sparse_vectors: { keywords: {}, other: { modifier: 'none' } },
  });
  const info = await c.getCollection(name);
  assert.deepEqual(Object.keys(info.config.params.sparse_vectors ?? {}).sort(), ['keywords', 'other']);
  await c.upsert(name, {
    points: [
      { id: 7, vector: { dense: [1, 0], keywords: { indices: [3, 10, 42], values: [0.1, 0.2, 0.3] } } },
    ],
  });
  const [rec] = await c.retrieve(name, { ids: [7], with_vector: true });
  const sp = rec.vector.keywords;
  assert.deepEqual(sp.indices, [3, 10, 42]);
  assert.equal(sp.values.length, 3);
  sp.values.forEach((v, i) => assert.ok(Math.abs(v - [0.1, 0.2, 0.3][i]) < 1e-6));
  assert.deepEqual(rec.vector.dense, [1, 0]);
});

test('hnsw_config and optimizers_config are applied and reported', async () => {
  const name = await createCollection(c, 'coll_cfg', {
    vectors: { size: 4, distance: 'Euclid' },
    hnsw_config: { m: 8, ef_construct: 64, full_scan_threshold: 1000 },
    optimizers_config: {
      indexing_threshold: 0,
      deleted_threshold: 0.5,
      vacuum_min_vector_number: 200,
      default_segment_number: 2,
    },
  });
  let info = await c.getCollection(name);
  assert.equal(info.config.hnsw_config.m, 8);
  assert.equal(info.config.hnsw_config.ef_construct, 64);
  assert.equal(info.config.hnsw_config.full_scan_threshold, 1000);
  assert.equal(info.config.optimizer_config.indexing_threshold, 0);
  assert.equal(info.config.optimizer_config.deleted_threshold, 0.5);
  assert.equal(info.config.optimizer_config.vacuum_min_vector_number, 200);
  assert.equal(info.config.optimizer_config.default_segment_number, 2);

  assert.equal(
    await c.updateCollection(name, {
      hnsw_config: { m: 32, ef_construct: 128 },
      optimizers_config: { indexing_threshold: 20000 },
    }),
    true,
  );
  info = await c.getCollection(name);
  assert.equal(info.config.hnsw_config.m, 32);
  assert.equal(info.config.hnsw_config.ef_construct, 128);
  assert.equal(info.config.hnsw_config.full_scan_threshold, 1000, 'fields not in the diff keep their value');
  assert.equal(info.config.optimizer_config.indexing_threshold, 20000);
  assert.equal(info.config.optimizer_config.deleted_threshold, 0.5);

  // An empty update succeeds and changes nothing.
  assert.equal(await c.updateCollection(name, {}), true);
  assert.equal((await c.getCollection(name)).config.hnsw_config.m, 32);
});

test('optimizers_config.max_segment_size and max_optimization_threads are reported as given', async () => {
  // max_segment_size is in KiB; Strata stores a point count and converts back.
  for (const size of [4, 3, 7]) {
    const name = await createCollection(c, `coll_segsize${size}`, {
      vectors: { size, distance: 'Dot' },
      optimizers_config: { max_segment_size: 100_000, max_optimization_threads: 0 },
    });
    const opt = (await c.getCollection(name)).config.optimizer_config;
    assert.equal(opt.max_optimization_threads, 0);
    assert.equal(opt.max_segment_size, 100_000, `vectors of size ${size}`);
  }
});

describe('collection errors', () => {
  test('creating an existing collection is 409', async () => {
    const name = await createCollection(c, 'coll_dup', { vectors: { size: 2, distance: 'Dot' } });
    await expectStatus(c.createCollection(name, { vectors: { size: 2, distance: 'Dot' } }), 409, /already exists/);
  });

  test('a missing collection is 404 for get, update and points', async () => {
    const name = uniqueName('coll_missing');
    await expectStatus(c.getCollection(name), 404, new RegExp(`Collection \`${name}\` doesn't exist`));
    await expectStatus(c.updateCollection(name, { optimizers_config: { indexing_threshold: 1 } }), 404);
    await expectStatus(c.upsert(name, { points: [{ id: 1, vector: [1] }] }), 404);
    await expectStatus(c.query(name, { query: [1] }), 404);
    await expectStatus(c.count(name), 404);
  });

  test('bad configurations are refused with the field named', async () => {
    const name = uniqueName('coll_bad');
    await expectStatus(c.createCollection(name, { vectors: { size: 4, distance: 'Cosinus' } }), 400, /distance/);
    await expectStatus(c.createCollection(name, { vectors: { size: 0, distance: 'Dot' } }), 422, /size/);
    await expectStatus(c.createCollection(name, { vectors: { distance: 'Dot' } }), 400, /size/);
    await expectStatus(
      c.createCollection(name, { vectors: { size: 2, distance: 'Dot' }, hnsw_config: { ef_construct: 1 } }),
      422,
      /hnsw_config\.ef_construct/,
    );
    assert.deepEqual(await c.collectionExists(name), { exists: false });
  });

  test('updating a vector the collection lacks is 400', async () => {
    const name = await createCollection(c, 'coll_upd_bad', { vectors: { a: { size: 2, distance: 'Dot' } } });
    await expectStatus(c.updateCollection(name, { vectors: { b: { on_disk: true } } }), 400, /vectors\.b/);
  });
});
