export interface SalesforceConfig {
  clientId: string;
  clientSecret: string;
  /** https://login.salesforce.com, https://test.salesforce.com, a My Domain, or the sandbox. */
  loginUrl: string;
  /** REST API version. jsforce defaults to 50.0, so it is always passed explicitly. */
  apiVersion?: string;
  /** Managed-package namespace prefix; '' in the packaging org and unmanaged installs. */
  namespace?: string;
  /** Share of the org's daily API allocation after which calls stop (0.9). */
  apiUsageCeiling?: number;
  /** Currency of single-currency orgs; multi-currency orgs carry CurrencyIsoCode on each record. */
  defaultCurrency?: string;
  /** Opportunity field holding the first-year contract value, when the org has one. */
  firstYearValueField?: string;
  /** Account fields feeding the eligibility rules, when the org has them. */
  accountFields?: { nps?: string; healthScore?: string; customerSince?: string; openEscalations?: string };
}

export interface SalesforceSettings extends Required<Omit<SalesforceConfig, 'firstYearValueField' | 'accountFields'>> {
  firstYearValueField: string | null;
  accountFields: NonNullable<SalesforceConfig['accountFields']>;
  names: SalesforceNames;
}

export const DEFAULT_API_VERSION = '62.0';

export function resolveSettings(config: SalesforceConfig): SalesforceSettings {
  const namespace = config.namespace ?? '';
  return {
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    loginUrl: config.loginUrl.replace(/\/+$/, ''),
    apiVersion: config.apiVersion ?? DEFAULT_API_VERSION,
    namespace,
    apiUsageCeiling: config.apiUsageCeiling ?? 0.9,
    defaultCurrency: config.defaultCurrency ?? 'USD',
    firstYearValueField: config.firstYearValueField ?? null,
    accountFields: config.accountFields ?? {},
    names: salesforceNames(namespace),
  };
}

/** API names of the package's object and fields; a managed package prefixes them with `ns__`. */
export function salesforceNames(namespace = '') {
  const p = namespace ? `${namespace}__` : '';
  return {
    referral: {
      object: `${p}Referral__c`,
      referloopId: `${p}Referloop_Id__c`,
      status: `${p}Status__c`,
      referrerName: `${p}Referrer_Name__c`,
      referrerEmail: `${p}Referrer_Email__c`,
      referrerType: `${p}Referrer_Type__c`,
      lead: `${p}Lead__c`,
      contact: `${p}Contact__c`,
      opportunity: `${p}Opportunity__c`,
    },
    opportunity: {
      referralId: `${p}Referral_Id__c`,
      referrerName: `${p}Referrer_Name__c`,
      attributedAmount: `${p}Attributed_Amount__c`,
    },
    lead: {
      /** Filled by Web-to-Lead forms (named there by the field's id) from a referral link's code. */
      referralCode: `${p}Referral_Code__c`,
    },
    account: {
      eligible: `${p}Referral_Eligible__c`,
      eligibilityReason: `${p}Referral_Eligibility_Reason__c`,
    },
  } as const;
}

export type SalesforceNames = ReturnType<typeof salesforceNames>;
