DROP INDEX `payout_lines_payee`;--> statement-breakpoint
ALTER TABLE `payout_lines` ADD `grant_key` text DEFAULT 'cash' NOT NULL;--> statement-breakpoint
ALTER TABLE `payout_lines` ADD `granted_as` text;--> statement-breakpoint
CREATE UNIQUE INDEX `payout_lines_payee` ON `payout_lines` (`run_id`,`payee_type`,`payee_key`,`currency`,`grant_key`);--> statement-breakpoint
ALTER TABLE `rewards` ADD `granted_as` text;