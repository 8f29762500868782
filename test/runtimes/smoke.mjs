// Runs on every runtime of the matrix: sends a PEM, tags it and reads both back from the local RK
// at RK_BASE, then prints one JSON line. Plain JS, no runtime-specific API beyond reading env.
import { RKClient, RKQuery, VERSION } from 'recordkeeper-client';

const env = globalThis.Deno ? globalThis.Deno.env.toObject() : globalThis.process.env;
const base = env.RK_BASE;
const rk = new RKClient(`${base}/receiver`, 'runtime-smoke', { retry: false, timeoutMs: 5000 });
const pem = rk.preparePem('smoke', { properties: { runtime: env.RK_RUNTIME } }).producesArtifact(rk.prepareArtifact('smoke-artifact'));
const sent = await rk.sendPem(pem);
if (!sent.ok) throw sent.error;
const tagged = await rk.setTag('runtime-smoke', env.RK_RUNTIME, pem);
if (!tagged.ok) throw tagged.error;
const query = new RKQuery(`${base}/query`, { retry: false });
const back = await query.getPem(pem.ID);
if (!back.ok) throw back.error;
const tag = await query.getTag('runtime-smoke', env.RK_RUNTIME);
if (!tag.ok) throw tag.error;
await rk.close();
console.log(JSON.stringify({ VERSION, status: sent.value.status, produces: back.value.ProducesArtifacts, properties: back.value.Properties, tagged: tag.value === pem.ID }));
