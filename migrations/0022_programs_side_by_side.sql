-- Programs side by side: referrers belong to programs, and links and payout runs name theirs.
-- What exists belongs to its installation's default program (SQLite adds a required column by
-- rebuilding the table; migrateDb runs this with foreign keys off and checks them after).
CREATE TABLE `referrer_programs` (
	`program_id` text NOT NULL,
	`referrer_id` text NOT NULL,
	`installation_id` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`program_id`, `referrer_id`),
	FOREIGN KEY (`program_id`) REFERENCES `programs`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`referrer_id`) REFERENCES `referrers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `referrer_programs_referrer` ON `referrer_programs` (`referrer_id`);--> statement-breakpoint
INSERT INTO `referrer_programs` (`program_id`, `referrer_id`, `installation_id`, `created_at`)
  SELECT `p`.`id`, `r`.`id`, `r`.`installation_id`, `r`.`created_at` FROM `referrers` `r`
  JOIN `programs` `p` ON `p`.`installation_id` = `r`.`installation_id` AND `p`.`is_default` = 1;--> statement-breakpoint
CREATE TABLE `__new_payout_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`program_id` text NOT NULL,
	`status` text NOT NULL,
	`due_on` text NOT NULL,
	`reference` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`exported_at` text,
	`sent_at` text,
	`paid_at` text,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`program_id`) REFERENCES `programs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_payout_runs` (`id`, `installation_id`, `program_id`, `status`, `due_on`, `reference`, `created_at`, `exported_at`, `sent_at`, `paid_at`)
  SELECT `r`.`id`, `r`.`installation_id`, `p`.`id`, `r`.`status`, `r`.`due_on`, `r`.`reference`, `r`.`created_at`, `r`.`exported_at`, `r`.`sent_at`, `r`.`paid_at`
  FROM `payout_runs` `r` JOIN `programs` `p` ON `p`.`installation_id` = `r`.`installation_id` AND `p`.`is_default` = 1;--> statement-breakpoint
DROP TABLE `payout_runs`;--> statement-breakpoint
ALTER TABLE `__new_payout_runs` RENAME TO `payout_runs`;--> statement-breakpoint
CREATE INDEX `payout_runs_installation` ON `payout_runs` (`installation_id`,`status`);--> statement-breakpoint
CREATE TABLE `__new_referral_links` (
	`code` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`referrer_id` text NOT NULL,
	`program_id` text NOT NULL,
	`landing_url` text,
	`revoked_at` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`referrer_id`) REFERENCES `referrers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`program_id`) REFERENCES `programs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_referral_links` (`code`, `installation_id`, `referrer_id`, `program_id`, `landing_url`, `revoked_at`, `created_at`)
  SELECT `l`.`code`, `l`.`installation_id`, `l`.`referrer_id`, `p`.`id`, `l`.`landing_url`, `l`.`revoked_at`, `l`.`created_at`
  FROM `referral_links` `l` JOIN `programs` `p` ON `p`.`installation_id` = `l`.`installation_id` AND `p`.`is_default` = 1;--> statement-breakpoint
DROP TABLE `referral_links`;--> statement-breakpoint
ALTER TABLE `__new_referral_links` RENAME TO `referral_links`;--> statement-breakpoint
CREATE INDEX `referral_links_referrer` ON `referral_links` (`referrer_id`);--> statement-breakpoint
CREATE INDEX `referral_links_installation` ON `referral_links` (`installation_id`);
