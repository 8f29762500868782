import { VERSION } from '../public.js';
import { callMcpTool, mcpTools, type McpToolContext } from './mcp-tools.js';

/**
 * The MCP server of `rk mcp`: the tools of mcp-tools.ts on the official SDK's low-level Server
 * (JSON Schema inputs as written there, so no schema library is needed here). The SDK is an
 * optional peer dependency, loaded only when a server is made.
 */

/** Something the SDK can connect a server to: its stdio transport, or one end of an in-memory pair. */
export interface McpTransportLike {
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface RKMcpServer {
  /** Serves on the transport until it closes. */
  connect(transport: McpTransportLike): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the connection ends (the client went away, or close()). */
  readonly closed: Promise<void>;
}

const SDK = '@modelcontextprotocol/sdk';

/** An MCP server answering RK questions from `context`; read-only unless `context.allowSend`. */
export async function createMcpServer(context: McpToolContext): Promise<RKMcpServer> {
  let sdk: {
    Server: typeof import('@modelcontextprotocol/sdk/server/index.js').Server;
    types: typeof import('@modelcontextprotocol/sdk/types.js');
  };
  try {
    const [server, types] = await Promise.all([import(`${SDK}/server/index.js`), import(`${SDK}/types.js`)]);
    sdk = { Server: (server as typeof import('@modelcontextprotocol/sdk/server/index.js')).Server, types: types as typeof import('@modelcontextprotocol/sdk/types.js') };
  } catch (error) {
    throw new Error(`rk mcp needs the ${SDK} package (an optional peer dependency): npm install ${SDK} (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const server = new sdk.Server(
    { name: 'recordkeeper', version: VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'Record Keeper answers why something happened (explain, lineage), what the state was at a time (state_at, tag_history) and what an event held (get_pem, search_pems). ' +
        'Targets are PEM IDs, artifact Names or namespace/tag; every answer carries the IDs to ask the next question with.',
    },
  );
  server.setRequestHandler(sdk.types.ListToolsRequestSchema, async () => ({ tools: mcpTools(context) }));
  server.setRequestHandler(sdk.types.CallToolRequestSchema, async (request) => {
    const answer = await callMcpTool(context, request.params.name, (request.params.arguments ?? {}) as Record<string, unknown>);
    return { content: [{ type: 'text' as const, text: answer.text }], isError: answer.isError };
  });
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  return {
    closed,
    connect: (transport) => server.connect(transport as unknown as Parameters<typeof server.connect>[0]),
    close: () => server.close(),
  };
}

/** The SDK's stdio transport (stdin/stdout), for `rk mcp`. */
export async function stdioTransport(): Promise<McpTransportLike> {
  const { StdioServerTransport } = (await import(`${SDK}/server/stdio.js`)) as typeof import('@modelcontextprotocol/sdk/server/stdio.js');
  return new StdioServerTransport();
}
