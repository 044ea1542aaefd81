DROP INDEX "payout_lines_payee";--> statement-breakpoint
ALTER TABLE "payout_lines" ADD COLUMN "grant_key" text DEFAULT 'cash' NOT NULL;--> statement-breakpoint
ALTER TABLE "payout_lines" ADD COLUMN "granted_as" jsonb;--> statement-breakpoint
ALTER TABLE "rewards" ADD COLUMN "granted_as" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "payout_lines_payee" ON "payout_lines" USING btree ("run_id","payee_type","payee_key","currency","grant_key");