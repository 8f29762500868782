import { graphOf, type LineageGraphSource } from './export-graph.js';
import type { ArtifactNode, PemNode } from './walk.js';

/**
 * W3C PROV-JSON (the 2013 Member Submission): each PEM is an activity, each artifact version an
 * entity, each emitter a (software) agent; relations `used`, `wasGeneratedBy`, `wasInformedBy`
 * (a PEM informed by its Predecessor) and `wasAssociatedWith` (a PEM and its emitter). Identifiers
 * are qualified names in the `rk` namespace, with IDs, Names and emitters percent-encoded.
 */

type Attributes = Record<string, unknown>;

/** A W3C PROV-JSON document: PEMs as activities, artifact versions as entities, emitters as agents. */
export interface ProvJson {
  prefix: Record<string, string>;
  activity: Record<string, Attributes>;
  entity: Record<string, Attributes>;
  agent: Record<string, Attributes>;
  used: Record<string, Attributes>;
  wasGeneratedBy: Record<string, Attributes>;
  wasInformedBy: Record<string, Attributes>;
  wasAssociatedWith: Record<string, Attributes>;
}

/** The namespace URI of the `rk:` prefix in PROV-JSON exports. */
export const RK_PROV_NAMESPACE = 'urn:recordkeeper:';

/** A QName local part: letters, digits, `_ . -`, everything else percent-encoded (UTF-8). */
const local = (text: string) => encodeURIComponent(text).replace(/[!'()*~]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
const pemId = (id: string) => `rk:pem_${local(id)}`;
const entityId = (node: ArtifactNode) => `rk:artifact_${node.producer === null ? 'unbound' : local(node.producer)}_${local(node.name)}`;
const agentId = (emitter: string) => `rk:emitter_${local(emitter)}`;
const qualified = (name: string) => ({ $: name, type: 'prov:QUALIFIED_NAME' });

/** The lineage result or explanation as a W3C PROV-JSON document. */
export function toProvJson(source: LineageGraphSource): ProvJson {
  const { nodes, edges } = graphOf(source);
  const doc: ProvJson = {
    prefix: { rk: RK_PROV_NAMESPACE },
    activity: {},
    entity: {},
    agent: {},
    used: {},
    wasGeneratedBy: {},
    wasInformedBy: {},
    wasAssociatedWith: {},
  };
  const byKey = new Map(nodes.map((node) => [node.key, node]));
  for (const node of nodes) {
    if (node.kind === 'pem') {
      const activity: Attributes = { 'prov:label': node.missing ? `missing PEM ${node.id}` : node.type, 'rk:id': node.id };
      if (node.type !== null) activity['rk:type'] = node.type;
      if (node.time) {
        const time = `${node.time.replace(' ', 'T')}Z`;
        activity['prov:startTime'] = time;
        activity['prov:endTime'] = time;
      }
      doc.activity[pemId(node.id)] = activity;
      if (node.emitter) {
        doc.agent[agentId(node.emitter)] ??= { 'prov:type': qualified('prov:SoftwareAgent'), 'prov:label': node.emitter };
        doc.wasAssociatedWith[`_:assoc_${local(node.id)}`] = { 'prov:activity': pemId(node.id), 'prov:agent': agentId(node.emitter) };
      }
    } else {
      const entity: Attributes = { 'prov:label': node.name, 'rk:name': node.name };
      if (node.producer === null) entity['rk:unbound'] = true;
      doc.entity[entityId(node)] = entity;
    }
  }
  let n = 0;
  for (const edge of edges) {
    const from = byKey.get(edge.from);
    const to = byKey.get(edge.to);
    if (!from || !to) continue;
    n++;
    if (edge.kind === 'used' && from.kind === 'artifact' && to.kind === 'pem') {
      doc.used[`_:u${n}`] = { 'prov:activity': pemId(to.id), 'prov:entity': entityId(from) };
    } else if (edge.kind === 'produced' && from.kind === 'pem' && to.kind === 'artifact') {
      const relation: Attributes = { 'prov:entity': entityId(to), 'prov:activity': pemId(from.id) };
      if (from.time) relation['prov:time'] = `${from.time.replace(' ', 'T')}Z`;
      doc.wasGeneratedBy[`_:g${n}`] = relation;
    } else if (edge.kind === 'predecessor' && from.kind === 'pem' && to.kind === 'pem') {
      doc.wasInformedBy[`_:i${n}`] = { 'prov:informed': pemId((to as PemNode).id), 'prov:informant': pemId(from.id) };
    }
  }
  return doc;
}
