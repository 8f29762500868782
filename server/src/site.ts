import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { graphBuilderFacts, queryFacts, receiverFacts } from 'recordkeeper-client/specs';

/**
 * Who may drive this server from where. Without credentials anyone who reaches the port may do
 * anything, so two things a web page could otherwise do are refused:
 *
 * - a state-changing request whose `Origin` is another site (a page the user has open posting to
 *   127.0.0.1): browsers always send `Origin` on a cross-site POST, so a POST with a foreign
 *   Origin is refused unless that origin was allowed with `--cors`;
 * - a state-changing request whose `Host` is a name that is not this server's (DNS rebinding: a
 *   page's own host name made to resolve to 127.0.0.1). Accepted: `localhost`, the bound
 *   address, IP literals when bound to every interface, and names given with `--allowed-host`.
 *
 * CORS is opt-in: only origins given with `--cors` (or `cors` of startLocalRK) get
 * `Access-Control-Allow-Origin`, and only they get a preflight answer.
 */

export interface SiteOptions {
  /** Origins allowed cross-site, e.g. `http://localhost:5173`; `*` allows any. */
  cors: readonly string[];
  /** Host names (without port) accepted besides localhost and the bound address. */
  allowedHosts: readonly string[];
  /** The address the server listens on. */
  boundHost?: string;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The request headers a browser client sends: content type, the credential and call headers. */
function allowedRequestHeaders(): string {
  const names = new Set<string>(['content-type']);
  for (const facts of [receiverFacts, queryFacts, graphBuilderFacts]) {
    for (const header of Object.values(facts.headers as Record<string, string>)) names.add(header.toLowerCase());
  }
  return [...names].join(', ');
}

/** An origin as compared: scheme, host and port in lower case, without a trailing slash. */
export function normalizeOrigin(origin: string): string | undefined {
  if (origin === '*') return '*';
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}

function corsAllows(site: SiteOptions, origin: string): boolean {
  const normalized = normalizeOrigin(origin);
  if (!normalized || normalized === '*') return false;
  return site.cors.some((allowed) => allowed === '*' || normalizeOrigin(allowed) === normalized);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The host name of a Host header, without its port, in lower case. */
function hostName(host: string): string {
  const text = host.trim().toLowerCase();
  if (text.startsWith('[')) return text.slice(0, text.indexOf(']') + 1);
  const colon = text.lastIndexOf(':');
  return colon === -1 ? text : text.slice(0, colon);
}

function hostAllowed(site: SiteOptions, host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0 without Host: no browser sends that
  const name = hostName(host);
  if (LOOPBACK_NAMES.has(name)) return true;
  const bound = (site.boundHost ?? '127.0.0.1').toLowerCase();
  if (name === bound || name === `[${bound}]`) return true;
  if (WILDCARDS.has(bound) && isIP(name.replace(/^\[|\]$/g, '')) !== 0) return true;
  return site.allowedHosts.some((h) => h.toLowerCase() === name);
}

/**
 * Why a request sent to this Host is refused (403), or undefined when the Host is this server's.
 * State changes are always checked; without credentials every request is (see http.ts), since a
 * page that rebinds its own name to 127.0.0.1 could otherwise read every PEM.
 */
export function checkHost(site: SiteOptions, headers: IncomingHttpHeaders): string | undefined {
  const host = header(headers, 'host');
  if (hostAllowed(site, host)) return undefined;
  return `Host ${JSON.stringify(hostName(host ?? '').slice(0, 200))} is not this server's; it answers ${acceptedHostsText(site)}`;
}

/** The Host names this server answers, as said in refusals and in its start-up lines. */
export function acceptedHostsText(site: SiteOptions): string {
  const bound = (site.boundHost ?? '127.0.0.1').toLowerCase();
  const names = ['localhost', '127.0.0.1', '[::1]'];
  if (WILDCARDS.has(bound)) names.push('any IP address');
  else if (!LOOPBACK_NAMES.has(bound)) names.push(isIP(bound) === 6 ? `[${bound}]` : bound);
  names.push(...site.allowedHosts.map((h) => h.toLowerCase()));
  return `${names.join(', ')} (add names with --allowed-host)`;
}

/** Why a state-changing request is refused (403), or undefined when it may go on. */
export function checkRequestSite(site: SiteOptions, headers: IncomingHttpHeaders): string | undefined {
  const refusedHost = checkHost(site, headers);
  if (refusedHost) return refusedHost;
  const host = header(headers, 'host');
  const origin = header(headers, 'origin');
  if (origin === undefined) return undefined;
  const normalized = normalizeOrigin(origin);
  if (normalized && host !== undefined && (normalized === `http://${host.toLowerCase()}` || normalized === `https://${host.toLowerCase()}`)) return undefined;
  if (corsAllows(site, origin)) return undefined;
  return `Cross-site requests from ${JSON.stringify(origin.slice(0, 200))} are refused; start the server with --cors <origin> to allow a browser client`;
}

/** CORS headers for an answer to an allowed origin; undefined for everyone else. */
export function corsHeaders(site: SiteOptions, headers: IncomingHttpHeaders): Record<string, string> | undefined {
  const origin = header(headers, 'origin');
  if (origin === undefined || !site.cors.length || !corsAllows(site, origin)) return undefined;
  return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
}

/** The answer to a CORS preflight (OPTIONS): 204 with the allowances, or why not. */
export function preflight(site: SiteOptions, headers: IncomingHttpHeaders): { status: 204; headers: Record<string, string> } | { status: 403; message: string } {
  const origin = header(headers, 'origin');
  if (origin === undefined || !corsAllows(site, origin)) {
    return { status: 403, message: origin === undefined ? 'OPTIONS is answered only as a CORS preflight' : `Origin ${JSON.stringify(origin.slice(0, 200))} is not allowed; start the server with --cors <origin>` };
  }
  return {
    status: 204,
    headers: {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': allowedRequestHeaders(),
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    },
  };
}
