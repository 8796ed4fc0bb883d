/** Electron's side of secret storage: safeStorage when the OS keyring really encrypts. */
import { safeStorage } from 'electron';
import { plaintextCodec, type SecretCodec } from './remotes/identity.js';

export function safeStorageCodec(): SecretCodec {
  const backend =
    process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : 'os keyring';
  // On Linux without a keyring Electron "encrypts" with a fixed key: say so rather than pretend.
  if (!safeStorage.isEncryptionAvailable() || backend === 'basic_text' || backend === 'unknown') {
    return plaintextCodec(
      'No OS keyring (Secret Service or KWallet) is available, so Hangar keeps its client key in a file only you can read (0600), as lxc does.',
    );
  }
  return {
    encrypted: true,
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (sealed) => safeStorage.decryptString(sealed),
  };
}
