import { describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import type { SavedScript } from '../api/types';
import { ScriptsStore } from './scripts.svelte';
import { fakeFetch, json, problem, type Call, type Handler } from '../../test/fakes';

function script(id: string, name: string, overrides: Partial<SavedScript> = {}): SavedScript {
  return {
    id,
    name,
    lang: 'python',
    lang_version: '3.11',
    script: `print('${name}')`,
    created_at: '2026-11-27T17:00:00.000Z',
    updated_at: '2026-11-27T17:00:00.000Z',
    ...overrides,
  };
}

function setup(handler: Handler) {
  const fake = fakeFetch(handler);
  const api = new ApiClient({ fetchImpl: fake.fetch, cookies: () => 'integr8scode_csrf=c1' });
  return { scripts: new ScriptsStore(api), calls: fake.calls };
}

const a = script('a', 'Alpha');
const b = script('b', 'Beta');

/** Answers the list with `items`, and a write with the script it was sent (as the server does). */
function server(items: SavedScript[]): Handler {
  return (call: Call) => {
    if (call.method === 'GET' && call.url === '/api/v1/scripts') return json(200, { items });
    if (call.method === 'POST') return json(201, script('c', (call.body as SavedScript).name, call.body as Partial<SavedScript>));
    if (call.method === 'PUT') return json(200, script(call.url.split('/').pop()!, (call.body as SavedScript).name, call.body as Partial<SavedScript>));
    if (call.method === 'DELETE') return new Response(null, { status: 204 });
    return json(200, items.find((s) => call.url.endsWith(`/${s.id}`)));
  };
}

describe('ScriptsStore', () => {
  it('lists the saved scripts, loading meanwhile', async () => {
    const { scripts } = setup(server([b, a]));
    expect(scripts.loaded).toBe(false);
    const refreshing = scripts.refresh();
    expect(scripts.loading).toBe(true);
    await refreshing;
    expect(scripts.loading).toBe(false);
    expect(scripts.loaded).toBe(true);
    expect(scripts.items.map((s) => s.name)).toEqual(['Beta', 'Alpha']);
  });

  it('keeps what it had and says why when the list cannot be fetched', async () => {
    let up = true;
    const { scripts } = setup((call) => (up ? server([a])(call) : problem(503, 'unavailable', 'The server is busy; try again shortly.')));
    await scripts.refresh();
    up = false;
    await scripts.refresh();
    expect(scripts.error).toBe('The server is busy; try again shortly.');
    expect(scripts.items.map((s) => s.id)).toEqual(['a']);
    expect(scripts.loading).toBe(false);

    up = true;
    await scripts.refresh();
    expect(scripts.error).toBeNull();
  });

  it('puts a new script first', async () => {
    const { scripts, calls } = setup(server([b, a]));
    await scripts.refresh();
    const created = await scripts.create({ name: 'Gamma', lang: 'python', lang_version: '3.11', script: "print('g')" });
    expect(calls.at(-1)).toMatchObject({ method: 'POST', url: '/api/v1/scripts', body: { name: 'Gamma', script: "print('g')" } });
    expect(created.id).toBe('c');
    expect(scripts.items.map((s) => s.name)).toEqual(['Gamma', 'Beta', 'Alpha']);
  });

  it('moves an updated script to the top, replacing the old entry', async () => {
    const { scripts } = setup(server([b, a]));
    await scripts.refresh();
    await scripts.update('a', { name: 'Alpha', lang: 'python', lang_version: '3.11', script: "print('new')" });
    expect(scripts.items.map((s) => [s.id, s.script])).toEqual([
      ['a', "print('new')"],
      ['b', "print('Beta')"],
    ]);
  });

  it('renames with every stored field, since PUT replaces the whole script', async () => {
    const { scripts, calls } = setup(server([a]));
    await scripts.refresh();
    const stored = script('a', 'Alpha', { lang: 'node', lang_version: '22', script: 'console.log(1)' });
    await scripts.rename(stored, 'Alpha 2');
    expect(calls.at(-1)).toMatchObject({
      method: 'PUT',
      url: '/api/v1/scripts/a',
      body: { name: 'Alpha 2', lang: 'node', lang_version: '22', script: 'console.log(1)' },
    });
    expect(scripts.items.map((s) => s.name)).toEqual(['Alpha 2']);
  });

  it('removes a deleted script, and keeps it when the server refuses', async () => {
    let refuse = false;
    const { scripts } = setup((call) => (refuse && call.method === 'DELETE' ? problem(404, 'not_found', 'No such script.') : server([b, a])(call)));
    await scripts.refresh();
    await scripts.remove('b');
    expect(scripts.items.map((s) => s.id)).toEqual(['a']);
    refuse = true;
    await expect(scripts.remove('a')).rejects.toThrow('No such script.');
    expect(scripts.items.map((s) => s.id)).toEqual(['a']);
  });

  it('fetches a script afresh before it is opened', async () => {
    const { scripts, calls } = setup(server([a, b]));
    const fresh = await scripts.get('b');
    expect(calls.at(-1)).toMatchObject({ method: 'GET', url: '/api/v1/scripts/b' });
    expect(fresh.name).toBe('Beta');
  });

  it('forgets everything on clear (a logged-out page lists nothing)', async () => {
    const { scripts } = setup((call) => (call.method === 'GET' ? problem(500, 'internal', 'Something broke.') : server([])(call)));
    await scripts.refresh();
    expect(scripts.error).not.toBeNull();
    scripts.clear();
    expect(scripts.items).toEqual([]);
    expect(scripts.loaded).toBe(false);
    expect(scripts.error).toBeNull();
  });
});
