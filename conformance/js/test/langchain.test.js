// LangChain's Qdrant vector store (@langchain/qdrant, which drives
// @qdrant/js-client-rest) against Strata, unchanged: the calls a
// retrieval-augmented application makes. The embeddings are a small
// deterministic stand-in (letter frequencies), so every expected ranking
// and score is computed here by hand from the same function.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { Embeddings } from '@langchain/core/embeddings';
import { Document } from '@langchain/core/documents';
import { QdrantVectorStore } from '@langchain/qdrant';
import { client, uniqueName, assertClose } from '../lib/helpers.js';

/** LetterEmbeddings maps a text to its 26 letter counts. */
class LetterEmbeddings extends Embeddings {
  constructor() {
    super({});
  }

  static embed(text) {
    const v = new Array(26).fill(0);
    for (const ch of text.toLowerCase()) {
      const i = ch.charCodeAt(0) - 97;
      if (i >= 0 && i < 26) v[i] += 1;
    }
    return v;
  }

  async embedDocuments(texts) {
    return texts.map((t) => LetterEmbeddings.embed(t));
  }

  async embedQuery(text) {
    return LetterEmbeddings.embed(text);
  }
}

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

const texts = [
  'the cat sat on the mat',
  'a dog chased the cat across the yard',
  'quantum physics lecture notes',
  'stock market closes higher on tech rally',
  'recipes for a quick vegetable soup',
  'zebra crossing in the city centre',
];
const metadatas = texts.map((_, i) => ({ n: i, kind: i < 2 ? 'animals' : 'other' }));

/** The texts ranked by cosine similarity to query, best first. */
function ranked(query, allowed = () => true) {
  const q = LetterEmbeddings.embed(query);
  return texts
    .map((t, i) => ({ t, i, score: cosine(q, LetterEmbeddings.embed(t)) }))
    .filter((x) => allowed(x.i))
    .sort((a, b) => b.score - a.score || a.i - b.i);
}

describe('LangChain QdrantVectorStore', () => {
  const c = client();
  const embeddings = new LetterEmbeddings();
  let store;
  let collectionName;

  before(async () => {
    collectionName = uniqueName('langchain');
    // fromTexts creates the collection (size from the embeddings, Cosine)
    // through ensureCollection, then upserts with wait=true.
    store = await QdrantVectorStore.fromTexts(texts, metadatas, embeddings, { client: c, collectionName });
  });

  test('the collection was created with the embeddings dimension', async () => {
    const info = await c.getCollection(collectionName);
    assert.equal(info.config.params.vectors.size, 26);
    assert.equal(info.config.params.vectors.distance, 'Cosine');
    assert.equal(info.points_count, texts.length);
  });

  test('similaritySearchWithScore ranks and scores as computed by hand', async () => {
    const query = 'a cat on a mat';
    const got = await store.similaritySearchWithScore(query, 3);
    const want = ranked(query).slice(0, 3);
    assert.deepEqual(got.map(([d]) => d.pageContent), want.map((x) => x.t));
    for (let i = 0; i < 3; i += 1) {
      assertClose(got[i][1], want[i].score, 1e-5, `score ${i}`);
      assert.deepEqual(got[i][0].metadata, metadatas[want[i].i]);
      assert.equal(typeof got[i][0].id, 'string'); // LangChain's uuid v4 ids
    }
  });

  test('similaritySearch with a Qdrant filter on the metadata', async () => {
    const filter = { must: [{ key: 'metadata.kind', match: { value: 'other' } }] };
    const got = await store.similaritySearch('a cat on a mat', 2, filter);
    const want = ranked('a cat on a mat', (i) => metadatas[i].kind === 'other').slice(0, 2);
    assert.deepEqual(got.map((d) => d.pageContent), want.map((x) => x.t));
  });

  test('maxMarginalRelevanceSearch returns diverse documents', async () => {
    const got = await store.maxMarginalRelevanceSearch('the cat', { k: 3, fetchK: 6 });
    assert.equal(got.length, 3);
    assert.equal(new Set(got.map((d) => d.pageContent)).size, 3);
    // The best match is always picked first.
    assert.equal(got[0].pageContent, ranked('the cat')[0].t);
  });

  test('addDocuments with ids, then delete by ids and by filter', async () => {
    const id = '7f2c1a4e-3b5d-4c6e-8f90-1a2b3c4d5e6f';
    await store.addDocuments([new Document({ pageContent: 'xylophone jazz quartet', metadata: { n: 99, kind: 'music' } })], { ids: [id] });
    let got = await store.similaritySearch('xylophone jazz quartet', 1);
    assert.equal(got[0].pageContent, 'xylophone jazz quartet');
    assert.equal(got[0].id, id);

    await store.delete({ ids: [id] });
    got = await store.similaritySearch('xylophone jazz quartet', 1);
    assert.notEqual(got[0].pageContent, 'xylophone jazz quartet');

    await store.delete({ filter: { must: [{ key: 'metadata.kind', match: { value: 'animals' } }] } });
    const { count } = await c.count(collectionName, { exact: true });
    assert.equal(count, texts.length - 2);
  });

  test('fromExistingCollection reuses the collection', async () => {
    const again = await QdrantVectorStore.fromExistingCollection(embeddings, { client: c, collectionName });
    const got = await again.similaritySearch('stock market', 1);
    assert.equal(got[0].pageContent, ranked('stock market', (i) => metadatas[i].kind !== 'animals')[0].t);
    await c.deleteCollection(collectionName);
  });
});
