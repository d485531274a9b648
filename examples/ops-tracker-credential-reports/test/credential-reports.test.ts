import type { TaskLogger } from '@plugboard/core';
import { createTestHost } from '@plugboard/testing';
import {
  CredentialReportingPluginPoint,
  type ReportContext,
  type TrackedCredential,
} from 'plugboard-example-ops-tracker-points';
import { describe, expect, it } from 'vitest';
import { CredentialExpiry, daysUntil, PasswordReuse } from '../src/index.ts';

function credential(
  id: number,
  system: string,
  fingerprint: string,
  expiresOn: string | null,
): TrackedCredential {
  return {
    id,
    system,
    account: 'admin',
    owner: 'ops|team',
    secretFingerprint: fingerprint,
    createdAt: '2025-01-01T00:00:00.000Z',
    expiresOn,
  };
}

function context(asOf = '2025-06-01'): ReportContext & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = () => {};
  const log: TaskLogger = {
    debug: ignore,
    info: ignore,
    warn: (message) => warnings.push(message),
    error: ignore,
    critical: ignore,
    always: ignore,
  };
  return {
    asOf: new Date(`${asOf}T00:00:00.000Z`),
    signal: new AbortController().signal,
    log,
    progress: ignore,
    warnings,
  };
}

async function reporters(properties: Record<string, Record<string, unknown>> = {}) {
  const host = await createTestHost({ plugins: [PasswordReuse, CredentialExpiry], properties });
  const found = host.points.get(CredentialReportingPluginPoint);
  await host.stop();
  return Object.fromEntries(found.map((r) => [r.id, r]));
}

describe('credential report plugins', () => {
  it('password reuse groups by fingerprint, largest group first, and prints neither secrets nor fingerprints', async () => {
    const { 'password-reuse': reuse } = await reporters();
    const fingerprints = ['f'.repeat(64), 'e'.repeat(64), 'd'.repeat(64)];
    const ctx = context();
    const text = await reuse!.render(
      [
        credential(1, 'a-db', fingerprints[0]!, null),
        credential(2, 'b-vpn', fingerprints[1]!, null),
        credential(3, 'c-wiki', fingerprints[1]!, null),
        credential(4, 'd-git', fingerprints[1]!, null),
        credential(5, 'e-ci', fingerprints[0]!, null),
        credential(6, 'f-mail', fingerprints[2]!, null),
      ],
      ctx,
    );
    expect(text).toContain('6 credentials checked · 2 secrets shared by 5 credentials');
    expect(text.indexOf('## Shared secret A (3 credentials)')).toBeLessThan(
      text.indexOf('## Shared secret B (2 credentials)'),
    );
    expect(text).toMatch(/Shared secret A .*\n\n.*\n.*\n\| b-vpn \|.*\n\| c-wiki \|.*\n\| d-git \|/);
    expect(text).toContain('| a-db | admin | ops\\|team |');
    expect(text).not.toContain('f-mail');
    for (const fingerprint of fingerprints) expect(text).not.toContain(fingerprint.slice(0, 8));
    expect(ctx.warnings).toEqual(['5 credentials share 2 secrets']);
  });

  it('password reuse with no shared secret says so and warns nobody', async () => {
    const { 'password-reuse': reuse } = await reporters();
    const ctx = context();
    const text = await reuse!.render([credential(1, 'a', '1'.repeat(64), null)], ctx);
    expect(text).toContain(
      '1 credential checked · 0 secrets shared by 0 credentials\n\nNo two credentials share a secret.',
    );
    expect(ctx.warnings).toEqual([]);
  });

  it('expiry counts whole UTC days from the day asked for, the window edge included', async () => {
    const { 'credential-expiry': expiry } = await reporters({ 'credential-expiry': { warnDays: 10 } });
    const text = await expiry!.render(
      [
        credential(1, 'never', 'a', null),
        credential(2, 'edge', 'b', '2025-06-11'),
        credential(3, 'past-edge', 'c', '2025-06-12'),
        credential(4, 'yesterday', 'd', '2025-05-31'),
      ],
      context('2025-06-01'),
    );
    expect(text).toContain('## Expired (1)');
    expect(text).toContain('| yesterday | admin | ops\\|team | 2025-05-31 | 1 day ago |');
    expect(text).toContain('## Expiring within 10 days (1)');
    expect(text).toContain('| edge | admin | ops\\|team | 2025-06-11 | in 10 days |');
    expect(text).toContain('## Later (1)');
    expect(text).toContain('| past-edge | admin | ops\\|team | 2025-06-12 | in 11 days |');
    expect(text).toContain('## No expiry date (1)');
  });

  it('an invalid warning window keeps the expiry report out of service with a reason', async () => {
    const host = await createTestHost({
      plugins: [CredentialExpiry],
      properties: { 'credential-expiry': { warnDays: 0 } },
    });
    const [info] = host.plugins.list();
    expect(info).toMatchObject({ id: 'credential-expiry', status: 'invalid' });
    expect(info!.reason).toContain('warnDays');
    expect(host.points.get(CredentialReportingPluginPoint)).toEqual([]);
    await host.stop();
  });

  it('daysUntil ignores the time of day of `asOf` and crosses month and year ends', () => {
    expect(daysUntil('2025-06-01', new Date('2025-06-01T23:59:59Z'))).toBe(0);
    expect(daysUntil('2025-07-01', new Date('2025-06-30T08:00:00Z'))).toBe(1);
    expect(daysUntil('2026-01-01', new Date('2025-12-31T00:00:00Z'))).toBe(1);
    expect(daysUntil('2025-02-28', new Date('2025-03-01T00:00:00Z'))).toBe(-1);
  });
});
