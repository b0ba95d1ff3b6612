// ssllatency: bpftrace's tools/ssllatency.bt.
import { classicTool } from './tool.js';
import { sslUnavailable, sslVars } from './ssl.js';

export const ssllatency = classicTool({
  name: 'ssllatency',
  description: 'Summarize SSL/TLS handshake latency as a histogram for OpenSSL',
  unavailable: sslUnavailable,
  vars: () =>
    sslVars(
      'ecdh_simple_compute_key',
      '\t$lat_us = (nsecs - @start_crypto[tid]) / 1000;\n' +
        '\t@hist[@func_crypto[tid]] = lhist($lat_us, 0, 1000, 200);\n' +
        '\t@stat[@func_crypto[tid]] = stats($lat_us);\n',
    ),
});
