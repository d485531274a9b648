import { PointPlugin, Type } from '@plugboard/core';
import {
  type CredentialReporter,
  CredentialReportingPluginPoint,
  markdownText,
  type ReportContext,
  type TrackedCredential,
} from 'plugboard-example-ops-tracker-points';

const DAY_MS = 86_400_000;

/** Whole days from `asOf` to the day `expiresOn` (`YYYY-MM-DD`, UTC): negative once it has expired. */
export function daysUntil(expiresOn: string, asOf: Date): number {
  const [year, month, day] = expiresOn.split('-').map(Number) as [number, number, number];
  const today = Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth(), asOf.getUTCDate());
  return Math.round((Date.UTC(year, month - 1, day) - today) / DAY_MS);
}

interface Row {
  readonly credential: TrackedCredential;
  readonly days: number | null;
}

function table(rows: readonly Row[], when: (days: number | null) => string): string[] {
  return [
    '| System | Account | Owner | Expires on | When |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      ({ credential: c, days }) =>
        `| ${markdownText(c.system)} | ${markdownText(c.account)} | ${markdownText(c.owner)} | ${c.expiresOn ?? 'never'} | ${when(days)} |`,
    ),
  ];
}

function relative(days: number | null): string {
  if (days === null) return 'does not expire';
  if (days === 0) return 'today';
  const n = Math.abs(days);
  const span = `${n} ${n === 1 ? 'day' : 'days'}`;
  return days < 0 ? `${span} ago` : `in ${span}`;
}

/** Credentials by expiry: expired, expiring within the warning window, later, and never. */
export class CredentialExpiry
  extends PointPlugin({
    id: 'credential-expiry',
    name: 'Credential expiry (Markdown)',
    description:
      'Expired credentials, those expiring within the warning window, later ones and those that never expire.',
    category: 'Credential reports',
    version: '1.0.0',
    implements: [CredentialReportingPluginPoint],
    properties: Type.Object({
      warnDays: Type.Integer({
        minimum: 1,
        maximum: 3650,
        default: 30,
        description: 'Credentials expiring within this many days are listed as expiring soon',
      }),
    }),
  })
  implements CredentialReporter
{
  readonly fileExtension = 'md';

  render(credentials: readonly TrackedCredential[], ctx: ReportContext): string {
    const { warnDays } = this.properties;
    ctx.signal.throwIfAborted();
    const rows: Row[] = credentials
      .map((credential) => ({
        credential,
        days: credential.expiresOn === null ? null : daysUntil(credential.expiresOn, ctx.asOf),
      }))
      .sort((a, b) => (a.days ?? Number.POSITIVE_INFINITY) - (b.days ?? Number.POSITIVE_INFINITY));
    ctx.progress(50, 'Sorting by expiry');
    const sections: Array<[string, Row[]]> = [
      ['Expired', rows.filter((r) => r.days !== null && r.days < 0)],
      [
        `Expiring within ${warnDays} days`,
        rows.filter((r) => r.days !== null && r.days >= 0 && r.days <= warnDays),
      ],
      ['Later', rows.filter((r) => r.days !== null && r.days > warnDays)],
      ['No expiry date', rows.filter((r) => r.days === null)],
    ];
    const lines = [
      '# Credential expiry',
      '',
      `As of ${ctx.asOf.toISOString().slice(0, 10)} · ${credentials.length} credentials · warning window ${warnDays} days`,
    ];
    for (const [title, section] of sections) {
      lines.push('', `## ${title} (${section.length})`, '');
      if (section.length === 0) lines.push('None.');
      else lines.push(...table(section, relative));
    }
    const [expired, soon] = [sections[0]![1].length, sections[1]![1].length];
    if (expired + soon > 0) ctx.log.warn(`${expired} expired, ${soon} expiring within ${warnDays} days`);
    ctx.progress(100);
    return `${lines.join('\n')}\n`;
  }
}
