// parseJobYaml: the CLI's way in. One job file in, one defaulted, validated job out, or a
// SpecError that lists every problem at once (fixing one mistake per run is tedious).
import { isScalar, parseAllDocuments, type YAMLError } from 'yaml';
import { goValue } from './field-errors.js';
import type { ForwardForwardJob } from './job.js';
import { validateJob } from './job.js';
import { defaultSpec, type ForwardForwardJobSpecInput } from './validate.js';

/** SpecError is a job file that cannot be used; `problems` holds one line per problem. */
export class SpecError extends Error {
  readonly file: string;
  readonly problems: string[];

  constructor(file: string, problems: string[]) {
    super(`${file}: invalid ForwardForwardJob:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'SpecError';
    this.file = file;
    this.problems = problems;
  }
}

function yamlProblems(text: string): { value: unknown; problems: string[] } {
  // YAML 1.1, as kubectl reads it (sigs.k8s.io/yaml): `suspend: yes` is a boolean there too.
  // An empty document (a trailing `---`, as Helm prints) is nothing, as kubectl takes it.
  const docs = parseAllDocuments(text, { version: '1.1' });
  const all = Array.isArray(docs) ? docs : [];
  const filled = all.filter((d) => d.errors.length > 0 || !(d.contents === null || (isScalar(d.contents) && d.contents.value === null)));
  if (filled.length > 1) {
    return { value: undefined, problems: [`holds ${filled.length} YAML documents; a job file holds one ForwardForwardJob`] };
  }
  const doc = filled[0] ?? all[0];
  if (doc === undefined) return { value: null, problems: [] };
  const problems = doc.errors.map((e) => {
    const at = e.linePos?.[0];
    const reason = (e.message.split(' at line ')[0] ?? e.message) + duplicateKey(e, text);
    return at === undefined ? reason : `line ${at.line}, column ${at.col}: ${reason}`;
  });
  if (problems.length > 0) return { value: undefined, problems };
  let value: unknown;
  try {
    // The yaml library refuses alias bombs ("billion laughs") here, past its alias limit.
    value = doc.toJS();
  } catch (err) {
    return { value: undefined, problems: [(err as Error).message] };
  }
  return { value, problems: nonFinite(value, '') };
}

// The yaml library says only that keys repeat; name the key (kubectl keeps the last silently).
function duplicateKey(e: YAMLError, text: string): string {
  if (e.code !== 'DUPLICATE_KEY') return '';
  const key = /^[^:\n]*/.exec(text.slice(e.pos[0]))?.[0].trim() ?? '';
  return key === '' ? '' : ` (${JSON.stringify(key)} appears twice)`;
}

/**
 * nonFinite names every NaN or ±Inf (YAML's .nan, .inf): JSON has no such numbers, so kubectl
 * refuses the whole file ("json: unsupported value: NaN") and the API server never sees it.
 */
function nonFinite(value: unknown, path: string): string[] {
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? []
      : [`${path}: Invalid value: ${goValue(value)}: must be a finite number (kubectl: json: unsupported value)`];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinite(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => nonFinite(v, path === '' ? k : `${path}.${k}`));
}

/**
 * parseJobYaml parses one ForwardForwardJob from YAML, checks apiVersion and kind, fills
 * defaults and validates schema and rules; `file` names the source in messages.
 */
export function parseJobYaml(text: string, file: string): ForwardForwardJob {
  const { value, problems } = yamlProblems(text);
  if (problems.length > 0) throw new SpecError(file, problems);
  const invalid = validateJob(value);
  if (invalid.length > 0) throw new SpecError(file, invalid);
  const job = value as ForwardForwardJob;
  return { ...job, spec: defaultSpec(job.spec as ForwardForwardJobSpecInput) };
}
