// `npm run mock`: one Prism mock per API on fixed, well-known ports so a
// client or curl session can be pointed at them by hand. Ports can be changed
// with RK_MOCK_PORTS or the first argument (`npm run mock -- 5010,5011,5012`),
// either positional in API order or as name=port pairs; 0 means "any free port".
// Each port is a thin layer (mock-layer.mjs) in front of its Prism, which listens
// on a free port of its own, so every facade call is served as the client sends it.
import { APIS, isMain } from './apis.mjs';
import { startMockLayer } from './mock-layer.mjs';
import { startPrism } from './prism.mjs';

const DEFAULT_PORTS = { receiver: 4010, query: 4011, 'graph-builder': 4012 };

export function parsePorts(spec) {
  const ports = { ...DEFAULT_PORTS };
  if (!spec) return ports;
  spec.split(',').forEach((part, i) => {
    const [key, value] = part.includes('=') ? part.split('=') : [APIS[i]?.name, part];
    const port = Number(value);
    if (!key || !(key in ports) || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`bad port spec "${part}" in "${spec}" (APIs: ${APIS.map((a) => a.name).join(', ')})`);
    }
    ports[key] = port;
  });
  return ports;
}

/**
 * Starts one Prism and its layer for one API; the layer listens on `port`.
 * @param {{ name: string, spec: string }} api
 * @param {{ port?: number, detached?: boolean, signal?: AbortSignal, onLog?: (line: string) => void }} options
 */
export async function startMock(api, { port = 0, ...prismOptions } = {}) {
  const prism = await startPrism(api.spec, { port: 0, ...prismOptions });
  try {
    const layer = await startMockLayer({ spec: api.spec, target: prism.url, port });
    return {
      url: layer.url,
      pid: prism.pid,
      exited: prism.exited,
      stop: async () => {
        await layer.stop();
        await prism.stop();
      },
    };
  } catch (error) {
    await prism.stop();
    throw error;
  }
}

async function main() {
  const ports = parsePorts(process.argv[2] ?? process.env.RK_MOCK_PORTS);
  const servers = [];
  const starting = new AbortController();
  let startup = Promise.resolve();
  let shuttingDown = false;

  const shutdown = async (exitCode, reason) => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (reason) console.error(reason);
    // Servers still starting are stopped by startPrism itself on abort;
    // wait for that too, or we would exit with Prism processes still running.
    starting.abort();
    await startup;
    await Promise.all(servers.map((s) => s.stop()));
    process.exit(exitCode);
  };
  // The servers are detached (own process group), so a terminal Ctrl-C only
  // reaches us; we stop them, instead of all of them dying at once and
  // looking like a crash to the "one died" handler below.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => shutdown(0));

  startup = Promise.allSettled(
    APIS.map(async (api) => {
      const server = await startMock(api, {
        port: ports[api.name],
        detached: true,
        signal: starting.signal,
        onLog: (line) => console.log(`[${api.name}] ${line}`),
      });
      servers.push(server);
      return { api, server };
    }),
  );
  const started = await startup;
  if (shuttingDown) return; // interrupted while starting; shutdown() finishes up
  const failed = started.filter((r) => r.status === 'rejected');
  if (failed.length > 0) {
    return shutdown(1, failed.map((r) => `mock: ${r.reason?.message ?? r.reason}`).join('\n'));
  }

  // A mock that disappears should not go unnoticed behind the other two.
  for (const r of started) {
    const { api, server } = r.value;
    server.exited.then(({ code, signal }) =>
      shutdown(1, `mock: ${api.name} (pid ${server.pid}) exited (${signal ?? `code ${code}`}); stopping the others.`),
    );
  }

  console.log('\nMock servers ready (Ctrl-C to stop):');
  for (const r of started) console.log(`  ${r.value.api.name.padEnd(14)} ${r.value.server.url}`);
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
