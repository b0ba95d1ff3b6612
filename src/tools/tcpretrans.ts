// tcpretrans: bpftrace's tools/tcpretrans.bt, on tcp:tcp_retransmit_skb.
import { classicTool, hasTracepoint, tableLines } from './tool.js';

/** include/net/tcp_states.h */
export const TCP_STATES: [number, string][] = [
  [1, 'ESTABLISHED'], [2, 'SYN_SENT'], [3, 'SYN_RECV'], [4, 'FIN_WAIT1'], [5, 'FIN_WAIT2'], [6, 'TIME_WAIT'],
  [7, 'CLOSE'], [8, 'CLOSE_WAIT'], [9, 'LAST_ACK'], [10, 'LISTEN'], [11, 'CLOSING'], [12, 'NEW_SYN_RECV'],
];

export const tcpretrans = classicTool({
  name: 'tcpretrans',
  description: 'Trace TCP retransmits',
  unavailable: () => (hasTracepoint('tcp', 'tcp_retransmit_skb') ? undefined : 'needs the tcp:tcp_retransmit_skb tracepoint'),
  vars: () => ({ STATES: tableLines('tcp_states', TCP_STATES) }),
});
