import type { Host, PlugboardUser } from '@plugboard/core';
import type { ResolvedCliOptions } from './cli-options.js';
import { colorEnabled, createPalette, type Palette } from './colors.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { CliInterrupts } from './interrupts.js';

/** What every command of one CLI invocation shares: the host, the options, the output and the exit code. */
export class CliSession<User extends PlugboardUser = PlugboardUser> {
  readonly host: Host<User>;
  readonly options: ResolvedCliOptions<User>;
  readonly palette: Palette;
  /** The program name, as used in hints such as "Run `tool plugins`". */
  readonly name: string;
  /** The exit code so far; commands raise it. */
  exitCode: ExitCodeValue = ExitCode.Success;
  /** True when this invocation started the host and stops it at the end; false for a host started before. */
  readonly ownsHost: boolean;
  /** Ctrl-C and the other interrupts, listened to from construction until `close()`. */
  readonly interrupts: CliInterrupts;

  constructor(host: Host<User>, options: ResolvedCliOptions<User>, name: string) {
    this.host = host;
    this.options = options;
    this.name = name;
    this.ownsHost = host.state === 'created';
    this.interrupts = new CliInterrupts(options);
    this.palette = createPalette(colorEnabled(options.env, options.isTTY));
  }

  /** Ends the invocation's hold on the process: interrupts are no longer listened to. */
  close(): void {
    this.interrupts.close();
  }

  /** Writes a line to stdout. */
  out(text: string): void {
    this.options.stdout.write(`${text}\n`);
  }

  /** Writes a line to stderr. */
  err(text: string): void {
    this.options.stderr.write(`${text}\n`);
  }

  /** The user plugins run as, from the `user` option; `undefined` lets the host use its anonymous user. */
  async user(): Promise<User | undefined> {
    return this.options.user ? await this.options.user({ env: this.options.env }) : undefined;
  }
}
