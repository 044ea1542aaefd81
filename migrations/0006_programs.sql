CREATE TABLE `programs` (
	`id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`is_default` integer NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `programs_installation` ON `programs` (`installation_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `programs_one_default` ON `programs` (`installation_id`) WHERE is_default = 1;--> statement-breakpoint
ALTER TABLE `program_versions` ADD `program_id` text;