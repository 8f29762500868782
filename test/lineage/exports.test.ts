import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import cytoscape from 'cytoscape';
import parseDot from 'dotparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainLineage, toCytoscape, toDot, toMermaid, toProvJson, walkUpstream, type LineageResult } from '../../src/index.js';
import { pipeline, store } from './fixtures.js';

/**
 * Each export is parsed by a real parser: Mermaid's own (mermaid's flowchart parser runs in Node
 * once DOMPurify, which it calls for labels, has its browser-only hooks stubbed), dotparser for
 * DOT, Ajv with a JSON Schema written from the W3C PROV-JSON submission, and Cytoscape.js
 * headless for its elements JSON.
 */

// Names that need escaping in every format.
const tricky = store({
  'in"gest1': { t: 0, uses: ['raw/"quoted" #1 <b>'], produces: ['data\\v'], emitter: 'a "b" c' },
  train1: { t: 10, pred: 'in"gest1', uses: ['data\\v'], produces: ['model/m; drop'] },
  deploy1: { t: 20, pred: 'train1', uses: ['model/m; drop', 'raw/"quoted" #1 <b>'] },
});

function results(): Array<[string, LineageResult]> {
  return [
    ['pipeline', walkUpstream(pipeline().index, 'deploy2')],
    ['tricky names', walkUpstream(tricky.index, 'deploy1')],
  ];
}

type MermaidApi = {
  parse(text: string): Promise<unknown>;
  mermaidAPI: { getDiagramFromText(text: string): Promise<{ db: { getVertices(): Map<string, { text: string }>; getEdges(): Array<{ start: string; end: string; text: string }> } }> };
};
let mermaid: MermaidApi;

beforeAll(async () => {
  const { default: purify } = (await import('dompurify')) as unknown as { default: Record<string, unknown> };
  purify.addHook ??= () => undefined;
  purify.removeHook ??= () => undefined;
  purify.removeAllHooks ??= () => undefined;
  purify.sanitize ??= (text: string) => text;
  mermaid = ((await import('mermaid')) as unknown as { default: MermaidApi }).default;
}, 60_000);

describe('exports parse with real parsers', () => {
  it.each(results())('Mermaid (%s): mermaid parses it, with every node and edge', async (_name, result) => {
    const text = toMermaid(result);
    await expect(mermaid.parse(text)).resolves.toMatchObject({ diagramType: 'flowchart-v2' });
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const vertices = diagram.db.getVertices();
    expect(vertices.size).toBe(result.nodes.length);
    expect(diagram.db.getEdges()).toHaveLength(result.edges.length);
    expect(diagram.db.getEdges().map((e) => e.text).sort()).toEqual(result.edges.map((e) => e.kind).sort());
  });

  it('Mermaid: a broken diagram is refused by the same parser (the check is real)', async () => {
    await expect(mermaid.parse('flowchart LR\n  n0["unclosed\n')).rejects.toThrow(/Parse error/);
  });

  it.each(results())('DOT (%s): dotparser reads one digraph whose nodes and edges are the result\'s', (_name, result) => {
    const [graph] = parseDot(toDot(result)) as Array<{ type: string; children: Array<Record<string, any>> }>;
    expect(graph!.type).toBe('digraph');
    const nodes = graph!.children.filter((c) => c.type === 'node_stmt');
    const edges = graph!.children.filter((c) => c.type === 'edge_stmt');
    expect(nodes.map((n) => n.node_id.id)).toEqual(result.nodes.map((n) => n.key));
    expect(edges.map((e) => [e.edge_list[0].id, e.edge_list[1].id])).toEqual(result.edges.map((e) => [e.from, e.to]));
    const label = nodes[0]!.attr_list.find((a: { id: string }) => a.id === 'label').eq;
    expect(typeof label).toBe('string');
  });

  it.each(results())('PROV-JSON (%s): valid against the PROV-JSON schema, with the relations RK has', (_name, result) => {
    const schema = JSON.parse(readFileSync(new URL('./prov-json.schema.json', import.meta.url), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const doc = toProvJson(result);
    const valid = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    const pems = result.nodes.filter((n) => n.kind === 'pem');
    expect(Object.keys(doc.activity)).toHaveLength(pems.length);
    expect(Object.keys(doc.used)).toHaveLength(result.edges.filter((e) => e.kind === 'used').length);
    expect(Object.keys(doc.wasGeneratedBy)).toHaveLength(result.edges.filter((e) => e.kind === 'produced').length);
    expect(Object.keys(doc.wasInformedBy)).toHaveLength(result.edges.filter((e) => e.kind === 'predecessor').length);
    expect(Object.keys(doc.wasAssociatedWith)).toHaveLength(pems.length);
    // Every relation names records that exist.
    for (const used of Object.values(doc.used)) {
      expect(doc.activity[used['prov:activity'] as string]).toBeDefined();
      expect(doc.entity[used['prov:entity'] as string]).toBeDefined();
    }
    expect(validate({ ...doc, used: { 'x': { 'prov:entity': 'rk:e' } } })).toBe(false); // a usage without its activity
  });

  it.each(results())('Cytoscape JSON (%s): loads headless with every node and edge', (_name, result) => {
    const cy = cytoscape({ headless: true, elements: toCytoscape(result).elements as cytoscape.ElementsDefinition });
    expect(cy.nodes()).toHaveLength(result.nodes.length);
    expect(cy.edges()).toHaveLength(result.edges.length);
    const start = cy.getElementById(result.start);
    expect(start.empty()).toBe(false);
    // Upstream edges point forward in time, so the start has no outgoing edge.
    expect(start.outgoers('edge')).toHaveLength(0);
  });

  it('exports an explanation as its walk', () => {
    const why = explainLineage(pipeline().index, 'deploy2');
    expect(toDot(why)).toBe(toDot(why.lineage));
    expect(toMermaid(why, { direction: 'TB' }).startsWith('flowchart TB\n')).toBe(true);
  });
});
