CREATE TABLE `magic_links` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`email_hash` text NOT NULL,
	`referrer_id` text,
	`ip` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `magic_links_email` ON `magic_links` (`email_hash`,`created_at`);--> statement-breakpoint
CREATE INDEX `magic_links_ip` ON `magic_links` (`ip`,`created_at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`subject_kind` text NOT NULL,
	`subject_id` text NOT NULL,
	`installation_id` text NOT NULL,
	`role` text NOT NULL,
	`csrf_token` text NOT NULL,
	`expires_at` text NOT NULL,
	`revoked_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sessions_subject` ON `sessions` (`subject_kind`,`subject_id`);--> statement-breakpoint
ALTER TABLE `referrers` ADD `payout_email` text;