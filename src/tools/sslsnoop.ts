// sslsnoop: bpftrace's tools/sslsnoop.bt.
import { classicTool } from './tool.js';
import { sslUnavailable, sslVars } from './ssl.js';

export const sslsnoop = classicTool({
  name: 'sslsnoop',
  description: 'Trace SSL/TLS handshake for OpenSSL',
  unavailable: sslUnavailable,
  vars: () =>
    sslVars(
      'ossl_ecdh_compute_key',
      '\tprintf("%-10u %-8d %-8s %7u %5d %s\\n", elapsed / 1000, tid, comm,\n' +
        '\t    (nsecs - @start_crypto[tid]) / 1000, retval, @func_crypto[tid]);\n',
    ),
});
