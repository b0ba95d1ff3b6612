// tcplife: bpftrace's tools/tcplife.bt, on sock:inet_sock_set_state.
import { classicTool, hasTracepoint } from './tool.js';

export const tcplife = classicTool({
  name: 'tcplife',
  description: 'Trace TCP session lifespans with connection details',
  unavailable: () => (hasTracepoint('sock', 'inet_sock_set_state') ? undefined : 'needs the sock:inet_sock_set_state tracepoint'),
});
