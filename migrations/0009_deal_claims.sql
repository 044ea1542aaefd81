CREATE TABLE `deal_claims` (
	`referral_id` text PRIMARY KEY NOT NULL,
	`installation_id` text NOT NULL,
	`deal_id` text NOT NULL,
	`claimed_by` text NOT NULL,
	`claimed_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`decision` text,
	`decided_by` text,
	`decided_at` text,
	`reason` text,
	FOREIGN KEY (`referral_id`) REFERENCES `referrals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `deal_claims_deal` ON `deal_claims` (`installation_id`,`deal_id`);