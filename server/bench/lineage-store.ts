import type { LocalRK } from '../src/index.js';

/**
 * The pipeline-shaped store of `npm run bench:lineage` (lineage.ts says what it holds), made PEM
 * by PEM from its number, and seeded straight into the local RK's tables.
 */

export const ROUND = 4; // PEMs per round
export const ROUNDS_PER_PIPELINE = 25;
export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

export function wire(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function hex(n: number, salt: number): string {
  return (salt.toString(16).padStart(8, '0') + n.toString(16).padStart(24, '0')).slice(0, 32);
}

export interface Row {
  id: string;
  type: string;
  predecessor: string | null;
  emitter: string;
  time: string;
  tag: string;
  namespace: string;
  uses: string[];
  produces: string[];
}

/** PEM number i of a store with `pipelines` pipelines, interleaved round-robin in time. */
export function synthetic(i: number, pipelines: number, salt: number): Row {
  const step = Math.floor(i / pipelines); // global step of pipeline p
  const p = i % pipelines;
  const round = Math.floor(step / ROUND);
  const kind = step % ROUND;
  const name = `pipeline-${p}`;
  const id = hex(i, salt);
  const previous = step > 0 ? hex(i - pipelines, salt) : null;
  const time = wire(T0 + i * 1000);
  const base = { id, predecessor: previous, emitter: name, time, tag: 'latest', namespace: name };
  if (kind === 0) return { ...base, type: 'ingest', uses: [`raw/${name}/export-${round}.csv`], produces: [`data/${name}`] };
  if (kind === 1) {
    const uses = [`data/${name}`, 'features/shared'];
    if (round > 0) uses.push(`model/${name}`);
    if (round % 5 === 4) uses.push(`data/pipeline-${(p + 1) % pipelines}`);
    return { ...base, type: round > 0 ? 'retrain' : 'train', emitter: `trainer-${p % 7}`, uses, produces: [`model/${name}`] };
  }
  if (kind === 2) return { ...base, type: 'evaluate', uses: [`model/${name}`, `data/${name}`], produces: [`report/${name}`] };
  return { ...base, type: 'deploy', tag: 'production', uses: [`model/${name}`], produces: [`service/${name}`] };
}

export async function seed(rk: LocalRK, count: number, pipelines: number, salt: number): Promise<number> {
  const started = performance.now();
  // Received at 100 PEMs a second, ending an hour ago: a refresh re-reads only its overlap.
  const end = Date.now() - 3600_000;
  const receivedOf = (i: number) => wire(end - Math.ceil((count - i) / 100) * 1000);
  const receivedAt = wire(end);
  const BATCH = 2000;
  const artifacts = new Set<string>();
  const tags = new Map<string, string>();
  for (let from = 0; from < count; from += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, count - from) }, (_, k) => synthetic(from + k, pipelines, salt));
    const links = rows.flatMap((r) => [
      ...r.uses.map((name, position) => [r.id, 'uses', position, name] as const),
      ...r.produces.map((name, position) => [r.id, 'produces', position, name] as const),
    ]);
    const fresh = [...new Set(rows.flatMap((r) => [...r.uses, ...r.produces]))].filter((name) => !artifacts.has(name)).sort();
    fresh.forEach((name) => artifacts.add(name));
    for (const r of rows) tags.set(`${r.namespace}\u0000${r.tag}`, r.id);
    await rk.storage.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO rk_pems (id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash)
         SELECT id, type, predecessor, emitter, tc, tr, '{}'::json, tag, ns, 'bench'
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u(id, type, predecessor, emitter, tc, tag, tr, ns)`,
        [rows.map((r) => r.id), rows.map((r) => r.type), rows.map((r) => r.predecessor), rows.map((r) => r.emitter), rows.map((r) => r.time), rows.map((r) => r.tag), rows.map((_, k) => receivedOf(from + k)), rows.map((r) => r.namespace)],
      );
      if (fresh.length) {
        await tx.query(`INSERT INTO rk_artifacts (name, properties, created_at) SELECT n, '{}'::jsonb, $2 FROM unnest($1::text[]) AS u(n) ON CONFLICT DO NOTHING`, [fresh, receivedAt]);
      }
      await tx.query(
        `INSERT INTO rk_pem_artifacts (pem_id, role, position, artifact_name) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])`,
        [links.map((l) => l[0]), links.map((l) => l[1]), links.map((l) => l[2]), links.map((l) => l[3])],
      );
    });
  }
  const keys = [...tags.entries()].map(([key, id]) => [...key.split('\u0000'), id] as [string, string, string]);
  await rk.storage.query(
    `INSERT INTO rk_tags (namespace, tag, pem_id, updated_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
     ON CONFLICT (namespace, tag) DO UPDATE SET pem_id = EXCLUDED.pem_id, updated_at = EXCLUDED.updated_at`,
    [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2]), keys.map(() => receivedAt)],
  );
  return (performance.now() - started) / 1000;
}
