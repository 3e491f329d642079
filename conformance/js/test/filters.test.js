// Payload indexes (createPayloadIndex / deletePayloadIndex for every
// schema type) and the filter grammar. Each filter runs on two collections
// with the same points, one with payload indexes and one without, so that
// answers from indexes are checked against answers from payload scans.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { client, createCollection, expectStatus, ids } from '../lib/helpers.js';
import { CASES, INDEXES, checkCase, createFilterCollections } from '../lib/filter_cases.js';

const c = client();

let indexed;
let plain;

before(async () => {
  ({ indexed, plain } = await createFilterCollections(c, (kind) =>
    createCollection(c, `flt_${kind}`, { vectors: { size: 2, distance: 'Dot' } }),
  ));
});

test('payload_schema lists every index with its type', async () => {
  const info = await c.getCollection(indexed);
  const schema = info.payload_schema;
  for (const [field, fs] of INDEXES) {
    const type = typeof fs === 'string' ? fs : fs.type;
    assert.ok(schema[field], `${field} missing from ${JSON.stringify(schema)}`);
    assert.equal(schema[field].data_type, type, field);
    assert.equal(typeof schema[field].points, 'number', field);
  }
  assert.equal(schema.city.points, 5);
  assert.equal(schema.price.points, 4);
  assert.equal(schema.desc.params?.tokenizer, 'word');
  assert.equal(schema.desc.params?.lowercase, true);
  assert.deepEqual((await c.getCollection(plain)).payload_schema, {});
});

/** check runs filter on both collections. */
async function check(filter, want, wantPlain = want) {
  await checkCase(c, indexed, filter, want, `indexed ${JSON.stringify(filter)}`);
  await checkCase(c, plain, filter, wantPlain, `unindexed ${JSON.stringify(filter)}`);
}

const must = (...conds) => ({ must: conds });

const groups = [...new Set(CASES.map(([group]) => group))];
for (const group of groups) {
  describe(group, () => {
    for (const [g, label, filter, want, wantPlain] of CASES) {
      if (g !== group) continue;
      test(label, async () => {
        await check(filter, want, wantPlain ?? want);
      });
    }
  });
}

test('deletePayloadIndex drops the index; filters keep working', async () => {
  const res = await c.deletePayloadIndex(indexed, 'count');
  assert.equal(res.status, 'completed');
  const schema = (await c.getCollection(indexed)).payload_schema;
  assert.equal(schema.count, undefined);
  assert.ok(schema.city);
  const page = await c.scroll(indexed, { filter: must({ key: 'count', range: { gte: 10, lt: 20 } }) });
  assert.deepEqual(ids(page.points), [2, 3]);
  // Dropping an index that does not exist succeeds, as in Qdrant.
  assert.equal((await c.deletePayloadIndex(indexed, 'count')).status, 'completed');
  // Recreate it: the same answers.
  await c.createPayloadIndex(indexed, { field_name: 'count', field_schema: 'integer', wait: true });
  assert.equal((await c.getCollection(indexed)).payload_schema.count.data_type, 'integer');
  await check(must({ key: 'count', range: { gte: 10, lt: 20 } }), [2, 3]);
});

test('indexes follow later writes', async () => {
  const name = await createCollection(c, 'flt_later', { vectors: { size: 2, distance: 'Dot' } });
  await c.createPayloadIndex(name, { field_name: 'k', field_schema: 'keyword', wait: true });
  await c.upsert(name, { points: [{ id: 1, vector: [1, 0], payload: { k: 'a' } }, { id: 2, vector: [0, 1], payload: { k: 'b' } }] });
  await c.setPayload(name, { points: [2], payload: { k: 'a' } });
  await c.overwritePayload(name, { points: [1], payload: { other: 1 } });
  const page = await c.scroll(name, { filter: must({ key: 'k', match: { value: 'a' } }) });
  assert.deepEqual(ids(page.points), [2]);
});

test('bad filters are 400 with the path of the bad part', async () => {
  await expectStatus(
    c.scroll(indexed, { filter: { must: [{ key: 'city', match: { valeu: 'x' } }] } }),
    400,
    /filter\.must\[0\]\.match/,
  );
  await expectStatus(
    c.count(indexed, { filter: { should: [{ key: 'count', range: { gt: 'ten' } }] } }),
    400,
    /filter\.should\[0\]\.range\.gt/,
  );
  await expectStatus(
    c.query(indexed, { query: [1, 0], filter: { must_not: [{ has_id: ['not-a-uuid'] }] } }),
    400,
    /filter\.must_not\[0\]\.has_id\[0\]/,
  );
  await expectStatus(
    c.queryBatch(indexed, { searches: [{ query: [1, 0] }, { query: [1, 0], filter: { must: { key: 'loc', geo_radius: { center: { lon: 0 } } } } }] }),
    400,
    /searches\[1\]\.filter\.must\[0\]\.geo_radius/,
  );
});

test('bad index schemas are 400', async () => {
  await expectStatus(c.createPayloadIndex(indexed, { field_name: 'z', field_schema: 'nope', wait: true }), 400, /nope/);
  await expectStatus(
    c.createPayloadIndex(indexed, { field_name: 'z', field_schema: { type: 'text', tokenizer: 'nope' }, wait: true }),
    400,
    /tokenizer/,
  );
});
