/**
 * Who may do what in an installation's console: an admin everything, finance approvals and
 * payouts (and reading), a viewer reading only. The API applies it per route (src/http/auth.ts).
 */
export const CONSOLE_ROLES = ['admin', 'finance', 'viewer'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];
