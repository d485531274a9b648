/** A reason the scaffolder stops, with the exit code the command ends with. */
export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError';
  /** 1: the target folder cannot be used; 2: the command line is wrong. */
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
