// TypeBox builders for the few OpenAPI shapes a Kubernetes structural schema needs and
// TypeBox has no direct form for. They use Type.Unsafe: the runtime check is ours
// (validate.ts walks the generated OpenAPI), so TypeBox only has to carry the JSON and
// the static type.
import { Type, type TUnsafe } from '@sinclair/typebox';

interface Described {
  description: string;
}

/** StringEnum is a string restricted to `values`: `type: string` + `enum` in the CRD. */
export function StringEnum<const T extends readonly string[]>(values: T, options: Described & { default?: T[number] }): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** NullableInteger is an optional integer that may also be written as null (meaning unset). */
export function NullableInteger(options: Described & { minimum?: number }): TUnsafe<number | null> {
  return Type.Unsafe<number | null>({ type: 'integer', nullable: true, ...options });
}

/**
 * KubeObject is an embedded Kubernetes object (ResourceRequirements, a pod template, a
 * volume source) that the API server keeps as written: validating it is the job of the
 * objects the operator creates from it.
 */
export function KubeObject(options: Described & { default?: Record<string, never> }): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    ...options,
  });
}
