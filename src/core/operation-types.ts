import type { CallOptions } from './options.js';

/**
 * The types of `call(operationId, input, call?)`, read from openapi-typescript's `operations` of a
 * spec: the input holds the operation's own path, query and header parameters and its body, each
 * part required exactly when the spec requires something in it; the value is the success reply's
 * content (text for a `text/plain` reply and for every reply the reference client ignores, "ours":
 * any 2xx is success whatever its body). A spec change reaches these types on `npm run generate`.
 */

type Defined<T> = Exclude<T, undefined>;

/** `{ place: T }`, optional when nothing in T is required, absent when the operation has none. */
type Part<Place extends string, T> = [Defined<T>] extends [never]
  ? { [P in Place]?: never }
  : {} extends Defined<T>
    ? { [P in Place]?: Defined<T> }
    : { [P in Place]: Defined<T> };

type ParametersOf<Op> = Op extends { parameters: infer P } ? P : {};
type Parameter<Op, Place extends string> = ParametersOf<Op> extends { [K in Place]?: infer T } ? T : never;

type BodyContent<Op> = Op extends { requestBody?: infer B } ? (Defined<B> extends { content: infer C } ? C[keyof C] : never) : never;
type BodyPart<Op> = [BodyContent<Op>] extends [never]
  ? { body?: never }
  : Op extends { requestBody: { content: object } }
    ? { body: BodyContent<Op> }
    : { body?: BodyContent<Op> };

/** What `call` takes for an operation: `{ path, query, header, body }` as its spec states them. */
export type OperationInput<Op> = Part<'path', Parameter<Op, 'path'>> &
  Part<'query', Parameter<Op, 'query'>> &
  Part<'header', Parameter<Op, 'header'>> &
  BodyPart<Op>;

type SuccessStatus = 200 | 201 | 202 | 203 | 204 | 206;
type ResponsesOf<Op> = Op extends { responses: infer R } ? R : never;
type SuccessContent<Op> = {
  [S in keyof ResponsesOf<Op>]: S extends SuccessStatus ? (ResponsesOf<Op>[S] extends { content: infer C } ? C[keyof C] : undefined) : never;
}[keyof ResponsesOf<Op>];

/** The value `call` resolves with: the success content of a known reply, the body's text of an ours reply. */
export type OperationValue<Op, Description> = Description extends { readonly reply: 'ours' } ? string : SuccessContent<Op>;

/** `call`'s arguments after the operationId: the input may be left out when nothing in it is required. */
export type CallArguments<Op> = {} extends OperationInput<Op>
  ? [input?: OperationInput<Op>, call?: CallOptions]
  : [input: OperationInput<Op>, call?: CallOptions];
