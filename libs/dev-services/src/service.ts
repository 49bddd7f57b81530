import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let logDir: string | undefined;
/** One temporary log directory per process that runs services. */
function defaultLogDir(): string {
  logDir ??= mkdtempSync(join(tmpdir(), 'parkpulse-services-'));
  return logDir;
}

// Whatever happens to the test process (a hook timeout, Ctrl-C), its services go with it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A platform process (broker or ingestion) run from its build, as in production. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  readonly logFile: string;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    readonly healthUrl: string,
    private readonly options: { readonly logDir?: string; readonly execArgv?: string[] } = {},
  ) {
    this.logFile = join(options.logDir ?? defaultLogDir(), `${name}.log`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and waits until its health endpoint answers 200. */
  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [...(this.options.execArgv ?? []), this.script], {
      env: { ...process.env, NO_COLOR: '1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    let gone = false;
    this.exited = new Promise((r) => child.once('exit', (code) => ((gone = true), r(code))));
    const healthy = () =>
      fetch(this.healthUrl).then(
        (res) => res.status === 200,
        () => false,
      );
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (gone) {
        await new Promise((r) => setTimeout(r, 100)); // let its last words reach the log
        throw new Error(`${this.name} exited during start-up:\n${this.tail()}`);
      }
      if (await healthy()) return;
      if (Date.now() > deadline)
        throw new Error(
          `timed out after 30000 ms waiting for ${this.name} healthy at ${this.healthUrl}:\n${this.tail()}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends a signal and waits for the exit (SIGKILL = the hard crash of a fault test). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return this.exited;
  }

  tail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/**
 * Runs `start` again (up to `attempts` times) when it failed because a port picked for it was
 * taken in the meantime — by another listener or by an outgoing connection's ephemeral port.
 * `start` must pick its ports itself, so that each attempt gets new ones.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (error) {
      const clash = error instanceof Error && error.message.includes('EADDRINUSE');
      if (!clash || i >= attempts) throw error;
    }
  }
}
