import { createMcpServer, stdioTransport } from '../../bridges/mcp-server.js';
import { RKLineage } from '../../lineage/index.js';
import type { Command } from '../command.js';
import { CliError, EXIT, failWith } from '../exit.js';

/**
 * `rk mcp`: Record Keeper as an MCP server over stdio, for AI assistants. stdout carries the
 * protocol only; everything for the person goes to stderr.
 */
export const mcp: Command = {
  name: 'mcp',
  summary: 'serve RK questions to AI assistants over MCP (stdio): explain, lineage, state at a time, tags, PEMs',
  usage: 'mcp [--allow-send]',
  description:
    'An MCP server on stdin/stdout with the tools explain, lineage, state_at, tag_history, get_pem and search_pems (each with an optional point in time); send_pem only with --allow-send. ' +
    'Register it in an assistant as the command "rk mcp" with RK_QUERY (and RK_RECEIVER for --allow-send) in its environment. Needs the @modelcontextprotocol/sdk package. Guide: guides/mcp.md.',
  options: { 'allow-send': { type: 'boolean', description: 'offer send_pem (the server is read-only otherwise)' } },
  services: ['query', 'receiver'],
  positionals: { min: 0, max: 0 },
  examples: ['rk mcp', 'claude mcp add recordkeeper -e RK_QUERY=http://127.0.0.1:8082/query -- rk mcp'],
  async run(ctx) {
    const allowSend = ctx.values['allow-send'] === true;
    const query = ctx.config.query();
    const lineage = new RKLineage(query);
    const loaded = await lineage.load();
    if (!loaded.ok) failWith(loaded.error, ctx.config.settingFor('query'));
    const context = { lineage, query, allowSend, ...(allowSend ? { client: ctx.config.client() } : {}) };
    let server;
    try {
      server = await createMcpServer(context);
      await server.connect(await stdioTransport());
    } catch (error) {
      throw new CliError(EXIT.refused, error instanceof Error ? error.message : String(error), 'npm install @modelcontextprotocol/sdk beside recordkeeper-client');
    }
    ctx.out.note(`rk mcp: serving ${loaded.value.size} PEMs from ${ctx.config.url('query')} over stdio (${allowSend ? 'send_pem allowed' : 'read-only'})`);
    const stop = () => void server.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await server.closed;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  },
};
