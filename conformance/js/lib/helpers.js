// Shared helpers of the conformance tests: the server's address and keys
// come from the environment (set by conformance_test.go).
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { QdrantClient } from '@qdrant/js-client-rest';

export const url = process.env.STRATA_URL || 'http://127.0.0.1:6333';
export const apiKey = process.env.STRATA_API_KEY || undefined;
export const readOnlyApiKey = process.env.STRATA_READ_ONLY_API_KEY || undefined;

/**
 * A client for the server under test. key defaults to the server's
 * read-write key (none when the server has none); pass null for no key.
 * extra adds options of QdrantClient's constructor (headers, ...).
 */
export function client(key = apiKey, extra = {}) {
  const opts = { url, timeout: 20_000, checkCompatibility: false, ...extra };
  if (key != null) opts.apiKey = key;
  // The client warns on every construction with a key over plain HTTP;
  // the tests use plain HTTP on loopback on purpose.
  const warn = console.warn;
  console.warn = () => {};
  try {
    return new QdrantClient(opts);
  } finally {
    console.warn = warn;
  }
}

let counter = 0;

/** A collection name no other test (or test process) uses. */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}`;
}

const created = new Set();

/**
 * createCollection creates a collection with a fresh name and returns the
 * name; the collection is deleted when the test file ends.
 */
export async function createCollection(c, prefix, config) {
  const name = uniqueName(prefix);
  assert.equal(await c.createCollection(name, config), true);
  created.add(name);
  return name;
}

// Each test file runs in its own process: delete what it created.
after(async () => {
  const c = client();
  for (const name of created) {
    await c.deleteCollection(name);
  }
});

/**
 * expectStatus awaits promise, which must fail with an HTTP error of the
 * given status; the error message of the body must match pattern. It
 * returns the message.
 */
export async function expectStatus(promise, status, pattern) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected HTTP ${status}, got a result: ${JSON.stringify(res)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.equal(err.status, status, `status ${err.status}, body ${JSON.stringify(err.data)} (${err})`);
  const msg = err.data?.status?.error;
  assert.equal(typeof msg, 'string', `no error message in ${JSON.stringify(err.data)}`);
  if (pattern) assert.match(msg, pattern);
  return msg;
}

/** assertClose checks |actual - expected| <= eps. */
export function assertClose(actual, expected, eps = 1e-5, what = 'value') {
  assert.equal(typeof actual, 'number', `${what}: ${actual} is not a number`);
  assert.ok(Math.abs(actual - expected) <= eps, `${what}: got ${actual}, want ${expected} ± ${eps}`);
}

/** ids returns the ids of points, in order. */
export function ids(points) {
  return points.map((p) => p.id);
}

/** sortedIds returns the ids of points, sorted (numbers before strings). */
export function sortedIds(points) {
  return ids(points).sort((a, b) => {
    if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
    return typeof a === 'number' ? -1 : 1;
  });
}

/**
 * quiet wraps the body of a todo test so that its expected failure is
 * reported in one line (the HTTP status and message), not a stack trace.
 */
export function quiet(fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const detail = e?.status ? `HTTP ${e.status}: ${e.data?.status?.error ?? JSON.stringify(e.data)}` : String(e?.message ?? e);
      const err = new Error(detail);
      err.stack = `Error: ${detail}`;
      throw err;
    }
  };
}
