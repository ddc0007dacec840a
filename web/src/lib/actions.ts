import { editorDocument, router, scripts } from './app.svelte';
import type { SavedScript } from './api/types';

/** Asks before replacing unsaved work; true when it is fine to go on. */
export function confirmDiscard(what = 'replace the code in the editor'): boolean {
  if (!editorDocument.dirty) return true;
  return confirm(`You have unsaved changes. Discard them and ${what}?`);
}

/**
 * Opens a saved script in the editor (fetching its current text), after the unsaved-change
 * check, and goes to the editor. Throws an ApiError when the script cannot be fetched.
 */
export async function openScript(script: SavedScript): Promise<boolean> {
  if (editorDocument.scriptId !== script.id && !confirmDiscard('open “' + script.name + '”')) return false;
  const fresh = await scripts.get(script.id);
  editorDocument.open(fresh);
  if (router.path !== '/') router.navigate('/');
  return true;
}
