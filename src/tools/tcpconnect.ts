// tcpconnect: bpftrace's tools/tcpconnect.bt, on sock:inet_sock_set_state.
import { classicTool, hasTracepoint } from './tool.js';

export const tcpconnect = classicTool({
  name: 'tcpconnect',
  description: 'Trace TCP active connections (connect())',
  unavailable: () => (hasTracepoint('sock', 'inet_sock_set_state') ? undefined : 'needs the sock:inet_sock_set_state tracepoint'),
});
