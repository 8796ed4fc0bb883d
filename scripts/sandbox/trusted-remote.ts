/**
 * Adds an LXD daemon as a token-trusted remote through the contract, as the
 * Add remote dialog does (probe, accept the certificate, add): for tests and
 * benchmarks that need a second server.
 */
import { dispatch } from '../../electron/dispatch.js';
import type { Handlers } from '../../shared/contract.js';
import { HangarError } from '../../shared/errors.js';
import { trustToken } from './trust-token.js';

export async function addTrustedRemote(
  handlers: Handlers,
  remote: { name: string; lxdDir: string; addr?: string },
): Promise<void> {
  const token = await trustToken(remote.lxdDir, `hangar-${remote.name}-${process.pid}`);
  const probe = await dispatch(
    handlers,
    'remotes.probe',
    remote.addr === undefined ? { token } : { addr: remote.addr },
  );
  if (!probe.ok) throw HangarError.fromData(probe.error);
  const { certificate } = probe.value as { certificate: { fingerprint: string } };
  const added = await dispatch(handlers, 'remotes.add', {
    protocol: 'lxd',
    name: remote.name,
    ...(remote.addr === undefined ? {} : { addr: remote.addr }),
    acceptedFingerprint: certificate.fingerprint,
    auth: { method: 'token', token },
  });
  if (!added.ok) throw HangarError.fromData(added.error);
}
