PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_program_versions` (
	`installation_id` text NOT NULL,
	`version` integer NOT NULL,
	`settings` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`program_id` text NOT NULL,
	PRIMARY KEY(`program_id`, `version`),
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`program_id`) REFERENCES `programs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_program_versions`("installation_id", "version", "settings", "created_by", "created_at", "program_id") SELECT "installation_id", "version", "settings", "created_by", "created_at", "program_id" FROM `program_versions`;--> statement-breakpoint
DROP TABLE `program_versions`;--> statement-breakpoint
ALTER TABLE `__new_program_versions` RENAME TO `program_versions`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `program_versions_installation` ON `program_versions` (`installation_id`);--> statement-breakpoint
CREATE TABLE `__new_referrals` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`referrer_id` text NOT NULL,
	`program_id` text NOT NULL,
	`program_version` integer NOT NULL,
	`status` text NOT NULL,
	`referee_email` text NOT NULL,
	`referee_email_key` text NOT NULL,
	`referee_domain` text,
	`referee_first_name` text,
	`referee_last_name` text,
	`referee_company` text,
	`notes` text,
	`submitted_by_kind` text NOT NULL,
	`submitted_by_id` text,
	`verdict` text NOT NULL,
	`duplicate_of` text,
	`protected_until` text,
	`crm_person_type` text,
	`crm_person_id` text,
	`crm_company_id` text,
	`crm_synced_at` text,
	`submitted_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`referrer_id`) REFERENCES `referrers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`program_id`) REFERENCES `programs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_referrals`("id", "installation_id", "referrer_id", "program_id", "program_version", "status", "referee_email", "referee_email_key", "referee_domain", "referee_first_name", "referee_last_name", "referee_company", "notes", "submitted_by_kind", "submitted_by_id", "verdict", "duplicate_of", "protected_until", "crm_person_type", "crm_person_id", "crm_company_id", "crm_synced_at", "submitted_at", "updated_at") SELECT "id", "installation_id", "referrer_id", "program_id", "program_version", "status", "referee_email", "referee_email_key", "referee_domain", "referee_first_name", "referee_last_name", "referee_company", "notes", "submitted_by_kind", "submitted_by_id", "verdict", "duplicate_of", "protected_until", "crm_person_type", "crm_person_id", "crm_company_id", "crm_synced_at", "submitted_at", "updated_at" FROM `referrals`;--> statement-breakpoint
DROP TABLE `referrals`;--> statement-breakpoint
ALTER TABLE `__new_referrals` RENAME TO `referrals`;--> statement-breakpoint
CREATE INDEX `referrals_installation_email` ON `referrals` (`installation_id`,`referee_email_key`);--> statement-breakpoint
CREATE INDEX `referrals_installation_domain` ON `referrals` (`installation_id`,`referee_domain`);--> statement-breakpoint
CREATE INDEX `referrals_installation_submitted` ON `referrals` (`installation_id`,`submitted_at`,`id`);--> statement-breakpoint
CREATE INDEX `referrals_referrer` ON `referrals` (`referrer_id`);--> statement-breakpoint
CREATE TABLE `__new_rewards` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`referral_id` text NOT NULL,
	`referrer_id` text NOT NULL,
	`deal_id` text,
	`kind` text NOT NULL,
	`beneficiary` text NOT NULL,
	`milestone` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`due_date` text NOT NULL,
	`requires_approval` integer NOT NULL,
	`program_id` text NOT NULL,
	`program_version` integer NOT NULL,
	`reasons` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`payout_reference` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`referral_id`) REFERENCES `referrals`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`program_id`) REFERENCES `programs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_rewards`("id", "installation_id", "referral_id", "referrer_id", "deal_id", "kind", "beneficiary", "milestone", "amount_cents", "currency", "status", "due_date", "requires_approval", "program_id", "program_version", "reasons", "idempotency_key", "payout_reference", "created_at", "updated_at") SELECT "id", "installation_id", "referral_id", "referrer_id", "deal_id", "kind", "beneficiary", "milestone", "amount_cents", "currency", "status", "due_date", "requires_approval", "program_id", "program_version", "reasons", "idempotency_key", "payout_reference", "created_at", "updated_at" FROM `rewards`;--> statement-breakpoint
DROP TABLE `rewards`;--> statement-breakpoint
ALTER TABLE `__new_rewards` RENAME TO `rewards`;--> statement-breakpoint
CREATE UNIQUE INDEX `rewards_key` ON `rewards` (`installation_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `rewards_status` ON `rewards` (`installation_id`,`status`);--> statement-breakpoint
CREATE INDEX `rewards_referral` ON `rewards` (`referral_id`);--> statement-breakpoint
CREATE INDEX `rewards_referrer` ON `rewards` (`referrer_id`);