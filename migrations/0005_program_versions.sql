ALTER TABLE `programs` RENAME TO `program_versions`;--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_program_versions` (
	`installation_id` text NOT NULL,
	`version` integer NOT NULL,
	`settings` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`installation_id`, `version`),
	FOREIGN KEY (`installation_id`) REFERENCES `installations`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_program_versions`("installation_id", "version", "settings", "created_by", "created_at") SELECT "installation_id", "version", "settings", "created_by", "created_at" FROM `program_versions`;--> statement-breakpoint
DROP TABLE `program_versions`;--> statement-breakpoint
ALTER TABLE `__new_program_versions` RENAME TO `program_versions`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
ALTER TABLE `referrals` ADD `program_id` text;--> statement-breakpoint
ALTER TABLE `rewards` ADD `program_id` text;