import type { WebhookEvent } from '../core/types.js';

/**
 * `{{eventMarkdown}}`: a one-line Markdown summary of the event, as Unleash's webhook offers it (for chat tools):
 * who did what, to which feature flag, in which project and environment, and when. Unleash's formatter words each
 * type its own way; this one states the same facts for any type, and for LaunchDarkly change-history entries
 * (`member`, `titleVerb`, `name`, `date`). Facts the event does not carry are left out.
 */
export function eventMarkdownOf(event: WebhookEvent): string {
  const who = textOf(event.createdBy) ?? memberOf(event.member);
  const what = textOf(event.type) ?? textOf(event.titleVerb) ?? 'changed';
  const parts = [
    who === undefined ? escapeMarkdown(what) : `**${escapeMarkdown(who)}** ${escapeMarkdown(what)}`,
  ];
  const flag = textOf(event.featureName) ?? (event.kind === 'flag' ? textOf(event.name) : undefined);
  if (flag !== undefined) parts.push(`feature flag **${escapeMarkdown(flag)}**`);
  const project = textOf(event.project);
  if (project !== undefined) parts.push(`in project **${escapeMarkdown(project)}**`);
  const environment = textOf(event.environment);
  if (environment !== undefined) parts.push(`in environment **${escapeMarkdown(environment)}**`);
  const when = dateOf(event.createdAt ?? event.date);
  if (when !== undefined) parts.push(`at ${when}`);
  return parts.join(' ');
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** LaunchDarkly's `member`: `{ email, firstName, lastName }`. */
function memberOf(member: unknown): string | undefined {
  if (typeof member !== 'object' || member === null) return undefined;
  const { email, firstName, lastName } = member as Record<string, unknown>;
  const name = [textOf(firstName), textOf(lastName)].filter((part) => part !== undefined).join(' ');
  return textOf(email) ?? textOf(name);
}

/** ISO-8601 of a Date, an epoch-ms number (LaunchDarkly's `date`) or a date string; as given when unparsable. */
function dateOf(value: unknown): string | undefined {
  const date = value instanceof Date ? value : typeof value === 'number' ? new Date(value) : undefined;
  if (date !== undefined) return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  return textOf(value);
}

/** Backslash-escapes the characters that would start Markdown formatting, links or HTML inside a value. */
function escapeMarkdown(value: string): string {
  return value.replace(/[\\`*_[\]<>#|~]/g, '\\$&');
}
