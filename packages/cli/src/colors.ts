/** Paints text for a terminal, or leaves it plain. */
export interface Palette {
  readonly enabled: boolean;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

function wrap(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const identity = (text: string): string => text;

/** A palette that paints with ANSI escapes when `enabled`, and returns text unchanged otherwise. */
export function createPalette(enabled: boolean): Palette {
  if (!enabled) {
    return { enabled, green: identity, red: identity, yellow: identity, dim: identity, bold: identity };
  }
  return {
    enabled,
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/**
 * Whether output is coloured: never when `NO_COLOR` is set to a non-empty value (https://no-color.org),
 * always when `FORCE_COLOR` is set to anything but `0`, otherwise only on a terminal.
 */
export function colorEnabled(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return isTTY;
}
