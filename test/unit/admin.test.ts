import { describe, expect, it } from 'vitest';
import { RKAdmin, RKAuthError, RKHttpError, RKInvalidInputError, RKUnexpectedResponseError, type Result } from '../../src/index.js';
import { json, recordingFetch, text, type RecordedRequest, type Responder } from '../helpers/recording-fetch.js';

// Both services behind path prefixes: one base URL with a trailing slash, one without.
const QUERY = 'http://rk.test:8083/rk/query/';
const QUERY_BASE = 'http://rk.test:8083/rk/query';
const GRAPH = 'http://rk.test:8084/rk/graph-builder';
const REPORT_ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const NEXT_REPORT_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

const graphInfo = {
  version: '3.5.0',
  pg_pems_count: 42,
  pg_artifacts_count: 7,
  neo4j_pems_count: 40,
  neo4j_artifacts_count: 7,
  pems_sync_pct: '95.2',
  artifacts_sync_pct: '100.0',
  loop_iteration_interval: 1,
  loop_state_should_rebuild: 'False',
  loop_state_should_flush: 'True',
};
const queryInfo = { version: '3.5.0', auth_required: true };

// One attempt per call: these tests pin the wire of each call; retries are tested in test/delivery.
function admin(fetch: typeof globalThis.fetch) {
  return new RKAdmin(QUERY, GRAPH, { fetch, retry: false });
}

function expectGet(request: RecordedRequest | undefined, url: string) {
  expect(request?.method).toBe('GET');
  expect(request?.url).toBe(url);
  expect(request?.headers.get('content-type')).toBeNull();
  expect(request?.body).toBe('');
}

/** A POST with exactly this URL and body, sent as application/json. */
function expectPost(request: RecordedRequest | undefined, url: string, body: string) {
  expect(request?.method).toBe('POST');
  expect(request?.url).toBe(url);
  expect(request?.headers.get('content-type')).toBe('application/json');
  expect(request?.body).toBe(body);
}

function errorOf(result: Result<unknown>) {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('expected a failure');
  return result.error;
}

/** Answers after `ms` milliseconds, as a service that takes time to finish. */
function delayed(ms: number, answer: () => Response): Responder {
  return () => new Promise<Response>((resolve) => setTimeout(() => resolve(answer()), ms));
}

describe('checkConnections', () => {
  it('asks the Graph Builder /info, then the Query /info, and reports both', async () => {
    const { fetch, requests } = recordingFetch(() => json(graphInfo), () => json(queryInfo));
    expect(await admin(fetch).checkConnections()).toEqual({ ok: true, value: { graphBuilder: graphInfo, query: queryInfo } });
    expect(requests).toHaveLength(2);
    expectGet(requests[0], `${GRAPH}/info`);
    expectGet(requests[1], `${QUERY_BASE}/info`);
  });

  it('stops at the Graph Builder when it fails, without asking the Query service', async () => {
    const { fetch, requests } = recordingFetch(() => json({ message: 'bad credential' }, 401), () => json(queryInfo));
    const error = errorOf(await admin(fetch).checkConnections());
    expect(error).toBeInstanceOf(RKHttpError);
    expect((error as RKHttpError).status).toBe(401);
    expect(error.message).toBe('Reading Graph Builder info failed: HTTP 401 Unauthorized: bad credential; pass a credential in the client options: pucAuth (a machine credential from your RK admin) or userAuth (a personal one from the RK Dashboard)');
    expect(requests.map((r) => r.url)).toEqual([`${GRAPH}/info`]);
  });

  it('stops at the Graph Builder when its answer is not an info', async () => {
    const { fetch, requests } = recordingFetch(() => json({ version: '3.5.0' }), () => json(queryInfo));
    const error = errorOf(await admin(fetch).checkConnections());
    expect(error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(error.message).toBe(// Every field the spec requires is checked, not a hand-picked three.
      'Reading Graph Builder info failed: HTTP 200 with an unexpected body: missing pg_pems_count, pg_artifacts_count, neo4j_pems_count, ' +
        'neo4j_artifacts_count, pems_sync_pct, artifacts_sync_pct, loop_iteration_interval, loop_state_should_rebuild, loop_state_should_flush');
    expect(requests).toHaveLength(1);
  });

  it('reports the Query service failing after the Graph Builder answered', async () => {
    const { fetch, requests } = recordingFetch(() => json(graphInfo), () => text('maintenance', 503));
    const error = errorOf(await admin(fetch).checkConnections());
    expect((error as RKHttpError).status).toBe(503);
    expect(error.message).toBe('Reading Query info failed: HTTP 503 Service Unavailable: maintenance');
    expect(requests.map((r) => r.url)).toEqual([`${GRAPH}/info`, `${QUERY_BASE}/info`]);
  });
});

describe('queryGraph', () => {
  it('posts real JSON {query, type} to the Query service and parses the rows', async () => {
    const statement = 'MATCH (p:PEM {Type: "train"})\nDETACH DELETE p';
    const { fetch, requests } = recordingFetch(() => text("[[2, 'deleted', None, False]]"));
    expect(await admin(fetch).queryGraph(statement, 'rw')).toEqual({ ok: true, value: [[2, 'deleted', null, false]] });
    expect(requests).toHaveLength(1);
    expectPost(requests[0], `${QUERY_BASE}/query`, JSON.stringify({ query: statement, type: 'rw' }));
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ query: statement, type: 'rw' });
  });

  it("reads with type 'r' by default", async () => {
    const { fetch, requests } = recordingFetch(() => text('[[3]]'));
    expect(await admin(fetch).queryGraph('MATCH (a:Artifact) RETURN count(a);')).toEqual({ ok: true, value: [[3]] });
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ query: 'MATCH (a:Artifact) RETURN count(a);', type: 'r' });
  });

  it('refuses an empty query or a bad type before any request', async () => {
    const { fetch, requests } = recordingFetch(() => text('[]'));
    const rk = admin(fetch);
    expect(errorOf(await rk.queryGraph('')).message).toMatch(/^Querying graph failed: query must be a non-empty string/);
    expect(errorOf(await rk.queryGraph('MATCH (n) RETURN n', 'append' as never)).message).toMatch(
      /^Querying graph failed: type must be "read" \(or "r"\) or "write" \(or "rw"\), got "append"/,
    );
    expect(requests).toHaveLength(0);
  });

  it('reports rows it cannot read as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => text('{"rows": []}'));
    const error = errorOf(await admin(fetch).queryGraph('MATCH (n) RETURN n'));
    expect(error.kind).toBe('unexpected_response');
    expect(error.message).toMatch(/^Querying graph failed: HTTP 200 with an unexpected body: rows could not be read: /);
  });
});

describe('POSTs without arguments', () => {
  it.each([
    ['cleanDbs', (rk: RKAdmin) => rk.cleanDbs(), `${QUERY_BASE}/clean`, { msg: 'Erased 42 PEMs, 7 artifacts, 3 tags and 1 report' }, 'Erased 42 PEMs, 7 artifacts, 3 tags and 1 report'],
    ['graphRebuild', (rk: RKAdmin) => rk.graphRebuild(), `${GRAPH}/rebuild`, { msg: 'Rebuild requested' }, 'Rebuild requested'],
    ['artifactsVerifyConnections', (rk: RKAdmin) => rk.artifactsVerifyConnections(), `${QUERY_BASE}/verify_artifact_connections`, { report_id: REPORT_ID }, REPORT_ID],
    [
      'artifactsRemoveUnconnected',
      (rk: RKAdmin) => rk.artifactsRemoveUnconnected(REPORT_ID),
      `${QUERY_BASE}/remove_unconnected_artifacts/${REPORT_ID}`,
      { report_id: NEXT_REPORT_ID },
      NEXT_REPORT_ID,
    ],
  ] as const)('%s posts exactly {} as application/json and returns what the service says', async (_, call, url, answer, value) => {
    const { fetch, requests } = recordingFetch(() => json(answer, 202));
    expect(await call(admin(fetch))).toEqual({ ok: true, value });
    expect(requests).toHaveLength(1);
    expectPost(requests[0], url, '{}');
  });

  it('graphFlush posts exactly {} and reports the message and how long the flush took', async () => {
    const { fetch, requests } = recordingFetch(delayed(30, () => json({ msg: 'Flushed 12 PEMs' })));
    const result = await admin(fetch).graphFlush();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.msg).toBe('Flushed 12 PEMs');
    expect(typeof result.value.durationMs).toBe('number');
    expect(result.value.durationMs).toBeGreaterThanOrEqual(25);
    // `message` is the domain name beside the reference's `msg`: the same text.
    expect(result.value.message).toBe('Flushed 12 PEMs');
    expect(Object.keys(result.value).sort()).toEqual(['durationMs', 'message', 'msg']);
    expect(requests).toHaveLength(1);
    expectPost(requests[0], `${GRAPH}/flush`, '{}');
  });

  it('graphFlush reports a quick flush with a non-negative duration', async () => {
    const { fetch } = recordingFetch(() => json({ msg: 'Nothing to flush' }));
    const result = await admin(fetch).graphFlush();
    expect(result.ok && result.value.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.ok && Number.isFinite(result.value.durationMs)).toBe(true);
  });

  it('graphFlush reports a failure without a duration', async () => {
    const { fetch } = recordingFetch(() => json({ message: 'graph loop stopped: Neo4j unreachable' }, 422));
    const error = errorOf(await admin(fetch).graphFlush());
    expect((error as RKHttpError).status).toBe(422);
    expect(error.message).toBe('Flushing graph failed: HTTP 422 Unprocessable Entity: graph loop stopped: Neo4j unreachable');
  });

  it('cleanDbs refused for a non-admin credential is an RKHttpError with status 403', async () => {
    const { fetch } = recordingFetch(() => json({ message: 'needs an admin credential', code: 'forbidden' }, 403));
    const error = errorOf(await new RKAdmin(QUERY, GRAPH, { fetch, pucAuth: 'p' }).cleanDbs());
    expect((error as RKHttpError).status).toBe(403);
    expect(error.message).toBe('Cleaning databases failed: HTTP 403 Forbidden: needs an admin credential; the credential is valid but may not do this; ask your RK admin for one that may');
    expect(error).toBeInstanceOf(RKAuthError);
    expect(error.kind).toBe('auth');
  });

  it.each([
    ['artifactsVerifyConnections', (rk: RKAdmin) => rk.artifactsVerifyConnections(), 'Verifying artifact connections', { id: REPORT_ID }, 'missing report_id'],
  ] as const)('%s reports an answer of the wrong shape as an unexpected response', async (_, call, operation, answer, problem) => {
    const { fetch } = recordingFetch(() => json(answer));
    const error = errorOf(await call(admin(fetch)));
    expect(error).toBeInstanceOf(RKUnexpectedResponseError);
    expect(error.message).toBe(`${operation} failed: HTTP 200 with an unexpected body: ${problem}`);
  });
});

describe('admin POSTs whose answer is not public: any 2xx is success', () => {
  const calls = [
    ['cleanDbs', (rk: RKAdmin) => rk.cleanDbs(), `${QUERY_BASE}/clean`],
    ['graphRebuild', (rk: RKAdmin) => rk.graphRebuild(), `${GRAPH}/rebuild`],
  ] as const;
  it.each(
    calls.flatMap(([name, call, url]) =>
      [
        ['our JSON', () => json({ msg: 'Done.' }), 'Done.'],
        ['text OK', () => text('OK'), 'OK'],
        ['an empty 200', () => new Response(null, { status: 200 }), ''],
        ['a 204', () => new Response(null, { status: 204 }), ''],
        ['a JSON string', () => json('OK'), 'OK'],
        ['JSON of another shape', () => json({ message: 'cleaned' }, 201), 'cleaned'],
        ['an empty JSON object', () => json({}), ''],
        ['a JSON array', () => json(['ok']), '["ok"]'],
      ].map(([form, reply, message]) => [name, form, call, url, reply, message] as const),
    ),
  )('%s resolves ok on %s', async (_, __, call, url, reply, message) => {
    const { fetch, requests } = recordingFetch(reply as () => Response);
    expect(await call(admin(fetch))).toEqual({ ok: true, value: message });
    expectPost(requests[0], url, '{}');
  });

  it.each([
    ['our JSON', () => json({ msg: 'Graph is up to date.' }), 'Graph is up to date.'],
    ['text OK', () => text('OK'), 'OK'],
    ['an empty 200', () => new Response('', { status: 200 }), ''],
  ] as const)('graphFlush resolves ok on %s, with the message and how long it took', async (_, reply, message) => {
    const { fetch } = recordingFetch(reply);
    const result = await admin(fetch).graphFlush();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.msg).toBe(message);
    expect(result.value.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('graphVerify', () => {
  const report = 'PEMs: 42 in tables, 40 in graph, 2 missing, 0 extra';

  it('sends the two flags exactly as given and returns the report', async () => {
    const { fetch, requests } = recordingFetch(() => json({ msg: report }));
    expect(await admin(fetch).graphVerify({ checkPems: true, checkArtifacts: false })).toEqual({ ok: true, value: report });
    expect(requests).toHaveLength(1);
    expectPost(requests[0], `${GRAPH}/verify`, '{"check_pems":true,"check_artifacts":false}');
  });

  it.each([
    ['no options', undefined, '{"check_pems":true,"check_artifacts":true}'],
    ['empty options', {}, '{"check_pems":true,"check_artifacts":true}'],
    ['only checkArtifacts', { checkArtifacts: false }, '{"check_pems":true,"check_artifacts":false}'],
    ['only checkPems', { checkPems: false }, '{"check_pems":false,"check_artifacts":true}'],
    ['both false', { checkPems: false, checkArtifacts: false }, '{"check_pems":false,"check_artifacts":false}'],
  ])('defaults each flag to true (%s)', async (_, options, body) => {
    const { fetch, requests } = recordingFetch(() => json({ msg: report }));
    await admin(fetch).graphVerify(options);
    expectPost(requests[0], `${GRAPH}/verify`, body);
  });

  it.each([
    ['checkPems as text', { checkPems: 'yes' }, /^Verifying graph failed: checkPems must be true or false, got yes$/],
    ['checkArtifacts as a number', { checkArtifacts: 1 }, /^Verifying graph failed: checkArtifacts must be true or false, got 1$/],
    ['checkPems as "false"', { checkPems: 'false' }, /^Verifying graph failed: checkPems must be true or false, got false$/],
    // null is not a boolean either: it must not silently turn the check on.
    ['checkArtifacts as null', { checkArtifacts: null }, /^Verifying graph failed: checkArtifacts must be true or false, got null$/],
    ['options that are not an object', true, /^Verifying graph failed: options must be an object/],
  ])('refuses %s before any request', async (_, options, message) => {
    const { fetch, requests } = recordingFetch(() => json({ msg: report }));
    const error = errorOf(await admin(fetch).graphVerify(options as never));
    expect(error).toBeInstanceOf(RKInvalidInputError);
    expect(error.message).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});

describe('getGraphInfo', () => {
  it('asks GET /info on the Graph Builder and returns it', async () => {
    const { fetch, requests } = recordingFetch(() => json(graphInfo));
    expect(await admin(fetch).getGraphInfo()).toEqual({ ok: true, value: graphInfo });
    expect(requests).toHaveLength(1);
    expectGet(requests[0], `${GRAPH}/info`);
  });

  it('reports an answer that is not an object as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => json('OK'));
    const error = errorOf(await admin(fetch).getGraphInfo());
    expect(error.message).toBe('Reading Graph Builder info failed: HTTP 200 with an unexpected body: expected a JSON object');
  });
});

describe('getReport', () => {
  it('asks GET /report/{dashed id} on the Query service and returns the report', async () => {
    const report = {
      report_id: REPORT_ID,
      kind: 'artifact_connections',
      status: 'finished',
      report: { artifacts: ['orphan-dataset'], message: '1 of 7 artifacts is not used or produced by any PEM' },
    };
    const { fetch, requests } = recordingFetch(() => json(report));
    expect(await admin(fetch).getReport(REPORT_ID)).toEqual({ ok: true, value: report });
    expectGet(requests[0], `${QUERY_BASE}/report/${REPORT_ID}`);
  });

  it('reports an unknown report as an RKHttpError with status 404', async () => {
    const { fetch } = recordingFetch(() => json({ message: 'no such report' }, 404));
    const error = errorOf(await admin(fetch).getReport(REPORT_ID));
    expect((error as RKHttpError).status).toBe(404);
    expect(error.message).toBe('Reading report failed: HTTP 404 Not Found: no such report');
  });

  it('reports a report without status as an unexpected response', async () => {
    const { fetch } = recordingFetch(() => json({ report: null }));
    const error = errorOf(await admin(fetch).getReport(REPORT_ID));
    expect(error.message).toBe('Reading report failed: HTTP 200 with an unexpected body: missing status');
  });

  it.each([
    ['the 32-hex form without dashes', REPORT_ID.replaceAll('-', '')],
    ['upper case', REPORT_ID.toUpperCase()],
    ['a truncated id', REPORT_ID.slice(0, 35)],
    ['a path', `${REPORT_ID}/../clean`],
    ['an empty string', ''],
  ])('refuses %s before any request', async (_, reportId) => {
    const { fetch, requests } = recordingFetch(() => json({}));
    const rk = admin(fetch);
    for (const [result, operation] of [
      [await rk.getReport(reportId), 'Reading report'],
      [await rk.artifactsRemoveUnconnected(reportId), 'Removing unconnected artifacts'],
    ] as const) {
      const error = errorOf(result);
      expect(error).toBeInstanceOf(RKInvalidInputError);
      expect(error.message).toMatch(new RegExp(`^${operation} failed: reportId must be a dashed UUID like "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"`));
    }
    expect(requests).toHaveLength(0);
  });
});

describe('base URLs', () => {
  it('keeps the path prefix of each service, with or without a trailing slash', async () => {
    const { fetch, requests } = recordingFetch(() => json(graphInfo), () => json(queryInfo), () => json({ msg: 'ok' }));
    const rk = new RKAdmin('http://q.test/a/query', 'http://g.test/b/graph/', { fetch });
    await rk.checkConnections();
    await rk.cleanDbs();
    await rk.graphRebuild();
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET http://g.test/b/graph/info',
      'GET http://q.test/a/query/info',
      'POST http://q.test/a/query/clean',
      'POST http://g.test/b/graph/rebuild',
    ]);
  });

  it('names the service whose URL is wrong at construction', () => {
    expect(() => new RKAdmin('not a url', GRAPH)).toThrow(/the Query URL "not a url" is not a URL; pass the Query base URL/);
    expect(() => new RKAdmin(QUERY, 'ftp://g.test/')).toThrow(/the Graph Builder URL "ftp:\/\/g.test\/" is not http\(s\)/);
  });
});
