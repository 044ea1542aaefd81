CREATE TABLE `product_milestones` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`company_id` text NOT NULL,
	`milestone` text NOT NULL,
	`occurred_at` text NOT NULL,
	`contact_email` text,
	`idempotency_key` text NOT NULL,
	`ask_id` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `product_milestones_key` ON `product_milestones` (`installation_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `product_milestones_company` ON `product_milestones` (`installation_id`,`company_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `referral_link_visits` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`code` text NOT NULL,
	`visitor_key` text NOT NULL,
	`utm` text NOT NULL,
	`visited_at` text NOT NULL,
	FOREIGN KEY (`code`) REFERENCES `referral_links`(`code`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `referral_link_visits_code` ON `referral_link_visits` (`code`,`visited_at`);--> statement-breakpoint
CREATE TABLE `referral_links` (
	`code` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`referrer_id` text NOT NULL,
	`landing_url` text,
	`revoked_at` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`referrer_id`) REFERENCES `referrers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `referral_links_referrer` ON `referral_links` (`referrer_id`);--> statement-breakpoint
CREATE INDEX `referral_links_installation` ON `referral_links` (`installation_id`);--> statement-breakpoint
ALTER TABLE `referrals` ADD `link_evidence` text;