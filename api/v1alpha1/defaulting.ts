// Structural defaulting as the API server does it (apiextensions-apiserver's
// structuraldefaulting.Default): an absent field, or a null one that is not nullable,
// takes its schema default, and defaulting then descends into it, so an object defaulted
// to {} picks up the defaults of its own fields. A non-nullable null without a default is
// dropped, as the API server prunes it.
import type { OpenApiSchema } from './openapi.js';

/** applyDefaults fills defaults into `value` in place, following `schema`. */
export function applyDefaults(value: unknown, schema: OpenApiSchema): void {
  if (Array.isArray(value)) {
    if (schema.items !== undefined) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (value === null || typeof value !== 'object' || schema.properties === undefined) return;
  const object = value as Record<string, unknown>;
  for (const [name, child] of Object.entries(schema.properties)) defaultProperty(object, name, child);
}

function defaultProperty(object: Record<string, unknown>, name: string, schema: OpenApiSchema): void {
  if (object[name] === null && schema.nullable !== true) delete object[name];
  if (object[name] === undefined && schema.default !== undefined) object[name] = structuredClone(schema.default);
  if (object[name] !== undefined) applyDefaults(object[name], schema);
}
