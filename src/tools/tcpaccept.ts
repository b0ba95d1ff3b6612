// tcpaccept: bpftrace's tools/tcpaccept.bt, from accept()'s return instead of inet_csk_accept().
import { classicTool } from './tool.js';

export const tcpaccept = classicTool({
  name: 'tcpaccept',
  description: 'Trace TCP passive connections (accept())',
});
