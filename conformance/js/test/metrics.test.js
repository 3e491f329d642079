// GET /metrics (Prometheus text format, Qdrant's metric names) and
// GET /telemetry (Qdrant's TelemetryData) through Qdrant's JavaScript
// client. Other test files run against the same server at the same time,
// so server-wide counts are checked as lower bounds.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { client, createCollection } from '../lib/helpers.js';

const c = client();

/** parseMetrics reads Prometheus's text format into [{name, labels, value}]. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k] = v.replace(/\\(.)/g, (_, ch) => (ch === 'n' ? '\n' : ch));
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** value returns the value of the one sample of name whose labels include want. */
function value(samples, name, want = {}) {
  const found = samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
  assert.equal(found.length, 1, `${name}${JSON.stringify(want)}: ${found.length} samples`);
  return found[0].value;
}

describe('metrics and telemetry', () => {
  let name;
  before(async () => {
    name = await createCollection(c, 'metrics', { vectors: { size: 2, distance: 'Dot' } });
    await c.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0] },
        { id: 2, vector: [0, 1] },
        { id: 3, vector: [1, 1] },
      ],
    });
    await c.getCollection(name);
    await c.getCollection(name);
  });

  test('GET /metrics: Prometheus text with Qdrant names', async () => {
    const res = await c.api().metrics({});
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain/);
    const text = String(res.data);
    assert.match(text, /^# TYPE rest_responses_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE collections_total gauge$/m);
    const samples = parseMetrics(text);
    assert.equal(value(samples, 'app_info', { name: 'strata' }), 1);
    assert.ok(value(samples, 'collections_total') >= 1);
    assert.ok(value(samples, 'collections_vector_total') >= 3);
    assert.equal(value(samples, 'collection_points', { id: name }), 3);
    assert.equal(value(samples, 'collection_vectors', { collection: name, vector: '' }), 3);
    assert.equal(value(samples, 'strata_wal_records_total', { collection: name }), 1);
    const gets = { method: 'GET', endpoint: '/collections/{name}', status: '200' };
    assert.ok(value(samples, 'rest_responses_total', gets) >= 2);
    assert.ok(value(samples, 'rest_responses_duration_seconds_count', gets) >= 2);
    assert.ok(value(samples, 'rest_responses_duration_seconds_bucket', { ...gets, le: '+Inf' }) >= 2);
    assert.ok(value(samples, 'rest_responses_total', { method: 'PUT', endpoint: '/collections/{name}/points', status: '200' }) >= 1);
    assert.ok(value(samples, 'process_resident_memory_bytes') > 0);
    // Endpoints are route patterns, never paths with a collection's name.
    for (const s of samples.filter((x) => x.name.startsWith('rest_responses'))) {
      assert.ok(!s.labels.endpoint.includes(name), `raw path in ${JSON.stringify(s)}`);
    }
  });

  test('GET /metrics?anonymize=true hides collection names', async () => {
    const res = await c.api().metrics({ anonymize: true });
    assert.equal(res.status, 200);
    const text = String(res.data);
    assert.ok(!text.includes(name), 'a collection name in anonymized metrics');
    const points = parseMetrics(text).filter((s) => s.name === 'collection_points');
    assert.ok(points.length >= 1 && points.every((s) => /^[0-9a-f]{16}$/.test(s.labels.id)), JSON.stringify(points));
  });

  test('GET /telemetry: Qdrant TelemetryData', async () => {
    const res = await c.api().telemetry({});
    assert.equal(res.status, 200);
    const t = res.data.result;
    assert.match(t.id, /^[0-9a-f-]{36}$/);
    assert.equal(t.app.name, 'strata');
    assert.equal(typeof t.app.version, 'string');
    assert.ok(Date.parse(t.app.startup) <= Date.now());
    assert.ok(t.collections.number_of_collections >= 1);
    assert.equal(t.collections.collections, undefined, 'collection entries at details_level 0');
    const upserts = t.requests.rest.responses['PUT /collections/{name}/points']['200'];
    assert.ok(upserts.count >= 1);
    assert.ok(upserts.avg_duration_micros > 0);
    assert.ok(upserts.min_duration_micros <= upserts.max_duration_micros);
    assert.ok(Date.parse(upserts.last_responded) <= Date.now());
    assert.equal(typeof t.requests.grpc.responses, 'object');
  });

  test('GET /telemetry?details_level=2: one entry per collection', async () => {
    const res = await c.api().telemetry({ details_level: 2 });
    const colls = res.data.result.collections.collections;
    const mine = colls.find((x) => x.id === name);
    assert.ok(mine, `no entry for ${name}`);
    assert.deepEqual(mine.config.params.vectors, { size: 2, distance: 'Dot' });
    assert.equal(typeof mine.config.hnsw_config.m, 'number');

    const agg = await c.api().telemetry({ details_level: 1 });
    for (const x of agg.data.result.collections.collections) {
      assert.equal(typeof x.vectors, 'number');
      assert.ok('optimizers_status' in x && 'params' in x);
    }
    const anon = await c.api().telemetry({ details_level: 2, anonymize: true });
    assert.ok(!JSON.stringify(anon.data.result.collections).includes(name));
  });
});
