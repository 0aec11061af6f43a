import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BufferJSON,
  initAuthCreds,
  proto,
  type AuthenticationCreds,
  type AuthenticationState,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';

/**
 * The linked-device session (Baileys' auth state) in a folder of its own: the same file layout
 * as Baileys' useMultiFileAuthState (creds.json + one file per key), but the folder is 0700,
 * every file 0600, and each write lands whole (temp file + rename), so a crash mid-write cannot
 * leave a corrupt session behind.
 */
export interface SessionStore {
  state: AuthenticationState;
  saveCreds(): Promise<void>;
  /** Waits for pending writes, deletes the session's files and ignores any later write to this store. */
  wipe(): Promise<void>;
}

const CREDS_FILE = 'creds.json';

export async function ensureSessionDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

export async function openSessionStore(dir: string): Promise<SessionStore> {
  await ensureSessionDir(dir);
  const files = new SessionFiles(dir);
  const creds = (await files.read<AuthenticationCreds>(CREDS_FILE)) ?? initAuthCreds();
  return {
    state: {
      creds,
      keys: {
        get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
          const found: { [id: string]: SignalDataTypeMap[T] } = {};
          await Promise.all(
            ids.map(async (id) => {
              const value = await files.read<object>(keyFile(type, id));
              if (value !== undefined) found[id] = reviveKey(type, value) as SignalDataTypeMap[T];
            }),
          );
          return found;
        },
        set: async (data: SignalDataSet) => {
          const writes: Promise<void>[] = [];
          for (const [type, entries] of Object.entries(data)) {
            for (const [id, value] of Object.entries(entries ?? {})) {
              const file = keyFile(type, id);
              writes.push(value ? files.write(file, value) : files.remove(file));
            }
          }
          await Promise.all(writes);
        },
      },
    },
    saveCreds: () => files.write(CREDS_FILE, creds),
    wipe: async () => {
      await files.close();
      await wipeSession(dir);
    },
  };
}

/** True once a phone has linked this session (a QR was scanned or a pairing code entered). */
export async function hasLinkedSession(dir: string): Promise<boolean> {
  const creds = await new SessionFiles(dir).read<AuthenticationCreds>(CREDS_FILE);
  return creds?.account != null;
}

/** Deletes every file of the session but keeps the (0700) folder: the next start links anew. */
export async function wipeSession(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.map((name) => rm(join(dir, name), { recursive: true, force: true })));
}

/** Baileys expects app-state sync keys as protobuf objects, not plain JSON. */
function reviveKey(type: string, value: object): unknown {
  return type === 'app-state-sync-key' ? proto.Message.AppStateSyncKeyData.fromObject(value) : value;
}

function keyFile(type: string, id: string): string {
  return `${type}-${id}.json`.replace(/\//g, '__').replace(/:/g, '-');
}

class SessionFiles {
  /** Writes to one file run one after another, so an older snapshot never lands last. */
  private readonly queues = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly dir: string) {}

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()].map((q) => q.catch(() => undefined)));
  }

  async read<T>(name: string): Promise<T | undefined> {
    await this.queues.get(name);
    let text: string;
    try {
      text = await readFile(join(this.dir, name), 'utf8');
    } catch {
      return undefined;
    }
    return JSON.parse(text, BufferJSON.reviver) as T;
  }

  write(name: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value, BufferJSON.replacer);
    return this.enqueue(name, async () => {
      const path = join(this.dir, name);
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, path);
    });
  }

  remove(name: string): Promise<void> {
    return this.enqueue(name, () => rm(join(this.dir, name), { force: true }));
  }

  private enqueue(name: string, work: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.resolve();
    const next = (this.queues.get(name) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.queues.set(name, next);
    void next.finally(() => {
      if (this.queues.get(name) === next) this.queues.delete(name);
    }).catch(() => undefined);
    return next;
  }
}
