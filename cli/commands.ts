// The subcommands: each parses its own flags and returns the process exit code.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { hostAccessViolations, parseWorkerArgs } from '../api/v1alpha1/index.js';
import { runWorker } from '../worker/worker.js';
import { readJob } from './job-file.js';
import { checkMemory } from './local-plan.js';
import { runLocal } from './local-runner.js';
import { evaluateModel, predictOne } from './model-commands.js';
import { formatPercent } from './render.js';
import { UserError } from './user-error.js';

export type Command = (argv: string[]) => Promise<number>;

type Options = NonNullable<ParseArgsConfig['options']>;

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

function parse(command: string, argv: string[], options: Options, positionals = 0): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true });
  } catch (err) {
    // node's messages go on to explain `--` escaping, which no one here needs.
    const first = (err as Error).message.split('. ')[0] ?? '';
    throw new UserError(`${command}: ${first} (see ffjob --help)`);
  }
  if (parsed.positionals.length > positionals) throw new UserError(`${command}: unexpected argument "${parsed.positionals[positionals]}"`);
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

function outputFormat(command: string, value: unknown): 'text' | 'json' {
  if (value === undefined || value === 'text' || value === 'json') return value ?? 'text';
  throw new UserError(`${command}: --output must be text or json, got "${String(value)}"`);
}

function count(command: string, flag: string, value: unknown): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UserError(`${command}: --${flag} must be a non-negative integer, got "${String(value)}"`);
  }
  return n;
}

function requireValue(command: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new UserError(`${command}: ${what} is required (see ffjob --help)`);
  return value;
}

const train: Command = async (argv) => {
  const { values, positionals } = parse(
    'train',
    argv,
    {
      local: { type: 'boolean' },
      dir: { type: 'string' },
      fresh: { type: 'boolean' },
      restarts: { type: 'string', default: '0' },
      output: { type: 'string', default: 'text' },
    },
    1,
  );
  const jobFile = requireValue('train', positionals[0], 'a job file (ffjob train --local JOB.yaml)');
  if (values.local !== true) {
    throw new UserError(
      `train: to train on a cluster, submit the job with \`kubectl apply -f ${jobFile}\`; to train on this machine, use \`ffjob train --local ${jobFile}\``,
    );
  }
  // An unset shell variable (`--dir "$RUN"`) would otherwise mean the current directory.
  if (values.dir === '') throw new UserError('train: --dir must name a directory; leave it out to use runs/<job name>');
  return runLocal({
    jobFile,
    dir: typeof values.dir === 'string' ? values.dir : undefined,
    fresh: values.fresh === true,
    restarts: count('train', 'restarts', values.restarts),
    output: outputFormat('train', values.output),
    stdout: process.stdout,
    stderr: process.stderr,
  });
};

const validate: Command = async (argv) => {
  const { values, positionals } = parse('validate', argv, { 'allow-host-access': { type: 'boolean' } }, 1);
  const file = requireValue('validate', positionals[0], 'a job file (ffjob validate JOB.yaml)');
  const job = await readJob(file);
  checkMemory(job);
  // As the chart's admission policy would, unless the cluster's admin allows host access.
  const hostAccess = values['allow-host-access'] === true ? [] : hostAccessViolations(job.spec);
  if (hostAccess.length > 0) throw new UserError(`${file}: ${hostAccess.join('\n')}`);
  process.stdout.write(`${file}: OK (ForwardForwardJob ${job.metadata.name})\n`);
  return 0;
};

const MODEL_FLAGS = {
  model: { type: 'string' },
  'dataset-path': { type: 'string' },
  output: { type: 'string', default: 'text' },
} as const;

function modelOptions(command: string, values: Record<string, unknown>): { model: string; datasetPath: string | undefined } {
  const datasetPath = values['dataset-path'];
  return {
    model: requireValue(command, values.model, '--model DIR'),
    datasetPath: typeof datasetPath === 'string' ? datasetPath : undefined,
  };
}

const evaluate: Command = async (argv) => {
  const { values } = parse('eval', argv, MODEL_FLAGS);
  const output = outputFormat('eval', values.output);
  const result = await evaluateModel(modelOptions('eval', values));
  const text = `test accuracy ${formatPercent(result.testAccuracy)} on ${result.rows} images (model ${result.model})`;
  process.stdout.write(`${output === 'json' ? JSON.stringify(result) : text}\n`);
  return 0;
};

const predict: Command = async (argv) => {
  const { values } = parse('predict', argv, { ...MODEL_FLAGS, index: { type: 'string' } });
  const output = outputFormat('predict', values.output);
  const index = count('predict', 'index', requireValue('predict', values.index, '--index N'));
  const result = await predictOne(modelOptions('predict', values), index);
  const text = `test image ${result.index}: predicted ${result.predicted}, true label ${result.label}`;
  process.stdout.write(`${output === 'json' ? JSON.stringify(result) : text}\n`);
  return 0;
};

const worker: Command = async (argv) => {
  let args;
  try {
    args = parseWorkerArgs(argv);
  } catch (err) {
    throw new UserError(`worker: ${(err as Error).message.split('. ')[0]}`);
  }
  return runWorker(args);
};

export const COMMANDS: Record<string, Command> = { train, validate, eval: evaluate, predict, worker };
