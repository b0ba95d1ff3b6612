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

/**
 * The template variables of both tools: libssl entry and return probes, and
 * the libcrypto probes that time the functions present, the return side
 * running `onReturn` (with @func_crypto[tid] and @start_crypto[tid] set).
 * `ecdh` names the ECDH function each tool times.
 */
export function sslVars(ecdh: string, onReturn: string): Record<string, string> {
  const ssl = libraryDefines('ssl', SSL_FUNCS);
  const crypto = libraryDefines('crypto', [...CRYPTO_FUNCS, ecdh]);
  const probes = (kind: string, lib: string, fns: string[]) => fns.map((f) => `${kind}:${lib}:${f}`).join(',\n');
  return {
    SSL_ENTRY: probes('uprobe', 'libssl', ssl),
    SSL_RETURN: probes('uretprobe', 'libssl', ssl),
    CRYPTO: crypto.length
      ? `${probes('uprobe', 'libcrypto', crypto)}\n{\n\t@start_crypto[tid] = nsecs;\n\t@func_crypto[tid] = func;\n}\n\n` +
        `${probes('uretprobe', 'libcrypto', crypto)}\n/@start_crypto[tid] != 0/\n{\n${onReturn}` +
        '\tdelete(@start_crypto[tid]);\n\tdelete(@func_crypto[tid]);\n}'
      : '',
    CRYPTO_CLEAR: crypto.length ? 'clear(@start_crypto);\nclear(@func_crypto);' : '',
  };
}
