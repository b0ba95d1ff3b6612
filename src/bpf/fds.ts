// Every kernel object bpfkit opens is registered here, so one call releases
// them all. The kernel frees BPF objects when the last fd (or mapping) goes
// away, and process exit does that too; the registry matters for what exit
// does not cover: a library user tearing down a session inside a long-lived
// process, and mmapped rings, which pin their map or perf event even after its
// fd is closed.
import { close } from './sys.js';

interface Entry {
  what: string;
  release: () => void;
}

// Insertion order is creation order; releasing in reverse detaches links
// before the programs and maps they use, like an orderly shutdown would.
const entries = new Map<number | object, Entry>();

/**
 * Registers `fd` (described by `what`, e.g. "map counts") and returns it.
 * `onClosed` runs after closeAll() closed it, so the owning object can mark
 * itself closed: its own close() must not close the number again, which by
 * then may belong to someone else.
 */
export function trackFd(fd: number, what: string, onClosed?: () => void): number {
  entries.set(fd, {
    what,
    release: () => {
      close(fd);
      onClosed?.();
    },
  });
  return fd;
}

/** Forgets `fd` without closing it; call right before closing it yourself. */
export function untrackFd(fd: number): void {
  entries.delete(fd);
}

/**
 * Registers a non-fd resource (an mmapped ring, an epoll watcher) whose
 * `release` must run at closeAll(). Returns the function that unregisters it.
 */
export function trackResource(what: string, release: () => void): () => void {
  const key = {};
  entries.set(key, { what, release });
  return () => {
    entries.delete(key);
  };
}

/** What is open now, for diagnostics and tests. */
export function tracked(): { fd: number | null; what: string }[] {
  return [...entries].map(([k, e]) => ({ fd: typeof k === 'number' ? k : null, what: e.what }));
}

/** Closes and unmaps everything registered, newest first. Returns how many were released. */
export function closeAll(): number {
  const all = [...entries.values()].reverse();
  entries.clear();
  for (const e of all) {
    try {
      e.release();
    } catch {
      // Shutdown continues: one failing release must not keep the rest open.
    }
  }
  return all.length;
}

let installed = false;

/**
 * Releases everything on process exit, SIGINT, SIGTERM, SIGHUP and uncaught
 * exceptions. A signal handler here would replace Node's default of dying,
 * so when nobody else handles the signal we release and re-raise it: the
 * process still dies of that signal, with the exit status a shell expects.
 * When the runtime has its own handler (Ctrl-C prints maps in bpftrace), it
 * owns the decision to exit and we only release at 'exit'.
 */
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    closeAll();
  });
  // The monitor variant observes without changing Node's report-and-exit(1).
  process.on('uncaughtExceptionMonitor', () => {
    closeAll();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      if (process.listenerCount(sig) > 1) return;
      closeAll();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}
