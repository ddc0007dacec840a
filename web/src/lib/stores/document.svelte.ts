import type { ExampleScript, SavedScript } from '../api/types';

/**
 * The code in the editor and what it was last saved (or loaded) as, so the page knows when
 * leaving would lose work. `scriptId` is set while a saved script is open.
 */
export class EditorDocument {
  source = $state('');
  stdin = $state('');
  lang = $state('');
  version = $state('');
  scriptId = $state<string | null>(null);
  scriptName = $state<string | null>(null);
  /** Bumped whenever the text is replaced from outside the editor (open, example). */
  revision = $state(0);

  private baselineSource = $state('');
  private baselineRuntime = $state('');

  get dirty(): boolean {
    if (this.source !== this.baselineSource) return true;
    return this.scriptId !== null && `${this.lang}:${this.version}` !== this.baselineRuntime;
  }

  setRuntime(lang: string, version: string): void {
    this.lang = lang;
    this.version = version;
  }

  /** Replaces the text with a runtime's example; an untouched example is not "unsaved work". */
  loadExample(example: ExampleScript | undefined, lang: string, version: string): void {
    this.setRuntime(lang, version);
    this.replace(example?.script ?? '');
    this.scriptId = null;
    this.scriptName = null;
  }

  open(script: SavedScript): void {
    this.setRuntime(script.lang, script.lang_version);
    this.replace(script.script);
    this.markSaved(script);
  }

  /** Records that the server now holds exactly this script. */
  markSaved(script: SavedScript): void {
    this.scriptId = script.id;
    this.scriptName = script.name;
    this.baselineSource = script.script;
    this.baselineRuntime = `${script.lang}:${script.lang_version}`;
  }

  /** The open script was deleted or closed: the text stays, as unsaved work if it is any. */
  detach(): void {
    this.scriptId = null;
    this.scriptName = null;
  }

  /** Whether the text is still exactly the given example (so switching language may replace it). */
  isPristineExample(example: ExampleScript | undefined): boolean {
    return this.scriptId === null && this.source === (example?.script ?? '') && !this.dirty;
  }

  private replace(text: string): void {
    this.source = text;
    this.baselineSource = text;
    this.baselineRuntime = `${this.lang}:${this.version}`;
    this.revision += 1;
  }
}
