// The whole ForwardForwardJob object and the checks on its envelope (apiVersion, kind,
// metadata.name) that surround the spec's.
import { API_VERSION, KIND } from './constants.js';
import { BLOCKING_TYPES, notSupported, required, RULES_SKIPPED, unknownField, type FieldError } from './field-errors.js';
import { nameErrors } from './metadata-name.js';
import { OBJECT_RULES } from './rules.js';
import type { ForwardForwardJobSpec } from './schema.js';
import type { ForwardForwardJobStatus } from './status.js';
import { jsonType } from './structural.js';
import { defaultSpec, specFieldErrors, type ForwardForwardJobSpecInput } from './validate.js';

/** ObjectMeta is the part of metav1.ObjectMeta this project reads; the rest passes through. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** ForwardForwardJob is a job after defaulting. */
export interface ForwardForwardJob {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ForwardForwardJobSpec;
  status?: ForwardForwardJobStatus;
}

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

function envelopeErrors(obj: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.apiVersion === undefined) errs.push(required('apiVersion'));
  else if (obj.apiVersion !== API_VERSION) errs.push(notSupported('apiVersion', obj.apiVersion, [API_VERSION]));
  if (obj.kind === undefined) errs.push(required('kind'));
  else if (obj.kind !== KIND) errs.push(notSupported('kind', obj.kind, [KIND]));
  errs.push(...metadataErrors(obj.metadata));
  for (const key of Object.keys(obj)) if (!TOP_LEVEL.has(key)) errs.push(unknownField(key));
  return errs;
}

function metadataErrors(meta: unknown): FieldError[] {
  if (meta === undefined || meta === null || typeof meta !== 'object' || Array.isArray(meta)) return [required('metadata')];
  const { name } = meta as ObjectMeta;
  if (typeof name === 'string' && name !== '') return nameErrors(name);
  if (hasName(meta as ObjectMeta)) return [];
  // The API server's wording (ValidateObjectMeta) for a nameless object.
  return [{ type: 'Required', path: 'metadata.name', message: 'metadata.name: Required value: name or generateName is required' }];
}

function hasName(meta: ObjectMeta): boolean {
  return (typeof meta.name === 'string' && meta.name !== '') || (typeof meta.generateName === 'string' && meta.generateName !== '');
}

/** validateJob returns every problem with a whole object (envelope and spec); empty means valid. */
export function validateJob(obj: unknown): string[] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    return [`a ForwardForwardJob must be a mapping, not ${jsonType(obj)}`];
  }
  const record = obj as Record<string, unknown>;
  const errs = [...envelopeErrors(record), ...specFieldErrors(record.spec)];
  return [...errs, ...skippedNotice(errs), ...objectRuleErrors(record, errs)].map((e) => e.message);
}

// One CEL pass covers the whole object, so a blocking error in its metadata (no name, a name
// over the schema's maxLength) skips the spec's rules too, and the API server says so once.
// apiVersion and kind are not among them: a wrong one never reaches this validator.
function skippedNotice(errs: readonly FieldError[]): FieldError[] {
  const skipped = errs.some((e) => e.message === RULES_SKIPPED);
  const blocked = errs.some((e) => e.path.startsWith('metadata') && BLOCKING_TYPES.has(e.type));
  return !skipped && blocked ? [{ type: 'Invalid', path: '<nil>', message: RULES_SKIPPED }] : [];
}

// The rules on the whole object run, like the spec's, only when nothing blocking was found;
// a job named by generateName alone gets its name from the API server, so they wait for it.
function objectRuleErrors(obj: Record<string, unknown>, found: readonly FieldError[]): FieldError[] {
  if (found.some((e) => BLOCKING_TYPES.has(e.type) || e.message === RULES_SKIPPED)) return [];
  const name = (obj.metadata as ObjectMeta).name;
  if (typeof name !== 'string' || name === '') return [];
  const named = { metadata: { name }, spec: defaultSpec(obj.spec as ForwardForwardJobSpecInput) };
  return OBJECT_RULES.filter((r) => !r.holds(named)).map((r) => ({
    type: 'Invalid',
    path: r.path,
    message: `${r.path}: Invalid value: ${r.message}`,
  }));
}
