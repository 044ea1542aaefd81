import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { requiredMetadata } from '../../../connectors/salesforce/provision.ts';
import { outboundFields } from '../../../connectors/salesforce/sandbox/outbound.ts';
import { salesforceNames } from '../../../connectors/salesforce/settings.ts';

const source = new URL('../../../app-manifest/salesforce/force-app/main/default/', import.meta.url);
const parser = new XMLParser({ isArray: (name) => ['fields', 'value'].includes(name) });
const read = (rel: string) => parser.parse(readFileSync(new URL(rel, source), 'utf8')) as Record<string, Record<string, unknown>>;

describe('Salesforce package metadata', () => {
  it('ships every custom field the connector requires', () => {
    const custom = requiredMetadata(salesforceNames('')).flatMap((o) =>
      o.fields.filter((f) => f.name.endsWith('__c')).map((f) => `${o.object}/fields/${f.name}`),
    );
    expect(custom.filter((f) => !existsSync(new URL(`objects/${f}.field-meta.xml`, source)))).toEqual([]);
  });

  it('makes Referloop_Id__c a unique external id and the lookups child relationship Referrals', () => {
    expect(read('objects/Referral__c/fields/Referloop_Id__c.field-meta.xml').CustomField).toMatchObject({
      externalId: true,
      unique: true,
      type: 'Text',
    });
    for (const [field, target] of [
      ['Lead__c', 'Lead'],
      ['Contact__c', 'Contact'],
      ['Opportunity__c', 'Opportunity'],
    ]) {
      const lookup = read(`objects/Referral__c/fields/${field}.field-meta.xml`).CustomField;
      expect(lookup).toMatchObject({ type: 'Lookup', referenceTo: target, relationshipName: 'Referrals' });
    }
  });

  it('sends in each outbound message the fields the sandbox sends', () => {
    for (const [object, fields] of Object.entries(outboundFields(''))) {
      const message = read(`workflows/${object}.workflow-meta.xml`).Workflow?.outboundMessages as {
        fields: string[];
        endpointUrl: string;
        includeSessionId: boolean;
      };
      expect(message.fields).toEqual(['Id', ...fields]);
      expect(message.endpointUrl).toMatch(/^https:\/\/.+\/webhooks\/salesforce$/);
      expect(message.includeSessionId).toBe(false);
      expect(read(`flows/Referloop_${object}_Changed.flow-meta.xml`).Flow).toMatchObject({
        actionCalls: { actionName: `${object}.Referloop_${object}_Changed`, actionType: 'outboundMessage' },
        start: { object, recordTriggerType: 'CreateAndUpdate', triggerType: 'RecordAfterSave' },
      });
    }
  });

  it('calls Referloop through a Named Credential whose External Credential sends the card key, never the admin token', () => {
    const named = read('namedCredentials/Referloop.namedCredential-meta.xml').NamedCredential!;
    expect(named.namedCredentialType).toBe('SecuredEndpoint');
    expect(named.namedCredentialParameters).toContainEqual({
      externalCredential: 'Referloop',
      parameterName: 'ExternalCredential',
      parameterType: 'Authentication',
    });
    const external = read('externalCredentials/Referloop.externalCredential-meta.xml').ExternalCredential!;
    expect(external.authenticationProtocol).toBe('Custom');
    expect(external.externalCredentialParameters).toContainEqual({
      parameterGroup: 'DefaultGroup',
      parameterName: 'Authorization',
      parameterType: 'AuthHeader',
      parameterValue: "{!'Bearer ' & $Credential.Referloop.CardKey}",
      sequenceNumber: 1,
    });
    // Reps reach the principal that holds the key; the Apex sets no credential of its own.
    const user = read('permissionsets/Referloop_User.permissionset-meta.xml').PermissionSet!;
    expect(user.externalCredentialPrincipalAccesses).toEqual({ enabled: true, externalCredentialPrincipal: 'Referloop-CardKey' });
    const apex = readFileSync(new URL('classes/ReferloopController.cls', source), 'utf8');
    expect(apex).toContain("'callout:Referloop/api/v1/");
    expect(apex).not.toMatch(/setHeader\('Authorization'|\{!\$Credential/);
  });

  describe('nothing defined is unused', () => {
    /** Every custom field the package defines, as `Object.Field__c`. */
    const defined = readdirSync(new URL('objects/', source)).flatMap((object) => {
      const dir = new URL(`objects/${object}/fields/`, source);
      return existsSync(dir) ? readdirSync(dir).map((file) => `${object}.${file.replace('.field-meta.xml', '')}`) : [];
    });
    /** How the connector names each field: `Referral__c.Opportunity__c` → `.referral.opportunity` (see settings.ts). */
    const names = salesforceNames('');
    const pathOf = new Map<string, string>();
    for (const [section, fields] of Object.entries(names)) {
      const object = section === 'referral' ? names.referral.object : section.charAt(0).toUpperCase() + section.slice(1);
      for (const [key, field] of Object.entries(fields)) if (key !== 'object') pathOf.set(`${object}.${field}`, `.${section}.${key}`);
    }
    // What runs in the connector: settings.ts only names the fields, provision.ts only checks they exist, sandbox/ is the emulator.
    const connectorDir = new URL('../../../connectors/salesforce/', import.meta.url);
    const connector = readdirSync(connectorDir)
      .filter((file) => file.endsWith('.ts') && !['settings.ts', 'provision.ts'].includes(file))
      .map((file) => readFileSync(new URL(file, connectorDir), 'utf8'))
      .join('\n');
    const client = readFileSync(new URL('client.ts', connectorDir), 'utf8');
    const write = client.slice(client.indexOf('async write(writes: CrmWrite[])'), client.indexOf('async addTimelineNote('));
    // The cards: the Apex controller (not its test) and the Lightning components (not theirs).
    const lwcDir = new URL('lwc/', source);
    const cards = [
      readFileSync(new URL('classes/ReferloopController.cls', source), 'utf8'),
      ...readdirSync(lwcDir).flatMap((bundle) =>
        readdirSync(new URL(`${bundle}/`, lwcDir))
          .filter((file) => /\.(js|html)$/.test(file))
          .map((file) => readFileSync(new URL(`${bundle}/${file}`, lwcDir), 'utf8')),
      ),
    ].join('\n');
    /** Fields the org fills, not Referloop: Web-to-Lead forms carry the referral link's code. */
    const FILLED_BY_THE_ORG = ['Lead.Referral_Code__c'];

    it('defines the fields the connector names, and no other', () => {
      expect(write).toContain('n.referral.referloopId');
      expect(new Set(defined)).toEqual(new Set(pathOf.keys()));
    });

    it('every custom field is read or written by the connector, or read by the cards', () => {
      const unused = defined.filter((f) => {
        const path = pathOf.get(f);
        const field = f.split('.')[1]!;
        return !(path && connector.includes(path)) && !cards.includes(field);
      });
      expect(unused).toEqual([]);
    });

    it("every field Referloop keeps (not the org's own) is written by the connector's write()", () => {
      const kept = defined.filter((f) => !FILLED_BY_THE_ORG.includes(f));
      expect(kept.filter((f) => !write.includes(`n${pathOf.get(f)}`))).toEqual([]);
      for (const f of FILLED_BY_THE_ORG) expect(connector).toContain(pathOf.get(f));
    });

    it('every custom field the cards read is one the package defines', () => {
      const read = [...new Set([...cards.matchAll(/\b(\w+__[cr])\b/g)].map((m) => m[1]!.replace(/__r$/, '__c')))];
      const fields = new Set(defined.map((f) => f.split('.')[1]!));
      expect(read.filter((f) => f !== names.referral.object && !fields.has(f))).toEqual([]);
    });
  });
});
