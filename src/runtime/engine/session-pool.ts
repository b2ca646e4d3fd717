// Session reuse: creating an onnxruntime session (graph optimization, kernel selection, weight packing) costs far
// more than one run, so callers that run the same model again ask the pool by a key naming the model and options.
import { Session } from './session.js';

export class SessionPool {
  private sessions = new Map<string, Promise<Session>>();

  /** The session under `key`, created once by `create` (concurrent callers share the same creation). */
  get(key: string, create: () => Promise<Session>): Promise<Session> {
    let s = this.sessions.get(key);
    if (!s) {
      s = create();
      this.sessions.set(key, s);
      // A failed creation must not poison the key.
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  has(key: string): boolean {
    return this.sessions.has(key);
  }

  async release(key: string): Promise<void> {
    const s = this.sessions.get(key);
    this.sessions.delete(key);
    if (s) await (await s).release();
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((k) => this.release(k)));
  }
}
