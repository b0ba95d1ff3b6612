// bashreadline: bpftrace's tools/bashreadline.bt, on the system's bash.
import { existsSync, realpathSync } from 'node:fs';
import { classicTool, fileReason, uprobeReason } from './tool.js';

const BASH = '/bin/bash';

export const bashreadline = classicTool({
  name: 'bashreadline',
  description: 'Print entered bash commands from all running shells',
  unavailable: () => uprobeReason() ?? fileReason(BASH, 'bash'),
  vars: () => ({ BASH: existsSync(BASH) ? realpathSync(BASH) : BASH }),
});
