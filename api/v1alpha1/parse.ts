// parseJobYaml: the CLI's way in. One job file in, one defaulted, validated job out, or a
// SpecError that lists every problem at once (fixing one mistake per run is tedious).
import { parseDocument } from 'yaml';
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
  const doc = parseDocument(text, { version: '1.1' });
  const problems = doc.errors.map((e) => {
    const at = e.linePos?.[0];
    const reason = e.message.split(' at line ')[0] ?? e.message;
    return at === undefined ? reason : `line ${at.line}, column ${at.col}: ${reason}`;
  });
  return { value: problems.length === 0 ? doc.toJS() : undefined, problems };
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
