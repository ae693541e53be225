import type { Transport } from '../core/types.js';
import { type AddressPolicy, createAddressPolicy } from './ssrf.js';
import { guardOption } from './transport-options.js';

/** The address options a built-in transport takes (and a dispatcher hands to the ones it did not create). */
export interface AddressOptions {
  allowPrivateNetworks?: boolean;
  allowedHosts?: string[];
}

/** Where a transport's policy came from: its own options, or the dispatcher it was given to. */
export type PolicySource = 'httpTransport()' | 'fetchTransport()' | 'createWebhookDispatcher()';

/**
 * A built-in transport created without an address policy of its own builds a copy of itself under the
 * dispatcher's policy through this (non-enumerable) method. `Symbol.for`, so that it works across two copies of
 * the package (ESM and CJS).
 */
const WITH_POLICY = Symbol.for('webhook-dispatcher.transport.withAddressPolicy');

type Rebuild = (policy: AddressOptions) => Transport;

/** `true` when the transport's options set either address option (even to its default). */
export function hasOwnPolicy(options: AddressOptions): boolean {
  return options.allowPrivateNetworks !== undefined || options.allowedHosts !== undefined;
}

/** Compiles a transport's address options, naming `source` in its refusals. */
export function transportPolicy(options: AddressOptions, source: PolicySource): AddressPolicy {
  return createAddressPolicy({
    allowPrivateNetworks: guardOption(options.allowPrivateNetworks),
    allow: options.allowedHosts,
    source,
  });
}

/** Marks a built-in transport without a policy of its own as one a dispatcher may rebuild under its policy. */
export function inheritsPolicy(transport: Transport, rebuild: Rebuild): Transport {
  Object.defineProperty(transport, WITH_POLICY, { value: rebuild });
  return transport;
}

/**
 * The transport a dispatcher sends with: `given` itself, unless it is a built-in transport created without an
 * address policy of its own, which is rebuilt (same options) under the dispatcher's `policy`. A rebuilt transport
 * is the dispatcher's to close (`owned`); `given` stays the caller's.
 */
export function withDispatcherPolicy(
  given: Transport,
  policy: AddressOptions,
): { transport: Transport; owned: boolean } {
  const rebuild = (given as { [WITH_POLICY]?: Rebuild })[WITH_POLICY];
  return typeof rebuild === 'function'
    ? { transport: rebuild(policy), owned: true }
    : { transport: given, owned: false };
}
