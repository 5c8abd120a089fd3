// A tiny structured logger: JSON lines for log collectors (pods, pipes), aligned text for
// a person at a terminal. Everything goes to stderr so stdout stays free for command output.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';
export type LogFields = Record<string, unknown>;

/** Logger writes one record per call, carrying its fixed fields plus the call's extras. */
export interface Logger {
  debug(msg: string, extra?: LogFields): void;
  info(msg: string, extra?: LogFields): void;
  warn(msg: string, extra?: LogFields): void;
  error(msg: string, extra?: LogFields): void;
  /** child returns a logger that adds `fields` to this one's. */
  child(fields: LogFields): Logger;
}

/** LoggerOptions override what is otherwise read from the environment and stderr. */
export interface LoggerOptions {
  stream?: { write(chunk: string): unknown; isTTY?: boolean };
  /** format defaults to FFJOB_LOG_FORMAT, else text on a TTY and json elsewhere. */
  format?: LogFormat;
  /** level is the least severe level written; defaults to FFJOB_LOG_LEVEL, else info. */
  level?: LogLevel;
  now?: () => Date;
}

const SEVERITY = { debug: 0, info: 1, warn: 2, error: 3 } as const satisfies Record<LogLevel, number>;

/** createLogger returns a logger whose every record carries `fields`. */
export function createLogger(fields: LogFields = {}, options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? envFormat() ?? (stream.isTTY ? 'text' : 'json');
  const minLevel = options.level ?? envLevel() ?? 'info';
  const now = options.now ?? ((): Date => new Date());
  const write = (level: LogLevel, msg: string, extra?: LogFields): void => {
    if (SEVERITY[level] < SEVERITY[minLevel]) return;
    const all = { ...fields, ...extra };
    stream.write(format === 'json' ? jsonLine(now(), level, msg, all) : textLine(now(), level, msg, all));
  };
  return {
    debug: (msg, extra) => write('debug', msg, extra),
    info: (msg, extra) => write('info', msg, extra),
    warn: (msg, extra) => write('warn', msg, extra),
    error: (msg, extra) => write('error', msg, extra),
    child: (more) => createLogger({ ...fields, ...more }, { stream, format, level: minLevel, now }),
  };
}

function jsonLine(ts: Date, level: LogLevel, msg: string, fields: LogFields): string {
  // ts, level and msg come first and win over same-named fields so every line parses alike.
  const record: LogFields = { ts: ts.toISOString(), level, msg };
  for (const [k, v] of Object.entries(plain(fields))) if (!Object.hasOwn(record, k)) record[k] = v;
  return JSON.stringify(record) + '\n';
}

function textLine(ts: Date, level: LogLevel, msg: string, fields: LogFields): string {
  const time = ts.toTimeString().slice(0, 8);
  const pairs = Object.entries(plain(fields)).map(([k, v]) => ` ${k}=${textValue(v)}`);
  return `${time} ${level.toUpperCase().padEnd(5)} ${msg}${pairs.join('')}\n`;
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

// Errors stringify to {} in JSON; their message is what a reader needs.
function plain(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? v.message : v;
  return out;
}

function envFormat(): LogFormat | undefined {
  const v = process.env.FFJOB_LOG_FORMAT;
  return v === 'json' || v === 'text' ? v : undefined;
}

function envLevel(): LogLevel | undefined {
  const v = process.env.FFJOB_LOG_LEVEL;
  return v !== undefined && Object.hasOwn(SEVERITY, v) ? (v as LogLevel) : undefined;
}
