// tcpdrop: bpftrace's tools/tcpdrop.bt, on skb:kfree_skb.
import { eventFormat } from '../probes/tracefs.js';
import { classicTool, hasTracepoint, tableLines } from './tool.js';
import { TCP_STATES } from './tcpretrans.js';

export const tcpdrop = classicTool({
  name: 'tcpdrop',
  description: 'Trace TCP kernel-dropped packets/segments',
  unavailable: () => (hasTracepoint('skb', 'kfree_skb') && eventFormat('skb', 'kfree_skb').fields.some((f) => f.name === 'reason') ? undefined : 'needs skb:kfree_skb with drop reasons (5.17+)'),
  vars: () => ({
    STATES: tableLines('tcp_states', TCP_STATES),
    // Receive-side drops name their socket in rx_sk (6.11+); the skb's owner is the fallback.
    SOCK: eventFormat('skb', 'kfree_skb').fields.some((f) => f.name === 'rx_sk')
      ? '$sk = (struct sock *)(args.rx_sk != 0 ? (uint64)args.rx_sk : (uint64)$skb->sk);'
      : '$sk = (struct sock *)$skb->sk;',
  }),
});
