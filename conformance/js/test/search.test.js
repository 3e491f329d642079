// Search and query: scores of every distance against hand-computed values,
// query forms (vector, nearest, point id, named vector), parameters,
// thresholds, paging, payload and vector selection, batches.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { client, createCollection, expectStatus, assertClose, ids } from '../lib/helpers.js';

const c = client();

// The same five points in a collection per distance; the query is [1, 0, 0].
const POINTS = [
  { id: 1, vector: [2, 0, 0], payload: { name: 'a', n: 1 } },
  { id: 2, vector: [0.6, 0.8, 0], payload: { name: 'b', n: 2 } },
  { id: 3, vector: [0, 3, 0], payload: { name: 'c', n: 3 } },
  { id: 4, vector: [0, 0, 1], payload: { name: 'd', n: 4 } },
  { id: 5, vector: [-1, 0, 0], payload: { name: 'e', n: 5 } },
];
const Q = [1, 0, 0];

// Expected scores, computed by hand for Q against each point:
//   Cosine:    q·p / (|q| |p|)          → 1, 0.6, 0, 0, -1
//   Dot:       q·p                      → 2, 0.6, 0, 0, -1
//   Euclid:    sqrt(Σ (q_i - p_i)²)     → 1, √0.8, √10, √2, 2
//   Manhattan: Σ |q_i - p_i|            → 1, 1.2, 4, 2, 2
const EXPECTED = {
  Cosine: { 1: 1, 2: 0.6, 3: 0, 4: 0, 5: -1 },
  Dot: { 1: 2, 2: 0.6, 3: 0, 4: 0, 5: -1 },
  Euclid: { 1: 1, 2: Math.sqrt(0.8), 3: Math.sqrt(10), 4: Math.SQRT2, 5: 2 },
  Manhattan: { 1: 1, 2: 1.2, 3: 4, 4: 2, 5: 2 },
};
const HIGHER_IS_BETTER = { Cosine: true, Dot: true, Euclid: false, Manhattan: false };

const collections = {};

before(async () => {
  for (const distance of Object.keys(EXPECTED)) {
    collections[distance] = await createCollection(c, `search_${distance.toLowerCase()}`, {
      vectors: { size: 3, distance },
    });
    await c.upsert(collections[distance], { points: POINTS });
  }
});

/** checkRanking checks scores against EXPECTED and their order. */
function checkRanking(distance, points, what) {
  const want = EXPECTED[distance];
  for (const p of points) {
    assertClose(p.score, want[p.id], 1e-5, `${what}: ${distance} score of point ${p.id}`);
  }
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1].score, points[i].score];
    assert.ok(HIGHER_IS_BETTER[distance] ? a >= b : a <= b, `${what}: ${distance} results out of order: ${JSON.stringify(points)}`);
  }
}

describe('scores of every distance match hand-computed values', () => {
  for (const distance of Object.keys(EXPECTED)) {
    test(`${distance}: query`, async () => {
      const res = await c.query(collections[distance], { query: Q, limit: 10 });
      assert.equal(res.points.length, 5);
      checkRanking(distance, res.points, 'query');
      // The best point is unambiguous for every distance.
      assert.equal(res.points[0].id, distance === 'Euclid' ? 2 : 1);
    });

    test(`${distance}: search`, async () => {
      const res = await c.search(collections[distance], { vector: Q, limit: 10 });
      assert.equal(res.length, 5);
      checkRanking(distance, res, 'search');
    });

    test(`${distance}: exact and hnsw_ef give the same answer`, async () => {
      const exact = await c.query(collections[distance], { query: Q, limit: 3, params: { exact: true } });
      const ef = await c.query(collections[distance], { query: Q, limit: 3, params: { hnsw_ef: 64 } });
      checkRanking(distance, exact.points, 'exact');
      assert.deepEqual(exact.points.map((p) => p.score), ef.points.map((p) => p.score));
    });
  }

  test('Cosine vectors are normalised on write', async () => {
    const [rec] = await c.retrieve(collections.Cosine, { ids: [1], with_vector: true });
    assert.deepEqual(rec.vector, [1, 0, 0]);
  });

  test('score_threshold keeps better scores: higher for similarities, lower for distances', async () => {
    const cos = await c.query(collections.Cosine, { query: Q, score_threshold: 0.5 });
    assert.deepEqual(ids(cos.points), [1, 2]);
    const dot = await c.search(collections.Dot, { vector: Q, score_threshold: 0.5 });
    assert.deepEqual(ids(dot), [1, 2]);
    const euclid = await c.query(collections.Euclid, { query: Q, score_threshold: 1.2 });
    assert.deepEqual(ids(euclid.points), [2, 1]);
    const manhattan = await c.query(collections.Manhattan, { query: Q, score_threshold: 1.5 });
    assert.deepEqual(ids(manhattan.points), [1, 2]);
  });
});

describe('query', () => {
  let named;
  before(async () => {
    named = await createCollection(c, 'query_named', {
      vectors: { img: { size: 2, distance: 'Dot' }, txt: { size: 3, distance: 'Cosine' } },
    });
    await c.upsert(named, {
      points: [
        { id: 1, vector: { img: [1, 0], txt: [0, 0, 1] }, payload: { k: 'one', tags: ['x'], deep: { a: 1, b: 2 } } },
        { id: 2, vector: { img: [0, 1], txt: [0, 1, 0] }, payload: { k: 'two', tags: ['y'] } },
        { id: 3, vector: { img: [2, 2], txt: [1, 0, 0] }, payload: { k: 'three', tags: ['x', 'y'] } },
        { id: 4, vector: { img: [0.5, 0.5] }, payload: { k: 'four' } },
      ],
    });
  });

  test('using a named vector', async () => {
    const img = await c.query(named, { query: [1, 0], using: 'img' });
    assert.deepEqual(ids(img.points), [3, 1, 4, 2]);
    assertClose(img.points[0].score, 2);
    const txt = await c.query(named, { query: [0, 1, 0], using: 'txt' });
    assert.equal(txt.points[0].id, 2);
    assertClose(txt.points[0].score, 1);
    assert.equal(txt.points.length, 3, 'points without the vector are not candidates');
  });

  test('nearest form', async () => {
    const res = await c.query(named, { query: { nearest: [1, 0] }, using: 'img', limit: 1 });
    assert.deepEqual(ids(res.points), [3]);
  });

  test('by point id: the point itself is left out', async () => {
    const res = await c.query(named, { query: 1, using: 'img' });
    assert.ok(!ids(res.points).includes(1));
    assert.equal(res.points[0].id, 3);
    assertClose(res.points[0].score, 2);
    await expectStatus(c.query(named, { query: 99, using: 'img' }), 404, /99/);
  });

  test('filter, limit and offset', async () => {
    const all = await c.query(named, { query: [1, 1], using: 'img' });
    // Dot with [1, 1]: 4 for point 3, 1 for the three others.
    assert.equal(all.points.length, 4);
    assert.equal(all.points[0].id, 3);
    const page = await c.query(named, { query: [1, 1], using: 'img', limit: 2, offset: 1 });
    assert.deepEqual(ids(page.points), ids(all.points).slice(1, 3));
    const filtered = await c.query(named, {
      query: [1, 0],
      using: 'img',
      filter: { must: [{ key: 'tags', match: { value: 'y' } }] },
    });
    assert.deepEqual(ids(filtered.points), [3, 2]);
  });

  test('with_payload: bool, list, include, exclude; with_vector: bool, list', async () => {
    const q = { query: [1, 0], using: 'img', limit: 1 };
    let [p] = (await c.query(named, q)).points;
    assert.ok(p.payload == null, 'no payload by default');
    assert.ok(p.vector == null, 'no vector by default');
    [p] = (await c.query(named, { ...q, with_payload: true })).points;
    assert.deepEqual(p.payload, { k: 'three', tags: ['x', 'y'] });
    [p] = (await c.query(named, { ...q, with_payload: false })).points;
    assert.ok(p.payload == null);
    [p] = (await c.query(named, { ...q, with_payload: ['k'] })).points;
    assert.deepEqual(p.payload, { k: 'three' });
    [p] = (await c.query(named, { ...q, with_payload: { include: ['tags'] } })).points;
    assert.deepEqual(p.payload, { tags: ['x', 'y'] });
    [p] = (await c.query(named, { ...q, with_payload: { exclude: ['tags'] } })).points;
    assert.deepEqual(p.payload, { k: 'three' });
    const [one] = (await c.query(named, { query: [0, 0, 1], using: 'txt', limit: 1, with_payload: ['deep.a'] })).points;
    assert.deepEqual(one.payload, { deep: { a: 1 } });
    [p] = (await c.query(named, { ...q, with_vector: true })).points;
    assert.deepEqual(p.vector, { img: [2, 2], txt: [1, 0, 0] });
    [p] = (await c.query(named, { ...q, with_vector: ['txt'] })).points;
    assert.deepEqual(p.vector, { txt: [1, 0, 0] });
  });

  test('without a query: points in id order', async () => {
    const res = await c.query(named, { limit: 2, offset: 1, with_payload: ['k'] });
    assert.deepEqual(ids(res.points), [2, 3]);
    assert.deepEqual(res.points[0].payload, { k: 'two' });
  });

  test('queryBatch answers each query in order', async () => {
    const res = await c.queryBatch(named, {
      searches: [
        { query: [1, 0], using: 'img', limit: 2 },
        { query: 2, using: 'txt', limit: 5, with_payload: true },
        { query: [0, 1], using: 'img', filter: { must: [{ has_id: [1, 4] }] } },
        { limit: 1 },
      ],
    });
    assert.equal(res.length, 4);
    assert.deepEqual(ids(res[0].points), [3, 1]);
    assert.ok(!ids(res[1].points).includes(2));
    assert.equal(res[1].points.length, 2);
    assert.ok(res[1].points.every((p) => typeof p.payload.k === 'string'));
    assert.deepEqual(ids(res[2].points), [4, 1]);
    assert.deepEqual(ids(res[3].points), [1]);
  });

  test('search with a named vector and searchBatch', async () => {
    const res = await c.search(named, { vector: { name: 'img', vector: [1, 0] }, limit: 2, with_payload: ['k'] });
    assert.deepEqual(ids(res), [3, 1]);
    assert.deepEqual(res[0].payload, { k: 'three' });
    const batch = await c.searchBatch(named, {
      searches: [
        { vector: { name: 'img', vector: [0, 1] }, limit: 1 },
        { vector: { name: 'txt', vector: [1, 0, 0] }, limit: 1, with_vector: true },
        { vector: { name: 'img', vector: [1, 0] }, limit: 10, offset: 2, filter: { must_not: [{ has_id: [4] }] } },
      ],
    });
    assert.equal(batch.length, 3);
    assert.equal(batch[0][0].id, 3);
    assert.equal(batch[1][0].id, 3);
    assert.deepEqual(batch[1][0].vector, { img: [2, 2], txt: [1, 0, 0] });
    assert.deepEqual(ids(batch[2]), [2]);
  });

  test('query with an unknown vector name is 400', async () => {
    await expectStatus(c.query(named, { query: [1, 0], using: 'nope' }), 400, /nope/);
  });
});

describe('indexed search agrees with exact search', () => {
  // Strata seals its in-memory segment at 20,000 points (not configurable
  // over REST) and then builds its HNSW graph in the background.
  test('HNSW graph over a sealed segment, with and without a filter', { timeout: 60_000 }, async () => {
    const dim = 4;
    const total = 20_500;
    const name = await createCollection(c, 'search_hnsw', {
      vectors: { size: dim, distance: 'Cosine' },
      hnsw_config: { m: 8, ef_construct: 32, full_scan_threshold: 10 },
      optimizers_config: { indexing_threshold: 10 },
    });
    // Deterministic pseudo-random vectors (mulberry32).
    let seed = 42;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
    };
    for (let start = 0; start < total; start += 5000) {
      const n = Math.min(5000, total - start);
      await c.upsert(name, {
        points: Array.from({ length: n }, (_, i) => ({
          id: start + i + 1,
          vector: Array.from({ length: dim }, rnd),
          payload: { bucket: (start + i) % 4 },
        })),
      });
    }
    let info;
    const deadline = Date.now() + 45_000;
    for (;;) {
      info = await c.getCollection(name);
      if (info.status === 'green' && info.indexed_vectors_count >= 20_000) break;
      assert.ok(Date.now() < deadline, `not indexed in time: ${JSON.stringify(info)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(info.points_count, total);
    assert.ok(info.segments_count >= 1);

    for (let q = 0; q < 5; q++) {
      const query = Array.from({ length: dim }, rnd);
      for (const filter of [undefined, { must: [{ key: 'bucket', match: { value: 1 } }] }]) {
        const exact = await c.query(name, { query, limit: 5, filter, params: { exact: true } });
        const approx = await c.query(name, { query, limit: 5, filter, params: { hnsw_ef: 256 } });
        assert.equal(exact.points.length, 5);
        assert.equal(approx.points.length, 5);
        if (filter) assert.ok(exact.points.every((p) => (p.id - 1) % 4 === 1));
        const want = new Set(ids(exact.points));
        const found = ids(approx.points).filter((id) => want.has(id)).length;
        assert.ok(found >= 4, `recall@5 ${found}/5: exact ${ids(exact.points)}, hnsw ${ids(approx.points)}`);
        assert.equal(approx.points[0].id, exact.points[0].id);
        assertClose(approx.points[0].score, exact.points[0].score);
      }
    }
  });
});
