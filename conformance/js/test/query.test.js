// The universal query API and the endpoints built on it, through Qdrant's
// JavaScript client: prefetch (nested) with RRF and DBSF fusion, MMR,
// recommend (as a query and the older endpoints), groups (query, search,
// recommend), batches. Expected scores are computed by hand in comments.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { client, createCollection, expectStatus, assertClose, ids } from '../lib/helpers.js';

const c = client();

// Fusion data: 1-d Dot vectors "a" and "b"; a query [1] ranks by value.
//   a: 1 → 3, 2 → 2, 3 → 1      (ranks 0, 1, 2)
//   b: 2 → 5, 3 → 1, 1 → 0      (ranks 0, 1, 2)
let fused;
// Recommend data: 2-d Dot, 1 (1,0), 2 (0,1), 3 (1,1), 4 (−1,0), 5 (2,−1).
let reco;

const TWO = [
  { query: [1], using: 'a', limit: 3 },
  { query: [1], using: 'b', limit: 3 },
];

function scores(points) {
  return points.map((p) => [p.id, p.score]);
}

function assertScores(points, want, what) {
  assert.deepEqual(ids(points), want.map(([id]) => id), `${what}: ${JSON.stringify(scores(points))}`);
  want.forEach(([, s], i) => assertClose(points[i].score, s, 1e-5, `${what}: score of ${want[i][0]}`));
}

before(async () => {
  fused = await createCollection(c, 'query_fusion', {
    vectors: { a: { size: 1, distance: 'Dot' }, b: { size: 1, distance: 'Dot' } },
  });
  await c.upsert(fused, {
    wait: true,
    points: [
      { id: 1, vector: { a: [3], b: [0] }, payload: { g: 'x' } },
      { id: 2, vector: { a: [2], b: [5] }, payload: { g: ['x', 'y'] } },
      { id: 3, vector: { a: [1], b: [1] }, payload: { g: 7 } },
    ],
  });
  reco = await createCollection(c, 'query_reco', { vectors: { size: 2, distance: 'Dot' } });
  await c.upsert(reco, {
    wait: true,
    points: [
      { id: 1, vector: [1, 0], payload: { g: 'p' } },
      { id: 2, vector: [0, 1], payload: { g: 'q' } },
      { id: 3, vector: [1, 1], payload: { g: 'p' } },
      { id: 4, vector: [-1, 0], payload: { g: 'q' } },
      { id: 5, vector: [2, -1], payload: { g: 'p' } },
    ],
  });
});

describe('prefetch and fusion', () => {
  test('RRF: Σ 1/(2 + rank)', async () => {
    // 1: 1/2 + 1/4; 2: 1/3 + 1/2; 3: 1/4 + 1/3.
    const res = await c.query(fused, { prefetch: TWO, query: { fusion: 'rrf' }, limit: 3 });
    assertScores(res.points, [[2, 1 / 3 + 1 / 2], [1, 0.75], [3, 1 / 4 + 1 / 3]], 'rrf');
  });

  test('RRF with k and weights', async () => {
    // k = 1: 2 → 1/2 + 1, 1 → 1 + 1/3.
    let res = await c.query(fused, { prefetch: TWO, query: { rrf: { k: 1 } }, limit: 2 });
    assertScores(res.points, [[2, 1.5], [1, 4 / 3]], 'rrf k=1');
    // weights 3, 1: a contributes 1/(2 + (r+1)/3 − 1): 0.75, 0.6, 0.5.
    res = await c.query(fused, { prefetch: TWO, query: { rrf: { weights: [3, 1] } } });
    assertScores(res.points, [[2, 1.1], [1, 1], [3, 0.5 + 1 / 3]], 'weighted rrf');
  });

  test('DBSF: (s − (μ − 3σ)) / 6σ per prefetch, summed', async () => {
    // a: μ 2, σ 1 → (s + 1)/6. b: 5, 1, 0 → μ 2, σ √7 → (s − 2 + 3√7)/(6√7).
    const s7 = Math.sqrt(7);
    const b = (s) => (s - 2 + 3 * s7) / (6 * s7);
    const res = await c.query(fused, { prefetch: TWO, query: { fusion: 'dbsf' } });
    assertScores(res.points, [[2, 0.5 + b(5)], [1, 2 / 3 + b(0)], [3, 1 / 3 + b(1)]], 'dbsf');
  });

  test('fusion needs prefetches', async () => {
    await expectStatus(c.query(fused, { query: { fusion: 'rrf' } }), 400, /query\.fusion: fusion needs prefetches/);
    await expectStatus(c.query(fused, { prefetch: TWO }), 400, /Wrong input: query: missing/);
  });

  test('nested prefetches rescore, the top filter reaches the leaves', async () => {
    // Leaf: the 3 best by a except 1 (filtered): 2, 3; middle: by b, 2 → 5,
    // 3 → 1; top: by a, 2 → 2, 3 → 1.
    const res = await c.query(fused, {
      prefetch: { prefetch: { query: [1], using: 'a', limit: 3 }, query: [1], using: 'b', limit: 2 },
      query: [1],
      using: 'a',
      filter: { must_not: [{ has_id: [1] }] },
      with_payload: true,
    });
    assertScores(res.points, [[2, 2], [3, 1]], 'nested');
    assert.deepEqual(res.points[0].payload, { g: ['x', 'y'] });
  });

  test('offset pages the top level only', async () => {
    const res = await c.query(fused, { prefetch: TWO, query: { fusion: 'rrf' }, limit: 1, offset: 1 });
    assertScores(res.points, [[1, 0.75]], 'offset');
  });

  test('MMR: scores are similarities, order is the selection', async () => {
    // λ = 0.5; after 1 (3): 2 → 0.5·2 − 0.5·6 = −2, 3 → 0.5·1 − 0.5·3 = −1.
    const res = await c.query(fused, { query: { nearest: [1], mmr: { diversity: 0.5, candidates_limit: 3 } }, using: 'a', limit: 2 });
    assertScores(res.points, [[1, 3], [3, 1]], 'mmr');
  });

  test('query batch', async () => {
    const res = await c.queryBatch(fused, {
      searches: [
        { prefetch: TWO, query: { fusion: 'rrf' }, limit: 1 },
        { query: 3, using: 'a' },
        { query: [1], using: 'b', limit: 1 },
      ],
    });
    assert.equal(res.length, 3);
    assertScores(res[0].points, [[2, 1 / 3 + 1 / 2]], 'batch rrf');
    assertScores(res[1].points, [[1, 3], [2, 2]], 'batch by id');
    assertScores(res[2].points, [[2, 5]], 'batch vector');
  });
});

describe('recommend', () => {
  // Positive 1, negative 2, both left out of the results.
  test('average_vector: 2·(1,0) − (0,1) = (2,−1)', async () => {
    const res = await c.query(reco, { query: { recommend: { positive: [1], negative: [2] } } });
    assertScores(res.points, [[5, 5], [3, 1], [4, -2]], 'average');
    const old = await c.recommend(reco, { positive: [1], negative: [2], limit: 3 });
    assertScores(old, [[5, 5], [3, 1], [4, -2]], 'recommend endpoint');
  });

  test('best_score: sigmoid(p) if p > n, else −sigmoid(n)', async () => {
    const sig = (x) => 0.5 * (1 + x / (1 + Math.abs(x)));
    // 3: p = n = 1; 4: p = −1, n = 0; 5: p = 2, n = −1.
    const res = await c.recommend(reco, { positive: [1], negative: [2], strategy: 'best_score', limit: 3 });
    assertScores(res, [[5, sig(2)], [4, -sig(0)], [3, -sig(1)]], 'best_score');
  });

  test('sum_scores, vectors as examples', async () => {
    // (1,0)· − (0,1)·: 5 → 3, 1 → 1, 3 → 0, 2 → −1, 4 → −1 (nothing left out).
    const res = await c.query(reco, { query: { recommend: { positive: [[1, 0]], negative: [[0, 1]], strategy: 'sum_scores' } }, limit: 3 });
    assertScores(res.points, [[5, 3], [1, 1], [3, 0]], 'sum_scores');
  });

  test('recommend batch', async () => {
    const res = await c.recommendBatch(reco, {
      searches: [
        { positive: [1], limit: 1 },
        { positive: [2], negative: [1], strategy: 'sum_scores', limit: 2 },
      ],
    });
    // Second: (0,1)· − (1,0)·: 3 → 0, 4 → 1, 5 → −3.
    assertScores(res[0], [[5, 2]], 'batch 0');
    assertScores(res[1], [[4, 1], [3, 0]], 'batch 1');
  });

  test('errors', async () => {
    await expectStatus(c.recommend(reco, { negative: [1], limit: 2 }), 400, /average_vector strategy needs at least one positive example/);
    await expectStatus(c.recommend(reco, { positive: [42], limit: 2 }), 404, /point 42 not found/);
  });
});

describe('groups', () => {
  test('query groups: arrays join several groups, integers are ids', async () => {
    const res = await c.queryGroups(fused, { query: [1], using: 'a', group_by: 'g', group_size: 1, limit: 3 });
    assert.deepEqual(res.groups.map((g) => [g.id, ids(g.hits)]), [['x', [1]], ['y', [2]], [7, [3]]]);
  });

  test('search groups and recommend groups', async () => {
    // (1, 0.1)·: 5 → 1.9, 3 → 1.1, 1 → 1, 2 → 0.1, 4 → −1.
    let res = await c.searchPointGroups(reco, { vector: [1, 0.1], group_by: 'g', group_size: 2, limit: 2 });
    assert.deepEqual(res.groups.map((g) => [g.id, ids(g.hits)]), [['p', [5, 3]], ['q', [2, 4]]]);
    res = await c.recommendPointGroups(reco, { positive: [1], group_by: 'g', group_size: 1, limit: 2 });
    assert.deepEqual(res.groups.map((g) => [g.id, ids(g.hits)]), [['p', [5]], ['q', [2]]]);
  });

  test('with_lookup', async () => {
    const docs = await createCollection(c, 'query_docs', { vectors: { size: 1, distance: 'Dot' } });
    await c.upsert(docs, { wait: true, points: [{ id: 7, vector: [1], payload: { title: 'seven' } }] });
    const res = await c.queryGroups(fused, { query: [1], using: 'a', group_by: 'g', group_size: 1, with_lookup: docs });
    const seven = res.groups.find((g) => g.id === 7);
    assert.deepEqual(seven.lookup.payload, { title: 'seven' });
    assert.equal(res.groups.find((g) => g.id === 'x').lookup ?? null, null);
  });
});
