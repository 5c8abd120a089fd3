// `ffjob`: the one entry point for people (train, validate, eval, predict) and for pods and
// the local runner (worker). Every error ends here as one line on stderr and a non-zero
// exit; set FFJOB_DEBUG=1 to see the stack of an unexpected one.
import { packageVersion } from '../observe/version.js';
import { COMMANDS } from './commands.js';
import { USAGE } from './usage.js';
import { errorLine, UserError } from './user-error.js';

const debug = process.env.FFJOB_DEBUG === '1';

function die(err: unknown): never {
  process.stderr.write(`${errorLine(err, debug)}\n`);
  process.exit(1);
}

// Registered before any backend loads: the wasm backend's emscripten glue adds handlers
// that re-throw, and node then prints the throwing line, which is its whole minified
// source. Handlers run in order, so this one reports and exits first.
process.on('uncaughtException', die);
process.on('unhandledRejection', die);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (name === '--version') {
    process.stdout.write(`ffjob ${packageVersion(import.meta.url)}\n`);
    return 0;
  }
  if (name === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const command = COMMANDS[name];
  if (command === undefined) throw new UserError(`unknown command "${name}" (see ffjob --help)`);
  return command(rest);
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (err) {
  die(err);
}
