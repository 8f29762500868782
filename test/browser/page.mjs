// Bundled for the browser with no flags (esbuild --platform=browser, and Vite) and run in headless
// Chromium: sends a PEM, tags it and reads both back through the page's own origin, which proxies
// to the local RK; a client given an outbox warns that a browser has none and sends directly.
import { RKClient, RKClientFactory, RKQuery } from 'recordkeeper-client';
import { MockRKClient } from 'recordkeeper-client/testing';

async function main() {
  const base = window.location.origin;
  const rk = new RKClient(`${base}/receiver`, 'browser-smoke', { retry: false });
  const pem = rk.preparePem('browser', { properties: { agent: 'chromium' } }).producesArtifact(rk.prepareArtifact('browser-artifact'));
  const sent = await rk.sendPem(pem);
  if (!sent.ok) return { error: sent.error.message };
  const tagged = await rk.setTag('browser-smoke', 'production', pem);
  if (!tagged.ok) return { error: tagged.error.message };
  const query = new RKQuery(`${base}/query`, { retry: false });
  const back = await query.getPem(pem.ID);
  if (!back.ok) return { error: back.error.message };
  const tag = await query.getTag('browser-smoke', 'production');
  if (!tag.ok) return { error: tag.error.message };
  await rk.close();
  // No process environment here: the factory reads RK_MOCK without throwing and makes the real client.
  const made = RKClientFactory.get(`${base}/receiver`, 'browser-smoke');
  const mocked = await new MockRKClient('browser-smoke').sendPem(pem);
  const warnings = [];
  const durable = new RKClient(`${base}/receiver`, 'browser-smoke', { retry: false, outbox: { dir: 'rk-outbox' }, logger: { warn: (message) => warnings.push(message) } });
  const direct = await durable.sendPem(durable.preparePem('browser-outbox'));
  await durable.close();
  return {
    // instanceof, not constructor.name: a minifying bundler (Vite) renames classes.
    factory: made instanceof MockRKClient ? 'MockRKClient' : made instanceof RKClient ? 'RKClient' : 'something else',
    mock: mocked.ok,
    status: sent.value.status,
    produces: back.value.ProducesArtifacts,
    properties: back.value.Properties,
    tagged: tag.value === pem.ID,
    outbox: { status: direct.ok ? direct.value.status : direct.error.message, warning: warnings.join('\n') },
  };
}

window.rkResult = main().catch((error) => ({ error: String(error) }));
