ALTER TABLE `deals` ADD `deal_type` text;--> statement-breakpoint
ALTER TABLE `deals` ADD `deal_kind` text DEFAULT 'new_business' NOT NULL;