// The whole ForwardForwardJob object and the checks on its envelope (apiVersion, kind,
// metadata.name) that surround the spec's.
import { API_VERSION, KIND } from './constants.js';
import { notSupported, required, unknownField, type FieldError } from './field-errors.js';
import type { ForwardForwardJobSpec } from './schema.js';
import type { ForwardForwardJobStatus } from './status.js';
import { jsonType } from './structural.js';
import { specFieldErrors } from './validate.js';

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
  const meta = obj.metadata;
  if (meta === undefined || meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    errs.push(required('metadata'));
  } else if (!hasName(meta as ObjectMeta)) {
    // The API server's wording (ValidateObjectMeta) for a nameless object.
    errs.push({ type: 'Required', path: 'metadata.name', message: 'metadata.name: Required value: name or generateName is required' });
  }
  for (const key of Object.keys(obj)) if (!TOP_LEVEL.has(key)) errs.push(unknownField(key));
  return errs;
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
  return [...envelopeErrors(record), ...specFieldErrors(record.spec)].map((e) => e.message);
}
