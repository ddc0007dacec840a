// Accounts, saved scripts and history against a real server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { violations } from './lib/axe.mjs';
import { startServer } from './lib/server.mjs';
import {
  editorText,
  launchBrowser,
  openEditor,
  outputText,
  selectRuntime,
  setEditorText,
  uniqueName,
  waitForFinalStatus,
} from './lib/browser.mjs';

describe('accounts, saved scripts and history', () => {
  let server;
  let browser;
  let page;
  const username = uniqueName('e2e');
  const password = 'correct horse battery';
  const scriptName = 'Greeting';
  const program = "name = 'world'\nprint(f'hello, {name}')\n";
  const adminName = 'e2eadmin';
  const adminPassword = 'admin password 1';

  before(async () => {
    server = await startServer('accounts', {
      INTEGR8SCODE_AUTH_ADMIN_USERNAME: adminName,
      INTEGR8SCODE_AUTH_ADMIN_PASSWORD: adminPassword,
      INTEGR8SCODE_AUTH_ADMIN_EMAIL: 'admin@example.com',
    });
    browser = await launchBrowser();
    page = await browser.page();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('registers, logs out and logs in again', async () => {
    await page.goto(`${server.baseUrl}/register`);
    await page.getByLabel('Username').waitFor();
    assert.equal(await page.title(), 'Sign up · Integr8sCode');
    // Everything wrong at once is said at once, beside each field.
    await page.getByLabel('Username').fill('x');
    await page.getByLabel('Email').fill('not-an-address');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    assert.equal(await page.getByTestId('field-error').count(), 3);
    assert.match(await page.getByTestId('auth-error').textContent(), /fix the 3 fields/);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Email').fill(`${username}@example.com`);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('current-user').getByText(username).waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' }).waitFor();

    await page.goto(`${server.baseUrl}/login`);
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByLabel('Username').fill(username);
    await page.getByRole('button', { name: 'Log in' }).click();
    assert.match(await page.getByTestId('auth-error').textContent(), /wrong username or password/i);

    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('current-user').getByText(username).waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    // A plain user has no admin page in the navigation.
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count(), 0);
  });

  it('saves a script, and after a reload opens it again', async () => {
    await openEditor(page, server.baseUrl);
    await selectRuntime(page, 'python:3.11');
    await setEditorText(page, program);
    // The save dialog is modal: focus moves to its name field, a blank name is refused in
    // the dialog, Escape closes it and gives focus back to Save.
    const save = page.getByTestId('save');
    const dialog = page.getByRole('dialog', { name: 'Save script' });
    const name = dialog.getByLabel('Name');
    await save.click();
    await dialog.waitFor();
    assert.ok(await name.evaluate((el) => el === document.activeElement), 'the name field has focus');
    const found = await violations(page);
    assert.deepEqual(found, [], JSON.stringify(found, null, 2));
    await name.fill('   ');
    await page.keyboard.press('Enter');
    assert.equal(await dialog.getByRole('alert').textContent(), 'Give the script a name.');
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.ok(await save.evaluate((el) => el === document.activeElement), 'focus is back on Save');

    await save.click();
    assert.equal(await name.inputValue(), '', 'a new script gets no suggested name');
    assert.equal(await dialog.getByRole('alert').count(), 0, 'the last refusal is gone');
    await name.fill(scriptName);
    await page.getByTestId('save-confirm').click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('scripts-list').getByText(scriptName).waitFor();
    assert.match(await page.getByTestId('doc-name').textContent(), new RegExp(scriptName));
    assert.doesNotMatch(await page.getByTestId('doc-name').textContent(), /Unsaved/);

    await page.reload();
    await page.getByTestId('current-user').getByText(username).waitFor();
    await openEditor(page, server.baseUrl);
    assert.notEqual(await editorText(page), program, 'a fresh page shows the example, not the script');
    await page.getByTestId('scripts-list').getByRole('button', { name: new RegExp(`^${scriptName} `) }).click();
    await page.waitForFunction((name) => document.querySelector('[data-testid="doc-name"]')?.textContent?.includes(name), scriptName);
    assert.equal(await editorText(page), program);
  });

  it('renames and edits the script, warning about unsaved changes', async () => {
    await setEditorText(page, "print('edited')\n");
    assert.match(await page.getByTestId('doc-name').textContent(), /Unsaved/);
    // The open script's name is in the editor's toolbar; Ctrl+S saves from inside the editor.
    assert.equal(await page.locator('.toolbar [data-testid="doc-name"]').count(), 1);
    await page.keyboard.press('ControlOrMeta+s');
    await page.waitForFunction(() => !document.querySelector('[data-testid="doc-name"]')?.textContent?.includes('Unsaved'));

    await page.getByRole('button', { name: `Rename ${scriptName}` }).click();
    const renamed = `${scriptName} v2`;
    await page.getByLabel(`New name for ${scriptName}`).fill(renamed);
    await page.keyboard.press('Enter');
    await page.getByTestId('scripts-list').getByText(renamed).waitFor();
    assert.match(await page.getByTestId('doc-name').textContent(), /v2/);
  });

  it('shows the run in the history, and opens its result', async () => {
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    assert.match(await outputText(page), /edited/);
    const id = (await page.getByTestId('execution-id').textContent()).trim();

    await page.getByRole('link', { name: 'History' }).click();
    const table = page.getByTestId('executions-table');
    await table.waitFor();
    const first = table.locator('tbody tr').first();
    assert.match(await first.textContent(), /Completed/);
    assert.match(await first.textContent(), /Python 3\.11/);
    assert.equal(await page.title(), 'History · Integr8sCode');
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'History' }).getAttribute('aria-current'), 'page');
    assert.equal(await nav.getByRole('link', { name: 'Editor' }).getAttribute('aria-current'), null);
    // The whole row opens the run, not only the badge: a click in the middle of the runtime
    // cell (where the row's link lies over it).
    const cell = await first.locator('td').nth(1).boundingBox();
    await page.mouse.click(cell.x + cell.width / 2, cell.y + cell.height / 2);
    await page.waitForURL(`**/executions/${id}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="output"]')?.textContent?.includes('edited'));
    assert.equal((await page.getByTestId('exit-code').textContent()).trim(), '0');
    assert.equal(await page.title(), 'Run result · Integr8sCode');
  });

  it('deletes the script', async () => {
    await openEditor(page, server.baseUrl);
    const list = page.getByTestId('scripts-list');
    await list.getByText(`${scriptName} v2`).waitFor();
    await page.getByRole('button', { name: `Delete ${scriptName} v2` }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="scripts-list"] li').length === 0);
  });

  it('shows the admin page to an admin: counts by status, users and recent runs', { skip: !!process.env.INTEGR8SCODE_E2E_URL && 'needs the admin from its own server' }, async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${server.baseUrl}/login?next=/admin`);
    await page.getByLabel('Username').fill(adminName);
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/admin');
    await page.getByRole('heading', { name: 'Executions by status' }).waitFor();
    assert.equal(await page.title(), 'Admin · Integr8sCode');
    const users = page.locator('section[aria-labelledby="users"]');
    await users.getByRole('cell', { name: username, exact: true }).waitFor();
    const recent = page.locator('section[aria-labelledby="recent"]');
    assert.match(await recent.textContent(), /Completed/);
    // Owners by name, not by id.
    await recent.getByTestId('owner').getByText(username, { exact: true }).first().waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).waitFor();
  });
});
