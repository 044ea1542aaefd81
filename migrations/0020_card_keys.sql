CREATE TABLE `card_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`hint` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text,
	`revoked_at` text,
	`reveal_once_enc` text,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `card_keys_hash` ON `card_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `card_keys_installation` ON `card_keys` (`installation_id`);