// hardware:EVENT[:COUNT]: CPU performance counters (cycles, instructions,
// cache misses...) sampled every COUNT events. They need a hardware PMU,
// which most virtual machines do not expose; then the error says so at
// compile time rather than when attaching.
import { findHardwareEvent, HARDWARE_EVENTS, openHardware } from '../bpf/perf.js';
import { hasHardwarePmu } from '../bpf/features.js';
import { ProgType } from '../bpf/program.js';
import { attachCounted, listNamed, parseCountedEvent } from './software.js';
import { ProbeError, type Provider, type ProbeTarget } from './provider.js';

export const hardwareProvider: Provider = {
  names: ['hardware', 'h'],
  expand(ap): ProbeTarget[] {
    const { event, name, period } = parseCountedEvent(ap, 'hardware', findHardwareEvent);
    if (!hasHardwarePmu()) {
      throw new ProbeError(
        `hardware probes are not available: this machine has no hardware PMU (perf_event_open refuses hardware events; virtual machines often lack one)`,
        `HINT: software:cpu-clock or profile:hz:99 sample by time instead`,
      );
    }
    return [{
      provider: 'hardware',
      name: ap.parts[1] ? `hardware:${name}:${ap.parts[1]}` : `hardware:${name}`,
      progType: ProgType.PERF_EVENT,
      data: { config: event.config, period },
    }];
  },
  attach(progFd, t, env) {
    const { config, period } = t.data as { config: number; period: number };
    return attachCounted(progFd, env, (cpu, pid) => openHardware(config, { pid, cpu, period }));
  },
  list: (pattern) => listNamed('hardware', HARDWARE_EVENTS, pattern),
};
