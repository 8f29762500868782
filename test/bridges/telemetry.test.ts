import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadTelemetry, pemsOfTrace } from '../../src/index.js';
import { MockRKClient, MockRKQuery } from '../../src/testing/index.js';

/** Client spans and trace context, recorded by the OpenTelemetry SDK's in-memory exporter. */
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = trace.getTracer('test');

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  expect(await loadTelemetry()).toBe(true);
});
afterAll(() => {
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const quiet = { logger: { warn: () => {} }, retry: { baseDelayMs: 1, maxDelayMs: 1 } };
// The first sendPem also reads the Receiver's /info (its size limit) in the background: a span of its own.
const clientSpans = (name?: string) => exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CLIENT && (name === undefined || span.name === name));

describe('OpenTelemetry client spans', () => {
  it('sendPem makes one CLIENT span under the active span, with the HTTP client attributes and rk.operation, rk.pem.id, attempts and outcome', async () => {
    const rk = new MockRKClient('trainer', quiet);
    const pem = rk.preparePem('train');
    await tracer.startActiveSpan('pipeline step', async (parent) => {
      expect((await rk.sendPem(pem)).ok).toBe(true);
      parent.end();
    });
    const [span] = clientSpans('POST /pem');
    expect(clientSpans('POST /pem')).toHaveLength(1);
    expect(clientSpans().map((s) => s.name).sort()).toEqual(['GET /info', 'POST /pem']);
    expect(span!.name).toBe('POST /pem');
    expect(span!.parentSpanContext?.spanId).toBe(exporter.getFinishedSpans().find((s) => s.name === 'pipeline step')!.spanContext().spanId);
    expect(span!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.full': 'http://mock.invalid/mock-receiver/pem',
      'url.template': '/pem',
      'server.address': 'mock.invalid',
      'server.port': 80,
      'rk.operation': 'Sending PEM',
      'rk.pem.id': pem.ID,
      'rk.attempts': 1,
      'rk.outcome': 'accepted',
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a retried call counts its attempts; a refused one is an error span with error.type and the status', async () => {
    const rk = new MockRKClient('trainer', quiet);
    rk.inject({ status: 503, times: 1 });
    expect((await rk.sendPem(rk.preparePem('train'))).ok).toBe(true);
    expect(clientSpans('POST /pem')[0]!.attributes).toMatchObject({ 'rk.attempts': 2, 'http.request.resend_count': 1, 'rk.outcome': 'accepted' });
    exporter.reset();
    rk.inject({ rejectPem: 'Type is not allowed' });
    const refused = await rk.sendPem(rk.preparePem('train'));
    expect(refused.ok).toBe(false);
    const span = clientSpans('POST /pem')[0]!;
    expect(span.attributes).toMatchObject({ 'rk.attempts': 1, 'rk.outcome': 'rejected', 'error.type': '422', 'http.response.status_code': 422 });
    expect(span.status).toMatchObject({ code: SpanStatusCode.ERROR, message: expect.stringMatching(/Type is not allowed/) });
  });

  it('RKQuery calls make spans named by the operation path, with the response status', async () => {
    const rk = new MockRKClient('trainer', quiet);
    const pem = rk.preparePem('train');
    await rk.sendPem(pem);
    exporter.reset();
    const query = new MockRKQuery(rk);
    expect((await query.getPem(pem.ID)).ok).toBe(true);
    const missing = await query.getPem('f'.repeat(32));
    expect(missing.ok).toBe(false);
    const [found, notFound] = clientSpans();
    expect(found!.name).toBe('GET /pem/{pem_id}');
    expect(found!.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200, 'rk.operation': 'Reading PEM', 'rk.outcome': 'ok' });
    expect(notFound!.attributes).toMatchObject({ 'http.response.status_code': 404, 'error.type': '404', 'rk.outcome': 'not_found' });
  });
});

describe('traceContext', () => {
  it('stamps the active traceparent into the PEM, and pemsOfTrace finds the PEMs of the trace', async () => {
    const rk = new MockRKClient('trainer', { ...quiet, traceContext: true });
    let traceId = '';
    let stamped = rk.preparePem('outside');
    await tracer.startActiveSpan('request', async (span) => {
      traceId = span.spanContext().traceId;
      stamped = rk.preparePem('train', { properties: { epochs: 3 } });
      await rk.sendPem(stamped);
      const second = rk.preparePem('evaluate');
      await rk.sendPem(second);
      span.end();
    });
    expect(stamped.Properties).toEqual({ epochs: 3, traceparent: expect.stringMatching(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`)) });
    const outside = rk.preparePem('outside');
    expect(outside.Properties).toEqual({});
    await rk.sendPem(outside);
    const plain = new MockRKClient('trainer', quiet);
    await tracer.startActiveSpan('other', async (span) => {
      expect(plain.preparePem('train').Properties).toEqual({});
      span.end();
    });
    const found = await pemsOfTrace(new MockRKQuery(rk), traceId);
    expect(found.ok && found.value.map((p) => p.Type)).toEqual(['train', 'evaluate']);
    const bad = await pemsOfTrace(new MockRKQuery(rk), 'nope');
    expect(bad.ok || bad.error.message).toMatch(/traceId must be 32 hex digits/);
  });
});
