// sslsnoop: bpftrace's tools/sslsnoop.bt.
import { classicTool } from './tool.js';
import { sslProbes, sslUnavailable } from './ssl.js';

export const sslsnoop = classicTool({
  name: 'sslsnoop',
  description: 'Trace SSL/TLS handshake for OpenSSL',
  unavailable: sslUnavailable,
  vars: () => {
    const p = sslProbes('ossl_ecdh_compute_key');
    return {
      SSL_ENTRY: p.sslEntry,
      SSL_RETURN: p.sslReturn,
      CRYPTO: p.crypto.length
        ? `${p.crypto.map((f) => `uprobe:libcrypto:${f}`).join(',\n')}\n{\n\t@start_crypto[tid] = nsecs;\n\t@func_crypto[tid] = func;\n}\n\n` +
          `${p.crypto.map((f) => `uretprobe:libcrypto:${f}`).join(',\n')}\n/@start_crypto[tid] != 0/\n{\n` +
          '\tprintf("%-10u %-8d %-8s %7u %5d %s\\n", elapsed / 1000, tid, comm,\n' +
          '\t    (nsecs - @start_crypto[tid]) / 1000, retval, @func_crypto[tid]);\n' +
          '\tdelete(@start_crypto[tid]);\n\tdelete(@func_crypto[tid]);\n}'
        : '',
      CRYPTO_CLEAR: p.crypto.length ? 'clear(@start_crypto);\nclear(@func_crypto);' : '',
    };
  },
});
