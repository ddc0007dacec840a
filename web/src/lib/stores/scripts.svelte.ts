import type { ApiClient } from '../api/client';
import { errorText } from '../api/errors';
import type { SavedScript, SavedScriptInput } from '../api/types';

/** The logged-in user's saved scripts, newest update first, as the side panel lists them. */
export class ScriptsStore {
  items = $state<SavedScript[]>([]);
  loaded = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);

  constructor(private readonly api: ApiClient) {}

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      this.items = (await this.api.scripts()).items ?? [];
      this.error = null;
      this.loaded = true;
    } catch (error) {
      this.error = errorText(error);
    } finally {
      this.loading = false;
    }
  }

  clear(): void {
    this.items = [];
    this.loaded = false;
    this.error = null;
  }

  async create(input: SavedScriptInput): Promise<SavedScript> {
    const script = await this.api.createScript(input);
    this.upsert(script);
    return script;
  }

  async update(id: string, input: SavedScriptInput): Promise<SavedScript> {
    const script = await this.api.updateScript(id, input);
    this.upsert(script);
    return script;
  }

  /** Renames without touching the code: PUT needs every field, so send the stored ones. */
  async rename(script: SavedScript, name: string): Promise<SavedScript> {
    return this.update(script.id, { name, lang: script.lang, lang_version: script.lang_version, script: script.script });
  }

  async remove(id: string): Promise<void> {
    await this.api.deleteScript(id);
    this.items = this.items.filter((s) => s.id !== id);
  }

  /** Fetches the full script (the list may be stale) before opening it. */
  get(id: string): Promise<SavedScript> {
    return this.api.script(id);
  }

  private upsert(script: SavedScript): void {
    this.items = [script, ...this.items.filter((s) => s.id !== script.id)];
  }
}
