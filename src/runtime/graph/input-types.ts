// The inputs a node's run receives, typed from its schema: a widget's value type (INT and FLOAT numbers, a COMBO the
// union of its listed options), a link's value type from a socket type map, and optional inputs possibly absent
// unless they have a default (the executor fills defaults before run). Types only: nothing here exists at run time.

/** The value types of the primitive sockets, which every socket type map includes. */
export interface PrimitiveValues {
  INT: number;
  FLOAT: number;
  STRING: string;
  BOOLEAN: boolean;
}

/** The value `run` gets for an input of spec S, with V mapping socket types to value types (`unknown` where unmapped). */
export type InputValue<S, V> = S extends { type: 'COMBO'; options: readonly (infer O extends string)[] }
  ? O
  : S extends { type: 'COMBO' }
    ? string
    : S extends { type: infer T extends keyof PrimitiveValues }
      ? PrimitiveValues[T]
      : S extends { type: infer T extends keyof V }
        ? V[T]
        : unknown;

/** Whether a spec declares a default (which the executor fills in when the prompt leaves the input out). */
type HasDefault<S> = S extends { default: infer D } ? ([D] extends [undefined] ? false : true) : false;

/** Inputs that may be absent when run is called: optional ones without a default. */
type AbsentKeys<I> = { [K in keyof I]: I[K] extends { optional: true } ? (HasDefault<I[K]> extends true ? never : K) : never }[keyof I];

/** Inputs a caller may leave out: the optional ones and those with a default. */
type OmittableKeys<I> = { [K in keyof I]: I[K] extends { optional: true } ? K : HasDefault<I[K]> extends true ? K : never }[keyof I];

type Flat<T> = { [K in keyof T]: T[K] };

/** The inputs `run` receives for the schema I. */
export type InputsOf<I, V = PrimitiveValues> = Flat<
  { -readonly [K in Exclude<keyof I, AbsentKeys<I>>]: InputValue<I[K], V> } & { -readonly [K in AbsentKeys<I>]?: InputValue<I[K], V> }
>;

/** The inputs a caller gives when the schema's defaults fill the rest (what a test helper or a script passes). */
export type InputsGiven<I, V = PrimitiveValues> = Flat<
  { -readonly [K in Exclude<keyof I, OmittableKeys<I>>]: InputValue<I[K], V> } & { -readonly [K in OmittableKeys<I>]?: InputValue<I[K], V> }
>;
