// validateSpec and defaultSpec: what the API server would say about a spec and what it
// would store. Both default a copy first, because the API server defaults before it
// validates and the CEL rules read fields the user may have left to their defaults.
import { BLOCKING_TYPES, RULES_SKIPPED, required, type FieldError } from './field-errors.js';
import { toOpenApi, type OpenApiSchema } from './openapi.js';
import { RULES } from './rules.js';
import { ForwardForwardJobSpecSchema, type ForwardForwardJobSpec } from './schema.js';
import { applyDefaults } from './defaulting.js';
import { validateValue } from './structural.js';

/** SPEC_OPENAPI is the spec's structural schema: the CRD's and the CLI's. */
export const SPEC_OPENAPI: OpenApiSchema = toOpenApi(ForwardForwardJobSpecSchema);

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** ForwardForwardJobSpecInput is a spec as users write it: only model.layers is required. */
export type ForwardForwardJobSpecInput = DeepPartial<ForwardForwardJobSpec> & {
  model: DeepPartial<ForwardForwardJobSpec['model']> & { layers: number[] };
};

/** defaultSpec returns a copy of `spec` with every schema default filled in; it does not validate. */
export function defaultSpec(spec: ForwardForwardJobSpecInput): ForwardForwardJobSpec {
  const copy = structuredClone(spec);
  applyDefaults(copy, SPEC_OPENAPI);
  return copy as ForwardForwardJobSpec;
}

/** specFieldErrors validates a spec as the API server would, at the path `spec`. */
export function specFieldErrors(spec: unknown): FieldError[] {
  if (spec === undefined || spec === null) return [required('spec')];
  const copy = structuredClone(spec);
  applyDefaults(copy, SPEC_OPENAPI);
  const errs: FieldError[] = [];
  validateValue(copy, SPEC_OPENAPI, 'spec', errs);
  if (errs.some((e) => BLOCKING_TYPES.has(e.type))) {
    errs.push({ type: 'Invalid', path: '<nil>', message: RULES_SKIPPED });
    return errs;
  }
  for (const rule of RULES) {
    if (!rule.holds(copy as ForwardForwardJobSpec)) {
      // kube-apiserver v1.36 omits the value of a CEL rule's error (it used to print "object").
      errs.push({ type: 'Invalid', path: rule.path, message: `${rule.path}: Invalid value: ${rule.message}` });
    }
  }
  return errs;
}

/**
 * validateSpec returns every problem with `spec`, worded as kube-apiserver words them
 * (plus strict field validation's `unknown field "spec.foo"`); empty means valid.
 */
export function validateSpec(spec: unknown): string[] {
  return specFieldErrors(spec).map((e) => e.message);
}
