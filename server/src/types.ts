import type { components as ReceiverComponents, operations as ReceiverOperations } from '../../src/generated/receiver.js';
import type { components as QueryComponents, operations as QueryOperations } from '../../src/generated/query.js';
import type {
  components as GraphBuilderComponents,
  operations as GraphBuilderOperations,
} from '../../src/generated/graph-builder.js';

/**
 * The server's view of the specs' types: the same generated declarations the client uses, so a
 * handler that answers a shape or a status the spec does not define fails to compile.
 */

export type Pem = ReceiverComponents['schemas']['Pem'];
export type Artifact = ReceiverComponents['schemas']['Artifact'];
export type TagRecord = ReceiverComponents['schemas']['TagRecord'];
export type ApiError = ReceiverComponents['schemas']['Error'];
export type ErrorCode = ApiError['code'];
export type StoredPem = QueryComponents['schemas']['StoredPem'];
export type Report = QueryComponents['schemas']['Report'];
export type ReportBody = QueryComponents['schemas']['ReportBody'];
export type GraphInfo = GraphBuilderComponents['schemas']['GraphInfo'];

export type AllOperations = ReceiverOperations & QueryOperations & GraphBuilderOperations;
export type OperationId = keyof AllOperations;

type Content<R> = R extends { content: infer C } ? C : never;

/** One documented answer of an operation: its status, media type and body. */
export type ReplyOf<Op extends { responses: object }> = {
  [S in keyof Op['responses'] & number]: {
    [M in keyof Content<Op['responses'][S]> & string]: { status: S; type: M; body: Content<Op['responses'][S]>[M] };
  }[keyof Content<Op['responses'][S]> & string];
}[keyof Op['responses'] & number];

type JsonBody<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined;
type Params<Op, Where extends 'path' | 'query'> = Op extends { parameters: { [K in Where]?: infer P } }
  ? [P] extends [never | undefined] ? Record<string, never> : NonNullable<P>
  : Record<string, never>;

/** An answer as the HTTP layer writes it: JSON when `type` is application/json, else text. */
export interface Reply {
  status: number;
  type?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Who is calling: the credential's kind, or anonymous when none was needed or sent. */
export interface Principal {
  kind: 'anonymous' | 'user' | 'puc';
  admin: boolean;
}

/** A request after routing, authentication and validation against the spec. */
export interface RequestOf<Op> {
  path: Params<Op, 'path'>;
  query: Params<Op, 'query'>;
  body: JsonBody<Op>;
  principal: Principal;
}

export type Handler<Id extends OperationId> = (request: RequestOf<AllOperations[Id]>) => Promise<ReplyOf<AllOperations[Id]>>;
export type Handlers = { [Id in OperationId]: Handler<Id> };
