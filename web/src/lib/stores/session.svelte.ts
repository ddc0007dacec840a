import type { ApiClient } from '../api/client';
import { ApiError } from '../api/errors';
import type { User } from '../api/types';

/**
 * Who is logged in. The session itself is the httpOnly cookie; this store only mirrors it,
 * so a reload restores it by asking GET /auth/me.
 */
export class SessionStore {
  user = $state<User | null>(null);
  /** False until the first /auth/me answer (or failure), so pages can wait for it. */
  ready = $state(false);
  /** /auth/me failed for another reason than "not logged in": ask again when the server is back. */
  uncertain = $state(false);

  constructor(private readonly api: ApiClient) {}

  get loggedIn(): boolean {
    return this.user !== null;
  }

  get isAdmin(): boolean {
    return this.user?.role === 'admin';
  }

  /** Restores the session from the cookie. A 401 means "anonymous", not an error. */
  async load(): Promise<void> {
    if (!this.api.mayHaveSession()) {
      this.user = null;
      this.uncertain = false;
      this.ready = true;
      return;
    }
    try {
      this.user = await this.api.me();
      this.uncertain = false;
    } catch (error) {
      this.user = null;
      const anonymous = error instanceof ApiError && (error.status === 401 || error.status === 403);
      this.uncertain = !anonymous;
      this.ready = true;
      if (!anonymous) throw error;
    }
    this.ready = true;
  }

  async login(username: string, password: string): Promise<User> {
    const answer = await this.api.login(username, password);
    this.user = answer.user ?? (await this.api.me());
    this.ready = true;
    return this.user;
  }

  /** Creates the account and logs straight in with it. */
  async register(username: string, email: string, password: string): Promise<User> {
    await this.api.register(username, email, password);
    return this.login(username, password);
  }

  /** Logs out on the server; the local session ends even when the server cannot be told. */
  async logout(): Promise<void> {
    try {
      await this.api.logout();
    } finally {
      this.user = null;
    }
  }

  /** Called when an API call answers 401: the cookie expired or was revoked. */
  expired(): void {
    this.user = null;
  }
}
