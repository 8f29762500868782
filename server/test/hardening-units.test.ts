import { describe, expect, it } from 'vitest';
import { parseOptions } from '../src/cli.js';
import { internalError } from '../src/http.js';
import { checkRequestSite, corsHeaders, preflight } from '../src/site.js';

/** The pieces of the hardening that need no server: options, the site rules, what an internal error logs. */
describe('hardening units', () => {
  it('reads --cors and --allowed-host, repeatable', () => {
    const options = parseOptions(['--memory', '--cors', 'http://localhost:5173', '--cors', 'https://app.example', '--allowed-host', 'rk.lan'], {});
    expect(options).toMatchObject({ cors: ['http://localhost:5173', 'https://app.example'], allowedHosts: ['rk.lan'] });
    expect(parseOptions(['--memory'], {})).not.toHaveProperty('cors');
  });

  it('logs an internal error by operation, class and code, never its text', () => {
    const failure = Object.assign(new Error('index row size 2712 exceeds btree maximum for index "rk_graph_nodes_pkey" DETAIL: Key (label, key)=(Artifact, secret-name)'), {
      code: '54000',
    });
    const logged = internalError(failure, 'sendPem');
    expect(logged.message).toBe('internal error in sendPem: Error (code 54000)');
    expect(logged.message).not.toMatch(/rk_|secret|btree/);
    expect(internalError('text', undefined).message).toBe('internal error in routing: string');
  });

  it('refuses foreign origins and hosts for state changes, and allows the own origin and allowed ones', () => {
    const site = { cors: ['http://localhost:5173'], allowedHosts: ['rk.lan'], boundHost: '127.0.0.1' };
    expect(checkRequestSite(site, { host: '127.0.0.1:8082' })).toBeUndefined();
    expect(checkRequestSite(site, { host: 'localhost:8082', origin: 'http://localhost:8082' })).toBeUndefined();
    expect(checkRequestSite(site, { host: '127.0.0.1:8082', origin: 'http://localhost:5173' })).toBeUndefined();
    expect(checkRequestSite(site, { host: 'rk.lan:8082' })).toBeUndefined();
    expect(checkRequestSite(site, { host: '127.0.0.1:8082', origin: 'http://evil.example' })).toMatch(/Cross-site/);
    expect(checkRequestSite(site, { host: '127.0.0.1:8082', origin: 'null' })).toMatch(/Cross-site/);
    expect(checkRequestSite(site, { host: 'evil.example:8082' })).toMatch(/Host "evil.example"/);
    expect(checkRequestSite({ ...site, boundHost: '0.0.0.0' }, { host: '10.1.2.3:8082' })).toBeUndefined();
    expect(checkRequestSite({ ...site, boundHost: '0.0.0.0' }, { host: 'evil.example' })).toMatch(/Host/);
    expect(checkRequestSite({ cors: [], allowedHosts: [], boundHost: '::1' }, { host: '[::1]:8082' })).toBeUndefined();
  });

  it('answers CORS only for allowed origins', () => {
    const site = { cors: ['http://localhost:5173'], allowedHosts: [] };
    expect(corsHeaders(site, { origin: 'http://localhost:5173' })).toEqual({ 'Access-Control-Allow-Origin': 'http://localhost:5173', Vary: 'Origin' });
    expect(corsHeaders(site, { origin: 'http://localhost:5174' })).toBeUndefined();
    expect(corsHeaders({ cors: [], allowedHosts: [] }, { origin: 'http://localhost:5173' })).toBeUndefined();
    const answer = preflight(site, { origin: 'http://localhost:5173' });
    expect(answer.status).toBe(204);
    if (answer.status === 204) {
      expect(answer.headers['Access-Control-Allow-Headers']).toContain('content-type');
      expect(answer.headers['Access-Control-Allow-Headers']).toContain('x-rk-puc-auth');
    }
    expect(preflight(site, { origin: 'http://evil.example' }).status).toBe(403);
    expect(preflight({ cors: ['*'], allowedHosts: [] }, { origin: 'http://any.example' }).status).toBe(204);
  });
});
