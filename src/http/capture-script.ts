import { CODE_QUERY_PARAMETER, LINK_CODE_LENGTH } from '../domain/referral-links.ts';

/**
 * The script a vendor adds to their site (`<script src="$PUBLIC_BASE_URL/r/capture.js?installation=…">`).
 * It talks to no one: it reads `referloop_code` from the page's address, keeps it in a first-party
 * cookie for the attribution window, and fills the hidden form fields named `fields` (HubSpot's
 * `referloop_referral_code`, the Web-to-Lead field id of `Referral_Code__c`), also in forms drawn
 * later. Nothing is stored or filled until the site's consent says yes: `window.referloopConsent`
 * is `true` or a function returning true; a site that asks later calls `window.referloopCapture()`.
 */
export function captureScript(settings: { days: number; fields: string[] }): string {
  const config = JSON.stringify({ days: settings.days, fields: settings.fields, param: CODE_QUERY_PARAMETER, length: LINK_CODE_LENGTH });
  return `(function(){var c=${config};
var watching=false,shape=new RegExp('^[0-9A-Za-z]{'+c.length+'}$');
function consented(){var v=window.referloopConsent;return typeof v==='function'?v()===true:v===true}
function stored(){var m=document.cookie.match(/(?:^|; )referloop_code=([0-9A-Za-z]+)/);return m&&shape.test(m[1])?m[1]:null}
function fill(code){c.fields.forEach(function(n){document.querySelectorAll('input[name="'+n+'"]').forEach(function(i){if(i.value!==code)i.value=code})})}
function capture(){if(!consented())return;var q=new URLSearchParams(location.search).get(c.param);
if(q&&shape.test(q))document.cookie='referloop_code='+q+'; Max-Age='+c.days*86400+'; Path=/; SameSite=Lax'+(location.protocol==='https:'?'; Secure':'');
var code=stored()||(q&&shape.test(q)?q:null);if(!code)return;fill(code);
if(watching)return;watching=true;
new MutationObserver(function(){fill(code)}).observe(document.documentElement,{childList:true,subtree:true})}
window.referloopCapture=capture;
if(document.readyState==='loading')document.addEventListener('DOMContentLoaded',capture);else capture()})();
`;
}
