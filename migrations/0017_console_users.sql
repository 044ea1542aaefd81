CREATE TABLE `console_users` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`role` text NOT NULL,
	`crm_user_id` text,
	`invited_by` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`revoked_at` text,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `console_users_installation_email` ON `console_users` (`installation_id`,`email`);--> statement-breakpoint
ALTER TABLE `magic_links` ADD `console_user_id` text;--> statement-breakpoint
ALTER TABLE `oauth_states` ADD `purpose` text DEFAULT 'install' NOT NULL;