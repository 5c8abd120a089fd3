// Turns a TypeBox schema into the OpenAPI v3.0 dialect a CRD's structural schema speaks.
// Two differences matter: v3.0 writes exclusive bounds as booleans beside minimum/maximum,
// and a field with a default must not be `required` (the API server fills it before
// validating, and `kubectl explain` would wrongly mark it -required-). Unknown keywords
// throw, so a TypeBox feature the API server would reject never reaches the CRD.
import type { TSchema } from '@sinclair/typebox';

/** OpenApiSchema is the JSON of one structural-schema node. */
export interface OpenApiSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  default?: unknown;
  enum?: unknown[];
  nullable?: boolean;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: OpenApiSchema;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string }[];
}

const COPIED = new Set([
  'type',
  'description',
  'default',
  'enum',
  'nullable',
  'format',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
]);

/** toOpenApi converts a TypeBox schema (plain JSON plus symbol keys) to a structural schema node. */
export function toOpenApi(schema: TSchema): OpenApiSchema {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (COPIED.has(key)) out[key] = structuredClone(value);
    else if (key === 'items') out.items = toOpenApi(value as TSchema);
    else if (key === 'properties') out.properties = convertProperties(value as Record<string, TSchema>);
    else if (key !== 'required') convertBound(key, value, out);
  }
  const required = requiredWithoutDefault(schema);
  if (required.length > 0) out.required = required;
  return ordered(out) as OpenApiSchema;
}

// type and description first, properties last, so the generated YAML reads top-down.
function ordered(node: Record<string, unknown>): Record<string, unknown> {
  const rank = (key: string): number => (key === 'type' ? 0 : key === 'description' ? 1 : key === 'properties' ? 3 : 2);
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => rank(a) - rank(b)));
}

function convertProperties(properties: Record<string, TSchema>): Record<string, OpenApiSchema> {
  return Object.fromEntries(Object.entries(properties).map(([name, child]) => [name, toOpenApi(child)]));
}

function requiredWithoutDefault(schema: TSchema): string[] {
  const required = (schema.required ?? []) as string[];
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  return required.filter((name) => properties[name]?.default === undefined);
}

function convertBound(key: string, value: unknown, out: Record<string, unknown>): void {
  switch (key) {
    case 'minimum':
    case 'maximum':
      out[key] = value;
      return;
    case 'exclusiveMinimum':
      out.minimum = value;
      out.exclusiveMinimum = true;
      return;
    case 'exclusiveMaximum':
      out.maximum = value;
      out.exclusiveMaximum = true;
      return;
    default:
      throw new Error(`toOpenApi: keyword ${JSON.stringify(key)} has no structural-schema form`);
  }
}
