import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { createOpenApiDocument } from '../src/api/index.js';
import { deriveWebhookSchemas } from '../src/api/schemas.js';
import { toView } from '../src/api/view.js';
import {
  ALWAYS_SHOWN_FIELDS,
  CREDENTIAL_FIELDS,
  deriveFieldLists,
  EDITABLE_FIELDS,
  type FieldSpec,
  INPUT_FIELDS,
  READ_ONLY_FIELDS,
  VIEW_FIELDS,
  WEBHOOK_FIELDS,
} from '../src/core/webhook-fields.js';
import {
  createWebhookDispatcher,
  type Webhook,
  type WebhookInput,
  WebhookValidationError,
} from '../src/index.js';
import { applyDeclaredFields } from '../src/webhooks/webhook.js';
import { startApi } from './helpers/api.js';
import { open } from './helpers/setup.js';

const sorted = (list: readonly string[]) => [...list].sort();
type Doc = {
  components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
};

describe('the webhook field declaration', () => {
  it('matches the WebhookInput and Webhook types, key for key', () => {
    // Object literals of the full types: a field missing here, or extra, fails to compile.
    const input: Required<WebhookInput> = {
      url: '',
      name: '',
      on: true,
      sign: true,
      secret: '',
      signatureScheme: 'standard',
      statements: [],
      events: [],
      contentType: '',
      bodyTemplate: '',
      templateEscape: 'json',
      headers: {},
      tags: [],
      tenant: '',
      rateLimit: 1,
      ordering: 'fifo',
    };
    expect(sorted(INPUT_FIELDS)).toEqual(sorted(Object.keys(input)));
    const saved: Required<Omit<Webhook, 'previousSecrets'>> = {
      id: '',
      url: '',
      name: '',
      on: true,
      secret: '',
      signatureScheme: 'standard',
      statements: [],
      events: [],
      contentType: '',
      bodyTemplate: '',
      templateEscape: 'json',
      headers: {},
      tags: [],
      tenant: '',
      rateLimit: 1,
      ordering: 'fifo',
      disabled: { at: '', reason: '' },
      createdAt: '',
      updatedAt: '',
    };
    // `previousSecrets` is the dispatcher's bookkeeping of a rotation, never an input nor shown.
    const stored = Object.keys(WEBHOOK_FIELDS).filter((name) => !['signed', 'sign'].includes(name));
    expect(sorted(stored)).toEqual(sorted(Object.keys(saved)));
  });

  it('gives the OpenAPI document its webhook schemas: view, create, merge patch, each member as declared', () => {
    const { schemas } = (createOpenApiDocument() as unknown as Doc).components;
    expect(Object.keys(schemas.Webhook!.properties)).toEqual(VIEW_FIELDS);
    expect(sorted(schemas.Webhook!.required!)).toEqual(sorted(ALWAYS_SHOWN_FIELDS));
    expect(sorted(Object.keys(schemas.WebhookCreate!.properties))).toEqual(sorted(INPUT_FIELDS));
    expect(schemas.WebhookCreate!.required).toEqual(['url']);
    expect(sorted(Object.keys(schemas.WebhookMergePatch!.properties))).toEqual(
      sorted(Object.keys(WEBHOOK_FIELDS)),
    );
    for (const name of VIEW_FIELDS) {
      const declared = JSON.parse(JSON.stringify(WEBHOOK_FIELDS[name].schema));
      if (name === 'statements') continue; // its items are a $ref to the Statement component
      expect(schemas.Webhook!.properties[name], name).toEqual(declared);
    }
    for (const name of CREDENTIAL_FIELDS) expect(schemas.Webhook!.properties).not.toHaveProperty(name);
  });

  it('makes the API view: declared fields only, in order, credentials never', async () => {
    const api = await startApi();
    const created = await api.call('POST', '/webhooks', {
      as: 'token-acme',
      body: {
        url: 'https://example.com/h',
        name: 'n',
        sign: true,
        statements: [{ effect: 'allow', actions: ['*'], resources: ['proj/*'] }],
      },
    });
    expect(created.status).toBe(201);
    const saved = await api.real.webhooks.get(created.body.id);
    const view = toView(saved!);
    expect(Object.keys(view)).toEqual(VIEW_FIELDS.filter((name) => name in view));
    for (const name of ALWAYS_SHOWN_FIELDS) expect(view, name).toHaveProperty(name);
    for (const name of CREDENTIAL_FIELDS) expect(view).not.toHaveProperty(name);
    const read = await api.call('GET', `/webhooks/${created.body.id}`, { as: 'token-acme' });
    expect(read.body).toEqual(JSON.parse(JSON.stringify(view)));
  });

  it('is what webhooks.create() accepts: an unknown field is refused, naming the declared ones', async () => {
    const dispatcher = createWebhookDispatcher();
    open.push(dispatcher);
    const refused = await dispatcher.webhooks
      .create({ url: 'https://example.com/h', colour: 'red' } as never)
      .catch((e) => e);
    expect(refused.field).toBe('colour');
    expect(refused.message).toBe(`Unknown field \`colour\`; known fields: ${INPUT_FIELDS.join(', ')}`);
    // Read-only fields are not input (tenant only at creation, through `tenant`).
    for (const name of READ_ONLY_FIELDS.filter((n) => n !== 'tenant'))
      expect(INPUT_FIELDS).not.toContain(name);
    // Every editable field is patchable through the API.
    for (const name of EDITABLE_FIELDS) expect(INPUT_FIELDS).toContain(name);
  });

  it('shows a field added to the declaration everywhere: input, editable, view, create, merge patch, document', () => {
    const fields: Record<string, FieldSpec> = {
      ...WEBHOOK_FIELDS,
      ordering: { access: 'editable', schema: Type.Literal('fifo') },
      clientCertificate: {
        access: 'credential',
        schema: Type.Object({ cert: Type.String(), key: Type.String() }, { writeOnly: true }),
      },
    };
    const lists = deriveFieldLists(fields);
    for (const name of ['ordering', 'clientCertificate']) {
      expect(lists.input).toContain(name);
      expect(lists.savedInput).toContain(name);
    }
    expect(lists.editable).toContain('ordering');
    expect(lists.view).toContain('ordering');
    expect(lists.alwaysShown).not.toContain('ordering');
    expect(lists.credential).toContain('clientCertificate');
    expect(lists.view).not.toContain('clientCertificate');

    const schemas = deriveWebhookSchemas(fields);
    const certificate = { cert: 'c', key: 'k' };
    expect(
      Value.Check(schemas.create, { url: 'https://x', ordering: 'fifo', clientCertificate: certificate }),
    ).toBe(true);
    expect(Value.Check(schemas.create, { url: 'https://x', ordering: 'lifo' })).toBe(false);
    expect(schemas.view.properties).toHaveProperty('ordering');
    expect(schemas.view.properties).not.toHaveProperty('clientCertificate');
    expect(schemas.document.properties).toHaveProperty('clientCertificate');
    expect(Value.Check(schemas.mergePatch, { ordering: null, clientCertificate: null })).toBe(true);
    // webhooks.create()/update() validate and keep it by its schema, naming the field; a credential is not echoed.
    const record: Record<string, unknown> = {};
    applyDeclaredFields(
      record,
      { ordering: 'fifo', clientCertificate: certificate, name: 'own rules' },
      fields,
    );
    expect(record).toEqual({ ordering: 'fifo', clientCertificate: certificate });
    expect(() => applyDeclaredFields({}, { ordering: 'lifo' }, fields)).toThrow(
      expect.objectContaining({ field: 'ordering', message: 'Expected `ordering` to be "fifo", got "lifo"' }),
    );
    const refused = (() => {
      try {
        applyDeclaredFields({}, { clientCertificate: '-----BEGIN PRIVATE KEY-----' }, fields);
      } catch (error) {
        return error as WebhookValidationError;
      }
    })();
    expect(refused).toBeInstanceOf(WebhookValidationError);
    expect(refused?.field).toBe('clientCertificate');
    expect(refused?.message).not.toContain('PRIVATE KEY');
    applyDeclaredFields(record, { clientCertificate: null }, fields);
    expect(record).toEqual({ ordering: 'fifo' });
    // The copy's credential did not leak into the shipped schemas (`ordering` is a real field since).
    expect(deriveWebhookSchemas(WEBHOOK_FIELDS).view.properties).not.toHaveProperty('clientCertificate');
    expect(deriveWebhookSchemas(WEBHOOK_FIELDS).document.properties).not.toHaveProperty('clientCertificate');
  });
});
