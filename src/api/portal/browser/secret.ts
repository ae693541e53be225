import { api, messageOf, path } from './api.js';
import { $, field } from './dom.js';
import { showSecret } from './editor.js';
import { showPublicKey } from './public-key.js';
import { announce, current, showAlert, state } from './state.js';
import type { WebhookView } from './types.js';

/** Rotates the open webhook's secret and shows the new one, once. */
export async function rotate(): Promise<void> {
  const button = $<HTMLButtonElement>('wp-rotate');
  button.disabled = true;
  try {
    const updated: WebhookView = await api('POST', path('webhooks', current().id, 'rotate-secret'));
    state.current = updated;
    showPublicKey(updated);
    if (updated.publicKey) {
      // An Ed25519 key: its private half stays on the server; receivers need the new public key.
      showSecret(undefined);
      $('wp-public-key-value').focus();
      announce('New signing key created. Give receivers the new public key.');
      return;
    }
    showSecret(updated.secret);
    $('wp-secret-value').focus();
    announce('New secret created. Copy it now: it is shown only once.');
  } catch (error) {
    showAlert(messageOf(error));
  } finally {
    button.disabled = false;
  }
}

export async function copySecret(): Promise<void> {
  const input = field('wp-secret-value');
  try {
    await navigator.clipboard.writeText(input.value);
    announce('Secret copied.');
  } catch {
    input.select();
    announce('Select the secret and copy it with your keyboard.');
  }
}

export function confirmDelete(): void {
  $<HTMLDialogElement>('wp-confirm').showModal();
  $('wp-confirm-cancel').focus();
}

export function cancelDelete(): void {
  $<HTMLDialogElement>('wp-confirm').close();
  $('wp-delete').focus();
}

/** Deletes the open webhook (after the confirmation) and goes back to the list. */
export async function remove(): Promise<void> {
  const dialog = $<HTMLDialogElement>('wp-confirm');
  const button = $<HTMLButtonElement>('wp-confirm-delete');
  button.disabled = true;
  try {
    await api('DELETE', path('webhooks', current().id));
    dialog.close();
    location.hash = '#/';
    announce('Webhook deleted.');
  } catch (error) {
    dialog.close();
    showAlert(messageOf(error));
  } finally {
    button.disabled = false;
  }
}
