import type { CrmConnector } from '../connector.ts';
import { createSalesforceClient, type OrgCache } from './client.ts';
import { createSalesforceOAuth } from './oauth.ts';
import { parseOutboundMessage } from './parse-webhook.ts';
import { resolveSettings, type SalesforceConfig } from './settings.ts';
import { ACK_XML, faultXml } from './soap.ts';
import { MAX_OUTBOUND_BODY_BYTES, verifyOutboundMessage } from './verify-webhook.ts';

export type { SalesforceConfig } from './settings.ts';
export { salesforceNames } from './settings.ts';

const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8';

export function createSalesforceConnector(config: SalesforceConfig): CrmConnector {
  const settings = resolveSettings(config);
  const oauth = createSalesforceOAuth(settings);
  const cache: OrgCache = { shapes: new Map(), usage: new Map() };
  return {
    kind: 'salesforce',
    oauth,
    webhooks: {
      maxBodyBytes: MAX_OUTBOUND_BODY_BYTES,
      // Outbound Messages are unsigned: only a connected org's id makes a message trustworthy,
      // and a SOAP fault makes Salesforce retry, which is what an unknown org should get.
      unknownAccount: 'refuse',
      verify: (request) => verifyOutboundMessage(request),
      parse: (request) => parseOutboundMessage(request),
      acknowledge: () => ({ status: 200, contentType: SOAP_CONTENT_TYPE, body: ACK_XML }),
      refuse: (status, message) => ({
        status,
        contentType: SOAP_CONTENT_TYPE,
        body: faultXml(status < 500 ? 'Client' : 'Server', message),
      }),
    },
    client: (session, deps) => createSalesforceClient(settings, oauth, cache, session, deps),
  };
}
