import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * Ajv over the OpenLineage schema written from the spec (openlineage-2-0-2.schema.json) and this
 * client's two custom facet schemas (schemas/openlineage/). Formats are checked by hand, as the
 * spec states them: date-time with a zone, uri, uuid.
 */
const read = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as Record<string, unknown>;

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
ajv.addFormat('uri', { validate: (text: string) => /^[a-z][a-z0-9+.-]*:/i.test(text) && URL.canParse(text) });
ajv.addSchema(read('./openlineage-2-0-2.schema.json'));
ajv.addSchema(read('../../schemas/openlineage/RecordKeeperPemRunFacet.json'));
ajv.addSchema(read('../../schemas/openlineage/RecordKeeperArtifactDatasetFacet.json'));

const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
const FACETS = 'https://raw.githubusercontent.com/recordkeeper/recordkeeper-client/main/schemas/openlineage';

function check(ref: string, value: unknown): string[] {
  const validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`no schema ${ref}`);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${ref.split('#')[1]} ${e.instancePath} ${e.message}`);
}

/** Every problem of one emitted RunEvent: the event, its parent facet and the two custom facets. */
export function runEventProblems(event: unknown): string[] {
  const e = event as { run?: { facets?: Record<string, unknown> }; inputs?: { facets?: Record<string, unknown> }[]; outputs?: { facets?: Record<string, unknown> }[] };
  const problems = check(`${SPEC}#/$defs/RunEvent`, event);
  const facets = e.run?.facets ?? {};
  if (facets['parent'] !== undefined) problems.push(...check(`${SPEC}#/$defs/ParentRunFacet`, facets['parent']));
  if (facets['recordkeeper_pem'] !== undefined) problems.push(...check(`${FACETS}/RecordKeeperPemRunFacet.json#/$defs/RecordKeeperPemRunFacet`, facets['recordkeeper_pem']));
  for (const dataset of [...(e.inputs ?? []), ...(e.outputs ?? [])]) {
    const facet = dataset.facets?.['recordkeeper_artifact'];
    if (facet !== undefined) problems.push(...check(`${FACETS}/RecordKeeperArtifactDatasetFacet.json#/$defs/RecordKeeperArtifactDatasetFacet`, facet));
  }
  return problems;
}
