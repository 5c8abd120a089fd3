// Field errors worded as kube-apiserver words them (k8s.io/apimachinery's field.Error and
// apiextensions-apiserver's ConvertToFieldErrors over kube-openapi's messages), so that
// `ffjob validate` and `kubectl apply` say the same thing about the same mistake.

/** FieldErrorType is field.ErrorType; the blocking ones stop CEL rules from running. */
export type FieldErrorType = 'Required' | 'Invalid' | 'NotSupported' | 'TooMany' | 'TooLong' | 'TypeInvalid' | 'Unknown';

/** FieldError is one problem at one path. */
export interface FieldError {
  type: FieldErrorType;
  path: string;
  message: string;
}

/** BLOCKING_TYPES are those after which the API server skips the CEL rules (strategy.go hasBlockingErr). */
export const BLOCKING_TYPES: ReadonlySet<FieldErrorType> = new Set(['NotSupported', 'Required', 'TooLong', 'TooMany', 'TypeInvalid']);

/**
 * RULES_SKIPPED is the error the API server adds when blocking errors kept CEL rules from
 * running; v1.36 prints its value as a bare `null` (checked by test/integration/crd.test.ts).
 */
export const RULES_SKIPPED =
  '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; ' +
  'correct the existing errors to complete validation';

/** goValue prints a value as field.Error's ErrorBody does (%v for numbers and bools, %q for strings). */
export function goValue(value: unknown): string {
  if (value === null || value === undefined) return '"null"';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : goFloat(value);
  if (typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * goFloat prints a float64 as Go's %v does: shortest digits, exponent form when the exponent
 * is below -4 or at least 6 ("1e-08", "1.5e+06"), unlike JavaScript's thresholds.
 */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  const [mantissa, expText] = value.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(value);
}

/** required is field.Required with no detail. */
export function required(path: string): FieldError {
  return { type: 'Required', path, message: `${path}: Required value` };
}

/** invalid is field.Invalid. */
export function invalid(path: string, value: unknown, detail: string): FieldError {
  return { type: 'Invalid', path, message: `${path}: Invalid value: ${goValue(value)}: ${detail}` };
}

/** notSupported is field.NotSupported: an enum violation. */
export function notSupported(path: string, value: unknown, allowed: readonly unknown[]): FieldError {
  const list = allowed.map((v) => JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  return { type: 'NotSupported', path, message: `${path}: Unsupported value: ${goValue(value)}: supported values: ${list}` };
}

/** tooMany is field.TooMany for maxItems. */
export function tooMany(path: string, actual: number, max: number): FieldError {
  return { type: 'TooMany', path, message: `${path}: Too many: ${actual}: must have at most ${max} ${max === 1 ? 'item' : 'items'}` };
}

/** tooLong is field.TooLong for maxLength; like the API server it does not echo the value. */
export function tooLong(path: string, max: number): FieldError {
  return { type: 'TooLong', path, message: `${path}: Too long: may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}` };
}

/** typeInvalid is field.TypeInvalid carrying kube-openapi's "must be of type" text. */
export function typeInvalid(path: string, actualType: string, wantType: string): FieldError {
  const detail = `${path} in body must be of type ${wantType}: ${JSON.stringify(actualType)}`;
  return { type: 'TypeInvalid', path, message: `${path}: Invalid value: ${JSON.stringify(actualType)}: ${detail}` };
}

/** unknownField is the strict-field-validation error (kubectl --validate=strict). */
export function unknownField(path: string): FieldError {
  return { type: 'Unknown', path, message: `unknown field ${JSON.stringify(path)}` };
}
