// The kernel's own BTF objects (vmlinux and one per module with BTF) as bpf
// fds. A tracing program aimed at a module function names the function by its
// id in the module's split BTF (/sys/kernel/btf/MODULE, numbered after
// vmlinux's types) and the module's BTF object by fd: attach_btf_obj_fd in
// BPF_PROG_LOAD (5.11+). The kernel hands that fd out only by object id, so
// the ids are walked (BPF_BTF_GET_NEXT_ID) and each object's name read.
import { Attr, InfoAttr } from './attr.js';
import { trackFd, untrackFd } from './fds.js';
import { BpfCmd, SysError, addressOf, bpfTry, close, errno } from './sys.js';

/** union bpf_attr for BPF_BTF_GET_NEXT_ID / BPF_BTF_GET_FD_BY_ID. */
const IdAttr = { startId: 0, btfId: 0, nextId: 4 } as const;
/** struct bpf_btf_info. */
const BtfInfo = { size: 32, id: 12, name: 16, nameLen: 24, kernelBtf: 28 } as const;

const open = new Map<string, number>();

/** Name and kernel flag of a BTF object fd. */
function btfObjectName(fd: number): { name: string; kernel: boolean } | undefined {
  const info = Buffer.alloc(BtfInfo.size);
  const name = Buffer.alloc(64);
  // The name buffer's address goes inside the info struct the kernel fills.
  info.writeBigUInt64LE(addressOf(name), BtfInfo.name);
  info.writeUInt32LE(name.length, BtfInfo.nameLen);
  const a = new Attr().u32(InfoAttr.bpfFd, fd).u32(InfoAttr.infoLen, info.length).ptr(InfoAttr.info, info).keep(name);
  if (bpfTry(BpfCmd.OBJ_GET_INFO_BY_FD, a.buf) < 0) return undefined;
  const len = name.indexOf(0);
  return { name: name.toString('latin1', 0, len < 0 ? name.length : len), kernel: info.readUInt32LE(BtfInfo.kernelBtf) !== 0 };
}

/**
 * A bpf fd for the kernel BTF object `module` ("vmlinux" or a module name as
 * in /sys/kernel/btf), opened once per process and tracked (closeAll()
 * releases it; the next call opens it again). Example:
 *   Program.load({ type: ProgType.TRACING, attachBtfId: id, attachBtfObjFd: kernelBtfFd('9p'), ... })
 * Throws a SysError naming the module when the kernel has no such object.
 */
export function kernelBtfFd(module: string): number {
  const have = open.get(module);
  if (have !== undefined) return have;
  const a = new Attr();
  let id = 0;
  for (;;) {
    a.reset().u32(IdAttr.startId, id);
    const r = bpfTry(BpfCmd.BTF_GET_NEXT_ID, a.buf);
    if (r === -errno.ENOENT) break;
    if (r < 0) throw new SysError(`looking for the BTF object of module ${module}`, -r);
    id = a.getU32(IdAttr.nextId);
    const fd = bpfTry(BpfCmd.BTF_GET_FD_BY_ID, new Attr().u32(IdAttr.btfId, id).buf);
    // An object freed since the walk saw it (a program's BTF) is skipped.
    if (fd === -errno.ENOENT) continue;
    if (fd < 0) throw new SysError(`opening BTF object ${id} (looking for module ${module})`, -fd);
    const info = btfObjectName(fd);
    if (info?.kernel && info.name === module) {
      open.set(module, fd);
      trackFd(fd, `kernel BTF ${module}`, () => open.delete(module));
      return fd;
    }
    close(fd);
  }
  throw new SysError(`no kernel BTF object for module ${module} (is it loaded, and built with BTF?)`, errno.ENOENT);
}

/** Closes the fds kernelBtfFd() opened (they are also released by closeAll()). */
export function closeKernelBtfFds(): void {
  for (const fd of open.values()) {
    untrackFd(fd);
    close(fd);
  }
  open.clear();
}
