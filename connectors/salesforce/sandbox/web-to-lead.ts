import type { Reply } from './oauth.ts';
import { type OrgStore, SfFailure, makeId } from './store.ts';

/**
 * Web-to-Lead and the Tooling API's CustomField, as far as referral links need them
 * (tests/fixtures/salesforce/web-to-lead.json). A Web-to-Lead form posts standard fields by their
 * form names and custom fields by the org's field id (00N…); Salesforce answers the visitor the
 * same whatever happens (a redirect to retURL), and creates the Lead only for its own org.
 */
const STANDARD_FIELDS: Record<string, string> = {
  first_name: 'FirstName',
  last_name: 'LastName',
  email: 'Email',
  company: 'Company',
  lead_source: 'LeadSource',
  URL: 'Website',
};

export class WebToLead {
  /** Custom field ids, by `Object.Field`, made on first need as an org keeps them. */
  private ids = new Map<string, string>();

  constructor(private readonly o: { store: OrgStore; orgId: string; insertLead: (fields: Record<string, unknown>) => void }) {}

  fieldId(sobject: string, field: string): string {
    const key = `${sobject}.${field}`;
    let id = this.ids.get(key);
    if (!id) {
      id = makeId('00N', this.ids.size + 1);
      this.ids.set(key, id);
    }
    return id;
  }

  /** `POST /servlet/servlet.WebToLead?encoding=UTF-8`, form-encoded. */
  submit(form: URLSearchParams): Reply {
    const retURL = form.get('retURL');
    const answer: Reply = retURL
      ? { status: 302, body: '', headers: { Location: retURL } }
      : {
          status: 200,
          body: '<html><head><meta http-equiv="Refresh" content="0; URL=/"></head></html>',
          headers: { 'content-type': 'text/html' },
        };
    // The form's org id is the 15-character one; an 18-character id names the same org.
    if ((form.get('oid') ?? '').slice(0, 15) !== this.o.orgId.slice(0, 15)) return answer;
    const lead = this.o.store.objectDef('Lead');
    const fields: Record<string, unknown> = {};
    for (const [name, value] of form) {
      const standard = STANDARD_FIELDS[name];
      if (standard) fields[standard] = value;
      else if (/^00N[0-9A-Za-z]{12}([0-9A-Za-z]{3})?$/.test(name)) {
        // Forms carry the 15-character id.
        const custom = [...(lead?.fields.values() ?? [])].find(
          (f) => f.name.endsWith('__c') && this.fieldId('Lead', f.name).slice(0, 15) === name.slice(0, 15),
        );
        if (custom) fields[custom.name] = value;
      }
    }
    try {
      this.o.insertLead(fields);
    } catch (err) {
      // Salesforce tells the visitor nothing of a lead it could not create (the admin gets an email).
      if (!(err instanceof SfFailure)) throw err;
    }
    return answer;
  }

  /** `GET …/tooling/query?q=SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = 'X' AND DeveloperName = 'Y'`. */
  toolingQuery(soql: string | null): Reply {
    const match =
      /^SELECT\s+Id\s*,\s*DeveloperName\s+FROM\s+CustomField\s+WHERE\s+TableEnumOrId\s*=\s*'(\w+)'\s+AND\s+DeveloperName\s*=\s*'(\w+)'$/i.exec(
        (soql ?? '').trim(),
      );
    if (!match)
      return {
        status: 400,
        body: [{ message: 'The sandbox Tooling API answers only the CustomField query of its fixture', errorCode: 'MALFORMED_QUERY' }],
      };
    const [, sobject, developerName] = match as unknown as [string, string, string];
    const def = this.o.store.objectDef(sobject);
    // DeveloperName is the API name without its namespace and `__c`.
    const field = [...(def?.fields.values() ?? [])].find(
      (f) => f.name.endsWith('__c') && f.name.replace(/^\w+?__(?=\w+__c$)/, '').slice(0, -3) === developerName,
    );
    const records = field
      ? [
          {
            attributes: { type: 'CustomField', url: `/services/data/tooling/sobjects/CustomField/${this.fieldId(def!.name, field.name)}` },
            Id: this.fieldId(def!.name, field.name),
            DeveloperName: developerName,
          },
        ]
      : [];
    return { status: 200, body: { size: records.length, totalSize: records.length, done: true, entityTypeName: 'CustomField', records } };
  }
}
