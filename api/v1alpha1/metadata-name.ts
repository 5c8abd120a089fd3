// The API server's own check of a custom resource's name (ValidateObjectMetaAccessor with
// NameIsDNSSubdomain), worded as it words it. The operator's stricter needs (a DNS-1035
// label short enough for the pod names) are OBJECT_RULES in rules.ts, checked after this.
import { invalid, tooLong, type FieldError } from './field-errors.js';

/** DNS_SUBDOMAIN_MAX is apimachinery's DNS1123SubdomainMaxLength. */
export const DNS_SUBDOMAIN_MAX = 253;

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = `${LABEL}(\\.${LABEL})*`;
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and " +
  `end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${SUBDOMAIN}')`;

/**
 * nameErrors are IsDNS1123Subdomain's complaints about a non-empty metadata.name, then the
 * CRD schema's maxLength on it (crd.ts), as the API server lists them.
 */
export function nameErrors(name: string): FieldError[] {
  const errs: FieldError[] = [];
  const long = Buffer.byteLength(name) > DNS_SUBDOMAIN_MAX;
  if (long) errs.push(invalid('metadata.name', name, `must be no more than ${DNS_SUBDOMAIN_MAX} characters`));
  if (!new RegExp(`^${SUBDOMAIN}$`).test(name)) errs.push(invalid('metadata.name', name, SUBDOMAIN_MESSAGE));
  if (long) errs.push(tooLong('metadata.name', DNS_SUBDOMAIN_MAX));
  return errs;
}
