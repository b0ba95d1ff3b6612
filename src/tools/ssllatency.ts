// ssllatency: bpftrace's tools/ssllatency.bt.
import { classicTool } from './tool.js';
import { sslProbes, sslUnavailable } from './ssl.js';

export const ssllatency = classicTool({
  name: 'ssllatency',
  description: 'Summarize SSL/TLS handshake latency as a histogram for OpenSSL',
  unavailable: sslUnavailable,
  vars: () => {
    const p = sslProbes('ecdh_simple_compute_key');
    return {
      SSL_ENTRY: p.sslEntry,
      SSL_RETURN: p.sslReturn,
      CRYPTO: p.crypto.length
        ? `${p.crypto.map((f) => `uprobe:libcrypto:${f}`).join(',\n')}\n{\n\t@start_crypto[tid] = nsecs;\n\t@func_crypto[tid] = func;\n}\n\n` +
          `${p.crypto.map((f) => `uretprobe:libcrypto:${f}`).join(',\n')}\n/@start_crypto[tid] != 0/\n{\n` +
          '\t$lat_us = (nsecs - @start_crypto[tid]) / 1000;\n' +
          '\t@hist[@func_crypto[tid]] = lhist($lat_us, 0, 1000, 200);\n' +
          '\t@stat[@func_crypto[tid]] = stats($lat_us);\n' +
          '\tdelete(@start_crypto[tid]);\n\tdelete(@func_crypto[tid]);\n}'
        : '',
      CRYPTO_CLEAR: p.crypto.length ? 'clear(@start_crypto);\nclear(@func_crypto);' : '',
    };
  },
});
