CREATE TABLE `referral_asks` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`company_id` text NOT NULL,
	`company_name` text,
	`champion_type` text,
	`champion_id` text,
	`champion_email` text,
	`champion_name` text,
	`referrer_id` text,
	`asked_by_name` text NOT NULL,
	`asked_by_email` text NOT NULL,
	`message` text,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`refusal` text,
	`reasons` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`referrer_id`) REFERENCES `referrers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `referral_asks_key` ON `referral_asks` (`installation_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `referral_asks_company` ON `referral_asks` (`installation_id`,`company_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `referrals` ADD `ask_id` text;