/**
 * Hangar's TLS client identity: the certificate LXD servers trust, made once
 * (or adopted from lxc), its key encrypted at rest when the OS keyring is
 * available. Neither ever leaves the main process.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { HangarError } from '../../shared/errors.js';
import { createSelfSignedCertificate } from '../tls/certificate.js';
import { readOptionalFile, writePrivateFile } from '../private-files.js';

/**
 * Encrypts secrets at rest. Electron passes one backed by `safeStorage`;
 * without it (web mode, no keyring) secrets are 0600 plaintext files, as lxc keeps them.
 */
export interface SecretCodec {
  encrypted: boolean;
  /** Said to the user when `encrypted` is false. */
  notice?: string;
  encrypt: (plain: string) => Buffer;
  decrypt: (sealed: Buffer) => string;
}

export function plaintextCodec(notice: string): SecretCodec {
  return {
    encrypted: false,
    notice,
    encrypt: (plain) => Buffer.from(plain, 'utf8'),
    decrypt: (sealed) => sealed.toString('utf8'),
  };
}

export interface ClientCertificate {
  certificate: string;
  key: string;
}

const CERT_FILE = 'client.crt';
const PLAIN_KEY_FILE = 'client.key';
const SEALED_KEY_FILE = 'client.key.enc';

function checkPair(pair: ClientCertificate, origin: string): ClientCertificate {
  try {
    const cert = new X509Certificate(pair.certificate);
    if (!cert.checkPrivateKey(createPrivateKey(pair.key)))
      throw new Error('the key does not match');
  } catch (error) {
    throw new HangarError(
      'invalid-input',
      `The client certificate in ${origin} is unusable: ${(error as Error).message}.`,
    );
  }
  return pair;
}

export class ClientIdentity {
  private cached: ClientCertificate | undefined;
  private creating: Promise<ClientCertificate> | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly codec: SecretCodec,
  ) {}

  /** The identity, if one was made or adopted. */
  async load(): Promise<ClientCertificate | undefined> {
    if (this.cached !== undefined) return this.cached;
    const certificate = await readOptionalFile(join(this.dataDir, CERT_FILE));
    if (certificate === undefined) return undefined;
    const sealed = await readOptionalFile(join(this.dataDir, SEALED_KEY_FILE));
    const plain = await readOptionalFile(join(this.dataDir, PLAIN_KEY_FILE));
    let key: string;
    if (sealed !== undefined) {
      if (!this.codec.encrypted)
        throw new HangarError(
          'internal',
          `Hangar's client key in ${this.dataDir} is encrypted with the desktop keyring, which this session cannot use (${this.codec.notice ?? 'no keyring'}). Open Hangar's desktop app, or remove ${SEALED_KEY_FILE} to start with a new identity.`,
        );
      try {
        key = this.codec.decrypt(sealed);
      } catch (error) {
        throw new HangarError(
          'internal',
          `The keyring could not decrypt Hangar's client key: ${(error as Error).message}.`,
        );
      }
    } else if (plain !== undefined) {
      key = plain.toString('utf8');
    } else {
      throw new HangarError('internal', `${this.dataDir} has a client certificate but no key.`);
    }
    this.cached = checkPair({ certificate: certificate.toString('utf8'), key }, this.dataDir);
    return this.cached;
  }

  /** The identity, made on first need: an ECDSA P-384 certificate like lxc's. */
  async ensure(): Promise<ClientCertificate> {
    const existing = await this.load();
    if (existing !== undefined) return existing;
    this.creating ??= (async () => {
      const made = await createSelfSignedCertificate({
        commonName: `hangar-${userInfo().username}@${hostname()}`,
        usage: 'client',
      });
      await this.save({ certificate: made.certificate, key: made.key });
      return this.cached ?? made;
    })().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  /** Takes lxc's certificate as Hangar's own, so the servers that trust lxc trust Hangar. */
  async adopt(pair: ClientCertificate, origin: string): Promise<void> {
    await this.save(checkPair(pair, origin));
  }

  private async save(pair: ClientCertificate): Promise<void> {
    // The key first: a certificate on disk must always have its key.
    const [keep, drop] = this.codec.encrypted
      ? [SEALED_KEY_FILE, PLAIN_KEY_FILE]
      : [PLAIN_KEY_FILE, SEALED_KEY_FILE];
    await writePrivateFile(join(this.dataDir, keep), this.codec.encrypt(pair.key));
    await rm(join(this.dataDir, drop), { force: true });
    await writePrivateFile(join(this.dataDir, CERT_FILE), pair.certificate);
    this.cached = pair;
  }
}
