import type { Storage } from './storage.js';

/**
 * Bulk seeding straight into storage, for benchmarks and tests only (never used by the server):
 * PEMs `from..to` (inclusive) written with a few set-based statements instead of one POST each.
 * Shape: chains of 10 (PEM i follows i-1 unless i % 10 = 0), PEM i produces artifact `art-i` and
 * uses `art-(i-1)` inside its chain; every PEM with i % 10 = 9 is a fan-in that also uses the
 * artifacts of i-2..i-5; 7 Types, 5 Emitters (= tag namespaces), 100 Tags moved along. Every
 * seeded PEM is queued for the Graph Builder, as the Receiver's insert does. IDs are
 * `seed-00000042`, or with `hexIds` the spec's 32 hex digits (`000…02a`), which the HTTP reads
 * (`GET /pem/{pem_id}`) accept.
 */
export async function seedPems(storage: Storage, from: number, to: number, options: { hexIds?: boolean } = {}): Promise<void> {
  const id = options.hexIds ? (expr: string) => `lpad(to_hex(${expr}), 32, '0')` : (expr: string) => `'seed-' || lpad((${expr})::text, 8, '0')`;
  await storage.transaction(async (tx) => {
    const [before] = await tx.query<{ last: number | null }>(`SELECT max(seq) AS last FROM rk_pems`);
    await tx.query(
      `INSERT INTO rk_pems (id, type, predecessor, emitter, timestamp_client, timestamp_received, properties, tag, tag_namespace, content_hash)
       SELECT ${id('i')}, 'type-' || (i % 7), CASE WHEN i % 10 = 0 THEN NULL ELSE ${id('i - 1')} END, 'emitter-' || (i % 5),
              to_char(timestamp '2026-01-01' + i * interval '1 second', 'YYYY-MM-DD HH24:MI:SS'),
              to_char(timestamp '2026-02-01' + i * interval '1 second', 'YYYY-MM-DD HH24:MI:SS'),
              json_build_object('i', i, 'note', 'seeded'), 'tag-' || (i % 100), 'emitter-' || (i % 5), md5(i::text)
       FROM generate_series($1::int, $2::int) i`,
      [from, to],
    );
    await tx.query(
      `INSERT INTO rk_artifacts (name, properties, created_at)
       SELECT 'art-' || i, jsonb_build_object('uri', 's3://seed/' || i), to_char(timestamp '2026-02-01' + i * interval '1 second', 'YYYY-MM-DD HH24:MI:SS')
       FROM generate_series($1::int, $2::int) i
       ON CONFLICT (name) DO NOTHING`,
      [from, to],
    );
    await tx.query(
      `INSERT INTO rk_pem_artifacts (pem_id, role, position, artifact_name)
       SELECT ${id('i')}, 'produces', 0, 'art-' || i FROM generate_series($1::int, $2::int) i
       UNION ALL
       SELECT ${id('i')}, 'uses', k - 1, 'art-' || (i - k) FROM generate_series($1::int, $2::int) i, generate_series(1, 5) k
       WHERE i - k >= 0 AND (i - k) / 10 = i / 10 AND (k = 1 OR i % 10 = 9)`,
      [from, to],
    );
    await tx.query(
      `INSERT INTO rk_tags (namespace, tag, pem_id, updated_at)
       SELECT DISTINCT ON (i % 5, i % 100) 'emitter-' || (i % 5), 'tag-' || (i % 100), ${id('i')}, '2026-02-01 00:00:00'
       FROM generate_series($1::int, $2::int) i ORDER BY i % 5, i % 100, i DESC
       ON CONFLICT (namespace, tag) DO UPDATE SET pem_id = EXCLUDED.pem_id, updated_at = EXCLUDED.updated_at`,
      [from, to],
    );
    await tx.query(`INSERT INTO rk_graph_pending (pem_seq) SELECT seq FROM rk_pems WHERE seq > $1 ON CONFLICT DO NOTHING`, [before?.last ?? 0]);
  });
}
