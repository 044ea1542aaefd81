import { existsSync, readFileSync } from 'node:fs';
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
});
