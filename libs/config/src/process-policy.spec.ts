import { Writable } from 'node:stream';
import { createLogger } from './logging';
import {
  EXIT_UNCAUGHT,
  adoptProcessPolicyLogger,
  describeFault,
  installProcessPolicy,
} from './process-policy';

/** A real pino logger writing JSON lines into an array. */
function capture(nodeId = 'node-a'): {
  lines: Record<string, unknown>[];
  log: ReturnType<typeof createLogger>;
} {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n'))
        if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger('relay', nodeId, 'info', sink) };
}

/** The listener the policy added for `event` (installed after `before` was taken). */
function added(event: 'uncaughtException' | 'unhandledRejection', before: unknown[]): (e: unknown) => void {
  const now: unknown[] =
    event === 'uncaughtException'
      ? process.listeners('uncaughtException')
      : process.listeners('unhandledRejection');
  const fresh = now.filter((l) => !before.includes(l));
  expect(fresh).toHaveLength(1);
  return fresh[0] as (e: unknown) => void;
}

describe('describeFault', () => {
  it('keeps name, message, code and stack of an Error, with URL secrets scrubbed', () => {
    const err = Object.assign(new TypeError('bad url http://h/live/x.flv?key=s3cret&x=1'), {
      code: 'ERR_INVALID_URL',
    });
    const f = describeFault('uncaughtException', err);
    expect(f).toMatchObject({ kind: 'uncaughtException', name: 'TypeError', code: 'ERR_INVALID_URL' });
    expect(f.message).toBe('bad url http://h/live/x.flv?key=[redacted]&x=1');
    expect(f.stack).toContain('TypeError');
    expect(f.stack).not.toContain('s3cret');
  });

  it('describes a non-Error reason (a string, an object) as text', () => {
    expect(describeFault('unhandledRejection', 'Error: Connection lost')).toMatchObject({
      name: 'string',
      message: 'Error: Connection lost',
    });
    expect(describeFault('unhandledRejection', { status: 'error' }).message).toBe('{"status":"error"}');
    expect(describeFault('unhandledRejection', undefined).message).toBe('undefined');
  });
});

describe('installProcessPolicy', () => {
  let uninstall: (() => void) | null = null;
  afterEach(() => {
    uninstall?.();
    uninstall = null;
  });

  it('an unhandled rejection is logged with the node id and stack, and nothing exits', () => {
    const { lines, log } = capture();
    const exit = jest.fn();
    const before = process.listeners('unhandledRejection');
    uninstall = installProcessPolicy(log, { exit, stderr: { write: () => true } });
    added('unhandledRejection', before)(new Error("Stream isn't writeable"));
    expect(exit).not.toHaveBeenCalled();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      nodeId: 'node-a',
      fault: { kind: 'unhandledRejection', message: "Stream isn't writeable" },
    });
    expect((lines[0].fault as { stack: string }).stack).toContain('process-policy.spec');
  });

  it('an uncaught exception is logged fatal, said on stderr, and exits with 70', () => {
    const { lines, log } = capture();
    const exit = jest.fn();
    const stderr: string[] = [];
    const before = process.listeners('uncaughtException');
    uninstall = installProcessPolicy(log, {
      exit,
      name: 'relay',
      stderr: { write: (l: string) => stderr.push(l) },
    });
    added('uncaughtException', before)(new TypeError('Invalid URL ?token=abc'));
    expect(exit).toHaveBeenCalledWith(EXIT_UNCAUGHT);
    expect(EXIT_UNCAUGHT).toBe(70);
    expect(lines[0]).toMatchObject({
      level: 'fatal',
      nodeId: 'node-a',
      exitCode: 70,
      fault: { name: 'TypeError', message: 'Invalid URL ?token=[redacted]' },
    });
    expect(stderr.join('')).toContain('astral relay: uncaught exception, exiting with 70');
    expect(stderr.join('')).not.toContain('abc');
  });

  it('installs once: a second call and adoptProcessPolicyLogger swap the logger, not the handlers', () => {
    const first = capture('first');
    const second = capture('second');
    const before = process.listeners('unhandledRejection');
    uninstall = installProcessPolicy(first.log, { exit: jest.fn() });
    installProcessPolicy(first.log);
    const handler = added('unhandledRejection', before);
    adoptProcessPolicyLogger(second.log);
    handler(new Error('late'));
    expect(first.lines).toHaveLength(0);
    expect(second.lines[0]).toMatchObject({ nodeId: 'second' });
    uninstall();
    uninstall = null;
    expect(process.listeners('unhandledRejection')).toEqual(before);
  });

  it('without an installed policy, adoptProcessPolicyLogger changes nothing', () => {
    const before = process.listeners('uncaughtException');
    adoptProcessPolicyLogger(capture().log);
    expect(process.listeners('uncaughtException')).toEqual(before);
  });
});
