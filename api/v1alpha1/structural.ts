// Validates a value against a structural schema the way kube-apiserver validates a custom
// resource against its CRD: the same keywords, the same error types, the same wording. It
// walks the very OpenAPI JSON that goes into the CRD, so the CLI cannot drift from the
// cluster. Unknown fields are reported as kubectl's strict field validation reports them
// (the API server itself prunes them silently).
import type { OpenApiSchema } from './openapi.js';
import { type FieldError, goFloat, invalid, notSupported, required, tooLong, tooMany, typeInvalid, unknownField } from './field-errors.js';

/** jsonType names a value's type as kube-openapi does ("integer" for whole numbers). */
export function jsonType(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(want: string, got: string): boolean {
  return want === got || (want === 'number' && got === 'integer');
}

/** validateValue appends to `errs` every way `value` at `path` breaks `schema`. */
export function validateValue(value: unknown, schema: OpenApiSchema, path: string, errs: FieldError[]): void {
  if (value === null && schema.nullable === true) return;
  const got = jsonType(value);
  if (schema.type !== undefined && !typeMatches(schema.type, got)) {
    errs.push(typeInvalid(path, got, schema.type));
    return;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) errs.push(notSupported(path, value, schema.enum));
  if (got === 'object') validateObject(value as Record<string, unknown>, schema, path, errs);
  else if (got === 'array') validateArray(value as unknown[], schema, path, errs);
  else if (got === 'string') validateString(value as string, schema, path, errs);
  else if (got === 'integer' || got === 'number') validateNumber(value as number, schema, path, errs);
}

function validateObject(value: Record<string, unknown>, schema: OpenApiSchema, path: string, errs: FieldError[]): void {
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) errs.push(required(`${path}.${name}`));
  }
  const properties = schema.properties ?? {};
  for (const [name, child] of Object.entries(value)) {
    const childSchema = properties[name];
    if (childSchema !== undefined) {
      if (child !== undefined) validateValue(child, childSchema, `${path}.${name}`, errs);
    } else if (schema['x-kubernetes-preserve-unknown-fields'] !== true) {
      errs.push(unknownField(`${path}.${name}`));
    }
  }
}

function validateArray(value: unknown[], schema: OpenApiSchema, path: string, errs: FieldError[]): void {
  if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push(tooMany(path, value.length, schema.maxItems));
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    errs.push(invalid(path, value.length, `${path} in body should have at least ${schema.minItems} items`));
  }
  if (schema.items === undefined) return;
  for (const [i, item] of value.entries()) validateValue(item, schema.items, `${path}[${i}]`, errs);
}

function validateString(value: string, schema: OpenApiSchema, path: string, errs: FieldError[]): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (schema.maxLength !== undefined && bytes > schema.maxLength) errs.push(tooLong(path, schema.maxLength));
  if (schema.minLength !== undefined && bytes < schema.minLength) {
    errs.push(invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
    errs.push(invalid(path, value, `${path} in body should match '${schema.pattern}'`));
  }
}

function validateNumber(value: number, schema: OpenApiSchema, path: string, errs: FieldError[]): void {
  const { minimum, maximum } = schema;
  if (minimum !== undefined) {
    const exclusive = schema.exclusiveMinimum === true;
    if (exclusive ? value <= minimum : value < minimum) {
      const words = exclusive ? 'greater than' : 'greater than or equal to';
      errs.push(invalid(path, value, `${path} in body should be ${words} ${goBound(minimum, value)}`));
    }
  }
  if (maximum !== undefined) {
    const exclusive = schema.exclusiveMaximum === true;
    if (exclusive ? value >= maximum : value > maximum) {
      const words = exclusive ? 'less than' : 'less than or equal to';
      errs.push(invalid(path, value, `${path} in body should be ${words} ${goBound(maximum, value)}`));
    }
  }
}

// kube-openapi compares whole-number data against an int64 bound (printed as an integer)
// and other data against a float64 bound (printed by %v, exponent form from 1e6).
function goBound(bound: number, value: number): string {
  return Number.isInteger(value) && Number.isInteger(bound) ? String(bound) : goFloat(bound);
}
