// The points, payload indexes and filters shared by test/filters.test.js
// (on fresh collections) and restart/ (on collections sealed by a server
// restart), with the ids each filter must select.
import assert from 'node:assert/strict';

export const UID1 = '550e8400-e29b-41d4-a716-446655440000';
export const UID2 = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

export const POINTS = [
  {
    id: 1,
    vector: [1, 0],
    payload: {
      city: 'Berlin', count: 5, price: 9.5, ok: true,
      loc: { lon: 13.405, lat: 52.52 },
      ts: '2024-01-15T10:00:00Z',
      desc: 'The quick brown fox jumps',
      uid: UID1,
      tags: ['a', 'b'],
      items: [{ name: 'x', qty: 1 }, { name: 'y', qty: 5 }],
      maybe: null,
    },
  },
  {
    id: 2,
    vector: [0, 1],
    payload: {
      city: 'Paris', count: 10, price: 20, ok: false,
      loc: [{ lon: 2.3522, lat: 48.8566 }, { lon: 151.2, lat: -33.86 }], // Paris and Sydney
      ts: '2024-03-01T00:00:00Z',
      desc: 'Lazy dogs sleep all day',
      uid: UID2,
      tags: [],
      items: [{ name: 'x', qty: 7 }],
      maybe: 'value',
    },
  },
  {
    id: 3,
    vector: [1, 1],
    payload: {
      city: 'London', count: 15, price: 30.25, ok: true,
      loc: { lon: -0.1276, lat: 51.5072 },
      ts: '2024-06-30T23:59:59+02:00', // 21:59:59 UTC
      desc: 'A QUICK test of fox-like agility',
      tags: ['b', 'c', 'd'],
      items: [],
    },
  },
  {
    id: 4,
    vector: [-1, 0],
    payload: {
      city: 'Berlin', count: 20, ok: false,
      loc: { lon: 13.3, lat: 52.4 }, // about 15 km from point 1
      ts: ['2023-12-31T12:00:00Z', '2019-05-05T05:05:05Z'],
      desc: ['nothing here', 'brown fox'],
      tags: ['a'],
    },
  },
  {
    id: 5,
    vector: [0, -1],
    payload: {
      city: 'Tokyo', count: -3, price: 0.5,
      loc: { lon: 139.69, lat: 35.68 },
      ts: '2025-01-01T00:00:00Z',
      tags: null,
    },
  },
];

export const INDEXES = [
  ['city', 'keyword'],
  ['tags', 'keyword'],
  ['count', 'integer'],
  ['price', 'float'],
  ['ok', 'bool'],
  ['loc', 'geo'],
  ['ts', 'datetime'],
  ['uid', 'uuid'],
  ['desc', { type: 'text', tokenizer: 'word', lowercase: true, min_token_len: 2, max_token_len: 20, phrase_matching: true }],
  ['items[].qty', 'integer'],
];

const must = (...conds) => ({ must: conds });
const exterior = {
  points: [
    { lon: -5, lat: 45 }, { lon: 15, lat: 45 }, { lon: 15, lat: 55 }, { lon: -5, lat: 55 }, { lon: -5, lat: 45 },
  ],
};
const hole = {
  points: [
    { lon: 13, lat: 52 }, { lon: 14, lat: 52 }, { lon: 14, lat: 53 }, { lon: 13, lat: 53 }, { lon: 13, lat: 52 },
  ],
};

/**
 * CASES: [group, label, filter, ids with indexes, ids without (when they
 * differ: only full-text matching does)].
 */
export const CASES = [
  ['match', 'value keyword', must({ key: 'city', match: { value: 'Berlin' } }), [1, 4]],
  ['match', 'value keyword in an array', must({ key: 'tags', match: { value: 'b' } }), [1, 3]],
  ['match', 'value integer', must({ key: 'count', match: { value: 10 } }), [2]],
  ['match', 'value bool true', must({ key: 'ok', match: { value: true } }), [1, 3]],
  ['match', 'value bool false', must({ key: 'ok', match: { value: false } }), [2, 4]],
  ['match', 'value uuid', must({ key: 'uid', match: { value: UID1 } }), [1]],
  ['match', 'any keyword', must({ key: 'city', match: { any: ['Paris', 'London'] } }), [2, 3]],
  ['match', 'any integer', must({ key: 'count', match: { any: [5, 20, 99] } }), [1, 4]],
  ['match', 'any over arrays', must({ key: 'tags', match: { any: ['c', 'a'] } }), [1, 3, 4]],
  ['match', 'any uuid', must({ key: 'uid', match: { any: [UID2, 'ffffffff-ffff-4fff-8fff-ffffffffffff'] } }), [2]],
  ['match', 'except keyword', must({ key: 'city', match: { except: ['Berlin', 'Tokyo'] } }), [2, 3]],
  ['match', 'except integer', must({ key: 'count', match: { except: [5, 10] } }), [3, 4, 5]],
  // The index lowercases and splits on non-word characters; without it,
  // text is a case-sensitive substring match of every word.
  ['match', 'text', must({ key: 'desc', match: { text: 'quick fox' } }), [1, 3], [1]],
  ['match', 'text in an array of strings', must({ key: 'desc', match: { text: 'brown' } }), [1, 4]],
  ['match', 'text, no match', must({ key: 'desc', match: { text: 'absent' } }), []],
  ['match', 'text_any', must({ key: 'desc', match: { text_any: 'dogs agility' } }), [2, 3], [2, 3]],
  ['match', 'phrase', must({ key: 'desc', match: { phrase: 'brown fox' } }), [1, 4]],
  ['match', 'phrase, words apart', must({ key: 'desc', match: { phrase: 'quick fox' } }), []],
  ['range', 'integer', must({ key: 'count', range: { gte: 10, lt: 20 } }), [2, 3]],
  ['range', 'integer, negative', must({ key: 'count', range: { lt: 0 } }), [5]],
  ['range', 'float, gt', must({ key: 'price', range: { gt: 9.5 } }), [2, 3]],
  ['range', 'float, lte', must({ key: 'price', range: { lte: 9.5 } }), [1, 5]],
  ['range', 'over an array projection', must({ key: 'items[].qty', range: { gte: 5 } }), [1, 2]],
  ['range', 'datetime, time zones', must({ key: 'ts', range: { gte: '2024-01-01T00:00:00Z', lt: '2024-06-30T22:00:00Z' } }), [1, 2, 3]],
  ['range', 'datetime, strict bound', must({ key: 'ts', range: { gte: '2024-01-01T00:00:00Z', lt: '2024-06-30T21:59:59Z' } }), [1, 2]],
  ['range', 'datetime, offset in the bound', must({ key: 'ts', range: { lte: '2024-01-01T01:00:00+02:00' } }), [4]],
  ['range', 'datetime, date only', must({ key: 'ts', range: { gt: '2024-12-31' } }), [5]],
  ['range', 'datetime, any value of an array', must({ key: 'ts', range: { lt: '2020-01-01T00:00:00Z' } }), [4]],
  ['geo', 'radius 20 km', must({ key: 'loc', geo_radius: { center: { lon: 13.405, lat: 52.52 }, radius: 20_000 } }), [1, 4]],
  ['geo', 'radius 1 km', must({ key: 'loc', geo_radius: { center: { lon: 13.405, lat: 52.52 }, radius: 1_000 } }), [1]],
  ['geo', 'radius, any point of an array', must({ key: 'loc', geo_radius: { center: { lon: 151.21, lat: -33.87 }, radius: 10_000 } }), [2]],
  ['geo', 'bounding box', must({ key: 'loc', geo_bounding_box: { top_left: { lon: -1, lat: 53 }, bottom_right: { lon: 3, lat: 48 } } }), [2, 3]],
  ['geo', 'polygon', must({ key: 'loc', geo_polygon: { exterior } }), [1, 2, 3, 4]],
  ['geo', 'polygon with a hole', must({ key: 'loc', geo_polygon: { exterior, interiors: [hole] } }), [2, 3]],
  ['values_count', 'gte 2', must({ key: 'tags', values_count: { gte: 2 } }), [1, 3]],
  ['values_count', 'lt 1 (empty, null)', must({ key: 'tags', values_count: { lt: 1 } }), [2, 5]],
  ['values_count', 'of an array of objects', must({ key: 'items', values_count: { gt: 1 } }), [1]],
  ['is_empty', 'empty array or null', must({ is_empty: { key: 'tags' } }), [2, 5]],
  ['is_empty', 'missing key', must({ is_empty: { key: 'price' } }), [4]],
  ['is_empty', 'must_not', { must_not: [{ is_empty: { key: 'maybe' } }] }, [2]],
  ['is_null', 'null value', must({ is_null: { key: 'maybe' } }), [1]],
  ['is_null', 'must_not', { must_not: [{ is_null: { key: 'maybe' } }] }, [2, 3, 4, 5]],
  ['has_id', 'must', must({ has_id: [2, 5, 77] }), [2, 5]],
  ['has_id', 'must_not', { must_not: [{ has_id: [1, 2] }] }, [3, 4, 5]],
  ['nested', 'every condition on the same element',
    must({ nested: { key: 'items', filter: must({ key: 'name', match: { value: 'x' } }, { key: 'qty', range: { gt: 3 } }) } }), [2]],
  ['nested', 'without nested, conditions on different elements',
    must({ key: 'items[].name', match: { value: 'x' } }, { key: 'items[].qty', range: { gt: 3 } }), [1, 2]],
  ['clauses', 'should', { should: [{ key: 'city', match: { value: 'Paris' } }, { key: 'count', range: { lt: 0 } }] }, [2, 5]],
  ['clauses', 'must and must_not', { must: [{ key: 'city', match: { value: 'Berlin' } }], must_not: [{ key: 'ok', match: { value: true } }] }, [4]],
  ['clauses', 'min_should', {
    min_should: {
      conditions: [
        { key: 'city', match: { value: 'Berlin' } },
        { key: 'ok', match: { value: true } },
        { key: 'count', range: { gte: 15 } },
      ],
      min_count: 2,
    },
  }, [1, 3, 4]],
  ['clauses', 'nested clauses', {
    must: [
      { should: [{ key: 'city', match: { value: 'Berlin' } }, { key: 'city', match: { value: 'London' } }] },
      { must_not: [{ has_id: [4] }] },
    ],
  }, [1, 3]],
  ['clauses', 'empty filter', {}, [1, 2, 3, 4, 5]],
];

/**
 * checkCase runs one filter with scroll, count and query on a collection
 * and checks the ids selected.
 */
export async function checkCase(c, name, filter, want, what) {
  const page = await c.scroll(name, { filter, limit: 100, with_payload: false });
  assert.deepEqual(page.points.map((p) => p.id), want, `scroll ${what}`);
  assert.deepEqual(await c.count(name, { filter }), { count: want.length }, `count ${what}`);
  const res = await c.query(name, { query: [1, 1], filter, limit: 100 });
  assert.deepEqual(res.points.map((p) => p.id).sort((a, b) => a - b), want, `query ${what}`);
}

/** createFilterCollections makes the collection with indexes and the one without. */
export async function createFilterCollections(c, create) {
  const indexed = await create('indexed');
  const plain = await create('plain');
  for (const name of [indexed, plain]) {
    await c.upsert(name, { points: POINTS });
  }
  for (const [field_name, field_schema] of INDEXES) {
    const res = await c.createPayloadIndex(indexed, { field_name, field_schema, wait: true });
    assert.equal(res.status, 'completed');
  }
  return { indexed, plain };
}
