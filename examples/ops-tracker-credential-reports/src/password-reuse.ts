import { PointPlugin } from '@plugboard/core';
import {
  type CredentialReporter,
  CredentialReportingPluginPoint,
  markdownText,
  type ReportContext,
  type TrackedCredential,
} from 'plugboard-example-ops-tracker-points';

/** Group labels: A, B, ..., Z, AA, AB, ... */
function groupLabel(index: number): string {
  let label = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    label = String.fromCharCode(65 + ((n - 1) % 26)) + label;
  }
  return label;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Finds credentials that share a secret by comparing their fingerprints. The report names the credentials of
 * each group; it never shows a secret or a fingerprint.
 */
export class PasswordReuse
  extends PointPlugin({
    id: 'password-reuse',
    name: 'Password reuse (Markdown)',
    description:
      'Credentials that share a secret, found by comparing fingerprints; secrets and fingerprints are never shown.',
    category: 'Credential reports',
    version: '1.0.0',
    implements: [CredentialReportingPluginPoint],
  })
  implements CredentialReporter
{
  readonly fileExtension = 'md';

  render(credentials: readonly TrackedCredential[], ctx: ReportContext): string {
    const bySecret = new Map<string, TrackedCredential[]>();
    for (const [i, credential] of credentials.entries()) {
      if (i % 500 === 0) {
        ctx.signal.throwIfAborted();
        ctx.progress((i / credentials.length) * 80, 'Comparing fingerprints');
      }
      const group = bySecret.get(credential.secretFingerprint);
      if (group) group.push(credential);
      else bySecret.set(credential.secretFingerprint, [credential]);
    }
    const shared = [...bySecret.values()]
      .filter((group) => group.length > 1)
      .sort((a, b) => b.length - a.length || a[0]!.system.localeCompare(b[0]!.system));
    const reused = shared.reduce((sum, group) => sum + group.length, 0);

    const lines = [
      '# Password reuse',
      '',
      `As of ${ctx.asOf.toISOString().slice(0, 10)} · ${plural(credentials.length, 'credential')} checked · ` +
        `${plural(shared.length, 'secret')} shared by ${plural(reused, 'credential')}`,
    ];
    if (shared.length === 0) lines.push('', 'No two credentials share a secret.');
    for (const [i, group] of shared.entries()) {
      lines.push(
        '',
        `## Shared secret ${groupLabel(i)} (${plural(group.length, 'credential')})`,
        '',
        '| System | Account | Owner |',
        '| --- | --- | --- |',
        ...group.map(
          (c) => `| ${markdownText(c.system)} | ${markdownText(c.account)} | ${markdownText(c.owner)} |`,
        ),
      );
    }
    if (shared.length > 0) {
      lines.push(
        '',
        'Give every credential of a group its own secret. Secrets and fingerprints are not shown.',
      );
      ctx.log.warn(`${plural(reused, 'credential')} share ${plural(shared.length, 'secret')}`);
    }
    ctx.progress(100);
    return `${lines.join('\n')}\n`;
  }
}
