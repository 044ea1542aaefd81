import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InboundRequest } from '../../../connectors/connector.ts';
import { createSalesforceConnector } from '../../../connectors/salesforce/index.ts';

const samples = new URL('../../fixtures/salesforce/samples/', import.meta.url);
const sampleXml = readFileSync(new URL('opportunity-stage-change.request.xml', samples), 'utf8');
const { webhooks } = createSalesforceConnector({ clientId: 'id', clientSecret: 'secret', loginUrl: 'https://login.example.test' });

function request(
  body: string,
  headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
): InboundRequest {
  return { method: 'POST', url: 'https://referloop.test/webhooks/salesforce', headers, rawBody: Buffer.from(body) };
}

describe('Salesforce Outbound Message parsing', () => {
  it('turns each Notification of the sample into one deal event keyed by its notification Id', () => {
    const parsed = webhooks.parse(request(sampleXml));
    expect(parsed).toEqual({
      ok: true,
      ignored: 0,
      accountIds: ['00D5g00000KqRfLEAV'],
      events: [
        expect.objectContaining({
          accountId: '00D5g00000KqRfLEAV',
          eventKey: '04l5g00000HwTqAAAV',
          objectType: 'deal',
          objectId: '0065g00000RfRl1AAF',
          change: 'updated',
          occurredAt: '2026-09-21T14:13:20.000Z',
        }),
        expect.objectContaining({ eventKey: '04l5g00000HwTqBAAV', objectId: '0065g00000RfRl2AAF', occurredAt: '2026-09-21T14:13:25.000Z' }),
      ],
    });
  });

  it('normalizes 15-char org and record ids to 18 chars and follows a converted lead', () => {
    const xml = sampleXml
      .replace('<OrganizationId>00D5g00000KqRfLEAV</OrganizationId>', '<OrganizationId>00D5g00000KqRfL</OrganizationId>')
      .replace(
        /<Notification>[\s\S]*?<\/Notification>\s*<Notification>[\s\S]*?<\/Notification>/,
        `<Notification>
    <Id>04l5g00000HwTqC</Id>
    <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>00Q5g00000MnBv3</sf:Id>
     <sf:ConvertedAccountId>0015g00000ZkM3hAAF</sf:ConvertedAccountId>
     <sf:ConvertedContactId>0035g00000PqLx7AAF</sf:ConvertedContactId>
     <sf:ConvertedOpportunityId xsi:nil="true"/>
     <sf:IsConverted>true</sf:IsConverted>
    </sObject>
   </Notification>`,
      );
    const parsed = webhooks.parse(request(xml));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.events[0]).toMatchObject({
      accountId: '00D5g00000KqRfLEAV',
      objectType: 'lead',
      objectId: '00Q5g00000MnBv3EAF',
      related: [
        { objectType: 'contact', objectId: '0035g00000PqLx7AAF' },
        { objectType: 'company', objectId: '0015g00000ZkM3hAAF' },
      ],
    });
  });

  it('counts notifications of objects it does not follow as ignored, still naming the org that sent them', () => {
    const parsed = webhooks.parse(request(sampleXml.replaceAll('sf:Opportunity', 'sf:Case')));
    expect(parsed).toEqual({ ok: true, events: [], ignored: 2, accountIds: ['00D5g00000KqRfLEAV'] });
  });

  it.each([['constructor'], ['__proto__'], ['toString'], ['hasOwnProperty']])('ignores an sObject typed sf:%s', (type) => {
    const parsed = webhooks.parse(request(sampleXml.replaceAll('sf:Opportunity', `sf:${type}`)));
    expect(parsed).toEqual({ ok: true, events: [], ignored: 2, accountIds: ['00D5g00000KqRfLEAV'] });
  });

  it('refuses SOAP nested deeper than the limit, without throwing', () => {
    const deep = `${'<a>'.repeat(100)}x${'</a>'.repeat(100)}`;
    const xml = sampleXml.replace(
      '<sf:Id>0065g00000RfRl1AAF</sf:Id>',
      `<sf:Id>0065g00000RfRl1AAF</sf:Id><sf:Description>${deep}</sf:Description>`,
    );
    expect(xml).not.toBe(sampleXml);
    expect(webhooks.verify(request(xml), new Date())).toEqual({ ok: false, reason: expect.stringMatching(/at most 32 levels deep/) });
    expect(webhooks.parse(request(xml))).toMatchObject({ ok: false });
  });

  it.each([
    ['not XML', 'hello'],
    ['truncated XML', sampleXml.slice(0, 400)],
    ['a DTD', `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>${sampleXml.replace(/^<\?xml[^>]*>/, '')}`],
    ['the wrong namespace', sampleXml.replace('http://soap.sforce.com/2005/09/outbound', 'urn:other')],
    ['no Notification', sampleXml.replace(/<Notification>[\s\S]*<\/Notification>/, '')],
    ['a bad OrganizationId', sampleXml.replace('00D5g00000KqRfLEAV', 'not-an-id')],
  ])('refuses %s', (_, body) => {
    expect(webhooks.parse(request(body))).toMatchObject({ ok: false, reason: expect.any(String) });
  });
});

describe('Salesforce Outbound Message verification', () => {
  it('accepts the documented request', () => {
    expect(webhooks.verify(request(sampleXml), new Date())).toEqual({ ok: true });
  });

  it.each([
    ['a JSON content type', request(sampleXml, { 'content-type': 'application/json', soapaction: '""' })],
    ['another SOAPAction', request(sampleXml, { 'content-type': 'text/xml', soapaction: '"urn:login"' })],
    ['a GET', { ...request(sampleXml), method: 'GET' }],
    ['a body that is not a notifications envelope', request('<a/>')],
    ['an oversized body', request(`${sampleXml}<!--${'x'.repeat(webhooks.maxBodyBytes)}-->`)],
  ])('refuses %s', (_, req) => {
    expect(webhooks.verify(req, new Date())).toMatchObject({ ok: false });
  });

  it('refuses events of unknown orgs at the caller, since messages are unsigned', () => {
    expect(webhooks.unknownAccount).toBe('refuse');
  });
});

describe('Salesforce Outbound Message replies', () => {
  it('acknowledges with exactly the documented Ack', () => {
    const ack = webhooks.acknowledge();
    expect(ack).toEqual({
      status: 200,
      contentType: 'text/xml; charset=utf-8',
      body: readFileSync(new URL('ack.response.xml', samples), 'utf8'),
    });
  });

  it('refuses with a SOAP fault carrying the escaped reason', () => {
    const fault = webhooks.refuse(401, 'unknown org <00D000000000001>');
    expect(fault.status).toBe(401);
    expect(fault.contentType).toMatch(/^text\/xml/);
    expect(fault.body).toContain('<faultcode>soapenv:Client</faultcode>');
    expect(fault.body).toContain('<faultstring>unknown org &#60;00D000000000001&#62;</faultstring>');
    expect(webhooks.refuse(503, 'busy').body).toContain('soapenv:Server');
  });
});
