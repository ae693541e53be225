import { $, el, field } from './dom.js';
import { announce } from './state.js';
import type { WebhookView } from './types.js';

/**
 * The public key of a webhook that signs with Ed25519 (`v1a`): shown on every read, with a copy button. The signing
 * key itself stays on the server; the API never answers it.
 */
function publicKeyBlock(): HTMLElement {
  const found = document.getElementById('wp-public-key');
  if (found) return found;
  const block = el(
    'div',
    { id: 'wp-public-key', class: 'wp-field', hidden: true },
    el('label', { for: 'wp-public-key-value' }, 'Public key (Ed25519)'),
    el(
      'p',
      { class: 'wp-muted', id: 'wp-public-key-note' },
      'Receivers verify the v1a signature with this key. The signing key stays on the server and is never shown.',
    ),
    el(
      'div',
      { class: 'wp-row' },
      el('input', {
        id: 'wp-public-key-value',
        class: 'wp-mono',
        readonly: true,
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': 'wp-public-key-note',
      }),
      el('button', { type: 'button', id: 'wp-public-key-copy', onclick: copyPublicKey }, 'Copy public key'),
    ),
  );
  $('wp-secret-field').append(block);
  return block;
}

/** Shows the webhook's public key, or hides the block when it signs with a shared secret (or not at all). */
export function showPublicKey(webhook: WebhookView | undefined): void {
  const publicKey = typeof webhook?.publicKey === 'string' ? webhook.publicKey : '';
  const block = publicKeyBlock();
  block.hidden = publicKey === '';
  field('wp-public-key-value').value = publicKey;
}

async function copyPublicKey(): Promise<void> {
  const input = field('wp-public-key-value');
  try {
    await navigator.clipboard.writeText(input.value);
    announce('Public key copied.');
  } catch {
    input.select();
    announce('Select the public key and copy it with your keyboard.');
  }
}
