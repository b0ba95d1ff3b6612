// What sslsnoop and ssllatency share: the OpenSSL functions they time, kept
// to those the installed libraries define (the static rsa_ossl_* helpers
// need debug symbols, which distributions strip).
import { findLibrary } from '../probes/uprobe.js';
import { libraryDefines, uprobeReason } from './tool.js';

export const SSL_FUNCS = ['SSL_read', 'SSL_write', 'SSL_do_handshake'];
const CRYPTO_FUNCS = [
  'rsa_ossl_public_encrypt', 'rsa_ossl_public_decrypt', 'rsa_ossl_private_encrypt', 'rsa_ossl_private_decrypt',
  'RSA_sign', 'RSA_verify', 'ossl_ecdsa_sign', 'ossl_ecdsa_verify',
];

export function sslUnavailable(): string | undefined {
  const u = uprobeReason();
  if (u) return u;
  if (!findLibrary('ssl')) return 'needs libssl (not found)';
  return libraryDefines('ssl', SSL_FUNCS).length ? undefined : 'libssl defines none of SSL_read, SSL_write, SSL_do_handshake';
}

/** Probe lists for the libssl and libcrypto functions present; `ecdh` names the ECDH function each tool times. */
export function sslProbes(ecdh: string): { sslEntry: string; sslReturn: string; crypto: string[] } {
  return {
    sslEntry: libraryDefines('ssl', SSL_FUNCS).map((f) => `uprobe:libssl:${f}`).join(',\n'),
    sslReturn: libraryDefines('ssl', SSL_FUNCS).map((f) => `uretprobe:libssl:${f}`).join(',\n'),
    crypto: libraryDefines('crypto', [...CRYPTO_FUNCS, ecdh]),
  };
}
