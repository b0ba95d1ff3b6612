// The only file that talks to libc. Everything else sees typed functions that
// take Buffers and throw SysError, so no other module needs to know koffi.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requireFrom } from '../lazy.js';
import { getI32, putU32 } from '../le.js';

// koffi is CommonJS; loading it lazily keeps `bpfkit -h` from paying for it.
type Koffi = any;
let koffiMod: Koffi | undefined;
function koffi(): Koffi {
  if (!koffiMod) koffiMod = loadKoffi();
  return koffiMod;
}

/**
 * koffi's index.js loads https, zlib and crypto for its installer before it
 * picks the prebuilt binary: about 10 ms and 4 MB of every start-up. Where
 * the binary for this platform is there and of the package's version, it is
 * loaded directly; its exports are what index.js would wrap (less the
 * deprecated aliases, which we do not use). The package is found as Node
 * would find it from here (the nearest node_modules/koffi up the tree)
 * without Node's resolver, whose first use costs about a millisecond.
 */
function loadKoffi(): Koffi {
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      // import.meta.dirname: turning import.meta.url into a path costs a quarter of a millisecond.
      for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
        const base = join(dir, 'node_modules', 'koffi');
        if (existsSync(join(base, 'package.json'))) {
          const { version } = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')) as { version: string };
          const mod = { exports: {} as { version?: string } };
          process.dlopen(mod, join(base, `build/koffi/linux_${process.arch}/koffi.node`));
          if (mod.exports.version === version) return mod.exports;
          break;
        }
        if (dirname(dir) === dir) break;
      }
    } catch {
      // A musl system, another layout: koffi's own loader knows.
    }
  }
  return requireFrom(import.meta.url)('koffi');
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 9: 'EBADF',
  11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV',
  20: 'ENOTDIR', 22: 'EINVAL', 24: 'EMFILE', 25: 'ENOTTY', 28: 'ENOSPC', 34: 'ERANGE', 38: 'ENOSYS',
  95: 'EOPNOTSUPP', 524: 'ENOTSUPP', 7001: 'ENOTSUP',
};

export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly op: string;
  constructor(op: string, errno: number) {
    const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(`${op}: ${code}`);
    this.name = 'SysError';
    this.errno = errno;
    this.code = code;
    this.op = op;
  }
}

export const errno = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, E2BIG: 7, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13,
  EFAULT: 14, EBUSY: 16, EEXIST: 17, ENODEV: 19, EINVAL: 22, ENOSPC: 28, ENOSYS: 38, EOPNOTSUPP: 95,
  ENOTSUPP: 524,
} as const;

const NR_bpf = 321;
const NR_perf_event_open = 298;

interface Libc {
  bpf: (nr: number, cmd: number, attr: Buffer, size: number) => number;
  perf: (nr: number, attr: Buffer, pid: number, cpu: number, group: number, flags: number) => number;
  ioctlInt: (fd: number, req: number, arg: number) => number;
  ioctlPtr: (fd: number, req: number, arg: Buffer | null) => number;
  close: (fd: number) => number;
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  mount: (src: string, target: string, fstype: string, flags: number, data: string | null) => number;
  epollCreate: (flags: number) => number;
  epollCtl: (epfd: number, op: number, fd: number, ev: Buffer) => number;
  epollWait: any;
  eventfd: (init: number, flags: number) => number;
  write: (fd: number, buf: Buffer, len: number) => number;
  read: (fd: number, buf: Buffer, len: number) => number;
  memcpy: (dst: Buffer, src: bigint, len: number) => unknown;
  addrOf: (buf: Buffer | ArrayBufferView, zero: null, n: number) => number | bigint;
  geteuid: () => number;
  kill: (pid: number, sig: number) => number;
}

// What each function is declared as, for koffi. Declaring one parses its
// prototype: all of them up front were about 2 ms of every start-up, for
// functions most runs never call (mount, kill, memcpy...).
const DECLS: { [K in keyof Libc]: [string] | [string, string, string[]] } = {
  bpf: ['syscall', 'long', ['long', 'int', 'void *', 'uint']],
  perf: ['syscall', 'long', ['long', 'void *', 'int', 'int', 'int', 'ulong']],
  ioctlInt: ['ioctl', 'int', ['int', 'ulong', 'ulong']],
  ioctlPtr: ['ioctl', 'int', ['int', 'ulong', 'void *']],
  close: ['int close(int fd)'],
  mmap: ['void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)'],
  munmap: ['int munmap(void *addr, size_t len)'],
  mount: ['int mount(const char *src, const char *target, const char *fstype, ulong flags, const char *data)'],
  epollCreate: ['int epoll_create1(int flags)'],
  epollCtl: ['int epoll_ctl(int epfd, int op, int fd, void *ev)'],
  epollWait: ['int epoll_wait(int epfd, void *events, int maxevents, int timeout)'],
  eventfd: ['int eventfd(uint init, int flags)'],
  write: ['long write(int fd, void *buf, size_t len)'],
  read: ['long read(int fd, void *buf, size_t len)'],
  memcpy: ['memcpy', 'void *', ['void *', 'uintptr_t', 'size_t']],
  // memmove(p, NULL, 0) returns p: the cheapest way to learn where a Buffer lives.
  addrOf: ['memmove', 'uintptr_t', ['void *', 'void *', 'size_t']],
  geteuid: ['uint geteuid()'],
  kill: ['int kill(int pid, int sig)'],
};

let libcLib: Koffi | undefined;
const declared: Partial<Libc> = {};
/** The libc function `name`, declared on first use. */
function lc<K extends keyof Libc>(name: K): Libc[K] {
  const f = declared[name];
  if (f) return f as Libc[K];
  libcLib ??= koffi().load('libc.so.6');
  return (declared[name] = libcLib.func(...DECLS[name])) as Libc[K];
}

function check(op: string, r: number | bigint): number {
  const n = Number(r);
  if (n < 0) throw new SysError(op, koffi().errno());
  return n;
}

/** BPF command numbers from include/uapi/linux/bpf.h. */
export const BpfCmd = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5, OBJ_PIN: 6, OBJ_GET: 7, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_TEST_RUN: 10,
  PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12, PROG_GET_FD_BY_ID: 13, MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16, RAW_TRACEPOINT_OPEN: 17, BTF_LOAD: 18, BTF_GET_FD_BY_ID: 19,
  TASK_FD_QUERY: 20, MAP_LOOKUP_AND_DELETE_ELEM: 21, MAP_FREEZE: 22, BTF_GET_NEXT_ID: 23,
  MAP_LOOKUP_BATCH: 24, MAP_LOOKUP_AND_DELETE_BATCH: 25, MAP_UPDATE_BATCH: 26, MAP_DELETE_BATCH: 27,
  LINK_CREATE: 28, LINK_UPDATE: 29, LINK_GET_FD_BY_ID: 30, LINK_GET_NEXT_ID: 31, ENABLE_STATS: 32,
  ITER_CREATE: 33, LINK_DETACH: 34, PROG_BIND_MAP: 35,
} as const;
const BPF_CMD_NAMES = Object.fromEntries(Object.entries(BpfCmd).map(([k, v]) => [v, k]));

/** Size of `union bpf_attr` we pass; the kernel accepts any size whose tail beyond what it knows is zero. */
export const BPF_ATTR_SIZE = 168;

/** bpf(2). `attr` must be at least as long as `size`; the return is the fd or 0. */
export function bpf(cmd: number, attr: Buffer, size = attr.length): number {
  const r = lc('bpf')(NR_bpf, cmd, attr, size);
  return check(`bpf(BPF_${BPF_CMD_NAMES[cmd] ?? cmd})`, r);
}

/** bpf(2) returning the raw errno instead of throwing: for hot paths (map lookups) where ENOENT is normal. */
export function bpfTry(cmd: number, attr: Buffer, size = attr.length): number {
  const r = Number(lc('bpf')(NR_bpf, cmd, attr, size));
  return r < 0 ? -koffi().errno() : r;
}

export function perfEventOpen(attr: Buffer, pid: number, cpu: number, groupFd = -1, flags = PERF_FLAG_FD_CLOEXEC): number {
  return check('perf_event_open', lc('perf')(NR_perf_event_open, attr, pid, cpu, groupFd, flags));
}
export const PERF_FLAG_FD_CLOEXEC = 8;

export function ioctl(fd: number, req: number, arg: number | Buffer | null = 0, op = 'ioctl'): number {
  const r = typeof arg === 'number' ? lc('ioctlInt')(fd, req, arg) : lc('ioctlPtr')(fd, req, arg);
  return check(op, r);
}

export function close(fd: number): void {
  if (fd >= 0) lc('close')(fd);
}

export function mount(src: string, target: string, fstype: string, flags = 0, data: string | null = null): void {
  check(`mount(${fstype} on ${target})`, lc('mount')(src, target, fstype, flags, data));
}

export function geteuid(): number {
  return lc('geteuid')();
}

/** kill(2) without Node's argument checks (signal 0 probes for existence). */
export function kill(pid: number, sig: number): boolean {
  return lc('kill')(pid, sig) === 0;
}

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_PRIVATE = 2;

/**
 * Whether libc is bound already. Callers with a cheap fallback (the BTF reader
 * maps /sys/kernel/btf/vmlinux instead of reading it 4 KiB per syscall) use
 * the syscall path only when it will not cost loading koffi first.
 */
export function libcLoaded(): boolean {
  return libcLib !== undefined;
}

/** A mapping of a kernel object (ring buffer pages). `view` is unusable after unmap(). */
export interface Mapping {
  readonly view: ArrayBuffer;
  readonly length: number;
  unmap(): void;
}

// A view whose owner forgot unmap() is unmapped when it is collected.
const mappings = new FinalizationRegistry<{ addr: unknown; len: number; live: { v: boolean } }>((m) => {
  if (m.live.v) lc('munmap')(m.addr, m.len);
});

export function mmap(fd: number, length: number, prot: number, offset = 0, flags = MAP_SHARED): Mapping {
  const k = koffi();
  const addr = lc('mmap')(null, length, prot, flags, fd, offset);
  // MAP_FAILED is (void *)-1.
  if (addr === null || k.address(addr) === 0xffffffffffffffffn) throw new SysError('mmap', k.errno());
  const live = { v: true };
  const view: ArrayBuffer = k.view(addr, length);
  const token = {};
  mappings.register(view, { addr, len: length, live }, token);
  return {
    view,
    length,
    unmap() {
      if (!live.v) return;
      live.v = false;
      mappings.unregister(token);
      lc('munmap')(addr, length);
    },
  };
}

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLLIN = 1;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EPOLL_CLOEXEC = 0o2000000;

/**
 * Watches fds for readability without blocking the main thread: epoll_wait runs
 * on koffi's worker pool, and `onReady` is called on the main thread with the
 * user tags of the ready fds. An eventfd in the set lets stop() wake a pending wait.
 */
export class FdWatcher {
  private readonly epfd: number;
  private readonly wakeFd: number;
  private readonly events = Buffer.alloc(12 * 64);
  private running = false;
  private pending = false;
  private closed = false;
  private readonly tags = new Map<number, number>();

  constructor(private readonly onReady: (tags: number[]) => void, private readonly timeoutMs = -1) {
    this.epfd = check('epoll_create1', lc('epollCreate')(EPOLL_CLOEXEC));
    this.wakeFd = check('eventfd', lc('eventfd')(0, EFD_CLOEXEC | EFD_NONBLOCK));
    this.ctl(EPOLL_CTL_ADD, this.wakeFd, -1);
  }

  private ctl(op: number, fd: number, tag: number): void {
    // struct epoll_event is packed on x86_64: u32 events, u64 data.
    const ev = Buffer.alloc(12);
    putU32(ev, 0, EPOLLIN);
    putU32(ev, 4, tag);
    putU32(ev, 8, fd);
    check('epoll_ctl', lc('epollCtl')(this.epfd, op, fd, ev));
  }

  add(fd: number, tag: number): void {
    this.tags.set(fd, tag);
    this.ctl(EPOLL_CTL_ADD, fd, tag);
  }

  remove(fd: number): void {
    if (this.tags.delete(fd)) this.ctl(EPOLL_CTL_DEL, fd, 0);
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  private arm(): void {
    if (!this.running || this.pending || this.closed) return;
    this.pending = true;
    lc('epollWait').async(this.epfd, this.events, 64, this.timeoutMs, (err: unknown, n: number) => {
      this.pending = false;
      if (this.closed) return this.finish();
      if (!this.running) return;
      const ready: number[] = [];
      if (!err && n >= 0) {
        for (let i = 0; i < n; i++) {
          const tag = getI32(this.events, i * 12 + 4);
          if (tag === -1) this.drainWake();
          else ready.push(tag);
        }
      }
      // A timeout (n == 0) still calls back so readers can poll for data the
      // kernel produced without a wake-up (ring buffer notifications are batched).
      this.onReady(ready);
      this.arm();
    });
  }

  private drainWake(): void {
    lc('read')(this.wakeFd, Buffer.alloc(8), 8);
  }

  /** Wakes a pending wait once so the caller gets an onReady([]) soon. */
  poke(): void {
    const b = Buffer.alloc(8);
    b[0] = 1;
    lc('write')(this.wakeFd, b, 8);
  }

  stop(): void {
    this.running = false;
    if (this.pending) this.poke();
  }

  /** Stops and closes the epoll and eventfd once no wait is pending. */
  close(): void {
    this.running = false;
    this.closed = true;
    if (this.pending) this.poke();
    else this.finish();
  }

  private finished = false;
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    close(this.epfd);
    close(this.wakeFd);
  }
}

/** Reads `len` bytes at a kernel-returned user pointer (bigint) into a new Buffer. */
export function readPointer(addr: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  lc('memcpy')(out, addr, len);
  return out;
}

/** Address of a Buffer's memory, for attrs that embed pointers (the Buffer must outlive the call). */
export function addressOf(buf: Buffer | ArrayBufferView): bigint {
  return BigInt(lc('addrOf')(buf, null, 0));
}
