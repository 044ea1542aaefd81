CREATE TABLE `attributions` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`deal_id` text NOT NULL,
	`referral_id` text NOT NULL,
	`referrer_id` text NOT NULL,
	`model` text NOT NULL,
	`share_ppm` integer NOT NULL,
	`role` text NOT NULL,
	`evidence` text NOT NULL,
	`reasons` text NOT NULL,
	`status` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`reversed_at` text,
	`reversal_reason` text,
	FOREIGN KEY (`referral_id`) REFERENCES `referrals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `attributions_deal` ON `attributions` (`installation_id`,`deal_id`);--> statement-breakpoint
CREATE INDEX `attributions_referral` ON `attributions` (`referral_id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`installation_id` text,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`before` text,
	`after` text,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_subject` ON `audit_log` (`subject_type`,`subject_id`);--> statement-breakpoint
CREATE TABLE `crm_links` (
	`installation_id` text NOT NULL,
	`referral_id` text NOT NULL,
	`object_type` text NOT NULL,
	`object_id` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`installation_id`, `object_type`, `object_id`, `referral_id`),
	FOREIGN KEY (`referral_id`) REFERENCES `referrals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `crm_links_referral` ON `crm_links` (`referral_id`);--> statement-breakpoint
CREATE TABLE `deals` (
	`installation_id` text NOT NULL,
	`deal_id` text NOT NULL,
	`name` text,
	`pipeline_id` text NOT NULL,
	`stage_id` text NOT NULL,
	`is_closed` integer NOT NULL,
	`is_won` integer NOT NULL,
	`amount_cents` integer,
	`first_year_value_cents` integer,
	`currency` text NOT NULL,
	`close_date` text,
	`crm_created_at` text NOT NULL,
	`owner_id` text,
	`sourced_by` text NOT NULL,
	`contact_ids` text NOT NULL,
	`company_ids` text NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`crm_modified_at` text NOT NULL,
	`fetched_at` text NOT NULL,
	PRIMARY KEY(`installation_id`, `deal_id`)
);
--> statement-breakpoint
CREATE TABLE `decisions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`installation_id` text NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`kind` text NOT NULL,
	`outcome` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `decisions_subject` ON `decisions` (`installation_id`,`subject_type`,`subject_id`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`outbox_id` integer NOT NULL,
	`attempt` integer NOT NULL,
	`ok` integer NOT NULL,
	`detail` text NOT NULL,
	`at` text NOT NULL,
	FOREIGN KEY (`outbox_id`) REFERENCES `outbox`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `delivery_attempts_outbox` ON `delivery_attempts` (`outbox_id`);--> statement-breakpoint
CREATE TABLE `inbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`crm` text NOT NULL,
	`account_id` text NOT NULL,
	`installation_id` text,
	`event_key` text NOT NULL,
	`object_type` text NOT NULL,
	`object_id` text NOT NULL,
	`change` text NOT NULL,
	`occurred_at` text NOT NULL,
	`related` text,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`lease_until` text,
	`received_at` text NOT NULL,
	`processed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbox_identity` ON `inbox` (`crm`,`account_id`,`event_key`);--> statement-breakpoint
CREATE INDEX `inbox_pending` ON `inbox` (`status`,`installation_id`);--> statement-breakpoint
CREATE INDEX `inbox_received` ON `inbox` (`received_at`);--> statement-breakpoint
CREATE TABLE `installations` (
	`id` text PRIMARY KEY NOT NULL,
	`crm` text NOT NULL,
	`account_id` text NOT NULL,
	`account_name` text,
	`status` text NOT NULL,
	`status_reason` text,
	`scopes` text NOT NULL,
	`access_token_enc` text NOT NULL,
	`refresh_token_enc` text,
	`token_expires_at` text,
	`instance_url` text,
	`settings` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `installations_crm_account` ON `installations` (`crm`,`account_id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`name` text NOT NULL,
	`data` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`run_at` integer NOT NULL,
	`lease_until` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `jobs_ready` ON `jobs` (`queue`,`status`,`run_at`);--> statement-breakpoint
CREATE TABLE `oauth_states` (
	`state` text PRIMARY KEY NOT NULL,
	`crm` text NOT NULL,
	`code_verifier` text,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`installation_id` text NOT NULL,
	`referral_id` text,
	`referrer_id` text,
	`channel` text NOT NULL,
	`topic` text NOT NULL,
	`delivery_key` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text NOT NULL,
	`lease_until` text,
	`last_error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`delivered_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_delivery_key` ON `outbox` (`delivery_key`);--> statement-breakpoint
CREATE INDEX `outbox_due` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `programs` (
	`installation_id` text NOT NULL,
	`version` integer NOT NULL,
	`settings` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`installation_id`, `version`),
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `referral_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`referral_id` text NOT NULL,
	`from_status` text,
	`to_status` text NOT NULL,
	`reasons` text NOT NULL,
	`source` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`occurred_at` text NOT NULL,
	FOREIGN KEY (`referral_id`) REFERENCES `referrals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `referral_events_key` ON `referral_events` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `referral_events_referral` ON `referral_events` (`referral_id`);--> statement-breakpoint
CREATE TABLE `referrals` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`referrer_id` text NOT NULL,
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
	FOREIGN KEY (`referrer_id`) REFERENCES `referrers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `referrals_installation_email` ON `referrals` (`installation_id`,`referee_email_key`);--> statement-breakpoint
CREATE INDEX `referrals_installation_domain` ON `referrals` (`installation_id`,`referee_domain`);--> statement-breakpoint
CREATE INDEX `referrals_installation_submitted` ON `referrals` (`installation_id`,`submitted_at`,`id`);--> statement-breakpoint
CREATE INDEX `referrals_referrer` ON `referrals` (`referrer_id`);--> statement-breakpoint
CREATE TABLE `referrers` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`company` text,
	`tier` text,
	`agreement_accepted_at` text,
	`crm_person_type` text,
	`crm_person_id` text,
	`email_opt_out` integer DEFAULT false NOT NULL,
	`digest` integer DEFAULT false NOT NULL,
	`access_key` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `referrers_installation_email` ON `referrers` (`installation_id`,`email`);--> statement-breakpoint
CREATE TABLE `reward_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`reward_id` text NOT NULL,
	`kind` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`from_status` text,
	`to_status` text,
	`actor` text NOT NULL,
	`reason` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`reward_id`) REFERENCES `rewards`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reward_events_key` ON `reward_events` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `reward_events_reward` ON `reward_events` (`reward_id`);--> statement-breakpoint
CREATE TABLE `rewards` (
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
	`program_version` integer NOT NULL,
	`reasons` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`payout_reference` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`referral_id`) REFERENCES `referrals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `rewards_key` ON `rewards` (`installation_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `rewards_status` ON `rewards` (`installation_id`,`status`);--> statement-breakpoint
CREATE INDEX `rewards_referral` ON `rewards` (`referral_id`);--> statement-breakpoint
CREATE TABLE `sync_cursors` (
	`installation_id` text NOT NULL,
	`name` text NOT NULL,
	`cursor` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`installation_id`, `name`)
);
--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`referrer_id` text NOT NULL,
	`url` text NOT NULL,
	`secret_enc` text NOT NULL,
	`status` text NOT NULL,
	`failing_since` text,
	`disabled_reason` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`referrer_id`) REFERENCES `referrers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `webhook_endpoints_referrer` ON `webhook_endpoints` (`referrer_id`);