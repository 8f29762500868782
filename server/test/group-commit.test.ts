import { describe, expect, it } from 'vitest';
import { Records } from '../src/records.js';
import type { Queryable, Storage } from '../src/storage.js';
import { fileStore, makePem } from './helpers/harness.js';

/**
 * Group commit of PEM inserts (issue 13): PEMs sent while a group is written share the next
 * transaction, and each still gets its own outcome. No timings.
 */

/** The file's one PGlite store, emptied for each use as a new one is. */
const memoryStore = fileStore();

/**
 * The file's store, emptied, refusing the inserts of the PEMs in `bad`; `groups` holds, for each PEM
 * insert statement tried, how many PEMs it wrote (a group's statement binds an array of IDs).
 */
async function refusingStore(bad: Set<string>): Promise<{ storage: Storage; groups: number[] }> {
  const inner = await memoryStore();
  const groups: number[] = [];
  const check = (sql: string, params?: readonly unknown[]) => {
    if (!sql.includes('INSERT INTO rk_pems')) return;
    const ids = Array.isArray(params?.[0]) ? (params[0] as unknown[]) : [params?.[0]];
    groups.push(ids.length);
    if (ids.some((id) => bad.has(String(id)))) throw new Error('refused by the database');
  };
  const storage: Storage = {
    description: inner.description,
    writers: inner.writers,
    bulk: inner.bulk,
    // The file's store stays open for the next test; fileStore() closes it.
    close: async () => undefined,
    async query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      check(sql, params);
      return inner.query<Row>(sql, params);
    },
    transaction: (work) =>
      inner.transaction((tx) =>
        work({
          async query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
            check(sql, params);
            return tx.query<Row>(sql, params);
          },
        } satisfies Queryable),
      ),
  };
  return { storage, groups };
}

/** Everything a PEM insert writes, without the receive times (they differ between two runs). */
async function snapshot(db: Queryable) {
  return {
    pems: await db.query(`SELECT id, type, predecessor, emitter, timestamp_client, properties::text, tag, tag_namespace, content_hash FROM rk_pems ORDER BY seq`),
    artifacts: await db.query(`SELECT name, properties FROM rk_artifacts ORDER BY name`),
    links: await db.query(`SELECT pem_id, role, position, artifact_name FROM rk_pem_artifacts ORDER BY pem_id, role, position`),
    tags: await db.query(`SELECT namespace, tag, pem_id FROM rk_tags ORDER BY namespace, tag`),
    pending: await db.query(`SELECT p.id FROM rk_graph_pending g JOIN rk_pems p ON p.seq = g.pem_seq ORDER BY g.pem_seq`),
  };
}

describe('group commit', { timeout: 120_000 }, () => {
  it('writes concurrent PEMs together, each committed and answered, with duplicate and conflict decided per PEM', async () => {
    const { storage, groups } = await refusingStore(new Set());
    const records = new Records(storage);
    const pems = Array.from({ length: 12 }, () => makePem());
    const changed = { ...pems[3]!, Type: 'other-type' };
    const outcomes = await Promise.all([...pems, pems[2]!, changed].map((p) => records.sendPem(p)));
    expect(outcomes.slice(0, 12)).toEqual(pems.map(() => ({ status: 'accepted' })));
    expect(outcomes[12]).toEqual({ status: 'duplicate' });
    expect(outcomes[13]).toEqual({ status: 'conflict' });
    // Sent in one turn of the event loop, they were written in groups, not one by one.
    expect(groups.some((n) => n > 1)).toBe(true);
    for (const pem of pems) expect((await records.getPem(pem.ID))?.Type).toBe(pem.Type);
  });

  it('a PEM the database refuses fails alone: the others of its group are stored', async () => {
    const bad = makePem();
    const { storage, groups } = await refusingStore(new Set([bad.ID]));
    const records = new Records(storage);
    const good = Array.from({ length: 9 }, () => makePem());
    const sent = [good[0]!, ...good.slice(1, 5), bad, ...good.slice(5)];
    const settled = await Promise.allSettled(sent.map((p) => records.sendPem(p)));
    settled.forEach((outcome, i) => {
      if (sent[i] === bad) expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'refused by the database' } });
      else expect(outcome).toEqual({ status: 'fulfilled', value: { status: 'accepted' } });
    });
    expect(await records.getPem(bad.ID)).toBeUndefined();
    for (const pem of good) expect(await records.getPem(pem.ID)).toBeDefined();
    expect(await records.countPems({})).toBe(good.length);
    // The refused PEM was sent inside a group, not alone.
    expect(groups.some((n) => n > 1)).toBe(true);
  });

  it('a group written in one statement stores what the same PEMs sent one after another store', async () => {
    const stored = makePem({ Tag: 'moved', TagNamespace: 'ns', UsesArtifacts: [{ Name: 'shared', Properties: { a: '0', keep: 'old' }, CreatedAt: null }] });
    const first = makePem({
      Tag: 'moved',
      TagNamespace: 'ns',
      UsesArtifacts: [{ Name: 'shared', Properties: { a: '1', b: '1' }, CreatedAt: null }],
      ProducesArtifacts: [{ Name: 'fresh', Properties: { x: '1' }, CreatedAt: null }],
    });
    const second = makePem({
      Predecessor: first.ID,
      Tag: 'moved',
      TagNamespace: 'ns',
      UsesArtifacts: [
        { Name: 'shared', Properties: { b: '2', c: '2' }, CreatedAt: null },
        { Name: 'fresh', Properties: {}, CreatedAt: null },
      ],
      ProducesArtifacts: [{ Name: 'shared', Properties: { c: '3' }, CreatedAt: null }],
    });
    // Taken IDs: its artifacts, links and tag must not count.
    const conflicting = { ...stored, Type: 'changed', Tag: 'moved', UsesArtifacts: [{ Name: 'shared', Properties: { a: 'conflict', b: 'conflict' }, CreatedAt: null }] };
    const sameIdInGroup = { ...first, Type: 'second copy', UsesArtifacts: [{ Name: 'fresh', Properties: { x: 'copy' }, CreatedAt: null }] };
    const untagged = makePem({ Tag: '', TagNamespace: 'ns', UsesArtifacts: [{ Name: 'fresh', Properties: { y: '1' }, CreatedAt: null }] });
    const last = makePem({ Tag: 'moved', TagNamespace: 'ns', UsesArtifacts: [] });
    const other = makePem({ Tag: 'other', TagNamespace: 'ns' });
    const batch = [first, conflicting, second, { ...stored }, sameIdInGroup, untagged, { ...first }, other, last, ...Array.from({ length: 6 }, () => makePem())];
    const expected = batch.map((p) =>
      p === conflicting || p === sameIdInGroup ? { status: 'conflict' } : p.ID === stored.ID || (p.ID === first.ID && p !== first) ? { status: 'duplicate' } : { status: 'accepted' },
    );

    // One after another, read; then grouped, in the same store emptied.
    const sequential = await refusingStore(new Set());
    const one = new Records(sequential.storage);
    await one.sendPem(stored);
    const outcomes: unknown[] = [];
    for (const p of batch) outcomes.push(await one.sendPem(p));
    expect(outcomes).toEqual(expected);
    const want = await snapshot(sequential.storage);

    const grouped = await refusingStore(new Set());
    const many = new Records(grouped.storage);
    await many.sendPem(stored);
    // An unrelated PEM first, so the batch's PEMs are not the first rows of the store.
    const [, ...rest] = await Promise.all([many.sendPem(makePem()), ...batch.map((p) => many.sendPem(p))]);
    expect(rest).toEqual(expected);
    // The batch went in one statement (each ID bound once), not PEM by PEM.
    expect(Math.max(...grouped.groups)).toBeGreaterThanOrEqual(new Set(batch.map((p) => p.ID)).size);

    const got = await snapshot(grouped.storage);
    got.pems = got.pems.slice(0, 1).concat(got.pems.slice(2));
    got.pending = got.pending.slice(0, 1).concat(got.pending.slice(2));
    got.links = got.links.filter((l: any) => want.links.some((w: any) => w.pem_id === l.pem_id));
    got.artifacts = got.artifacts.filter((a: any) => want.artifacts.some((w: any) => w.name === a.name));
    got.tags = got.tags.filter((t: any) => want.tags.some((w: any) => w.tag === t.tag));
    expect(got).toEqual(want);

    // Spelled out: properties merged in arrival order, only from PEMs inserted.
    expect((await many.getPem(first.ID))?.Type).toBe(first.Type);
    expect((await many.getPem(stored.ID))?.Type).toBe(stored.Type);
    const artifacts = await grouped.storage.query<{ name: string; properties: unknown; created_at: string }>(
      `SELECT name, properties, created_at FROM rk_artifacts WHERE name IN ('shared', 'fresh')`,
    );
    const byName = Object.fromEntries(artifacts.map((a) => [a.name, a]));
    expect(byName.shared?.properties).toEqual({ a: '1', keep: 'old', b: '2', c: '3' });
    expect(byName.fresh?.properties).toEqual({ x: '1', y: '1' });
    // A new artifact is created at the time of the first inserted PEM that names it.
    const [received] = await grouped.storage.query<{ timestamp_received: string }>(`SELECT timestamp_received FROM rk_pems WHERE id = $1`, [first.ID]);
    expect(byName.fresh?.created_at).toBe(received?.timestamp_received);
    // The last inserted PEM of the group moved the tag; an untagged one moved nothing.
    expect(await many.getTag('ns', 'moved')).toBe(last.ID);
    expect(await many.getTag('ns', 'other')).toBe(other.ID);
    expect(await many.countTags()).toBe(3);
  });

  it('a group of only duplicates and conflicts writes nothing', async () => {
    const { storage, groups } = await refusingStore(new Set());
    const records = new Records(storage);
    const pems = Array.from({ length: 5 }, (_, i) => makePem({ Tag: `t${i}`, TagNamespace: 'ns' }));
    await Promise.all(pems.map((p) => records.sendPem(p)));
    const before = await snapshot(storage);
    const again = [makePem({ Tag: '' }), ...pems.map((p, i) => (i % 2 ? { ...p, Type: 'changed', Tag: 'x', UsesArtifacts: [{ Name: 'new', Properties: { k: 'v' }, CreatedAt: null }] } : p))];
    const outcomes = await Promise.all(again.map((p) => records.sendPem(p)));
    expect(outcomes).toEqual([{ status: 'accepted' }, ...pems.map((_, i) => ({ status: i % 2 ? 'conflict' : 'duplicate' }))]);
    expect(groups.some((n) => n > 1)).toBe(true);
    const after = await snapshot(storage);
    expect(after.pems.length).toBe(before.pems.length + 1);
    expect(after.tags).toEqual(before.tags);
    expect(after.artifacts.map((a: any) => a.name)).not.toContain('new');
  });
});
