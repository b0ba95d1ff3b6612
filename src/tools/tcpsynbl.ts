// tcpsynbl: bpftrace's tools/tcpsynbl.bt, on sock:inet_sock_set_state and skb:kfree_skb.
import { classicTool, hasTracepoint, symbolicTable } from './tool.js';

export const tcpsynbl = classicTool({
  name: 'tcpsynbl',
  description: 'Show TCP SYN backlog as a histogram',
  unavailable: () => (hasTracepoint('sock', 'inet_sock_set_state') ? undefined : 'needs the sock:inet_sock_set_state tracepoint'),
  vars: () => {
    // The reason's number differs between kernels: take it from the tracepoint's own table.
    const overflow = hasTracepoint('skb', 'kfree_skb') ? symbolicTable('skb', 'kfree_skb', 'reason').find(([, n]) => n === 'TCP_LISTEN_OVERFLOW') : undefined;
    return {
      DROPS: overflow
        ? `// SKB_DROP_REASON_TCP_LISTEN_OVERFLOW\ntracepoint:skb:kfree_skb\n/args.reason == ${overflow[0]}/\n{\n\ttime("%H:%M:%S dropping a SYN.\\n");\n}`
        : '',
    };
  },
});
