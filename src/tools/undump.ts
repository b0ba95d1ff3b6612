// undump: bpftrace's tools/undump.bt, from read()/recvfrom() instead of unix_stream_read_actor().
import { classicTool } from './tool.js';

export const undump = classicTool({
  name: 'undump',
  description: 'Capture UNIX domain socket packages',
});
