CREATE TABLE `payout_provider_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `payout_lines` ADD `send_status` text;--> statement-breakpoint
ALTER TABLE `payout_lines` ADD `provider_order_id` text;--> statement-breakpoint
ALTER TABLE `payout_lines` ADD `provider_reward_id` text;--> statement-breakpoint
ALTER TABLE `payout_lines` ADD `failure_reason` text;--> statement-breakpoint
CREATE UNIQUE INDEX `payout_lines_provider_reward` ON `payout_lines` (`provider_reward_id`);--> statement-breakpoint
ALTER TABLE `payout_runs` ADD `sent_at` text;