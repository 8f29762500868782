import { formatTimestamp, isTimestamp } from '../wire/timestamps.js';
import { describe, guarded, isPlainObject, requireHexId, requireObject, requireStringRecord, requireText, snapshotOptions } from '../core/checks.js';
import { receiver as receiverFacts } from '../generated/facts.js';
import { RKInvalidInputError } from '../core/errors.js';
import { newPemId } from '../wire/ids.js';
import type { Logger } from '../core/logger.js';
import type { Artifact, ArtifactProperties, PemPayload, PemProperties } from './types.js';

/** The PEM format this client writes. */
export const PEM_VERSION: PemPayload['Version'] = '2.0.0';
export const DEFAULT_TAG = 'latest';

/**
 * The optional parts of a new PEM: predecessor, properties and the tag it moves. `P` types the
 * properties (`preparePem<TrainRun>('train', { properties: { epochs: 3 } })`); they are checked
 * at run time to be a JSON object whatever `P` says.
 */
export interface PreparePemOptions<P extends object = PemProperties> {
  /** The PEM this event follows: a PEM made by preparePem or its ID. */
  predecessor?: Pem<object> | string | null | undefined;
  /** Any JSON object describing the event. */
  properties?: P | undefined;
  /** The tag moved to this PEM when it is stored; default `latest`. */
  tagName?: string | undefined;
  /** The tag's namespace; default the emitter ID. */
  tagNamespace?: string | undefined;
}

/**
 * An event about to be sent: made by `preparePem`, given artifacts with `usesArtifact` and
 * `producesArtifact`, and serialized by JSON.stringify to exactly the JSON the Receiver takes.
 * Its ID is fixed at creation, so sending it again is recognised as the same event. `P` is the
 * type of its Properties (any JSON object when not given).
 */
export class Pem<P extends object = PemProperties> {
  readonly ID: string;
  readonly Type: string;
  readonly Predecessor: string | null;
  readonly Emitter: string;
  readonly TimestampClient: string;
  readonly Properties: P;
  readonly Version = PEM_VERSION;
  readonly Tag: string;
  readonly TagNamespace: string;
  readonly UsesArtifacts: Artifact[] = [];
  readonly ProducesArtifacts: Artifact[] = [];
  readonly #logger: Logger | undefined;

  private constructor(fields: Omit<PemPayload, 'Version' | 'UsesArtifacts' | 'ProducesArtifacts' | 'Properties'> & { Properties: P }, logger?: Logger) {
    this.ID = fields.ID;
    this.Type = fields.Type;
    this.Predecessor = fields.Predecessor;
    this.Emitter = fields.Emitter;
    this.TimestampClient = fields.TimestampClient;
    this.Properties = fields.Properties;
    this.Tag = fields.Tag;
    this.TagNamespace = fields.TagNamespace;
    this.#logger = logger;
  }

  /** A new PEM with a fresh ID and the current UTC time. Throws RKInvalidInputError on bad input. */
  static prepare<P extends object = PemProperties>(emitterId: string, type: string, given: PreparePemOptions<P> = {}, logger?: Logger): Pem<P> {
    const op = 'Preparing PEM';
    if (!isPlainObject(given)) requireObject(op, 'options', given);
    const options = snapshotOptions(op, 'options', given) as PreparePemOptions<P>;
    return guarded(op, 'options', () => Pem.#prepare<P>(op, emitterId, type, options, logger));
  }

  static #prepare<P extends object>(op: string, emitterId: string, type: string, options: PreparePemOptions<P>, logger?: Logger): Pem<P> {
    const predecessor = options.predecessor instanceof Pem ? options.predecessor.ID : (options.predecessor ?? null);
    return new Pem<P>(
      {
        ID: newPemId(),
        Type: limitedText(op, 'type', type, 'ingest', 'Pem', 'Type'),
        Predecessor: predecessor === null ? null : requireHexId(op, 'predecessor', predecessor),
        Emitter: limitedText(op, 'emitterId', emitterId, 'my-service', 'Pem', 'Emitter'),
        TimestampClient: formatTimestamp(new Date()),
        Properties: structuredCloneJson(op, 'properties', options.properties ?? {}) as P,
        Tag: limitedText(op, 'tagName', options.tagName ?? DEFAULT_TAG, DEFAULT_TAG, 'Pem', 'Tag'),
        TagNamespace: limitedText(op, 'tagNamespace', options.tagNamespace ?? emitterId, 'my-service', 'Pem', 'TagNamespace'),
      },
      logger,
    );
  }

  /**
   * A Pem from wire JSON (a PEM read back from disk or built by hand), with every field checked.
   * Throws RKInvalidInputError naming the first field that is wrong.
   */
  static from(payload: PemPayload | Pem<object>, logger?: Logger): Pem {
    const op = 'Reading PEM';
    return guarded(op, 'pem', () => Pem.#from(op, payload, logger));
  }

  static #from(op: string, payload: PemPayload | Pem<object>, logger?: Logger): Pem {
    // A Pem is checked like wire JSON too: its fields can be changed after preparePem.
    const fields = payload instanceof Pem ? { ...payload.toJSON() } : requireObject(op, 'pem', payload);
    if (fields.Version !== PEM_VERSION) {
      throw new RKInvalidInputError(op, 'pem.Version', `must be "${PEM_VERSION}", got ${JSON.stringify(fields.Version)}`);
    }
    const pem = new Pem(
      {
        ID: requireHexId(op, 'pem.ID', fields.ID),
        Type: limitedText(op, 'pem.Type', fields.Type, 'ingest', 'Pem', 'Type'),
        Predecessor: fields.Predecessor === null ? null : requireHexId(op, 'pem.Predecessor', fields.Predecessor),
        Emitter: limitedText(op, 'pem.Emitter', fields.Emitter, 'my-service', 'Pem', 'Emitter'),
        TimestampClient: requireTimestamp(op, 'pem.TimestampClient', fields.TimestampClient),
        Properties: structuredCloneJson(op, 'pem.Properties', fields.Properties),
        Tag: limitedText(op, 'pem.Tag', fields.Tag, DEFAULT_TAG, 'Pem', 'Tag'),
        TagNamespace: limitedText(op, 'pem.TagNamespace', fields.TagNamespace, 'my-service', 'Pem', 'TagNamespace'),
      },
      logger,
    );
    for (const [list, add] of [
      ['UsesArtifacts', (a: Artifact) => pem.UsesArtifacts.push(a)],
      ['ProducesArtifacts', (a: Artifact) => pem.ProducesArtifacts.push(a)],
    ] as const) {
      const items = fields[list];
      if (!Array.isArray(items)) {
        throw new RKInvalidInputError(op, `pem.${list}`, 'must be an array of artifacts');
      }
      items.forEach((item, i) => add(checkArtifact(op, `pem.${list}[${i}]`, item)));
    }
    return pem;
  }

  /** Records that this event used the artifact. A Name already in the list is skipped with a warning. */
  usesArtifact(artifact: Artifact): this {
    const checkedArtifact = guarded('Adding a used artifact', 'artifact', () => checkArtifact('Adding a used artifact', 'artifact', artifact));
    if (this.UsesArtifacts.some((a) => a.Name === checkedArtifact.Name)) {
      this.#logger?.warn(`PEM ${this.ID} already uses artifact "${checkedArtifact.Name}"; the repeat is skipped`);
      return this;
    }
    this.UsesArtifacts.push(checkedArtifact);
    return this;
  }

  /** Records that this event produced the artifact. Repeats are kept, as in the reference client. */
  producesArtifact(artifact: Artifact): this {
    this.ProducesArtifacts.push(guarded('Adding a produced artifact', 'artifact', () => checkArtifact('Adding a produced artifact', 'artifact', artifact)));
    return this;
  }

  /** The wire JSON, keys in the reference client's order. */
  toJSON(): PemPayload {
    return {
      ID: this.ID,
      Type: this.Type,
      Predecessor: this.Predecessor,
      Emitter: this.Emitter,
      TimestampClient: this.TimestampClient,
      Properties: this.Properties as PemProperties,
      Version: this.Version,
      Tag: this.Tag,
      TagNamespace: this.TagNamespace,
      UsesArtifacts: this.UsesArtifacts,
      ProducesArtifacts: this.ProducesArtifacts,
    };
  }
}

/** A new artifact as a client sends it (`CreatedAt` null: the Receiver sets it). */
export function prepareArtifact(name: string, properties: ArtifactProperties = {}): Artifact {
  const op = 'Preparing artifact';
  return guarded(op, 'properties', () => ({
    Name: limitedText(op, 'name', name, 'dataset-a', 'Artifact', 'Name'),
    Properties: { ...requireStringRecord(op, 'properties', properties) },
    CreatedAt: null,
  }));
}

type Limited = { [S in keyof typeof receiverFacts.maxLength]: keyof (typeof receiverFacts.maxLength)[S] };

/**
 * A non-empty text within the spec's maxLength (counted in Unicode code points, as the Receiver
 * counts): the Receiver would answer 422 for a longer one, so it is refused before sending.
 */
export function limitedText<S extends keyof Limited>(operation: string, argument: string, value: unknown, example: string, schema: S, property: Limited[S]): string {
  const text = requireText(operation, argument, value, example);
  const limit = (receiverFacts.maxLength[schema] as Record<string, number>)[property as string];
  if (limit !== undefined) {
    let length = 0;
    for (const _ of text) if (++length > limit) break;
    if (length > limit) {
      throw new RKInvalidInputError(operation, argument, `is longer than ${limit} characters, the most the Receiver takes (${schema}.${String(property)} maxLength ${limit}); shorten it`);
    }
  }
  return text;
}

function checkArtifact(operation: string, argument: string, value: unknown): Artifact {
  const artifact = requireObject(operation, argument, value);
  const createdAt = artifact.CreatedAt ?? null;
  if (createdAt !== null && typeof createdAt !== 'string') {
    throw new RKInvalidInputError(operation, `${argument}.CreatedAt`, 'must be null or a string; use prepareArtifact(name, properties)');
  }
  return {
    Name: limitedText(operation, `${argument}.Name`, artifact.Name, 'dataset-a', 'Artifact', 'Name'),
    Properties: { ...requireStringRecord(operation, `${argument}.Properties`, artifact.Properties ?? {}) },
    CreatedAt: createdAt,
  };
}

function requireTimestamp(operation: string, argument: string, value: unknown): string {
  if (!isTimestamp(value)) {
    throw new RKInvalidInputError(operation, argument, 'must be a real UTC time as "YYYY-MM-DD HH:MM:SS"');
  }
  return value as string;
}

/**
 * Properties are copied so later changes by the caller cannot alter a prepared PEM. Values JSON
 * would silently drop or change (a function, undefined, NaN, a BigInt, a cycle) are refused now,
 * naming where they are, instead of vanishing from the event.
 */
function structuredCloneJson(operation: string, argument: string, value: unknown): PemProperties {
  requireObject(operation, argument, value);
  return copyJson(operation, argument, value, new Set()) as PemProperties;
}

function copyJson(operation: string, path: string, value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new RKInvalidInputError(operation, path, `is ${value}, which JSON cannot carry; pass a finite number or a string`);
  }
  if (typeof value === 'object') {
    if (seen.has(value)) throw new RKInvalidInputError(operation, path, 'refers back to itself; pass a tree of plain values');
    if (value instanceof Date) return value.toJSON();
    if (!Array.isArray(value) && !isPlainObject(value)) {
      throw new RKInvalidInputError(operation, path, `is ${describe(value)}; pass plain objects, arrays, strings, numbers, booleans or null`);
    }
    seen.add(value);
    const copy = Array.isArray(value)
      ? value.map((item, i) => copyJson(operation, `${path}[${i}]`, item, seen))
      : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copyJson(operation, `${path}.${key}`, item, seen)]));
    seen.delete(value);
    return copy;
  }
  throw new RKInvalidInputError(operation, path, `is ${describe(value)}, which JSON cannot carry; pass a plain JSON value`);
}
