// The line between a mistake the user can fix (wrong flag, missing file, invalid job) and a
// bug: the former is printed as one line without a stack, the latter keeps its stack for
// whoever files the report.

/** UserError is an error whose message alone tells the user what to change. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** errorLine is what `ffjob` prints for an error that reaches the top level. */
export function errorLine(err: unknown, debug: boolean): string {
  if (!(err instanceof Error)) return `ffjob: ${String(err)}`;
  if (debug && !(err instanceof UserError)) return `ffjob: ${err.stack ?? err.message}`;
  return `ffjob: ${err.message}`;
}
