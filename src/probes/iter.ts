// iter:task, iter:task_file, iter:task_vma: BPF iterators. The program is a
// tracing program run once per object when its iterator fd is read, with
// `args.task` (and `args.file`/`args.fd`, `args.vma`) from the kernel's
// struct bpf_iter__NAME. The session reads the iterator after BEGIN, through
// the attachment's afterBegin().
import { readSync } from 'node:fs';
import { Attr } from '../bpf/attr.js';
import { attachTracing } from '../bpf/link.js';
import { assemble, exit, mov64Imm, R0 } from '../bpf/asm/index.js';
import { AttachType, ProgType, tryLoad } from '../bpf/program.js';
import { BpfCmd, bpf, close } from '../bpf/sys.js';
import { Btf } from '../btf/index.js';
import { CTypes } from '../analysis/ctypes.js';
import { ctypeToTy } from '../analysis/types.js';
import { splitAttachPoint } from '../lang/attach.js';
import { globToRegExp, ProbeError, type ArgsField, type CtxRead, type Provider, type ProbeTarget } from './provider.js';

/** The iterators bpftrace offers. */
export const ITERATORS = ['task', 'task_file', 'task_vma'];

const ctypes = new CTypes();

let iterLoads: boolean | undefined;

/**
 * Whether iterator programs load here. Asked directly rather than through
 * the fentry probe: a kernel can refuse trampolines (fentry) yet accept
 * iterators, which need none.
 */
export function hasIterators(): boolean {
  if (iterLoads === undefined) {
    iterLoads = false;
    try {
      const id = Btf.available() ? Btf.vmlinux().findByName('bpf_iter_task', 'func') : undefined;
      if (id !== undefined) {
        const r = tryLoad({ type: ProgType.TRACING, expectedAttachType: AttachType.TRACE_ITER, attachBtfId: id, insns: assemble([mov64Imm(R0, 0), exit()]).bytes, name: 'probe_iter' });
        if (r.fd >= 0) close(r.fd);
        iterLoads = r.fd >= 0;
      }
    } catch {
      iterLoads = false;
    }
  }
  return iterLoads;
}

/** Fields of struct bpf_iter__NAME after `meta`, read straight from the context. */
function iterArgs(btf: Btf, name: string, maxStrlen: number): ArgsField[] {
  const id = btf.findByName(`bpf_iter__${name}`, 'struct');
  if (id === undefined) throw new ProbeError(`iter:${name} is not available: this kernel's BTF has no struct bpf_iter__${name}`);
  // The fields sit in anonymous unions (__bpf_md_ptr), which members() flattens.
  const out: ArgsField[] = [];
  for (const m of ctypes.fromBtf(id).members?.() ?? []) {
    if (m.name === 'meta') continue;
    const ctype = m.type;
    const size = ctype.kind === 'int' || ctype.kind === 'enum' ? ((ctype.size === 1 || ctype.size === 2 || ctype.size === 4 ? ctype.size : 8) as 1 | 2 | 4 | 8) : 8;
    const read: CtxRead = { kind: 'ctx', off: m.offset, size, signed: !!ctype.signed };
    out.push({ name: m.name, ty: ctypeToTy(ctype, maxStrlen), ctype, read, user: false });
  }
  return out;
}

function iterCreate(linkFd: number): number {
  return bpf(BpfCmd.ITER_CREATE, new Attr().u32(0, linkFd).buf);
}

export function iterProvider(opts: { maxStrlen: number }): Provider {
  return {
    names: ['iter', 'it'],
    expand(ap): ProbeTarget[] {
      const [name, pin] = ap.parts;
      if (ap.parts.length < 1 || ap.parts.length > 2 || !name) throw new ProbeError('iter probe type requires 1 argument', `HINT: one of ${ITERATORS.map((i) => `iter:${i}`).join(', ')}`);
      if (pin !== undefined) throw new ProbeError('iter probes cannot be pinned by bpfkit (iter:NAME:PIN)');
      if (!ITERATORS.includes(name)) throw new ProbeError(`iter:${name} is not a known iterator`, `HINT: one of ${ITERATORS.map((i) => `iter:${i}`).join(', ')}`);
      if (!hasIterators()) {
        throw new ProbeError(`iter probes are not available on this kernel: it refuses to load BPF iterator programs`, 'HINT: walk /proc from user space, or sample with profile/tracepoints instead');
      }
      const btf = Btf.vmlinux();
      const fn = btf.findByName(`bpf_iter_${name}`, 'func');
      if (fn === undefined) throw new ProbeError(`iter:${name} is not available: this kernel's BTF has no bpf_iter_${name}`);
      return [{
        provider: 'iter',
        name: `iter:${name}`,
        progType: ProgType.TRACING,
        expectedAttachType: AttachType.TRACE_ITER,
        attachBtfId: fn,
        args: iterArgs(btf, name, opts.maxStrlen),
        data: { iter: name },
      }];
    },
    attach(progFd) {
      const link = attachTracing(progFd, { attachType: AttachType.TRACE_ITER });
      return {
        close: () => link.close(),
        afterBegin() {
          // Reading the iterator fd runs the program once per object; what it
          // prints goes through the ring buffer, so the text read here is empty.
          const fd = iterCreate(link.fd);
          try {
            const buf = Buffer.alloc(64 * 1024);
            while (readSync(fd, buf, 0, buf.length, null) > 0) {
              // drain
            }
          } finally {
            close(fd);
          }
        },
      };
    },
    list(pattern) {
      if (!hasIterators()) return [];
      const re = globToRegExp(splitAttachPoint(pattern).parts[0] || '*');
      const btf = Btf.vmlinux();
      return ITERATORS.filter((i) => re.test(i) && btf.findByName(`bpf_iter_${i}`, 'func') !== undefined).map((i) => `iter:${i}`);
    },
  };
}
