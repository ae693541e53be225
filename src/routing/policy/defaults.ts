import type { Statement } from '../../core/types.js';

/**
 * LaunchDarkly's documented default webhook policy: every action on every flag in the `production`
 * environment of every project.
 */
export const DEFAULT_STATEMENTS: readonly Statement[] = Object.freeze([
  Object.freeze({
    effect: 'allow',
    actions: Object.freeze(['*']) as string[],
    resources: Object.freeze(['proj/*:env/production:flag/*']) as string[],
  }) as Statement,
]);
