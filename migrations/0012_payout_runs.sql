CREATE TABLE `payout_items` (
	`run_id` text NOT NULL,
	`line_id` integer NOT NULL,
	`reward_id` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`open_reward_id` text,
	PRIMARY KEY(`run_id`, `reward_id`),
	FOREIGN KEY (`run_id`) REFERENCES `payout_runs`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`line_id`) REFERENCES `payout_lines`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`reward_id`) REFERENCES `rewards`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_items_open_reward` ON `payout_items` (`open_reward_id`);--> statement-breakpoint
CREATE INDEX `payout_items_reward` ON `payout_items` (`reward_id`);--> statement-breakpoint
CREATE TABLE `payout_lines` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`payee_type` text NOT NULL,
	`payee_key` text NOT NULL,
	`payee_name` text NOT NULL,
	`payee_email` text NOT NULL,
	`currency` text NOT NULL,
	`gross_cents` integer NOT NULL,
	`recovered_cents` integer NOT NULL,
	`amount_cents` integer NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `payout_runs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_lines_payee` ON `payout_lines` (`run_id`,`payee_type`,`payee_key`,`currency`);--> statement-breakpoint
CREATE TABLE `payout_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`status` text NOT NULL,
	`due_on` text NOT NULL,
	`reference` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`exported_at` text,
	`paid_at` text,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `payout_runs_installation` ON `payout_runs` (`installation_id`,`status`);--> statement-breakpoint
ALTER TABLE `rewards` ADD `paid_cents` integer;--> statement-breakpoint
-- Back-fill: a paid reward was paid its net; a paid reward clawed back was paid what the clawback took, which it now owes back.
UPDATE `rewards` SET `paid_cents` = (SELECT coalesce(sum(e.`amount_cents`), 0) FROM `reward_events` e WHERE e.`reward_id` = `rewards`.`id`) WHERE `status` = 'paid';--> statement-breakpoint
UPDATE `rewards` SET `paid_cents` = (SELECT -e.`amount_cents` FROM `reward_events` e WHERE e.`reward_id` = `rewards`.`id` AND e.`kind` = 'clawback' AND e.`from_status` = 'paid') WHERE `status` = 'reversed' AND EXISTS (SELECT 1 FROM `reward_events` e WHERE e.`reward_id` = `rewards`.`id` AND e.`kind` = 'clawback' AND e.`from_status` = 'paid');
